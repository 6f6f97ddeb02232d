"""The pixels of a mask as np.nonzero finds them (digitflow.mnist_form.masks)."""

import numpy as np
import pytest

from digitflow.mnist_form.masks import nonzero_pixels


@pytest.mark.parametrize("view", ["plain", "transposed", "int8"])
def test_nonzero_pixels_are_np_nonzero_in_its_order(view):
    mask = np.random.default_rng(0).random((37, 53)) < 0.2
    array = {"plain": mask, "transposed": mask.T, "int8": mask.astype(np.int8) * -1}[view]
    rows, columns = nonzero_pixels(array)
    expected_rows, expected_columns = np.nonzero(array)
    assert np.array_equal(rows, expected_rows) and np.array_equal(columns, expected_columns)
    assert rows.dtype == expected_rows.dtype


def test_an_empty_mask_has_no_pixels():
    rows, columns = nonzero_pixels(np.zeros((4, 6), dtype=bool))
    assert rows.size == 0 and columns.size == 0
