"""Bound: outward rounding, exact comparisons, JSON form."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import mpmath
import pytest
from flint import arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from certify import Bound, Inconclusive, InvalidArgument
from certify.numerics.bound import compare


@settings(max_examples=200)
@given(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.integers(min_value=-3000, max_value=3000),
    st.integers(min_value=0, max_value=2**30),
    st.integers(min_value=-3100, max_value=3000),
)
def test_from_arb_encloses_the_ball(man: int, exp: int, rad_man: int, rad_exp: int) -> None:
    """Decimal endpoints enclose the exact dyadic endpoints (checked with exact rationals)."""
    with ctx.workprec(128):
        mid = arb((man, exp))
        rad = arb((rad_man, rad_exp))
        ball = arb(mid, rad) if rad_man else mid
        b = Bound.from_arb(ball)
        centre, radius = _exact(ball.mid()), _exact(ball.rad())
    assert Fraction(b.lower) <= centre - radius <= centre + radius <= Fraction(b.upper)


def _exact(x: arb) -> Fraction:
    man, e = x.man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(e)


@pytest.mark.parametrize("exponent", [-10**6, -(10**9), 10**6])
def test_huge_exponents_take_the_ball_path_and_still_enclose(exponent: int) -> None:
    with ctx.workprec(64):
        ball = arb(3).sqrt() * arb(2) ** exponent
        b = Bound.from_arb(ball)
    with mpmath.workdps(60):
        truth = mpmath.sqrt(3) * mpmath.mpf(2) ** exponent
        assert b.contains(truth)
        assert not b.contains(truth * (1 + mpmath.mpf("1e-10")))
        assert not b.contains(truth * (1 - mpmath.mpf("1e-10")))


def test_json_round_trip_is_exact() -> None:
    with ctx.workprec(200):
        b = Bound.from_arb(arb(1) / 3, 200)
    again = Bound.from_strings(**b.to_json(), prec=200)
    assert again == b
    assert again.contains(Fraction(1, 3))


def test_exact_values() -> None:
    assert Bound.exact("0.1").lower == Decimal("0.1") == Bound.exact("0.1").upper
    assert Bound.exact(0.1).contains(0.1) and not Bound.exact(0.1).contains(Fraction(1, 10))
    third = Bound.exact(Fraction(1, 3))
    assert third.contains(Fraction(1, 3)) and third.lower < third.upper


def test_comparisons_are_three_valued() -> None:
    b = Bound.from_strings("1", "2")
    assert b.lt(3) is True and b.gt(3) is False
    assert b.lt("1.5") is None and b.gt("1.5") is None
    assert b.le(2) is True and b.ge(1) is True
    assert b.lt(Bound.from_strings("2.5", "3")) is True
    with pytest.raises(TypeError):
        _ = b < 3  # type: ignore[operator]


def test_compare_far_beyond_rational_range() -> None:
    with mpmath.workdps(50):
        a = mpmath.mpf("1.25e-300000")
        b = Decimal("1.2500000000000000000001e-300000")
        assert compare(b, a) == 1 and compare(a, b) == -1
        assert compare(Decimal("1.25e-300000"), a) == 0 or compare(Decimal("1.25e-300000"), a) != 0
        assert compare(Decimal("-1e-300000"), a) == -1
        assert compare(Decimal("Infinity"), a) == 1


def test_width_and_relative_width() -> None:
    b = Bound.from_strings("1", "1.000001")
    assert b.width == Decimal("0.000001")
    assert b.rel_width == pytest.approx(1e-6)
    assert b.meets(rel=1e-5) and not b.meets(rel=1e-7)
    assert Bound.from_strings("-1", "1").rel_width == float("inf")


def test_within_intersects_proven_ranges() -> None:
    b = Bound.from_strings("0.5", "1.0000000001").within(0, 1)
    assert b.upper == 1 and b.lower == Decimal("0.5")
    with pytest.raises(InvalidArgument):
        Bound.from_strings("2", "3").within(0, 1)


def test_invalid_bounds_rejected() -> None:
    with pytest.raises(InvalidArgument):
        Bound(Decimal(2), Decimal(1))
    with pytest.raises(InvalidArgument):
        Bound(Decimal("NaN"), Decimal(1))
    with pytest.raises(Inconclusive):
        Bound.from_arb(arb.nan())
    with pytest.raises(InvalidArgument):
        Bound.exact(float("nan"))


def test_from_arb_beyond_decimal_exponent_range_is_inconclusive() -> None:
    """A ball far below Decimal's smallest exponent cannot be written as a Decimal endpoint:
    the answer is Inconclusive, never an arithmetic exception or a clamped 0."""
    import pytest
    from flint import arb

    from certify.errors import Inconclusive

    tiny = arb(2) ** (-(10**19))  # about 10^(-3e18), below Decimal's Emin
    with pytest.raises(Inconclusive, match="beyond what a Decimal"):
        Bound.from_arb(tiny)
