"""The training loop: epochs of shuffled (augmented) batches, early stopping, failure checks.

``train`` takes prepared arrays (features x samples) and a :class:`TrainConfig`, and returns
the best network with a per-epoch history. Every random draw (initialisation, shuffling,
augmentation) comes from one generator seeded by ``train.seed``, so a rerun with the same
params on the same machine and thread count gives bit-identical weights.
"""

import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from digitflow.errors import DigitflowError, ParamsError
from digitflow.network import kernels
from digitflow.network.augment import Augmenter
from digitflow.network.lanes import Lanes
from digitflow.network.mlp import (
    INPUT_SIZE,
    NUM_CLASSES,
    PREDICT_CHUNK,
    Network,
    Workspace,
    evaluate,
    init_network,
)
from digitflow.network.optim import OptimizerName, Schedule, ScheduleName, make_optimizer
from digitflow.params import require

DIVERGED_LOSS = 100.0
"""Mean batch cross-entropy (nats) taken as divergence; chance level is ln 10 = 2.3. The loss
is computed stably, so an exploding run shows huge finite losses before it reaches NaN."""
COLLAPSE_SHARE = 0.5
"""A run has collapsed when one class takes more than this share of its predictions."""


class DivergedError(DigitflowError):
    """The loss became NaN or infinite: the learning rate is too large for this setup."""


@dataclass(frozen=True)
class TrainConfig:
    """The ``train`` section of params.yaml."""

    hidden: tuple[int, ...] = (800,)
    """Widths of the ReLU hidden layers, input side first."""
    optimizer: OptimizerName = "adam"
    """``sgd``, ``momentum``, ``adam``, or ``gd``: the seeds' method, exactly: one step an epoch
    on the whole training set, constant rate, no augmentation (see :meth:`ignored_keys`)."""
    lr: float = 0.001
    """Learning rate at the start of the schedule."""
    schedule: ScheduleName = "cosine"
    """``constant``; ``step`` (times ``step_gamma`` every ``step_epochs``); ``cosine`` (to 0)."""
    step_epochs: int = 10
    step_gamma: float = 0.1
    momentum: float = 0.9
    """Velocity decay of the ``momentum`` optimiser."""
    nesterov: bool = False
    weight_decay: float = 0.0
    """L2 penalty on the weight matrices (not the biases)."""
    batch_size: int = 128
    """Images per step; ignored by ``gd``."""
    epochs: int = 20
    patience: int | None = None
    """Stop after this many epochs without a better val accuracy; null: run every epoch."""
    shift_px: int = 1
    """Augmentation: shift each training image by up to this many pixels each way."""
    rotate_deg: float = 10.0
    """Augmentation: turn each training image by up to this many degrees each way."""
    elastic_alpha: float = 0.0
    """Augmentation: elastic distortion strength in pixels (0: off); Simard et al. use 34."""
    elastic_sigma: float = 4.0
    """Smoothness of the elastic displacement field, in pixels."""
    slant: float = 0.3
    """Augmentation: shear each image's columns by up to this times the row each way (0: off;
    0.3 leans the top of a 20 px digit 6 px), for hands that slant."""
    aspect: float = 0.2
    """Augmentation: scale each image's width by up to this share each way (0: off)."""
    pen: float = 0.0
    """Augmentation: move each image up to this share of the way to its grey-level erosion
    or dilation (0: off; 1: about a pixel thinner or bolder each side), for other pens."""
    seed: int = 0
    """Seed of the one generator behind initialisation, shuffling and augmentation."""
    target_error: float = 0.002
    """After training, the lowest confidence whose accepted validation answers err at most
    this often is stored with the weights: predict-folder's ``auto`` threshold. Stricter than
    the 0.5 % aimed at on photos, which err more than clean digits at the same confidence."""

    def __post_init__(self) -> None:
        require(len(self.hidden) >= 1, "train.hidden", "must list at least one layer width")
        for i, width in enumerate(self.hidden):
            require(width >= 1, f"train.hidden[{i}]", f"must be >= 1, got {width}")
        checks = [
            ("lr", self.lr > 0, "> 0"),
            ("step_epochs", self.step_epochs >= 1, ">= 1"),
            ("step_gamma", 0 < self.step_gamma <= 1, "in (0, 1]"),
            ("momentum", 0 <= self.momentum < 1, "in [0, 1)"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("epochs", self.epochs >= 1, ">= 1"),
            ("patience", self.patience is None or self.patience >= 1, ">= 1 or null"),
            ("shift_px", 0 <= self.shift_px <= 8, "in [0, 8]"),
            ("rotate_deg", 0 <= self.rotate_deg <= 45, "in [0, 45]"),
            ("elastic_alpha", self.elastic_alpha >= 0, ">= 0"),
            ("elastic_sigma", self.elastic_sigma > 0, "> 0"),
            ("slant", 0 <= self.slant <= 1, "in [0, 1]"),
            ("aspect", 0 <= self.aspect <= 0.5, "in [0, 0.5]"),
            ("pen", 0 <= self.pen <= 1, "in [0, 1]"),
            ("seed", self.seed >= 0, ">= 0"),
            ("target_error", 0 < self.target_error < 1, "in (0, 1)"),
        ]
        for key, ok, rule in checks:
            require(ok, f"train.{key}", f"must be {rule}, got {getattr(self, key)!r}")

    def ignored_keys(self) -> list[str]:
        """Keys this config sets that its optimiser does not use (``gd`` is the seeds' plain
        full-batch method), so the stage can say so instead of ignoring them silently."""
        if self.optimizer != "gd":
            return []
        ignored = ["batch_size"]
        ignored += ["schedule"] if self.schedule != "constant" else []
        ignored += ["shift_px"] if self.shift_px else []
        ignored += ["rotate_deg"] if self.rotate_deg else []
        ignored += ["elastic_alpha"] if self.elastic_alpha else []
        ignored += [key for key in ("slant", "aspect", "pen") if getattr(self, key)]
        return ignored


def training_bytes(config: TrainConfig, train_count: int, val_count: int) -> int:
    """About the peak memory of a run: the parameters six times over (weights, gradients, two
    optimiser slots, the best epoch's copy, the evaluation workspace's gradients), activations,
    deltas and ReLU masks of one batch and of one evaluation chunk, and the samples-major copy
    of the training images."""
    sizes = (INPUT_SIZE, *config.hidden, NUM_CLASSES)
    parameters = sum(fan_out * (fan_in + 1) for fan_in, fan_out in pairwise(sizes))
    batch = train_count if config.optimizer == "gd" else min(config.batch_size, train_count)
    units = sum(sizes[1:])
    per_sample = units * (4 + 4 + 1)  # float32 activation and delta, bool mask, per unit
    columns = batch + min(val_count, PREDICT_CHUNK)
    return 4 * (6 * parameters + INPUT_SIZE * train_count) + per_sample * columns


def machine_memory_bytes() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_fits_in_memory(
    config: TrainConfig, train_count: int, val_count: int, available: int | None = None
) -> None:
    """Refuse, before anything is allocated, a network this machine cannot train: numpy
    would fail part-way (MemoryError) or the kernel would kill the run."""
    needed = training_bytes(config, train_count, val_count)
    available = machine_memory_bytes() if available is None else available
    if needed > available:
        raise ParamsError(
            "train.hidden",
            f"{list(config.hidden)} would need about {_gib(needed)} of memory to train "
            f"(batch_size {config.batch_size}); this machine has {_gib(available)}",
        )


def _gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB"


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    lr: float
    """Learning rate at the start of the epoch."""
    train_loss: float
    """Mean over the epoch's batches (augmented, weights moving), as seen while training."""
    train_accuracy: float
    val_loss: float
    """NaN when the validation split is empty."""
    val_accuracy: float
    seconds: float


@dataclass
class TrainResult:
    network: Network
    """The weights of ``best_epoch``: best validation accuracy, or the last epoch without val."""
    history: list[EpochStats]
    best_epoch: int

    def summary(self, config: TrainConfig) -> dict[str, Any]:
        """Params and history for the weights file: no timings, so reruns stay identical."""
        return {
            "train": asdict(config),
            "best_epoch": self.best_epoch,
            "epochs_run": len(self.history),
            "history": [
                {k: _json_number(v) for k, v in asdict(s).items() if k != "seconds"}
                for s in self.history
            ],
        }


def _json_number(value: float) -> float | None:
    """NaN (no val split) as JSON null, so the file's meta stays strict JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


def train(
    X_train_784xm: np.ndarray,
    y_train: np.ndarray,
    X_val_784xm: np.ndarray,
    y_val: np.ndarray,
    config: TrainConfig,
    *,
    on_epoch: Callable[[EpochStats], None] | None = None,
    lanes: Lanes | None = None,
    fused: bool = kernels.AVAILABLE,
) -> TrainResult:
    """Fit a network; raise :class:`DivergedError` as soon as the loss explodes. ``lanes``:
    the threads of the elementwise phases (default: up to two); ``fused``: whether those
    phases run as numba kernels (default: when numba is installed). Neither changes a bit."""
    rng = np.random.default_rng(config.seed)
    network = init_network((INPUT_SIZE, *config.hidden, NUM_CLASSES), rng)
    step = Stepper(network, config, len(y_train), lanes, fused)
    # Samples-major once, so a shuffled batch is a gather of contiguous rows.
    X_rows = np.ascontiguousarray(X_train_784xm.T, dtype=np.float32)
    has_val = len(y_val) > 0
    history: list[EpochStats] = []
    best, best_epoch, best_key = network, 0, (-1.0, 0.0)
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            train_loss, train_accuracy = step.epoch(epoch, X_rows, y_train, rng)
        val_loss, val_accuracy = evaluate(network, X_val_784xm, y_val)
        stats = EpochStats(
            epoch=epoch,
            lr=step.schedule.lr_at(epoch - 1),
            train_loss=train_loss,
            train_accuracy=train_accuracy,
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            seconds=time.perf_counter() - started,
        )
        history.append(stats)
        if on_epoch is not None:
            on_epoch(stats)
        if not has_val:  # nothing to select on: keep the last weights
            best, best_epoch = network, epoch
        elif (val_accuracy, -val_loss) > best_key:
            best, best_epoch, best_key = network.copy(), epoch, (val_accuracy, -val_loss)
        elif config.patience is not None and epoch - best_epoch >= config.patience:
            break
    return TrainResult(best, history, best_epoch)


class FusedWorkspace(Workspace):
    """A :class:`Workspace` whose ReLU passes and loss are numba kernels, bit for bit the same.
    It is the trainer's, not :mod:`mlp`'s, so that predicting never imports numba."""

    bias_relu = staticmethod(kernels.bias_relu)
    relu_gradient = staticmethod(kernels.relu_gradient)

    def __init__(self, network: Network, capacity: int, lanes: Lanes | None = None):
        super().__init__(network, capacity, lanes)
        self.true_logits = np.empty(capacity, dtype=np.float32)
        self.column_sums = np.empty(capacity, dtype=np.float32)

    def loss(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """:func:`~digitflow.network.mlp.loss_and_dlogits` as two kernels around numpy's exp
        and log (numba's round differently): its dozen small numpy passes took 0.18 ms of a
        training step's CPU, these 0.09."""
        batch = logits.shape[1]
        true_logits, sums = self.true_logits[:batch], self.column_sums[:batch]
        correct = kernels.shift_by_max(logits, y, true_logits)
        np.exp(logits, out=logits)
        kernels.probabilities_minus_onehot(logits, y, sums, np.float32(1.0 / batch))
        return float(np.sum(np.log(sums) - true_logits, dtype=np.float64)), int(correct)


class Stepper:
    """One epoch of batches: gather, augment, forward, check, backward, update.

    Everything runs in :class:`Lanes`, with BLAS held to one thread: each hidden layer's
    products and ReLU passes in parts by units (:class:`Workspace`), the update's lane parts
    and the gathering and augmenting of the next batch (which needs no weights) as tasks the
    lanes share, so the next batch is made while the weights are updated. BLAS's own threads
    measured slower on these small products, and a busy machine stalls them (each waits for
    the other at every product). Random draws keep their order, so the bits are those of
    doing each phase in turn, on any number of lanes.
    """

    def __init__(
        self,
        network: Network,
        config: TrainConfig,
        m: int,
        lanes: Lanes | None = None,
        fused: bool = kernels.AVAILABLE,
    ):
        self.network = network
        self.config = config
        self.lanes = lanes or Lanes()
        self.full_batch = config.optimizer == "gd"
        batch_size = m if self.full_batch else min(config.batch_size, m)
        self.batch_size = batch_size
        self.workspace = (FusedWorkspace if fused else Workspace)(network, batch_size, self.lanes)
        self.gradients = self.workspace.gradients()
        params = network.parameters()
        self.optimizer = make_optimizer(
            config.optimizer,
            params,
            decayed=[p.shape[1] > 1 for p in params],  # weight matrices, not bias columns
            weight_decay=config.weight_decay,
            momentum=config.momentum,
            nesterov=config.nesterov,
            lanes=self.lanes,
            fused=fused,
        )
        self.schedule = Schedule(
            "constant" if self.full_batch else config.schedule,
            config.lr,
            config.epochs,
            config.step_epochs,
            config.step_gamma,
        )
        if not self.full_batch:
            self.batch_rows = np.empty((batch_size, INPUT_SIZE), dtype=np.float32)
            self.augmenter = Augmenter(
                config.shift_px,
                config.rotate_deg,
                config.elastic_alpha,
                config.elastic_sigma,
                slant=config.slant,
                aspect=config.aspect,
                pen=config.pen,
                lanes=Lanes(1),  # one task beside the update's lanes
                fused=fused,
            )

    def epoch(
        self, epoch: int, X_rows: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[float, float]:
        """Train one epoch; return its mean batch loss and accuracy as seen while training."""
        with threadpool_limits(limits=1, user_api="blas"):
            return self.batches(epoch, X_rows, y, rng)

    def batches(
        self, epoch: int, X_rows: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[float, float]:
        """:meth:`epoch`'s steps, BLAS already held to one thread."""
        m = len(y)
        loss_sum, correct = 0.0, 0
        if self.full_batch:  # the seeds' method: every image, unchanged, every step
            loss_sum, correct = self.batch(epoch, X_rows.T, y)
            self.optimizer.step(self.gradients, self.schedule.lr_at(epoch - 1))
            return loss_sum / m, correct / m
        order = rng.permutation(m)
        X_batch = self.prepare(X_rows, order[: self.batch_size], rng)
        for start in range(0, m, self.batch_size):
            y_batch = y[order[start : start + self.batch_size]]
            batch_loss, batch_correct = self.batch(epoch, X_batch.T, y_batch)
            tasks = self.optimizer.step_tasks(
                self.gradients, self.schedule.lr_at(epoch - 1 + start / m)
            )
            next_rows = order[start + self.batch_size : start + 2 * self.batch_size]
            if len(next_rows):
                X_batch = self.batch_rows[: len(next_rows)]
                tasks.insert(0, functools.partial(self.prepare, X_rows, next_rows, rng))
            self.lanes.run_all(tasks)
            loss_sum += batch_loss
            correct += batch_correct
        return loss_sum / m, correct / m

    def prepare(self, X_rows: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The batch buffer filled with the images ``X_rows[rows]``, augmented: (len(rows), 784)."""
        X_batch = self.gather(X_rows, rows)
        if self.augmenter.active:
            self.augmenter(X_batch, rng)
        return X_batch

    def gather(self, X_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The images ``X_rows[rows]`` copied into the batch buffer, (len(rows), 784), on
        the calling thread: handing half of a 400 KB copy to a lane costs more than it saves
        (0.16-0.18 against 0.21-0.25 ms a step)."""
        X_batch = self.batch_rows[: len(rows)]
        return np.take(X_rows, rows, axis=0, out=X_batch)

    def batch(self, epoch: int, X_784xb: np.ndarray, y_batch: np.ndarray) -> tuple[float, int]:
        """Forward and backward pass: summed loss and correct count; gradients refilled."""
        logits = self.workspace.forward(self.network, X_784xb)
        loss_sum, correct = self.workspace.loss(logits, y_batch)
        if not loss_sum <= DIVERGED_LOSS * len(y_batch):  # also catches NaN
            raise DivergedError(
                f"training diverged in epoch {epoch} (batch loss {loss_sum / len(y_batch):.3g}); "
                f"try a smaller learning rate than train.lr={self.config.lr}"
            )
        self.workspace.backward(self.network, X_784xb, logits)
        return loss_sum, correct


def class_histogram(network: Network, X_784xm: np.ndarray) -> np.ndarray:
    """How many samples the network assigns to each class: (10,) int64."""
    predictions = network.predict_proba(X_784xm).argmax(axis=0)
    return np.bincount(predictions, minlength=NUM_CLASSES)


def collapsed_class(histogram: np.ndarray) -> int | None:
    """The class that took over the predictions (the seeds' "only 2 is predicted"), if any."""
    total = int(histogram.sum())
    top = int(histogram.argmax())
    return top if total and histogram[top] > COLLAPSE_SHARE * total else None
