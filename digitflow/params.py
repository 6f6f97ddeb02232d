"""Load one section of ``params.yaml`` into a frozen dataclass, naming any bad key.

Each stage's config dataclass lives beside the code it configures and checks its own
ranges in ``__post_init__`` by raising :class:`ParamsError`; this module checks presence,
unknown keys and types, so a typo in ``params.yaml`` fails loudly instead of being ignored.
"""

import dataclasses
import math
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from digitflow.errors import ParamsError

T = TypeVar("T")


class _ParamsLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading numbers as YAML 1.2 (and DVC, and people) do."""


# YAML 1.1 wants a dot and a signed exponent, so PyYAML reads `lr: 1e6` as the string '1e6'.
_ParamsLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_params_file(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise ParamsError(str(path), f"cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ParamsError(
            str(path),
            f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line}); "
            "save it as UTF-8",
        ) from exc
    loader = _ParamsLoader(text)
    try:
        node = loader.get_single_node()
        _refuse_duplicate_keys(node, str(path))
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ParamsError(str(path), f"is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ParamsError(str(path), "must hold a mapping of sections")
    return data


def _refuse_duplicate_keys(root: yaml.Node | None, path: str) -> None:
    """PyYAML keeps the last of two equal keys; a params file that sets one twice is refused,
    naming the key and both lines, since either could be the one meant."""
    pending, seen = [(root, "")], set()
    while pending:
        node, where = pending.pop()
        if id(node) in seen:  # an alias: checked where it was written (and may be recursive)
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                key, line = str(key_node.value), key_node.start_mark.line + 1
                dotted = f"{where}.{key}" if where else key
                if key in first_line:
                    raise ParamsError(
                        dotted,
                        f"is set twice in {path} (lines {first_line[key]} and {line}); keep one",
                    )
                first_line[key] = line
                pending.append((value_node, dotted))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, f"{where}[{i}]") for i, item in enumerate(node.value))


def load_section(path: Path, section: str, config_type: type[T]) -> T:
    """Read ``section`` of the params file at ``path`` into ``config_type``."""
    data = read_params_file(path).get(section)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(section, "must be a mapping of keys to values")
    return config_from_dict(section, data, config_type)


def config_from_dict(section: str, data: dict[str, Any], config_type: type[T]) -> T:
    fields = {f.name: f for f in dataclasses.fields(config_type)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ParamsError(
            f"{section}.{unknown[0]}", f"is not a known key (known: {', '.join(fields)})"
        )
    hints = typing.get_type_hints(config_type)
    values = {}
    for name, field in fields.items():
        key = f"{section}.{name}"
        if name not in data:
            has_default = (
                field.default is not dataclasses.MISSING
                or field.default_factory is not dataclasses.MISSING
            )
            if not has_default:
                raise ParamsError(key, "is missing")
            continue
        values[name] = _coerce(key, data[name], hints[name])
    return config_type(**values)


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against the type ``hint``; convert lists to tuples and str to Path."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(key, value, arg)
            except ParamsError:
                continue
        raise ParamsError(key, f"has the wrong type: got {value!r}")
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ParamsError(key, f"must be one of {choices}, got {value!r}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ParamsError(key, f"must be a list, got {value!r}")
        item_hint = args[0] if args else Any
        return tuple(_coerce(f"{key}[{i}]", v, item_hint) for i, v in enumerate(value))
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamsError(key, f"must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(key, f"must be a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamsError(key, f"must be a number, got {value!r}")
        # Every range check below is a comparison, and inf passes half of them.
        if abs(value) > sys.float_info.max or not math.isfinite(value):
            raise ParamsError(key, f"must be a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ParamsError(key, f"must be a string, got {value!r}")
        return value
    if hint is Path:
        if not isinstance(value, str):
            raise ParamsError(key, f"must be a path, got {value!r}")
        return Path(value)
    raise TypeError(f"{key}: params type {hint!r} is not supported")


def require(condition: bool, key: str, problem: str) -> None:
    """Raise ``ParamsError(key, problem)`` unless ``condition``: for ``__post_init__`` checks."""
    if not condition:
        raise ParamsError(key, problem)
