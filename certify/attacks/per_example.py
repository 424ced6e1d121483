"""Per-example first-layer gradients of a :class:`~certify.attacks.model.TinyMLP` (what DP-SGD
clips and what the SMP-LoRA attacker term reweights).

For the per-example cross-entropy ``l_i = -log p(x_i)_{y_i}`` with ``h_i = tanh(W1 x_i + b1)``
and ``p_i = softmax(W2 h_i + b2)``, backpropagation gives (the per-example form of the batch
formula in :mod:`certify.attacks.model`)

    grad_W1 l_i = a_i x_i^T,        a_i = (W2^T (p_i - e_{y_i})) * (1 - h_i^2),

a rank-one matrix. For LoRA with ``W1 = W1_0 + B A`` (``A`` frozen) the chain rule gives the
gradient in the trained factor, ``grad_B l_i = grad_W1 l_i A^T = a_i (A x_i)^T``, whose
Frobenius norm is ``||a_i|| ||A x_i||`` (a rank-one matrix's norm is the product of its factors'
norms): per-example clipping never needs the ``h x r`` matrices themselves.
"""

from __future__ import annotations

import numpy as np

from certify.attacks.data import Dataset, FloatArray
from certify.attacks.model import TinyMLP
from certify.errors import InvalidArgument

__all__ = ["per_example_factors"]


def per_example_factors(
    base: TinyMLP, data: Dataset, delta_W1: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """``(a, losses)``: the ``N x h`` left factors ``a_i`` of the per-example first-layer
    gradients ``a_i x_i^T`` and the ``N`` per-example losses, at ``W1 + delta_W1``."""
    n = len(data)
    if n == 0:
        raise InvalidArgument("data must hold at least one example.")
    w1 = base.W1 if delta_W1 is None else base.W1 + delta_W1
    h = np.tanh(data.X @ w1.T + base.b1)
    z = h @ base.W2.T + base.b2
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    losses: FloatArray = -np.log(np.maximum(p[rows, data.y], 1e-300))
    dz = p
    dz[rows, data.y] -= 1.0
    a: FloatArray = (dz @ base.W2) * (1.0 - h * h)
    return a, losses
