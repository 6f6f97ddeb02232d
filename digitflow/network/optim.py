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
    """Adam with bias correction (Kingma & Ba 2015), PyTorch's epsilon placement."""

    def __init__(self, params, decayed, weight_decay):
        super().__init__(params, decayed, weight_decay)
        self.mean = [np.zeros_like(p) for p in params]
        self.mean_square = [np.zeros_like(p) for p in params]
        self.steps = 0

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        self.apply(grads)
        self.steps += 1
        correction1 = 1.0 - ADAM_BETA1**self.steps
        root_correction2 = math.sqrt(1.0 - ADAM_BETA2**self.steps)
        for param, grad, mean, mean_square in zip(
            self.params, grads, self.mean, self.mean_square, strict=True
        ):
            # m = b1 m + (1 - b1) g, written as b1 (m - g) + g to need no temporary
            mean -= grad
            mean *= ADAM_BETA1
            mean += grad
            np.square(grad, out=grad)
            mean_square -= grad
            mean_square *= ADAM_BETA2
            mean_square += grad
            # grad becomes the step lr / c1 * m / (sqrt(v) / sqrt(c2) + eps), with sqrt(c2)
            # moved to the numerator to save a pass
            np.sqrt(mean_square, out=grad)
            grad += ADAM_EPS * root_correction2
            np.divide(mean, grad, out=grad)
            grad *= lr * root_correction2 / correction1
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
