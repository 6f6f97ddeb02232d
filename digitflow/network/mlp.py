"""The network: He initialisation, forward pass, fused softmax-cross-entropy backward pass.

Arrays are features x samples, as in the pipeline (``X_784xm``), with ``W[l]`` of shape
(out, in), so every layer is ``Z = W @ A + b``. The training loop gathers a shuffled batch as
rows of a samples-major copy (contiguous copies) and hands its transposed view to
:meth:`Workspace.forward`: sgemm reads either layout without a copy, and ``W @ X.T`` measured
faster here than ``X @ W.T``. A :class:`Workspace` holds the buffers of one step so the batch
loop allocates nothing.

A training workspace is given lanes: it cuts each hidden layer's work into ``ROW_PARTS``
parts by the layer's units, each one sgemm on one BLAS thread followed by that part's ReLU
pass, and the lanes run the parts side by side. Each unit's values come from the same
products whatever the number of lanes, so the bits do not depend on it.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from digitflow.network.digit_likeness import DigitLikeness
    from digitflow.network.whole_digit import WholeDigit

INPUT_SIZE = 784
NUM_CLASSES = 10
PREDICT_CHUNK = 4096
"""Samples per forward pass when predicting: bounds memory whatever the number of samples."""
ROW_PARTS = 2
"""Parts a training workspace cuts each hidden layer's units into, one per lane of a 2-core
machine (``lanes.MAX_LANES``), fixed so that one lane computes the same products as two."""


class TaskRunner(Protocol):
    """What a training workspace runs its parts on: ``lanes.Lanes``, which predicting never
    imports."""

    def run_all(self, tasks: list[Callable[[], None]]) -> None: ...


@dataclass
class Network:
    weights: list[np.ndarray]
    """``W[l]``: float32 (out, in)."""
    biases: list[np.ndarray]
    """``b[l]``: float32 (out, 1)."""
    temperature: float = 1.0
    """Logits are divided by it before the softmax of :meth:`predict_proba`: fitted on the
    validation split after training, so the probabilities are calibrated (1 = as trained)."""
    likeness: "DigitLikeness | None" = None
    """How much a picture looks like the digits learned (``digit_likeness``), fitted after
    training; None for a file made without one."""
    whole_digit: "WholeDigit | None" = None
    """How much a picture looks like one whole digit rather than two joined or a fragment
    (``whole_digit``), fitted after training; None for a file made without one."""

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer from input to output, e.g. (784, 800, 10)."""
        return (self.weights[0].shape[1], *(W.shape[0] for W in self.weights))

    def predict_logits(
        self, X_784xm: np.ndarray, last_hidden_hxm: np.ndarray | None = None
    ) -> np.ndarray:
        """Raw logits, (10, m) float32, before any temperature, computed in chunks of samples;
        the last hidden layer's activations are copied into ``last_hidden_hxm`` (units, m)
        when one is given."""
        m = X_784xm.shape[1]
        logits_10xm = np.empty((self.layer_sizes[-1], m), dtype=np.float32)
        workspace = Workspace(self, min(m, PREDICT_CHUNK))
        for start in range(0, m, PREDICT_CHUNK):
            stop = min(start + PREDICT_CHUNK, m)
            logits_10xm[:, start:stop] = workspace.forward(self, X_784xm[:, start:stop])
            if last_hidden_hxm is not None:
                last_hidden_hxm[:, start:stop] = workspace.activations[-2][:, : stop - start]
        return logits_10xm

    def predict_proba(self, X_784xm: np.ndarray) -> np.ndarray:
        """Calibrated softmax probabilities, (10, m) float32: softmax(logits / temperature)."""
        return softmax_columns(scaled_logits(self.predict_logits(X_784xm), self.temperature))

    def parameters(self) -> list[np.ndarray]:
        """``[W0, b0, W1, b1, ...]``: the arrays an optimiser updates in place."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    def copy(self) -> "Network":
        return Network(
            [W.copy() for W in self.weights],
            [b.copy() for b in self.biases],
            self.temperature,
            self.likeness,
        )


def init_network(layer_sizes: tuple[int, ...], rng: np.random.Generator) -> Network:
    """He initialisation: ``W ~ N(0, 2 / fan_in)`` suits ReLU; biases start at zero."""
    weights, biases = [], []
    for fan_in, fan_out in pairwise(layer_sizes):
        W = rng.standard_normal((fan_out, fan_in), dtype=np.float32)
        W *= np.float32(np.sqrt(2.0 / fan_in))
        weights.append(W)
        biases.append(np.zeros((fan_out, 1), dtype=np.float32))
    return Network(weights, biases)


def scaled_logits(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``logits / temperature`` in place; untouched at 1, so an uncalibrated file's
    probabilities stay bit-identical."""
    if temperature != 1.0:
        logits *= np.float32(1.0 / temperature)
    return logits


def softmax_columns(logits: np.ndarray) -> np.ndarray:
    """Softmax of each column in place, shifted by its maximum so exp never overflows."""
    logits -= logits.max(axis=0)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=0)
    return logits


class Workspace:
    """Buffers for one forward and backward pass of up to ``capacity`` samples.

    ``activations[l]`` (units, capacity) is the output of hidden layer ``l + 1``, then the
    logits; a smaller batch uses the leading columns, a strided view sgemm accepts. Without
    ``lanes`` every product is whole, on BLAS's own threads; with them each hidden layer's
    products are cut by units into ``ROW_PARTS`` parts run on the lanes, for a caller that
    holds BLAS to one thread.
    """

    def __init__(self, network: Network, capacity: int, lanes: TaskRunner | None = None):
        dtype = network.weights[0].dtype
        sizes = network.layer_sizes
        self.lanes = lanes
        self.activations = [np.empty((n, capacity), dtype=dtype) for n in sizes[1:]]
        self.logits_rows = np.empty((capacity, sizes[-1]), dtype=dtype)
        self.deltas = [np.empty((n, capacity), dtype=dtype) for n in sizes[1:-1]]
        self.relu_mask = [np.empty((n, capacity), dtype=bool) for n in sizes[1:-1]]
        self.grad_weights = [np.empty_like(W) for W in network.weights]
        self.grad_biases = [np.empty_like(b) for b in network.biases]
        self.negated_biases = [np.empty_like(b) for b in network.biases]
        self.ones = np.ones(capacity, dtype=dtype)

    def gradients(self) -> list[np.ndarray]:
        """``[dW0, db0, dW1, db1, ...]``, refilled by every :meth:`backward`."""
        return [g for pair in zip(self.grad_weights, self.grad_biases, strict=True) for g in pair]

    def by_units(self, units: int, work: Callable[[slice], None]) -> None:
        """``work(rows)`` over a hidden layer's ``units``: once over all of them without
        lanes, else once per part of ``ROW_PARTS``, on the lanes."""
        if self.lanes is None:
            work(slice(0, units))
            return
        parts = [
            slice(units * k // ROW_PARTS, units * (k + 1) // ROW_PARTS) for k in range(ROW_PARTS)
        ]
        self.lanes.run_all([functools.partial(work, rows) for rows in parts])

    def forward(self, network: Network, X_inxb: np.ndarray) -> np.ndarray:
        """Logits (10, batch) of a batch; hidden activations are kept for the backward pass."""
        batch = X_inxb.shape[1]
        A = X_inxb
        last = len(network.weights) - 1
        for layer, (W, b) in enumerate(zip(network.weights, network.biases, strict=True)):
            Z = self.activations[layer][:, :batch]
            if layer < last:
                negated_b = self.negated_biases[layer]
                self.by_units(len(W), functools.partial(self.hidden_rows, W, b, negated_b, A, Z))
            else:
                # With 10 rows, sgemm writes the product 30 % faster transposed, as (batch, 10)
                # rows (21.7 against 30.7 us for 800 x 128); adding b brings it back to Z.
                logits_T = self.logits_rows[:batch].T
                np.matmul(W, A, out=logits_T)
                np.add(logits_T, b, out=Z)  # (out, 1) broadcast over the batch
            A = Z
        return A

    def hidden_rows(self, W, b, negated_b, A, Z, rows: slice) -> None:
        """Units ``rows`` of a hidden layer: Z = ReLU(W A + b)."""
        np.matmul(W[rows], A, out=Z[rows])  # (out, in) @ (in, batch) -> (out, batch)
        self.bias_relu(Z[rows], b[rows], negated_b[rows])  # hidden Z becomes A

    @staticmethod
    def bias_relu(Z: np.ndarray, b: np.ndarray, negated_b: np.ndarray) -> None:
        """ReLU(Z + b) in place as max(Z, -b) + b: the same values (0 wherever Z <= -b), and
        numpy's max runs faster against a column than against 0. ``negated_b``: scratch."""
        np.negative(b, out=negated_b)
        np.maximum(Z, negated_b, out=Z)
        Z += b

    @staticmethod
    def loss(logits: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """:func:`loss_and_dlogits` of the batch whose logits :meth:`forward` returned."""
        return loss_and_dlogits(logits, y)

    @staticmethod
    def relu_gradient(dA: np.ndarray, A: np.ndarray, mask: np.ndarray) -> None:
        """``dA`` times ReLU'(Z) in place, read off the ReLU's output ``A = max(Z, 0)``;
        ``mask``: bool scratch of the same shape."""
        np.greater(A, 0, out=mask)
        np.multiply(dA, mask, out=dA)

    def backward(
        self, network: Network, X_inxb: np.ndarray, dlogits: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradients of the mean loss given ``dlogits`` = (probs - onehot) / batch.

        The input layer's gradient is never formed: nothing upstream needs it.
        """
        batch = dlogits.shape[1]
        last = len(network.weights) - 1
        A_below = self.activations[last - 1][:, :batch] if last > 0 else X_inxb
        self.weight_gradients(last, dlogits, A_below, slice(None))
        dZ_above = dlogits
        for layer in range(last - 1, -1, -1):  # the hidden layers, top down
            work = functools.partial(
                self.hidden_gradients, network.weights[layer + 1], dZ_above, layer, X_inxb
            )
            self.by_units(network.weights[layer].shape[0], work)
            dZ_above = self.deltas[layer][:, :batch]
        return self.grad_weights, self.grad_biases

    def hidden_gradients(
        self, W_above: np.ndarray, dZ_above: np.ndarray, layer: int, X_inxb: np.ndarray, rows: slice
    ) -> None:
        """Units ``rows`` of hidden layer ``layer``: their delta from the layer above, then
        the gradients of their weights and biases."""
        batch = dZ_above.shape[1]
        dZ = self.deltas[layer][rows, :batch]
        A = self.activations[layer][rows, :batch]
        np.matmul(W_above[:, rows].T, dZ_above, out=dZ)  # (in, out) @ (out, b) -> (in, b)
        self.relu_gradient(dZ, A, self.relu_mask[layer][rows, :batch])
        A_below = self.activations[layer - 1][:, :batch] if layer > 0 else X_inxb
        self.weight_gradients(layer, dZ, A_below, rows)

    def weight_gradients(
        self, layer: int, dZ: np.ndarray, A_below: np.ndarray, rows: slice
    ) -> None:
        """Rows ``rows`` of layer ``layer``'s weight and bias gradients from its delta ``dZ``
        (those rows, batch) and its input ``A_below`` (in, batch)."""
        batch = dZ.shape[1]
        np.matmul(dZ, A_below.T, out=self.grad_weights[layer][rows])  # (out, b) @ (b, in)
        # Summed over the batch as a product with ones: BLAS's sums run about 5x faster
        # than numpy's pairwise ones here (4.7 against 25 us for 800 x 128).
        np.matmul(dZ, self.ones[:batch], out=self.grad_biases[layer][rows, 0])


def loss_and_dlogits(logits: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """Turn logits (10, batch) into ``(probs - onehot) / batch`` in place.

    Returns the summed cross-entropy and the number of correct predictions of the batch,
    both read off the logits before they are overwritten. The loss is
    ``log(sum(exp(z - max))) - (z_y - max)``: finite whatever the logits' size.
    """
    batch = logits.shape[1]
    samples = np.arange(batch)
    correct = int(np.count_nonzero(logits.argmax(axis=0) == y))
    logits -= logits.max(axis=0)
    true_logit = logits[y, samples]
    np.exp(logits, out=logits)
    sums = logits.sum(axis=0)
    loss_sum = float(np.sum(np.log(sums) - true_logit, dtype=np.float64))
    logits /= sums
    logits[y, samples] -= 1
    logits *= 1.0 / batch
    return loss_sum, correct


def loss_and_gradients(
    network: Network, X_inxm: np.ndarray, y: np.ndarray
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """Mean cross-entropy and its gradients on one batch (copies): for checks and tests."""
    workspace = Workspace(network, X_inxm.shape[1])
    logits = workspace.forward(network, X_inxm)
    loss_sum, _ = loss_and_dlogits(logits, y)
    dW, db = workspace.backward(network, X_inxm, logits)
    return loss_sum / len(y), [g.copy() for g in dW], [g.copy() for g in db]


def evaluate(network: Network, X_784xm: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over a split, in chunks; (nan, nan) when empty."""
    m = X_784xm.shape[1]
    if m == 0:
        return float("nan"), float("nan")
    workspace = Workspace(network, min(m, PREDICT_CHUNK))
    loss_sum, correct = 0.0, 0
    for start in range(0, m, PREDICT_CHUNK):
        stop = min(start + PREDICT_CHUNK, m)
        logits = workspace.forward(network, X_784xm[:, start:stop])
        chunk_loss, chunk_correct = loss_and_dlogits(logits, y[start:stop])
        loss_sum += chunk_loss
        correct += chunk_correct
    return loss_sum / m, correct / m
