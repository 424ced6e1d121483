"""The optimistic (lower-bound) one-step discretisation: Jensen barycentres on adaptive intervals.

Notation of :mod:`certify.accounting.pld_step`: ``w`` is the distribution of the loss L under P,
``g_a(l) = (1 - a e^{-l})_+`` and ``delta(eps) = E_w[g_a(L)] + w(+inf)`` with ``a = e^eps``.

*Jensen's inequality.* For a set S of losses with P-mass ``P_S > 0`` and Q-mass ``Q_S =
int_S e^{-l} dw(l)``, the map ``u -> (1 - a u)_+`` is convex, so with ``u = e^{-L}`` under ``w``
restricted to S (normalised), ``int_S g_a dw >= P_S g_a(log(P_S / Q_S))`` for every a >= 0.
Collapsing S to one atom of mass P_S at its *barycentre* ``b_S = log(P_S/Q_S)`` and then moving
the atom *down* to a node ``n <= b_S`` (``g_a`` is non-decreasing in l) lowers every ``E[g_a]``;
dropping mass lowers it too. Composition keeps ``<=`` (the replacement argument of
:mod:`certify.accounting.pld_step`), so the composed delta of the resulting grid measure is a lower
bound. ``b_S >= n`` iff ``e^{-n} P_S - Q_S >= 0``: that inequality is what is certified.

*The intervals* (our construction; only their quality, not the bound, depends on it): the output
coordinate y is ordered so that the loss increases with y (y = x for remove, y = -x for add). We
sweep from the end where the support of the loss is bounded (the remove loss is >= log(1-q), the
add loss <= -log(1-q)); each interval is grown from the previous boundary until, in floating
point, its barycentre lies just past the next node (Newton on the balance function
``F(y) = e^{-n} P([y0, y)) - Q([y0, y))``). The interval's masses are then enclosed in Arb at the
exact float boundaries; an interval whose certified barycentre misses its node is placed on a
lower node whose inequality is certified, or dropped. For q < 1 the nodes are ``shift + k h``
with the shift putting the first node just below the barycentre of the losses within h of the
bounded end (compositions add the shifts; :class:`~certify.accounting.pld_grid.GridPLD`).
Intervals are centred on their nodes to O(h^2), so the composed error is second order in h, like
connect-the-dots for the upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, fmpz, fmpz_poly

from certify.accounting.pld_grid import GridPLD, to_fixed
from certify.accounting.pld_step import between, cdf_pair
from certify.numerics.roots import exact_ball as ball

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: how far past its node (relative to e^{-n} P) the float balance aims each barycentre
_AIM = 2.0**-30
#: how many nodes below its target an interval may be placed before it is dropped
_FALLBACK_NODES = 3
#: relative (to the interval's width) accuracy of a float boundary
_XTOL = 1e-9


@dataclass(frozen=True)
class Pair:
    """One direction's pair in the coordinate y (loss increasing in y): mixtures of N(m, s^2)
    as ((weight, mean), ...) for P and for Q, plus the loss map and its inverse (floats)."""

    s: float
    q: float
    add: bool

    @property
    def means(self) -> tuple[int, int]:
        return (0, -1) if self.add else (0, 1)

    def weights(self, q_side: bool) -> tuple[float, float]:
        """Weights of the two means (0, +-1) in P (``q_side`` False) or Q."""
        mixed = q_side == self.add  # remove: P is the mixture; add: Q is
        return (1 - self.q, self.q) if mixed else (1.0, 0.0)

    @property
    def _wp(self) -> tuple[float, float]:
        return self.weights(False)

    @property
    def _wq(self) -> tuple[float, float]:
        return self.weights(True)

    def loss(self, y: float) -> float:
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
        lam = -loss if self.add else loss
        c = math.expm1(lam) + self.q
        if c <= 0:
            return math.inf if self.add else -math.inf
        x = self.s * self.s * (math.log(c) - math.log(self.q)) + 0.5
        return -x if self.add else x

    # -- floating-point masses (only to place boundaries) ----------------------------------------
    def tails(self, y: float) -> tuple[tuple[float, float], ...]:
        """(Phi(z), Phi(-z)) for z = (y - m)/s at both means (floats; y may be infinite)."""
        out = []
        for m in self.means:
            z = (y - m) / self.s
            out.append((0.5 * math.erfc(-z / _SQRT2), 0.5 * math.erfc(z / _SQRT2)))
        return tuple(out)

    def masses(self, t0: tuple[tuple[float, float], ...], t1: tuple[tuple[float, float], ...]
               ) -> tuple[float, float]:
        """(P, Q) masses between two points given their ``tails`` (t0 below t1), in floats,
        differencing on the side where both are tails."""
        d0 = t0[0][1] - t1[0][1] if t0[0][1] < 0.5 else t1[0][0] - t0[0][0]
        d1 = t0[1][1] - t1[1][1] if t0[1][1] < 0.5 else t1[1][0] - t0[1][0]
        (p0, p1), (q0, q1) = self._wp, self._wq
        return p0 * d0 + p1 * d1, q0 * d0 + q1 * d1

    def density(self, q_side: bool, y: float) -> float:
        total = 0.0
        for w, m in zip(self.weights(q_side), self.means, strict=True):
            if w:
                z = (y - m) / self.s
                total += w * _INV_SQRT2PI * math.exp(-0.5 * z * z) / self.s
        return total


def _solve(pair: Pair, y0: float, n: float, up: bool, limit: float) -> float | None:
    """The far end y of an interval grown from y0 (upwards or downwards) whose barycentre is just
    past node n: F(y) = (1 - aim) e^{-n} P - Q over the interval is <= 0 while the interval's
    barycentre is below n (up) and > 0 past it; downwards the signs are reversed. Returns a y with
    F(y) > 0 next to the root, or None when none exists before ``limit`` (float heuristic:
    safeguarded Newton on a bracket)."""
    en = math.exp(-n) * (1 - _AIM)
    sign = 1.0 if up else -1.0
    t0 = pair.tails(y0)

    def f(y: float) -> float:
        t = pair.tails(y)
        p, q = pair.masses(t0, t) if up else pair.masses(t, t0)
        return en * p - q

    near = pair.y_of(n)
    if not math.isfinite(near):
        return None
    if not up and not f(near) > 0:
        return near
    mirror = pair.y_of(2 * n - pair.loss(y0)) if math.isfinite(y0) else math.nan
    fast = _newton_from(pair, f, en, mirror, near, limit, sign,
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
        fy = f(y)
        if fy > 0:
            pos = y
        else:
            neg = y
        slope = sign * (en * pair.density(False, y) - pair.density(True, y))
        cand = y - fy / slope if slope > 0 else math.nan
        tol = max(_XTOL * width, 4 * math.ulp(y))
        if abs(pos - neg) <= tol or (fy > 0 and abs(cand - y) <= tol):
            break
        y = cand if min(pos, neg) < cand < max(pos, neg) else (pos + neg) / 2
    return pos


def _newton_from(pair: Pair, f: Callable[[float], float], en: float, y: float, near: float,
                 limit: float, sign: float, width: float) -> float | None:
    """Plain Newton from the mirror image of the interval's start about the node (right to
    O(h^2)): F increases with y past the node, so the answer is the converged point nudged up
    until F > 0. None (use the bracketing solver) if it leaves the admissible side or stalls."""
    if not (math.isfinite(y) and sign * (y - near) > 0 and sign * (limit - y) > 0):
        return None
    for _ in range(6):
        fy = f(y)
        slope = sign * (en * pair.density(False, y) - pair.density(True, y))
        if not slope > 0:
            return None
        tol = max(_XTOL * width, 4 * math.ulp(y))
        step = -fy / slope
        if abs(step) <= tol:
            if fy > 0:
                return y
            y = y + step + tol  # past the root, on the side where F > 0
            return y if f(y) > 0 else None
        y += step
        if not (sign * (y - near) > 0 and sign * (limit - y) > 0):
            return None
    return None


def _pairs_at(pair: Pair, y: float, s: arb) -> list[tuple[arb, arb]]:
    """(Phi, 1 - Phi) at (y - m)/s for both means, the smaller computed directly (y may be inf)."""
    out = []
    for m in pair.means:
        if y == math.inf:
            out.append((arb(1), arb(0)))
        elif y == -math.inf:
            out.append((arb(0), arb(1)))
        else:
            out.append(cdf_pair((arb(y) - m) / s))
    return out


def _certified_mass(pair: Pair, qb: arb, lo: list[tuple[arb, arb]], hi: list[tuple[arb, arb]],
                    q_side: bool) -> arb:
    total = arb(0)
    mixed = q_side == pair.add
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        weight = ((1 - qb) if i == 0 else qb) if mixed else (arb(1) if i == 0 else arb(0))
        if weight == 0:
            continue
        total += weight * between(a, b)
    return total


def lower_discretisation(sigma: Fraction, q: Fraction, h: Fraction, add: bool, bits: int,
                         tail: float) -> GridPLD:
    """The certified optimistic grid PLD of one direction (module docstring), at the ambient
    precision, masses rounded down to units of 2^-bits; ``tail``: the float mass left in the
    unbounded end(s). For q < 1 the grid is shifted (``GridPLD.shift``) so that the first node
    sits just below the barycentre of the group at the bounded end: with a fixed grid, a pile of
    mass narrower than h at that end (small q) could only be balanced by the whole distribution."""
    s_f, q_f, h_f = float(sigma), float(q), float(h)
    pair = Pair(s_f, q_f, add)
    up = not (add and q_f < 1)  # sweep away from the bounded end of the loss
    z = -_normal_quantile(tail)
    if up:
        start = -math.inf if q_f < 1 else -s_f * z - (1 if add else 0)
        limit = s_f * z + 1
    else:
        start, limit = math.inf, -(s_f * z + 1)
    shift, k = _first_node(pair, start, h_f, up)
    sb, qb, hb, shb = ball(sigma), ball(q), ball(h), ball(shift)
    bounds, nodes = [start], []
    y = start
    while True:
        nxt = _solve(pair, y, float(shift) + k * h_f, up, limit)
        if nxt is None or nxt == y:
            break
        nodes.append(k)
        bounds.append(nxt)
        y = nxt
        # the next node strictly past the new start (a sliver margin avoids empty groups)
        edge = (pair.loss(y) - float(shift)) / h_f
        k = math.floor(edge + 1e-3) + 1 if up else math.ceil(edge - 1e-3) - 1
    bounds.append(math.inf if up else -math.inf)
    if up:
        nodes.append(math.floor((pair.loss(y) - float(shift)) / h_f) if math.isfinite(y) else k)
    else:
        nodes.append(k)
    # certified masses of [bounds[i], bounds[i+1]) (reversed order for a downward sweep)
    cdf = [_pairs_at(pair, b, sb) for b in bounds]
    groups: dict[int, arb] = {}
    scale: dict[int, arb] = {}
    for i, node in enumerate(nodes):
        a, b = (cdf[i], cdf[i + 1]) if up else (cdf[i + 1], cdf[i])
        p = _certified_mass(pair, qb, a, b, False)
        qm = _certified_mass(pair, qb, a, b, True)
        for kk in range(node, node - _FALLBACK_NODES - 1, -1):
            if kk not in scale:
                scale[kk] = (-(shb + hb * kk)).exp()
            if p * scale[kk] - qm >= 0:  # barycentre >= shift + kk h, certified
                groups[kk] = groups.get(kk, arb(0)) + p
                break
    if not groups:
        return GridPLD(0, fmpz_poly([]), fmpz(0), bits, False, h, shift)
    first, last = min(groups), max(groups)
    coeffs = [to_fixed(groups.get(k, arb(0)), bits, False) for k in range(first, last + 1)]
    return GridPLD(first, fmpz_poly(coeffs), fmpz(0), bits, False, h, shift)


def _first_node(pair: Pair, start: float, h: float, up: bool) -> tuple[Fraction, int]:
    """(shift, index) of the first group's node. q = 1: no shift, the first node past the
    start. q < 1: just below the float barycentre of the losses within h of the bounded end."""
    if pair.q >= 1:
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
