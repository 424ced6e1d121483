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
behind its end, past the span the rule checked) is re-aimed at half the skip (decided without
solving where the float balance at that distance already shows it, :func:`_overruns`).

*Chains.* Where the rule aims interval after interval at the next node (no merging, each end
between its node and the next), the ends are solved together (:func:`_chain`): interval i's
balance depends on its two ends only, so Newton's step for all of them is a forward
substitution through a bidiagonal system, started from a second-order prediction of the ends
(:func:`_predicted_ends`). The chain keeps only the run the one-interval sweep would have built
the same way (the rule's next node, F > 0 at each end); the certificate of each interval is
unchanged. On issue 5's grid about three quarters of the intervals are solved so.

*Split groups.* An interval mirrors its start about its node, so an end at offset d from the
middle between two nodes leaves the next ends at about -+d: the widths alternate between
``(1 - 2d) h`` and ``(1 + 2d) h`` and the Jensen error (the cube of the width) grows by
``1 + 12 d^2``. Where the loss density falls along the sweep d grows from interval to
interval, until the ends sit on the nodes (d = 1/2): every other node is then skipped, the
intervals are 2h wide and the error four times that of centred ones (the first grids of issue
5's sigma <= 1 cells did that: their lower bound erred by 1.2 times the upper's error estimate,
against 0.5 for sigma = 2). Jensen's inequality holds for any decomposition of the measure into
parts, not only for intervals: where an end is more than :data:`_PHASE_TOLERANCE` h off the
middle, one group is the interval up to the middle past its node plus a fraction of the next
interval (:func:`_split_plan`), and the next ends are centred again. The fraction is an exact
dyadic, so the group's masses and its inequality are certified like an interval's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from flint import arb, ctx
from scipy.special import erfc

from certify.accounting.pld_grid import GridPLD, measure, to_fixed
from certify.accounting.pld_step import (
    KINDS,
    MAX_LEVEL,
    Coarsening,
    between,
    cdf_pair,
    float_losses,
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
#: the most and fewest intervals solved as one chain (:func:`_chain`), and its Newton steps
_CHAIN_MAX = 1024
_CHAIN_MIN = 2
_CHAIN_STEPS = 8
#: a chain's Newton iteration stops once every step is below this fraction of its interval
_CHAIN_SETTLED = 1e-6
#: the chain is first tried after this many intervals of a sweep (the first ones, from the
#: bounded end or the far cut, see the loss density change across one interval; 16 measured
#: 0.15 to 0.4 ms faster than 8 on the lower grids of (0.001, 2, 100) and (0.001, 2, 10^4): the
#: chain's Newton iteration converges in fewer steps from there)
_CHAIN_AFTER = 16
#: an interval's end whose offset from the middle between two nodes exceeds this (in units of
#: h) starts a split group (:func:`_split_group`) that brings the ends back to the middles
_PHASE_TOLERANCE = 0.1
#: the CDFs of the sweep are computed at ``max(bits + _CDF_GUARD, _CDF_MIN_BITS)`` bits (at most
#: the ambient precision; :func:`lower_discretisation`)
_CDF_GUARD = 8
_CDF_MIN_BITS = 64
#: the split fraction alpha is a multiple of this (exact in Arb)
_SPLIT_UNIT = 2.0**-40


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
    means_array: np.ndarray = field(init=False, repr=False, compare=False)
    p_weights: np.ndarray = field(init=False, repr=False, compare=False)
    q_weights: np.ndarray = field(init=False, repr=False, compare=False)

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
        # the same as arrays, for the vectorised chain (:meth:`chain`)
        object.__setattr__(self, "means_array", np.array([float(m) for m, _, _ in self._comp]))
        object.__setattr__(self, "p_weights", np.array([a for _, a, _ in self._comp]))
        object.__setattr__(self, "q_weights", np.array([b for _, _, b in self._comp]))

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

    def losses(self, y: np.ndarray) -> np.ndarray:
        """:meth:`loss` at every entry of y (floats, to within rounding of it)."""
        if self.kind == "replace":
            return float_losses("replace", y, self.s, self.q)
        lam = float_losses("remove", -y if self.add else y, self.s, self.q)
        return -lam if self.add else lam

    def ys_of(self, losses: np.ndarray) -> np.ndarray:
        """:meth:`y_of` at every entry (floats; -+inf beyond the bounded end)."""
        if self.kind == "replace":
            return float_x("replace", losses, self.s, self.q)
        with np.errstate(over="ignore"):
            x = float_x("remove", -losses if self.add else losses, self.s, self.q)
        return -x if self.add else x

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


    def chain(self, y: np.ndarray, en: np.ndarray, up: bool
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(F, dF/dfar, dF/dnear)`` for the intervals between consecutive entries of ``y``
        (in sweep order): interval i runs from ``y[i]`` (near) to ``y[i+1]`` (far), and ``F_i =
        en_i P - Q`` over it is :meth:`balance`'s function (the same differencing side), its
        derivatives the signed densities at the two ends (floats)."""
        z = (y[None, :] - self.means_array[:, None]) / self.s
        below, above = 0.5 * erfc(-z / _SQRT2), 0.5 * erfc(z / _SQRT2)
        if up:
            d = np.where(above[:, :-1] < 0.5, above[:, :-1] - above[:, 1:],
                         below[:, 1:] - below[:, :-1])
        else:
            d = np.where(above[:, 1:] < 0.5, above[:, 1:] - above[:, :-1],
                         below[:, :-1] - below[:, 1:])
        g = np.exp(-0.5 * z * z)
        p, q = self.p_weights @ d, self.q_weights @ d
        scale = _INV_SQRT2PI / self.s
        dens_p, dens_q = (self.p_weights @ g) * scale, (self.q_weights @ g) * scale
        far = en * dens_p[1:] - dens_q[1:]
        near = en * dens_p[:-1] - dens_q[:-1]
        sign = 1.0 if up else -1.0
        return en * p - q, sign * far, -sign * near


def _chain(pair: Pair, y0: float, k0: int, shift: float, h: float, up: bool, limit: float,
           merge: _Merge | None) -> tuple[list[float], list[float]]:
    """The far ends (and their losses) of consecutive intervals from ``y0`` aimed at the nodes
    ``k0, k0 +- 1, ...``, each one's barycentre just past its node (F > 0 at the first aim), as
    the one-interval solver :func:`_solve` would place them one after the other -- solved at
    once: the balance conditions form a bidiagonal system in the ends (each interval's F
    depends on its two ends), so Newton's step is a forward substitution. The run stops where
    the sweep's rule would not aim the next interval at the next node (its end is not between
    its node and the next, or the merging rule skips ahead), and at the first end that does not
    converge or leaves the admissible range; empty when fewer than two intervals qualify.
    Float heuristics: only the grid's quality depends on them."""
    sign = 1 if up else -1
    size = _CHAIN_MAX
    ks = k0 + sign * np.arange(size)
    nodes = shift + ks * h
    # a first screen of the run (admissible ends, no merging) from the first-order ends:
    # centred intervals mirror their start about the node, e_i = 2 n_i - e_(i-1)
    d0 = pair.loss(y0) - nodes[0] + sign * h / 2
    ends = nodes + sign * h / 2 + np.where(np.arange(size) % 2 == 0, -d0, d0)
    y = np.empty(size + 1)
    y[0] = y0
    y[1:] = pair.ys_of(ends)
    ok = np.isfinite(y[1:]) & ((y[1:] < limit) if up else (y[1:] > limit))
    size = _leading(ok)
    if merge is not None and size >= _CHAIN_MIN:
        size = merge.singles(ends[:size])
    if size < _CHAIN_MIN:
        return [], []
    y, ks, nodes = y[: size + 1], ks[:size], nodes[:size]
    y[1:] = pair.ys_of(_predicted_ends(pair, pair.loss(y0), nodes, sign * h))
    size = _leading(np.isfinite(y[1:]))
    if size < _CHAIN_MIN:
        return [], []
    y, ks, nodes = y[: size + 1], ks[:size], nodes[:size]
    en = np.exp(-nodes) * (1 - _AIMS[0])
    for _ in range(_CHAIN_STEPS):
        f, dfar, dnear = pair.chain(y, en, up)
        step = _newton_steps(f, dfar, dnear, np.abs(np.diff(y)))
        size = step.size
        if size < _CHAIN_MIN:
            return [], []
        y, en, ks = y[: size + 1], en[:size], ks[:size]
        y[1:] += step
        # quadratic convergence: a step this small leaves an error far below _XTOL
        settled = np.abs(step) <= _CHAIN_SETTLED * np.abs(np.diff(y))
        if settled.all():
            break
    size = _leading(settled)
    if size < _CHAIN_MIN:
        return [], []
    y, en, ks = y[: size + 1], en[:size], ks[:size]
    tol = np.maximum(_XTOL * np.abs(np.diff(y)), 4 * np.spacing(np.abs(y[1:])))
    f = pair.chain(y, en, up)[0]
    for _ in range(3):  # nudge ends up where F <= 0: raises F there and in the next interval
        low = ~(f > 0)
        if not low.any():
            break
        y[1:][low] += tol[low]
        f = pair.chain(y, en, up)[0]
    ends = y[1:]
    losses = pair.losses(ends)
    edge = (losses - shift) / h
    with np.errstate(invalid="ignore"):
        ok = (f > 0) & np.isfinite(ends) & (sign * np.diff(y) > 0)
    ok &= (ends < limit) if up else (ends > limit)
    # every end but the last must lead the rule to the next node
    nxt = (np.floor(edge + 1e-3) == ks) if up else (np.ceil(edge - 1e-3) == ks)
    nxt[-1] = True
    size = min(_leading(ok), _leading(nxt) + 1)
    if merge is not None and size >= _CHAIN_MIN:
        size = merge.singles(losses[: size - 1]) + 1
    if size < _CHAIN_MIN:
        return [], []
    return ends[:size].tolist(), losses[:size].tolist()


def _predicted_ends(pair: Pair, start: float, nodes: np.ndarray, step: float) -> np.ndarray:
    """Loss coordinates of the chain's ends to second order in h: with ``u = l - n`` and the
    P-density of the loss locally ``e^(kappa u)``, an interval ``[A, B]`` (in u) has its
    barycentre at the node when ``int_A^B (1 - e^-u) e^(kappa u) du = 0``, i.e. (expanding to
    third order) ``A + B = -(2 kappa - 1)(A^2 + AB + B^2) / 3``, so ``B ~ -A - (2 kappa - 1)
    A^2 / 3`` (kappa = 0: ``A + B = (B - A)^2 / 12``, the uniform case). kappa at each node from
    the P-masses of the half-spaced cells around it (float CDFs). Only the starting point of
    Newton's method depends on it."""
    cells = nodes[0] + step * (np.arange(nodes.size + 2) - 1.5)  # edges around n_(i-1..i+1)
    ys = pair.ys_of(cells)
    z = (ys[None, :] - pair.means_array[:, None]) / pair.s
    above = 0.5 * erfc(z / _SQRT2)
    with np.errstate(divide="ignore", invalid="ignore"):
        masses = np.abs(pair.p_weights @ (above[:, :-1] - above[:, 1:]))
        kappa = np.diff(np.log(masses)) / step  # at the nodes, d log rho / d loss
    kappa = np.where(np.isfinite(kappa), kappa, 0.0).tolist()
    out = []
    end = start
    for n, k in zip(nodes.tolist(), kappa, strict=True):
        a = end - n
        end = n - a - (2 * k - 1) * a * a / 3
        out.append(end)
    return np.array(out)


def _leading(flags: np.ndarray) -> int:
    """How many entries of ``flags`` are True before the first False."""
    bad = np.flatnonzero(~flags)
    return int(bad[0]) if bad.size else int(flags.size)


def _newton_steps(f: np.ndarray, dfar: np.ndarray, dnear: np.ndarray, widths: np.ndarray
                  ) -> np.ndarray:
    """Newton's steps ``s`` for the chain of :func:`_chain`: ``dfar_i s_i + dnear_i s_(i-1) =
    -f_i`` with ``s_(-1) = 0`` (the first interval's near end is fixed). The recurrence ``s_i =
    a_i + b_i s_(i-1)`` is summed in closed form, ``s_i = B_i sum_(j<=i) a_j / B_j`` with ``B``
    the running product of the b's; the steps stop before the first row whose far derivative is
    not positive, whose step is not finite, or whose step is longer than its interval (Newton
    is then far from its quadratic regime there)."""
    good = dfar > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = -f / dfar
        products = np.cumprod(-dnear / dfar)
        steps = products * np.cumsum(a / products)
    ok = good & np.isfinite(steps) & (products != 0) & (np.abs(steps) <= widths)
    return steps[: _leading(ok)]


def _overruns(pair: Pair, y: float, y_loss: float, target: float, span: float, up: bool,
              limit: float) -> bool:
    """Would the interval from y aimed at ``target`` end more than ``span`` (in loss) away from
    y? True when the float balance at that distance is still short of the node (the far end
    lies beyond it), so the caller can aim closer without solving (float heuristic)."""
    far = pair.y_of(y_loss + span if up else y_loss - span)
    if not math.isfinite(far) or ((far >= limit) if up else (far <= limit)):
        return False
    value = pair.balance(pair.tails(y), far, math.exp(-target) * (1 - _AIMS[0]), up)[0]
    return value <= 0 if up else value > 0


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


def _off_phase(edge: float) -> bool:
    """Is an end at ``edge`` (loss in node units) further than :data:`_PHASE_TOLERANCE` from
    the middle between two nodes?"""
    return abs(edge - math.floor(edge) - 0.5) > _PHASE_TOLERANCE


@dataclass(frozen=True)
class _SplitPlan:
    """A split group in floats (:func:`_split_plan`): node index ``t``, the cut ``y_cut`` half a
    node past it, the far end ``y_far`` of the interval K aimed at the next node, and the
    float fraction ``alpha`` of K that joins ``[y, y_cut)``, with the float balances of the two
    parts at node t (``f_a``, ``f_k``) and their P-masses."""

    t: int
    y_cut: float
    y_far: float
    f_a: float
    f_k: float
    p_a: float
    p_k: float
    en: float

    def alpha(self, aim: float) -> float | None:
        """The fraction alpha, a multiple of :data:`_SPLIT_UNIT` rounded towards a larger
        balance, that puts the group's barycentre ``aim`` past node t; None outside [0, 1)."""
        margin = aim * self.en
        denominator = self.f_k - margin * self.p_k
        raw = (margin * self.p_a - self.f_a) / denominator if denominator != 0 else math.nan
        if not math.isfinite(raw):
            return None
        units = raw / _SPLIT_UNIT
        # F_G = F_A + alpha F_K grows with alpha where F_K > 0 (upward sweeps)
        alpha = (math.ceil(units) if self.f_k > 0 else math.floor(units)) * _SPLIT_UNIT
        return alpha if 0 <= alpha < 1 else None


def _split_plan(pair: Pair, y: float, y_loss: float, shift: float, h: float, up: bool,
                limit: float) -> _SplitPlan | None:
    """Where an interval's end ``y`` lies off the middles between nodes (:func:`_off_phase`),
    the next ones keep it off: the sweep's intervals mirror their start about their node, so an
    end at offset d from a middle leaves every later end at about +-d, the intervals alternate
    between widths (1 - 2d) h and (1 + 2d) h, and the Jensen error, which grows as the cube of
    the width, by ``1 + 12 d^2`` -- up to 4 once the ends sit on the nodes (``d = 1/2``: every
    other node carries an atom), which is where a falling density drives them (measured on
    issue 5's grid for sigma <= 1). The split group returns the ends to the middles: with m the
    node nearest the end, ``t = m + 1`` (the sweep's direction) and the cut c half a node past
    t, the interval K from c aimed at ``t + 1`` is solved as usual (its far end lies near the
    middle past ``t + 1``); the group of node t is ``A = [y, c)`` (barycentre at most t: A
    spans from at most half a node before m to half a node past t) plus the fraction alpha of
    K that moves its barycentre to t, and node ``t + 1`` gets ``(1 - alpha) K`` (scaling keeps
    K's barycentre). Jensen's inequality holds for any decomposition of the measure into
    parts, so the split parts are as good as intervals. Floats: None where a part does not
    exist or alpha is outside [0, 1)."""
    sign = 1 if up else -1
    edge = (y_loss - shift) / h
    t = round(edge) + sign
    y_cut = pair.y_of(shift + (t + 0.5 * sign) * h)
    if not math.isfinite(y_cut) or not sign * (y_cut - y) > 0 or not sign * (limit - y_cut) > 0:
        return None
    y_far = _solve(pair, y_cut, shift + (t + sign) * h, up, limit)
    if y_far is None or y_far == y_cut:
        return None
    at_y, at_cut, at_far = pair.tails(y), pair.tails(y_cut), pair.tails(y_far)
    p_a, q_a = pair.masses(at_y, at_cut) if up else pair.masses(at_cut, at_y)
    p_k, q_k = pair.masses(at_cut, at_far) if up else pair.masses(at_far, at_cut)
    en = math.exp(-(shift + t * h))
    plan = _SplitPlan(t, y_cut, y_far, en * p_a - q_a, en * p_k - q_k, p_a, p_k, en)
    return plan if plan.alpha(_AIMS[0]) is not None else None


def _pairs_at(pair: Pair, y: float, s: arb, bits: int | None = None) -> list[tuple[arb, arb]]:
    """(Phi, 1 - Phi) at (y - m)/s for every mean, the smaller computed directly (y may be inf;
    a mean with weight 0 in both P and Q gets a placeholder); at ``bits`` of working precision
    when given (the balls are valid at any precision), else the ambient one."""
    prec = ctx.prec
    if bits is not None:
        ctx.prec = bits  # restored below (cheaper than a workprec context per call)
    try:
        out = []
        for m, wp, wq in zip(pair.means, pair.weights(False), pair.weights(True), strict=True):
            if y == math.inf:
                out.append((arb(1), arb(0)))
            elif y == -math.inf or not (wp or wq):
                out.append((arb(0), arb(1)))
            else:
                out.append(cdf_pair((arb(y) - m) / s))
        return out
    finally:
        ctx.prec = prec


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


    def singles(self, losses: np.ndarray) -> int:
        """How many of the intervals starting at ``losses`` (in order) have :meth:`skip` 1
        before the first that does not (vectorised; only points whose local level would allow
        a merge are checked one by one)."""
        r = -losses if self.mirrored else losses
        with np.errstate(invalid="ignore"):
            j = np.floor(r / self.h) - self.i_lo
        inside = (j >= 0) & (j < self.weights.size)
        jj = np.where(inside, j, 0).astype(np.int64)
        local = np.maximum(self.prefix[jj + 1] - self.prefix[jj], 1e-300) * self.weights[jj]
        with np.errstate(divide="ignore"):
            level = np.floor((math.log2(self.c) - np.log2(local)) / 3)
        for i in np.flatnonzero(inside & (level > 1)):  # level <= 1: (1 << level) // 2 <= 1
            if self.skip(float(losses[i])) != 1:
                return int(i)
        return int(losses.size)


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
    # the CDFs' working precision: each interval's inequality needs about 44 + log2(tail / P)
    # bits (its aim, and the cancellation in P), its mass ~bits + 8 (rounded down to 2^-bits,
    # a few hundred of them); where the inequality is not certified at it, the ambient
    # precision is tried before the interval is re-aimed
    cdf_bits = min(ctx.prec, max(bits + _CDF_GUARD, _CDF_MIN_BITS))

    def cdfs(y: float, full: bool = False) -> list[tuple[arb, arb]]:
        return _pairs_at(pair, y, sb, None if full else cdf_bits)

    def at_or_past(node: int, p: arb, qm: arb) -> bool:
        """Is the barycentre of (P, Q) masses (p, qm) certified >= shift + node h?"""
        if node not in scale:
            scale[node] = (-(shb + hb * node)).exp()
        return bool(p * scale[node] - qm >= 0)

    def next_target(y: float, y_loss: float) -> tuple[int, int]:
        """(skip, node) of the interval from y: the next node strictly past it (a sliver
        margin avoids empty groups), further ahead where the loss density is small."""
        edge = (y_loss - float(shift)) / h_f
        skip = merge.skip(y_loss) if merge is not None and math.isfinite(y) else 1
        return skip, (math.floor(edge + 1e-3) + skip if up else math.ceil(edge - 1e-3) - skip)

    def masses(lo: list[tuple[arb, arb]], hi: list[tuple[arb, arb]]) -> tuple[arb, arb]:
        """Certified (P, Q) masses between two points' CDF pairs (in sweep order)."""
        a, b = (lo, hi) if up else (hi, lo)
        return _certified_mass(wp, a, b), _certified_mass(wq, a, b)

    nodes: list[int] = []
    # each interval's certified (P, Q) masses, and whether its node's inequality is certified
    found: list[tuple[arb, arb, bool]] = []

    def split_groups(plan: _SplitPlan, here: list[tuple[arb, arb]]) -> list[tuple[arb, arb]]:
        """Certifies a split group (:func:`_split_plan`) from the start's CDF pairs ``here``:
        appends its two groups to ``nodes`` and ``found`` and returns the far end's pairs."""
        at_cut, at_far = cdfs(plan.y_cut), cdfs(plan.y_far)
        p_a, q_a = masses(here, at_cut)
        p_k, q_k = masses(at_cut, at_far)
        p_g, q_g, on_g, a = p_a, q_a, False, arb(0)
        for aim in _AIMS:  # a wider margin costs no CDF: only alpha changes
            alpha = plan.alpha(aim)
            if alpha is None:
                break
            a = arb(alpha)
            p_g, q_g = p_a + a * p_k, q_a + a * q_k
            if at_or_past(plan.t, p_g, q_g):
                on_g = True
                break
        after = plan.t + (1 if up else -1)
        nodes.extend([plan.t, after])
        found.extend([(p_g, q_g, on_g),
                      ((1 - a) * p_k, (1 - a) * q_k, at_or_past(after, p_k, q_k))])
        return at_far

    here = cdfs(start)
    y = start
    y_loss = pair.loss(y)
    skip = 1
    chained: list[tuple[float, float]] = []  # (end, its loss) of a solved chain, last first
    # intervals before the next chain is tried; the wait doubles each time one fails
    wait, backoff = _CHAIN_AFTER, 0
    while True:
        plan = _split_plan(pair, y, y_loss, float(shift), h_f, up, limit) \
            if not chained and skip == 1 and math.isfinite(y) \
            and _off_phase((y_loss - float(shift)) / h_f) else None
        if plan is not None:
            here = split_groups(plan, here)
            y = plan.y_far
            y_loss = pair.loss(y)
            skip, k = next_target(y, y_loss)
            continue
        target = float(shift) + k * h_f
        if not chained and skip == 1 and math.isfinite(y) and wait <= 0:
            ends, losses = _chain(pair, y, k, float(shift), h_f, up, limit, merge)
            chained = list(zip(reversed(ends), reversed(losses), strict=True))
            backoff = 0 if chained else max(2 * backoff, 1)
            wait = backoff
        wait -= 1
        nxt_loss: float | None = None
        nxt: float | None
        if chained:
            nxt, nxt_loss = chained.pop()
        else:
            nxt = _solve(pair, y, target, up, limit)
        # a merged interval that does not fit, or that reaches beyond the span the merging rule
        # checked (where the mass falls steeply the barycentre lags far behind the interval's
        # end: an interval aimed 2^13 nodes ahead ran over 4.5 10^4 nodes, across the losses
        # that mattered most): aim half as far -- without solving where the balance at that
        # distance shows the overrun
        while skip > 1 and (nxt is None or nxt == y
                            or abs(pair.loss(nxt) - y_loss) > _OVERRUN * skip * h_f):
            k -= skip // 2 if up else -(skip // 2)
            skip //= 2
            target = float(shift) + k * h_f
            nxt = None if skip > 1 and _overruns(pair, y, y_loss, target, _OVERRUN * skip * h_f,
                                                 up, limit) \
                else _solve(pair, y, target, up, limit)
        if nxt is None or nxt == y:
            break
        there = cdfs(nxt)
        p, qm = masses(here, there)
        on_node = at_or_past(k, p, qm)
        if not on_node and cdf_bits < ctx.prec:
            there_full = cdfs(nxt, True)
            p_full, q_full = masses(cdfs(y, True), there_full)
            if at_or_past(k, p_full, q_full):
                there, p, qm, on_node = there_full, p_full, q_full, True
        for aim in _AIMS[1:]:  # re-aim with a wider margin where the certificate failed
            if on_node:
                break
            wider = _solve(pair, y, target, up, limit, aim)
            if wider is None or wider == y:
                break
            alt = cdfs(wider)
            p_alt, q_alt = masses(here, alt)
            if at_or_past(k, p_alt, q_alt):
                nxt, there, p, qm = wider, alt, p_alt, q_alt
                nxt_loss, on_node = None, True
                chained.clear()  # the next intervals started at the old end
        nodes.append(k)
        found.append((p, qm, on_node))
        y, here = nxt, there
        y_loss = pair.loss(nxt) if nxt_loss is None else nxt_loss
        if chained and _off_phase((y_loss - float(shift)) / h_f):
            chained.clear()  # a split group comes next (the chain's ends would stay off)
        if chained:  # the chain's next interval: the next node, as the rule below would say
            k += 1 if up else -1
            continue
        skip, k = next_target(y, y_loss)
    end = math.inf if up else -math.inf
    found.append((*masses(here, cdfs(end)), False))
    if up:
        nodes.append(math.floor((y_loss - float(shift)) / h_f) if math.isfinite(y) else k)
    else:
        nodes.append(k)
    # each interval's mass on its node, or a lower one whose inequality is certified
    groups: dict[int, arb] = {}
    for node, (p, qm, on_node) in zip(nodes, found, strict=True):
        for kk in range(node, node - _FALLBACK_NODES - 1, -1):
            if (on_node and kk == node) or at_or_past(kk, p, qm):  # barycentre >= kk's loss
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
