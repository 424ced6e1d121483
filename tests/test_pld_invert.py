"""The inversion of a grid PLD's profile (certify.accounting.pld_invert): the guided bisection
against plain bisection and against the predicate's true threshold, and the float profile that
guides it against the certified profile. Soundness of the inversions themselves is tested end to
end in tests/test_pld.py (closed forms, quadratures)."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import pytest
from flint import ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.accounting import pld_grid as grid
from certify.accounting.pld_invert import _float_profile, first_true, lower_epsilon, upper_epsilon
from certify.accounting.pld_lower import lower_discretisation
from certify.accounting.pld_step import upper_discretisations


@settings(max_examples=300)
@given(st.integers(0, 50), st.integers(0, 3000), st.data())
def test_first_true_finds_the_threshold_from_any_guess(lo: int, size: int,
                                                       data: st.DataObject) -> None:
    """For a threshold predicate on [lo, hi] (True from t on, pred(hi) taken as given) the
    result is t whatever the guess (None, exact, off by any amount, outside the range); hi is
    never evaluated; an exact guess costs two evaluations, one off by m at most
    2 ceil(log2(m + 1)) + 3, no guess at most ceil(log2(size + 1)) + 1."""
    hi = lo + size
    t = data.draw(st.integers(lo, hi))
    guess = data.draw(st.none() | st.integers(lo - 5, hi + 5))
    calls: list[int] = []

    def pred(k: int) -> bool:
        assert lo <= k < hi
        calls.append(k)
        return k >= t

    assert first_true(pred, lo, hi, guess) == t
    if guess is None or not lo <= guess < hi:
        assert len(calls) <= math.ceil(math.log2(size + 1)) + 1
    else:
        m = abs(guess - t)
        assert len(calls) <= (2 if m == 0 else 2 * math.ceil(math.log2(m + 1)) + 3)


def _composed(upper: bool, steps: int) -> grid.GridPLD:
    h = Fraction(1, 256)
    if upper:
        step = upper_discretisations(Fraction(1), Fraction(1, 20), h, 64, 1e-14, 128,
                                     {})["remove"]
    else:
        step = lower_discretisation(Fraction(1), Fraction(1, 20), h, "remove", 64, 1e-14)
    return grid.power(step, steps, 1 << 24)  # tails of about 2^-40 per step cut


@pytest.mark.parametrize("upper", [True, False])
def test_guided_inversion_equals_plain_bisection(upper: bool) -> None:
    """A 200-step composition (kept words: the float guess is used) and the same measure without
    its words (plain bisection) invert to the same certified eps at deltas from 1e-2 to 1e-9
    (to 2^-100 relative: the two searches visit different nodes, and the tail sums reached from
    a remembered node round differently); the float profile matches the certified one at every
    50th node."""
    with ctx.workprec(128):
        pld = _composed(upper, 200)
        assert pld.words is not None
        plain = dataclasses.replace(pld, words=None)
        invert = upper_epsilon if upper else lower_epsilon
        for delta in (Fraction(1, 100), Fraction(1, 10**5), Fraction(1, 10**9)):
            guided, bisected = invert(pld, delta), invert(plain, delta)
            if guided is None or bisected is None:  # the +infinity mass alone exceeds delta
                assert guided is None and bisected is None
            else:
                assert abs(guided - bisected) <= abs(bisected) * 2.0**-100
        start = grid.first_above(pld, Fraction(0))
        profile = _float_profile(pld, start)
        assert profile is not None and _float_profile(plain, start) is None
        for i in range(0, profile.size, 50):
            exact = float(grid.delta_ball(pld, pld.loss(start + i)).mid())
            assert profile[i] == pytest.approx(exact, rel=1e-9, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_remembered_tail_sums_equal_fresh_ones(data: st.DataObject) -> None:
    """The tail sums reached from a remembered index (adding or subtracting the terms between)
    are the fresh ones: the same integer S1, and S2 balls that overlap the fresh ball and are
    as narrow (to 2^-100 relative, at 128 bits) -- whatever order the indices come in."""
    with ctx.workprec(128):
        pld = _composed(True, 40)
        n = pld.length
        centre = data.draw(st.integers(0, n - 1))
        ks = data.draw(st.lists(st.integers(max(centre - 80, 0), min(centre + 80, n + 2)),
                                min_size=2, max_size=8))
        for k in ks:
            s1, s2 = grid._tail_sums(pld, k)
            f1, f2 = grid._tail_sums_from(pld, k) if k < n else (s1, s2)
            assert s1 == f1
            assert s2.overlaps(f2)
            assert s2.rad() <= f2.rad() + abs(f2.mid()) * 2.0**-100 + 2.0**-300
        assert {k for k, _ in pld.sums} == {k for k in ks if k < n}
