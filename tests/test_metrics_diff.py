"""End to end: two runs of a tiny DVC stage writing our metrics JSON, then `dvc metrics diff`
shows the accuracy change under the key path `test.accuracy`."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

DVC = Path(sys.executable).parent / "dvc"

# A stand-in for the evaluate stage: same metrics module, fixed predictions chosen by a param.
SCORE_SCRIPT = """\
from pathlib import Path

import numpy as np
import yaml

from digitflow.atomic import write_json_atomic
from digitflow.evaluation.metrics import metrics_for_split

PREDICTIONS = {
    "all_right": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    "half_right": [0, 1, 2, 3, 4, 0, 0, 0, 0, 0],
}
which = yaml.safe_load(Path("params.yaml").read_text())["score"]["which"]
proba_10xm = np.eye(10, dtype=np.float32)[:, PREDICTIONS[which]]
write_json_atomic(Path("metrics.json"), metrics_for_split("test", proba_10xm, np.arange(10)))
"""

DVC_YAML = """\
stages:
  score:
    cmd: {python} score.py
    deps:
      - score.py
    params:
      - score.which
    metrics:
      - metrics.json:
          cache: false
"""


def run(repo: Path, *command: str | Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(
        [str(c) for c in command], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_metrics_diff_shows_accuracy_change_between_two_runs(tmp_path):
    run(tmp_path, "git", "init", "-q")
    run(tmp_path, "git", "config", "user.name", "digitflow tests")
    run(tmp_path, "git", "config", "user.email", "tests@digitflow.invalid")
    run(tmp_path, DVC, "init", "-q")
    (tmp_path / "score.py").write_text(SCORE_SCRIPT)
    (tmp_path / "dvc.yaml").write_text(DVC_YAML.format(python=shlex.quote(sys.executable)))
    (tmp_path / "params.yaml").write_text("score:\n  which: all_right\n")

    run(tmp_path, DVC, "repro", "-q")
    run(tmp_path, "git", "add", "-A")
    run(tmp_path, "git", "commit", "-q", "-m", "run 1")
    (tmp_path / "params.yaml").write_text("score:\n  which: half_right\n")
    run(tmp_path, DVC, "repro", "-q")

    diff = json.loads(run(tmp_path, DVC, "metrics", "diff", "--json"))
    accuracy = diff["metrics.json"]["test.accuracy"]
    assert accuracy["old"] == 1.0
    assert accuracy["new"] == 0.5
    assert accuracy["diff"] == -0.5
