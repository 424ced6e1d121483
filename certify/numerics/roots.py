"""Certified root bracketing: invert a monotone certified function (delta(eps) -> eps(delta)).

A bracket ``[a, b]`` is kept with *certified* opposite signs of ``f`` at its ends; a step is taken
only when the sign at the new point is certified (its Arb ball excludes 0, after precision
escalation). Candidate points come from the Illinois variant of regula falsi on the balls'
midpoints, which converges superlinearly; the midpoints only choose *where* to look, never what is
certified. An optional non-rigorous ``guess`` lets a caller who has a good float approximation
finish in two certified evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from flint import arb, ctx, fmpq

from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound, to_fraction
from certify.numerics.precision import DEFAULT_START_PREC, Target, precisions

Function = Callable[[arb], arb]


def exact_ball(x: Fraction) -> arb:
    """An Arb ball containing the rational ``x`` at the current precision (exact if dyadic)."""
    return arb(fmpq(x.numerator, x.denominator))


class _SignOracle:
    """Certified signs of ``f`` with per-point precision escalation, remembering the midpoints."""

    def __init__(self, f: Function, start_prec: int, max_prec: int) -> None:
        self.f = f
        self.ladder = precisions(start_prec, max_prec)
        self.evaluations = 0
        self.max_prec_used = start_prec

    def sign(self, x: Fraction) -> tuple[int | None, Fraction]:
        """(certified sign or None, a midpoint value of f(x) for choosing the next point)."""
        mid = Fraction(0)
        for prec in self.ladder:
            with ctx.workprec(prec):
                value = self.f(exact_ball(x))
            self.evaluations += 1
            self.max_prec_used = max(self.max_prec_used, prec)
            if value.is_nan() or not value.is_finite():
                continue
            mid = _mid_fraction(value)
            if value > 0:
                return 1, mid
            if value < 0:
                return -1, mid
        return None, mid


def _mid_fraction(value: arb) -> Fraction:
    return to_fraction(value.mid())


def _width_ok(a: Fraction, b: Fraction, target: Target, prec: int) -> bool:
    return target.met_by(Bound.from_fractions(a, b, prec))


def certified_root(
    f: Function,
    lo: object,
    hi: object,
    *,
    target: Target | None = None,
    guess: object | None = None,
    start_prec: int = DEFAULT_START_PREC,
    max_prec: int | None = None,
    max_iterations: int = 400,
    what: str = "root",
) -> Bound:
    """Enclose the unique sign change of ``f`` in ``[lo, hi]`` to the requested width.

    ``f`` receives an Arb ball (evaluate it at the ambient precision) and must return a ball
    containing ``f`` over it. The signs of ``f(lo)`` and ``f(hi)`` must be certifiably
    opposite; the returned Bound then contains a point where ``f`` changes sign (for a
    continuous ``f``, a root). Raises :class:`Inconclusive` when a sign stays undecided or the
    iteration budget runs out, carrying the certified bracket reached.
    """
    goal = target or Target()
    if max_prec is None:
        max_prec = goal.max_prec
    a, b = to_fraction(lo), to_fraction(hi)
    if not a < b:
        raise InvalidArgument(f"lo={lo} must be below hi={hi}.")
    oracle = _SignOracle(f, start_prec, max_prec)
    sa, fa = oracle.sign(a)
    sb, fb = oracle.sign(b)
    if sa is None or sb is None:
        raise Inconclusive(f"{what}: the sign at an end of [{lo}, {hi}] stayed undecided "
                           f"up to {max_prec} bits")
    if sa == sb:
        raise Inconclusive(f"{what}: no certified sign change on [{lo}, {hi}]")

    def finish() -> Bound:
        return Bound.from_fractions(a, b, oracle.max_prec_used)

    if guess is not None:
        g = to_fraction(guess)
        if a < g < b:
            a, b, fa, fb = _try_guess(oracle, g, a, b, sa, fa, fb, goal)
            if _width_ok(a, b, goal, oracle.max_prec_used):
                return finish()

    side = 0  # Illinois: which end was retained last time
    for iteration in range(max_iterations):
        if _width_ok(a, b, goal, oracle.max_prec_used):
            return finish()
        x = _candidate(a, b, fa, fb, bisect=iteration % 4 == 3)
        sx, fx = oracle.sign(x)
        if sx is None:
            # f is indistinguishable from 0 at x up to max_prec: x is a root to this
            # resolution, but only a certified sign change can narrow the bracket.
            x2 = _candidate(a, b, fa, fb, bisect=True)
            sx, fx = oracle.sign(x2)
            if sx is None:
                raise Inconclusive(f"{what}: sign undecided near {float(x):.17g} at "
                                   f"{max_prec} bits", finish())
            x = x2
        if sx == sa:
            a, fa = x, fx
            if side == -1:
                fb = fb / 2
            side = -1
        else:
            b, fb = x, fx
            if side == 1:
                fa = fa / 2
            side = 1
    if _width_ok(a, b, goal, oracle.max_prec_used):
        return finish()
    raise Inconclusive(f"{what}: {goal.describe()} not reached in {max_iterations} steps",
                       finish())


def _try_guess(
    oracle: _SignOracle, g: Fraction, a: Fraction, b: Fraction, sa: int,
    fa: Fraction, fb: Fraction, goal: Target,
) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """Probe the guess and a point a quarter of the target width beyond it."""
    sg, fg = oracle.sign(g)
    if sg is None:
        return a, b, fa, fb
    if sg == sa:
        a, fa = g, fg
    else:
        b, fb = g, fg
    step = _quarter_width(g, goal)
    for _ in range(6):
        probe = g + step if sg == sa else g - step
        if not a < probe < b:
            break
        sp, fp = oracle.sign(probe)
        if sp is None:
            break
        if sp == sa:
            a, fa = probe, fp
        else:
            b, fb = probe, fp
        if sp != sg:
            break
        step *= 8
    return a, b, fa, fb


def _quarter_width(g: Fraction, goal: Target) -> Fraction:
    options = []
    if goal.rel is not None and g != 0:
        options.append(abs(g) * Fraction(goal.rel) / 4)
    if goal.absolute is not None:
        options.append(Fraction(goal.absolute) / 4)
    step = max(options) if options else Fraction(1, 2**40)
    return _round_dyadic(step)


def _round_dyadic(x: Fraction, bits: int = 60) -> Fraction:
    """A nearby dyadic rational with about ``bits`` significant bits (keeps balls exact)."""
    if x == 0:
        return x
    e = x.numerator.bit_length() - x.denominator.bit_length() - bits
    scale = Fraction(2) ** e
    return Fraction(round(x / scale)) * scale


def _bits_to_resolve(a: Fraction, b: Fraction) -> int:
    """Significant bits that resolve points of [a, b] to 1/2^20 of its width."""
    scale = max(abs(a), abs(b))
    if scale == 0:
        return 80
    ratio = scale / (b - a)
    return max(80, ratio.numerator.bit_length() - ratio.denominator.bit_length() + 22)


def _candidate(a: Fraction, b: Fraction, fa: Fraction, fb: Fraction, bisect: bool) -> Fraction:
    """Regula falsi point, kept away from the ends; the bisection point when asked or degenerate."""
    bits = _bits_to_resolve(a, b)
    mid = _round_dyadic((a + b) / 2, bits)
    if bisect or fa == fb:
        return mid if a < mid < b else (a + b) / 2
    x = b - fb * (b - a) / (fb - fa)
    margin = (b - a) / 64
    x = min(max(x, a + margin), b - margin)
    x = _round_dyadic(x, bits)
    return x if a < x < b else (a + b) / 2
