"""A tiny numpy model: a one-hidden-layer tanh network with a softmax output.

``p(x) = softmax(W2 tanh(W1 x + b1) + b2)``, trained with the mean cross-entropy
``L = -(1/N) sum_i log p(x_i)_{y_i}``. The gradient with respect to the first layer (the layer
that the adapters of :mod:`certify.attacks.training` change) is, by backpropagation,

    grad_W1 L = (1/N) sum_i [(W2^T (p_i - e_{y_i})) * (1 - h_i^2)] x_i^T,
    h_i = tanh(W1 x_i + b1),

a sum of one rank-one matrix per example (which is what makes a LoRA step a matrix query,
seed 000, WPM-9). Everything is float64 numpy: no torch needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from certify._validate import check_positive_int
from certify.attacks.data import Dataset, FloatArray
from certify.errors import InvalidArgument

__all__ = ["TinyMLP", "pretrain_mlp"]


def _softmax(z: FloatArray) -> FloatArray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True, eq=False)
class TinyMLP:
    """Weights ``W1`` (h x m), ``b1`` (h), ``W2`` (c x h), ``b2`` (c). Methods take an optional
    ``delta_W1`` (an update of the first layer: the model evaluated at ``W1 + delta_W1``)."""

    W1: FloatArray
    b1: FloatArray
    W2: FloatArray
    b2: FloatArray

    def _w1(self, delta_W1: FloatArray | None) -> FloatArray:
        return self.W1 if delta_W1 is None else self.W1 + delta_W1

    def _forward(self, X: FloatArray, delta_W1: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        h = np.tanh(X @ self._w1(delta_W1).T + self.b1)
        return h, _softmax(h @ self.W2.T + self.b2)

    def probabilities(self, X: FloatArray, delta_W1: FloatArray | None = None) -> FloatArray:
        return self._forward(np.atleast_2d(X), delta_W1)[1]

    def losses(self, X: FloatArray, y: object, delta_W1: FloatArray | None = None) -> FloatArray:
        """Per-example cross-entropy ``-log p(x_i)_{y_i}``."""
        X2 = np.atleast_2d(X)
        labels = np.atleast_1d(np.asarray(y, dtype=np.int64))
        p = self._forward(X2, delta_W1)[1]
        out: FloatArray = -np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-300))
        return out

    def grad_W1(self, data: Dataset, delta_W1: FloatArray | None = None) -> FloatArray:
        """Gradient of the mean cross-entropy over ``data`` with respect to the first layer."""
        return self.gradients(data, delta_W1)[0]

    def gradients(
        self, data: Dataset, delta_W1: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Gradients of the mean cross-entropy with respect to ``(W1, b1, W2, b2)``."""
        n = len(data)
        if n == 0:
            raise InvalidArgument("data must hold at least one example.")
        h, p = self._forward(data.X, delta_W1)
        dz = p.copy()
        dz[np.arange(n), data.y] -= 1.0
        dz /= n
        da = (dz @ self.W2) * (1.0 - h * h)
        return da.T @ data.X, da.sum(axis=0), dz.T @ h, dz.sum(axis=0)

    def accuracy(self, data: Dataset, delta_W1: FloatArray | None = None) -> float:
        return float(np.mean(self.probabilities(data.X, delta_W1).argmax(axis=1) == data.y))


def pretrain_mlp(
    data: Dataset, hidden: int = 32, steps: int = 300, lr: float = 1.0, seed: int = 0
) -> TinyMLP:
    """Full-batch gradient descent on every weight from a seeded Gaussian initialisation
    (``W1 ~ N(0, 1/m)``, ``W2 ~ N(0, 1/h)``, biases 0): the public "pre-trained" model."""
    h = check_positive_int("hidden", hidden)
    t = check_positive_int("steps", steps)
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise InvalidArgument(f"lr={lr!r} must be a positive finite number.")
    rng = np.random.default_rng(seed)
    m = data.X.shape[1]
    W1 = rng.standard_normal((h, m)) / np.sqrt(m)
    W2 = rng.standard_normal((data.classes, h)) / np.sqrt(h)
    b1, b2 = np.zeros(h), np.zeros(data.classes)
    for _ in range(t):
        g = TinyMLP(W1, b1, W2, b2).gradients(data)
        W1, b1, W2, b2 = W1 - lr * g[0], b1 - lr * g[1], W2 - lr * g[2], b2 - lr * g[3]
    return TinyMLP(W1, b1, W2, b2)
