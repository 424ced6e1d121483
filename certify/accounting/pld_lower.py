"""The optimistic (lower-bound) one-step discretisation: Jensen barycentres on adaptive intervals.

Notation of :mod:`certify.accounting.pld_step`: ``w`` is the distribution of the loss L under P,
``g_a(l) = (1 - a e^{-l})_+`` and ``delta(eps) = E_w[g_a(L)] + w(+inf)`` with ``a = e^eps``. The
pairs are those of :mod:`certify.accounting.pld_step` (``remove``, ``add``, ``replace``).

*Jensen's inequality.* For a set S of losses with P-mass ``P_S > 0`` and Q-mass ``Q_S =
int_S e^{-l} dw(l)``, the map ``u -> (1 - a u)_+`` is convex, so with ``u = e^{-L}`` under ``w``
restricted to S (normalised), ``int_S g_a dw >= P_S g_a(log(P_S / Q_S))`` for every a >= 0.
Collapsing S to one atom of mass P_S at its *barycentre* ``b_S = log(P_S/Q_S)`` and then moving
the atom *down* to a node ``n <= b_S`` (``g_a`` is non-decreasing in l) lowers every ``E[g_a]``;
dropping mass lowers it too. Composition keeps ``<=`` (the replacement argument of
:mod:`certify.accounting.pld_step`), so the composed delta of the resulting grid measure is a lower
bound. ``b_S >= n`` iff ``e^{-n} P_S - Q_S >= 0``: that inequality is what is certified.

*The intervals* (our construction; only their quality, not the bound, depends on it): the output
coordinate y is ordered so that the loss increases with y (y = x for remove and replace, y = -x
for add). We sweep from the end where the support of the loss is bounded (the remove loss is
>= log(1-q), the add loss <= -log(1-q); the replace loss and q = 1 are unbounded both ways and
swept upwards from a far low cut, the mass below it dropped); each interval is grown from the
previous boundary until, in floating point, its barycentre lies just past its target node (Newton
on the balance function ``F(y) = e^{-n} P([y0, y)) - Q([y0, y))``), aiming the barycentre a
margin of 2^-44 (relative) past the node: the atom later moves down by that margin, so the
composed bound shifts by about T times it. The interval's masses are then enclosed in Arb at the
exact float boundaries; where the certified barycentre misses the node the interval is re-aimed
with wider margins (2^-36, 2^-30), and if it still misses it is placed on a lower node whose
inequality is certified, or dropped. For q < 1 on a
bounded side the nodes are ``shift + k h`` with the shift putting the first node just below the
barycentre of the losses within h of the bounded end (compositions add the shifts;
:class:`~certify.accounting.pld_grid.GridPLD`). Intervals are centred on their nodes to O(h^2),
so the composed error is second order in h, like connect-the-dots for the upper bound. Where the
loss density or its weight is small the target node skips ahead (the merging rule of
:mod:`certify.accounting.pld_step`), which spares most intervals of small-q tails; a merged
interval that runs beyond 3 times its skip (where the mass falls steeply its barycentre lags far
behind its end, past the span the rule checked) is re-aimed at half the skip.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from flint import arb

from certify.accounting.pld_grid import GridPLD, measure, to_fixed
from certify.accounting.pld_step import (
    KINDS,
    MAX_LEVEL,
    Coarsening,
    between,
    cdf_pair,
    float_replace_loss,
    float_x,
    merge_scale,
    merge_weights,
)
from certify.errors import InvalidArgument
from certify.numerics.roots import exact_ball as ball

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: how far past its node (relative to e^{-n} P) the float balance aims each barycentre, first
#: and then where the certified check of that interval fails (the float masses' rounding
#: outweighed the margin). Each atom moves down by its margin, about ``aim`` in loss, so a
#: T-fold composition shifts by about T aim: at 2^-30 that was 9e-6 at T = 10^4, 9e-4 of a
#: delta(eps) whose log falls by 100 per unit eps -- the floor the widths stalled at
_AIMS = (2.0**-44, 2.0**-36, 2.0**-30)
#: how many nodes below its target an interval may be placed before it is dropped
_FALLBACK_NODES = 3
#: the widest a merged interval aimed ``skip`` nodes ahead may run, in units of ``skip h``
#: (the merging rule checks a span of 2 skip nodes; :func:`lower_discretisation`)
_OVERRUN = 3
#: relative (to the interval's width) accuracy of a float boundary
_XTOL = 1e-9


@dataclass(frozen=True)
class Pair:
    """One kind's pair in the coordinate y (loss increasing in y): mixtures of N(m, s^2)
    with means ``means`` and weights ``weights(q_side)`` for P and for Q, plus the loss map and
    its inverse (floats)."""

    s: float
    q: float
    kind: str
    means: tuple[int, ...] = field(init=False)
    _wp: tuple[float, ...] = field(init=False)
    _wq: tuple[float, ...] = field(init=False)
    _comp: tuple[tuple[int, float, float], ...] = field(init=False)

    def __post_init__(self) -> None:
        q = self.q
        means: tuple[int, ...]
        wp: tuple[float, ...]
        wq: tuple[float, ...]
        if self.kind == "replace":
            means, wp, wq = (0, 1, -1), (1 - q, q, 0.0), (1 - q, 0.0, q)
        elif self.kind == "add":
            means, wp, wq = (0, -1), (1.0, 0.0), (1 - q, q)
        else:
            means, wp, wq = (0, 1), (1 - q, q), (1.0, 0.0)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "_wp", wp)
        object.__setattr__(self, "_wq", wq)
        # (mean, P weight, Q weight) of the components with a non-zero weight
        object.__setattr__(self, "_comp", tuple((m, a, b) for m, a, b in zip(means, wp, wq,
                                                                              strict=True)
                                                if a or b))

    @property
    def add(self) -> bool:
        return self.kind == "add"

    def weights(self, q_side: bool) -> tuple[float, ...]:
        """Weights of the means in P (``q_side`` False) or Q."""
        return self._wq if q_side else self._wp

    @property
    def bounded_below(self) -> bool:
        """Is the loss bounded at the low end of y (the sweep starts there)?"""
        return self.kind == "remove" and self.q < 1

    @property
    def bounded_above(self) -> bool:
        return self.kind == "add" and self.q < 1

    def loss(self, y: float) -> float:
        if self.kind == "replace":
            return float_replace_loss(y, self.s, self.q)
        u = ((-2 * y if self.add else 2 * y) - 1) / (2 * self.s * self.s)
        if self.q >= 1:
            lam = u
        else:
            a, b = math.log1p(-self.q), math.log(self.q) + u
            m = max(a, b)
            lam = m + math.log(math.exp(a - m) + math.exp(b - m))
        return -lam if self.add else lam

    def y_of(self, loss: float) -> float:
        """The y with loss(y) = loss (+-inf beyond the bounded end)."""
        if self.kind == "replace":
            if abs(loss) > 700:  # float overflow: far outside any grid's reach
                return math.copysign(math.inf, loss)
            return float(float_x("replace", np.array([loss]), self.s, self.q)[0])
        lam = -loss if self.add else loss
        c = math.expm1(lam) + self.q if lam < 700 else math.inf
        if c <= 0:
            return math.inf if self.add else -math.inf
        x = self.s * self.s * (math.log(c) - math.log(self.q)) + 0.5
        return -x if self.add else x

    # -- floating-point masses (only to place boundaries) ----------------------------------------
    def tails(self, y: float) -> tuple[tuple[float, float, float, float], ...]:
        """(Phi(z), Phi(-z), P weight, Q weight) for z = (y - m)/s at every mean with a weight
        (floats; y may be infinite)."""
        s = self.s
        return tuple((0.5 * math.erfc((m - y) / (s * _SQRT2)),
                      0.5 * math.erfc((y - m) / (s * _SQRT2)), wp, wq)
                     for m, wp, wq in self._comp)

    @staticmethod
    def masses(t0: tuple[tuple[float, float, float, float], ...],
               t1: tuple[tuple[float, float, float, float], ...]) -> tuple[float, float]:
        """(P, Q) masses between two points given their ``tails`` (t0 below t1), in floats,
        differencing on the side where both are tails."""
        p = q = 0.0
        for (b0, a0, wp, wq), (b1, a1, _, _) in zip(t0, t1, strict=True):
            d = a0 - a1 if a0 < 0.5 else b1 - b0
            p += wp * d
            q += wq * d
        return p, q

    def balance(self, t0: tuple[tuple[float, float, float, float], ...], y: float, en: float,
                up: bool) -> tuple[float, float]:
        """``F(y) = en P - Q`` over the interval between the point of ``t0`` (its ``tails``) and
        y (upwards or downwards), and ``dF/dy``, in one pass over the components: the masses
        of :meth:`masses` and the densities of :meth:`density` (floats)."""
        s = self.s
        p = q = dp = dq = 0.0
        for (b0, a0, wp, wq), (m, _, _) in zip(t0, self._comp, strict=True):
            z = (y - m) / s
            w = z / _SQRT2
            # the mass between the two ends, differenced on the side where the low end's
            # value is a tail (so only one erfc at y): above it when that is < 1/2
            if up:
                d = a0 - 0.5 * math.erfc(w) if a0 < 0.5 else 0.5 * math.erfc(-w) - b0
            else:
                d = 0.5 * math.erfc(w) - a0 if w > 0 else b0 - 0.5 * math.erfc(-w)
            g = math.exp(-0.5 * z * z)
            p += wp * d
            q += wq * d
            dp += wp * g
            dq += wq * g
        slope = (en * dp - dq) * _INV_SQRT2PI / s
        return en * p - q, slope if up else -slope


def _solve(pair: Pair, y0: float, n: float, up: bool, limit: float, aim: float = _AIMS[0]
           ) -> float | None:
    """The far end y of an interval grown from y0 (upwards or downwards) whose barycentre is just
    past node n: F(y) = (1 - aim) e^{-n} P - Q over the interval is <= 0 while the interval's
    barycentre is below n (up) and > 0 past it; downwards the signs are reversed. Returns a y with
    F(y) > 0 next to the root, or None when none exists before ``limit`` (float heuristic:
    safeguarded Newton on a bracket)."""
    en = math.exp(-n) * (1 - aim)
    sign = 1.0 if up else -1.0
    t0 = pair.tails(y0)

    def fs(y: float) -> tuple[float, float]:
        return pair.balance(t0, y, en, up)

    def f(y: float) -> float:
        return fs(y)[0]

    near = pair.y_of(n)
    if not math.isfinite(near):
        return None
    if not up and not f(near) > 0:
        return near
    mirror = pair.y_of(2 * n - pair.loss(y0)) if math.isfinite(y0) else math.nan
    fast = _newton_from(fs, mirror, near, limit, sign,
                        abs(mirror - y0) if math.isfinite(y0) else pair.s)
    if fast is not None:
        return fast
    step = abs(mirror - near) if math.isfinite(mirror) and mirror != near else pair.s / 8
    neg = pos = near  # up: F(near) <= 0; down: F(near) > 0
    far = near + sign * step * 1.0001
    for _ in range(200):  # expand until the far end is past the root
        if (far > limit) if up else (far < limit):
            far = limit
        inside = (f(far) > 0) == up
        if inside:
            break
        if far == limit:
            return None
        if up:
            neg = far
        else:
            pos = far
        step *= 2
        far = far + sign * step
    if up:
        pos = far
    else:
        neg = far
    y = mirror if (math.isfinite(mirror) and min(pos, neg) < mirror < max(pos, neg)) else pos
    width = abs(pos - y0) if math.isfinite(y0) else abs(pos - neg) + pair.s
    for _ in range(100):
        fy, slope = fs(y)
        if fy > 0:
            pos = y
        else:
            neg = y
        cand = y - fy / slope if slope > 0 else math.nan
        tol = max(_XTOL * width, 4 * math.ulp(y))
        if abs(pos - neg) <= tol or (fy > 0 and abs(cand - y) <= tol):
            break
        y = cand if min(pos, neg) < cand < max(pos, neg) else (pos + neg) / 2
    return pos


def _newton_from(fs: Callable[[float], tuple[float, float]], y: float, near: float,
                 limit: float, sign: float, width: float) -> float | None:
    """Plain Newton from the mirror image of the interval's start about the node (right to
    O(h^2)): F increases with y past the node, so the answer is the converged point nudged up
    until F > 0. None (use the bracketing solver) if it leaves the admissible side or stalls.
    ``fs(y)`` is (F(y), dF/dy)."""
    if not (math.isfinite(y) and sign * (y - near) > 0 and sign * (limit - y) > 0):
        return None
    for _ in range(6):
        fy, slope = fs(y)
        if not slope > 0:
            return None
        tol = max(_XTOL * width, 4 * math.ulp(y))
        step = -fy / slope
        if abs(step) <= tol:
            if fy > 0:
                return y
            y = y + step + tol  # past the root, on the side where F > 0
            return y if fs(y)[0] > 0 else None
        y += step
        if not (sign * (y - near) > 0 and sign * (limit - y) > 0):
            return None
    return None


def _pairs_at(pair: Pair, y: float, s: arb) -> list[tuple[arb, arb]]:
    """(Phi, 1 - Phi) at (y - m)/s for every mean, the smaller computed directly (y may be inf;
    a mean with weight 0 in both P and Q gets a placeholder)."""
    out = []
    for m, wp, wq in zip(pair.means, pair.weights(False), pair.weights(True), strict=True):
        if y == math.inf:
            out.append((arb(1), arb(0)))
        elif y == -math.inf or not (wp or wq):
            out.append((arb(0), arb(1)))
        else:
            out.append(cdf_pair((arb(y) - m) / s))
    return out


def _certified_weights(pair: Pair, qb: arb, q_side: bool) -> tuple[arb | None, ...]:
    """The exact weights of :meth:`Pair.weights` as balls (None for 0)."""
    out: list[arb | None] = []
    for w in pair.weights(q_side):
        if w == 0:
            out.append(None)
        elif w == 1:
            out.append(arb(1))
        elif w == pair.q:
            out.append(qb)
        else:
            out.append(1 - qb)
    return tuple(out)


def _certified_mass(weights: tuple[arb | None, ...], lo: list[tuple[arb, arb]],
                    hi: list[tuple[arb, arb]]) -> arb:
    total = arb(0)
    for weight, a, b in zip(weights, lo, hi, strict=True):
        if weight is not None:
            total += weight * between(a, b)
    return total


@dataclass(frozen=True)
class _Merge:
    """The merging rule of one sweep on the fine grid of
    :func:`~certify.accounting.pld_step.fine_masses` (node coordinates: the remove loss for
    ``remove`` and ``add``, ``mirrored`` for add, whose loss is minus it): c
    (:func:`~certify.accounting.pld_step.merge_scale`), the fine intervals' float masses (as
    prefix sums) and the direction's weights at their middles, raised to the floor."""

    c: float
    h: float
    i_lo: int
    prefix: np.ndarray
    weights: np.ndarray
    mirrored: bool

    def skip(self, loss: float) -> int:
        """How many nodes ahead the next interval's target lies (1 = the next node) for an
        interval starting at ``loss``: the merging rule of :mod:`certify.accounting.pld_step`.
        An interval aimed ``k`` nodes ahead spans about ``W = 2k`` fine widths; ``k`` is the
        largest power of two with ``W^2 mass(W) F <= c``, ``mass(W)`` the fine intervals' mass
        over the span and F the largest weight at its ends and middle (checked on the whole
        span, so that a sparse point never jumps over a dense region; a span past the grid's
        end is not merged)."""
        r = -loss if self.mirrored else loss  # the span runs up in node coordinates
        j = math.floor(r / self.h) - self.i_lo
        n = self.weights.size
        if not 0 <= j < n:
            return 1
        prefix, weights = self.prefix, self.weights
        local = max(float(prefix[j + 1] - prefix[j]), 1e-300) * float(weights[j])
        level = math.floor((math.log2(self.c) - math.log2(local)) / 3)
        k = (1 << min(max(level, 0), MAX_LEVEL)) // 2
        while k > 1:
            width = 2 * k
            end = j + width
            if end <= n:
                mass = float(prefix[end] - prefix[j])
                f = max(float(weights[j]), float(weights[j + k]), float(weights[end - 1]))
                if mass * f * width * width <= self.c:
                    return k
            k >>= 1
        return 1


def _merge_rule(kind: str, s: float, q: float, h: float, tail: float,
                rule: Coarsening | None) -> _Merge | None:
    if rule is None or rule.theta <= 0:
        return None
    nodes_kind = "replace" if kind == "replace" else "remove"
    i_lo, mass, f = merge_weights(nodes_kind, s, q, h, tail, {kind: rule})
    c = merge_scale(mass * f, rule.theta)
    if not c > 0:
        return None
    return _Merge(c, h, i_lo, np.concatenate(([0.0], np.cumsum(mass))), f, kind == "add")


def lower_discretisation(sigma: Fraction, q: Fraction, h: Fraction, direction: bool | str,
                         bits: int, tail: float, coarsening: Coarsening | None = None
                         ) -> GridPLD:
    """The certified optimistic grid PLD of one kind (module docstring), at the ambient
    precision, masses rounded down to units of 2^-bits; ``sigma`` is the noise ratio
    sigma / sensitivity; ``direction``: ``remove``, ``add`` or ``replace`` (True / False: add /
    remove); ``tail``: the float mass left in the unbounded end(s); ``coarsening``: the weight
    of the merging rule (None: an interval per node). For a bounded side (q < 1, remove or add)
    the grid is shifted (``GridPLD.shift``) so that the first node sits just below the
    barycentre of the group at the bounded end: with a fixed grid, a pile of mass narrower than h
    at that end (small q) could only be balanced by the whole distribution."""
    kind = direction if isinstance(direction, str) else ("add" if direction else "remove")
    if kind not in KINDS:
        raise InvalidArgument(f"direction={direction!r} must be one of {', '.join(KINDS)}.")
    s_f, q_f, h_f = float(sigma), float(q), float(h)
    pair = Pair(s_f, q_f, kind)
    up = not pair.bounded_above  # sweep away from the bounded end of the loss
    z = -_normal_quantile(tail)
    if up:
        # the replace loss and q = 1 are unbounded below: start at a far cut (mass dropped)
        start = -math.inf if pair.bounded_below else -s_f * z - (0 if kind == "remove" else 1)
        limit = s_f * z + 1
    else:
        start, limit = math.inf, -(s_f * z + 1)
    merge = _merge_rule(kind, s_f, q_f, h_f, tail, coarsening)
    shift, k = _first_node(pair, start, h_f, up)
    sb, qb, hb, shb = ball(sigma), ball(q), ball(h), ball(shift)
    wp, wq = _certified_weights(pair, qb, False), _certified_weights(pair, qb, True)
    scale: dict[int, arb] = {}

    def at_or_past(node: int, p: arb, qm: arb) -> bool:
        """Is the barycentre of (P, Q) masses (p, qm) certified >= shift + node h?"""
        if node not in scale:
            scale[node] = (-(shb + hb * node)).exp()
        return bool(p * scale[node] - qm >= 0)

    def masses(lo: list[tuple[arb, arb]], hi: list[tuple[arb, arb]]) -> tuple[arb, arb]:
        """Certified (P, Q) masses between two points' CDF pairs (in sweep order)."""
        a, b = (lo, hi) if up else (hi, lo)
        return _certified_mass(wp, a, b), _certified_mass(wq, a, b)

    here = _pairs_at(pair, start, sb)
    nodes: list[int] = []
    found: list[tuple[arb, arb]] = []  # each interval's certified (P, Q) masses
    y = start
    y_loss = pair.loss(y)
    skip = 1
    while True:
        target = float(shift) + k * h_f
        nxt = _solve(pair, y, target, up, limit)
        # a merged interval that does not fit, or that reaches beyond the span the merging rule
        # checked (where the mass falls steeply the barycentre lags far behind the interval's
        # end: an interval aimed 2^13 nodes ahead ran over 4.5 10^4 nodes, across the losses
        # that mattered most): aim half as far
        while skip > 1 and (nxt is None or nxt == y
                            or abs(pair.loss(nxt) - y_loss) > _OVERRUN * skip * h_f):
            k -= skip // 2 if up else -(skip // 2)
            skip //= 2
            target = float(shift) + k * h_f
            nxt = _solve(pair, y, target, up, limit)
        if nxt is None or nxt == y:
            break
        there = _pairs_at(pair, nxt, sb)
        p, qm = masses(here, there)
        for aim in _AIMS[1:]:  # re-aim with a wider margin where the certificate failed
            if at_or_past(k, p, qm):
                break
            wider = _solve(pair, y, target, up, limit, aim)
            if wider is None or wider == y:
                break
            alt = _pairs_at(pair, wider, sb)
            p_alt, q_alt = masses(here, alt)
            if at_or_past(k, p_alt, q_alt):
                nxt, there, p, qm = wider, alt, p_alt, q_alt
        nodes.append(k)
        found.append((p, qm))
        y, y_loss, here = nxt, pair.loss(nxt), there
        # the next target node strictly past the new start (a sliver margin avoids empty
        # groups), further ahead where the loss density is small
        edge = (y_loss - float(shift)) / h_f
        skip = merge.skip(y_loss) if merge is not None and math.isfinite(y) else 1
        k = math.floor(edge + 1e-3) + skip if up else math.ceil(edge - 1e-3) - skip
    end = math.inf if up else -math.inf
    found.append(masses(here, _pairs_at(pair, end, sb)))
    if up:
        nodes.append(math.floor((y_loss - float(shift)) / h_f) if math.isfinite(y) else k)
    else:
        nodes.append(k)
    # each interval's mass on its node, or a lower one whose inequality is certified
    groups: dict[int, arb] = {}
    for node, (p, qm) in zip(nodes, found, strict=True):
        for kk in range(node, node - _FALLBACK_NODES - 1, -1):
            if at_or_past(kk, p, qm):  # barycentre >= shift + kk h, certified
                groups[kk] = groups.get(kk, arb(0)) + p
                break
    if not groups:
        return measure(0, [], 0, bits, False, h, shift)
    first, last = min(groups), max(groups)
    coeffs = [0] * (last - first + 1)
    for kk, m in groups.items():
        coeffs[kk - first] = to_fixed(m, bits, False)
    return measure(first, coeffs, 0, bits, False, h, shift)


def _first_node(pair: Pair, start: float, h: float, up: bool) -> tuple[Fraction, int]:
    """(shift, index) of the first group's node. q = 1: no shift, the first node past the
    start. q < 1: just below the float barycentre of the losses within h of the bounded end."""
    if not (pair.bounded_below or pair.bounded_above):
        edge = pair.loss(start) / h
        return Fraction(0), math.floor(edge + 1e-3) + 1
    end = math.log1p(-pair.q) if up else -math.log1p(-pair.q)
    far = pair.y_of(end + h if up else end - h)
    t0, t1 = pair.tails(start), pair.tails(far)
    p, q = pair.masses(t0, t1) if up else pair.masses(t1, t0)
    if not (p > 0 and q > 0):
        return Fraction(0), math.floor(end / h) + (1 if up else 0)
    node = math.log(p / q) - 1e-9 * h
    k = math.floor(node / h)
    return Fraction(node) - k * Fraction(h), k


def _normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(min(max(p, 1e-300), 0.25))


__all__ = ["Pair", "lower_discretisation"]
