"""Certified composition of Poisson-subsampled Gaussian steps by privacy-loss distributions (PLD).

``composed_delta(phases, epsilon)`` and ``composed_epsilon(phases, delta)`` return rigorous
two-sided enclosures of the privacy profile of a composition of ``phases`` = ``[(sigma, q, steps),
...]`` (or ``(sigma, q, steps, sensitivity)``): ``steps`` Poisson-subsampled Gaussian steps
(sampling probability q, noise sd sigma, per-record L2 bound ``sensitivity``, default 1) per phase,
phases composed in sequence (heterogeneous DP-SGD). Only the noise ratio ``s = sigma /
sensitivity`` enters (the pair of a step, scaled by 1/sensitivity, is the pair below with noise
s: a bijection preserves every hockey-stick divergence). ``neighbours`` is

* ``remove`` (P = (1-q) N(0, s^2) + q N(1, s^2) against Q = N(0, s^2) per step), ``add`` (the
  reverse pair) or ``add-remove``: the maximum over the two directions of the *composed* delta
  (the record is added, or removed, in every step; Zhu, Dong, Wang 2022 on Poisson subsampling,
  and dp-accounting's ADD_OR_REMOVE_ONE), whose eps(delta) is the maximum of the two eps(delta);
* ``replace-one``: per step the pair (1-q) N(0, s^2) + q N(1, s^2) against
  (1-q) N(0, s^2) + q N(-1, s^2) of :mod:`certify.mechanisms.subsampled` (the replaced record's
  contribution v against v' = -v, |v| = C; symmetric, so one direction).

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
  dropped / moved to the highest node (lower) (:mod:`certify.accounting.pld_grid`). Where a
  step's long tail is rare, a power squares only the step's core and brings the tail in with one
  last product, the mass of two or more tail events (bounded exactly) going to +infinity or
  dropped (:mod:`certify.accounting.pld_rare`). No floating point enters a bound; floats only
  choose grids and boundaries.
* eps(delta) is inverted from each bound's profile with certified comparisons and the closed-form
  root on a segment (:mod:`certify.accounting.pld_invert`).
* ``method="auto"`` answers a single phase with ``steps = 1`` by the one-step closed forms
  (:class:`certify.mechanisms.subsampled.SubsampledGaussian`) and a single phase with ``q = 1`` by
  the Gaussian mechanism with noise sigma / sqrt(T) (Balle and Wang 2018, Thm 8;
  :class:`certify.mechanisms.gaussian.GaussianMechanism`): both are exact, and far cheaper than a
  grid. ``method="grid"`` always composes on grids (the tests compare the two).

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
from functools import lru_cache

import numpy as np
from flint import arb, ctx

from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
)
from certify.accounting import pld_pilot, pld_step
from certify.accounting.pld_grid import GridPLD, multiply, power
from certify.accounting.pld_invert import lower_delta, lower_epsilon, upper_delta, upper_epsilon
from certify.accounting.pld_lower import lower_discretisation
from certify.accounting.pld_step import (
    DIRECTIONS,
    Coarsening,
    UpperSteps,
    loss_range,
    rest_density,
    upper_discretisations,
)
from certify.errors import Inconclusive, InvalidArgument
from certify.mechanisms.gaussian import GaussianMechanism
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

NEIGHBOURS = ("add-remove", "remove", "add", "replace-one")
METHODS = ("auto", "grid")
#: default widths: eps(delta) to 1e-3 relative (issue 5's target), delta(eps) likewise
PLD_EPSILON_TARGET = Target(rel=1e-3, absolute=1e-9)
PLD_DELTA_TARGET = Target(rel=1e-3, absolute=1e-18)
#: default budget: the composed grid may hold at most this many nodes
DEFAULT_MAX_NODES = 2**19
_DIGITS = 20
_LOG = logging.getLogger(__name__)
_MAX_LEVELS = 8
#: the width asked of the closed forms (method "auto"), unless the caller asks for less
_CLOSED_REL = 1e-10
#: merged intervals need the T-fold measure to stand in for the (T-1)-fold rest of a step
_MERGE_MIN_STEPS = 4
#: The share of the requested relative width (times delta) that fixed-point rounding and tail
#: truncation may cost in delta (:func:`_plan`). Only work depends on it, never soundness: every
#: rounding and cut is directed, and each level's enclosure is checked against the target.
#: A delta(eps) query's width is in delta itself, so they get 1%. An eps(delta) query's width
#: is in eps: an error e in delta moves the inverted eps by about e / |delta'(eps)|, and
#: |delta'(eps)| = e^eps Q(L > eps) >= delta / eps whenever eps |d log delta / d eps| >= 1 (the
#: profile decays at least like 1/eps; true on issue 5's grid, where eps |d log delta/d eps| is
#: about 8 to 10^3), so an error (rel / 2) delta costs at most half the relative width in eps --
#: in practice far less (the measured widths moved by under 1% against a share of 1e-2).
_DELTA_SHARE = 1e-2
_EPSILON_SHARE = 0.5


@dataclass(frozen=True)
class Phase:
    """``steps`` Poisson-subsampled Gaussian steps: noise sd ``sigma``, sampling probability
    ``q``, per-record L2 bound ``sensitivity``. Exact rationals (a float means its exact binary
    value)."""

    sigma: Fraction
    q: Fraction
    steps: int
    sensitivity: Fraction = Fraction(1)

    @property
    def noise_ratio(self) -> Fraction:
        """s = sigma / sensitivity: the only parameter of the pair besides q."""
        return self.sigma / self.sensitivity


def _is_phase_tuple(p: object) -> bool:
    return (isinstance(p, tuple) and len(p) in (3, 4)
            and not any(isinstance(x, (tuple, list, Mapping, Phase)) for x in p))


def check_phases(phases: object) -> tuple[Phase, ...]:
    """Validate ``phases``: a non-empty sequence of ``(sigma, q, steps)`` or ``(sigma, q, steps,
    sensitivity)`` (tuples, mappings with those keys -- ``sensitivity`` optional -- or
    :class:`Phase`); a single such tuple is accepted too."""
    if isinstance(phases, Phase) or _is_phase_tuple(phases):
        phases = [phases]
    if isinstance(phases, (str, bytes, Mapping)) or not isinstance(phases, Iterable):
        raise InvalidArgument(f"phases={phases!r} must be a sequence of (sigma, q, steps).")
    out = []
    for i, ph in enumerate(phases):
        sens: object = 1
        if isinstance(ph, Phase):
            sigma, q, steps, sens = ph.sigma, ph.q, ph.steps, ph.sensitivity
        elif isinstance(ph, Mapping):
            try:
                sigma, q, steps = ph["sigma"], ph["q"], ph["steps"]
            except KeyError as err:
                raise InvalidArgument(f"phases[{i}]={ph!r} lacks the key {err}.") from None
            sens = ph.get("sensitivity", 1)
        elif isinstance(ph, (tuple, list)) and len(ph) in (3, 4):
            sigma, q, steps = ph[0], ph[1], ph[2]
            if len(ph) == 4:
                sens = ph[3]
        else:
            raise InvalidArgument(f"phases[{i}]={ph!r} must be (sigma, q, steps).")
        out.append(Phase(check_positive(f"phases[{i}].sigma", sigma),
                         check_probability(f"phases[{i}].q", q),
                         check_positive_int(f"phases[{i}].steps", steps),
                         check_positive(f"phases[{i}].sensitivity", sens)))
    if not out:
        raise InvalidArgument("phases=[] must not be empty.")
    return tuple(out)


# -- one refinement level -------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """One discretisation: spacing ``h`` (exact dyadic), fixed-point ``bits``, truncation mass
    ``cut`` per product, ``rare``: what tail events in two or more steps may cost (both per
    step, units 2^-bits; :mod:`certify.accounting.pld_rare`), one-step ``tail`` mass, Arb
    precision ``prec``."""

    h: Fraction
    bits: int
    cut: int
    tail: float
    prec: int
    rare: int = 0


class _Composer:
    """Composes the phases of one request at a Plan, caching one-step discretisations.

    ``coarsening`` (per direction, set by the refinement between levels) lets the one-step grids
    merge intervals where the previous level's composition says they hardly matter
    (:class:`~certify.accounting.pld_step.Coarsening`); it changes the work, never soundness.
    """

    def __init__(self, phases: tuple[Phase, ...]) -> None:
        self.phases = tuple(p for p in phases if p.q != 0)  # q = 0: the identity (P = Q)
        self.coarsening: dict[str, Coarsening] = {}
        self._upper: dict[tuple[Fraction, Fraction, Plan], UpperSteps] = {}
        self._lower: dict[tuple[Fraction, Fraction, Plan, str], GridPLD] = {}

    def step(self, ph: Phase, plan: Plan, direction: str, upper: bool) -> GridPLD:
        """The one-step grid PLD (computed at ``plan.prec``) of ``direction`` (``remove``,
        ``add`` or ``replace``)."""
        s = ph.noise_ratio
        with ctx.workprec(plan.prec):
            if upper:
                key = (s, ph.q, plan)
                if key not in self._upper:
                    self._upper[key] = upper_discretisations(s, ph.q, plan.h, plan.bits,
                                                             plan.tail, plan.prec,
                                                             self.coarsening)
                return self._upper[key][direction]
            lkey = (s, ph.q, plan, direction)
            if lkey not in self._lower:
                self._lower[lkey] = lower_discretisation(s, ph.q, plan.h, direction, plan.bits,
                                                         plan.tail,
                                                         self.coarsening.get(direction))
            return self._lower[lkey]

    def composed(self, plan: Plan, direction: str, upper: bool,
                 low: Fraction | None = None) -> GridPLD:
        """The composition of every phase; ``low``: it is read at losses >= low only, so its
        last product resolves only that part (:func:`~certify.accounting.pld_grid.multiply`)."""
        result: GridPLD | None = None
        done = 0
        last = len(self.phases) - 1
        for i, ph in enumerate(self.phases):
            alone = last == 0
            part = power(self.step(ph, plan, direction, upper), ph.steps, plan.cut,
                         low if alone else None, rare=plan.rare * ph.steps)
            done += ph.steps
            result = part if result is None else multiply(result, part, plan.cut * done,
                                                          low if i == last else None)
        assert result is not None
        return result

    @property
    def products(self) -> int:
        return sum(2 * max(p.steps.bit_length(), 1) for p in self.phases) + len(self.phases)

    @property
    def total_steps(self) -> int:
        return sum(p.steps for p in self.phases)


@lru_cache(maxsize=64)
def _loss_moments(s: float, q: float, direction: str) -> tuple[float, float]:
    """Float mean and variance of the loss under P (trapezoid rule; only sizes grids). Cached:
    the first spacing and the pilot ask for the same phases."""
    if direction == "replace":
        lo, hi = -1 - 12 * s, 1 + 12 * s
    else:
        lo, hi = -12 * s, 1 + 12 * s
    x = np.linspace(lo, hi, 24001)
    dens = ((1 - q) * np.exp(-0.5 * (x / s) ** 2)
            + q * np.exp(-0.5 * ((x - 1) / s) ** 2)) / (s * math.sqrt(2 * math.pi))
    if direction == "replace":
        if q >= 1:
            loss = 2 * x / (s * s)
        else:
            a, c = math.log1p(-q), math.log(q) - 1 / (2 * s * s)
            loss = np.logaddexp(a, c + x / (s * s)) - np.logaddexp(a, c - x / (s * s))
    else:
        u = (2 * x - 1) / (2 * s * s)
        loss = u if q >= 1 else np.logaddexp(math.log1p(-q), math.log(q) + u)
    w = dens / np.trapezoid(dens, x)
    mean = float(np.trapezoid(w * loss, x))
    return mean, float(np.trapezoid(w * (loss - mean) ** 2, x))


def _dyadic(h: float) -> Fraction:
    """h rounded down to 6 significant bits (an exact dyadic rational; within 3% of h)."""
    e = math.floor(math.log2(h))
    return Fraction(math.floor(h / 2.0**e * 32), 32) * Fraction(2) ** e


def _initial_h(phases: tuple[Phase, ...], dirs: tuple[str, ...]) -> float:
    """A cheap first spacing: about 512 one-step nodes or 4096 composed nodes (20 standard
    deviations of the composed loss), whichever is coarser, but at most 1/4 deviation."""
    total, one_step = 0.0, 0.0
    kind = "replace" if "replace" in dirs else "remove"
    for p in phases:
        s, q = float(p.noise_ratio), float(p.q)
        _, var = _loss_moments(s, q, kind)
        total += p.steps * var
        lo, hi = loss_range(s, q, 1e-12, kind)
        one_step = max(one_step, hi - lo)
    spread = math.sqrt(total)
    return min(max(one_step / 128, 20 * spread / 4096), spread / 4)


def _plan(h: Fraction, tolerance: float, nodes: int, composer: _Composer, prec: int) -> Plan:
    """Bits, truncation and tails so that their total effect on delta stays below ``tolerance``
    (a small fraction of the requested width), leaving the width to the grid spacing. ``cut`` is
    per step: a product making an m-fold composition cuts tails of mass ``m cut``
    (:func:`certify.accounting.pld_grid.power`); so is ``rare``, the budget of a phase's
    multiple tail events (``steps rare``, :mod:`certify.accounting.pld_rare`). Rounding, cuts,
    one-step tails and rare events get about an eighth of the tolerance each. Arb works at
    ``bits + 32`` bits at least: a one-step mass loses about log2(1/h) bits to the cancellation
    of connect-the-dots (or of an interval's CDF difference) and is then rounded to 2^-bits, so
    the balls stay far narrower than a unit; only their width, never soundness, depends on it
    (an undecided sign doubles the precision)."""
    products, steps = composer.products, composer.total_steps
    bits = max(64, math.ceil(math.log2(8 * max(nodes, 1024) * products * steps / tolerance)))
    cut = max(1, math.floor(tolerance / (8 * products * steps) * 2.0**bits))
    rare = math.floor(tolerance / (8 * steps) * 2.0**bits)
    tail = tolerance / (8 * steps)
    return Plan(h, bits, cut, tail, max(prec, bits + 32), rare)


# -- the public API -------------------------------------------------------------------------------
def composed_delta(phases: object, epsilon: object, *, neighbours: object = "add-remove",
                   target: Target | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                   method: object = "auto") -> Bound:
    """Certified delta(epsilon) of the composition (module docstring), epsilon >= 0."""
    ph = check_phases(phases)
    eps = check_nonnegative("epsilon", epsilon)
    n = check_choice("neighbours", neighbours, NEIGHBOURS)
    dirs = _directions(n)
    check_positive_int("max_nodes", max_nodes)
    how = check_choice("method", method, METHODS)
    goal = target or PLD_DELTA_TARGET
    composer = _Composer(ph)
    if not composer.phases:
        return Bound.exact(0)  # every step has P = Q: delta(eps) = 0 for eps >= 0
    exact = _closed_form(composer.phases, n) if how == "auto" else None
    if exact is not None:
        return exact.delta(eps, _closed_target(goal))

    fixed = {}
    if "add" in dirs and _add_loss_bounded_by(composer.phases, eps):
        fixed["add"] = (arb(0), arb(0))  # the composed add loss never exceeds eps: delta = 0
        if dirs == ("add",):
            return Bound.exact(0)

    def evaluate(u: GridPLD, lo: GridPLD | None) -> tuple[arb, arb | None]:
        return (arb(0) if lo is None else lower_delta(lo, eps)), upper_delta(u, eps)

    e_float = float(eps)
    return _refine(composer, dirs, goal, max_nodes, evaluate, lambda b: max(b, 1e-300),
                   f"composed delta(epsilon={e_float:g})", unit_range=True, fixed=fixed,
                   epsilon=e_float, read_from=lambda _previous, _h: eps,
                   pilot=lambda c: c.delta(e_float))


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
                     target: Target | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                     method: object = "auto") -> Bound:
    """Certified eps(delta) = inf{eps >= 0 : delta(eps) <= delta} of the composition, delta in
    (0, 1] (module docstring)."""
    ph = check_phases(phases)
    dlt = check_probability("delta", delta, open_low=True)
    n = check_choice("neighbours", neighbours, NEIGHBOURS)
    dirs = _directions(n)
    check_positive_int("max_nodes", max_nodes)
    how = check_choice("method", method, METHODS)
    goal = target or PLD_EPSILON_TARGET
    composer = _Composer(ph)
    if not composer.phases:
        return Bound.exact(0)
    exact = _closed_form(composer.phases, n) if how == "auto" else None
    if exact is not None:
        return exact.epsilon(dlt, _closed_target(goal))

    def evaluate(u: GridPLD, lo: GridPLD | None) -> tuple[arb, arb | None]:
        return (arb(0) if lo is None else lower_epsilon(lo, dlt)), upper_epsilon(u, dlt)

    d_float = float(dlt)
    return _refine(composer, dirs, goal, max_nodes, evaluate, lambda _b: d_float,
                   f"composed epsilon(delta={d_float:g})", unit_range=False,
                   share=_EPSILON_SHARE, read_from=_epsilon_read_from,
                   pilot=lambda c: c.epsilon(d_float) if d_float >= _PILOT_MIN_DELTA else math.nan)


def _epsilon_read_from(previous: Bound | None, h: Fraction) -> Fraction | None:
    """The loss from which an eps(delta) level's composed measures are read (their last product
    resolves only losses above it; :func:`~certify.accounting.pld_grid.multiply`): the previous
    level's lower end less its width and 4 h, where the new level's roots are expected (each
    level's bounds enclose the truth, and a finer level's are narrower). Only work depends on
    it: a root below it still gives valid, if looser, bounds (the lumped or dropped mass moves
    each bound in its own direction). None (resolve everything) without a previous level."""
    if previous is None or not (previous.lower.is_finite() and previous.upper.is_finite()):
        return None
    lower, upper = Fraction(previous.lower), Fraction(previous.upper)
    low = lower - (upper - lower) - 4 * h
    return low if low > 0 else None


def _closed_form(phases: tuple[Phase, ...], neighbours: str
                 ) -> GaussianMechanism | SubsampledGaussian | None:
    """The exact mechanism of a single phase with q = 1 (the Gaussian mechanism with T
    compositions; its remove and add pairs have one profile) or with one step (the one-step
    closed forms), else None."""
    if len(phases) != 1:
        return None
    p = phases[0]
    if p.q == 1:
        relation = "replace-one" if neighbours == "replace-one" else "add-remove"
        return GaussianMechanism(p.sigma, p.sensitivity, p.steps, relation)
    if p.steps == 1:
        return SubsampledGaussian(p.sigma, p.q, p.sensitivity, neighbours)
    return None


def _closed_target(goal: Target) -> Target:
    """The closed forms cost milliseconds at any width: at least relative width 1e-10."""
    rel = _CLOSED_REL if goal.rel is None else min(goal.rel, _CLOSED_REL)
    return Target(rel=rel, absolute=goal.absolute, max_prec=goal.max_prec)


def _directions(neighbours: str) -> tuple[str, ...]:
    if neighbours == "add-remove":
        return DIRECTIONS
    return ("replace",) if neighbours == "replace-one" else (neighbours,)


#: (upper measure, lower measure or None) -> (lower bound, upper bound or None); without a lower
#: measure the lower bound is 0 (eps and delta are >= 0)
Evaluate = Callable[[GridPLD, "GridPLD | None"], tuple[arb, "arb | None"]]


def _refine(composer: _Composer, dirs: tuple[str, ...], goal: Target, max_nodes: int,
            evaluate: Evaluate, delta_scale: Callable[[float], float], what: str,
            unit_range: bool, fixed: dict[str, tuple[arb, arb]] | None = None,
            epsilon: float | None = None, share: float = _DELTA_SHARE,
            read_from: Callable[[Bound | None, Fraction], Fraction | None] | None = None,
            pilot: Callable[[pld_pilot.Composed], float] | None = None) -> Bound:
    """Shrink h until ``goal`` is met; each level's enclosure is valid, the best is kept.
    ``fixed``: directions whose (lower, upper) is known exactly and need no grid; ``epsilon``:
    the eps of a delta(eps) query (an eps(delta) query uses each level's answer), where the
    merging rule of the next level looks (:func:`_coarsening`); ``share``: the fraction of the
    relative target (times the delta scale) that rounding and truncation may cost in delta
    (:data:`_DELTA_SHARE`, :data:`_EPSILON_SHARE`); ``read_from(previous level's bound, h)``: the
    loss from which the composed measures are read (None: all of them); ``pilot``: the query on
    a float composed measure, for :func:`_pilot_start` (which then chooses the first level)."""
    h = _dyadic(_initial_h(composer.phases, dirs))
    rel = goal.rel if goal.rel is not None else 1e-3
    scale = delta_scale(1e-15)
    nodes, prec = 1 << 14, 96
    results: dict[str, tuple[arb, arb | None]] = dict(fixed or {})
    active = [d for d in dirs if d not in results]
    best: Bound | None = None
    previous: Bound | None = None
    lagging: dict[str, Fraction] = {}  # a coarser spacing for a direction that trails
    start = _pilot_start(composer, active, rel, pilot, max_nodes, epsilon) if pilot else None
    # a direction the pilot sees trailing needs only its upper bound (the answer's lower end is
    # the maximum of the lower ends, which the leader gives); from the second level on, both
    upper_only: set[str] = set()
    if start is not None:
        h, lagging, composer.coarsening, lead = start
        upper_only = set(lagging)
        if unit_range:
            scale = delta_scale(0.5 * lead)
        else:  # where the first level's roots are expected (read_from)
            previous = Bound(Decimal(0.9 * lead), Decimal(lead))
    for _level in range(_MAX_LEVELS):
        tolerance = max(rel * scale * share, 1e-300)
        plans = {d: _plan(lagging.get(d, h), tolerance, nodes, composer, prec) for d in active}
        plan = _plan(h, tolerance, nodes, composer, prec)
        if max(p.prec for p in (plan, *plans.values())) > goal.max_prec:
            break
        started = time.perf_counter()
        try:
            uppers = {}
            for d in active:
                low = read_from(previous, plans[d].h) if read_from is not None else None
                with ctx.workprec(plans[d].prec):
                    up = composer.composed(plans[d], d, True, low)
                    lo = None if d in upper_only else composer.composed(plans[d], d, False, low)
                    results[d] = evaluate(up, lo)
                uppers[d] = up
                nodes = max(nodes, up.nodes, lo.nodes if lo is not None else 0)
        except Inconclusive:
            prec *= 2  # an undecided sign in a discretisation: more bits, same grid
            continue
        bound = _combine(results, max((p.prec for p in plans.values()), default=plan.prec),
                         unit_range)
        _LOG.debug("%s: h=%s bits=%d nodes=%d directions=%s -> %s (%.2fs)", what,
                   {d: str(p.h) for d, p in plans.items()}, plan.bits, nodes, active, bound,
                   time.perf_counter() - started)
        if best is None or bound.width < best.width:
            best = bound
        previous = bound
        upper_only = set()
        if goal.met_by(bound):
            return bound
        active = _undominated(results, active)
        if composer.total_steps >= _MERGE_MIN_STEPS:
            composer.coarsening = _coarsening(uppers, results, active, epsilon)
        # a long jump only with one direction at the finest spacing: with two, an intermediate
        # level (factor 8) usually tells which one dominates, and the finest level then
        # composes only that one
        used = {d: p.h for d, p in plans.items()}
        lagging = _lagging(results, active, used, _next_h(h, bound, rel), rel)
        room = max_nodes / max(nodes, 1) if len(active) - len(lagging) <= 1 else 8.0
        h_next = _next_h(h, bound, rel, room, 1.75 if _level == 0 and start is None else 2.0)
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
        lagging = {d: max(g, h_next) for d, g in lagging.items()}  # never finer than the lead
        if nodes * float(h / h_next) > max_nodes:
            raise Inconclusive(
                f"{what}: {goal.describe()} not reached within max_nodes={max_nodes} "
                f"(width {float(bound.width):.3g} at h={float(h):.3g}, {nodes} nodes)", best)
        h = h_next
    raise Inconclusive(f"{what}: {goal.describe()} not reached in {_MAX_LEVELS} refinements",
                       best)


#: the first certified level is aimed at this fraction of the requested width when the pilot
#: chooses it (its predictions err on the wide side by up to ~30% on issue 5's grid)
_PILOT_AIM = 0.8
#: the pilot's width model is calibrated on long compositions (near-Gaussian losses); shorter
#: ones start with a coarse certified level, which costs little there
_PILOT_MIN_STEPS = 1000
#: below this delta the pilot's floats (FFT noise about 1e-16 of the total mass) are not used
_PILOT_MIN_DELTA = 1e-10
_PilotStart = tuple[Fraction, dict[str, Fraction], dict[str, Coarsening], float]


def _pilot_start(composer: _Composer, active: list[str], rel: float,
                 query: Callable[[pld_pilot.Composed], float], max_nodes: int,
                 epsilon: float | None) -> _PilotStart | None:
    """The first certified level from a float pilot (:mod:`certify.accounting.pld_pilot`): the
    spacing at which the leading direction's predicted width is ``_PILOT_AIM`` of the target,
    coarser spacings for a direction whose estimate trails the leader's by more than its own
    predicted error (the rule of :func:`_lagging`), the merging rule from the pilot's composed
    measures, and the leading estimate. None -- the usual coarse first level -- for fewer than
    ``_PILOT_MIN_STEPS`` steps, a pilot that is not usable, or a spacing beyond the node budget.
    Floats: only work depends on it."""
    if composer.total_steps < _PILOT_MIN_STEPS or not active:
        return None
    phases = [(float(p.noise_ratio), float(p.q), p.steps) for p in composer.phases]
    kind = "replace" if "replace" in active else "remove"
    scale = math.sqrt(sum(p.steps * _loss_moments(float(p.noise_ratio), float(p.q), kind)[1]
                          for p in composer.phases))
    estimates: dict[str, tuple[pld_pilot.Estimate, float]] = {}
    for d in active:
        found = pld_pilot.estimate(phases, d, scale, query)
        if found is None:
            return None
        estimates[d] = found
    lead_dir = max(estimates, key=lambda d: estimates[d][0].value)
    best, spacing = estimates[lead_dir]
    lead = float(best.value)
    if not (math.isfinite(lead) and lead >= _PILOT_MIN_DELTA):
        return None
    h = best.spacing(_PILOT_AIM * rel * lead)
    spread = spacing / pld_pilot.PILOT_SPACING
    if 40 * spread / h > max_nodes / 2:
        return None
    lagging: dict[str, Fraction] = {}
    for d, (est, _) in estimates.items():
        gap = lead * (1 - rel) - est.value
        if d != lead_dir and gap > 0:
            h_d = math.sqrt(0.5 * gap / est.error)
            if h_d > h:
                lagging[d] = _dyadic(h_d)
    coarsening = {d: Coarsening(est.rest.density(), est.value if epsilon is None else epsilon,
                                pld_step.COARSEN)
                  for d, (est, _) in estimates.items()} if pld_step.COARSEN > 0 else {}
    return _dyadic(h), lagging, coarsening, lead


def _lagging(results: Mapping[str, tuple[arb, arb | None]], active: list[str],
             used: dict[str, Fraction], h_next: Fraction, rel: float) -> dict[str, Fraction]:
    """Coarser spacings for the next level's trailing directions. The answer is the maximum over
    the directions, so a direction whose whole interval will lie below the leading one's lower
    end no longer matters (:func:`_undominated` then drops it): it needs only the relative width
    ``gap / mid``, not the target (``gap`` from its midpoint to the largest lower end the others
    will have once refined to the target: their midpoints less the relative target), and is
    refined towards that (:func:`_next_h`, never finer than ``h_next``). Floats: only work
    depends on the spacings; every direction's enclosure is valid at any spacing and
    :func:`_combine` takes the maximum of the lower and of the upper ends."""
    out: dict[str, Fraction] = {}
    if len(active) < 2:
        return out
    for d in active:
        lo, hi = results[d]
        others = [x for x in (_middle(results[o]) for o in results if o != d) if x is not None]
        if hi is None or not (lo.is_finite() and hi.is_finite()) or not others:
            continue
        if not lo > 0:  # no lower end known (an upper-only level, or exactly 0): no shortcut
            continue
        low, high = float(lo.mid()), float(hi.mid())
        mid = 0.5 * (low + high)
        gap = max(others) * (1 - rel) - mid
        tops = [results[o][1] for o in results if o != d]
        leads = any(t is not None and not bool(t > hi) for t in tops)  # its upper end is not
        if leads or not (mid > 0 and gap > 0 and high > low):  # below every other one's
            continue
        need = gap / mid  # then d's upper end, about mid + gap / 2, is below lead
        if need <= rel:
            continue
        width = (high - low) / mid
        factor = min(8.0, max(1.5, math.sqrt(width / (0.7 * need)))) if width > need else 1.0
        out[d] = max(h_next, _dyadic(float(used[d]) / factor))
    return out


def _middle(result: tuple[arb, arb | None]) -> float | None:
    """The float midpoint of a direction's enclosure, or its lower end when the upper is
    unknown (None when neither is finite)."""
    lo, hi = result
    if not lo.is_finite():
        return None
    if hi is None or not hi.is_finite():
        return float(lo.mid())
    return 0.5 * (float(lo.mid()) + float(hi.mid()))


def _coarsening(uppers: dict[str, GridPLD], results: dict[str, tuple[arb, arb | None]],
                active: list[str], epsilon: float | None) -> dict[str, Coarsening]:
    """The merging rule for the next level: per active direction, the density of this level's
    composed (upper) measure, looked at from eps (the query's, or the middle of this level's
    answer). Needs enough steps for the T-fold measure to stand in for the (T-1)-fold rest."""
    out: dict[str, Coarsening] = {}
    theta = pld_step.COARSEN
    if theta <= 0:
        return out
    for d in active:
        up = uppers.get(d)
        if up is None:
            continue
        if epsilon is not None:
            eps = epsilon
        else:
            lo, hi = results[d]
            if hi is None or not (lo.is_finite() and hi.is_finite()):
                continue
            eps = 0.5 * (float(lo.mid()) + float(hi.mid()))
        out[d] = Coarsening(rest_density(up), eps, theta)
    return out


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


def _next_h(h: Fraction, bound: Bound, rel: float, room: float = 8.0,
            order: float = 2.0) -> Fraction:
    """Errors are O(h^2): aim at 0.7 of the target, shrinking by a factor in [1.5, 8]. A larger
    jump (up to 32 and ``room``) saves a level when the width is far from the target; its
    factor is ``ratio^(1/order)``: from the first, coarsest level the errors fall more slowly
    than h^2 (about h^1.75 between the first two levels on issue 5's grid), so :func:`_refine`
    asks ``order=1.75`` there, 2 later. Only work depends on h."""
    width = bound.rel_width
    if not math.isfinite(width) or width <= 0:
        factor = 8.0
    else:
        ratio = width / (0.7 * rel)
        factor = max(1.5, math.sqrt(ratio))
        if factor > 8.0:
            factor = max(8.0, min(ratio ** (1 / order), 32.0, room))
    return _dyadic(float(h) / factor)


__all__ = ["DEFAULT_MAX_NODES", "METHODS", "NEIGHBOURS", "PLD_DELTA_TARGET", "PLD_EPSILON_TARGET",
           "Phase", "Plan", "check_phases", "composed_delta", "composed_epsilon"]
