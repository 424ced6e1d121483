"""Certified evaluation and inversion of a grid PLD's privacy profile.

For a grid measure (:class:`~certify.accounting.pld_grid.GridPLD`),
``D(eps) = 2^-bits [inf + sum_{l_i > eps} M_i (1 - e^{eps - l_i})]`` is continuous, non-increasing,
and on each segment ``[l_{k-1}, l_k)`` equals ``2^-bits (inf + S1_k - e^eps S2_k)`` (sums over
``i >= k``), so ``D(eps) = delta`` has the closed-form root ``log((inf + S1_k - delta 2^bits) /
S2_k)`` in the segment where D crosses delta. The segment is found by bisection on certified
comparisons at the nodes; a comparison that stays undecided only widens the answer to a node.
The bisection starts from a bracket galloped out from a float guess of the crossing (D at every
node by suffix sums, when the measure's words are at hand), so it usually takes two certified
evaluations instead of log2(nodes); only its cost depends on the guess.

* An *upper* pipeline's D bounds the true delta(eps) from above, so any eps with certified
  ``D_up(eps) <= delta`` bounds the true ``eps(delta) = inf{eps >= 0 : delta(eps) <= delta}``
  from above.
* A *lower* pipeline's D bounds delta(eps) from below, so any eps with certified
  ``D_lo(eps) > delta`` has ``delta(eps) > delta`` and, delta(.) being non-increasing, every
  smaller eps too: eps(delta) >= eps. At the closed-form root r of a strictly decreasing segment
  ``D_lo > delta`` holds on the left of r, hence eps(delta) >= r >= lower(r).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
from flint import arb

from certify.accounting.pld_cuts import farthest
from certify.accounting.pld_grid import GridPLD, delta_ball, first_above, segment_root_ball
from certify.accounting.pld_pilot import node_profile


def _exact(x: Fraction) -> arb:
    return arb(x.numerator) / x.denominator


def upper_delta(pld: GridPLD, eps: Fraction) -> arb:
    """An exact arb >= D_up(eps) (the ball's upper end), at the ambient precision."""
    return delta_ball(pld, eps).upper()


def lower_delta(pld: GridPLD, eps: Fraction) -> arb:
    """An exact arb <= D_lo(eps), never below 0."""
    lo = delta_ball(pld, eps).lower()
    return lo if lo > 0 else arb(0)


def reflected_upper_delta(pld: GridPLD, eps: Fraction) -> arb:
    """An exact arb >= the *reverse* pair's delta(eps), from an upper pipeline of the pair.

    For probability measures and a in (0, 1], taking complements,
    ``sup_S [P(S) - a Q(S)] = 1 - a + a sup_S [Q(S) - P(S) / a]``: with ``a = e^-eps`` the
    reverse pair's ``delta'(eps) = e^eps D(-eps) - e^eps + 1``, D this pair's profile at the
    *negative* order -eps. That is increasing in D, and an upper pipeline's D bounds the true one
    at every eps, negative ones included (its measure dominates for every ``a >= 0``:
    :mod:`certify.accounting.pld_step`, :mod:`certify.accounting.pld_grid`), so the reverse
    pair's profile needs no pipeline of its own where this bound suffices. Its accuracy is that
    of the measure at losses near -eps, which the merging rule and a partial last product read
    from above -eps do not aim at: a caller uses it only where it certifies what is needed."""
    e = _exact(eps).exp()
    return (e * delta_ball(pld, -eps) - e + 1).upper()


def upper_epsilon(pld: GridPLD, delta: Fraction) -> arb | None:
    """An exact arb eps >= 0 with certified D_up(eps) <= delta (so eps(delta) <= it), or None
    when the mass at +infinity alone exceeds delta (no finite eps is certified)."""
    d = _exact(delta)
    if delta_ball(pld, Fraction(0)) <= d:
        return arb(0)
    if not arb(pld.infinity) * arb(2) ** (-pld.bits) < d:
        return None
    n = pld.length
    lo = first_above(pld, Fraction(0))
    hi = n - 1  # at the top node D = inf 2^-bits < delta (certified above)
    if lo > hi or not _node_le(pld, hi, d):  # pragma: no cover - excluded by the checks above
        return None
    profile = _float_profile(pld, lo)
    guess = None if profile is None else lo + int(np.argmax(profile <= float(delta)))
    # the first node with certified D <= delta
    k = first_true(lambda i: _node_le(pld, i, d), lo, hi, guess)
    best = _exact(pld.loss(k))
    left = pld.loss(k - 1) if k > 0 else None
    if left is not None and left < 0:
        left = Fraction(0)
    if left is None or delta_ball(pld, left) > d:
        root = segment_root_ball(pld, k, delta)
        if root.is_finite() and not root.is_nan():
            cand = root.upper()
            if cand < best:
                best = cand if cand > 0 else arb(0)
    return best


def lower_epsilon(pld: GridPLD, delta: Fraction) -> arb:
    """An exact arb eps >= 0 with eps(delta) >= it (certified ``D_lo > delta`` to its left)."""
    d = _exact(delta)
    if not delta_ball(pld, Fraction(0)) > d:
        return arb(0)
    n = pld.length
    lo = first_above(pld, Fraction(0))
    if lo >= n or not _node_gt(pld, lo, d):
        # D_lo > delta at 0 but not at the first node above 0: root in [0, l_lo)
        return _segment_lower(pld, lo, delta, Fraction(0))
    profile = _float_profile(pld, lo)
    guess = None if profile is None else lo + int(np.count_nonzero(profile > float(delta)))
    # the last node with certified D > delta: one before the first without, where the index n
    # past the top counts as without (never evaluated)
    last = first_true(lambda i: not _node_gt(pld, i, d), lo + 1, n, guess) - 1
    return _segment_lower(pld, last + 1, delta, pld.loss(last))


def first_true(pred: Callable[[int], bool], lo: int, hi: int, guess: int | None = None) -> int:
    """The smallest k in [lo, hi] with ``pred(k)``, for a predicate that is False then True
    with ``pred(hi)`` True (taken as given: never evaluated). From ``guess`` when it lies in
    [lo, hi): the search of :func:`~certify.accounting.pld_cuts.farthest` away from it (down
    through True, or up through False), so an exact guess costs two evaluations and a guess off
    by m about 2 log2(m) + 2; else bisection."""
    if guess is not None and lo <= guess < hi:
        if pred(guess):
            return farthest(pred, guess, lo)
        return farthest(lambda k: not pred(k), guess, hi - 1) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _float_profile(pld: GridPLD, start: int) -> np.ndarray | None:
    """D at the nodes ``start, start + 1, ...`` in floats
    (:func:`~certify.accounting.pld_pilot.node_profile`), from the measure's words; None
    without them (only the search's first guess depends on it)."""
    if pld.words is None or start >= pld.words.size:
        return None
    scale = 2.0 ** (-pld.bits)
    m = pld.words[start:].astype(float) * scale
    loss = float(pld.shift) + (pld.offset + start + np.arange(m.size)) * float(pld.h)
    return node_profile(m, loss, float(pld.infinity) * scale)[0]


def _segment_lower(pld: GridPLD, k: int, delta: Fraction, left: Fraction) -> arb:
    """max(left, lower(root)) on the segment [left, l_k), where D_lo(left) > delta is known."""
    best = _exact(left)
    if k >= pld.length:
        return best  # no finite node above: D is constant (the +inf mass) beyond left
    root = segment_root_ball(pld, k, delta)
    if root.is_finite() and not root.is_nan():
        cand = root.lower()
        right = _exact(pld.loss(k))
        if cand > best:
            best = cand if cand < right else right
    return best


def _node_le(pld: GridPLD, k: int, d: arb) -> bool:
    return bool(delta_ball(pld, pld.loss(k)) <= d)


def _node_gt(pld: GridPLD, k: int, d: arb) -> bool:
    return bool(delta_ball(pld, pld.loss(k)) > d)


def to_fraction(x: arb) -> Fraction:
    """The exact value of an exact (dyadic) arb."""
    man, exp = x.man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def as_float(x: arb) -> float:
    return float(x.mid()) if x.is_finite() else math.inf


__all__ = ["as_float", "first_true", "lower_delta", "lower_epsilon", "reflected_upper_delta",
           "to_fraction", "upper_delta", "upper_epsilon"]
