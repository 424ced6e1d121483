"""The refinement of a composition: levels of shrinking grid spacing until the requested width.

:func:`refine` runs levels of :class:`~certify.accounting.pld_compose.Composer` -- each a valid
enclosure, the best one kept -- choosing each level's spacing from the last one's width (errors
are O(h^2), :func:`next_h`), or the first one from a float pilot (:func:`pilot_start`,
:mod:`certify.accounting.pld_pilot`); for add/remove neighbours a trailing direction gets a
coarser grid (:func:`trailing_spacings`) and is dropped once the other dominates it
(:func:`undominated`), and each level's composed measures steer the next level's merging rule
(:func:`next_merging`). Every choice here changes only the work: soundness is the certified
levels'.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flint import arb, ctx

from certify.accounting import pld_pilot, pld_step
from certify.accounting.pld_compose import (
    Composer,
    Plan,
    dyadic,
    initial_h,
    level_plan,
    loss_moments,
)
from certify.accounting.pld_grid import GridPLD
from certify.accounting.pld_step import Coarsening, rest_density
from certify.errors import Inconclusive
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

_DIGITS = 20
_LOG = logging.getLogger("certify.accounting.pld")
_MAX_LEVELS = 8
#: merged intervals need the T-fold measure to stand in for the (T-1)-fold rest of a step
_MERGE_MIN_STEPS = 4
#: below this delta the merging rule's float densities are too noisy to steer it
#: (:func:`_merging_resolved`)
_MERGE_MIN_DELTA = 1e-13
#: The share of the requested relative width (times delta) that fixed-point rounding and tail
#: truncation may cost in delta (:func:`~certify.accounting.pld_compose.level_plan`). Only work
#: depends on it, never soundness: every rounding and cut is directed, and each level's
#: enclosure is checked against the target. A delta(eps) query's width is in delta itself, so
#: they get 1%. An eps(delta) query's width is in eps: an error e in delta moves the inverted eps
#: by about e / |delta'(eps)|, and |delta'(eps)| = e^eps Q(L > eps) >= delta / eps whenever
#: eps |d log delta / d eps| >= 1 (the profile decays at least like 1/eps; true on issue 5's
#: grid, where eps |d log delta/d eps| is about 8 to 10^3), so an error (rel / 2) delta costs at
#: most half the relative width in eps -- in practice far less (the measured widths moved by
#: under 1% against a share of 1e-2).
DELTA_SHARE = 1e-2
EPSILON_SHARE = 0.5


#: (upper measure, lower measure or None) -> (lower bound, upper bound or None); without a lower
#: measure the lower bound is 0 (eps and delta are >= 0)
Evaluate = Callable[[GridPLD, "GridPLD | None"], tuple[arb, "arb | None"]]
#: the reverse direction of each add/remove direction (the pair with P and Q swapped)
MIRROR = {"remove": "add", "add": "remove"}


@dataclass(frozen=True)
class Reflect:
    """How a trailing direction's answer may come from its mirror's upper measure
    (:func:`~certify.accounting.pld_invert.reflected_upper_delta`): ``low(previous, h)`` is the
    loss from which the mirror's upper measure must then be resolved (below minus the trailing
    answer), ``bound(upper measure, mirror's enclosure)`` the trailing direction's (lower, upper)
    when it is certified not to exceed the mirror's lower end, else None."""

    low: Callable[[Bound | None, Fraction], Fraction | None]
    bound: Callable[[GridPLD, tuple[arb, arb | None]], tuple[arb, arb] | None]


def refine(composer: Composer, dirs: tuple[str, ...], goal: Target, max_nodes: int,
           evaluate: Evaluate, delta_scale: Callable[[float], float], what: str,
           unit_range: bool, fixed: dict[str, tuple[arb, arb]] | None = None,
           epsilon: float | None = None, share: float = DELTA_SHARE,
           read_from: Callable[[Bound | None, Fraction], Fraction | None] | None = None,
           pilot: Callable[[pld_pilot.Composed], float] | None = None,
           reflect: Reflect | None = None) -> Bound:
    """Shrink h until ``goal`` is met; each level's enclosure is valid, the best is kept.
    ``fixed``: directions whose (lower, upper) is known exactly and need no grid; ``epsilon``:
    the eps of a delta(eps) query (an eps(delta) query uses each level's answer), where the
    merging rule of the next level looks (:func:`next_merging`); ``share``: the fraction of the
    relative target (times the delta scale) that rounding and truncation may cost in delta
    (:data:`DELTA_SHARE`, :data:`EPSILON_SHARE`); ``read_from(previous level's bound, h)``: the
    loss from which the composed measures are read (None: all of them); ``pilot``: the query on
    a float composed measure, for :func:`pilot_start` (which then chooses the first level);
    ``reflect``: a direction the pilot sees trailing is first bounded from its mirror's upper
    measure (:class:`Reflect`), and composed only if that does not certify it below."""
    h = dyadic(initial_h(composer.phases, dirs))
    rel = goal.rel if goal.rel is not None else 1e-3
    scale = delta_scale(1e-15)
    nodes, prec = 1 << 14, 96
    results: dict[str, tuple[arb, arb | None]] = dict(fixed or {})
    active = [d for d in dirs if d not in results]
    best: Bound | None = None
    previous: Bound | None = None
    lagging: dict[str, Fraction] = {}  # a coarser spacing for a direction that trails
    start = pilot_start(composer, active, rel, pilot, max_nodes, epsilon, delta_scale) if pilot \
        else None
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
        plans = {d: level_plan(lagging.get(d, h), tolerance, nodes, composer, prec) for d in active}
        plan = level_plan(h, tolerance, nodes, composer, prec)
        if max(p.prec for p in (plan, *plans.values())) > goal.max_prec:
            break
        started = time.perf_counter()
        lows = {(d, up): read_from(previous, p.h) if read_from is not None else None
                for d, p in plans.items() for up in (True, False)}
        mirrored = reflect if reflect is not None and upper_only else None
        if mirrored is not None:  # a leader's upper measure must reach its mirror's answer
            for d in upper_only:
                m = MIRROR.get(d)
                if m in plans:
                    lows[m, True] = _lowest(lows[m, True], mirrored.low(previous, plans[m].h))
        try:
            uppers, composed_nodes = _compose_level(composer, plans, lows, upper_only, evaluate,
                                                    results, mirrored)
        except Inconclusive:
            prec *= 2  # an undecided sign in a discretisation: more bits, same grid
            continue
        nodes = max(nodes, composed_nodes)
        bound = combine(results, max((p.prec for p in plans.values()), default=plan.prec),
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
        active = undominated(results, active)
        if composer.total_steps >= _MERGE_MIN_STEPS and _merging_resolved(bound, delta_scale):
            composer.coarsening = next_merging(uppers, results, active, epsilon)
        else:
            composer.coarsening = {}
        # a long jump only with one direction at the finest spacing: with two, an intermediate
        # level (factor 8) usually tells which one dominates, and the finest level then
        # composes only that one
        used = {d: p.h for d, p in plans.items()}
        lagging = trailing_spacings(results, active, used, next_h(h, bound, rel), rel)
        room = max_nodes / max(nodes, 1) if len(active) - len(lagging) <= 1 else 8.0
        h_next = next_h(h, bound, rel, room, 1.75 if _level == 0 and start is None else 2.0)
        if unit_range:
            old, scale = scale, _delta_scale(bound, delta_scale, scale)
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


def _compose_level(composer: Composer, plans: Mapping[str, Plan],
                   lows: Mapping[tuple[str, bool], Fraction | None], upper_only: set[str],
                   evaluate: Evaluate, results: dict[str, tuple[arb, arb | None]],
                   reflect: Reflect | None = None) -> tuple[dict[str, GridPLD], int]:
    """One level: every direction of ``plans`` composed at its plan (only its upper pipeline if
    in ``upper_only``), each pipeline read from its ``lows`` entry (direction, upper), its
    enclosure stored in ``results``. With ``reflect``, a direction of ``upper_only`` is first
    bounded from its mirror's upper measure (composed first) and composed only if that fails.
    Returns the composed upper measures and the most nodes any composed measure spans."""
    uppers: dict[str, GridPLD] = {}
    nodes = 0
    for d in sorted(plans, key=lambda x: x in upper_only):  # leaders first
        plan = plans[d]
        mirror = MIRROR.get(d)
        if reflect is not None and d in upper_only and mirror in uppers:
            with ctx.workprec(plan.prec):
                found = reflect.bound(uppers[mirror], results[mirror])
            if found is not None:
                results[d] = found
                continue
        with ctx.workprec(plan.prec):
            up = composer.composed(plan, d, True, lows[d, True])
            lo = None if d in upper_only else composer.composed(plan, d, False, lows[d, False])
            results[d] = evaluate(up, lo)
        uppers[d] = up
        nodes = max(nodes, up.nodes, lo.nodes if lo is not None else 0)
    return uppers, nodes


def _merging_resolved(bound: Bound, delta_scale: Callable[[float], float]) -> bool:
    """Can the merging rule's float densities resolve the answer's delta? Its weights are
    composed densities in floats (a partial product's two factors convolved by FFT, noise about
    1e-16 of the peak), and a delta below :data:`_MERGE_MIN_DELTA` is made of densities near
    that noise: there the rule merged where it mattered (at (2, 0.001, 100), delta(0.05) ~
    6e-16, the merged lower bound lost 2% and finer levels did worse), so such levels keep
    every node (at delta 1e-12 merging still held: eps(1e-12) at (1, 0.01, 5000) met the
    target at twice the speed)."""
    upper = float(bound.upper) if bound.upper.is_finite() else math.inf
    return delta_scale(upper) >= _MERGE_MIN_DELTA


def _lowest(a: Fraction | None, b: Fraction | None) -> Fraction | None:
    """The lower of two read-from losses (None: read everything)."""
    return None if a is None or b is None else min(a, b)


def _delta_scale(bound: Bound, delta_scale: Callable[[float], float], scale: float) -> float:
    """The size of delta the next level's budgets are sized for (a delta(eps) query): this
    level's lower end, or, with only the upper end positive -- about the budget itself --
    the smaller of 1e-6 times it and its square; unchanged when both ends are 0."""
    if bound.lower > 0:
        return delta_scale(float(bound.lower))
    if bound.upper > 0:
        return delta_scale(min(float(bound.upper) * 1e-6, float(bound.upper) ** 2))
    return scale


#: the first certified level is aimed at this fraction of the requested width when the pilot
#: chooses it (its predictions err by up to ~10% on the narrow side on issue 5's grid: the
#: widest first level there came out at 0.86 of the target)
_PILOT_AIM = 0.8
#: the farthest (as a multiple of the pilot's finer spacing) the pilot's O(h^2) error model is
#: extrapolated: a first level coarser than that is piloted again at spacings h and h / 2
#: (the higher-order terms had the certified width at 2.1 C h^2 where h was 10 pilot
#: spacings, and at 1.2 C h^2 where it was 36; sigma = 2 at T = 100, about 4 spacings, needs
#: no second pilot)
_PILOT_REACH = 5.0
#: below this many steps the loss is far from Gaussian (one or two sampled steps dominate it)
#: and the pilot's width model misses as often as it helps (measured for T = 2 to 7 on issue 5's
#: (q, sigma) grid); such compositions start with a coarse certified level, which costs little
_PILOT_MIN_STEPS = 10
#: the most a mirrored pilot's FFT noise may add to the reverse profile, relative to the
#: query's delta scale (:func:`_mirrored_estimate`)
_MIRROR_NOISE = 1e-4
#: below this delta the pilot's floats (FFT noise about 1e-16 of the total mass) are not used
PILOT_MIN_DELTA = 1e-10
PilotStart = tuple[Fraction, dict[str, Fraction], dict[str, Coarsening], float]


def pilot_start(composer: Composer, active: list[str], rel: float,
                 query: Callable[[pld_pilot.Composed], float], max_nodes: int,
                 epsilon: float | None,
                 delta_scale: Callable[[float], float] | None = None) -> PilotStart | None:
    """The first certified level from a float pilot (:mod:`certify.accounting.pld_pilot`): the
    spacing at which the leading direction's predicted width is ``_PILOT_AIM`` of the target,
    coarser spacings for a direction whose estimate trails the leader's by more than its own
    predicted error (the rule of :func:`trailing_spacings`), the merging rule from the pilot's
    composed measures, and the leading estimate. None -- the usual coarse first level -- for
    fewer than ``_PILOT_MIN_STEPS`` steps, a pilot that is not usable, or a spacing beyond the
    node budget. Where that spacing is more than :data:`_PILOT_REACH` pilot spacings, the
    pilot is run again at it (the error model is measured where it is used). ``delta_scale``
    (of an answer: the query's delta, or the answer for a delta(eps) query): with it, a
    direction trailing its mirror may be read from the mirror's pilot
    (:func:`_mirrored_estimate`); without, every direction gets its own.
    Floats: only work depends on it."""
    if composer.total_steps < _PILOT_MIN_STEPS or not active:
        return None
    phases = [(float(p.noise_ratio), float(p.q), p.steps) for p in composer.phases]
    kind = "replace" if "replace" in active else "remove"
    scale = math.sqrt(sum(p.steps * loss_moments(float(p.noise_ratio), float(p.q), kind)[1]
                          for p in composer.phases))
    estimates = _estimates(phases, active, scale, rel, query, delta_scale)
    first = None if estimates is None else _first_level(estimates, rel)
    if estimates is None or first is None:
        return None
    lead_dir, h = first
    if h > _PILOT_REACH * estimates[lead_dir][1]:  # measure the error where the level will be
        closer = _estimates(phases, active, scale, rel, query, delta_scale, h / 2)
        again = None if closer is None else _first_level(closer, rel)
        if closer is not None and again is not None:
            estimates, (lead_dir, h) = closer, again
    lead = float(estimates[lead_dir][0].value)
    # a composed measure spans about 17-20 deviations (tails cut at the tolerance): a first
    # level of more than half the node budget is left to the coarse start
    if 20 * scale / h > max_nodes / 2:
        return None
    lagging: dict[str, Fraction] = {}
    for d, (est, _) in estimates.items():
        gap = lead * (1 - rel) - est.value
        if d != lead_dir and gap > 0:
            h_d = math.sqrt(0.5 * gap / est.error)
            if h_d > h:
                lagging[d] = dyadic(h_d)
    coarsening = {d: Coarsening(est.rest.density(), est.value if epsilon is None else epsilon,
                                pld_step.COARSEN)
                  for d, (est, _) in estimates.items()} if pld_step.COARSEN > 0 else {}
    return dyadic(h), lagging, coarsening, lead


def _first_level(estimates: Mapping[str, tuple[pld_pilot.Estimate, float]], rel: float
                 ) -> tuple[str, float] | None:
    """(leading direction, spacing of the first level: the leader's predicted width
    ``_PILOT_AIM`` of the target), or None when the leading estimate is not finite or below
    :data:`PILOT_MIN_DELTA`."""
    lead_dir = max(estimates, key=lambda d: estimates[d][0].value)
    best = estimates[lead_dir][0]
    if not (math.isfinite(best.value) and best.value >= PILOT_MIN_DELTA):
        return None
    return lead_dir, best.spacing(_PILOT_AIM * rel * best.value)


def _estimates(phases: list[tuple[float, float, int]], active: list[str], scale: float,
               rel: float, query: Callable[[pld_pilot.Composed], float],
               delta_scale: Callable[[float], float] | None, spacing: float | None = None
               ) -> dict[str, tuple[pld_pilot.Estimate, float]] | None:
    """Every active direction's pilot (:func:`pld_pilot.estimate`, at the finer ``spacing``
    when given; a trailing direction read from its mirror's where :func:`_mirrored_estimate`
    allows), or None when one is not usable."""
    estimates: dict[str, tuple[pld_pilot.Estimate, float]] = {}
    for d in active:
        found = None if delta_scale is None else \
            _mirrored_estimate(estimates, d, rel, query, delta_scale)
        if found is None:
            found = pld_pilot.estimate(phases, d, scale, query, spacing)
        if found is None:
            return None
        estimates[d] = found
    return estimates


def _mirrored_estimate(estimates: Mapping[str, tuple[pld_pilot.Estimate, float]], d: str,
                       rel: float, query: Callable[[pld_pilot.Composed], float],
                       delta_scale: Callable[[float], float]
                       ) -> tuple[pld_pilot.Estimate, float] | None:
    """Direction d's pilot read from its mirror's composed measures (:func:`pld_pilot.mirrored`;
    no second FFT composition) when the mirror has been estimated, the amplified FFT noise stays
    below :data:`_MIRROR_NOISE` of the query's delta scale, and d trails the mirror by more than
    the relative target (then only the trailing rule and the mirrored check of :class:`Reflect`
    use it; a direction that may lead gets its own pilot, whose error model sets h)."""
    mirror = MIRROR.get(d)
    if mirror is None or mirror not in estimates:
        return None
    other, h = estimates[mirror]
    budget = _MIRROR_NOISE * delta_scale(other.value)
    found = pld_pilot.mirrored(other, h, query, budget)
    if found is None or not found.value < other.value * (1 - rel):
        return None
    return found, h


def trailing_spacings(results: Mapping[str, tuple[arb, arb | None]], active: list[str],
             used: dict[str, Fraction], h_next: Fraction, rel: float) -> dict[str, Fraction]:
    """Coarser spacings for the next level's trailing directions. The answer is the maximum over
    the directions, so a direction whose whole interval will lie below the leading one's lower
    end no longer matters (:func:`undominated` then drops it): it needs only the relative width
    ``gap / mid``, not the target (``gap`` from its midpoint to the largest lower end the others
    will have once refined to the target: their midpoints less the relative target), and is
    refined towards that (:func:`next_h`, never finer than ``h_next``). Floats: only work
    depends on the spacings; every direction's enclosure is valid at any spacing and
    :func:`combine` takes the maximum of the lower and of the upper ends."""
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
        out[d] = max(h_next, dyadic(float(used[d]) / factor))
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


def next_merging(uppers: dict[str, GridPLD], results: dict[str, tuple[arb, arb | None]],
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


def combine(results: dict[str, tuple[arb, arb | None]], prec: int, unit_range: bool) -> Bound:
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


def undominated(results: dict[str, tuple[arb, arb | None]], active: list[str]) -> list[str]:
    """Drop a direction whose upper bound is below another's lower bound: it no longer affects the
    maximum (its last, valid, enclosure stays in ``results``)."""
    keep = []
    for d in active:
        up = results[d][1]
        if up is not None and any(results[o][0] > up for o in results if o != d):
            continue
        keep.append(d)
    return keep or active


def next_h(h: Fraction, bound: Bound, rel: float, room: float = 8.0,
            order: float = 2.0) -> Fraction:
    """Errors are O(h^2): aim at 0.7 of the target, shrinking by a factor in [1.5, 8]. A larger
    jump (up to 32 and ``room``) saves a level when the width is far from the target; its
    factor is ``ratio^(1/order)``: from the first, coarsest level the errors fall more slowly
    than h^2 (about h^1.75 between the first two levels on issue 5's grid), so :func:`refine`
    asks ``order=1.75`` there, 2 later. Only work depends on h."""
    width = bound.rel_width
    if not math.isfinite(width) or width <= 0:
        factor = 8.0
    else:
        ratio = width / (0.7 * rel)
        factor = max(1.5, math.sqrt(ratio))
        if factor > 8.0:
            factor = max(8.0, min(ratio ** (1 / order), 32.0, room))
    return dyadic(float(h) / factor)


__all__ = ["DELTA_SHARE", "EPSILON_SHARE", "MIRROR", "PILOT_MIN_DELTA", "Evaluate", "PilotStart",
           "Reflect", "combine",
           "next_h", "next_merging", "pilot_start", "refine", "trailing_spacings", "undominated"]
