import numpy as np
import pytest

from digitflow.atomic import atomic_path, save_npy_atomic, write_text_atomic


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
