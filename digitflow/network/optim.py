"""Gradient-descent update rules and learning-rate schedules.

Each optimiser updates its parameters in place from gradients it may overwrite (they are
scratch buffers the next batch refills), so a step allocates nothing. The rules match
PyTorch's ``SGD`` (with ``momentum``/``nesterov``) and ``Adam``, so a benchmark against it
compares like with like. L2 weight decay adds ``weight_decay * W`` to the gradient of the
weight matrices; biases are not decayed.
"""

import math
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

OptimizerName = Literal["gd", "sgd", "momentum", "adam"]
ScheduleName = Literal["constant", "step", "cosine"]

ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


class Optimizer(Protocol):
    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """Update the parameters in place; ``grads`` (same order) may be overwritten."""


class _Decay:
    """Adds ``weight_decay * W`` to the gradients of the decayed parameters."""

    def __init__(self, params: list[np.ndarray], decayed: list[bool], weight_decay: float):
        self.params = params
        self.weight_decay = weight_decay
        self.scratch = [
            np.empty_like(p) if flag and weight_decay else None
            for p, flag in zip(params, decayed, strict=True)
        ]

    def apply(self, grads: list[np.ndarray]) -> None:
        for param, grad, scratch in zip(self.params, grads, self.scratch, strict=True):
            if scratch is not None:
                np.multiply(param, self.weight_decay, out=scratch)
                grad += scratch


class SGD(_Decay):
    """``W -= lr * g``: the seeds' rule (``gd`` runs it on the full batch)."""

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        self.apply(grads)
        for param, grad in zip(self.params, grads, strict=True):
            grad *= lr
            param -= grad


class Momentum(_Decay):
    """Heavy ball ``v = beta v + g; W -= lr v``; Nesterov steps by ``g + beta v`` instead."""

    def __init__(self, params, decayed, weight_decay, beta: float, nesterov: bool):
        super().__init__(params, decayed, weight_decay)
        self.beta = beta
        self.nesterov = nesterov
        self.velocity = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        self.apply(grads)
        for param, grad, velocity in zip(self.params, grads, self.velocity, strict=True):
            velocity *= self.beta
            velocity += grad
            if self.nesterov:
                grad *= lr
                param -= grad
                np.multiply(velocity, lr * self.beta, out=grad)
            else:
                np.multiply(velocity, lr, out=grad)
            param -= grad


class Adam(_Decay):
    """Adam with bias correction (Kingma & Ba 2015), PyTorch's epsilon placement.

    The moments are kept as decayed sums, ``m' = m / (1 - b1)`` and ``v' = v / (1 - b2)``:
    their updates then need no ``(1 - b)`` factor, which moves into the step size and the
    epsilon, two passes over every parameter fewer. Same rule, different float rounding.
    """

    def __init__(self, params, decayed, weight_decay):
        super().__init__(params, decayed, weight_decay)
        self.mean_sum = [np.zeros_like(p) for p in params]
        self.square_sum = [np.zeros_like(p) for p in params]
        self.steps = 0

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        self.apply(grads)
        self.steps += 1
        correction1 = 1.0 - ADAM_BETA1**self.steps
        correction2 = 1.0 - ADAM_BETA2**self.steps
        # lr / c1 * m / (sqrt(v / c2) + eps) = step_size * m' / (sqrt(v') + eps_sum)
        root_scale = math.sqrt((1.0 - ADAM_BETA2) / correction2)
        step_size = lr * (1.0 - ADAM_BETA1) / (correction1 * root_scale)
        eps_sum = ADAM_EPS / root_scale
        for param, grad, mean_sum, square_sum in zip(
            self.params, grads, self.mean_sum, self.square_sum, strict=True
        ):
            mean_sum *= ADAM_BETA1  # m' = b1 m' + g
            mean_sum += grad
            np.square(grad, out=grad)  # v' = b2 v' + g^2
            square_sum *= ADAM_BETA2
            square_sum += grad
            np.sqrt(square_sum, out=grad)  # grad becomes the step, in place
            grad += eps_sum
            np.divide(mean_sum, grad, out=grad)
            grad *= step_size
            param -= grad


def make_optimizer(
    name: OptimizerName,
    params: list[np.ndarray],
    decayed: list[bool],
    *,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    nesterov: bool = False,
) -> Optimizer:
    """The update rule called ``name`` over ``params``; ``decayed[i]`` marks weight matrices."""
    if name in ("gd", "sgd"):
        return SGD(params, decayed, weight_decay)
    if name == "momentum":
        return Momentum(params, decayed, weight_decay, momentum, nesterov)
    return Adam(params, decayed, weight_decay)


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
