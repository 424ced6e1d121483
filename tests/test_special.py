"""Oracle tests for certify.numerics.special.

Every ball is checked against an independent computation: mpmath at (at least) twice the
digits of the ball's precision, or a closed form (chi^2_2, chi^2_1, Cauchy, t_2, log Q for
k = 2). Containment is decided exactly (the ball's endpoints are converted to mpmath numbers
without rounding); widths are asserted as relative accuracy in bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import mpmath
import pytest
from flint import arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InvalidArgument
from certify.numerics.precision import Target
from certify.numerics.special import _log_normal_tail_mills as _log_normal_tail_mills
from certify.numerics.special import (
    chi2_cdf,
    chi2_cdf_bound,
    chi2_sf,
    chi2_sf_bound,
    log_chi2_cdf,
    log_chi2_sf,
    log_normal_cdf,
    log_normal_sf,
    normal_cdf,
    normal_cdf_bound,
    normal_pdf,
    normal_sf,
    normal_sf_bound,
    student_t_cdf,
    student_t_cdf_bound,
    student_t_central,
    student_t_sf,
    student_t_sf_bound,
)

PRECS = st.sampled_from([53, 64, 113, 200])


# -- exact comparison helpers -----------------------------------------------------------------


def _mpf(x: arb) -> mpmath.mpf:
    """The exact value of an exact arb as an mpmath number (no rounding)."""
    man, exp = x.man_exp()
    with mpmath.workprec(max(53, int(man).bit_length() + 8)):
        return mpmath.mpf((int(man), int(exp)))


def encloses(ball: arb, ref: mpmath.mpf) -> bool:
    assert ball.is_finite(), f"non-finite ball {ball}"
    return bool(_mpf(ball.lower()) <= ref <= _mpf(ball.upper()))


def oracle_dps(prec: int, extra: int = 0) -> int:
    """Twice the decimal digits of ``prec`` bits, plus margin."""
    return 2 * math.ceil(prec * 0.30103) + 20 + extra


def check(ball: arb, ref: mpmath.mpf, prec: int, lost_bits: int = 10) -> None:
    assert encloses(ball, ref), f"{ball} does not contain {mpmath.nstr(ref, 25)}"
    assert ball.rel_accuracy_bits() >= prec - lost_bits, (
        f"{ball}: only {ball.rel_accuracy_bits()} accurate bits at {prec}")


# -- normal -------------------------------------------------------------------------------------


def _normal_refs(x: float) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
    X = mpmath.mpf(x)
    cdf, sf = mpmath.ncdf(X), mpmath.ncdf(-X)
    log_cdf = mpmath.log(cdf) if x <= 0 else mpmath.log1p(-sf)
    return cdf, sf, log_cdf


@settings(max_examples=300, deadline=None)
@given(x=st.one_of(st.floats(-60, 60), st.floats(-5, 5), st.floats(-1e-3, 1e-3)), prec=PRECS)
def test_normal_against_mpmath(x: float, prec: int) -> None:
    with mpmath.workdps(oracle_dps(prec)):
        cdf, sf, log_cdf = _normal_refs(x)
        with ctx.workprec(prec):
            ball = arb(x)
            check(normal_cdf(ball), cdf, prec)
            check(normal_sf(ball), sf, prec)
            check(log_normal_cdf(ball), log_cdf, prec)
            check(log_normal_sf(ball), mpmath.log(sf) if x >= 0 else mpmath.log1p(-cdf), prec)
            check(normal_pdf(ball), mpmath.npdf(mpmath.mpf(x)), prec)


@pytest.mark.parametrize("x, dps", [(-214, 60), (-1e6, 80), (-1e30, 200), (-38.5, 60)])
def test_normal_far_lower_tail(x: float, dps: int) -> None:
    """Phi(-214) ~ 6.2e-9948, Phi(-1e6) ~ 9.4e-217147240959: full relative accuracy."""
    with mpmath.workdps(dps), ctx.workprec(64):
        ref = mpmath.ncdf(mpmath.mpf(x))
        check(normal_cdf(arb(x)), ref, 64)
        check(normal_sf(arb(-x)), ref, 64)
        check(log_normal_cdf(arb(x)), mpmath.log(ref), 64)
    if x == -214:
        assert mpmath.mpf("6.2e-9948") < ref < mpmath.mpf("6.3e-9948")


def test_normal_tail_series_agrees_with_erfc() -> None:
    """The enveloping asymptotic series (used for t >= 4096) against Arb's erfc and mpmath at
    t where both apply: two independent methods, whose balls must overlap."""
    with mpmath.workdps(80), ctx.workprec(128):
        for t in (20, 60.5, 300, 3000, 5000):
            series = _log_normal_tail_mills(arb(t))
            via_erfc = ((arb(t) / arb(2).sqrt()).erfc() / 2).log()
            assert series.overlaps(via_erfc), (t, series, via_erfc)
            check(series, mpmath.log(mpmath.ncdf(-mpmath.mpf(t))), 128, 12)


@pytest.mark.parametrize("x", [8, 9, 12.5, 40])
def test_normal_cdf_near_one(x: float) -> None:
    """Phi(x) within 1e-15 of 1: the complement 1 - Phi is enclosed with relative accuracy."""
    with mpmath.workdps(80):
        ref_tail = mpmath.ncdf(-mpmath.mpf(x))
        with ctx.workprec(64):
            check(normal_sf(arb(x)), ref_tail, 64)
            check(log_normal_cdf(arb(x)), mpmath.log1p(-ref_tail), 64)
            assert encloses(normal_cdf(arb(x)), 1 - ref_tail)
        assert ref_tail < mpmath.mpf("1e-15")
        # the ball for Phi itself resolves 1 - Phi once the precision exceeds its exponent
        with ctx.workprec(64 + 2 * int(-mpmath.log(ref_tail, 2))):
            complement = 1 - normal_cdf(arb(x))
        assert encloses(complement, ref_tail)
        assert complement.rel_accuracy_bits() >= 40


def test_normal_balls_straddling_zero() -> None:
    """Wide balls: the enclosure holds every point value and is not much wider than their hull."""
    with mpmath.workdps(50), ctx.workprec(64):
        ball = arb(0, 1)  # [-1, 1]
        for f, ref in ((normal_cdf, mpmath.ncdf),
                       (log_normal_cdf, lambda v: mpmath.log(mpmath.ncdf(v)))):
            out = f(ball)
            for v in (-1, -0.5, 0, 0.25, 1):
                assert encloses(out, ref(mpmath.mpf(v)))
            hull = ref(mpmath.mpf(1)) - ref(mpmath.mpf(-1))
            # the union's radius is a 30-bit "mag": allow that much slack over the exact hull
            assert _mpf(out.upper()) - _mpf(out.lower()) < hull * (1 + mpmath.mpf("1e-8"))
        assert normal_cdf(arb(0, "inf")).contains(arb(0.5, 0.5))  # trivial, but valid


@settings(max_examples=100, deadline=None)
@given(lo=st.floats(-50, 50), width=st.floats(1e-12, 20), frac=st.floats(0, 1))
def test_wide_balls_enclose_every_point(lo: float, width: float, frac: float) -> None:
    """Monotone functions on a ball [lo, lo + width]: the value at any inner point is inside."""
    hi = lo + width
    inner = lo + frac * width
    with mpmath.workdps(40), ctx.workprec(64):
        ball = arb(lo).union(arb(hi))
        X = mpmath.mpf(inner)
        assert encloses(normal_cdf(ball), mpmath.ncdf(X))
        assert encloses(normal_sf(ball), mpmath.ncdf(-X))
        if inner > 0:
            assert encloses(chi2_cdf(ball, 3),
                            mpmath.gammainc(mpmath.mpf(1.5), 0, X / 2, regularized=True))
            assert encloses(chi2_sf(ball, 3),
                            mpmath.gammainc(mpmath.mpf(1.5), X / 2, mpmath.inf, regularized=True))
        assert encloses(student_t_cdf(ball, 1), mpmath.mpf(1) / 2 + mpmath.atan(X) / mpmath.pi)


def test_precision_restored() -> None:
    with ctx.workprec(77):
        normal_cdf(arb(-300))
        chi2_cdf(arb(3), 100000)
        student_t_cdf(arb(2), 5)
        assert ctx.prec == 77


# -- chi-square -------------------------------------------------------------------------------


def _chi2_refs(x: mpmath.mpf, k: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(P, Q) from mpmath: Q directly; P directly left of the mode, else 1 - Q."""
    a, z = k / 2, x / 2
    q = mpmath.gammainc(a, z, mpmath.inf, regularized=True)
    p = mpmath.gammainc(a, 0, z, regularized=True) if z <= a else 1 - q
    return p, q


def _check_chi2(x: float, k: float, prec: int, lost_bits: int = 12) -> None:
    with mpmath.workdps(oracle_dps(prec)):
        p, q = _chi2_refs(mpmath.mpf(x), mpmath.mpf(k))
        with ctx.workprec(prec):
            ball = arb(x)
            check(chi2_cdf(ball, k), p, prec, lost_bits)
            check(chi2_sf(ball, k), q, prec, lost_bits)
            check(log_chi2_cdf(ball, k), mpmath.log(p) if p < 0.5 else mpmath.log1p(-q),
                  prec, lost_bits)
            check(log_chi2_sf(ball, k), mpmath.log(q) if q < 0.5 else mpmath.log1p(-p),
                  prec, lost_bits)


@settings(max_examples=200, deadline=None)
@given(k=st.one_of(st.sampled_from([1.0, 2.0, 7.5, 0.3, 30.0]), st.floats(0.05, 300)),
       log_ratio=st.floats(-12, 2.5), prec=PRECS)
def test_chi2_against_mpmath(k: float, log_ratio: float, prec: int) -> None:
    _check_chi2(k * math.exp(log_ratio), k, prec)


@pytest.mark.parametrize("x", [1e-300, 1e4, 5e4, 98000, 99500, 1e5, 100600, 101000, 2e5, 1e6])
def test_chi2_large_dof(x: float) -> None:
    """k = 1e5: both sides of the mode (where Arb's own lower gamma fails) and far tails."""
    _check_chi2(x, 1e5, 64)


@settings(max_examples=150, deadline=None)
@given(x=st.floats(1e-30, 2000), prec=PRECS)
def test_chi2_closed_forms(x: float, prec: int) -> None:
    """k = 2: P = 1 - exp(-x/2); k = 1: P = erf(sqrt(x/2)) (A&S 26.4.4)."""
    with mpmath.workdps(oracle_dps(prec)):
        X = mpmath.mpf(x)
        with ctx.workprec(prec):
            check(chi2_cdf(arb(x), 2), -mpmath.expm1(-X / 2), prec)
            check(chi2_sf(arb(x), 2), mpmath.exp(-X / 2), prec)
            check(chi2_cdf(arb(x), 1), mpmath.erf(mpmath.sqrt(X / 2)), prec)
            check(chi2_sf(arb(x), 1), mpmath.erfc(mpmath.sqrt(X / 2)), prec)


def test_chi2_extreme_tails() -> None:
    with mpmath.workdps(80), ctx.workprec(64):
        # log Q(1, x/2) = -x/2 exactly for k = 2: an exact oracle far beyond any float
        check(log_chi2_sf(arb(10) ** 40, 2), -mpmath.mpf(10) ** 40 / 2, 64)
        check(chi2_sf(arb(10**6), 1), mpmath.erfc(mpmath.sqrt(mpmath.mpf(5 * 10**5))), 64)
        check(chi2_cdf(arb(1e-300), 7.5),
              mpmath.gammainc(mpmath.mpf(3.75), 0, mpmath.mpf(1e-300) / 2, regularized=True), 64)
        assert chi2_cdf(arb(0), 3) == 0 and chi2_sf(arb(-1), 3) == 1
        # a ball straddling 0 encloses P over [0, 1]
        out = chi2_cdf(arb(0, 1), 3)
        assert encloses(out, mpmath.mpf(0))
        assert encloses(out, mpmath.gammainc(mpmath.mpf(1.5), 0, 0.5, regularized=True))


def test_chi2_exact_and_ball_parameters() -> None:
    """k as a string/Fraction means the exact number; an arb k must be certainly positive."""
    with mpmath.workdps(60), ctx.workprec(64):
        ref = mpmath.gammainc(mpmath.mpf(1) / 20, 0, mpmath.mpf(1) / 2, regularized=True)
        check(chi2_cdf(arb(1), "0.1"), ref, 64)
        check(chi2_cdf(arb(1), Fraction(1, 10)), ref, 64)
        assert encloses(chi2_cdf(arb(1), arb("0.1")), ref)


# -- Student t -------------------------------------------------------------------------------


def _t_ref(t: mpmath.mpf, nu: mpmath.mpf) -> mpmath.mpf:
    """F(t) = I_{nu/(nu+t^2)}(nu/2, 1/2)/2 for t < 0 (A&S 26.7.1), by mpmath."""
    if t == 0:
        return mpmath.mpf(1) / 2
    tail = mpmath.betainc(nu / 2, mpmath.mpf(1) / 2, 0, nu / (nu + t * t), regularized=True) / 2
    return tail if t < 0 else 1 - tail


@settings(max_examples=200, deadline=None)
@given(nu=st.one_of(st.sampled_from([0.5, 7.5, 30.0, 1e5]), st.floats(0.1, 1000)),
       t=st.one_of(st.floats(-1e6, 1e6), st.floats(-3, 3)), prec=PRECS)
def test_student_t_against_mpmath(nu: float, t: float, prec: int) -> None:
    with mpmath.workdps(oracle_dps(prec, 10)):
        ref = _t_ref(mpmath.mpf(t), mpmath.mpf(nu))
        ref_sf = _t_ref(-mpmath.mpf(t), mpmath.mpf(nu))
        with ctx.workprec(prec):
            check(student_t_cdf(arb(t), nu), ref, prec, 12)
            check(student_t_sf(arb(t), nu), ref_sf, prec, 12)


@settings(max_examples=200, deadline=None)
@given(t=st.one_of(st.floats(-1e12, 1e12), st.floats(-1, 1), st.floats(-1e-20, 1e-20)),
       prec=PRECS)
def test_student_t_closed_forms(t: float, prec: int) -> None:
    """nu = 1 (Cauchy): 1/2 + atan(t)/pi; nu = 2: 1/2 + t / (2 sqrt(2 + t^2))."""
    with mpmath.workdps(oracle_dps(prec)):
        T = mpmath.mpf(t)
        cauchy = mpmath.mpf(1) / 2 + mpmath.atan(T) / mpmath.pi
        cauchy_sf = mpmath.mpf(1) / 2 - mpmath.atan(T) / mpmath.pi
        t2 = mpmath.mpf(1) / 2 + T / (2 * mpmath.sqrt(2 + T * T))
        with ctx.workprec(prec):
            check(student_t_cdf(arb(t), 1), cauchy, prec)
            check(student_t_sf(arb(t), 1), cauchy_sf, prec)
            check(student_t_cdf(arb(t), 2), t2, prec)
            if t != 0:  # P(|T| < |t|) = 2 atan|t| / pi: relative accuracy even for tiny t
                check(student_t_central(arb(t), 1), 2 * mpmath.atan(abs(T)) / mpmath.pi, prec)


def test_student_t_large_nu_tends_to_normal() -> None:
    with mpmath.workdps(60), ctx.workprec(64):
        for t in (-40.0, -5.0, -0.3, 2.0):
            check(student_t_cdf(arb(t), 100000), _t_ref(mpmath.mpf(t), mpmath.mpf(100000)), 64, 12)
        # nu = 1e8 at t = 2: within 1e-7 of Phi(2) (the t_nu - Phi gap is O(1/nu))
        gap = student_t_cdf(arb(2), 10**8) - normal_cdf(arb(2))
        assert abs(gap) < arb("1e-7")


def test_student_t_central_ball() -> None:
    with mpmath.workdps(50), ctx.workprec(64):
        out = student_t_central(arb(-0.3).union(arb(0.2)), 1)
        assert encloses(out, mpmath.mpf(0))
        assert encloses(out, 2 * mpmath.atan(abs(mpmath.mpf(-0.3))) / mpmath.pi)


# -- exact-input evaluators ------------------------------------------------------------------


def test_bound_evaluators_meet_targets() -> None:
    target = Target(rel=1e-30)
    with mpmath.workdps(80):
        b = normal_cdf_bound("-214", target)
        assert b.contains(mpmath.ncdf(-214)) and b.rel_width <= 1e-30
        b = normal_sf_bound("0.1", target)  # 0.1 means 1/10, not the double
        assert b.contains(mpmath.ncdf(-mpmath.mpf(1) / 10)) and b.rel_width <= 1e-30
        assert not normal_sf_bound(0.1, target).contains(mpmath.ncdf(-mpmath.mpf(1) / 10))
        b = chi2_cdf_bound("3.5", "7.5", target)
        ref = mpmath.gammainc(mpmath.mpf("3.75"), 0, mpmath.mpf("1.75"), regularized=True)
        assert b.contains(ref) and b.rel_width <= 1e-30
        b = chi2_sf_bound(1000, 2, target)
        assert b.contains(mpmath.exp(-500)) and b.rel_width <= 1e-30
        assert chi2_cdf_bound(-1, 2).contains(0)
        b = student_t_cdf_bound("-3", "1", target)
        assert b.contains(mpmath.mpf(1) / 2 + mpmath.atan(-3) / mpmath.pi)
        assert b.rel_width <= 1e-30
        b = student_t_sf_bound("1e-20", 2, target)
        tiny = mpmath.mpf("1e-20")
        assert b.contains(mpmath.mpf(1) / 2 - tiny / (2 * mpmath.sqrt(2 + tiny * tiny)))


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda: chi2_cdf(arb(1), -1), "k=-1"),
    (lambda: chi2_sf(arb(1), 0), "k=0"),
    (lambda: log_chi2_sf(arb(1), arb(0, 1)), "k="),
    (lambda: chi2_cdf(arb(1), "abc"), "k='abc'"),
    (lambda: student_t_cdf(arb(1), -2.5), "nu=-2.5"),
    (lambda: student_t_central(arb(1), float("nan")), "nu=nan"),
    (lambda: normal_cdf_bound("x"), "x='x'"),
    (lambda: normal_sf_bound(float("inf")), "x=inf"),
    (lambda: chi2_cdf_bound(1, "0"), "k=0"),
    (lambda: chi2_sf_bound(True, 1), "x=True"),
    (lambda: student_t_cdf_bound(1, "-1/2"), "nu=-1/2"),
    (lambda: student_t_sf_bound(None, 3), "t=None"),  # type: ignore[arg-type]
    (lambda: normal_cdf_bound(1, "tight"), "target="),  # type: ignore[arg-type]
])
def test_bad_input_names_the_parameter(call: Callable[[], object], name: str) -> None:
    with pytest.raises(InvalidArgument, match=name.replace("(", r"\(")):
        call()


def test_non_arb_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        normal_cdf(1.5)  # type: ignore[arg-type]
