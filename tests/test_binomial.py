"""Oracle tests for certify.stats.binomial (Clopper-Pearson limits, certified).

Each limit is checked three ways: (1) the binomial tail, evaluated independently by mpmath's
regularized incomplete beta at 60 digits (or a closed-form sum), changes sign across the
returned Bound, so the Bound contains the exact root; (2) it agrees with scipy's beta quantile
(a float computation, so to 1e-8 relative); (3) the exact coverage of the resulting intervals,
summed over every outcome, is at least the nominal level.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta as beta_dist
from scipy.stats import binom

from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target
from certify.stats.binomial import (
    clopper_pearson,
    clopper_pearson_lower,
    clopper_pearson_upper,
)

DPS = 60
ALPHAS = st.sampled_from(["0.05", "0.025", "0.001", "1e-6", "0.3"])


def _mp(x: object) -> mpmath.mpf:
    return mpmath.mpf(str(x))


def tail_ge(p: mpmath.mpf, k: int, n: int) -> mpmath.mpf:
    """P(Bin(n, p) >= k) by mpmath's regularized incomplete beta."""
    return mpmath.betainc(k, n - k + 1, 0, p, regularized=True)


def tail_le(p: mpmath.mpf, k: int, n: int) -> mpmath.mpf:
    """P(Bin(n, p) <= k) = 1 - P(Bin >= k + 1)."""
    return mpmath.betainc(k + 1, n - k, p, 1, regularized=True)


def assert_root_enclosed(b: Bound, g, alpha: str) -> None:
    """g(p) - alpha changes sign between b.lower and b.upper (g monotone)."""
    with mpmath.workdps(DPS):
        a = _mp(alpha)
        lo, hi = g(_mp(b.lower)) - a, g(_mp(b.upper)) - a
        assert lo * hi <= 0, (b, lo, hi)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), data=st.data(), alpha=ALPHAS)
def test_lower_limit_encloses_root(n: int, data: st.DataObject, alpha: str) -> None:
    k = data.draw(st.integers(1, n - 1)) if n > 1 else 1
    b = clopper_pearson_lower(k, n, alpha)
    assert b.rel_width <= 1e-11
    if k == n:
        with mpmath.workdps(DPS):
            exact = _mp(alpha) ** (mpmath.mpf(1) / n)
            assert _mp(b.lower) <= exact <= _mp(b.upper)
    else:
        assert_root_enclosed(b, lambda p: tail_ge(p, k, n), alpha)
    ref = beta_dist.ppf(float(alpha), k, n - k + 1)
    assert abs(b.mid - ref) <= 1e-8 * ref


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), data=st.data(), alpha=ALPHAS)
def test_upper_limit_encloses_root(n: int, data: st.DataObject, alpha: str) -> None:
    k = data.draw(st.integers(0, n - 1))
    b = clopper_pearson_upper(k, n, alpha)
    assert b.rel_width <= 1e-11
    if k == 0:
        with mpmath.workdps(DPS):
            exact = 1 - _mp(alpha) ** (mpmath.mpf(1) / n)
            assert _mp(b.lower) <= exact <= _mp(b.upper)
    else:
        assert_root_enclosed(b, lambda p: -tail_le(p, k, n), "-" + alpha)
    ref = beta_dist.ppf(1 - float(alpha), k + 1, n - k)
    assert abs(b.mid - ref) <= 1e-8 * ref


def test_edge_cases_closed_forms() -> None:
    assert clopper_pearson_lower(0, 17, "0.05") == Bound.exact(0)
    assert clopper_pearson_upper(17, 17, "0.05") == Bound.exact(1)
    with mpmath.workdps(DPS):
        lo = clopper_pearson_lower(17, 17, "0.05")
        assert lo.contains(mpmath.mpf("0.05") ** (mpmath.mpf(1) / 17))
        up = clopper_pearson_upper(0, 17, "0.05")
        assert up.contains(1 - mpmath.mpf("0.05") ** (mpmath.mpf(1) / 17))
        # a tiny alpha^(1/n) complement keeps its relative accuracy (expm1, no cancellation)
        up = clopper_pearson_upper(0, 10**9, "0.5")
        assert up.rel_width < 1e-11
        assert up.contains(-mpmath.expm1(mpmath.log(mpmath.mpf("0.5")) / 10**9))


def test_large_n_against_closed_form_tails() -> None:
    """k = 1 of n = 10^6: P(X <= 1) = (1-p)^n + n p (1-p)^(n-1), a closed form."""
    n, alpha = 10**6, "1e-6"
    b = clopper_pearson_upper(1, n, alpha)
    with mpmath.workdps(DPS):
        def g(p: mpmath.mpf) -> mpmath.mpf:
            return (1 - p) ** n + n * p * (1 - p) ** (n - 1)
        assert g(_mp(b.lower)) >= mpmath.mpf(alpha) >= g(_mp(b.upper))
    lo = clopper_pearson_lower(1, n, alpha)  # 1 - (1-p)^n = alpha
    with mpmath.workdps(DPS):
        exact = -mpmath.expm1(mpmath.log1p(-mpmath.mpf(alpha)) / n)
        assert lo.contains(exact)
    mid = clopper_pearson(1000, 2000, "0.95")  # an explicit binomial sum as the oracle
    assert_root_enclosed(mid[0], lambda p: mpmath.fsum(
        mpmath.binomial(2000, j) * p**j * (1 - p) ** (2000 - j) for j in range(1000, 2001)),
        "0.025")
    half = clopper_pearson(500_000, n, "0.95")  # mpmath's betainc does not converge here
    assert abs(half[0].mid - beta_dist.ppf(0.025, 500_000, 500_001)) < 1e-12
    assert abs(half[1].mid - beta_dist.ppf(0.975, 500_001, 500_000)) < 1e-12


def test_two_sided_is_two_one_sided_at_half_alpha() -> None:
    lo, up = clopper_pearson(7, 20, "0.9")
    assert lo == clopper_pearson_lower(7, 20, Fraction(1, 20))
    assert up == clopper_pearson_upper(7, 20, Fraction(1, 20))
    # the textbook value (e.g. R binom.test(7, 20)): 95% interval [0.1539092, 0.5921885]
    lo, up = clopper_pearson(7, 20, "0.95")
    assert abs(lo.mid - 0.1539092) < 1e-7 and abs(up.mid - 0.5921885) < 1e-7


@pytest.mark.parametrize("p", [0.02, 0.2, 0.5, 0.77])
def test_exact_coverage_at_least_nominal(p: float) -> None:
    """sum_k P(Bin(n, p) = k) 1[lower(k) <= p <= upper(k)] >= confidence, using the
    conservative ends; computed exactly over all outcomes (no sampling)."""
    n, gamma = 25, 0.9
    intervals = [clopper_pearson(k, n, "0.9", Target(rel=1e-8)) for k in range(n + 1)]
    cover = sum(binom.pmf(k, n, p) for k, (lo, up) in enumerate(intervals)
                if float(lo.lower) <= p <= float(up.upper))
    assert cover >= gamma - 1e-12


def test_monotone_in_successes() -> None:
    lows = [clopper_pearson_lower(k, 30, "0.05") for k in range(31)]
    ups = [clopper_pearson_upper(k, 30, "0.05") for k in range(31)]
    for a, b in zip(lows, lows[1:], strict=False):
        assert a.lt(b) is True
    for a, b in zip(ups, ups[1:], strict=False):
        assert a.lt(b) is True


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: clopper_pearson_lower(5, 4, "0.05"), "successes=5 must not exceed trials=4"),
        (lambda: clopper_pearson_lower(-1, 4, "0.05"), "successes=-1"),
        (lambda: clopper_pearson_lower(True, 4, "0.05"), "successes=True"),
        (lambda: clopper_pearson_lower(1.0, 4, "0.05"), "successes=1.0"),  # type: ignore[arg-type]
        (lambda: clopper_pearson_upper(1, 0, "0.05"), "trials=0"),
        (lambda: clopper_pearson_upper(1, 4, 0), "alpha=0 must be in"),
        (lambda: clopper_pearson_upper(1, 4, "1"), "alpha=1 must be in"),
        (lambda: clopper_pearson(1, 4, 1.5), "confidence=1.5"),
        (lambda: clopper_pearson(1, 4, "nan"), "confidence=nan"),
        (lambda: clopper_pearson(1, 4, "0.9", target=1e-3), "target=0.001"),  # type: ignore[arg-type]
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        call()
