"""`dvc plots show` and `dvc plots diff` draw every chart offline: the page DVC fills is ours,
with pinned Vega builds inlined, checked in headless Chromium through a recording proxy."""

import configparser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from browser import ids_with_drawing, load_page
from helpers import synthetic_digits
from typer.testing import CliRunner

from digitflow.cli import app

PROJECT = Path(__file__).resolve().parents[1]
PAGE = PROJECT / "plots" / "page.html"
DVC = Path(sys.executable).parent / "dvc"
TINY_TRAIN = {"hidden": [16], "optimizer": "momentum", "lr": 0.05, "batch_size": 32, "epochs": 3}


def pinned_builds() -> list[tuple[str, str, str, str]]:
    spec = importlib.util.spec_from_file_location("build_page", PROJECT / "plots/build_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUILDS


def test_page_inlines_each_pinned_build_beside_its_licence():
    html = PAGE.read_text(encoding="utf-8")
    banners = re.findall(r"<!-- (\S+)@(\S+) (\S+) \(licence: (\S+)\) -->\n<script>\n", html)
    assert [b[:3] for b in banners] == [b[:3] for b in pinned_builds()]
    for *_, licence in banners:
        assert "Redistribution and use" in (PROJECT / licence).read_text()


def test_page_loads_nothing_and_leaves_dvc_no_place_for_cdn_scripts():
    html = PAGE.read_text(encoding="utf-8")
    assert "{plot_divs}" in html
    assert "{scripts}" not in html  # where DVC would put its CDN <script src=...> tags
    markup = re.sub(r"<script>.*?</script>", "", html, flags=re.S)  # the inlined builds
    assert not re.search(r"\b(src|href)=", markup)


def test_dvc_config_points_plots_at_the_page():
    config = configparser.ConfigParser()
    config.read(PROJECT / ".dvc" / "config")
    # DVC resolves a relative html_template against the .dvc folder.
    assert (PROJECT / ".dvc" / config["plots"]["html_template"]).resolve() == PAGE


def run(repo: Path, *command: str | Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(
        [str(c) for c in command], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def train_and_evaluate(repo: Path, lr: float) -> None:
    """The real train and evaluate stages on tiny synthetic digits, writing where dvc.yaml says."""
    params = yaml.safe_load((PROJECT / "params.yaml").read_text())
    params["train"].update(TINY_TRAIN, lr=lr)
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    for command in (["train"], ["evaluate"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git+DVC repo with this project's plots set-up and real training outputs committed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(PROJECT / "dvc.yaml", repo)
    shutil.copytree(PROJECT / "plots", repo / "plots")
    prepared = repo / "data" / "prepared"
    prepared.mkdir(parents=True)
    for split, m, seed in [("train", 200, 1), ("val", 50, 2), ("test", 100, 3)]:
        X, y = synthetic_digits(m, seed=seed)
        np.save(prepared / f"X_{split}.npy", X)
        np.save(prepared / f"y_{split}.npy", y)
    run(repo, "git", "init", "-q")
    run(repo, "git", "config", "user.name", "digitflow tests")
    run(repo, "git", "config", "user.email", "tests@digitflow.invalid")
    run(repo, DVC, "init", "-q")
    shutil.copy(PROJECT / ".dvc" / "config", repo / ".dvc" / "config")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "project")  # dvclive refuses a repo with no commit
    monkeypatch.chdir(repo)
    train_and_evaluate(repo, lr=0.05)
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "first run")
    return repo


def top_level_plot_ids() -> list[str]:
    plots = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["plots"]
    return [next(iter(p)) if isinstance(p, dict) else p for p in plots]


@pytest.mark.parametrize("verb", [["show"], ["diff", "HEAD"]], ids=["show", "diff"])
def test_every_plot_draws_offline_with_no_failed_request(repo, tmp_path, verb):
    if verb[0] == "diff":
        train_and_evaluate(repo, lr=0.02)  # a second run to compare with the committed one
    output = run(repo, DVC, "plots", *verb, "-o", "out")
    assert "failed" not in output.lower(), output
    html = (repo / "out" / "index.html").read_text(encoding="utf-8")
    charts = set(re.findall(r"vegaEmbed\('#([^']+)'", html))
    images = re.findall(r'<img src="(static/[^"]+)"', html)
    for plot in top_level_plot_ids():
        if plot.endswith(".png"):
            assert any(image.endswith(plot.replace("/", "_")) for image in images), plot
        else:
            assert plot in charts

    page = load_page(repo / "out" / "index.html", tmp_path)

    assert charts <= ids_with_drawing(page.dom), "some charts drew nothing"
    assert page.failed_requests() == []
    fetched = {url.rsplit("/", 1)[-1] for url, _ in page.page_requests()}
    assert fetched == {"index.html"} | {image.rsplit("/", 1)[-1] for image in images}
