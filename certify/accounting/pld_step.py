"""The pessimistic (upper-bound) one-step discretisation: connect-the-dots, certified.

Pairs (noise in units of the sensitivity, ``s = sigma / C``; :mod:`certify.mechanisms.subsampled`):

* ``remove``: ``P = (1-q) N(0, s^2) + q N(1, s^2)`` against ``Q = N(0, s^2)``; ``add``: the
  reverse pair. With ``u(x) = (2x - 1) / (2 s^2)`` the remove loss
  ``lambda(x) = log(1 - q + q e^{u(x)})`` is increasing in x and the add loss is ``-lambda(x)``,
  so a loss interval is an x-interval, and its P- and Q-masses are differences of normal CDFs at
  ``x(lambda) = s^2 log((e^lambda - 1 + q)/q) + 1/2`` (``x = -infinity`` when
  ``e^lambda <= 1 - q``);
* ``replace``: ``P = (1-q) N(0, s^2) + q N(1, s^2)`` against ``P' = (1-q) N(0, s^2) + q N(-1, s^2)``
  (replace-one; the pair and its literature in :mod:`certify.mechanisms.subsampled`). With
  ``k = e^{-1/(2 s^2)}`` the loss ``log(1 - q + q k e^{x/s^2}) - log(1 - q + q k e^{-x/s^2})`` is
  increasing and odd in x; ``L(x) = lambda`` is the quadratic ``q k v^2 - (1-q)(e^lambda - 1) v
  - e^lambda q k = 0`` in ``v = e^{x/s^2}``, so for lambda >= 0
  ``x(lambda) = s^2 log((b + sqrt(b^2 + 4 q^2 k^2 e^lambda)) / (2 q k))`` with
  ``b = (1-q)(e^lambda - 1) >= 0`` (no cancellation), and ``x(-lambda) = -x(lambda)``. The masses
  use the CDFs at x/s and (x -+ 1)/s; by the symmetry ``P(L <= -lambda) = P'(L >= lambda)`` the
  nodes at -lambda reuse those at +lambda.

CDFs are enclosed in Arb (:func:`certify.numerics.special.normal_cdf`; each tail is computed
directly, never as 1 - tiny).

*Why a dominating measure bounds the composition.* Write ``w`` for the distribution of the loss L
under P (losses in (-inf, +inf]), ``g_a(l) = (1 - a e^{-l})_+`` (``g_a(+inf) = 1``), so that
``delta(eps) = E_w[g_a(L)]`` at ``a = e^eps``; the T-fold product pair has the loss
``L_1 + ... + L_T`` of independent copies (Dwork-Rothblum 2016; Koskela-Jalko-Honkela 2020).
Say a non-negative measure ``w'`` *dominates* ``w`` when ``E_{w'}[g_a] >= E_w[g_a]`` for every
a >= 0 (a = 0 compares the total masses). Since ``g_a(l + t) = g_{a e^{-t}}(l)``, the functional
``E_{u * v}[g_a] = int E_u[g_{a e^{-t}}] dv(t)`` is monotone in each factor for this order, so
convolutions of dominating measures dominate the convolution (our derivation; it is the
composition theorem for dominating pairs of Zhu, Dong, Wang 2022, "Optimal accounting of
differential privacy via characteristic function", in PLD form). Rounding a mass up, or moving
mass to a larger loss or to +infinity, produces a dominating measure (``g_a`` is non-decreasing in
l), which covers the fixed-point rounding and truncation of :mod:`certify.accounting.pld_grid`.

*Connect-the-dots* (Doroshenko, Ghazi, Kamath, Kumar, Manurangsi 2022, "Connect the Dots: Tighter
Discrete Approximations of Privacy Loss Distributions", PETS 2022, Sec. 3, the pessimistic
estimate of Algorithm 1). On breakpoints ``e_a < e_b`` (two grid nodes, adjacent or not), the
part of ``w`` on ``I = [e_a, e_b)`` (P-mass P_I, Q-mass Q_I) is replaced by the masses

    (e^{e_b} Q_I - P_I) / (e^{e_b - e_a} - 1)  at e_a,
    (P_I - e^{e_a} Q_I) / (1 - e^{e_a - e_b})  at e_b.

Derivation (the form we certify): as a function of a, ``g_a(l) = e^{-l} (e^l - a)_+`` is a convex
hinge; its chord between the nodes ``a = e^{e_a}`` and ``a = e^{e_b}`` lies above it and
equals ``mu e^{e_b - l} g_a(e_b) + (1 - mu) e^{e_a - l} g_a(e_a)`` for every a >= 0, with
``mu = (e^l - e^{e_a}) / (e^{e_b} - e^{e_a})``; integrating over I (where ``e^{-l} dw(l)`` is the
Q-distribution of the loss) gives the two masses, so the result dominates ``w`` *whatever the
breakpoints are*. Mass below the lowest node is moved up onto it; the tail above the top node
``e_n`` is split into ``e^{e_n} Q(L > e_n)`` at e_n and ``P(L > e_n) - e^{e_n} Q(L > e_n)`` at
+infinity (the chord towards ``a = infinity``). Each mass is rounded up
(:func:`certify.accounting.pld_grid.to_fixed`).

*Merged intervals* (our construction; only the quality of the bound depends on it). The chord
replaces the hinge exactly unless ``a`` falls inside ``(e^{e_a}, e^{e_b})``, where the gap is at
most ``P_I (1 - e^{e_a - e_b}) / 4``; after a T-fold composition, averaged over the other steps'
losses S, an interval I of loss width H therefore costs about ``P_I H^2 f(eps - l_I)``, f the
density of S (the hinge of the composition sits at ``eps - S``). With fine intervals (width h,
mass m_i, weight ``w_i = m_i F_i``, ``F_i`` an estimate of f at eps - l_i) the fine grid's error
is about ``h^2 sum_i w_i``; merging W_i fine intervals adds about ``h^2 W_i^3 w_i`` each, and the
choice ``W_i^3 w_i = c`` with ``c = (theta sum_i w_i / sum_i w_i^{1/3})^{3/2}`` adds ``theta``
times the fine grid's error in all (equidistribution). Where the loss density or its weight is
small -- the far tails of a small-q step, and one-step losses that the rest of the composition
cannot bring near eps -- almost every CDF evaluation is saved. F comes from the previous
refinement level's composed measure (:class:`Coarsening`); without it every node is kept. The
breakpoints keep node ``i`` when ``2^l`` divides ``i``, ``l = floor(log2 W)`` at both of its
intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from statistics import NormalDist

import numpy as np
from flint import arb, ctx
from scipy.ndimage import maximum_filter1d
from scipy.signal import fftconvolve
from scipy.special import ndtr

from certify.accounting.pld_grid import GridPLD, measure, to_fixed
from certify.errors import Inconclusive
from certify.numerics.roots import exact_ball as ball
from certify.numerics.special import normal_cdf

#: the two directions of add/remove neighbours
DIRECTIONS = ("remove", "add")
#: every one-step pair the engine composes (``replace``: replace-one neighbours)
KINDS = ("remove", "add", "replace")
#: theta of the merging rule (module docstring): the error merged intervals may add, relative to
#: the fine grid's; 0 keeps every node
COARSEN = 0.25
#: the widest merged interval, in nodes (2^MAX_LEVEL)
MAX_LEVEL = 24
#: weights below this fraction of the largest are raised to it (F is only an estimate)
WEIGHT_FLOOR = 1e-9

#: (below, above): a loss threshold's cumulative mass and its complement, as balls
_Pair = tuple[arb, arb]
#: an upper bound on sup phi = 1/sqrt(2 pi) = 0.3989...
_PHI_MAX = arb(0.4)
_ZERO = arb(0)
#: below this argument Arb's erfc at prec + _GUARD bits is used directly (cdf_pair)
_DIRECT_MAX = 64
_GUARD = 24


@dataclass(frozen=True)
class _Node:
    """A node ``i h`` of one direction and the cumulative masses there."""

    i: int
    p: _Pair  # (P(L <= i h), P(L > i h))
    q: _Pair  # (Q(L <= i h), Q(L > i h))


# -- floating point: only chooses grids --------------------------------------------------------
def loss_range(s: float, q: float, tail: float, kind: str = "remove") -> tuple[float, float]:
    """Float range ``[lambda_lo, lambda_hi]`` of losses outside which P and Q have mass below about
    ``tail`` (only chooses the grid: tails are accounted). For ``remove`` and ``add`` it is the
    remove loss's range (the add grid is its mirror image); ``replace`` is symmetric."""
    z = -NormalDist().inv_cdf(min(max(tail, 1e-300), 0.25))
    if kind == "replace":
        hi = float_replace_loss(1 + s * z, s, q)
        return -hi, hi
    hi = _float_loss(1 + s * z, s, q)
    lo = math.log1p(-q) if q < 1 else _float_loss(-s * z, s, q)
    return lo, hi


def float_losses(kind: str, x: np.ndarray, s: float, q: float) -> np.ndarray:
    """The loss at x of the remove pair (the add loss at x is minus this at -x) or of the
    replace pair, vectorised floats: the inverse of :func:`float_x`."""
    x = np.asarray(x, dtype=np.float64)
    s2 = s * s
    if kind == "replace":
        if q >= 1:
            return 2 * x / s2
        a, c = math.log1p(-q), math.log(q) - 1 / (2 * s2)
        return np.logaddexp(a, c + x / s2) - np.logaddexp(a, c - x / s2)
    u = (2 * x - 1) / (2 * s2)
    return u if q >= 1 else np.logaddexp(math.log1p(-q), math.log(q) + u)


def _float_loss(x: float, s: float, q: float) -> float:
    return float(float_losses("remove", np.asarray(x), s, q))


def float_replace_loss(x: float, s: float, q: float) -> float:
    return float(float_losses("replace", np.asarray(x), s, q))


def float_x(kind: str, lam: np.ndarray, s: float, q: float) -> np.ndarray:
    """x(lambda) of the remove (also used by add) or replace pair, vectorised floats."""
    if kind == "replace":
        mag = np.abs(lam)
        if q >= 1:
            return s * s * lam / 2
        # log v = mag/2 + log(t + sqrt(t^2 + 4 q^2 k^2)) - log(2 q k), t = b e^{-mag/2}
        # = 2 (1-q) sinh(mag/2); for huge t, log(t + sqrt(...)) = log(2 t) to float accuracy
        log2qk = math.log(2 * q) - 1 / (2 * s * s)
        half = np.minimum(mag / 2, 700.0)
        t = 2 * (1 - q) * np.sinh(half)
        c = 4 * q * q * math.exp(-1 / (s * s))
        with np.errstate(over="ignore"):
            near = np.log(t + np.sqrt(t * t + c))
        far = math.log(4 * (1 - q)) + half  # log(2 t) for t = (1-q) e^{mag/2} (1 - e^{-mag})
        log_v = mag / 2 + np.where(t < 1e150, near, far) - log2qk
        return np.sign(lam) * s * s * log_v
    c = np.expm1(lam) + q
    with np.errstate(divide="ignore", invalid="ignore"):
        x = s * s * (np.log(np.where(c > 0, c, 1.0)) - math.log(q)) + 0.5
    return np.where(c > 0, x, -np.inf)


def float_cumulative(kind: str, x: np.ndarray, s: float, q: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(P below, P above, Q below, Q above) at x for the remove/add or replace pair (floats)."""
    b0, a0 = ndtr(x / s), ndtr(-x / s)
    b1, a1 = ndtr((x - 1) / s), ndtr((1 - x) / s)
    pb, pa = (1 - q) * b0 + q * b1, (1 - q) * a0 + q * a1
    if kind == "replace":
        bm, am = ndtr((x + 1) / s), ndtr(-(x + 1) / s)
        return pb, pa, (1 - q) * b0 + q * bm, (1 - q) * a0 + q * am
    return pb, pa, b0, a0


def interval_masses(below: np.ndarray, above: np.ndarray) -> np.ndarray:
    """Masses of consecutive intervals from cumulative values, differencing the smaller side."""
    low_side = below[1:] <= 0.5
    return np.where(low_side, below[1:] - below[:-1], above[:-1] - above[1:])


def node_range(kind: str, s: float, q: float, h: float, tail: float) -> tuple[int, int]:
    """The node indices ``[i_lo, i_hi]`` of one step's grid: :func:`loss_range` in units of h
    (symmetric for ``replace``, the remove loss's range for ``remove`` and ``add``)."""
    lo, hi = loss_range(s, q, tail, "replace" if kind == "replace" else "remove")
    i_lo, i_hi = math.floor(lo / h), math.ceil(hi / h)
    if kind == "replace":
        i_hi = max(i_hi, -i_lo, 1)
        return -i_hi, i_hi
    return i_lo, max(i_hi, i_lo + 1)


@lru_cache(maxsize=32)
def fine_masses(kind: str, s: float, q: float, h: float, tail: float) -> tuple[int, np.ndarray]:
    """(i_lo, m): float masses ``m[j] = max(P, Q)`` of the loss interval between the nodes
    ``i_lo + j`` and ``i_lo + j + 1`` of :func:`node_range` (remove coordinates for ``remove``
    and ``add``, whose masses are the same pair of numbers). Floats: they only choose grids."""
    kind = "replace" if kind == "replace" else "remove"
    i_lo, i_hi = node_range(kind, s, q, h, tail)
    lam = np.arange(i_lo, i_hi + 1) * h
    x = float_x(kind, lam, s, q)
    pb, pa, qb, qa = float_cumulative(kind, x, s, q)
    mass = np.maximum(interval_masses(pb, pa), interval_masses(qb, qa))
    mass = np.where(np.isfinite(mass) & (mass > 0), mass, 0.0)
    mass.setflags(write=False)
    return i_lo, mass


@dataclass(frozen=True)
class Coarsening:
    """The weight of the merging rule for one direction (module docstring): ``density(x)`` is the
    estimated density of the rest of the composed loss at ``x`` (vectorised floats), evaluated at
    ``x = eps - l`` for one-step losses l of that direction; ``theta`` the error merged intervals
    may add relative to the fine grid's."""

    density: Callable[[np.ndarray], np.ndarray]
    eps: float
    theta: float = COARSEN

    def weight(self, loss: np.ndarray) -> np.ndarray:
        return self.density(self.eps - loss)


def rest_density(pld: GridPLD, window: int = 2) -> NodeDensity:
    """A float density (mass per unit loss) of a composed grid measure, for :class:`Coarsening`:
    each node's mass over h, maximised over ``window`` neighbours on each side (the measure is
    a coarse estimate of the density, and a smoothed maximum never under-resolves a peak).
    A partial last product (:func:`~certify.accounting.pld_grid.multiply` with ``low``, which
    leaves the losses below its first node unresolved) is read as the float convolution of its
    two factors instead (floats: only the merging depends on it)."""
    h = float(pld.h)
    if pld.factors is not None:
        (ou, fu), (ov, fv) = pld.factors
        coeffs = np.maximum(fftconvolve(fu, fv), 0.0) if fu.size and fv.size else np.zeros(0)
        first = float(pld.shift) + (ou + ov) * h
    else:
        coeffs = pld.float_masses()
        first = float(pld.shift) + pld.offset * h
    return smoothed_density(coeffs, first, h, window)


def smoothed_density(masses: np.ndarray, first: float, h: float, window: int = 2
                     ) -> NodeDensity:
    """The density of float ``masses`` on the nodes ``first + j h``: each mass over h,
    maximised over ``window`` neighbours on each side, read at the nearest node (0 off the
    grid)."""
    if masses.size == 0:
        return NodeDensity(np.zeros(0), first, h)
    return NodeDensity(maximum_filter1d(masses, 2 * window + 1, mode="constant") / h, first, h)


class NodeDensity:
    """A density given on the nodes ``first + j h`` (``values[j]``), read (vectorised, by
    calling it) at the nearest node, 0 off the grid."""

    def __init__(self, values: np.ndarray, first: float, h: float) -> None:
        self.values, self.first, self.h = values, first, h

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.values.size == 0:
            return np.zeros_like(np.asarray(x, dtype=float))
        j = np.rint((np.asarray(x, dtype=float) - self.first) / self.h)
        inside = (j >= 0) & (j < self.values.size)
        return np.where(inside, self.values[np.clip(j, 0, self.values.size - 1)
                                            .astype(np.int64)], 0.0)


def merge_scale(weights: np.ndarray, theta: float) -> float:
    """c of the merging rule from the fine intervals' weights (0 when nothing may merge)."""
    w = weights[np.isfinite(weights) & (weights > 0)]
    if w.size == 0 or theta <= 0:
        return 0.0
    return float((theta * w.sum() / np.cbrt(w).sum()) ** 1.5)


def weighted_masses(kind: str, s: float, q: float, h: float, tail: float,
                    coarsening: Mapping[str, Coarsening]) -> tuple[int, np.ndarray]:
    """(i_lo, w): the fine intervals' weights ``m_i F_i`` (:func:`merge_weights`)."""
    i_lo, mass, f = merge_weights(kind, s, q, h, tail, coarsening)
    return i_lo, mass * f


def merge_weights(kind: str, s: float, q: float, h: float, tail: float,
                  coarsening: Mapping[str, Coarsening]
                  ) -> tuple[int, np.ndarray, np.ndarray]:
    """(i_lo, m, F): the fine intervals' masses (:func:`fine_masses`) and the merging rule's
    weights at their middles, raised to :data:`WEIGHT_FLOOR` of the largest, in the node
    coordinates of ``kind`` (remove coordinates for the shared remove/add nodes: the add loss
    is minus the remove loss).
    Where both directions have a rule, each one's weights are first divided by their total
    ``sum_i m_i F_i`` (its fine grid's error, up to the common h^2) and the larger counts: the
    rule then adds at most about theta of *each* direction's own error -- the two densities
    have unrelated scales, and the raw maximum let the larger one set c alone, merging the
    other direction's nodes far beyond its share."""
    i_lo, mass = fine_masses(kind, s, q, h, tail)
    mid = (i_lo + 0.5 + np.arange(mass.size)) * h
    if kind == "replace":
        f = coarsening["replace"].weight(mid)
    else:
        parts = [c.weight(mid if d == "remove" else -mid)
                 for d, c in coarsening.items() if d in DIRECTIONS]
        if len(parts) > 1:  # (one rule alone keeps its scale: pld_lower compares against it)
            totals = [float(np.sum(mass * part)) for part in parts]
            parts = [part / total if total > 0 else part
                     for part, total in zip(parts, totals, strict=True)]
        f = np.maximum.reduce(parts) if parts else np.ones_like(mid)
    top = float(f.max()) if f.size else 0.0
    f = np.maximum(f, WEIGHT_FLOOR * top) if top > 0 else np.ones_like(mid)
    return i_lo, mass, f


def breakpoints(kind: str, s: float, q: float, h: float, tail: float,
                coarsening: Mapping[str, Coarsening] | None = None) -> list[int]:
    """The node indices of :func:`node_range` kept by the merging rule (module docstring),
    always including both ends; every index without ``coarsening`` (or with theta 0). Floats
    only: any choice of breakpoints is sound."""
    i_lo, i_hi = node_range(kind, s, q, h, tail)
    theta = min((c.theta for c in (coarsening or {}).values()), default=0.0)
    if not coarsening or theta <= 0 or i_hi - i_lo < 4:
        return list(range(i_lo, i_hi + 1))
    _, w = weighted_masses(kind, s, q, h, tail, coarsening)
    c = merge_scale(w, theta)
    if not c > 0:
        return list(range(i_lo, i_hi + 1))
    idx = np.arange(i_lo, i_hi + 1)
    with np.errstate(divide="ignore"):
        width = (math.log2(c) - np.log2(np.maximum(w, 1e-300))) / 3
    level = np.clip(np.floor(width), 0, MAX_LEVEL).astype(np.int64)
    node_level = np.minimum(np.r_[level[:1], level], np.r_[level, level[-1:]])
    keep = np.mod(idx, np.left_shift(1, node_level)) == 0
    keep[0] = keep[-1] = True
    return [int(i) for i in idx[keep]]


# -- certified masses ---------------------------------------------------------------------------
def _x_of_loss(lam: arb, s: arb, q: arb) -> arb | None:
    """x with ``lambda(x) = lam`` (remove loss), or None for x = -infinity (``e^lam <= 1 - q``)."""
    c = lam.expm1() + q
    if c <= 0:
        return None
    if not c > 0:
        raise Inconclusive(f"could not decide the sign of e^lambda - (1 - q) at lambda={lam}")
    return s * s * (c.log() - q.log()) + arb(0.5)


def x_of_replace_loss(lam: arb, s: arb, q: arb) -> arb:
    """x >= 0 with ``L_replace(x) = lam`` for an exact ``lam >= 0`` (module docstring)."""
    if q == 1:
        return s * s * lam / 2
    k = (-1 / (2 * s * s)).exp()
    e = lam.exp()
    b = (1 - q) * lam.expm1()
    root = (b * b + 4 * q * q * k * k * e).sqrt()
    return s * s * ((b + root).log() - (2 * q * k).log())


def _component(x: arb | None, mean: int, s: arb) -> _Pair:
    """(Phi((x - mean)/s), 1 - Phi((x - mean)/s)); x = None is -infinity."""
    if x is None:
        return arb(0), arb(1)
    return cdf_pair((x - mean) / s)


def _tail_at(t: arb) -> arb:
    """Phi(-t) for an exact t >= 0: Arb's erfc(t / sqrt 2) / 2 with guard bits when that is
    accurate (moderate t), else :func:`certify.numerics.special.normal_cdf` (both rigorous)."""
    if t < _DIRECT_MAX:
        prec = ctx.prec
        ctx.prec = prec + _GUARD  # restored below (cheaper than a workprec context per call)
        try:
            value = (t / _sqrt2(prec + _GUARD)).erfc() / 2
        finally:
            ctx.prec = prec
        if value.is_finite() and value.rel_accuracy_bits() >= prec - 3:
            return value
    return normal_cdf(-t)


@lru_cache(maxsize=16)
def _sqrt2(prec: int) -> arb:
    """sqrt(2) as Arb computes it at ``prec`` bits (the ambient precision of the caller)."""
    return arb(2).sqrt()


def cdf_pair(z: arb) -> _Pair:
    """(Phi(z), 1 - Phi(z)) for a ball z, the smaller one computed directly.

    Evaluated at the (exact) midpoint m only, widened by ``r sup|phi|`` over the ball (mean value
    theorem; ``phi(t) <= 0.4 e^{-t^2/2}`` as 1/sqrt(2 pi) < 0.4, and phi decreases in |t|, so the
    sup is at ``|m| - r``): one evaluation instead of one per endpoint, and the widening stays
    relative to the tail's size however deep the tail (an exact z is not widened).
    """
    m, r = z.mid(), z.rad()
    a = abs(m)
    if r == 0:
        err = _ZERO
    else:
        t = a - r
        slope = (-(t * t) / 2).exp() * _PHI_MAX if t > 0 else _PHI_MAX
        err = arb(0, (r * slope).upper())
    tail = _tail_at(a) + err
    if m > 0:
        return 1 - tail, tail
    return tail, 1 - tail


def _remove_add_nodes(s: Fraction, q: Fraction, h: Fraction, indices: list[int]
                      ) -> dict[str, list[_Node]]:
    """Cumulative masses at the remove losses ``i h`` (i in ``indices``, increasing) for both
    directions, each in increasing order of its own loss (the add loss is minus the remove
    loss)."""
    sb, qb, hb = ball(s), ball(q), ball(h)
    remove, add = [], []
    for i in indices:
        x = _x_of_loss(hb * i, sb, qb)
        b0, a0 = _component(x, 0, sb)
        if q == 1:
            mb, ma = _component(x, 1, sb)
        else:
            b1, a1 = _component(x, 1, sb)
            mb, ma = (1 - qb) * b0 + qb * b1, (1 - qb) * a0 + qb * a1
        remove.append(_Node(i, (mb, ma), (b0, a0)))
        # add: L_A <= -i h iff lambda(X) >= i h iff X >= x; P_add = N(0), Q_add = the mixture
        add.append(_Node(-i, (a0, b0), (ma, mb)))
    add.reverse()
    return {"remove": remove, "add": add}


def _replace_nodes(s: Fraction, q: Fraction, h: Fraction, indices: list[int]) -> list[_Node]:
    """Cumulative masses of the replace pair at the losses ``i h`` (i in ``indices``, a set
    symmetric about 0, increasing); each |i| is evaluated once (module docstring's symmetry)."""
    sb, qb, hb = ball(s), ball(q), ball(h)
    half: dict[int, tuple[_Pair, _Pair]] = {}
    for i in sorted({abs(i) for i in indices}):
        x = x_of_replace_loss(hb * i, sb, qb)
        cm, cp = cdf_pair((x - 1) / sb), cdf_pair((x + 1) / sb)
        if q == 1:
            pb, pa, qb_, qa = cm[0], cm[1], cp[0], cp[1]
        else:
            c0 = cdf_pair(x / sb)
            w = 1 - qb
            pb, pa = w * c0[0] + qb * cm[0], w * c0[1] + qb * cm[1]
            qb_, qa = w * c0[0] + qb * cp[0], w * c0[1] + qb * cp[1]
        half[i] = ((pb, pa), (qb_, qa))
    nodes = []
    for i in indices:
        p, qq = half[abs(i)]
        if i >= 0:
            nodes.append(_Node(i, p, qq))
        else:  # P(L <= -l) = P'(L >= l) and P'(L <= -l) = P(L >= l) (x -> -x swaps P and P')
            nodes.append(_Node(i, (qq[1], qq[0]), (p[1], p[0])))
    return nodes


def between(lo: _Pair, hi: _Pair) -> arb:
    """Mass of (l_lo, l_hi] from two cumulative pairs, in the form without 1 - tiny."""
    if hi[0].mid() <= 0.5:
        return hi[0] - lo[0]
    return lo[1] - hi[1]


def _connect_the_dots(nodes: list[_Node], h: Fraction, bits: int) -> GridPLD:
    """The connect-the-dots masses (module docstring) on the breakpoints ``nodes``, rounded up
    to units of 2^-bits; grid nodes between breakpoints get mass 0."""
    hb = ball(h)
    first = nodes[0].i
    masses: dict[int, arb] = {first: nodes[0].p[0]}  # everything below, moved up onto it
    factors: dict[int, tuple[arb, arb]] = {}
    ea = (hb * first).exp()
    for t in range(len(nodes) - 1):
        a, b = nodes[t], nodes[t + 1]
        gap = b.i - a.i
        if gap not in factors:
            r = (hb * gap).exp()
            factors[gap] = (1 / (r - 1), 1 / (1 - 1 / r))
        low, high = factors[gap]
        pc, qc = between(a.p, b.p), between(a.q, b.q)
        eb = (hb * b.i).exp()
        masses[a.i] = masses.get(a.i, arb(0)) + (eb * qc - pc) * low
        masses[b.i] = (pc - ea * qc) * high
        ea = eb
    top = nodes[-1]
    masses[top.i] += ea * top.q[1]
    infinity = top.p[1] - ea * top.q[1]
    coeffs = [0] * (top.i - first + 1)
    for i, m in masses.items():
        coeffs[i - first] = to_fixed(m, bits, True)
    return measure(first, coeffs, to_fixed(infinity, bits, True), bits, True, h)


class UpperSteps:
    """The certified connect-the-dots grid PLDs of one step, per kind on demand (``remove`` and
    ``add`` share the nodes' CDFs; ``replace`` has its own).

    ``sigma``: the noise ratio s = sigma / sensitivity; ``h``: node spacing (exact); ``bits``: the
    unit 2^-bits; ``tail``: the float mass left beyond the nodes in each tail (it is still
    accounted, at a node or at +infinity); ``prec``: Arb bits; ``coarsening``: per direction, the
    weight of the merging rule (module docstring; None keeps every node).
    """

    def __init__(self, sigma: Fraction, q: Fraction, h: Fraction, bits: int, tail: float,
                 prec: int, coarsening: Mapping[str, Coarsening] | None = None) -> None:
        self.sigma, self.q, self.tail = sigma, q, tail
        self.coarsening = dict(coarsening or {})
        self.h, self.bits, self.prec = h, bits, prec
        self._nodes: dict[str, list[_Node]] = {}
        self._done: dict[str, GridPLD] = {}

    def _compute_nodes(self, kind: str) -> None:
        s, q, h = float(self.sigma), float(self.q), float(self.h)
        if kind == "replace":
            rule = {k: v for k, v in self.coarsening.items() if k == "replace"}
            indices = breakpoints(kind, s, q, h, self.tail, rule)
            self._nodes["replace"] = _replace_nodes(self.sigma, self.q, self.h, indices)
            return
        rule = {k: v for k, v in self.coarsening.items() if k in DIRECTIONS}
        indices = breakpoints("remove", s, q, h, self.tail, rule)
        self._nodes.update(_remove_add_nodes(self.sigma, self.q, self.h, indices))

    def __getitem__(self, kind: str) -> GridPLD:
        if kind not in self._done:
            with ctx.workprec(self.prec):
                if kind not in self._nodes:
                    self._compute_nodes(kind)
                self._done[kind] = _connect_the_dots(self._nodes[kind], self.h, self.bits)
        return self._done[kind]


def upper_discretisations(sigma: Fraction, q: Fraction, h: Fraction, bits: int, tail: float,
                          prec: int, coarsening: Mapping[str, Coarsening] | None = None
                          ) -> UpperSteps:
    """The one-step connect-the-dots grid PLDs of every kind (see :class:`UpperSteps`)."""
    return UpperSteps(sigma, q, h, bits, tail, prec, coarsening)


__all__ = ["COARSEN", "DIRECTIONS", "KINDS", "MAX_LEVEL", "WEIGHT_FLOOR", "Coarsening",
           "NodeDensity", "UpperSteps", "between", "breakpoints", "cdf_pair", "fine_masses",
           "float_cumulative", "float_losses", "float_replace_loss", "float_x", "interval_masses",
           "loss_range", "merge_scale", "merge_weights", "node_range", "rest_density",
           "smoothed_density", "upper_discretisations", "weighted_masses", "x_of_replace_loss"]
