"""Fused numba kernels of the trainer's elementwise passes, when the ``fast`` extra is installed.

Each kernel does in one pass over memory what its numpy reference (named in its docstring)
does in several, and mirrors it line for line: the same float32 operations in the same order,
float32 scalars passed in, no ``fastmath``, so LLVM contracts no multiply and add into an FMA
and the results are bit-identical (tests/network/test_kernels.py checks each kernel, and a
whole training run, byte for byte). Kernels release the GIL, so :class:`Lanes` runs them on
every core like the numpy passes.

Without numba, ``AVAILABLE`` is False, the functions below stay plain Python (never called:
far too slow) and the trainer runs its numpy passes. Compiled code is cached in this
package's ``__pycache__`` (``cache=True``), which git and DVC ignore, so only the first run
after installing or editing this file pays the compile time.
"""

import numpy as np

try:
    import numba
except ImportError:  # the optional `fast` extra is not installed
    numba = None

AVAILABLE = numba is not None
BACKEND = "numba" if AVAILABLE else "numpy"
"""The name of the path the trainer's elementwise passes take by default."""


SIDE = 28
"""Side of the digits :func:`affine_resample` reads, a constant so that its loops over a
frame compile to fixed trip counts LLVM vectorises (a side read off the array measured
slower)."""
PADDED = SIDE + 2
"""Side of a digit's frame with a one-pixel zero border."""


def _compiled(function):
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


@_compiled
def adam_update(param, grad, mean_sum, square_sum, beta1, beta2, step_size, eps_sum):
    """:meth:`optim.Adam.update` in one pass; flat float32 arrays, float32 scalars."""
    for i in range(param.size):
        mean = mean_sum[i] * beta1 + grad[i]  # m' = b1 m' + g
        square = square_sum[i] * beta2 + grad[i] * grad[i]  # v' = b2 v' + g^2
        mean_sum[i] = mean
        square_sum[i] = square
        param[i] -= mean / (np.sqrt(square) + eps_sum) * step_size


@_compiled
def sgd_update(param, grad, lr):
    """:meth:`optim.SGD.update` in one pass; flat float32 arrays, a float32 rate."""
    for i in range(param.size):
        param[i] -= grad[i] * lr


@_compiled
def momentum_update(param, grad, velocity, beta, lr):
    """:meth:`optim.Momentum.update` in one pass; flat float32 arrays, float32 scalars."""
    for i in range(param.size):
        v = velocity[i] * beta + grad[i]  # v = beta v + g
        velocity[i] = v
        param[i] -= v * lr


@_compiled
def nesterov_update(param, grad, velocity, beta, lr, lr_beta):
    """:meth:`optim.Nesterov.update` in one pass; flat float32 arrays, float32 scalars."""
    for i in range(param.size):
        v = velocity[i] * beta + grad[i]  # v = beta v + g
        velocity[i] = v
        param[i] -= grad[i] * lr
        param[i] -= v * lr_beta


@_compiled
def affine_resample(images, maps, fields, rows, cols, last_source):
    """:meth:`augment.Resampler.resample` in place, one image at a time: ``images``
    (batch, 784) read at the affine ``maps`` (2, batch, 3) of each pixel's offsets from the
    centre ``rows``, ``cols`` (784,), plus ``fields`` (2, batch, 784) unless None. float32.

    Per image, the coordinates and weights, the reads of the four neighbours (with the
    interpolation along x) and the interpolation along y are loops of their own, so LLVM turns
    the first and the last into vector instructions (one loop doing all of it per pixel
    measured 1.7x slower)."""
    batch, pixels = images.shape
    frame = np.zeros(PADDED * PADDED, dtype=np.float32)  # the border stays zero
    # Unsigned, so numba adds no negative-index wraparound to the four reads of each pixel:
    # 0.18 against 0.24 ms for 128 images with int32 corners.
    corners = np.empty(pixels, dtype=np.uint32)
    weights_y = np.empty(pixels, dtype=np.float32)
    weights_x = np.empty(pixels, dtype=np.float32)
    tops, bottoms = np.empty(pixels, dtype=np.float32), np.empty(pixels, dtype=np.float32)
    zero = np.float32(0.0)
    for b in range(batch):
        for i in range(SIDE):
            for j in range(SIDE):
                frame[(i + 1) * PADDED + j + 1] = images[b, i * SIDE + j]
        row_y, col_y, y0 = maps[0, b, 0], maps[0, b, 1], maps[0, b, 2]
        row_x, col_x, x0 = maps[1, b, 0], maps[1, b, 1], maps[1, b, 2]
        for p in range(pixels):
            y = row_y * rows[p] + col_y * cols[p] + y0
            x = row_x * rows[p] + col_x * cols[p] + x0
            if fields is not None:
                y += fields[0, b, p]
                x += fields[1, b, p]
            y = min(max(y, zero), last_source)
            x = min(max(x, zero), last_source)
            row, col = np.floor(y), np.floor(x)
            weights_y[p], weights_x[p] = y - row, x - col
            corners[p] = np.uint32(row) * np.uint32(PADDED) + np.uint32(col)
        for p in range(pixels):  # a + w (b - a) along x on both rows, then along y
            corner = corners[p]
            top, bottom = frame[corner], frame[corner + PADDED]
            tops[p] = top + (frame[corner + 1] - top) * weights_x[p]
            bottoms[p] = bottom + (frame[corner + PADDED + 1] - bottom) * weights_x[p]
        for p in range(pixels):
            images[b, p] = tops[p] + (bottoms[p] - tops[p]) * weights_y[p]


@_compiled
def bias_relu(Z, b, negated_b):
    """:meth:`mlp.Workspace.bias_relu` in one pass: ``Z`` (units, batch) becomes
    max(Z, -b) + b with ``b`` (units, 1); ``negated_b`` is the numpy pass's scratch, unused."""
    units, batch = Z.shape
    for i in range(units):
        bias = b[i, 0]
        negated = -bias
        for j in range(batch):
            Z[i, j] = np.maximum(Z[i, j], negated) + bias


@_compiled
def relu_gradient(dA, A, mask):
    """:meth:`mlp.Workspace.relu_gradient` in one pass: ``dA`` times 1 where ``A`` > 0, else
    times 0 (as numpy multiplies by a bool); ``mask`` is the numpy pass's scratch, unused."""
    units, batch = dA.shape
    for i in range(units):
        for j in range(batch):
            dA[i, j] *= np.float32(A[i, j] > 0)


@_compiled
def shift_by_max(logits, y, true_logits):
    """The first half of :func:`mlp.loss_and_dlogits` in one pass: each column of ``logits``
    (10, batch) less its maximum, in place, its label's shifted logit into ``true_logits``;
    returns how many columns have their first maximum at the label."""
    classes, batch = logits.shape
    correct = 0
    for j in range(batch):
        best = 0
        for i in range(1, classes):
            if logits[i, j] > logits[best, j]:
                best = i
        correct += best == y[j]
        top = logits[best, j]
        for i in range(classes):
            logits[i, j] -= top
        true_logits[j] = logits[y[j], j]
    return correct


@_compiled
def probabilities_minus_onehot(exps, y, sums, scale):
    """The second half of :func:`mlp.loss_and_dlogits` in one pass: ``exps`` (10, batch)
    becomes ``(exps / sums - onehot) * scale`` in place, its column ``sums`` added row by row
    as numpy's ``sum(axis=0)`` adds them."""
    classes, batch = exps.shape
    for j in range(batch):
        sums[j] = exps[0, j]
    for i in range(1, classes):
        for j in range(batch):
            sums[j] += exps[i, j]
    for i in range(classes):
        for j in range(batch):
            exps[i, j] /= sums[j]
    for j in range(batch):
        exps[y[j], j] -= 1
    for i in range(classes):
        for j in range(batch):
            exps[i, j] *= scale
