"""Certified privacy profile of the Wishart vector mechanism ``V -> MV`` (WPM-4; seed 000).

``delta(eps) = F_{t_r}(-rho/sigma) + I_1(eps) + I_2(eps)`` (:mod:`certify.wishart.law`, item 5;
derivation in ``proofs/wishart_law.py``): the floor is a certified Student-t CDF, ``I_1`` and
``I_2`` are certified one-dimensional integrals (:func:`certify.numerics.integrate.integrate`)
over the whole line with rigorous exponential tail bounds. All three terms are non-negative, so
the relative width of the sum is at most the largest relative width of its terms; each integral
is asked for an absolute width sized from (first) a float estimate and (then) the certified
lower bound of the total, so a negligible term costs little.

``eps(delta)`` is the root of ``log delta(eps) - log delta`` (strictly decreasing while
``delta(eps)`` exceeds the floor) bracketed with certified signs
(:func:`certify.numerics.roots.certified_root`); a float Newton/Brent guess only chooses where to
look. ``delta`` at or below the floor has no finite ``eps`` (WPM-4): that is an
:class:`~certify.errors.InvalidArgument` saying so.

Both orders of the pair give the same profile (``proof_pair_symmetry``), so these are the
profiles of the unordered pair.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

from flint import acb, arb, ctx

from certify._validate import check_nonnegative, check_probability
from certify.errors import Inconclusive, InvalidArgument
from certify.mechanisms._common import brief
from certify.numerics.bound import Bound, to_fraction
from certify.numerics.integrate import integrate
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root, exact_ball
from certify.wishart.law import VectorLaw, float_profile, float_split

__all__ = [
    "DELTA_TARGET",
    "EPSILON_TARGET",
    "delta_parts",
    "float_epsilon_guess",
    "vector_law",
    "wishart_delta",
    "wishart_epsilon",
    "wishart_floor",
]

#: default widths (the issue asks for 1e-6 relative or better where delta >= 1e-12)
DELTA_TARGET = Target(rel=1e-8)
EPSILON_TARGET = Target(rel=1e-7, absolute=1e-12)
#: precision budget of one integral (bits); the integrand needs few bits, width comes from nodes
_INTEGRAL_MAX_PREC = 1024
#: rounds of (absolute width from the best lower bound so far) before giving up
_ROUNDS = 3


def vector_law(d: object, r: object, rho: object) -> VectorLaw:
    """The validated exact law of the vector mechanism at (d, r, rho) (InvalidArgument names a
    bad parameter)."""
    from certify.mechanisms.wishart import check_d_r, check_rho

    d_, r_ = check_d_r(d, r)
    return VectorLaw(d_, r_, check_rho(rho))


def _check_target(target: object, default: Target) -> Target:
    if target is None:
        return default
    if not isinstance(target, Target):
        raise InvalidArgument(f"target={target!r} must be a certify.numerics.precision.Target.")
    return target


# ------------------------------------------------------------------------------------------------
# the floor


def wishart_floor(r: object, rho: object, target: Target | None = None) -> Bound:
    """``P_V[V'^T MV <= 0] = E_{x~chi2_r}[Phi(-rho sqrt(x)/sqrt(1-rho^2))]
    = F_{t_r}(-rho sqrt(r/(1-rho^2)))`` (WPM-3; ``proof_support_mass``): the mass of ``MV``
    outside the support of ``MV'``, and ``lim_{eps->inf} delta(eps)`` (WPM-4). It does not
    depend on ``d``."""
    law = vector_law(max(2, _int_or(r)), r, rho)
    goal = _check_target(target, Target(rel=1e-10))
    return escalate(lambda _p: law.floor(), goal, what="wishart floor", within=(0, 1))


def _int_or(r: object) -> int:
    from certify._validate import check_positive_int

    return check_positive_int("r", r)


# ------------------------------------------------------------------------------------------------
# delta(eps)


def wishart_delta(
    d: object, r: object, rho: object, epsilon: object, target: Target | None = None
) -> Bound:
    """Certified ``delta(eps)`` of ``MV`` vs ``MV'`` (``d >= 2``, ``1 <= r <= d``,
    ``-1 < rho < 1``, ``eps >= 0``) to ``target`` (default relative 1e-8)."""
    law = vector_law(d, r, rho)
    eps = check_nonnegative("epsilon", epsilon)
    goal = _check_target(target, DELTA_TARGET)
    return _delta(law, eps, goal)


def delta_parts(law: VectorLaw, eps: Fraction, target: Target) -> tuple[Bound, Bound, Bound]:
    """``(floor, I_1, I_2)`` certified separately (each to ``target``; for tests and reports)."""
    floor = escalate(lambda _p: law.floor(), target, what="wishart floor", within=(0, 1))
    split = _split(law, eps)
    return floor, _part(law, 1, eps, target, split[0]), _part(law, 2, eps, target, split[1])


@functools.lru_cache(maxsize=256)
def _split(law: VectorLaw, eps: Fraction) -> tuple[Fraction | None, Fraction | None]:
    """Split points of ``I_1, I_2`` (item 7 of :mod:`certify.wishart.law`): ``None`` for
    ``-inf`` (integrate ``G`` everywhere), ``"inf"`` is ``+inf`` (the complement everywhere);
    rounded to multiples of 1/64 (any split point is valid: it only steers the work)."""
    try:
        ys = float_split(law.d, law.r, float(law.rho), float(eps))
    except (ArithmeticError, ValueError):
        return None, None
    out: list[Fraction | None] = []
    for y in ys:
        if y == -math.inf or not math.isfinite(y) and y != math.inf:
            out.append(None)
        elif y == math.inf:
            out.append(_PLUS_INF)
        else:
            out.append(Fraction(round(y * 64), 64))
    return out[0], out[1]


#: marker for a split at +inf
_PLUS_INF = Fraction(10**9)


def _part(
    law: VectorLaw, part: int, eps: Fraction, target: Target, split: Fraction | None = None
) -> Bound:
    """``I_part`` certified: ``int G`` right of ``split`` plus ``mass_left(split) - int H`` left
    of it (item 7), each integral to half of ``target``'s absolute width."""
    tail = law.tail_bound(part, eps)
    what = f"wishart I_{part}(d={law.d}, r={law.r}, rho={brief(law.rho)}, eps={brief(eps)})"
    half = Target(rel=target.rel, max_prec=target.max_prec,
                  absolute=None if target.absolute is None else target.absolute / 2)
    max_prec = max(64, min(target.max_prec, _INTEGRAL_MAX_PREC))
    if split is None:
        return _integrate_or_best(law.integrand(part, eps), "-inf", "inf",
                                  breakpoints=_breakpoints(law, part, eps), lower_tail=tail,
                                  upper_tail=tail, target=target, max_prec=max_prec, what=what)
    upper = "inf" if split == _PLUS_INF else split
    h_part = _integrate_or_best(law.integrand(part, eps, complement=True), "-inf", upper,
                       breakpoints=[p for p in _breakpoints(law, part, eps)
                                    if upper == "inf" or p < split],
                       lower_tail=tail, upper_tail=tail, target=half, max_prec=max_prec,
                       what=what + " (complement)")
    pieces = [h_part]
    if split != _PLUS_INF:
        pieces.append(_integrate_or_best(law.integrand(part, eps), split, "inf",
                                breakpoints=[p for p in _breakpoints(law, part, eps) if p > split],
                                upper_tail=tail, target=half, max_prec=max_prec, what=what))

    def mass(_prec: int) -> arb:
        if split == _PLUS_INF:
            return law.mass_left(part, eps, None)
        return law.mass_left(part, eps, exact_ball(split))

    mass_goal = Target(rel=(target.rel or 1e-6) / 4, max_prec=target.max_prec,
                       absolute=None if target.absolute is None else target.absolute / 4)
    m = escalate(mass, mass_goal, what=what + " (Student-t mass)", within=(0, 1))
    prec = max(b.prec for b in (m, *pieces)) + 64
    with ctx.workprec(max(prec, 128)):
        value = m.to_arb() - pieces[0].to_arb()
        if len(pieces) > 1:
            value += pieces[1].to_arb()
        return Bound.from_arb(value, prec).within(0, 1)


def _integrate_or_best(*args: object, **kwargs: object) -> Bound:
    """:func:`integrate`, but a width target missed with a finite enclosure returns that (valid)
    enclosure: a term far below the others (its ball containing 0 can never meet a relative
    target) only has to be narrow compared with the *sum*, which the caller checks."""
    try:
        return integrate(*args, **kwargs)  # type: ignore[arg-type]
    except Inconclusive as exc:
        if exc.best is None:
            raise
        return exc.best


def _breakpoints(law: VectorLaw, part: int, eps: Fraction) -> list[Fraction]:
    """``y`` where ``x = rho`` (the peak of ``f_u``), when inside the range: only a hint."""
    rho = float(law.rho)
    scale = 1.0 if part == 1 else math.exp(-float(eps) / float(law.c))
    if not 0 < rho < scale:
        return []
    p = rho / scale
    y = math.log(p) - math.log1p(-p)
    return [Fraction(round(y * 1024), 1024)] if math.isfinite(y) else []


def _delta(law: VectorLaw, eps: Fraction, goal: Target) -> Bound:
    rel = goal.rel if goal.rel is not None else 1e-6
    floor = escalate(lambda _p: law.floor(), Target(rel=rel / 8, max_prec=goal.max_prec),
                     what="wishart floor", within=(0, 1))
    scale = _estimate(law, eps)
    split = _split(law, eps)
    if goal.absolute is not None:
        scale = max(scale or 0.0, goal.absolute / rel)
    best: Bound | None = None
    reason = ""
    for _ in range(_ROUNDS):
        absolute = None if not scale else scale * rel / 8
        if goal.absolute is not None:
            absolute = max(absolute or 0.0, goal.absolute / 4)
        part_goal = Target(rel=rel / 4, absolute=absolute, max_prec=goal.max_prec)
        try:
            parts = [_part(law, 1, eps, part_goal, split[0]),
                     _part(law, 2, eps, part_goal, split[1])]
        except Inconclusive as exc:
            reason = exc.reason
            break
        total = _sum([floor, *parts])
        if best is None or total.width < best.width:
            best = total
        if goal.met_by(total):
            return total
        lower = float(total.lower)  # 0.0 below the float range: relative targets only
        reason = f"width {float(total.width):.3g} with every term at its requested width"
        if not lower > 0 or (scale and lower >= scale):
            break
        scale = lower
    raise Inconclusive(
        f"wishart delta(epsilon={brief(eps)}, d={law.d}, r={law.r}, rho={brief(law.rho)}): "
        f"{goal.describe()} not reached ({reason})", best,
    )


@functools.lru_cache(maxsize=256)
def _estimate(law: VectorLaw, eps: Fraction) -> float | None:
    """A float estimate of delta(eps) (never certified; sizes absolute widths only)."""
    try:
        value = float_profile(law.d, law.r, float(law.rho), float(eps), rtol=1e-3)[0]
    except (ArithmeticError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def _sum(bounds: list[Bound]) -> Bound:
    """The sum of enclosures (outward rounded), intersected with [0, 1]."""
    prec = max(b.prec for b in bounds) + 64
    with ctx.workprec(max(prec, 128)):
        total = arb(0)
        for b in bounds:
            total += b.to_arb()
        return Bound.from_arb(total, prec).within(0, 1)


# ------------------------------------------------------------------------------------------------
# eps(delta)


def wishart_epsilon(
    d: object, r: object, rho: object, delta: object, target: Target | None = None
) -> Bound:
    """Certified ``eps(delta) = min{eps >= 0 : delta(eps) <= delta}`` (default width relative
    1e-7, or absolute 1e-12 near 0). ``delta`` must exceed the floor ``F_{t_r}(-rho/sigma)``:
    below it no finite eps exists (WPM-4), which is reported as InvalidArgument."""
    law = vector_law(d, r, rho)
    dlt = check_probability("delta", delta, open_low=True)
    goal = _check_target(target, EPSILON_TARGET)
    _check_above_floor(law, dlt, delta)
    if _certainly_le(law, Fraction(0), dlt):
        return Bound.exact(0)
    guess = float_epsilon_guess(law, float(dlt))
    hi = _bracket_hi(law, dlt, guess)
    log_dlt_q = dlt

    # delta's relative width needed to decide a sign a quarter of the eps width from the root
    # is about goal.rel/4 times |d log delta / d log eps|: start at goal.rel/64 and tighten by
    # 2^-32 per precision doubling of the sign oracle
    base_rel = min((goal.rel or 1e-6) / 64, 1e-6)

    def f(eps_ball: arb) -> arb:
        prec = ctx.prec
        rel = base_rel * 2.0 ** (-(prec - 64) // 2)
        value = _delta_ball(law, eps_ball, Target(rel=max(rel, 1e-60), max_prec=prec * 4))
        if value is None or not value > 0:
            return arb.nan()
        return value.log() - exact_ball(log_dlt_q).log()

    what = (f"wishart epsilon(delta={brief(dlt)}, d={law.d}, r={law.r}, "
            f"rho={brief(law.rho)})")
    return certified_root(f, Fraction(0), hi, target=goal, guess=guess, max_prec=256, what=what)


def _delta_ball(law: VectorLaw, eps_ball: arb, target: Target) -> arb | None:
    """An enclosure of delta over the (usually exact) ball ``eps_ball`` (monotone: the hull of
    the values at its ends), or None when it stayed inconclusive."""
    lo_q, hi_q = to_fraction(eps_ball.lower()), to_fraction(eps_ball.upper())
    try:
        if lo_q == hi_q:
            b = _delta(law, max(lo_q, Fraction(0)), target)
            return b.to_arb()
        b_lo = _delta(law, max(lo_q, Fraction(0)), target)
        b_hi = _delta(law, max(hi_q, Fraction(0)), target)
        return b_lo.to_arb().union(b_hi.to_arb())
    except Inconclusive:
        return None


def _check_above_floor(law: VectorLaw, dlt: Fraction, shown: object) -> None:
    for prec in (64, 256, 1024, 4096):
        with ctx.workprec(prec):
            floor = law.floor()
            if floor < exact_ball(dlt):
                return
            if floor >= exact_ball(dlt):
                raise InvalidArgument(
                    f"delta={shown} is at or below the floor {floor.mid().str(10, radius=False)} "
                    f"= P[V'^T MV <= 0] of wishart-vector d={law.d} r={law.r} "
                    f"rho={brief(law.rho)}: delta(eps) > floor for every finite eps, so no "
                    "finite epsilon exists (WPM-4)."
                )
    raise Inconclusive(
        f"delta={shown} could not be separated from the floor F_t(-rho/sigma) at 4096 bits"
    )


def _certainly_le(law: VectorLaw, eps: Fraction, dlt: Fraction) -> bool:
    """Is delta(eps) <= dlt certainly? (False when certainly not, or undecided.)"""
    for rel in (1e-2, 1e-6, 1e-12):
        try:
            b = _delta(law, eps, Target(rel=rel))
        except Inconclusive:
            return False
        if b.le(dlt) is True:
            return True
        if b.gt(dlt) is True:
            return False
    return False


def float_epsilon_guess(law: VectorLaw, dlt: float) -> float | None:
    """A float guess of eps(delta) (None when there is none): Brent on log(delta(eps) - floor).
    Floats: it only steers where certified brackets are placed."""
    from scipy.optimize import brentq

    def g(e: float) -> float:
        value, _, floor = float_profile(law.d, law.r, float(law.rho), e)
        excess = value - floor
        if not excess > 0:
            return -math.inf
        target_excess = dlt - floor
        return math.log(excess) - math.log(target_excess) if target_excess > 0 else math.inf

    try:
        hi = 1.0
        for _ in range(60):
            if g(hi) < 0:
                break
            hi *= 2
        else:
            return None
        lo = 0.0 if g(0.0) > 0 else None
        if lo is None:
            return None
        return float(brentq(g, lo, hi, xtol=1e-14, rtol=1e-12))
    except (ArithmeticError, ValueError):
        return None


def _bracket_hi(law: VectorLaw, dlt: Fraction, guess: float | None) -> Fraction:
    """An exact eps with delta(eps) < dlt certainly (doubling from the guess)."""
    hi = Fraction(guess * 1.25 + 0.5) if guess is not None else Fraction(1)
    hi = Fraction(round(hi * 2**20), 2**20)
    for _ in range(40):
        try:
            b = _delta(law, hi, Target(rel=1e-6))
        except Inconclusive:
            b = None
        if b is not None and b.lt(dlt) is True:
            return hi
        hi *= 2
    raise Inconclusive(f"delta={brief(dlt)}: no eps with delta(eps) < delta was certified")


# ------------------------------------------------------------------------------------------------
# WPM-3: the support term as the paper writes it, by certified integration


def support_mass_integral(r: object, rho: object, target: Target | None = None) -> Bound:
    """``E_{x~chi2_r}[Phi(-rho sqrt(x)/sqrt(1-rho^2))]`` by certified integration (the form
    printed in Theorem 1), independent of the Student-t closed form :func:`wishart_floor`.

    With ``x = s^2``: ``int_0^inf 2 s^{r-1} e^{-s^2/2} / (2^{r/2} Gamma(r/2)) Phi(-alpha s) ds``,
    ``alpha = rho/sqrt(1-rho^2)``; the integrand is entire, and its tail beyond ``T`` is at most
    ``P[chi_r > T] = Q_r(T^2)`` (``Phi <= 1``)."""
    from certify._validate import check_positive_int
    from certify.mechanisms.wishart import check_rho
    from certify.numerics.special import chi2_sf

    r_ = check_positive_int("r", r)
    rho_ = check_rho(rho)
    goal = _check_target(target, Target(rel=1e-10))

    def f(s: acb, analytic: bool) -> acb:
        rb = exact_ball(rho_)
        alpha = rb / (1 - rb * rb).sqrt()
        log_norm = -(arb(r_) / 2) * arb(2).log() - (arb(r_) / 2).lgamma()
        phi = (alpha * s / arb(2).sqrt()).erfc() / 2  # Phi(-alpha s) = erfc(alpha s/sqrt 2)/2
        return 2 * s ** (r_ - 1) * (-(s * s) / 2 + log_norm).exp() * phi

    def tail(t: arb) -> arb:
        return chi2_sf(t * t, r_)

    return integrate(f, 0, "inf", upper_tail=tail, target=goal,
                     what=f"E[Phi(-rho sqrt(x)/sqrt(1-rho^2))], r={r_}, rho={brief(rho_)}")
