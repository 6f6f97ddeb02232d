"""How much a 28x28 looks like the digits the network learned: a linear score on its last
hidden layer, fitted after training to tell digits from pictures that are not digits.

The max softmax cannot tell a letter from a digit: the network was only ever shown digits, so
an "A" is a confident 4 (Hendrycks & Gimpel measured max-softmax AUROC 85 on letters). The
hidden layer still sees the difference: a logistic regression on its activations, fitted on
training digits against examples of what is not a digit (``examples/not_digits.npy``: font
letters), gives a likeness in log-odds. A picture's score is that plus the log-odds of the
network's calibrated confidence (both say "digit" in the same units; the sum detected letters
of unseen fonts best, and turns away fewer digits that would have been ``ok``), and
``min_score`` lets through all but :data:`DIGITS_REJECTED` of the validation digits, as each
of reading's rejection rules does. It is stored with the weights like the temperature, and
only decides ``rejected``; the probabilities stay the network's.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitflow.errors import DigitflowError
from digitflow.network.mlp import Network, scaled_logits, softmax_columns

DIGITS_REJECTED = 0.005
"""Share of the validation digits scoring below ``min_score``."""
FIT_DIGITS = 5000
"""Training digits the score is fitted on (every k-th, so the choice needs no generator)."""
FIT_STEPS = 500
"""Full-batch gradient steps of the logistic regression: converged for an 800-unit layer on
a few thousand examples each side (more move the score by < 1 %)."""
L2_PENALTY = 0.01
"""On the standardised weights: stronger forgets letters, weaker learns the fitting fonts'
quirks (measured on letters of other fonts, bench/trust.py)."""
_STEP = np.float32(1.0)


@dataclass(frozen=True)
class DigitLikeness:
    weights: np.ndarray
    """(units of the last hidden layer,) float32: likeness = weights @ hidden + bias."""
    bias: float
    min_score: float
    """Pictures scoring below it are not like the digits the network learned."""

    def likeness(self, hidden_hxm: np.ndarray) -> np.ndarray:
        """(m,) float32 log-odds of "a digit" from last-hidden-layer activations (units, m)."""
        return self.weights @ hidden_hxm + np.float32(self.bias)

    def probabilities_and_likeness(
        self, network: Network, X_784xm: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities (10, m), as :meth:`Network.predict_proba` gives them, and
        (m,) the likeness of pictures (784, m); one forward pass for both."""
        hidden, probs = hidden_and_probabilities(network, X_784xm)
        return probs, self.likeness(hidden)

    def scores(self, hidden_hxm: np.ndarray, probs_10xm: np.ndarray) -> np.ndarray:
        """(m,) float32: the likeness plus the log-odds of the top calibrated probability."""
        return self.likeness(hidden_hxm) + confidence_log_odds(probs_10xm)

    def below_min_of(self, likeness_m: np.ndarray, probs_10xm: np.ndarray) -> np.ndarray:
        """:meth:`below_min` from the likeness (m,) of a forward pass already made."""
        return likeness_m + confidence_log_odds(probs_10xm) < self.min_score

    def unlike(self, network: Network, X_784xm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities (10, m), as :meth:`Network.predict_proba` gives them, and
        (m,) bool: which pictures score below ``min_score``; one forward pass for both."""
        hidden, probs = hidden_and_probabilities(network, X_784xm)
        return probs, self.below_min(hidden, probs)

    def below_min(self, hidden_hxm: np.ndarray, probs_10xm: np.ndarray) -> np.ndarray:
        """(m,) bool: which pictures score below ``min_score``, from the last hidden layer's
        activations and the calibrated probabilities of a forward pass already made."""
        return self.below_min_of(self.likeness(hidden_hxm), probs_10xm)


def confidence_log_odds(probs_10xm: np.ndarray) -> np.ndarray:
    """(m,) float32 log(p / (1 - p)) of each column's top probability, p kept below 1."""
    top = np.minimum(probs_10xm.max(axis=0), np.float32(1 - 1e-7))
    return np.log(top) - np.log1p(-top)


class NotDigitsFileError(DigitflowError):
    """The file of pictures that are not digits is missing or not (k, 28, 28) uint8."""


def load_not_digits(path: Path) -> np.ndarray:
    """(784, k) float32 in [0, 1] from a ``.npy`` of k (28, 28) uint8 pictures, ink high."""
    try:
        pixels_u8 = np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise NotDigitsFileError(f"{path}: not found (see examples/make_not_digits.py)") from exc
    except (OSError, ValueError) as exc:
        raise NotDigitsFileError(f"{path}: not a readable .npy array ({exc})") from exc
    if pixels_u8.dtype != np.uint8 or pixels_u8.ndim != 3 or pixels_u8.shape[1:] != (28, 28):
        raise NotDigitsFileError(
            f"{path}: expected uint8 (k, 28, 28), got {pixels_u8.dtype} {pixels_u8.shape}"
        )
    if not len(pixels_u8):
        raise NotDigitsFileError(f"{path}: holds no pictures")
    return pixels_u8.reshape(len(pixels_u8), 784).T.astype(np.float32) / np.float32(255)


def hidden_and_logits(network: Network, X_784xm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The last hidden layer's activations (units, m) and the raw logits (10, m), float32,
    from one forward pass in chunks (the logits equal :meth:`Network.predict_logits`')."""
    hidden = np.empty((network.layer_sizes[-2], X_784xm.shape[1]), dtype=np.float32)
    return hidden, network.predict_logits(X_784xm, hidden)


def hidden_and_probabilities(
    network: Network, X_784xm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The last hidden layer's activations (units, m) and the calibrated probabilities
    (10, m), as :meth:`Network.predict_proba` gives them, from one forward pass."""
    hidden, logits = hidden_and_logits(network, X_784xm)
    return hidden, softmax_columns(scaled_logits(logits, network.temperature))


def fit_digit_likeness(
    network: Network, X_digits: np.ndarray, X_not_digits: np.ndarray, X_val: np.ndarray
) -> DigitLikeness:
    """Fit the likeness on digits (784, m; up to :data:`FIT_DIGITS` of them, evenly spaced)
    against pictures that are not digits (784, k), and set ``min_score`` on held-out digits
    ``X_val`` (784, v >= 1) with the network's temperature as it is (so calibrate first).
    Deterministic: the same inputs give the same bits."""
    X_digits = X_digits[:, :: max(1, X_digits.shape[1] // FIT_DIGITS)]
    H_digits, _ = hidden_and_logits(network, X_digits)
    H_not, _ = hidden_and_logits(network, X_not_digits)
    weights, bias = _logistic_regression(H_digits, H_not)
    H_val, logits_val = hidden_and_logits(network, X_val)
    probs_val = softmax_columns(scaled_logits(logits_val, network.temperature))
    val_scores = DigitLikeness(weights, bias, 0.0).scores(H_val, probs_val)
    min_score = np.quantile(val_scores, DIGITS_REJECTED)
    return DigitLikeness(weights, bias, float(np.float32(min_score)))


def _logistic_regression(
    positive_hxm: np.ndarray, negative_hxk: np.ndarray
) -> tuple[np.ndarray, float]:
    """Weights (units,) float32 and bias of P(digit) = sigmoid(w @ h + b), fitted by gradient
    descent on standardised units, each side weighing half (there are fewer non-digits), and
    folded back to raw activations."""
    features = np.concatenate([positive_hxm, negative_hxk], axis=1)  # (units, m + k)
    target = np.zeros(features.shape[1], dtype=np.float32)
    target[: positive_hxm.shape[1]] = 1
    sample_weight = np.where(
        target > 0, 0.5 / positive_hxm.shape[1], 0.5 / negative_hxk.shape[1]
    ).astype(np.float32)
    mean = features.mean(axis=1, keepdims=True)
    scale = features.std(axis=1, keepdims=True) + np.float32(1e-3)  # dead units stay at 0
    standard = (features - mean) / scale
    w = np.zeros(features.shape[0], dtype=np.float32)
    b = np.float32(0)
    for _ in range(FIT_STEPS):
        z = w @ standard + b
        probability = np.float32(0.5) * (1 + np.tanh(np.float32(0.5) * z))  # sigmoid, no overflow
        residual = (probability - target) * sample_weight  # d(mean loss)/dz
        w -= _STEP * (standard @ residual + np.float32(L2_PENALTY) * w)
        b -= _STEP * residual.sum()
    folded = (w / scale[:, 0]).astype(np.float32)
    return folded, float(np.float32(b - folded @ mean[:, 0]))
