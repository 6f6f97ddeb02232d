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
def bilinear_interpolate(images, src, last_source, out):
    """:meth:`augment.Resampler.interpolate` in one pass: padded ``images`` (batch, P, P),
    sources ``src`` (2, batch, pixels) in them, ``out`` (batch, pixels); float32 throughout.
    ``src`` is left as it was (the numpy passes overwrite it: scratch either way)."""
    batch, pixels = out.shape
    for b in range(batch):
        for p in range(pixels):
            y = min(max(src[0, b, p], np.float32(0.0)), last_source)
            x = min(max(src[1, b, p], np.float32(0.0)), last_source)
            row, col = np.floor(y), np.floor(x)
            wy, wx = y - row, x - col
            r, c = int(row), int(col)
            top = images[b, r, c] + (images[b, r, c + 1] - images[b, r, c]) * wx
            bottom = images[b, r + 1, c] + (images[b, r + 1, c + 1] - images[b, r + 1, c]) * wx
            out[b, p] = top + (bottom - top) * wy
