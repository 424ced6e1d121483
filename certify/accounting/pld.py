"""Certified composition of Poisson-subsampled Gaussian steps by privacy-loss distributions (PLD).

``composed_delta(phases, epsilon)`` and ``composed_epsilon(phases, delta)`` return rigorous
two-sided enclosures of the privacy profile of a composition of ``phases`` = ``[(sigma, q, steps),
...]``: ``steps`` Poisson-subsampled Gaussian steps (sampling probability q, noise multiplier sigma,
sensitivity 1) per phase, phases composed in sequence (heterogeneous DP-SGD). ``neighbours`` is
``remove`` (P = (1-q) N(0, s^2) + q N(1, s^2) against Q = N(0, s^2) per step), ``add`` (the reverse
pair) or ``add-remove``: the maximum over the two directions of the *composed* delta (the record
is added, or removed, in every step; Zhu, Dong, Wang 2022 on Poisson subsampling, and
dp-accounting's ADD_OR_REMOVE_ONE), whose eps(delta) is the maximum of the two eps(delta).

The mathematics (each part proved in its module):

* delta of the T-fold product pair is ``E[(1 - e^{eps - (L_1 + ... + L_T)})_+]`` (plus the mass at
  +infinity) for independent one-step losses L_t ~ w under P (Dwork-Rothblum 2016; Koskela,
  Jalko, Honkela 2020), i.e. a functional of the convolution of the one-step PLDs w.
* Upper bound: each step's w is replaced by the connect-the-dots measure of Doroshenko, Ghazi,
  Kamath, Kumar, Manurangsi 2022 on the grid ``h Z`` (:mod:`certify.accounting.pld_step`), which
  dominates w for every hockey-stick order, hence its composition dominates the composition
  (the composition theorem of dominating pairs, Zhu, Dong, Wang 2022; proved in PLD form there).
* Lower bound: each step's w is replaced by Jensen barycentres of adaptive intervals moved down
  onto grid nodes (:mod:`certify.accounting.pld_lower`), which every hockey-stick order sees as
  smaller, hence so does the composition.
* Masses are Arb enclosures from certified normal CDFs rounded to integers in units 2^-bits in
  each bound's direction; convolutions are exact integer polynomial products (FLINT) rounded
  again in that direction, and truncated tails go to +infinity / the lowest node (upper) or are
  dropped / moved to the highest node (lower) (:mod:`certify.accounting.pld_grid`). No floating
  point enters a bound; floats only choose grids and boundaries.
* eps(delta) is inverted from each bound's profile with certified comparisons and the closed-form
  root on a segment (:mod:`certify.accounting.pld_invert`).

The grid spacing h shrinks (the errors of both discretisations are O(h^2) per step) until the
requested width (:class:`~certify.numerics.precision.Target`) is met, or the node budget
``max_nodes`` would be exceeded: then :class:`~certify.errors.Inconclusive` carries the best
enclosure.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
from flint import arb, ctx

from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
)
from certify.accounting.pld_grid import GridPLD, multiply, power
from certify.accounting.pld_invert import lower_delta, lower_epsilon, upper_delta, upper_epsilon
from certify.accounting.pld_lower import lower_discretisation
from certify.accounting.pld_step import DIRECTIONS, UpperSteps, loss_range, upper_discretisations
from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

NEIGHBOURS = ("add-remove", "remove", "add")
#: default widths: eps(delta) to 1e-3 relative (issue 5's target), delta(eps) likewise
PLD_EPSILON_TARGET = Target(rel=1e-3, absolute=1e-9)
PLD_DELTA_TARGET = Target(rel=1e-3, absolute=1e-18)
#: default budget: the composed grid may hold at most this many nodes
DEFAULT_MAX_NODES = 2**19
_DIGITS = 20
_LOG = logging.getLogger(__name__)
_MAX_LEVELS = 8


@dataclass(frozen=True)
class Phase:
    """``steps`` Poisson-subsampled Gaussian steps: noise multiplier ``sigma`` (sensitivity 1),
    sampling probability ``q``. Exact rationals (a float means its exact binary value)."""

    sigma: Fraction
    q: Fraction
    steps: int


def check_phases(phases: object) -> tuple[Phase, ...]:
    """Validate ``phases``: a non-empty sequence of ``(sigma, q, steps)`` (tuples, mappings with
    those keys, or :class:`Phase`); a single such tuple is accepted too."""
    if isinstance(phases, Phase) or (
        isinstance(phases, tuple) and len(phases) == 3
        and not any(isinstance(p, (tuple, list, Mapping, Phase)) for p in phases)
    ):
        phases = [phases]
    if isinstance(phases, (str, bytes, Mapping)) or not isinstance(phases, Iterable):
        raise InvalidArgument(f"phases={phases!r} must be a sequence of (sigma, q, steps).")
    out = []
    for i, ph in enumerate(phases):
        if isinstance(ph, Phase):
            sigma, q, steps = ph.sigma, ph.q, ph.steps
        elif isinstance(ph, Mapping):
            try:
                sigma, q, steps = ph["sigma"], ph["q"], ph["steps"]
            except KeyError as err:
                raise InvalidArgument(f"phases[{i}]={ph!r} lacks the key {err}.") from None
        elif isinstance(ph, (tuple, list)) and len(ph) == 3:
            sigma, q, steps = ph
        else:
            raise InvalidArgument(f"phases[{i}]={ph!r} must be (sigma, q, steps).")
        out.append(Phase(check_positive(f"phases[{i}].sigma", sigma),
                         check_probability(f"phases[{i}].q", q),
                         check_positive_int(f"phases[{i}].steps", steps)))
    if not out:
        raise InvalidArgument("phases=[] must not be empty.")
    return tuple(out)


# -- one refinement level -------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """One discretisation: spacing ``h`` (exact dyadic), fixed-point ``bits``, truncation mass
    ``cut`` per product (units 2^-bits), one-step ``tail`` mass, Arb precision ``prec``."""

    h: Fraction
    bits: int
    cut: int
    tail: float
    prec: int


class _Composer:
    """Composes the phases of one request at a Plan, caching one-step discretisations."""

    def __init__(self, phases: tuple[Phase, ...]) -> None:
        self.phases = tuple(p for p in phases if p.q != 0)  # q = 0: the identity (P = Q)
        self._upper: dict[tuple[Fraction, Fraction, Plan], UpperSteps] = {}
        self._lower: dict[tuple[Fraction, Fraction, Plan, str], GridPLD] = {}

    def step(self, ph: Phase, plan: Plan, direction: str, upper: bool) -> GridPLD:
        """The one-step grid PLD (computed at ``plan.prec``)."""
        with ctx.workprec(plan.prec):
            if upper:
                key = (ph.sigma, ph.q, plan)
                if key not in self._upper:
                    self._upper[key] = upper_discretisations(ph.sigma, ph.q, plan.h, plan.bits,
                                                             plan.tail, plan.prec)
                return self._upper[key][direction]
            lkey = (ph.sigma, ph.q, plan, direction)
            if lkey not in self._lower:
                self._lower[lkey] = lower_discretisation(ph.sigma, ph.q, plan.h,
                                                         direction == "add", plan.bits, plan.tail)
            return self._lower[lkey]

    def composed(self, plan: Plan, direction: str, upper: bool) -> GridPLD:
        result: GridPLD | None = None
        done = 0
        for ph in self.phases:
            part = power(self.step(ph, plan, direction, upper), ph.steps, plan.cut)
            done += ph.steps
            result = part if result is None else multiply(result, part, plan.cut * done)
        assert result is not None
        return result

    @property
    def products(self) -> int:
        return sum(2 * max(p.steps.bit_length(), 1) for p in self.phases) + len(self.phases)

    @property
    def total_steps(self) -> int:
        return sum(p.steps for p in self.phases)


def _loss_moments(sigma: float, q: float) -> tuple[float, float]:
    """Float mean and variance of the remove loss under P (trapezoid rule; only sizes grids)."""
    x = np.linspace(-12 * sigma, 1 + 12 * sigma, 24001)
    dens = ((1 - q) * np.exp(-0.5 * (x / sigma) ** 2)
            + q * np.exp(-0.5 * ((x - 1) / sigma) ** 2)) / (sigma * math.sqrt(2 * math.pi))
    u = (2 * x - 1) / (2 * sigma * sigma)
    loss = u if q >= 1 else np.logaddexp(math.log1p(-q), math.log(q) + u)
    w = dens / np.trapezoid(dens, x)
    mean = float(np.trapezoid(w * loss, x))
    return mean, float(np.trapezoid(w * (loss - mean) ** 2, x))


def _dyadic(h: float) -> Fraction:
    """h rounded down to 4 significant bits (an exact dyadic rational)."""
    e = math.floor(math.log2(h))
    return Fraction(math.floor(h / 2.0**e * 8), 8) * Fraction(2) ** e


def _initial_h(phases: tuple[Phase, ...]) -> float:
    """A cheap first spacing: about 512 one-step nodes or 4096 composed nodes (20 standard
    deviations of the composed loss), whichever is coarser, but at most 1/4 deviation."""
    total, one_step = 0.0, 0.0
    for p in phases:
        _, var = _loss_moments(float(p.sigma), float(p.q))
        total += p.steps * var
        lo, hi = loss_range(float(p.sigma), float(p.q), 1e-12)
        one_step = max(one_step, hi - lo)
    spread = math.sqrt(total)
    return min(max(one_step / 512, 20 * spread / 4096), spread / 4)


def _plan(h: Fraction, tolerance: float, nodes: int, composer: _Composer, prec: int) -> Plan:
    """Bits, truncation and tails so that their total effect on delta stays below ``tolerance``
    (a small fraction of the requested width), leaving the width to the grid spacing. ``cut`` is
    per step: a product making an m-fold composition cuts tails of mass ``m cut``
    (:func:`certify.accounting.pld_grid.power`)."""
    products, steps = composer.products, composer.total_steps
    bits = max(64, math.ceil(math.log2(8 * max(nodes, 1024) * products * steps / tolerance)))
    cut = max(1, math.floor(tolerance / (8 * products * steps) * 2.0**bits))
    tail = tolerance / (8 * steps)
    return Plan(h, bits, cut, tail, max(prec, bits + 64))


# -- the public API -------------------------------------------------------------------------------
def composed_delta(phases: object, epsilon: object, *, neighbours: object = "add-remove",
                   target: Target | None = None, max_nodes: int = DEFAULT_MAX_NODES) -> Bound:
    """Certified delta(epsilon) of the composition (module docstring), epsilon >= 0."""
    ph = check_phases(phases)
    eps = check_nonnegative("epsilon", epsilon)
    dirs = _directions(neighbours)
    check_positive_int("max_nodes", max_nodes)
    goal = target or PLD_DELTA_TARGET
    composer = _Composer(ph)
    if not composer.phases:
        return Bound.exact(0)  # every step has P = Q: delta(eps) = 0 for eps >= 0

    fixed = {}
    if "add" in dirs and _add_loss_bounded_by(composer.phases, eps):
        fixed["add"] = (arb(0), arb(0))  # the composed add loss never exceeds eps: delta = 0
        if dirs == ("add",):
            return Bound.exact(0)

    def evaluate(u: GridPLD, lo: GridPLD) -> tuple[arb, arb | None]:
        return lower_delta(lo, eps), upper_delta(u, eps)

    return _refine(composer, dirs, goal, max_nodes, evaluate, lambda b: max(b, 1e-300),
                   f"composed delta(epsilon={float(eps):g})", unit_range=True, fixed=fixed)


def _add_loss_bounded_by(phases: tuple[Phase, ...], eps: Fraction) -> bool:
    """Is ``sum_p steps_p (-log(1 - q_p)) <= eps`` certainly? The add loss of one step is
    ``-log(1 - q + q e^u) < -log(1 - q)``, so then the composed add loss is below eps surely and
    the add direction's delta(eps) = P(L > eps) - e^eps Q(L > eps) is exactly 0."""
    if any(p.q == 1 for p in phases):
        return False
    with ctx.workprec(128):
        total = arb(0)
        for p in phases:
            total += p.steps * -(-(arb(p.q.numerator) / p.q.denominator)).log1p()
        return bool(total <= arb(eps.numerator) / eps.denominator)


def composed_epsilon(phases: object, delta: object, *, neighbours: object = "add-remove",
                     target: Target | None = None, max_nodes: int = DEFAULT_MAX_NODES) -> Bound:
    """Certified eps(delta) = inf{eps >= 0 : delta(eps) <= delta} of the composition, delta in
    (0, 1] (module docstring)."""
    ph = check_phases(phases)
    dlt = check_probability("delta", delta, open_low=True)
    dirs = _directions(neighbours)
    check_positive_int("max_nodes", max_nodes)
    goal = target or PLD_EPSILON_TARGET
    composer = _Composer(ph)
    if not composer.phases:
        return Bound.exact(0)

    def evaluate(u: GridPLD, lo: GridPLD) -> tuple[arb, arb | None]:
        return lower_epsilon(lo, dlt), upper_epsilon(u, dlt)

    return _refine(composer, dirs, goal, max_nodes, evaluate, lambda _b: float(dlt),
                   f"composed epsilon(delta={float(dlt):g})", unit_range=False)


def _directions(neighbours: object) -> tuple[str, ...]:
    n = check_choice("neighbours", neighbours, NEIGHBOURS)
    return DIRECTIONS if n == "add-remove" else (n,)


Evaluate = Callable[[GridPLD, GridPLD], tuple[arb, "arb | None"]]


def _refine(composer: _Composer, dirs: tuple[str, ...], goal: Target, max_nodes: int,
            evaluate: Evaluate, delta_scale: Callable[[float], float], what: str,
            unit_range: bool, fixed: dict[str, tuple[arb, arb]] | None = None) -> Bound:
    """Shrink h until ``goal`` is met; each level's enclosure is valid, the best is kept.
    ``fixed``: directions whose (lower, upper) is known exactly and need no grid."""
    h = _dyadic(_initial_h(composer.phases))
    rel = goal.rel if goal.rel is not None else 1e-3
    scale = delta_scale(1e-15)
    nodes, prec = 1 << 14, 128
    results: dict[str, tuple[arb, arb | None]] = dict(fixed or {})
    active = [d for d in dirs if d not in results]
    best: Bound | None = None
    for _level in range(_MAX_LEVELS):
        plan = _plan(h, max(rel * scale * 1e-2, 1e-300), nodes, composer, prec)
        if plan.prec > goal.max_prec:
            break
        started = time.perf_counter()
        try:
            with ctx.workprec(plan.prec):
                for d in active:
                    up, lo = composer.composed(plan, d, True), composer.composed(plan, d, False)
                    results[d] = evaluate(up, lo)
                    nodes = max(nodes, up.length, lo.length)
        except Inconclusive:
            prec *= 2  # an undecided sign in a discretisation: more bits, same grid
            continue
        bound = _combine(results, plan.prec, unit_range)
        _LOG.debug("%s: h=%s bits=%d nodes=%d directions=%s -> %s (%.2fs)", what, plan.h,
                   plan.bits, nodes, active, bound, time.perf_counter() - started)
        if best is None or bound.width < best.width:
            best = bound
        if goal.met_by(bound):
            return bound
        active = _undominated(results, active)
        h_next = _next_h(h, bound, rel)
        if unit_range:
            old = scale
            if bound.lower > 0:
                scale = delta_scale(float(bound.lower))
            elif bound.upper > 0:  # the upper end is about the budget itself: square it
                scale = delta_scale(min(float(bound.upper) * 1e-6, float(bound.upper) ** 2))
            if scale < 0.1 * old:
                # delta is far smaller than the fixed-point unit and tails were sized for: they,
                # not the spacing, limited this width; refine them first
                h_next = h
        if nodes * float(h / h_next) > max_nodes:
            raise Inconclusive(
                f"{what}: {goal.describe()} not reached within max_nodes={max_nodes} "
                f"(width {float(bound.width):.3g} at h={float(h):.3g}, {nodes} nodes)", best)
        h = h_next
    raise Inconclusive(f"{what}: {goal.describe()} not reached in {_MAX_LEVELS} refinements",
                       best)


def _combine(results: dict[str, tuple[arb, arb | None]], prec: int, unit_range: bool) -> Bound:
    """[max of the lower bounds, max of the upper bounds] over the directions, outward."""
    lower = max(Bound.from_arb(lo, prec, _DIGITS).lower for lo, _ in results.values())
    if any(up is None for _, up in results.values()):
        upper = Decimal("Infinity") if not unit_range else Decimal(1)
    else:
        upper = max(Bound.from_arb(up, prec, _DIGITS).upper
                    for _, up in results.values() if up is not None)
    if unit_range:
        upper = min(upper, Decimal(1))
    return Bound(lower, max(upper, lower), prec)


def _undominated(results: dict[str, tuple[arb, arb | None]], active: list[str]) -> list[str]:
    """Drop a direction whose upper bound is below another's lower bound: it no longer affects the
    maximum (its last, valid, enclosure stays in ``results``)."""
    keep = []
    for d in active:
        up = results[d][1]
        if up is not None and any(results[o][0] > up for o in results if o != d):
            continue
        keep.append(d)
    return keep or active


def _next_h(h: Fraction, bound: Bound, rel: float) -> Fraction:
    """Errors are O(h^2): aim at 0.7 of the target, shrinking by a factor in [1.5, 8]."""
    width = bound.rel_width
    if not math.isfinite(width) or width <= 0:
        factor = 8.0
    else:
        factor = min(8.0, max(1.5, math.sqrt(width / (0.7 * rel))))
    return _dyadic(float(h) / factor)


__all__ = ["DEFAULT_MAX_NODES", "NEIGHBOURS", "PLD_DELTA_TARGET", "PLD_EPSILON_TARGET", "Phase",
           "Plan", "check_phases", "composed_delta", "composed_epsilon"]
