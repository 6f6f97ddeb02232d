"""Whether a 28x28 holds one whole digit rather than two digits joined or a fragment of one:
a linear score on the network's last hidden layer, for deciding where touching digits part.

The network reads half a digit, or two touching digits, as some digit confidently more often
than not: it was only ever shown whole single digits. Its hidden layer still tells them apart.
A logistic regression on the activations, fitted by Newton's method (gradient descent, as the
digit likeness is fitted, was far from converged here: AUROC 0.88 against 0.95) on whole
training digits against training digits joined in pairs and cut into fragments
(``synthetic.pieces``, normalised as reading normalises a piece), gives log-odds of "one
whole digit". It is stored with the weights; a file without it loads with none, and then the
cut search weighs no such score.
"""

from dataclasses import dataclass

import numpy as np

from digitflow.network.digit_likeness import hidden_and_logits, hidden_and_probabilities
from digitflow.network.mlp import Network

FIT_PIECES = 3000
"""Whole training digits the score is fitted on, and as many pieces that are not one (half
pairs, half fragments): about 9 s of making pieces and 8 s of fitting on a loaded machine."""
L2_PENALTY = 0.01
"""On the standardised weights (the loss is a mean, each side weighing half): AUROC on pairs
and fragments of test digits 0.946, against 0.941 at 0.001 and 0.931 at 0.0001."""
NEWTON_STEPS = 6
"""Newton steps from zero weights: converged (AUROC 0.9455 after 6, 0.946 after 8)."""


@dataclass(frozen=True)
class WholeDigit:
    weights: np.ndarray
    """(units of the last hidden layer,) float32: log-odds = weights @ hidden + bias."""
    bias: float

    def log_odds(self, hidden_hxm: np.ndarray) -> np.ndarray:
        """(m,) float32 log-odds of "one whole digit" from last-hidden-layer activations."""
        return self.weights @ hidden_hxm + np.float32(self.bias)


def fit_whole_digit(network: Network, X_whole: np.ndarray, X_not_whole: np.ndarray) -> WholeDigit:
    """The score fitted on whole digits (784, m) against pieces that are not one digit
    (784, k). Deterministic: the same inputs give the same bits."""
    H_whole, _ = hidden_and_logits(network, X_whole)
    H_not, _ = hidden_and_logits(network, X_not_whole)
    return WholeDigit(*_newton_logistic_regression(H_whole, H_not))


def probabilities_and_scores(
    network: Network, X_784xm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Calibrated probabilities (10, m), the digit likeness (m,) of a network that has one
    and the whole-digit log-odds (m,) (None when it has no such score), from one pass."""
    hidden, probs = hidden_and_probabilities(network, X_784xm)
    whole = None if network.whole_digit is None else network.whole_digit.log_odds(hidden)
    return probs, network.likeness.likeness(hidden), whole


def _newton_logistic_regression(
    positive_hxm: np.ndarray, negative_hxk: np.ndarray
) -> tuple[np.ndarray, float]:
    """Weights (units,) float32 and bias of P(positive) = sigmoid(w @ h + b): NEWTON_STEPS of
    Newton's method in float64 on standardised units with L2_PENALTY on the weights, each
    side weighing half, folded back to raw activations."""
    features = np.concatenate([positive_hxm, negative_hxk], axis=1).astype(np.float64)
    target = np.zeros(features.shape[1])
    target[: positive_hxm.shape[1]] = 1
    sample_weight = np.where(target > 0, 0.5 / positive_hxm.shape[1], 0.5 / negative_hxk.shape[1])
    mean = features.mean(axis=1, keepdims=True)
    scale = features.std(axis=1, keepdims=True) + 1e-3  # dead units stay at 0
    # (units + 1, m + k): the last row is the bias's, which is not penalised.
    standard = np.vstack([(features - mean) / scale, np.ones((1, features.shape[1]))])
    penalty = np.full(standard.shape[0], L2_PENALTY)
    penalty[-1] = 0.0
    w = np.zeros(standard.shape[0])
    for _ in range(NEWTON_STEPS):
        probability = 0.5 * (1 + np.tanh(0.5 * (w @ standard)))  # sigmoid, no overflow
        gradient = standard @ ((probability - target) * sample_weight) + penalty * w
        curvature = probability * (1 - probability) * sample_weight
        hessian = (standard * curvature) @ standard.T + np.diag(penalty + 1e-9)
        w -= np.linalg.solve(hessian, gradient)
    folded = w[:-1] / scale[:, 0]
    return folded.astype(np.float32), float(np.float32(w[-1] - folded @ mean[:, 0]))
