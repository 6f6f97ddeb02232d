import numpy as np
import pytest

from digitflow.atomic import atomic_path, restored_on_failure, save_npy_atomic, write_text_atomic


def test_failed_write_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("last good")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "last good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_successful_write_replaces_and_creates_parent_folders(tmp_path):
    target = tmp_path / "deep" / "er" / "out.txt"
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_saved_arrays_load_without_pickle(tmp_path):
    target = tmp_path / "x.npy"
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    save_npy_atomic(target, array)
    np.testing.assert_array_equal(np.load(target, allow_pickle=False), array)


def test_outputs_get_ordinary_file_permissions(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "x")
    untouched = tmp_path / "plain.txt"
    untouched.write_text("x")
    assert target.stat().st_mode & 0o777 == untouched.stat().st_mode & 0o777


def test_folder_set_aside_by_a_killed_run_is_put_back_before_the_next(tmp_path):
    logs = tmp_path / "logs"
    (tmp_path / ".logs.previous.tmp").mkdir()
    (tmp_path / ".logs.previous.tmp" / "good.json").write_text("last good")
    logs.mkdir()
    (logs / "half.json").write_text("killed mid-run")
    with pytest.raises(RuntimeError), restored_on_failure(logs):
        assert not logs.exists()
        logs.mkdir()
        raise RuntimeError("this run fails too")
    assert [p.name for p in tmp_path.iterdir()] == ["logs"]
    assert (logs / "good.json").read_text() == "last good"
    assert [p.name for p in logs.iterdir()] == ["good.json"]
