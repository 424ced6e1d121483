"""Precision escalation and certified root bracketing."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from flint import arb
from hypothesis import given, settings
from hypothesis import strategies as st

from certify import Inconclusive, InvalidArgument, Target
from certify.numerics.precision import escalate, precisions
from certify.numerics.roots import certified_root


def test_escalate_meets_a_tight_target() -> None:
    b = escalate(lambda prec: arb(2).sqrt(), Target(rel=1e-100))
    assert b.rel_width <= 1e-100
    with mpmath.workdps(250):
        assert b.contains(mpmath.sqrt(2))


def test_escalate_raises_inconclusive_with_best_enclosure() -> None:
    # a computation whose radius does not shrink with precision (an inherently wide input)
    def wide(prec: int) -> arb:
        return arb(1, 1e-6)

    with pytest.raises(Inconclusive) as info:
        escalate(wide, Target(rel=1e-10), max_prec=256)
    assert info.value.best is not None and info.value.best.contains(1)
    assert "1e-10" in info.value.reason


def test_escalate_treats_non_finite_as_not_yet() -> None:
    calls = []

    def flaky(prec: int) -> arb:
        calls.append(prec)
        return arb.nan() if prec < 256 else arb(3).log()

    b = escalate(flaky, Target(rel=1e-20))
    assert calls[:3] == [64, 128, 256]
    assert b.contains(Fraction(10986122886681098, 10**16)) is False or b.rel_width <= 1e-20


def test_precision_ladder_validation() -> None:
    assert precisions(64, 512) == [64, 128, 256, 512]
    with pytest.raises(InvalidArgument):
        precisions(128, 64)
    with pytest.raises(InvalidArgument):
        Target(rel=None, absolute=None)
    with pytest.raises(InvalidArgument):
        Target(rel=-1)


@settings(max_examples=60)
@given(st.fractions(min_value=Fraction(1, 10**6), max_value=10**6))
def test_square_root_bracket_contains_truth(c: Fraction) -> None:
    b = certified_root(lambda x: x * x - arb(c.numerator) / c.denominator, 0, max(c, 1) + 1,
                       target=Target(rel=1e-25))
    with mpmath.workdps(80):
        truth = mpmath.sqrt(mpmath.mpf(c.numerator) / c.denominator)
        assert b.contains(truth)
    assert b.rel_width <= 1e-25


def test_guess_finishes_quickly_and_a_bad_guess_is_harmless() -> None:
    f = lambda x: x.exp() - 10  # noqa: E731
    good = certified_root(f, 0, 10, target=Target(rel=1e-12), guess=2.302585092994046)
    bad = certified_root(f, 0, 10, target=Target(rel=1e-12), guess=9.5)
    with mpmath.workdps(40):
        assert good.contains(mpmath.log(10)) and bad.contains(mpmath.log(10))


def test_root_exactly_at_a_dyadic_point() -> None:
    # f(1) is exactly 0: the sign there is never certified, the bracket must still close around 1
    b = certified_root(lambda x: x - 1, 0, 3, target=Target(rel=1e-12, absolute=1e-12))
    assert b.contains(1)


def test_no_sign_change_is_inconclusive_not_a_guess() -> None:
    with pytest.raises(Inconclusive):
        certified_root(lambda x: x * x + 1, -1, 1)
    with pytest.raises(InvalidArgument):
        certified_root(lambda x: x, 1, 0)
