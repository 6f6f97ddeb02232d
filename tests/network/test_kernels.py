"""The numba kernels give the bits of their numpy references, alone and over a whole training."""

import importlib.util
import sys

import numpy as np
import pytest
from helpers import synthetic_digits

from digitflow.network import kernels
from digitflow.network.augment import Augmenter, Resampler, turn_and_shift
from digitflow.network.mlp import Workspace, init_network, loss_and_dlogits
from digitflow.network.optim import SGD, Adam, Momentum, Nesterov
from digitflow.network.training import FusedWorkspace, TrainConfig, train

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba (the fast extra) is absent")


def spread_values(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """float32 values over many magnitudes and both signs, with exact zeros among them."""
    values = rng.standard_normal(n).astype(np.float32) * np.float32(scale)
    values *= np.exp2(rng.integers(-20, 4, n)).astype(np.float32)
    values[::17] = 0.0
    return values


RULES = {
    "sgd": (SGD, 0, (0.05,)),
    "momentum": (Momentum, 1, (0.9, 0.05)),
    "nesterov": (Nesterov, 1, (0.9, 0.05, 0.05 * 0.9)),
    "adam": (Adam, 2, (0.9, 0.999, 3.1e-3, 2.7e-7)),
}


@needs_numba
@pytest.mark.parametrize("name", RULES)
def test_fused_update_gives_the_numpy_updates_bits(name):
    rule, slots, scalars = RULES[name]
    rng = np.random.default_rng(3)
    n = 10_007  # not a multiple of any vector width: the kernel's tail runs too
    param, grad = spread_values(rng, n, 1.0), spread_values(rng, n, 0.1)
    state = [spread_values(rng, n, 0.1) for _ in range(slots)]
    if name == "adam":
        state[1] = np.abs(state[1])  # the sum of squares
    scalars32 = [np.float32(s) for s in scalars]
    numpy_arrays = [a.copy() for a in (param, grad, *state)]
    fused_arrays = [a.copy() for a in (param, grad, *state)]
    rule.update(*numpy_arrays, *scalars32)
    rule.fused_update(*fused_arrays, *scalars32)
    # grad is scratch to both; the parameter and the rule's state must match bit for bit
    kept = [0, *range(2, len(numpy_arrays))]
    for i in kept:
        assert numpy_arrays[i].tobytes() == fused_arrays[i].tobytes()


@needs_numba
@pytest.mark.parametrize("with_fields", [False, True], ids=["affine", "with-fields"])
def test_fused_resampling_gives_the_numpy_resamplings_bits(with_fields):
    rng = np.random.default_rng(5)
    batch = 37
    images = rng.random((batch, 784), dtype=np.float32)
    angles, shifts = rng.uniform(-0.8, 0.8, batch), rng.integers(-3, 4, batch)
    maps = turn_and_shift(angles, shifts, np.zeros(batch))
    maps[:, ::2, :2] *= 1.3  # far beyond the frame's edges: the clipping runs too
    maps[:, ::5] = turn_and_shift(np.zeros(1), shifts[:1], shifts[1:2])  # whole-pixel sources
    fields = rng.standard_normal((2, batch, 784), dtype=np.float32) * 3 if with_fields else None
    results = []
    for fused in (False, True):
        resampled = images.copy()
        Resampler(batch, fused).resample(resampled, maps, fields)
        results.append(resampled.tobytes())
    assert results[0] == results[1]


@needs_numba
def test_fused_augmentation_with_elastic_fields_gives_the_numpy_bits():
    images = np.random.default_rng(6).random((50, 784), dtype=np.float32)
    results = []
    for fused in (False, True):
        batch = images.copy()
        Augmenter(2, 15.0, 34.0, 4.0, fused=fused)(batch, np.random.default_rng(7))
        results.append(batch.tobytes())
    assert results[0] == results[1]


@needs_numba
@pytest.mark.parametrize("batch", [32, 27], ids=["full", "leading-columns"])
def test_fused_relu_passes_give_the_numpy_passes_bits(batch):
    rng = np.random.default_rng(8)
    network = init_network((784, 40, 30, 10), rng)
    network.biases = [rng.normal(0, 0.5, b.shape).astype(np.float32) for b in network.biases]
    network.weights[0][:5] = 0.0  # units whose Z is exactly -b (here 0): max's ties
    network.biases[0][:5] = 0.0
    X = spread_values(rng, 784 * batch, 1.0).reshape(784, batch)
    y = rng.integers(0, 10, batch)
    results = []
    for workspace_class in (Workspace, FusedWorkspace):
        workspace = workspace_class(network, 32)
        logits = workspace.forward(network, X)
        hidden = [A[:, :batch].tobytes() for A in workspace.activations[:-1]]
        loss_and_dlogits(logits, y)
        dW, db = workspace.backward(network, X, logits)
        results.append([*hidden, *(g.tobytes() for g in (*dW, *db))])
    assert results[0] == results[1]


@needs_numba
@pytest.mark.parametrize("batch", [32, 27], ids=["full", "leading-columns"])
def test_fused_loss_gives_the_numpy_loss_functions_bits(batch):
    rng = np.random.default_rng(9)
    values = spread_values(rng, 10 * batch, 30.0).reshape(10, batch)
    values[:, :4] = values[3, :4]  # columns of ties: the first maximum counts
    y = rng.integers(0, 10, batch)
    results = []
    for loss in (loss_and_dlogits, FusedWorkspace(init_network((784, 16, 10), rng), 32).loss):
        logits = np.empty((10, 32), dtype=np.float32)[:, :batch]  # the workspace's columns
        logits[:] = values
        results.append((loss(logits, y), logits.tobytes()))
    assert results[0] == results[1]


@pytest.fixture(scope="module")
def data():
    X_train, y_train = synthetic_digits(300, seed=1)
    X_val, y_val = synthetic_digits(100, seed=2)
    return X_train, y_train, X_val, y_val


@needs_numba
@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam", "lr": 0.005},
        {"optimizer": "adam", "lr": 0.005, "slant": 0.3, "aspect": 0.2, "elastic_alpha": 34.0},
        {"optimizer": "momentum", "lr": 0.05, "weight_decay": 1e-3},
        {"optimizer": "momentum", "lr": 0.05, "nesterov": True},
        {"optimizer": "sgd", "lr": 0.1},
    ],
    ids=lambda options: "-".join(str(v) for v in options.values()),
)
def test_training_with_the_kernels_gives_byte_identical_weights(data, options):
    config = TrainConfig(
        hidden=(16,), batch_size=32, epochs=3, shift_px=1, rotate_deg=10.0, **options
    )
    numpy_run = train(*data, config, fused=False)
    fused_run = train(*data, config, fused=True)
    for numpy_param, fused_param in zip(
        numpy_run.network.parameters(), fused_run.network.parameters(), strict=True
    ):
        assert numpy_param.tobytes() == fused_param.tobytes()
    for key in ("train_loss", "train_accuracy", "val_loss"):
        numpy_values = [getattr(s, key) for s in numpy_run.history]
        assert [getattr(s, key) for s in fused_run.history] == numpy_values


def test_without_numba_the_kernels_module_says_the_numpy_path_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` fail
    spec = importlib.util.find_spec("digitflow.network.kernels")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.AVAILABLE, module.BACKEND) == (False, "numpy")
