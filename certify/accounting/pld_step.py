"""The pessimistic (upper-bound) one-step discretisation: connect-the-dots, certified.

Pairs (noise in units of the sensitivity, ``s = sigma``; :mod:`certify.mechanisms.subsampled`):
remove ``P = (1-q) N(0, s^2) + q N(1, s^2)`` against ``Q = N(0, s^2)``, add the reverse pair.
With ``u(x) = (2x - 1) / (2 s^2)`` the remove loss ``lambda(x) = log(1 - q + q e^{u(x)})`` is
increasing in x and the add loss is ``-lambda(x)``, so a loss interval is an x-interval, and its P-
and Q-masses are differences of normal CDFs at ``x(lambda) = s^2 log((e^lambda - 1 + q)/q) + 1/2``
(``x = -infinity`` when ``e^lambda <= 1 - q``), enclosed in Arb
(:func:`certify.numerics.special.normal_cdf`; each tail is computed directly, never as 1 - tiny).

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
estimate of Algorithm 1). On nodes ``e_i = i h``, the part of ``w`` on ``I_i = [e_i, e_{i+1})``
(P-mass P_i, Q-mass Q_i) is replaced by the masses

    (e^{e_{i+1}} Q_i - P_i) / (e^h - 1)  at e_i,   (P_i - e^{e_i} Q_i) / (1 - e^{-h})  at e_{i+1}.

Derivation (the form we certify): as a function of a, ``g_a(l) = e^{-l} (e^l - a)_+`` is a convex
hinge; its chord between the nodes ``a = e^{e_i}`` and ``a = e^{e_{i+1}}`` lies above it and
equals ``mu e^{e_{i+1} - l} g_a(e_{i+1}) + (1 - mu) e^{e_i - l} g_a(e_i)`` for every a >= 0, with
``mu = (e^l - e^{e_i}) / (e^{e_{i+1}} - e^{e_i})``; integrating over I_i (where
``e^{-l} dw(l)`` is the Q-distribution of the loss) gives the two masses, so the result dominates
``w``. Mass below the lowest node is moved up onto it; the tail above the top node ``e_n`` is split
into ``e^{e_n} Q(L > e_n)`` at e_n and ``P(L > e_n) - e^{e_n} Q(L > e_n)`` at +infinity (the chord
towards ``a = infinity``). Each mass is rounded up (:func:`certify.accounting.pld_grid.to_fixed`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

from flint import arb, ctx, fmpz, fmpz_poly

from certify.accounting.pld_grid import GridPLD, to_fixed
from certify.errors import Inconclusive
from certify.numerics.roots import exact_ball as ball
from certify.numerics.special import normal_cdf

DIRECTIONS = ("remove", "add")

#: (below, above): a loss threshold's cumulative mass and its complement, as balls
_Pair = tuple[arb, arb]
#: an upper bound on sup phi = 1/sqrt(2 pi) = 0.3989...
_PHI_MAX = arb(0.4)


@dataclass(frozen=True)
class _Node:
    """A node ``i h`` of one direction and the cumulative masses there."""

    i: int
    p: _Pair  # (P(L <= i h), P(L > i h))
    q: _Pair  # (Q(L <= i h), Q(L > i h))


def loss_range(s: float, q: float, tail: float) -> tuple[float, float]:
    """Float range ``[lambda_lo, lambda_hi]`` of remove losses outside which P and Q (of both
    directions) have mass below about ``tail`` (only chooses the grid: tails are accounted)."""
    z = -NormalDist().inv_cdf(min(max(tail, 1e-300), 0.25))
    hi = _float_loss(1 + s * z, s, q)
    lo = math.log1p(-q) if q < 1 else _float_loss(-s * z, s, q)
    return lo, hi


def _float_loss(x: float, s: float, q: float) -> float:
    u = (2 * x - 1) / (2 * s * s)
    if q >= 1:
        return u
    a, b = math.log1p(-q), math.log(q) + u
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def _x_of_loss(lam: arb, s: arb, q: arb) -> arb | None:
    """x with ``lambda(x) = lam``, or None for x = -infinity (``e^lam <= 1 - q``)."""
    c = lam.expm1() + q
    if c <= 0:
        return None
    if not c > 0:
        raise Inconclusive(f"could not decide the sign of e^lambda - (1 - q) at lambda={lam}")
    return s * s * (c.log() - q.log()) + arb(0.5)


def _component(x: arb | None, mean: int, s: arb) -> _Pair:
    """(Phi((x - mean)/s), 1 - Phi((x - mean)/s)); x = None is -infinity."""
    if x is None:
        return arb(0), arb(1)
    return cdf_pair((x - mean) / s)


def cdf_pair(z: arb) -> _Pair:
    """(Phi(z), 1 - Phi(z)) for a ball z, the smaller one computed directly.

    Evaluated at the (exact) midpoint m only, widened by ``r sup|phi|`` over the ball (mean value
    theorem; ``phi(t) <= 0.4 e^{-t^2/2}`` as 1/sqrt(2 pi) < 0.4, and phi decreases in |t|, so the
    sup is at ``|m| - r``): one evaluation instead of one per endpoint, and the widening stays
    relative to the tail's size however deep the tail.
    """
    m, r = z.mid(), z.rad()
    t = abs(m) - r
    slope = (-(t * t) / 2).exp() * _PHI_MAX if t > 0 else _PHI_MAX
    err = arb(0, (r * slope).upper())
    if m > 0:
        above = normal_cdf(-m) + err
        return 1 - above, above
    below = normal_cdf(m) + err
    return below, 1 - below


def _nodes(s: Fraction, q: Fraction, h: Fraction, i_lo: int, i_hi: int) -> dict[str, list[_Node]]:
    """Cumulative masses at the remove losses ``i h`` (i_lo..i_hi) for both directions, each in
    increasing order of its own loss (the add loss is minus the remove loss)."""
    sb, qb, hb = ball(s), ball(q), ball(h)
    remove, add = [], []
    for i in range(i_lo, i_hi + 1):
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


def between(lo: _Pair, hi: _Pair) -> arb:
    """Mass of (l_lo, l_hi] from two cumulative pairs, in the form without 1 - tiny."""
    if hi[0].mid() <= 0.5:
        return hi[0] - lo[0]
    return lo[1] - hi[1]


def _connect_the_dots(nodes: list[_Node], h: Fraction, bits: int) -> GridPLD:
    """The connect-the-dots masses (module docstring), rounded up to units of 2^-bits."""
    hb = ball(h)
    eh, emh = hb.exp(), (-hb).exp()
    low, high = 1 / (eh - 1), 1 / (1 - emh)
    masses = [arb(0)] * len(nodes)
    masses[0] = nodes[0].p[0]  # everything below the lowest node, moved up onto it
    ea = (hb * nodes[0].i).exp()
    for t in range(len(nodes) - 1):
        a, b = nodes[t], nodes[t + 1]
        pc, qc = between(a.p, b.p), between(a.q, b.q)
        eb = ea * eh  # e^{e_{i+1}} = e^{e_i} e^h (the balls stay enclosures)
        masses[t] += (eb * qc - pc) * low
        masses[t + 1] += (pc - ea * qc) * high
        ea = eb
    top = nodes[-1]
    etop = (hb * top.i).exp()
    masses[-1] += etop * top.q[1]
    infinity = top.p[1] - etop * top.q[1]
    coeffs = [to_fixed(m, bits, True) for m in masses]
    return GridPLD(nodes[0].i, fmpz_poly(coeffs), fmpz(to_fixed(infinity, bits, True)),
                   bits, True, h)


class UpperSteps:
    """The certified connect-the-dots grid PLDs of one step, per direction on demand (both
    directions share the nodes' CDFs).

    ``h``: node spacing (exact); ``bits``: the unit 2^-bits; ``tail``: the float mass left beyond
    the nodes in each tail (it is still accounted, at a node or at +infinity); ``prec``: Arb bits.
    """

    def __init__(self, sigma: Fraction, q: Fraction, h: Fraction, bits: int, tail: float,
                 prec: int) -> None:
        lo, hi = loss_range(float(sigma), float(q), tail)
        hf = float(h)
        i_lo, i_hi = math.floor(lo / hf), math.ceil(hi / hf)
        self.h, self.bits, self.prec = h, bits, prec
        with ctx.workprec(prec):
            self._nodes = _nodes(sigma, q, h, i_lo, max(i_hi, i_lo + 1))
        self._done: dict[str, GridPLD] = {}

    def __getitem__(self, direction: str) -> GridPLD:
        if direction not in self._done:
            with ctx.workprec(self.prec):
                self._done[direction] = _connect_the_dots(self._nodes[direction], self.h,
                                                          self.bits)
        return self._done[direction]


def upper_discretisations(sigma: Fraction, q: Fraction, h: Fraction, bits: int, tail: float,
                          prec: int) -> UpperSteps:
    """Both directions' connect-the-dots grid PLDs (see :class:`UpperSteps`)."""
    return UpperSteps(sigma, q, h, bits, tail, prec)


__all__ = ["DIRECTIONS", "UpperSteps", "between", "cdf_pair", "loss_range",
           "upper_discretisations"]
