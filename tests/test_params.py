from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from digitflow.errors import ParamsError
from digitflow.params import load_section, require


@dataclass(frozen=True)
class ExampleConfig:
    lr: float
    hidden: tuple[int, ...] = (10,)
    optimizer: Literal["gd", "adam"] = "gd"
    nesterov: bool = False
    csv_dir: Path | None = None
    seed: int = 0

    def __post_init__(self):
        require(self.lr > 0, "example.lr", f"must be > 0, got {self.lr}")


def write_params(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_values_are_typed_and_defaults_fill_the_rest(tmp_path):
    path = write_params(tmp_path, "example:\n  lr: 1\n  hidden: [32, 16]\n  csv_dir: some/dir\n")
    config = load_section(path, "example", ExampleConfig)
    assert config == ExampleConfig(lr=1.0, hidden=(32, 16), csv_dir=Path("some/dir"))
    assert isinstance(config.lr, float)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example:\n  lr: 0.1\n  lerning_rate: 1\n", "example.lerning_rate is not a known key"),
        ("example:\n  hidden: [1]\n", "example.lr is missing"),
        ("example:\n  lr: fast\n", "example.lr must be a number, got 'fast'"),
        ("example:\n  lr: -0.1\n", "example.lr must be > 0, got -0.1"),
        ("example:\n  lr: 1\n  hidden: [10, 2.5]\n", "example.hidden[1] must be a whole number"),
        ("example:\n  lr: 1\n  optimizer: sgdd\n", "example.optimizer must be one of 'gd', 'adam'"),
        ("example:\n  lr: 1\n  nesterov: 1\n", "example.nesterov must be true or false"),
        ("example:\n  lr: 1\n  seed: true\n", "example.seed must be a whole number"),
        ("example: [1, 2]\n", "example must be a mapping"),
        ("example: {lr: 1\n", "is not valid YAML"),
    ],
)
def test_bad_params_name_the_offending_key(tmp_path, text, message):
    path = write_params(tmp_path, text)
    with pytest.raises(ParamsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_section(path, "example", ExampleConfig)


def test_missing_params_file_is_a_params_error(tmp_path):
    with pytest.raises(ParamsError, match="cannot be read"):
        load_section(tmp_path / "nope.yaml", "example", ExampleConfig)


def test_absent_section_uses_defaults_or_reports_missing_keys(tmp_path):
    path = write_params(tmp_path, "other: {}\n")
    with pytest.raises(ParamsError, match="example.lr is missing"):
        load_section(path, "example", ExampleConfig)


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", "1" + "0" * 400])
def test_non_finite_float_is_refused_naming_the_key(tmp_path, text):
    path = write_params(tmp_path, f"example:\n  lr: {text}\n")
    with pytest.raises(ParamsError, match=r"^example\.lr must be a finite number, got "):
        load_section(path, "example", ExampleConfig)


@pytest.mark.parametrize(
    ("text", "value"), [("1e6", 1e6), ("2.5E-3", 2.5e-3), (".5e1", 5.0), ("1e+2", 100.0)]
)
def test_exponent_without_dot_or_sign_is_a_number(tmp_path, text, value):
    path = write_params(tmp_path, f"example:\n  lr: {text}\n")
    assert load_section(path, "example", ExampleConfig).lr == value


def test_key_set_twice_is_refused_naming_both_lines(tmp_path):
    path = write_params(tmp_path, "example:\n  lr: 0.1\n  seed: 1\n  lr: 0.2\n")
    with pytest.raises(ParamsError, match=r"^example\.lr is set twice in .* \(lines 2 and 4\)"):
        load_section(path, "example", ExampleConfig)


def test_non_utf8_params_file_is_one_line_naming_the_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_bytes(b"example:\n  lr: 0.1 # caf\xe9\n")
    with pytest.raises(ParamsError, match=r"is not UTF-8 text \(byte 0xe9 on line 2\)"):
        load_section(path, "example", ExampleConfig)
