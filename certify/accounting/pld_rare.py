"""Rare tail events: a convolution power whose squarings run on the short core of the step.

A one-step grid measure of a small-q subsampled Gaussian has a long tail of tiny masses (losses
reached only when the record is sampled *and* its noise is far out), so its support can be as
long as that of the whole T-fold composition, and every squaring of :func:`power
<certify.accounting.pld_grid.power>` then runs at that full length. Yet two such tail events in
one composition are so unlikely that they need no resolution.

*The decomposition* (our derivation). Split the step's measure ``a = c + t`` at node ``k``: the
core ``c`` holds the masses below node k, the tail ``t`` those at and above it and the atom at
+infinity; their exact masses are ``A = |c|`` and ``B = |t|``. Convolution of measures on
``(-inf, +inf]`` (with ``x + inf = inf``) is commutative, associative and bilinear, so the binomial
theorem holds for convolution powers:

    a^{*T} = sum_j C(T, j) c^{*(T-j)} * t^{*j} = c^{*(T-1)} * (c + T t) + R,
    R = sum_{j >= 2} C(T, j) c^{*(T-j)} * t^{*j}  (a non-negative measure),
    |R| = sum_{j >= 2} C(T, j) A^{T-j} B^j <= C(T, 2) B^2 (A + B)^{T-2},

the last step because ``C(T, j) <= C(T, 2) C(T-2, j-2)`` for j >= 2 (their ratio is
``j (j-1) / 2 >= 1``) and the binomial theorem for ``(A + B)^{T-2}``. The privacy profile ``D`` of
:mod:`certify.accounting.pld_grid` is linear in the measure with ``0 <= D(R) <= |R|``, so an upper
pipeline that puts the bound on ``|R|`` at +infinity (where D counts it in full) and a lower one
that drops R keep their directions, and only ``c^{*(T-1)}`` is computed by squaring -- the
squarings run on the core -- followed by one product with the full-length ``c + T t``.

*The split node* is the lowest ``k >= 1`` with ``C(T, 2) B^2 <= budget`` (exact integers, masses in
units 2^-bits), the budget being what the caller's plan allows this term to cost in delta; the
core must be at most :data:`MAX_CORE_SHARE` of the support.

*When it pays* (a float cost model; only work depends on it): a squaring costs about the length
of its operand, and the 2^j-fold composition spans about ``max(n_0, W 2^{j/2} sd)`` nodes, n_0 the
length it started from, sd the step's standard deviation in nodes and ``W =``
:data:`SPAN_PER_SD` (truncated at masses ~1e-14, a near-Gaussian composition keeps about
+-6.4 sd: measured on issue 5's grid). The split shortens the squarings from ``n`` to ``k``
while the spread of the composition is below n, and costs one more product of about the final
length plus n; it is used when the first exceeds the second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate

from flint import arb

#: the split is used only if the core keeps at most this share of the step's nodes
MAX_CORE_SHARE = 0.75
#: nodes spanned per standard deviation by a long composition truncated at tiny masses
SPAN_PER_SD = 12.8


def split_node(masses: Sequence[int], infinity: int, count: int, budget: int, bits: int
               ) -> int | None:
    """The split node ``k`` of the module docstring (an index into ``masses``), or None when
    no node in ``[1, MAX_CORE_SHARE n]`` meets ``C(count, 2) B(k)^2 <= budget 2^bits`` (masses,
    ``infinity`` and ``budget`` in units 2^-bits; ``count >= 2``)."""
    n = len(masses)
    if count < 2 or budget <= 0 or n < 2:
        return None
    pairs = count * (count - 1) // 2
    limit = budget << bits
    # suffix[j] = B(n - j): the tail mass from node n - j up, +infinity included
    suffix = list(accumulate(reversed(masses), initial=infinity))
    hi = int(MAX_CORE_SHARE * n)
    if hi < 1 or pairs * suffix[n - hi] ** 2 > limit:
        return None
    lo = 1  # smallest k in [lo, hi] with the check (the suffix mass falls as k grows)
    while lo < hi:
        mid = (lo + hi) // 2
        if pairs * suffix[n - mid] ** 2 <= limit:
            hi = mid
        else:
            lo = mid + 1
    return lo


def pays(length: int, core: int, count: int, sd: float) -> bool:
    """Does the split at ``core`` save work on a ``count``-fold power of a step of ``length``
    nodes and standard deviation ``sd`` nodes (the cost model of the module docstring)?"""
    saved = 0.0
    size = 1
    while size < count:
        spread = SPAN_PER_SD * math.sqrt(size) * sd
        saved += max(0.0, length - max(core, spread))
        size *= 2
    final = SPAN_PER_SD * math.sqrt(count) * sd
    return saved > final + length


def remainder_bound(core: int, tail: int, count: int, bits: int) -> arb:
    """A ball whose upper end bounds ``|R| <= C(T, 2) B^2 (A + B)^{T-2}`` (module docstring) in
    units of 1, for the exact masses ``A = core``, ``B = tail`` in units 2^-bits and
    ``T = count >= 2``, at the ambient precision."""
    unit = arb(2) ** -bits
    pairs = count * (count - 1) // 2
    total = arb(core + tail) * unit
    return arb(pairs) * (arb(tail) * unit) ** 2 * total ** (count - 2)


__all__ = ["MAX_CORE_SHARE", "SPAN_PER_SD", "pays", "remainder_bound", "split_node"]
