"""Gradient-descent update rules and learning-rate schedules.

Each optimiser updates its parameters in place from gradients it may overwrite (they are
scratch buffers the next batch refills), so a step allocates nothing. The rules match
PyTorch's ``SGD`` (with ``momentum``/``nesterov``) and ``Adam``, so a benchmark against it
compares like with like. L2 weight decay adds ``weight_decay * W`` to the gradient of the
weight matrices; biases are not decayed.

A step is a few elementwise passes over every parameter: each rule's ``update`` writes them
for one flat part of a parameter, and :class:`~digitflow.network.lanes.Lanes` runs the parts
on both cores at once (same result as one pass over the whole). ``update`` is the numpy
reference of the rule; with numba installed, its ``fused_update`` from
:mod:`~digitflow.network.kernels` does the same operations in one pass, bit for bit. Every
scalar reaches either as a float32, as numpy rounds a Python scalar against float32 arrays.
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from digitflow.network import kernels
from digitflow.network.lanes import Lanes

OptimizerName = Literal["gd", "sgd", "momentum", "adam"]
ScheduleName = Literal["constant", "step", "cosine"]

ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


class Optimizer(Protocol):
    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """Update the parameters in place; ``grads`` (same order) may be overwritten."""

    def step_tasks(self, grads: list[np.ndarray], lr: float) -> list[Callable[[], None]]:
        """The same update as tasks for :meth:`Lanes.run_all`, to run beside other work."""


def flat(array: np.ndarray) -> np.ndarray:
    """A 1-D view of a contiguous array: writes through it land in ``array``."""
    if not array.flags.c_contiguous:
        raise ValueError("optimiser arrays must be C-contiguous, so a flat view aliases them")
    return array.reshape(-1)


class _Rule:
    """What every rule shares: the flat parameters, the optional weight decay, the lanes
    that run ``update`` (or ``fused_update``) over each lane's part of every parameter."""

    def __init__(
        self,
        params: list[np.ndarray],
        decayed: list[bool],
        weight_decay: float,
        lanes: Lanes | None = None,
        fused: bool = kernels.AVAILABLE,
    ):
        self.params = [flat(p) for p in params]
        self.weight_decay = weight_decay
        self.decay_scratch = [
            np.empty_like(p) if flag and weight_decay else None
            for p, flag in zip(self.params, decayed, strict=True)
        ]
        self.lanes = lanes or Lanes()
        self.fused = fused
        self.state: list[list[np.ndarray]] = [[] for _ in params]
        """Per parameter, the rule's own flat arrays (velocity, moments), same size."""

    def tasks(self, grads: list[np.ndarray], *scalars: float) -> list[Callable[[], None]]:
        """One task per lane: ``update(param, grad, *state, *scalars)`` on that lane's part of
        every parameter, after the weight decay. Run them in any order, or beside other work."""
        flat_grads = [g.reshape(-1) for g in grads]
        update = self.fused_update if self.fused else self.update
        scalars32 = [np.float32(s) for s in scalars]

        def lane_work(lane: int) -> None:
            for param, grad, state, scratch in zip(
                self.params, flat_grads, self.state, self.decay_scratch, strict=True
            ):
                part = self.lanes.part(param.size, lane)
                if scratch is not None:
                    np.multiply(param[part], self.weight_decay, out=scratch[part])
                    grad[part] += scratch[part]
                update(param[part], grad[part], *(s[part] for s in state), *scalars32)

        return [functools.partial(lane_work, lane) for lane in range(self.lanes.count)]

    def step_tasks(self, grads: list[np.ndarray], lr: float) -> list[Callable[[], None]]:
        """The :meth:`tasks` of one update at learning rate ``lr`` (a rule needing more
        scalars overrides it)."""
        return self.tasks(grads, lr)

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """One update at learning rate ``lr``, on every lane."""
        self.lanes.run_all(self.step_tasks(grads, lr))


class SGD(_Rule):
    """``W -= lr * g``: the seeds' rule (``gd`` runs it on the full batch)."""

    @staticmethod
    def update(param, grad, lr):
        grad *= lr
        param -= grad

    fused_update = staticmethod(kernels.sgd_update)


class Momentum(_Rule):
    """Heavy ball: ``v = beta v + g; W -= lr v``."""

    def __init__(
        self, params, decayed, weight_decay, beta: float, lanes=None, fused=kernels.AVAILABLE
    ):
        super().__init__(params, decayed, weight_decay, lanes, fused)
        self.beta = beta
        self.state = [[np.zeros_like(p)] for p in self.params]

    def step_tasks(self, grads: list[np.ndarray], lr: float) -> list[Callable[[], None]]:
        return self.tasks(grads, self.beta, lr)

    @staticmethod
    def update(param, grad, velocity, beta, lr):
        velocity *= beta
        velocity += grad
        np.multiply(velocity, lr, out=grad)
        param -= grad

    fused_update = staticmethod(kernels.momentum_update)


class Nesterov(Momentum):
    """Nesterov's momentum: the same velocity, but ``W -= lr (g + beta v)``."""

    def step_tasks(self, grads: list[np.ndarray], lr: float) -> list[Callable[[], None]]:
        return self.tasks(grads, self.beta, lr, lr * self.beta)

    @staticmethod
    def update(param, grad, velocity, beta, lr, lr_beta):
        velocity *= beta
        velocity += grad
        grad *= lr
        param -= grad
        np.multiply(velocity, lr_beta, out=grad)
        param -= grad

    fused_update = staticmethod(kernels.nesterov_update)


class Adam(_Rule):
    """Adam with bias correction (Kingma & Ba 2015), PyTorch's epsilon placement.

    The moments are kept as decayed sums, ``m' = m / (1 - b1)`` and ``v' = v / (1 - b2)``:
    their updates then need no ``(1 - b)`` factor, which moves into the step size and the
    epsilon, two passes over every parameter fewer. Same rule, different float rounding.
    """

    def __init__(self, params, decayed, weight_decay, lanes=None, fused=kernels.AVAILABLE):
        super().__init__(params, decayed, weight_decay, lanes, fused)
        self.state = [[np.zeros_like(p), np.zeros_like(p)] for p in self.params]
        self.steps = 0

    def step_tasks(self, grads: list[np.ndarray], lr: float) -> list[Callable[[], None]]:
        self.steps += 1
        correction1 = 1.0 - ADAM_BETA1**self.steps
        correction2 = 1.0 - ADAM_BETA2**self.steps
        # lr / c1 * m / (sqrt(v / c2) + eps) = step_size * m' / (sqrt(v') + eps_sum)
        root_scale = math.sqrt((1.0 - ADAM_BETA2) / correction2)
        step_size = lr * (1.0 - ADAM_BETA1) / (correction1 * root_scale)
        return self.tasks(grads, ADAM_BETA1, ADAM_BETA2, step_size, ADAM_EPS / root_scale)

    @staticmethod
    def update(param, grad, mean_sum, square_sum, beta1, beta2, step_size, eps_sum):
        mean_sum *= beta1  # m' = b1 m' + g
        mean_sum += grad
        np.square(grad, out=grad)  # v' = b2 v' + g^2
        square_sum *= beta2
        square_sum += grad
        np.sqrt(square_sum, out=grad)  # grad becomes the step, in place
        grad += eps_sum
        np.divide(mean_sum, grad, out=grad)
        grad *= step_size
        param -= grad

    fused_update = staticmethod(kernels.adam_update)


def make_optimizer(
    name: OptimizerName,
    params: list[np.ndarray],
    decayed: list[bool],
    *,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    nesterov: bool = False,
    lanes: Lanes | None = None,
    fused: bool = kernels.AVAILABLE,
) -> Optimizer:
    """The update rule called ``name`` over ``params``; ``decayed[i]`` marks weight matrices;
    ``lanes``: the cores its passes run on (default: up to two); ``fused``: whether its
    passes run as one numba kernel (default: when numba is installed)."""
    if name in ("gd", "sgd"):
        return SGD(params, decayed, weight_decay, lanes, fused=fused)
    if name == "momentum":
        rule = Nesterov if nesterov else Momentum
        return rule(params, decayed, weight_decay, momentum, lanes, fused=fused)
    return Adam(params, decayed, weight_decay, lanes, fused=fused)


@dataclass(frozen=True)
class Schedule:
    """Learning rate as a function of training progress measured in epochs."""

    kind: ScheduleName
    base_lr: float
    epochs: int
    step_epochs: int = 1
    step_gamma: float = 0.1

    def lr_at(self, progress_epochs: float) -> float:
        """``progress_epochs``: epochs done so far, fractional within an epoch (0 at start)."""
        if self.kind == "step":
            return self.base_lr * self.step_gamma ** math.floor(progress_epochs / self.step_epochs)
        if self.kind == "cosine":
            return self.base_lr * 0.5 * (1.0 + math.cos(math.pi * progress_epochs / self.epochs))
        return self.base_lr
