"""Certified integration of real integrands over finite or infinite ranges, on ``acb.integral``.

``acb.integral`` (Arb's ``acb_calc_integrate``: adaptive Gauss-Legendre with error bounds from
the integrand's magnitude on Bernstein ellipses; F. Johansson, "Numerical integration in
arbitrary-precision ball arithmetic", ICMS 2018) is rigorous *only* for integrands that honour its
``analytic`` flag, and it has traps this module closes:

* A non-analytic integrand that ignores the flag is enclosed *confidently wrongly*:
  ``acb.integral(lambda x, _: x.real_abs(), -1, 1)`` returns a narrow ball around 1.1547, not 1.
  The helpers :func:`real_abs`, :func:`real_max`, :func:`positive_part` and :func:`real_heaviside`
  forward the flag, so a ball straddling a kink is reported non-analytic (non-finite) and Arb
  subdivides there.
* An infinite end gives ``nan``. Here the range is truncated at a dyadic cut ``T``, found by growing
  ``|T|`` geometrically until the caller's *rigorous* tail bound is below a fraction of the
  requested width, and the tail is added as the ball ``[-tail(T), +tail(T)]``.
* An exhausted evaluation budget returns a wide (possibly infinite) ball, not an error. Here the
  result's width is checked against the target; precision and tolerances are escalated, and when
  ``max_prec`` is reached (or two escalations in a row bring no progress) the caller gets
  :class:`~certify.errors.Inconclusive` with the best finite enclosure -- never a wide ball as an
  answer.
* Arb's default absolute tolerance ``2^-prec`` swamps integrals far below 1 (a privacy delta of
  1e-30); for a relative target the wrapper sets the absolute tolerance from the magnitude found.
* The result of a real integrand is returned as the real part of Arb's complex ball, after checking
  that the imaginary part's ball contains 0 (if it does not, ``f`` is certainly not real-valued).

Exactness of the range: the ends and breakpoints are exact rationals. A dyadic one is handed to Arb
exactly; a non-dyadic one ``p`` (``1/3``, ``"0.1"``) is enclosed in dyadics ``l < p < h`` with
``h - l ~ 2^-(prec+16) |p|``, Arb integrates between dyadic points only, and each small gap is
enclosed by the mean-value bound ``int_u^v f in (v - u) * f([u, v])`` (``f`` evaluated on the real
ball ``[u, v]`` with ``analytic=False``, so a kink inside the gap is harmless).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, localcontext
from fractions import Fraction
from typing import cast

from flint import acb, arb, ctx, fmpq

from certify._validate import to_exact
from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, precisions

Integrand = Callable[[acb, bool], acb]
TailBound = Callable[[arb], arb]

#: cuts for an infinite end are ``anchor +- 2^k`` for ``k < _MAX_CUT_EXPONENT``
_MAX_CUT_EXPONENT = 1100
#: bisection steps that pull a cut back from ``anchor + 2^k`` towards ``anchor + 2^(k-1)``
_CUT_REFINE_STEPS = 6
#: rounds per attempt that move a cut outward once the integral's magnitude is known
_EXTENSION_ROUNDS = 12
#: escalations in a row that fail to halve the width (or stay non-finite) before giving up early
_MAX_STALLS = 2
#: extra bits of the dyadic enclosure of a non-dyadic end or breakpoint, beyond the precision
_GAP_GUARD_BITS = 16


# -- analytic-aware building blocks ------------------------------------------------------------


def real_abs(x: acb, analytic: bool) -> acb:
    """``|x|`` for real ``x``, extended piecewise analytically (``z`` or ``-z`` by ``sign Re z``).

    With ``analytic=True`` and a ball whose real part contains 0, returns a non-finite ball, so that
    ``acb.integral`` does not apply a Gauss-Legendre error bound across the kink at 0 (Arb's
    ``acb_real_abs``).
    """
    return _as_acb(x).real_abs(analytic=bool(analytic))


def real_max(x: acb | arb | int | Fraction, y: acb | arb | int | Fraction, analytic: bool) -> acb:
    """``max(x, y)`` for real ``x, y``, extended piecewise analytically (Arb's ``acb_real_max``).

    With ``analytic=True``, a non-finite ball when ``Re(x - y)`` may change sign on the ball.
    Both arguments are converted to ``acb`` first (python-flint 0.9 crashes on a plain ``int``).
    """
    return _as_acb(x).real_max(_as_acb(y), analytic=bool(analytic))


def positive_part(x: acb | arb | int | Fraction, analytic: bool) -> acb:
    """``max(x, 0)``: the hockey-stick integrand ``(p - e^eps q)_+`` of the privacy profile
    (Balle and Wang 2018, Theorem 5: ``delta(eps) = int (p(x) - e^eps q(x))_+ dx``).

    Sound for any ``x``, but slow when ``x``'s complex extension oscillates (Gaussian densities
    far from their mean: ``Re x`` changes sign on thin boxes, so Arb must take tiny pieces). When
    the sign change is known to happen where a *real-linear* quantity crosses 0 (for Gaussians,
    ``log p/q = eps`` at ``x* = eps/mu + mu/2``), ``x * real_heaviside(t - x*, analytic)`` is the
    same integrand on the line and is analytic off the vertical line ``Re t = x*``.
    """
    return real_max(x, acb(0), analytic)


def real_heaviside(x: acb | arb | int | Fraction, analytic: bool) -> acb:
    """The step ``1[x > 0]`` of a real variable, extended piecewise analytically (0 or 1 by the
    sign of ``Re x``; Arb's ``acb_real_heaviside``): non-finite with ``analytic=True`` when ``Re x``
    contains 0, and a ball containing 0 and 1 there with ``analytic=False``."""
    return _as_acb(x).real_heaviside(analytic=bool(analytic))


def _as_acb(x: object) -> acb:
    if isinstance(x, acb):
        return x
    if isinstance(x, arb):
        return acb(x)
    if isinstance(x, Fraction):
        return acb(_ball(x))
    if isinstance(x, int) and not isinstance(x, bool):
        return acb(x)
    raise InvalidArgument(f"x={x!r} must be an acb or arb ball (or an exact int/Fraction).")


# -- the public entries --------------------------------------------------------------------------


def integrate(
    f: Integrand,
    a: object,
    b: object,
    *,
    breakpoints: Sequence[object] = (),
    lower_tail: TailBound | None = None,
    upper_tail: TailBound | None = None,
    target: Target | None = None,
    start_prec: int = 64,
    max_prec: int = 1024,
    eval_limit: int | None = None,
    what: str = "integral",
) -> Bound:
    """A certified enclosure of the real number ``int_a^b f(x) dx``, to the requested width.

    ``f(x, analytic)`` is an ``acb.integral`` integrand: given an ``acb`` ball it returns a ball
    containing ``f`` on it, and when ``analytic`` is True it must return a non-finite ball unless
    ``f`` is analytic on the ball (use :func:`real_abs`, :func:`real_max`, :func:`positive_part`,
    :func:`real_heaviside` and the ``analytic=`` options of flint's functions). ``f`` must be real
    on the real line (an imaginary part certainly nonzero is :class:`InvalidArgument`).

    ``a`` and ``b`` are exact numbers (as :func:`certify._validate.to_exact` reads them: ``"0.1"``
    is 1/10, a float its binary value), or ``a = "-inf"`` / ``b = "inf"`` (also the float
    infinities). ``a > b`` is rejected; ``a == b`` gives exactly 0.

    ``breakpoints`` are points where ``f`` has a kink, a jump or a narrow peak: the range is split
    there, so no Gauss-Legendre piece straddles them. They must lie in ``[a, b]``; those equal to
    an end are ignored, one outside is :class:`InvalidArgument`. Breakpoints do not relieve ``f``
    of the ``analytic`` contract; an ``f`` that ignores the flag is sound on a piece only if the
    complex-ball extension Arb evaluates is analytic there (true of ``|x|`` split at 0, not of a
    general kink).

    ``lower_tail(T)`` (required when ``a = -inf``) returns a rigorous ``arb`` upper bound on
    ``|int_{-inf}^T f|`` for an exact ``T`` below every finite point; ``upper_tail(T)`` (required
    when ``b = inf``) bounds ``|int_T^inf f|`` for ``T`` above them. A tail bound given for a finite
    end is not used.

    Precision rises ``start_prec, 2*start_prec, ..., max_prec``; each attempt tightens Arb's
    tolerances and the tail cut. ``f`` and the tail bounds are called at each attempt's precision:
    build their constants inside them (``arb("0.3")`` in the body), since a ball made once at 53
    bits caps the width reachable. ``eval_limit`` (per piece) caps Arb's evaluations (Arb's
    default, ``1000 p + p^2`` at ``p`` bits, when None).

    Raises :class:`Inconclusive` (with the narrowest finite enclosure, if any) when ``target`` is
    not met by ``max_prec`` (or by ``target.max_prec`` where the Target carries a smaller
    budget), or earlier when two escalations in a row neither halve the width nor
    give a finite enclosure (more precision is not what is missing then: wide constants in ``f``,
    a small ``eval_limit``, a tail bound that does not decay).
    """
    plan = _plan(f, a, b, breakpoints, lower_tail, upper_tail, eval_limit)
    if target is not None and not isinstance(target, Target):
        raise InvalidArgument(f"target={target!r} must be a certify.numerics.precision.Target.")
    budget = getattr(target, "max_prec", None)  # a Target may carry its own precision budget
    if isinstance(budget, int) and isinstance(max_prec, int) and budget < max_prec:
        if isinstance(start_prec, int) and budget < start_prec:
            raise InvalidArgument(
                f"target.max_prec={budget} is below start_prec={start_prec}."
            )
        max_prec = budget
    ladder = _ladder(start_prec, max_prec)
    if not isinstance(what, str):
        raise InvalidArgument(f"what={what!r} must be a string.")
    if plan is None:
        return Bound.exact(0)
    goal = target or Target()
    best: Bound | None = None
    magnitude: arb | None = None
    problem = "no attempt"
    tighten = arb(1)  # multiplies every tolerance; shrinks after each attempt that was too wide
    stalls = 0  # consecutive attempts that did not halve the best width
    for prec in ladder:
        with ctx.workprec(prec):
            result = _attempt(
                plan,
                abs_goal=None if goal.absolute is None else arb(goal.absolute) * tighten,
                rel_goal=None if goal.rel is None else arb(goal.rel) * tighten,
                magnitude=magnitude,
            )
            ball = result.value
            finite = ball.is_finite() and not ball.is_nan()
            if finite:
                if not ball.contains(0):
                    low = ball.abs_lower()
                    magnitude = low if magnitude is None else max(magnitude, low)
                bound = Bound.from_arb(ball, prec)
        if not finite:
            problem = f"the enclosure at {prec} bits was not finite{result.note}"
            stalls += 1
        else:
            if goal.met_by(bound):
                return bound
            problem = f"width {bound.width:.3g} at {prec} bits{result.note}"
            if goal.absolute is None and bound.lower <= 0 <= bound.upper:
                problem += "; the enclosure contains 0, which a relative target cannot meet"
            stalls = 0 if _halved(bound, best) else stalls + 1
            if best is None or bound.width < best.width:
                best = bound
            tighten *= _tightening(bound, goal)
        if stalls >= _MAX_STALLS and prec < max_prec:
            raise Inconclusive(
                f"{what}: {goal.describe()} not reached; no progress in {stalls} escalations "
                f"up to {prec} bits ({problem})", best
            )
    raise Inconclusive(
        f"{what}: {goal.describe()} not reached by {max_prec} bits ({problem})", best
    )


def integrate_ball(
    f: Integrand,
    a: object,
    b: object,
    *,
    breakpoints: Sequence[object] = (),
    lower_tail: TailBound | None = None,
    upper_tail: TailBound | None = None,
    rel_tol: float | arb | None = None,
    abs_tol: float | arb | None = None,
    eval_limit: int | None = None,
) -> arb:
    """A real ball containing ``int_a^b f(x) dx``, computed once at the ambient ``ctx.prec``.

    For callers that compose integrals inside a bigger ball computation and escalate precision
    themselves. Arguments as in :func:`integrate`; ``rel_tol`` and ``abs_tol`` are Arb's
    tolerances (both ``2^-prec`` when omitted) and also size the tail cut. The ball may be wider
    than the tolerances (Arb's budget ran out); a non-finite one raises :class:`Inconclusive`.
    """
    plan = _plan(f, a, b, breakpoints, lower_tail, upper_tail, eval_limit)
    rel = _tolerance("rel_tol", rel_tol)
    absolute = _tolerance("abs_tol", abs_tol)
    if plan is None:
        return arb(0)
    unit = arb((1, -ctx.prec))
    result = _attempt(
        plan,
        abs_goal=unit if absolute is None else absolute,
        rel_goal=rel,
        magnitude=None,
        rel_default=unit if rel is None else None,
    )
    if not result.value.is_finite() or result.value.is_nan():
        raise Inconclusive(
            f"integral: the enclosure at {ctx.prec} bits is not finite{result.note}"
        )
    return result.value


def _tightening(bound: Bound, goal: Target) -> arb:
    """The factor by which the next attempt's tolerances shrink: the ratio of the width wanted
    to the width reached, with a safety factor 4, between 2^-60 and 1/16 (a heuristic that only
    steers the work; the enclosures are rigorous whatever the tolerances). Decimal arithmetic
    with an unbounded exponent: widths like 1e-1000 or 1e+10^10 occur."""
    with localcontext(_DECIMALS):
        wanted = []
        if goal.absolute is not None:
            wanted.append(Decimal(goal.absolute))
        if goal.rel is not None and bound.rel_width < math.inf:
            wanted.append(Decimal(goal.rel) * min(abs(bound.lower), abs(bound.upper)))
        width = bound.width
        if not wanted or not width > 0:
            return arb(1) / 16
        ratio = max(wanted) / (4 * width)
        return arb(float(min(max(ratio, Decimal(2) ** -60), Decimal(1) / 16)))


def _halved(new: Bound, old: Bound | None) -> bool:
    """Whether ``new`` is at most half as wide as ``old`` (True when there is no ``old``)."""
    if old is None:
        return True
    with localcontext(_DECIMALS):
        return new.width * 2 <= old.width


_DECIMALS = Context(prec=30, Emax=MAX_EMAX, Emin=MIN_EMIN)


# -- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """A validated integration problem: the exact finite points, in increasing order
    (finite ``a``, the interior breakpoints, finite ``b``), and what to do at infinite ends."""

    f: Integrand
    points: tuple[Fraction, ...]
    lower_tail: TailBound | None  # set exactly when a = -inf
    upper_tail: TailBound | None  # set exactly when b = +inf
    eval_limit: int | None


_NEG_INF_TEXT = {"-inf", "-infinity"}
_POS_INF_TEXT = {"inf", "+inf", "infinity", "+infinity"}


def _end(name: str, value: object) -> Fraction | int:
    """An exact finite end, or -1 / +1 (int markers) for -inf / +inf."""
    if isinstance(value, str) and value.strip().lower() in _NEG_INF_TEXT | _POS_INF_TEXT:
        return -1 if value.strip().lower() in _NEG_INF_TEXT else 1
    if isinstance(value, float) and math.isinf(value):
        return -1 if value < 0 else 1
    if isinstance(value, Decimal) and value.is_infinite():
        return -1 if value < 0 else 1
    return to_exact(name, value)


def _plan(
    f: object,
    a: object,
    b: object,
    breakpoints: object,
    lower_tail: object,
    upper_tail: object,
    eval_limit: object,
) -> _Plan | None:
    """Validate the public arguments; None means the empty range ``a == b``."""
    if not callable(f):
        raise InvalidArgument(f"f={f!r} must be callable as f(x: acb, analytic: bool) -> acb.")
    lo, hi = _end("a", a), _end("b", b)
    if isinstance(lo, int) and lo == 1:
        raise InvalidArgument(f"a={a} must be finite or -inf.")
    if isinstance(hi, int) and hi == -1:
        raise InvalidArgument(f"b={b} must be finite or inf.")
    lo_q = lo if isinstance(lo, Fraction) else None
    hi_q = hi if isinstance(hi, Fraction) else None
    if lo_q is not None and hi_q is not None:
        if lo_q > hi_q:
            raise InvalidArgument(f"a={a} must not exceed b={b}.")
        if lo_q == hi_q:
            _check_breakpoints(breakpoints, lo_q, hi_q, a, b)
            _check_eval_limit(eval_limit)
            return None
    inner = _check_breakpoints(breakpoints, lo_q, hi_q, a, b)
    tails: list[TailBound | None] = []
    for name, tail, needed, end in (
        ("lower_tail", lower_tail, lo_q is None, "a=-inf"),
        ("upper_tail", upper_tail, hi_q is None, "b=inf"),
    ):
        if tail is not None and not callable(tail):
            raise InvalidArgument(f"{name}={tail!r} must be callable as {name}(T: arb) -> arb.")
        if needed and tail is None:
            raise InvalidArgument(
                f"{name}=None: the infinite end {end} needs a rigorous tail bound {name}(T)."
            )
        tails.append(cast(TailBound, tail) if needed else None)
    points = ([lo_q] if lo_q is not None else []) + inner + ([hi_q] if hi_q is not None else [])
    return _Plan(cast(Integrand, f), tuple(points), tails[0], tails[1],
                 _check_eval_limit(eval_limit))


def _check_breakpoints(
    breakpoints: object, lo: Fraction | None, hi: Fraction | None, a: object, b: object
) -> list[Fraction]:
    """The distinct breakpoints strictly inside ``(a, b)``, sorted (ends ignored, outside
    rejected)."""
    if isinstance(breakpoints, (str, bytes)) or not isinstance(breakpoints, Sequence):
        raise InvalidArgument(f"breakpoints={breakpoints!r} must be a sequence of numbers.")
    inside: set[Fraction] = set()
    for i, value in enumerate(breakpoints):
        c = to_exact(f"breakpoints[{i}]", value)
        if (lo is not None and c < lo) or (hi is not None and c > hi):
            raise InvalidArgument(f"breakpoints[{i}]={value} must lie in [a, b] = [{a}, {b}].")
        if c != lo and c != hi:
            inside.add(c)
    return sorted(inside)


def _check_eval_limit(eval_limit: object) -> int | None:
    if eval_limit is None:
        return None
    if isinstance(eval_limit, bool) or not isinstance(eval_limit, int) or eval_limit <= 0:
        raise InvalidArgument(f"eval_limit={eval_limit!r} must be a positive integer or None.")
    return eval_limit


def _ladder(start_prec: object, max_prec: object) -> list[int]:
    for name, value in (("start_prec", start_prec), ("max_prec", max_prec)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 16:
            raise InvalidArgument(f"{name}={value!r} must be an integer >= 16 (bits).")
    assert isinstance(start_prec, int) and isinstance(max_prec, int)
    if max_prec < start_prec:
        raise InvalidArgument(f"max_prec={max_prec} must be at least start_prec={start_prec}.")
    return precisions(start_prec, max_prec)


def _tolerance(name: str, value: object) -> arb | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, arb)):
        raise InvalidArgument(f"{name}={value!r} must be a positive number or None.")
    ball = arb(value)
    if not (ball.is_finite() and ball > 0):
        raise InvalidArgument(f"{name}={value} must be a positive finite number.")
    return ball


# -- one attempt at the ambient precision ---------------------------------------------------------


@dataclass(frozen=True)
class _Result:
    value: arb  # the real enclosure (finite part + tails)
    note: str  # "" or "; <what limited it>" for the Inconclusive reason


class _Integrand:
    """Calls the user's ``f`` for Arb: keeps the first exception (Arb would turn it into a
    SystemError) and rejects results that are not balls. Once an error is kept, it answers 0 so
    that Arb finishes at once; that result is discarded when :meth:`check` raises the error."""

    def __init__(self, f: Integrand) -> None:
        self.f = f
        self.error: BaseException | None = None

    def __call__(self, x: acb, analytic: bool) -> acb:
        if self.error is not None:
            return acb(0)
        try:
            value = self.f(x, bool(analytic))
        except Exception as exc:  # re-raised by check() once Arb has returned
            self.error = exc
            return acb(0)
        if isinstance(value, acb):
            return value
        if isinstance(value, arb):
            return acb(value)
        self.error = InvalidArgument(
            f"f returned {value!r} ({type(value).__name__}); it must return an acb (or arb) ball."
        )
        return acb(0)

    def check(self) -> None:
        if self.error is not None:
            raise self.error


def _attempt(
    plan: _Plan,
    *,
    abs_goal: arb | None,
    rel_goal: arb | None,
    magnitude: arb | None,
    rel_default: arb | None = None,
) -> _Result:
    """Integrate once at ``ctx.prec``: finite pieces with Arb, tails cut where their bounds are
    below an eighth of the absolute width allowed (``max(abs_goal, rel_goal * |integral|)``)."""
    f = _Integrand(plan.f)
    notes: list[str] = []
    prec = ctx.prec
    n_pieces = max(1, 2 * len(plan.points))
    rel_tol = rel_default if rel_goal is None else rel_goal / 8
    abs_tol: arb | None = None
    if abs_goal is not None:
        abs_tol = abs_goal / (8 * n_pieces)
    elif rel_goal is not None and magnitude is not None:
        abs_tol = rel_goal * magnitude / (8 * n_pieces)
    elif rel_goal is not None:
        # magnitude unknown: Arb raises its absolute tolerance to rel_tol times the largest
        # subinterval estimate it meets, so a negligible floor keeps tiny integrals relative
        abs_tol = arb((1, -4 * prec))

    def tail_allowance(total: acb | None) -> arb | None:
        options = [] if abs_goal is None else [abs_goal / 8]
        known = magnitude
        if total is not None and total.real.is_finite() and not total.real.contains(0):
            known = total.real.abs_lower()
        if rel_goal is not None and known is not None:
            options.append(known * rel_goal / 8)
        return max(options) if options else None

    lower = _Cut(plan.lower_tail, "lower_tail", -1, plan.points, prec) if plan.lower_tail else None
    upper = _Cut(plan.upper_tail, "upper_tail", 1, plan.points, prec) if plan.upper_tail else None
    start_allowance = tail_allowance(None)
    if start_allowance is None:  # magnitude unknown: a coarse first cut, refined below
        start_allowance = arb((1, -(prec // 2)))
    for cut in (lower, upper):
        if cut is not None:
            cut.move(start_allowance)

    points: list[Fraction] = list(plan.points)
    if lower is not None:
        points.insert(0, lower.at)
    if upper is not None:
        points.append(upper.at)
    total = _integrate_points(f, points, rel_tol, abs_tol, plan.eval_limit)
    f.check()

    cuts = [cut for cut in (lower, upper) if cut is not None]
    negligible = arb((1, -4 * prec))
    for _ in range(_EXTENSION_ROUNDS if cuts else 0):
        allowance = tail_allowance(total)
        if allowance is None:
            # the magnitude is still unknown (the finite part contains 0: it may be exactly 0
            # because all the mass lies beyond the cuts): push the tails down, fast, until the
            # magnitude shows or the tails are negligible
            largest = max(cut.bound for cut in cuts)
            if not largest.is_finite() or largest <= negligible:
                break
            allowance = max(min(largest * largest, largest * arb((1, -(prec // 2)))), negligible)
        moved = False
        for cut in (lower, upper):
            if cut is None or cut.bound <= allowance:
                continue
            old = cut.at
            if not cut.move(allowance / 2):
                continue
            moved = True
            ends = [cut.at, old] if cut.direction < 0 else [old, cut.at]
            total += _integrate_points(f, ends, rel_tol, abs_tol, plan.eval_limit)
            f.check()
        if not moved:
            break

    if not total.imag.contains(0):
        raise InvalidArgument(
            f"f={plan.f!r} is not real-valued on the real line: the integral's imaginary part "
            f"{total.imag} excludes 0."
        )
    value = total.real
    for cut in (lower, upper):
        if cut is not None:
            value += cut.ball()
            if cut.note:
                notes.append(cut.note)
    return _Result(value, "".join(f"; {n}" for n in notes))


def _integrate_points(
    f: _Integrand,
    points: list[Fraction],
    rel_tol: arb | None,
    abs_tol: arb | None,
    eval_limit: int | None,
) -> acb:
    """``int_{points[0]}^{points[-1]} f``: Arb between dyadic points, mean-value gaps elsewhere."""
    total = acb(0)
    if len(points) < 2:
        return total
    for u, v, by_arb in _segments(points, ctx.prec):
        if by_arb:
            total += acb.integral(
                f, _exact(u), _exact(v), rel_tol=rel_tol, abs_tol=abs_tol, eval_limit=eval_limit
            )
        else:
            hull = _ball(u).union(_ball(v))
            total += _ball(v - u) * f(acb(hull), False)
    return total


def _segments(points: list[Fraction], prec: int) -> list[tuple[Fraction, Fraction, bool]]:
    """Split ``[points[0], points[-1]]`` into contiguous segments ``(u, v, by_arb)``.

    Each point ``p`` is enclosed in dyadics ``[l, h]`` (``l = h = p`` when ``p`` is dyadic); the
    stretches between enclosures have dyadic ends (``by_arb``: given to ``acb.integral`` exactly),
    the enclosures themselves are the mean-value gaps. Cut values are clamped to the range and made
    non-decreasing, so the segments tile ``[points[0], points[-1]]`` exactly even when enclosures
    overlap; every breakpoint stays inside a run of gaps, never inside an Arb segment.
    """
    first, last = points[0], points[-1]
    cuts: list[Fraction] = [first]
    for i, p in enumerate(points):
        low, high = _dyadic_enclosure(p, prec)
        if i > 0:
            cuts.append(low)
        if i < len(points) - 1:
            cuts.append(high)
    cuts.append(last)
    running = first
    tidy: list[Fraction] = []
    for c in cuts:
        running = max(running, min(max(c, first), last))
        tidy.append(running)
    segments = []
    for j in range(len(tidy) - 1):
        u, v = tidy[j], tidy[j + 1]
        if u < v:
            segments.append((u, v, j % 2 == 1))
    return segments


def _dyadic_enclosure(p: Fraction, prec: int) -> tuple[Fraction, Fraction]:
    """Dyadic ``l <= p <= h``, ``h - l <= 2^-(prec + 16) |p|``; ``l = h = p`` for a dyadic ``p``."""
    den = p.denominator
    if den & (den - 1) == 0:
        return p, p
    magnitude = abs(p.numerator).bit_length() - den.bit_length()  # ~ log2 |p|, within 1
    step = Fraction(2) ** (magnitude - prec - _GAP_GUARD_BITS - 1)
    low = Fraction(math.floor(p / step)) * step
    return low, low + step


def _exact(q: Fraction) -> arb:
    """The dyadic rational ``q`` as an exact arb (any mantissa length)."""
    den = q.denominator
    assert den & (den - 1) == 0, "only dyadic points are handed to acb.integral"
    return arb((q.numerator, -(den.bit_length() - 1)))


def _ball(q: Fraction) -> arb:
    """A ball containing the rational ``q`` at the current precision."""
    return arb(fmpq(q.numerator, q.denominator))


# -- tail cuts for infinite ends -----------------------------------------------------------------


class _Cut:
    """The truncation point ``T`` of one infinite end and the bound on the tail beyond it.

    Candidates are ``anchor + direction * 2^k`` (``anchor`` an integer beyond every finite point),
    ``k = 0, 1, ...``; the first one whose bound meets the allowance is pulled back towards the
    previous candidate by a few bisection steps (accepting only points whose bound was evaluated
    and met the allowance, so no monotonicity of the tail bound is assumed).
    """

    def __init__(
        self, tail: TailBound, name: str, direction: int, points: tuple[Fraction, ...], prec: int
    ) -> None:
        self.tail, self.name, self.direction = tail, name, direction
        if points:
            edge = points[0] if direction < 0 else points[-1]
            self.anchor = Fraction(math.floor(edge) if direction < 0 else math.ceil(edge))
        else:
            self.anchor = Fraction(0)
        self.k = -1  # exponent of the current cut (none yet)
        self.at = self.anchor
        self.bound = arb("inf")
        self.note = ""

    def _evaluate(self, t: Fraction) -> arb:
        """The caller's tail bound at ``t`` as an exact upper endpoint (inf when not finite)."""
        value = self.tail(_exact(t))
        if isinstance(value, int) and not isinstance(value, bool):
            value = arb(value)
        if not isinstance(value, arb):
            raise InvalidArgument(
                f"{self.name} returned {value!r} ({type(value).__name__}); it must return an arb."
            )
        if value.is_nan() or not value.is_finite():
            return arb("inf")
        if value < 0:
            raise InvalidArgument(
                f"{self.name}({_exact(t)}) = {value} is negative; it must bound an absolute value."
            )
        return value.upper()

    def _candidate(self, k: int) -> Fraction:
        return self.anchor + self.direction * Fraction(2) ** k

    def move(self, allowance: arb) -> bool:
        """Move the cut outward until the tail bound is ``<= allowance``; False if it cannot."""
        smallest: tuple[arb, int] | None = None  # the smallest finite bound met on the way
        for k in range(self.k + 1, _MAX_CUT_EXPONENT):
            bound = self._evaluate(self._candidate(k))
            if bound <= allowance:
                inner = self.at if k == self.k + 1 else self._candidate(k - 1)
                self.at, self.bound, self.k = self._candidate(k), bound, k
                self._refine(inner, allowance)
                self.note = ""
                return True
            if bound.is_finite() and (smallest is None or bound < smallest[0]):
                smallest = (bound, k)
        self.note = (f"{self.name}(T) stayed above {allowance.upper()} for every cut up to "
                     f"|T - {self.anchor}| = 2^{_MAX_CUT_EXPONENT - 1}")
        if not self.bound.is_finite() and smallest is not None:
            # keep a finite (if too wide) enclosure rather than none at all
            self.bound, self.k = smallest
            self.at = self._candidate(self.k)
        return False

    def _refine(self, inner: Fraction, allowance: arb) -> None:
        """Bisect between ``inner`` (not accepted) and the accepted cut to shorten the range."""
        for _ in range(_CUT_REFINE_STEPS):
            mid = (inner + self.at) / 2
            if mid == inner or mid == self.at:
                return
            bound = self._evaluate(mid)
            if bound <= allowance:
                self.at, self.bound = mid, bound
            else:
                inner = mid

    def ball(self) -> arb:
        """``[-bound, +bound]``: the tail's contribution."""
        return (-self.bound).union(self.bound)


__all__ = [
    "integrate", "integrate_ball", "positive_part", "real_abs", "real_heaviside", "real_max",
]
