"""dvc.yaml tells DVC the truth: each stage lists the modules it runs and the params it reads."""

import ast
import dataclasses
import shlex
from pathlib import Path

import pytest
import yaml

from digitflow.batch.predict import READING_CODE, PredictFolderConfig
from digitflow.dataset.prepare import NormaliseConfig
from digitflow.evaluation.report import EvaluateConfig
from digitflow.fetch.download import DownloadConfig
from digitflow.network.training import TrainConfig
from digitflow.params import load_section

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "digitflow"
PIPELINE = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
PARAMS = yaml.safe_load((PROJECT / "params.yaml").read_text())


def dep_paths(stage: dict) -> set[str]:
    return {next(iter(d)) if isinstance(d, dict) else d for d in stage.get("deps", [])}


def script_of(stage: dict) -> str:
    words = shlex.split(stage["cmd"])
    assert words[0] == "python", "stages run as `python stages/<stage>.py` so DVC can track them"
    return words[1]


def digitflow_imports(path: Path) -> set[str]:
    """Paths of the digitflow modules that `path` imports, directly or through each other."""
    found: set[str] = set()
    pending = [path]
    while pending:
        for module in imported_modules(pending.pop()):
            name = str(module.relative_to(PROJECT))
            if name not in found:
                found.add(name)
                pending.append(module)
    return found


def imported_modules(path: Path) -> set[Path]:
    """The digitflow module files that `path` names in its own import statements."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] != "digitflow" or parts[1:2] == ["stages"]:
                continue
            module = PROJECT.joinpath(*parts).with_suffix(".py")
            if module.is_file():
                modules.add(module)
    return modules


def dep_unit(module: Path) -> Path:
    """What dvc.yaml lists for a module: its subpackage folder, or a shared top-level module."""
    return module.parent if module.parent != PACKAGE else module


def code_deps_of(script: Path) -> set[str]:
    """The dvc.yaml deps that cover `script`: itself, and the folder or file of every digitflow
    module it imports, closed over everything each listed folder imports in turn."""
    units: set[Path] = set()
    pending = [script]
    while pending:
        for module in imported_modules(pending.pop()):
            unit = dep_unit(module)
            if unit not in units:
                units.add(unit)
                pending.extend(sorted(unit.glob("*.py")) if unit.is_dir() else [unit])
    return {str(script.relative_to(PROJECT))} | {str(u.relative_to(PROJECT)) for u in units}


def test_predictions_identify_every_module_a_picture_passes_through():
    """--incremental reuses a row only while READING_CODE is unchanged: all of reading, the
    network's forward pass, digit-likeness and whole-digit scores, the chunk reader that turns
    their answers into rows' statuses, and what they import."""
    reading = {str(p.relative_to(PROJECT)) for p in (PACKAGE / "reading").glob("[!_]*.py")}
    readers = reading | {
        "digitflow/network/mlp.py",
        "digitflow/network/digit_likeness.py",
        "digitflow/network/whole_digit.py",
        "digitflow/batch/chunk_reading.py",
    }
    expected = readers.union(*(digitflow_imports(PROJECT / module) for module in readers))
    assert {str(path.relative_to(PROJECT)) for path in READING_CODE} == expected


@pytest.mark.parametrize("name", list(PIPELINE))
def test_stage_deps_list_its_script_and_the_code_it_imports(name):
    stage = PIPELINE[name]
    script = script_of(stage)
    code_deps = {d for d in dep_paths(stage) if d.startswith(("stages/", "digitflow"))}
    assert code_deps == code_deps_of(PROJECT / script)


@pytest.mark.parametrize("name", list(PIPELINE))
def test_stage_lists_exactly_the_keys_of_its_params_section(name):
    stage = PIPELINE[name]
    section = name.replace("-", "_")
    listed = set(stage.get("params", []))
    assert listed == {f"{section}.{key}" for key in PARAMS.get(section, {})}


def test_stages_chain_download_to_predict_folder():
    assert list(PIPELINE) == ["download", "normalise", "train", "evaluate", "predict-folder"]


def test_metrics_live_in_git_so_metrics_diff_needs_no_pull():
    for stage in PIPELINE.values():
        for metric in stage.get("metrics", []):
            assert next(iter(metric.values())).get("cache") is False


@pytest.mark.parametrize(
    ("section", "config_type"),
    [
        ("download", DownloadConfig),
        ("normalise", NormaliseConfig),
        ("train", TrainConfig),
        ("evaluate", EvaluateConfig),
        ("predict_folder", PredictFolderConfig),
    ],
)
def test_params_yaml_spells_out_every_key_and_loads(section, config_type):
    assert set(PARAMS[section]) == {f.name for f in dataclasses.fields(config_type)}
    load_section(PROJECT / "params.yaml", section, config_type)
