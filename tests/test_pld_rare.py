"""The rare-tail split of convolution powers (certify.accounting.pld_rare), against exact
integer convolution powers and the exact remainder mass."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest
from flint import arb, ctx, fmpz, fmpz_poly
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.accounting import pld_grid as grid
from certify.accounting import pld_rare
from certify.accounting.pld import composed_epsilon
from certify.numerics.precision import Target


def _exact_remainder(core: int, tail: int, count: int) -> int:
    """|R| = (A + B)^T - A^T - T A^(T-1) B, exactly, in units 2^(-bits T)."""
    return (core + tail) ** count - core**count - count * core ** (count - 1) * tail


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**40), min_size=2, max_size=40), st.integers(0, 2**20),
       st.integers(2, 400), st.integers(0, 2**50))
def test_split_node_is_the_lowest_node_within_budget(masses: list[int], infinity: int,
                                                      count: int, budget: int) -> None:
    bits = 44
    k = pld_rare.split_node(masses, infinity, count, budget, bits)

    def ok(j: int) -> bool:
        tail = sum(masses[j:]) + infinity
        return comb(count, 2) * tail**2 <= budget << bits

    n = len(masses)
    allowed = [j for j in range(1, int(pld_rare.MAX_CORE_SHARE * n) + 1) if ok(j)]
    if k is None:
        assert not allowed or budget <= 0
    else:
        assert allowed and k == allowed[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 2**30), st.integers(0, 2**12), st.integers(2, 60))
def test_remainder_bound_holds_and_is_tight_for_rare_tails(core: int, tail: int,
                                                           count: int) -> None:
    """The ball's upper end bounds the exact |R| (rational arithmetic), and exceeds it by at
    most the factor ((A + B) / A)^(T-2) (|R| >= its j = 2 term C(T, 2) A^(T-2) B^2)."""
    bits = 30
    exact = Fraction(_exact_remainder(core, tail, count), 2 ** (bits * count))
    with ctx.workprec(256):
        ball = pld_rare.remainder_bound(core, tail, count, bits)
        upper = _as_fraction(ball.upper())
    assert upper >= exact
    if tail and exact:
        slack = Fraction(core + tail, core) ** (count - 2)
        assert upper <= exact * slack * (1 + Fraction(1, 10**6))


def _as_fraction(x: arb) -> Fraction:
    """The exact value of an exact ball (a point)."""
    man, exp = x.mid().man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=8), st.integers(1, 7),
       st.integers(2, 9))
def test_binomial_decomposition_of_a_convolution_power(masses: list[int], k: int,
                                                       count: int) -> None:
    """a^T = c^(T-1) (c + T t) + R with R >= 0 coefficient-wise and |R| = the exact formula
    (exact integer polynomials; the algebra pld_grid.power relies on)."""
    k = min(k, len(masses) - 1)
    a = fmpz_poly(masses)
    c = fmpz_poly(masses[:k])
    t = fmpz_poly([0] * k + masses[k:])
    head = c ** (count - 1)
    rest = a**count - head * (c + count * t)
    assert all(int(x) >= 0 for x in rest.coeffs())
    assert int(rest(1)) == _exact_remainder(sum(masses[:k]), sum(masses[k:]), count)


_BITS = 48


def _sparse_tail_step(upper: bool) -> grid.GridPLD:
    """A step shaped like a small-q one: a dense core and a long tail of small masses (heavy
    enough that two tail events -- the remainder R -- outweigh the rounding)."""
    core = [2**44, 2**45, 3 * 2**44, 2**44, 2**42]
    tail = [0] * 60 + [2**22, 0, 0, 0, 2**21, 0, 0, 0, 0, 0, 0, 0, 2**20, 0, 0, 2**19]
    infinity = 2**21 if upper else 0
    total = 2**_BITS - sum(core) - sum(tail) - infinity
    core[1] += total  # total mass exactly 1
    return grid.GridPLD(-1, fmpz_poly(core + tail), fmpz(infinity), _BITS, upper,
                        Fraction(1, 32))


@pytest.mark.parametrize("count", [5, 24, 100])
def test_split_power_brackets_the_exact_power(count: int, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    """With the split forced (the cost model only saves work), the upper pipeline's profile is
    >= that of the exact (unrounded, untruncated) convolution power at every eps, the lower
    one's <=, each within the remainder bound plus the rounding of the unsplit power."""
    monkeypatch.setattr(pld_rare, "pays", lambda *args: True)
    budget = 2**32
    with ctx.workprec(256):
        for upper in (True, False):
            step = _sparse_tail_step(upper)
            masses = [int(x) for x in step.poly.coeffs()]
            k = pld_rare.split_node(masses, int(step.infinity), count, budget, _BITS)
            assert k == 5  # the whole tail is rare at this budget
            split = grid.power(step, count, 0, rare=budget)
            plain = grid.power(step, count, 0)
            total = int(step.poly(1))
            exact = grid.GridPLD(step.offset * count, step.poly**count,
                                 fmpz((total + int(step.infinity)) ** count - total**count),
                                 _BITS * count, upper, step.h)
            rest = pld_rare.remainder_bound(sum(masses[:k]),
                                            sum(masses[k:]) + int(step.infinity), count, _BITS)
            for eps in (Fraction(0), Fraction(1, 8), Fraction(1, 2), Fraction(2),
                        Fraction(4)):
                truth = grid.delta_ball(exact, eps)
                got = grid.delta_ball(split, eps)
                slack = (4 * abs(grid.delta_ball(plain, eps) - truth) + rest
                         + arb(64 * count) * arb(2) ** -_BITS)
                if upper:
                    assert got >= truth and got - truth <= slack
                else:
                    assert got <= truth and truth - got <= slack


def test_split_compositions_enclose_the_same_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small-q composition whose step has a long tail, with and without the split: both
    certified intervals contain the other's midpoint region (they enclose one truth)."""
    phases = [("1", "0.001", 300)]
    target = Target(rel=1e-3)
    with_split = composed_epsilon(phases, "1e-5", target=target)
    monkeypatch.setattr(pld_rare, "MAX_CORE_SHARE", 0.0)
    without = composed_epsilon(phases, "1e-5", target=target)
    assert with_split.lower <= without.upper and without.lower <= with_split.upper
