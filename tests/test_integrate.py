"""Certified integration (certify.numerics.integrate) against independent values.

Oracles: closed forms evaluated exactly (``Fraction``) or with mpmath at 50+ digits (about
three times the digits of the 64-bit answers checked), and, for the split logic, the same integral
computed with a different split. The traps of ``acb.integral`` the wrapper exists for are asserted
here too, so that a change in python-flint that removed one would be noticed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import mpmath
import pytest
from flint import acb, arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.integrate import (
    _segments,
    integrate,
    integrate_ball,
    positive_part,
    real_abs,
    real_heaviside,
    real_max,
)
from certify.numerics.precision import Target

ORACLE_DPS = 50


def mp(q: Fraction | str) -> mpmath.mpf:
    """An exact rational (or decimal string) as an mpmath number at the ambient dps."""
    if isinstance(q, str):
        return mpmath.mpf(q)
    return mpmath.mpf(q.numerator) / q.denominator


def sqrt2pi() -> arb:
    return (2 * arb.pi()).sqrt()


def std_normal(x: acb, analytic: bool) -> acb:
    """phi(x) = exp(-x^2/2)/sqrt(2 pi): entire, so the analytic flag needs no checking."""
    return (-x * x / 2).exp() / sqrt2pi()


def mills_tail(t: arb) -> arb:
    """Gordon's inequality (Gordon 1941): 1 - Phi(t) <= phi(t)/t for t > 0; by symmetry the same
    bound, at |t|, for the lower tail Phi(t), t < 0."""
    s = abs(t)
    assert s > 0
    return (-s * s / 2).exp() / (sqrt2pi() * s)


def normal_cdf(z: arb) -> arb:
    """Phi(z) = erfc(-z/sqrt 2)/2 (DLMF 7.2.2), a rigorous ball."""
    return (-z / arb(2).sqrt()).erfc() / 2


# -- trap 1: kinks ----------------------------------------------------------------------------


def test_plain_acb_integral_of_abs_is_confidently_wrong() -> None:
    """Ignoring the analytic flag makes Arb apply a Gauss-Legendre bound across the kink at 0:
    a narrow ball that excludes the true value 1. This documents the trap."""
    with ctx.workprec(64):
        wrong = acb.integral(lambda x, _: x.real_abs(), -1, 1)
    assert wrong.is_finite()
    assert wrong.rad() < 1e-10
    assert not wrong.real.contains(1)
    assert wrong.real > arb("1.15")  # about 2/sqrt(3), not 1


def test_abs_with_breakpoint_contains_one() -> None:
    """Split at the kink, even the flag-ignoring |x| is right (on each side Arb's extension is
    +z or -z, whose modulus is |z|: see the integrate() docstring)."""
    result = integrate(lambda x, _: x.real_abs(), -1, 1, breakpoints=(0,))
    assert result.contains(1)
    assert result.width < Decimal("1e-9")


def test_abs_with_analytic_helper_and_no_breakpoints_contains_one() -> None:
    result = integrate(real_abs, -1, 1)
    assert result.contains(1)
    assert result.rel_width <= 1e-10


def test_abs_of_shifted_kink_at_non_dyadic_points() -> None:
    """int_{-1/3}^{2/3} |x - 1/7| dx = ((1/3 + 1/7)^2 + (2/3 - 1/7)^2) / 2, exactly; the kink and
    the ends are non-dyadic, so the mean-value gaps are exercised."""
    seventh = Fraction(1, 7)

    def f(x: acb, analytic: bool) -> acb:
        return real_abs(x - arb(1) / 7, analytic)

    exact = ((Fraction(1, 3) + seventh) ** 2 + (Fraction(2, 3) - seventh) ** 2) / 2
    for bps in [(), ("1/7",)]:
        result = integrate(f, "-1/3", "2/3", breakpoints=bps)
        assert result.contains(exact), bps
        assert result.rel_width <= 1e-10


def test_helpers_report_non_analytic_on_a_kink_and_evaluate_elsewhere() -> None:
    straddle = acb(arb(0, 1), arb("0.001"))
    right = acb(arb(2, 1), arb("0.001"))
    assert not real_abs(straddle, True).is_finite()
    assert real_abs(straddle, False).is_finite()
    assert real_abs(right, True).is_finite()
    # plain ints are converted (python-flint 0.9 crashes on acb.real_max(int))
    assert not real_max(straddle, 0, True).is_finite()
    assert not positive_part(straddle, True).is_finite()
    assert positive_part(acb(-3), True) == acb(0)
    assert positive_part(acb(3), True) == acb(3)
    assert real_max(acb(1), Fraction(5, 2), False).real.contains(arb("2.5"))
    with pytest.raises(InvalidArgument):
        real_max(acb(1), 2.5, False)  # type: ignore[arg-type]  # a float is not an enclosure
    assert not real_heaviside(straddle, True).is_finite()
    both = real_heaviside(straddle, False)
    assert both.real.contains(0) and both.real.contains(1)
    assert real_heaviside(right, True) == acb(1)
    assert real_heaviside(-right, True) == acb(0)


# -- trap 2: infinite ranges ------------------------------------------------------------------


def test_plain_acb_integral_cannot_take_an_infinite_range() -> None:
    with ctx.workprec(64):
        result = acb.integral(std_normal, -arb("inf"), arb("inf"))
    assert not result.is_finite()


def test_standard_normal_over_the_line_is_one() -> None:
    result = integrate(
        std_normal, "-inf", "inf", lower_tail=mills_tail, upper_tail=mills_tail
    )
    assert result.contains(1)
    assert result.rel_width <= 1e-10


def test_standard_normal_to_thirty_digits_escalates() -> None:
    result = integrate(
        std_normal, float("-inf"), float("inf"), lower_tail=mills_tail, upper_tail=mills_tail,
        target=Target(rel=1e-30),
    )
    assert result.contains(1)
    assert result.rel_width <= 1e-30
    assert result.prec > 64


def test_heavy_tail_arctan() -> None:
    """int_0^inf dx / (1 + x^2) = pi/2; tail int_T^inf <= 1/T (DLMF 4.24.3: pi/2 - atan T)."""
    with mpmath.workdps(ORACLE_DPS):
        truth = mpmath.pi / 2
        result = integrate(lambda x, _: 1 / (1 + x * x), 0, "inf", upper_tail=lambda t: 1 / t)
        assert result.contains(truth)
    assert result.rel_width <= 1e-10


def test_lower_infinite_end() -> None:
    """int_{-inf}^{1/2} e^x dx = e^(1/2); tail int_{-inf}^T e^x = e^T."""
    with mpmath.workdps(ORACLE_DPS):
        truth = mpmath.exp(mpmath.mpf(1) / 2)
        result = integrate(lambda x, _: x.exp(), "-inf", "1/2", lower_tail=lambda t: t.exp())
        assert result.contains(truth)


def test_a_tail_bound_that_stalls_gives_inconclusive_with_a_valid_best() -> None:
    """max(e^-T, 10^-3) is a valid but useless bound on int_T^inf e^-x: never a wide answer."""
    def tail(t: arb) -> arb:
        return max((-t).exp(), arb("0.001"))

    with pytest.raises(Inconclusive) as info:
        integrate(lambda x, _: (-x).exp(), 0, "inf", upper_tail=tail, max_prec=128)
    assert "upper_tail" in info.value.reason
    assert info.value.best is not None
    assert info.value.best.contains(1)
    assert info.value.best.width >= Decimal("0.002")


# -- trap 3: narrow spikes and exhausted budgets ----------------------------------------------

SPIKE_CENTER, SPIKE_VAR = "0.3", "1e-12"


def spike(x: acb, analytic: bool) -> acb:
    c, v = arb(SPIKE_CENTER), arb(SPIKE_VAR)
    return (-((x - c) ** 2) / (2 * v)).exp()


def spike_truth() -> mpmath.mpf:
    """sqrt(pi/2) s (erf((1 - c)/(s sqrt 2)) + erf(c/(s sqrt 2))), s = sqrt(var)."""
    c, s = mpmath.mpf(SPIKE_CENTER), mpmath.sqrt(mpmath.mpf(SPIKE_VAR))
    r2 = mpmath.sqrt(2)
    return mpmath.sqrt(mpmath.pi / 2) * s * (
        mpmath.erf((1 - c) / (s * r2)) + mpmath.erf(c / (s * r2))
    )


@pytest.mark.parametrize("breakpoints", [(), (SPIKE_CENTER,)])
def test_narrow_spike(breakpoints: tuple[str, ...]) -> None:
    with mpmath.workdps(ORACLE_DPS):
        truth = spike_truth()
        assert abs(truth - mpmath.sqrt(2 * mpmath.pi) * mpmath.mpf("1e-6")) < mpmath.mpf("1e-40")
        result = integrate(spike, 0, 1, breakpoints=breakpoints)
        assert result.contains(truth)
    assert result.rel_width <= 1e-10


def test_tiny_eval_limit_raises_inconclusive_never_a_wide_ball() -> None:
    with ctx.workprec(64):
        starved = acb.integral(spike, 0, 1, eval_limit=20)
    assert starved.rad() > 1  # Arb itself just returns a useless ball
    with pytest.raises(Inconclusive) as info:
        integrate(spike, 0, 1, eval_limit=20)
    best = info.value.best
    with mpmath.workdps(ORACLE_DPS):
        assert best is None or best.contains(spike_truth())


def test_constants_made_at_low_precision_stop_the_escalation_early() -> None:
    """A constant built once at 53 bits caps the width: the wrapper notices that doubling the
    precision does not help and gives up before max_prec, with a valid best enclosure."""
    with ctx.workprec(53):
        third = arb(1) / 3
    with pytest.raises(Inconclusive) as info:
        integrate(lambda x, _: x * third, 0, 1, target=Target(rel=1e-30), max_prec=4096)
    assert "no progress" in info.value.reason
    assert info.value.best is not None and info.value.best.contains(Fraction(1, 6))
    assert info.value.best.prec < 4096


def test_nowhere_finite_integrand_is_inconclusive_without_best() -> None:
    with pytest.raises(Inconclusive) as info:
        integrate(lambda x, _: acb("nan"), 0, 1, max_prec=128)
    assert info.value.best is None
    assert "not finite" in info.value.reason


def test_zero_integral_needs_an_absolute_target() -> None:
    with pytest.raises(Inconclusive):
        integrate(lambda x, _: x, -1, 1, max_prec=256)
    result = integrate(lambda x, _: x, -1, 1, target=Target(rel=None, absolute=1e-20))
    assert result.contains(0)
    assert result.width <= Decimal("1e-20")


def test_tiny_integral_is_resolved_relatively() -> None:
    """int_0^1 1e-300 e^-x dx = 1e-300 (1 - 1/e): Arb's default absolute tolerance 2^-prec
    would swamp it; the wrapper asks for a relative answer."""
    with mpmath.workdps(ORACLE_DPS):
        truth = mpmath.mpf("1e-300") * (1 - mpmath.exp(-1))
        result = integrate(lambda x, _: (-x).exp() * arb("1e-300"), 0, 1)
        assert result.contains(truth)
    assert result.rel_width <= 1e-10


# -- the privacy-profile integrand ------------------------------------------------------------


def hockey_stick(mu: str, eps: str, form: str) -> Callable[[acb, bool], acb]:
    """(p(x) - e^eps q(x))_+ for P = N(mu, 1), Q = N(0, 1) (Balle and Wang 2018, eq. (4)).

    ``form="max"`` takes the positive part of the difference; ``form="step"`` multiplies it by
    the step 1[x > x*], x* = eps/mu + mu/2 (where log p/q = mu x - mu^2/2 crosses eps): equal on
    the line. Constants are built inside, at the working precision of each attempt."""

    def f(x: acb, analytic: bool) -> acb:
        mu_b, eps_b = arb(mu), arb(eps)
        p = (-((x - mu_b) ** 2) / 2).exp()
        q = (-(x * x) / 2).exp()
        diff = (p - eps_b.exp() * q) / sqrt2pi()
        if form == "max":
            return positive_part(diff, analytic)
        return diff * real_heaviside(x - eps_b / mu_b - mu_b / 2, analytic)

    return f


def balle_wang(mu: str, eps: str) -> mpmath.mpf:
    """delta = Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu) (Balle and Wang 2018, Thm 8)."""
    m, e = mpmath.mpf(mu), mpmath.mpf(eps)
    return mpmath.ncdf(m / 2 - e / m) - mpmath.exp(e) * mpmath.ncdf(-m / 2 - e / m)


def hockey_stick_delta(mu: str, eps: str, form: str, kink: bool, target: Target) -> Bound:
    """int (p - e^eps q)_+ over the line. Tails: int_T^inf (p - e^eps q)_+ <= int_T^inf p =
    Phi(mu - T), and int_{-inf}^T (p - e^eps q)_+ <= Phi(T - mu)."""
    points = (Fraction(eps) / Fraction(mu) + Fraction(mu) / 2,) if kink else ()
    return integrate(
        hockey_stick(mu, eps, form), "-inf", "inf", breakpoints=points, target=target,
        lower_tail=lambda t: normal_cdf(t - arb(mu)), upper_tail=lambda t: normal_cdf(arb(mu) - t),
    )


@pytest.mark.parametrize("mu, eps", [("1", "1"), ("0.5", "0.1"), ("2", "0"), ("1", "10")])
@pytest.mark.parametrize("kink", [True, False])
def test_hockey_stick_matches_balle_wang(mu: str, eps: str, kink: bool) -> None:
    """The positive-part form, with the kink x* given as a breakpoint and without it."""
    result = hockey_stick_delta(mu, eps, "max", kink, Target())
    with mpmath.workdps(ORACLE_DPS):
        assert result.contains(balle_wang(mu, eps))
    assert result.rel_width <= 1e-10


@pytest.mark.parametrize(
    "mu, eps, rel", [("1", "1", 1e-30), ("0.12", "4.26", 1e-20), ("3", "0.5", 1e-40)]
)
def test_hockey_stick_step_form_to_many_digits(mu: str, eps: str, rel: float) -> None:
    """The step form stays fast at high precision, also for delta ~ 7e-278 (mu=0.12, eps=4.26:
    all of the mass lies beyond the first tail cuts, so the cuts must move out to find it)."""
    result = hockey_stick_delta(mu, eps, "step", False, Target(rel=rel))
    with mpmath.workdps(3 * ORACLE_DPS):
        assert result.contains(balle_wang(mu, eps))
    assert result.rel_width <= rel


# -- integrate_ball -----------------------------------------------------------------------------


def test_integrate_ball_at_ambient_precision() -> None:
    before = ctx.prec
    with ctx.workprec(200):
        ball = integrate_ball(std_normal, "-inf", "inf", lower_tail=mills_tail,
                              upper_tail=mills_tail)
        assert ctx.prec == 200
    assert ctx.prec == before
    assert isinstance(ball, arb)
    assert ball.contains(1)
    assert ball.rad() < arb("1e-50")
    with ctx.workprec(64):
        coarse = integrate_ball(lambda x, _: x * x, 0, 3, rel_tol=1e-5, abs_tol=1e-6)
    assert coarse.contains(9)


def test_integrate_ball_raises_on_a_non_finite_result() -> None:
    with ctx.workprec(64), pytest.raises(Inconclusive):
        integrate_ball(lambda x, _: acb("nan"), 0, 1)
    assert integrate_ball(std_normal, 2, 2) == 0


# -- hypothesis: random closed forms ----------------------------------------------------------

small_rationals = st.builds(
    Fraction, st.integers(min_value=-60, max_value=60), st.integers(min_value=1, max_value=12)
)


@st.composite
def intervals(draw: st.DrawFn) -> tuple[Fraction, Fraction]:
    a = draw(small_rationals)
    b = draw(small_rationals.filter(lambda q: q != a))
    return (a, b) if a < b else (b, a)


def poly_value(coeffs: list[Fraction], x: acb) -> acb:
    out = acb(0)
    for c in reversed(coeffs):
        out = out * x + arb(c.numerator) / c.denominator
    return out


@settings(max_examples=40, deadline=None)
@given(
    coeffs=st.lists(small_rationals, min_size=1, max_size=6),
    ab=intervals(),
    cuts=st.lists(st.floats(min_value=0.01, max_value=0.99), max_size=3),
)
def test_random_polynomials_against_exact_antiderivatives(
    coeffs: list[Fraction], ab: tuple[Fraction, Fraction], cuts: list[float]
) -> None:
    a, b = ab

    def antiderivative(x: Fraction) -> Fraction:
        return sum((c * x ** (k + 1) / (k + 1) for k, c in enumerate(coeffs)), Fraction(0))

    exact = antiderivative(b) - antiderivative(a)
    target = Target(rel=1e-10, absolute=1e-12)
    breakpoints = [a + Fraction(t) * (b - a) for t in cuts]  # another split, same integral
    result = integrate(lambda x, _: poly_value(coeffs, x), a, b, breakpoints=breakpoints,
                       target=target)
    assert result.contains(exact)
    assert target.met_by(result)


@settings(max_examples=30, deadline=None)
@given(
    scale=small_rationals.filter(lambda q: q != 0),
    rate=st.builds(Fraction, st.integers(-30, 30).filter(lambda n: n != 0), st.integers(1, 7)),
    ab=intervals(),
)
def test_random_exponentials_against_closed_form(
    scale: Fraction, rate: Fraction, ab: tuple[Fraction, Fraction]
) -> None:
    """int_a^b s e^(k x) dx = s (e^(k b) - e^(k a)) / k."""
    a, b = ab
    s_b, k_b = arb(scale.numerator) / scale.denominator, arb(rate.numerator) / rate.denominator
    result = integrate(lambda x, _: s_b * (k_b * x).exp(), str(a), str(b))
    with mpmath.workdps(ORACLE_DPS + 20):
        truth = mp(scale) * (mpmath.exp(mp(rate) * mp(b)) - mpmath.exp(mp(rate) * mp(a))) / mp(rate)
        assert result.contains(truth)
    assert result.rel_width <= 1e-10


@settings(max_examples=60, deadline=None)
@given(points=st.lists(small_rationals, min_size=2, max_size=6, unique=True),
       prec=st.sampled_from([2, 8, 64]), nudge=st.integers(0, 3))
def test_segments_tile_the_range_exactly(points: list[Fraction], prec: int, nudge: int) -> None:
    """The split used internally: contiguous, Arb segments only between dyadic points, every
    point inside a run of mean-value gaps (never inside an Arb segment). A low precision makes
    enclosures overlap, which is the hard case."""
    pts = sorted(points)
    pts[-1] += Fraction(nudge, 10**9)  # near-coincident points
    pts = sorted(set(pts))
    if len(pts) < 2:
        return
    segs = _segments(pts, prec)
    assert segs[0][0] == pts[0] and segs[-1][1] == pts[-1]
    for (u, v, _), (u2, _, _) in zip(segs, segs[1:], strict=False):
        assert u < v and v == u2
    for u, v, by_arb in segs:
        if by_arb:
            assert u.denominator & (u.denominator - 1) == 0
            assert v.denominator & (v.denominator - 1) == 0
            assert not any(u < p < v for p in pts)


# -- validation ---------------------------------------------------------------------------------


def one(x: acb, analytic: bool) -> acb:
    return acb(1)


@pytest.mark.parametrize(
    "a, b, kwargs, fragment",
    [
        (1, 0, {}, "a=1 must not exceed b=0"),
        (float("nan"), 1, {}, "a=nan"),
        (0, float("nan"), {}, "b=nan"),
        ("inf", 1, {}, "a=inf"),
        (0, "-inf", {}, "b=-inf"),
        (True, 1, {}, "a=True"),
        ("zero", 1, {}, "a='zero'"),
        ("-inf", 1, {}, "lower_tail=None"),
        (0, "inf", {}, "upper_tail=None"),
        (0, float("inf"), {"upper_tail": 3}, "upper_tail=3"),
        (0, 1, {"breakpoints": (2,)}, "breakpoints[0]=2"),
        (0, 1, {"breakpoints": ("0.5", -1)}, "breakpoints[1]=-1"),
        (0, 1, {"breakpoints": 0.5}, "breakpoints=0.5"),
        (0, 1, {"breakpoints": (float("nan"),)}, "breakpoints[0]=nan"),
        (0, 1, {"eval_limit": 0}, "eval_limit=0"),
        (0, 1, {"eval_limit": 2.5}, "eval_limit=2.5"),
        (0, 1, {"start_prec": 8}, "start_prec=8"),
        (0, 1, {"start_prec": 128, "max_prec": 64}, "max_prec=64"),
        (0, 1, {"target": 1e-10}, "target=1e-10"),
    ],
)
def test_bad_inputs_raise_invalid_argument(
    a: object, b: object, kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(InvalidArgument) as info:
        integrate(one, a, b, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)


@settings(max_examples=30, deadline=None)
@given(ab=intervals())
def test_reversed_ranges_are_rejected_and_empty_ones_are_zero(
    ab: tuple[Fraction, Fraction],
) -> None:
    a, b = ab
    with pytest.raises(InvalidArgument, match="must not exceed"):
        integrate(one, b, a)
    assert integrate(one, a, a) == Bound.exact(0)
    assert integrate(one, str(a), a, breakpoints=(a,)) == Bound.exact(0)


def test_inputs_read_exactly() -> None:
    """"0.1" is 1/10 exactly, a float its binary value: int_a^b 1 = b - a."""
    assert integrate(one, "0.1", "0.3").contains(Fraction(1, 5))
    assert integrate(one, Decimal("0.1"), Fraction(3, 10)).contains(Fraction(1, 5))
    tight = Target(rel=1e-25)
    assert integrate(one, 0.1, 0.3, target=tight).contains(Fraction(0.3) - Fraction(0.1))
    assert not integrate(one, 0.1, 0.3, target=tight).contains(Fraction(1, 5))
    # a breakpoint at an end is ignored; a tail given for a finite end is not used
    assert integrate(one, 0, 1, breakpoints=(0, 1), upper_tail=mills_tail).contains(1)


def test_integrand_errors_surface() -> None:
    def boom(x: acb, analytic: bool) -> acb:
        raise ZeroDivisionError("boom")

    before = ctx.prec
    with pytest.raises(ZeroDivisionError, match="boom"):
        integrate(boom, 0, 1)
    assert ctx.prec == before
    with pytest.raises(InvalidArgument, match="must return an acb"):
        integrate(lambda x, _: 1.0, 0, 1)  # type: ignore[arg-type,return-value]
    with pytest.raises(InvalidArgument, match="not real-valued"):
        integrate(lambda x, _: x * acb(0, 1), 1, 2)
    with pytest.raises(InvalidArgument, match="f="):
        integrate("x", 0, 1)  # type: ignore[arg-type]


def test_bad_tail_bounds() -> None:
    with pytest.raises(InvalidArgument, match="negative"):
        integrate(std_normal, 0, "inf", upper_tail=lambda t: arb(-1))
    with pytest.raises(InvalidArgument, match="must return an arb"):
        integrate(std_normal, 0, "inf", upper_tail=lambda t: 1e-300)  # type: ignore[arg-type,return-value]


def test_integrate_ball_validates() -> None:
    with pytest.raises(InvalidArgument, match="rel_tol=-1"):
        integrate_ball(one, 0, 1, rel_tol=-1)
    with pytest.raises(InvalidArgument, match="abs_tol"):
        integrate_ball(one, 0, 1, abs_tol=math.inf)
    with pytest.raises(InvalidArgument, match="upper_tail=None"):
        integrate_ball(one, 0, "inf")
