"""Oracle tests for certify.numerics.quantiles.

Each certified bracket must contain the quantile computed independently: by a closed form
(chi^2_2: -2 log(1 - p); chi^2_1: 2 erfinv(p)^2; Cauchy: -cot(pi p); t_2: (2p - 1)/sqrt(2p(1-p));
normal: sqrt 2 erfinv(2p - 1)) or by mpmath's findroot on mpmath's distribution function at
high precision. Widths are asserted against the requested Target.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target
from certify.numerics.quantiles import chi2_quantile, normal_quantile, student_t_quantile

DPS = 60
PROBS = st.one_of(
    st.floats(1e-300, 1 - 2**-53),
    st.floats(0.2, 0.8),
    st.floats(1e-12, 1e-3),
).filter(lambda p: 0 < p < 1)
TARGETS = st.sampled_from([Target(), Target(rel=1e-25), Target(rel=None, absolute=1e-14)])


def _p(p: float | str | Fraction) -> mpmath.mpf:
    q = Fraction(p)
    return mpmath.mpf(q.numerator) / q.denominator


def _dps_for(p: float) -> int:
    """Oracle digits: twice those an absolute 1e-14 target can demand of a quantile ~ 1/p."""
    tail = min(Fraction(p), 1 - Fraction(p))
    return DPS + 2 * max(0, len(str(tail.denominator)) - len(str(tail.numerator)))


def _assert_bracket(b: Bound, ref: mpmath.mpf, target: Target) -> None:
    assert b.contains(ref), f"{b} does not contain {mpmath.nstr(ref, 30)}"
    assert target.met_by(b), f"{b} misses {target.describe()}"


# -- closed forms -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(p=PROBS, target=TARGETS)
def test_normal_quantile_closed_form(p: float, target: Target) -> None:
    with mpmath.workdps(DPS + 320):  # 2p - 1 near -1 needs the digits of p's exponent
        P = _p(p)
        ref = mpmath.sqrt(2) * mpmath.erfinv(2 * P - 1)
        _assert_bracket(normal_quantile(p, target), ref, target)


@settings(max_examples=60, deadline=None)
@given(p=PROBS, target=TARGETS)
def test_chi2_quantile_closed_forms(p: float, target: Target) -> None:
    """k = 2: -2 log(1 - p); k = 1: 2 erfinv(p)^2 (since P(1/2, x/2) = erf(sqrt(x/2)))."""
    with mpmath.workdps(_dps_for(p)):
        P = _p(p)
        _assert_bracket(chi2_quantile(p, 2, target), -2 * mpmath.log1p(-P), target)
        if p < 1 - 1e-12:  # erfinv near 1 needs more digits than this oracle keeps
            _assert_bracket(chi2_quantile(p, 1, target), 2 * mpmath.erfinv(P) ** 2, target)


@settings(max_examples=60, deadline=None)
@given(p=PROBS, target=TARGETS)
def test_student_t_quantile_closed_forms(p: float, target: Target) -> None:
    """Cauchy: tan(pi (p - 1/2)) = -cot(pi p); nu = 2: (2p - 1) / sqrt(2 p (1 - p))."""
    with mpmath.workdps(_dps_for(p)):
        P = _p(p)
        cauchy = -mpmath.cot(mpmath.pi * P) if P != 0.5 else mpmath.mpf(0)
        _assert_bracket(student_t_quantile(p, 1, target), cauchy, target)
        _assert_bracket(student_t_quantile(p, 2, target),
                        (2 * P - 1) / mpmath.sqrt(2 * P * (1 - P)), target)


# -- mpmath root finding -----------------------------------------------------------------------


def _root(F: Callable[[mpmath.mpf], mpmath.mpf], p: mpmath.mpf, x0: mpmath.mpf,
          positive: bool = False) -> mpmath.mpf:
    """mpmath's own root of F(x) = p near x0 (secant), checked to have converged.
    ``positive``: solve for log x instead, so the iteration cannot leave x > 0."""
    if positive:
        u = _root(lambda v: F(mpmath.exp(v)), p, mpmath.log(x0))
        return mpmath.exp(u)
    step = max(abs(x0), mpmath.mpf(1)) * mpmath.mpf("1e-9")  # start close: stay in F's domain
    x = mpmath.findroot(lambda v: F(v) - p, (x0, x0 + step), tol=mpmath.mpf(10) ** (-DPS + 10))
    assert abs(F(x) - p) <= abs(p) * mpmath.mpf(10) ** (-DPS + 15)
    return x


@pytest.mark.parametrize("k", [7.5, 1000, 100000])
@pytest.mark.parametrize("p", ["1e-30", "0.01", "0.5", "0.97", "0.999999999999"])
def test_chi2_quantile_mpmath(k: float, p: str) -> None:
    with mpmath.workdps(DPS):
        P, K = _p(p), mpmath.mpf(k)
        if P <= 0.5:
            def F(x: mpmath.mpf) -> mpmath.mpf:
                return mpmath.gammainc(K / 2, 0, x / 2, regularized=True)
            target_p = P
        else:
            def F(x: mpmath.mpf) -> mpmath.mpf:
                return mpmath.gammainc(K / 2, x / 2, mpmath.inf, regularized=True)
            target_p = 1 - P
        b = chi2_quantile(p, k)
        _assert_bracket(b, _root(F, target_p, mpmath.mpf(b.mid), positive=True), Target())


@pytest.mark.parametrize("nu", [0.5, 7.5, 1000, 100000])
@pytest.mark.parametrize("p", ["1e-20", "0.025", "0.3", "0.75", "0.9999999"])
def test_student_t_quantile_mpmath(nu: float, p: str) -> None:
    with mpmath.workdps(DPS):
        P, NU = _p(p), mpmath.mpf(nu)

        def tail(s: mpmath.mpf) -> mpmath.mpf:
            return mpmath.betainc(NU / 2, mpmath.mpf(1) / 2, 0, NU / (NU + s * s),
                                  regularized=True) / 2

        b = student_t_quantile(p, nu)
        q = min(P, 1 - P)
        s = _root(tail, q, abs(mpmath.mpf(b.mid)), positive=True)
        _assert_bracket(b, s if P > 0.5 else -s, Target())


# -- extreme and exact cases --------------------------------------------------------------------


def test_normal_quantile_extremes() -> None:
    with mpmath.workdps(80):
        # Phi^{-1}(1e-10000): mpmath's log Phi at high precision
        b = normal_quantile("1e-10000")
        ref = _root(lambda z: mpmath.log(mpmath.ncdf(z)), mpmath.log(mpmath.mpf("1e-10000")),
                    mpmath.mpf(b.mid))
        _assert_bracket(b, ref, Target())
        # p within 1e-30 of 1 (no double can say this) and within 1e-3000 of 1/2
        one_minus = Fraction(1) - Fraction(1, 10**30)
        ref = -mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf("1e-30") - 1)
        _assert_bracket(normal_quantile(one_minus), ref, Target())
        near_half = Fraction(1, 2) + Fraction(1, 10**3000)
        ref = mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf("1e-3000"))
        _assert_bracket(normal_quantile(near_half), ref, Target())
        assert normal_quantile("0.5") == Bound.exact(0)
        # symmetry: exactly negated brackets
        lo, hi = normal_quantile("0.01"), normal_quantile("0.99")
        assert lo.lower == hi.upper.copy_negate() and lo.upper == hi.lower.copy_negate()


def test_quantiles_without_float_guess() -> None:
    """p below the double range: no scipy guess; the exponent search brackets from scratch."""
    with mpmath.workdps(60):
        p = Fraction(1, 10**400)
        P = mpmath.mpf(10) ** -400
        _assert_bracket(chi2_quantile(p, 2), -2 * mpmath.log1p(-P), Target())
        _assert_bracket(student_t_quantile(p, 1), -mpmath.cot(mpmath.pi * P), Target())
        b = chi2_quantile(p, "7.5")
        ref = _root(lambda x: mpmath.log(mpmath.gammainc(mpmath.mpf(3.75), 0, x / 2,
                                                         regularized=True)),
                    mpmath.log(P), mpmath.mpf(str(b.lower)), positive=True)
        _assert_bracket(b, ref, Target())


def test_dyadic_quantiles_are_bracketed() -> None:
    """Quantiles that are exactly dyadic (Cauchy p = 3/4 -> 1; t_2 p = 2/3 -> 1/2): the sign
    at the root itself is undecidable, yet a certified bracket is returned."""
    assert student_t_quantile("3/4", 1).contains(1)
    assert student_t_quantile("2/3", 2).contains(Fraction(1, 2))
    assert student_t_quantile(Fraction(1, 3), 2).contains(Fraction(-1, 2))


def test_requested_width_is_met() -> None:
    tight = Target(rel=1e-50)
    with mpmath.workdps(90):
        b = normal_quantile("1e-20", tight)
        ref = _root(lambda z: mpmath.ncdf(z), mpmath.mpf("1e-20"), mpmath.mpf(b.mid))
        _assert_bracket(b, ref, tight)


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda: normal_quantile(0), "p=0"),
    (lambda: normal_quantile("1"), "p=1"),
    (lambda: normal_quantile(1.5), "p=1.5"),
    (lambda: normal_quantile(float("nan")), "p=nan"),
    (lambda: normal_quantile("abc"), "p='abc'"),
    (lambda: chi2_quantile("0.5", 0), "k=0"),
    (lambda: chi2_quantile("0.5", -3.5), "k=-3.5"),
    (lambda: chi2_quantile(-0.1, 3), "p=-0.1"),
    (lambda: student_t_quantile("0.5", "-1"), "nu=-1"),
    (lambda: student_t_quantile(True, 3), "p=True"),
    (lambda: normal_quantile("0.3", target=1e-10), "target=1e-10"),  # type: ignore[arg-type]
])
def test_bad_input_names_the_parameter(call: Callable[[], object], name: str) -> None:
    with pytest.raises(InvalidArgument, match=name):
        call()
