"""The package tree is the architecture: imports run one way, and every module says what it is."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "digitflow"
SHARED = "shared"
# What each subpackage may import besides itself and the shared top-level modules.
MAY_IMPORT = {
    "fetch": {"dataset"},
    "dataset": set(),
    "network": set(),
    "evaluation": {"dataset"},
    "mnist_form": set(),
    "reading": {"mnist_form"},
    "batch": {"reading", "mnist_form", "network"},
    "synthetic": set(),
    SHARED: set(),
}


def part_of(module: str) -> str:
    """The subpackage a dotted digitflow module name belongs to, or SHARED."""
    parts = module.split(".")
    if parts[1] == "stages":  # the stage scripts, packaged as digitflow.stages
        return "stages"
    return parts[1] if len(parts) > 2 or (PACKAGE / parts[1]).is_dir() else SHARED


def digitflow_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.split(".")[0] == "digitflow" and n != "digitflow"}


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path):
    own = path.parent.name if path.parent != PACKAGE else SHARED
    allowed = {own, SHARED} | MAY_IMPORT[own]
    if path == PACKAGE / "cli.py":
        allowed.add("stages")
    found = {part_of(name) for name in digitflow_imports(path)}
    assert found <= allowed, f"{path.relative_to(PACKAGE)} imports {found - allowed}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_opens_with_its_summary(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, f"{path.relative_to(PACKAGE)} has no docstring"
    assert len(docstring.splitlines()[0]) > 20
