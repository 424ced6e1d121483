"""Tests for certify.lora.jl (claims LDP-6, LDP-6.c, LDP-7).

Oracles: mpmath at 50+ digits (regularized incomplete gamma for the chi-square tails, logs for
the ranks), an independent numerical minimisation of the Chernoff bound, and a Monte Carlo run
of the clipping implication with real Gaussian matrices (fixed seed, 99.9% Clopper-Pearson).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InvalidArgument
from certify.lora.jl import (
    DEFAULT_DELTAS,
    DEFAULT_PS,
    clipping_implication,
    jl_boundary,
    jl_check,
    jl_check_corrected,
    jl_failure_probability,
    jl_grid,
    jl_rank,
    jl_rank_corrected,
    jl_scan,
    jl_step,
    simulate_clipping,
)

DPS = 60
DELTAS = st.sampled_from(["0.5", "0.45", "0.4", "0.3", "0.2", "0.1", "0.05", "0.02", "1/3"])
PS = st.sampled_from(["0.9", "0.5", "0.1", "1e-2", "1e-6", "1e-20", "1e-50", "3e-7"])


def mp(x: object) -> mpmath.mpf:
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    if isinstance(x, str) and "/" in x:
        a, b = x.split("/")
        return mpmath.mpf(a) / mpmath.mpf(b)
    return mpmath.mpf(str(x))


def failure_mp(d: object, r: int) -> mpmath.mpf:
    """F(D, r) by mpmath: P(chi2_r < (1-D)^2 r) + P(chi2_r > (1+D)^2 r)."""
    dd = mp(d)
    lo = mpmath.gammainc(mpmath.mpf(r) / 2, 0, (1 - dd) ** 2 * r / 2, regularized=True)
    hi = mpmath.gammainc(mpmath.mpf(r) / 2, (1 + dd) ** 2 * r / 2, mpmath.inf, regularized=True)
    return lo + hi


def failure_quad(d: object, r: int) -> mpmath.mpf:
    """F(D, r) by quadrature (mpmath's betainc/gammainc series do not converge for r ~ 1e6):
    with a = r/2, Q(a, x) = e^-x x^(a-1)/Gamma(a) int_0^inf exp((a-1) log1p(s/x) - s) ds and
    P(a, z) = e^-z z^(a-1)/Gamma(a) int_0^z exp((a-1) log1p(-s/z) + s) ds."""
    dd, a = mp(d), mpmath.mpf(r) / 2
    x, z = (1 + dd) ** 2 * a, (1 - dd) ** 2 * a
    pre_x = mpmath.exp(-x + (a - 1) * mpmath.log(x) - mpmath.loggamma(a))
    pre_z = mpmath.exp(-z + (a - 1) * mpmath.log(z) - mpmath.loggamma(a))
    scale_x, scale_z = x / (a - 1 - x) * -1, z / (a - 1 - z)  # e-folding lengths
    q = mpmath.quad(lambda s: mpmath.exp((a - 1) * mpmath.log1p(s / x) - s),
                    [0, scale_x, 10 * scale_x, 100 * scale_x, mpmath.inf])
    p = mpmath.quad(lambda s: mpmath.exp((a - 1) * mpmath.log1p(-s / z) + s),
                    [0, scale_z, 10 * scale_z, 100 * scale_z, z])
    return pre_x * q + pre_z * p


# -- ranks -------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(d=DELTAS, p=PS)
def test_paper_rank_is_the_ceiling(d: str, p: str) -> None:
    r = jl_rank(d, p)
    with mpmath.workdps(DPS):
        x = mpmath.log(2 / mp(p)) / mp(d) ** 2
        assert r - 1 < x <= r


def test_rank_ceiling_is_certified_next_to_an_integer() -> None:
    """p = 2 e^(-r D^2) rounded to 40 digits puts D^-2 log(2/p) within 1e-38 of the integer
    r: a float evaluation cannot tell on which side; the certified ceiling must."""
    d, r = Fraction(1, 2), 187
    with mpmath.workdps(80):
        p_exact = 2 * mpmath.exp(-mpmath.mpf(r) / 4)
        for shift in (-1, 1):
            p_str = mpmath.nstr(p_exact * (1 + shift * mpmath.mpf("1e-38")), 45)
            x = mpmath.log(2 / mpmath.mpf(p_str)) * 4
            expected = int(mpmath.ceil(x))
            assert abs(x - r) < mpmath.mpf("1e-36")
            assert jl_rank(d, p_str) == expected
        assert {jl_rank(d, mpmath.nstr(p_exact * (1 + s * mpmath.mpf("1e-38")), 45))
                for s in (-1, 1)} == {r, r + 1}


@settings(max_examples=20, deadline=None)
@given(d=DELTAS, p=PS)
def test_corrected_rank(d: str, p: str) -> None:
    r = jl_rank_corrected(d, p)
    with mpmath.workdps(DPS):
        dd = mp(d)
        x = 2 * mpmath.log(2 / mp(p)) / (2 * dd + dd**2 - 2 * mpmath.log1p(dd))
        assert r - 1 < x <= r
    assert r >= jl_rank(d, p)


# -- the failure probability -------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(d=DELTAS, r=st.integers(1, 3000))
def test_failure_probability_against_mpmath(d: str, r: int) -> None:
    b = jl_failure_probability(d, r)
    assert b.rel_width <= 1e-11
    with mpmath.workdps(DPS):
        assert b.contains(failure_mp(d, r))


def test_failure_probability_large_rank() -> None:
    b = jl_failure_probability("0.02", 2_023_933)
    with mpmath.workdps(30):
        assert b.contains(failure_quad("0.02", 2_023_933))
        assert abs(failure_quad("0.3", 500) / failure_mp("0.3", 500) - 1) < mpmath.mpf("1e-25")


# -- LDP-6: the claim on the grid --------------------------------------------------------------


def test_grid_decisions_match_mpmath() -> None:
    rows = jl_grid(DEFAULT_DELTAS, DEFAULT_PS)
    assert len(rows) == len(DEFAULT_DELTAS) * len(DEFAULT_PS)
    failing = set()
    with mpmath.workdps(30):
        for row in rows:
            ratio = failure_mp(row["delta"], row["r"]) / mp(row["p"])
            assert row["ratio"].contains(ratio)
            assert row["decision"] == ("fails" if ratio > 1 else "holds")
            if row["decision"] == "fails":
                failing.add((str(row["delta"]), str(row["p"])))
    # the counterexamples (D as a Fraction, p as its exact value)
    assert (str(Fraction(1, 2)), str(Fraction("1e-20"))) in failing
    assert (str(Fraction("0.4")), str(Fraction("1e-20"))) in failing
    assert (str(Fraction("0.45")), str(Fraction("1e-15"))) in failing
    assert all(float(Fraction(d)) >= 0.2 for d, _ in failing)


def test_counterexample_values() -> None:
    row = jl_check("1/2", "1e-20")
    assert row["r"] == 187 and row["decision"] == "fails"
    assert row["ratio"].gt(4.8) is True and row["ratio"].lt(4.85) is True
    tight = jl_check("0.45", "1e-15")  # F/p = 1.0038: barely, but certainly, a failure
    assert tight["r"] == 174 and tight["decision"] == "fails"
    assert tight["ratio"].gt(1) is True and tight["ratio"].lt(Fraction(1004, 1000)) is True


# -- LDP-6 on the p-axis -----------------------------------------------------------------------


def test_step_decisions() -> None:
    d = "0.5"
    assert jl_step(d, 129)["decision"] == "holds"
    s = jl_step(d, 130)
    assert s["decision"] == "fails-partly"
    with mpmath.workdps(DPS):
        assert s["p_low"].contains(2 * mpmath.exp(-mpmath.mpf(130) / 4))
        assert s["p_high"].contains(2 * mpmath.exp(-mpmath.mpf(129) / 4))
        f = failure_mp(d, 130)
        assert 2 * mpmath.exp(-mpmath.mpf(130) / 4) < f < 2 * mpmath.exp(-mpmath.mpf(129) / 4)
    assert jl_step(d, 139)["decision"] == "fails-entirely"
    first = jl_step(d, 3)  # the smallest rank: its step reaches up to p = 1
    assert first["p_high"].contains(1) and first["decision"] == "holds"


def test_boundary_and_scan_at_half() -> None:
    b = jl_boundary("1/2")
    assert b["first_failing"]["last_holding_step"]["r"] == 129
    assert b["first_failing"]["step"]["r"] == 130
    assert b["entire"]["last_not_entire_step"]["r"] == 138
    assert b["entire"]["step"]["r"] == 139
    with mpmath.workdps(DPS):
        assert b["first_failing"]["p_star"].contains(failure_mp("0.5", 130))
    scan = jl_scan("1/2", 3, 160)
    assert scan["holds"] == list(range(3, 130))
    assert scan["fails-partly"] == list(range(130, 139))
    assert scan["fails-entirely"] == list(range(139, 161))
    assert scan["undecided"] == []
    # mpmath agrees on every step of the scan
    with mpmath.workdps(30):
        for r in range(3, 161):
            f = failure_mp("0.5", r)
            assert (f > 2 * mpmath.exp(-mpmath.mpf(r) / 4)) == (r >= 130)


@pytest.mark.parametrize(("d", "r1", "r2"), [("0.4", 243, 254), ("0.2", 1811, 1831)])
def test_boundary_other_deltas(d: str, r1: int, r2: int) -> None:
    b = jl_boundary(d)
    assert b["first_failing"]["step"]["r"] == r1 and b["entire"]["step"]["r"] == r2
    with mpmath.workdps(30):
        dd = mp(d)
        for r, fails in ((r1 - 1, False), (r1, True)):
            assert (failure_mp(d, r) > 2 * mpmath.exp(-r * dd**2)) == fails
        for r, fails in ((r2 - 1, False), (r2, True)):
            assert (failure_mp(d, r) > 2 * mpmath.exp(-(r - 1) * dd**2)) == fails


# -- LDP-6.c -----------------------------------------------------------------------------------


def test_corrected_statement_holds_on_the_grid() -> None:
    for d in DEFAULT_DELTAS:
        for p in DEFAULT_PS:
            row = jl_check_corrected(d, p)
            assert row["decision"] == "holds", (d, p)
            assert row["failure_le_chernoff"] == "holds" and row["chernoff_le_p"] == "holds"


@pytest.mark.parametrize("d", ["0.5", "0.3", "0.05"])
def test_chernoff_closed_form_against_numerical_minimum(d: str) -> None:
    """min_t MGF bound of each tail, minimised numerically, equals the closed forms; and the
    lower-tail exponent exceeds the upper one (so the upper tail dominates)."""
    with mpmath.workdps(40):
        dd, r = mp(d), 50
        up_x, lo_x = (1 + dd) ** 2 * r, (1 - dd) ** 2 * r

        def up_bound(t: mpmath.mpf) -> mpmath.mpf:  # E e^(t X) e^(-t x), 0 < t < 1/2
            return (1 - 2 * t) ** (-mpmath.mpf(r) / 2) * mpmath.exp(-t * up_x)

        def lo_bound(t: mpmath.mpf) -> mpmath.mpf:  # E e^(-t X) e^(t x), t > 0
            return (1 + 2 * t) ** (-mpmath.mpf(r) / 2) * mpmath.exp(t * lo_x)

        t_up = mpmath.findroot(lambda t: mpmath.diff(up_bound, t), mpmath.mpf("0.2"))
        t_lo = mpmath.findroot(lambda t: mpmath.diff(lo_bound, t), mpmath.mpf("0.5"))
        u = 2 * dd + dd**2 - 2 * mpmath.log1p(dd)
        low = -2 * dd + dd**2 - 2 * mpmath.log1p(-dd)
        assert abs(up_bound(t_up) / mpmath.exp(-r * u / 2) - 1) < mpmath.mpf("1e-25")
        assert abs(lo_bound(t_lo) / mpmath.exp(-r * low / 2) - 1) < mpmath.mpf("1e-25")
        assert low > u
        assert abs((low - u) - 4 * (mpmath.atanh(dd) - dd)) < mpmath.mpf("1e-35")
        # the bounds really bound the exact tails
        assert failure_mp(d, r) <= 2 * mpmath.exp(-r * u / 2)


# -- LDP-7 -------------------------------------------------------------------------------------


def test_clipping_implication_single_row_is_a_counterexample() -> None:
    res = clipping_implication("1/2", "1e-20", 1, 1)
    assert res["exact"] and res["r"] == 187 and res["eq10"] == "fails"
    assert res["claimed_probability"] == 1 - Fraction("1e-20")
    with mpmath.workdps(DPS):
        f = failure_mp("0.5", 187)
        assert res["certified_lower_bound"].contains(1 - f)
        assert 1 - f < 1 - mpmath.mpf("1e-20")


def test_clipping_implication_union_bound() -> None:
    res = clipping_implication("0.3", "1e-6", 768, 64)
    assert res["eq10"] == "holds" and not res["exact"]
    with mpmath.workdps(DPS):
        assert res["certified_lower_bound"].contains(1 - 768 * 64 * failure_mp("0.3", res["r"]))
    assert res["certified_lower_bound"].ge(res["claimed_probability"]) is True


def test_simulated_clipping_matches_the_exact_failure_probability() -> None:
    """Monte Carlo of eq. 10 with real A: the implied ||x'|| interval fails exactly when the JL
    event fails, and the 99.9% Clopper-Pearson interval contains the certified F(D, r)."""
    x = np.linspace(-1.0, 2.0, 24)
    res = simulate_clipping("0.3", 20, x, 40_000, seed=20240601)
    assert res["disagreements"] == 0
    assert res["implication_failures"] == res["jl_failures"]
    lo, up = res["interval"]
    exact = res["exact"]
    assert lo.lower <= exact.lower and exact.upper <= up.upper, (lo, exact, up)
    assert 0.03 < exact.mid < 0.2  # a moderate probability: the test has power


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: jl_rank(0, "0.1"), "delta=0 must be in"),
        (lambda: jl_rank("1", "0.1"), "delta=1 must be in"),
        (lambda: jl_rank("0.5", 1), "p=1 must be in"),
        (lambda: jl_rank("0.5", "nan"), "p=nan"),
        (lambda: jl_failure_probability("0.5", 0), "r=0"),
        (lambda: jl_failure_probability("0.5", 2.0), "r=2.0"),
        (lambda: jl_step("0.5", 2), "r=2 must be at least 3"),
        (lambda: jl_scan("0.5", 10, 5), "r_to=5"),
        (lambda: jl_check("0.5", "0.1", target="tight"), "target='tight'"),  # type: ignore[arg-type]
        (lambda: clipping_implication("0.5", "0.1", 0, 1), "n=0"),
        (lambda: simulate_clipping("0.5", 4, [0.0, 0.0], 10, 0), "x="),
        (lambda: simulate_clipping("0.5", 4, [1.0], 10, 0, c=-1.0), "c=-1.0"),
        (lambda: jl_rank_corrected("-0.1", "0.1"), "delta=-0.1"),
        (lambda: jl_boundary("0.5", r_start=200), "r_start=200"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        call()
