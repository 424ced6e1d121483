"""Certified PLD composition (issue 5, item 2) against independent oracles.

Oracles: the Gaussian closed form (Balle-Wang Thm 8) for q = 1, where T steps with noise sigma are
one Gaussian with sigma / sqrt(T); the one-step closed forms of
:class:`~certify.mechanisms.subsampled.SubsampledGaussian` for T = 1; a float quadrature of the
two-fold composition (scipy, tolerance 1e-9) for T = 2; dp-accounting's pessimistic PLD
accountant (its answer must lie in ``[our lower - 1e-7, our upper + T * 1e-4]``: it rounds each
step's loss up by at most its grid 1e-4); exact integer arithmetic for the grid layer.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from flint import arb, ctx, fmpz, fmpz_poly
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.optimize import brentq
from scipy.stats import norm

from certify.accounting import pld_grid as grid
from certify.accounting import pld_refine, pld_step, pld_words
from certify.accounting.pld import (
    PLD_EPSILON_TARGET,
    Phase,
    check_phases,
    composed_delta,
    composed_epsilon,
)
from certify.accounting.pld_cuts import cut_points
from certify.accounting.pld_invert import reflected_upper_delta
from certify.accounting.pld_lower import lower_discretisation
from certify.accounting.pld_step import (
    Coarsening,
    breakpoints,
    merge_scale,
    rest_density,
    upper_discretisations,
)
from certify.errors import Inconclusive, InvalidArgument
from certify.mechanisms.gaussian import GaussianMechanism
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

LOOSE = Target(rel=1e-2)
COARSE = Target(rel=1e-1)

# -- q = 1: the composition is the Gaussian mechanism with sigma / sqrt(T) ----------------------
#: (T, sigma): composed mu = sqrt(T) / sigma between 0.3 and 2
GAUSS = [(1, "1"), (10, "3"), (100, "10"), (1000, "20"), (10_000, "100"), (100_000, "300")]
GAUSS_LARGE = [(3, "2"), (30, "5"), (300, "12"), (3000, "40"), (30_000, "150"),
               (100_000, "150"), (100_000, "600")]


def _gaussian_cell(steps: int, sigma: str, delta: str, eps: str) -> None:
    exact = GaussianMechanism(sigma, compositions=steps)
    e = composed_epsilon([(sigma, 1, steps)], delta, target=LOOSE, method="grid")
    assert e.contains(exact.epsilon(delta).lower) and e.contains(exact.epsilon(delta).upper)
    assert e.rel_width <= 1e-2
    d = composed_delta([(sigma, 1, steps)], eps, target=LOOSE, method="grid")
    assert d.contains(exact.delta(eps).lower) and d.contains(exact.delta(eps).upper)


@pytest.mark.parametrize(("steps", "sigma"), GAUSS)
def test_q_one_contains_the_gaussian_closed_form(steps: int, sigma: str) -> None:
    _gaussian_cell(steps, sigma, "1e-5", "1")


@pytest.mark.large
@pytest.mark.parametrize(("steps", "sigma"), GAUSS_LARGE)
@pytest.mark.parametrize(("delta", "eps"), [("1e-3", "0.2"), ("1e-8", "3")])
def test_q_one_contains_the_gaussian_closed_form_large(steps: int, sigma: str, delta: str,
                                                       eps: str) -> None:
    _gaussian_cell(steps, sigma, delta, eps)


def test_heterogeneous_gaussian_phases_compose_to_one_gaussian() -> None:
    # mu^2 = 3 / 1^2 + 4 / 2^2 = 4: a single Gaussian with sigma = 1/2
    exact = GaussianMechanism("0.5")
    phases = [("1", 1, 3), ("2", 1, 4)]  # two phases: composed on grids even with method auto
    d = composed_delta(phases, "1.5", target=LOOSE)
    assert d.contains(exact.delta("1.5").lower)
    e = composed_epsilon(phases, "1e-6", target=LOOSE)
    assert e.contains(exact.epsilon("1e-6").lower)


def test_long_heterogeneous_phases_compose_to_one_gaussian() -> None:
    """Over 1000 steps (the float pilot chooses the first level): mu^2 = 600 / 30^2 + 1000 / 40^2
    = 2/3 + 5/8, one Gaussian with sigma = 1 / mu; both queries contain its closed form."""
    mu2 = Fraction(600, 30**2) + Fraction(1000, 40**2)
    sigma = 1 / math.sqrt(float(mu2))
    exact = GaussianMechanism(str(sigma))
    phases = [("30", 1, 600), ("40", 1, 1000)]
    e = composed_epsilon(phases, "1e-5", target=Target(rel=1e-3))
    want = exact.epsilon("1e-5")
    # sigma is a float's decimal: allow its rounding (relative 1e-15) on the closed form
    assert e.lower <= want.upper * Decimal("1.000000000001")
    assert want.lower * Decimal("0.999999999999") <= e.upper
    assert e.rel_width <= 1e-3
    d = composed_delta(phases, "1", target=Target(rel=1e-3))
    dw = exact.delta("1")
    assert d.lower <= dw.upper * Decimal("1.000000001") and dw.lower * Decimal(
        "0.999999999") <= d.upper


# -- T = 1: the one-step closed forms --------------------------------------------------------------
ONE_STEP = [("1", "0.01", ("0.005", "0.5")), ("0.5", "0.1", ("0.05", "3")),
            ("0.8", "0.5", ("0.3", "2"))]


@pytest.mark.parametrize(("sigma", "q", "epsilons"), ONE_STEP)
def test_one_step_contains_the_closed_form(sigma: str, q: str, epsilons: tuple[str, str]) -> None:
    mech = SubsampledGaussian(sigma, q)
    for eps in epsilons:
        for direction in ("remove", "add"):
            exact = mech.direction_delta(eps, direction)
            d = composed_delta([(sigma, q, 1)], eps, neighbours=direction, target=LOOSE,
                               method="grid")
            assert d.contains(exact.lower) and d.contains(exact.upper), (eps, direction, d, exact)
        d = composed_delta([(sigma, q, 1)], eps, target=LOOSE, method="grid")
        assert d.contains(mech.delta(eps).lower)
    e = composed_epsilon([(sigma, q, 1)], "1e-5", method="grid")
    assert e.contains(mech.epsilon("1e-5").lower) and e.rel_width <= 1e-3


@pytest.mark.parametrize("direction", ["remove", "add"])
def test_one_step_epsilon_of_each_direction_brackets_the_closed_form(direction: str) -> None:
    """delta(eps_lower) >= delta >= delta(eps_upper) with the closed form's certified bounds."""
    mech = SubsampledGaussian("0.8", "0.5")
    e = composed_epsilon([("0.8", "0.5", 1)], "1e-3", neighbours=direction, target=LOOSE,
                         method="grid")
    assert mech.direction_delta(e.lower, direction).ge("1e-3") is True
    assert mech.direction_delta(e.upper, direction).le("1e-3") is True


@settings(max_examples=12)
@given(st.sampled_from(["0.5", "0.9", "2"]), st.sampled_from(["0.02", "0.3", "1"]),
       st.fractions(0, 4, max_denominator=64), st.sampled_from(["remove", "add"]))
def test_one_step_grids_bracket_the_profile_between_nodes(sigma: str, q: str, eps: Fraction,
                                                          direction: str) -> None:
    """The connect-the-dots measure dominates and the Jensen measure is dominated at every eps,
    on or between nodes (h = 1/32 is deliberately coarse)."""
    h, bits = Fraction(1, 32), 80
    s, qq = Fraction(sigma), Fraction(q)
    with ctx.workprec(160):
        up = upper_discretisations(s, qq, h, bits, 1e-20, 160)[direction]
        lo = lower_discretisation(s, qq, h, direction == "add", bits, 1e-20)
        hi_ball, lo_ball = grid.delta_ball(up, eps), grid.delta_ball(lo, eps)
    exact = SubsampledGaussian(sigma, q).direction_delta(eps, direction)
    assert Bound.from_arb(lo_ball).lower <= exact.upper
    assert exact.lower <= Bound.from_arb(hi_ball).upper


# -- T = 2: a float quadrature of the two-fold composition ---------------------------------------
def _two_fold_remove(sigma: float, q: float, eps: float) -> float:
    """delta_2(eps) = E_{x~P}[delta_1(eps - L(x))] with the one-step hockey-stick at any real
    order (remove direction), by scipy quadrature: an oracle independent of our grids."""

    def loss(x: float) -> float:
        return float(np.logaddexp(math.log1p(-q), math.log(q) + (2 * x - 1) / (2 * sigma**2)))

    def one_step(e: float) -> float:
        if math.exp(e) <= 1 - q:
            return 1 - math.exp(e)  # every loss exceeds e
        x = sigma**2 * math.log((math.expm1(e) + q) / q) + 0.5
        p_tail = (1 - q) * norm.sf(x / sigma) + q * norm.sf((x - 1) / sigma)
        return p_tail - math.exp(e) * norm.sf(x / sigma)

    def integrand(x: float) -> float:
        dens = ((1 - q) * norm.pdf(x / sigma) + q * norm.pdf((x - 1) / sigma)) / sigma
        return dens * one_step(eps - loss(x))

    lo, hi = -12 * sigma, 1 + 12 * sigma
    value, _ = integrate.quad(integrand, lo, hi, points=[0.0, 0.5, 1.0], epsabs=1e-13,
                              epsrel=1e-11, limit=400)
    return float(value)


def _two_fold_replace(sigma: float, q: float, eps: float) -> float:
    """delta_2(eps) = E_{x~P}[delta_1(eps - L(x))] for the replace pair P = (1-q)N(0) + qN(1),
    P' = (1-q)N(0) + qN(-1): the one-step hockey-stick at any real order by bisection on the
    (increasing) loss, root by Brent's method, and normal tails, then scipy quadrature
    (independent of our grids and of the closed-form root)."""

    def dens(x: float, shift: float) -> float:
        return float((1 - q) * norm.pdf(x / sigma) + q * norm.pdf((x - shift) / sigma)) / sigma

    def log_dens(x: float, shift: float) -> float:
        return float(np.logaddexp(math.log1p(-q) + norm.logpdf(x / sigma),
                                  math.log(q) + norm.logpdf((x - shift) / sigma)))

    def loss(x: float) -> float:
        return log_dens(x, 1.0) - log_dens(x, -1.0)

    def one_step(e: float) -> float:
        x = brentq(lambda t: loss(t) - e, -60.0, 60.0, xtol=1e-14, rtol=1e-15)
        p_tail = (1 - q) * norm.sf(x / sigma) + q * norm.sf((x - 1) / sigma)
        q_tail = (1 - q) * norm.sf(x / sigma) + q * norm.sf((x + 1) / sigma)
        return float(p_tail - math.exp(e) * q_tail)

    value, _ = integrate.quad(lambda x: dens(x, 1.0) * one_step(eps - loss(x)), -12 * sigma - 1,
                              12 * sigma + 1, points=[-1.0, 0.0, 1.0], epsabs=1e-13,
                              epsrel=1e-11, limit=400)
    return float(value)


@pytest.mark.parametrize(("sigma", "q", "eps"), [(1.0, 0.3, 0.5), (0.6, 0.05, 1.0)])
def test_two_steps_contain_a_quadrature_of_the_two_fold_composition(sigma: float, q: float,
                                                                   eps: float) -> None:
    d = composed_delta([(sigma, q, 2)], eps, neighbours="remove", target=Target(rel=1e-4))
    oracle = _two_fold_remove(sigma, q, eps)
    assert float(d.lower) - 1e-9 <= oracle <= float(d.upper) + 1e-9
    assert d.rel_width <= 1e-4


def test_two_replace_steps_contain_a_quadrature_of_the_two_fold_composition() -> None:
    d = composed_delta([(0.9, 0.2, 2)], 0.6, neighbours="replace-one", target=Target(rel=1e-4))
    oracle = _two_fold_replace(0.9, 0.2, 0.6)
    assert float(d.lower) - 1e-9 <= oracle <= float(d.upper) + 1e-9
    assert d.rel_width <= 1e-4


# -- replace-one and sensitivity (issue 5, item 2) ------------------------------------------------
@pytest.mark.parametrize(("sigma", "q", "epsilons"), [("1", "0.05", ("0.02", "0.5")),
                                                      ("0.7", "0.4", ("0.3", "2"))])
def test_replace_one_step_contains_the_closed_form(sigma: str, q: str,
                                                   epsilons: tuple[str, str]) -> None:
    mech = SubsampledGaussian(sigma, q, neighbours="replace-one")
    for eps in epsilons:
        d = composed_delta([(sigma, q, 1)], eps, neighbours="replace-one", target=LOOSE,
                           method="grid")
        exact = mech.delta(eps)
        assert d.contains(exact.lower) and d.contains(exact.upper), (eps, d, exact)
    e = composed_epsilon([(sigma, q, 1)], "1e-4", neighbours="replace-one", target=LOOSE,
                         method="grid")
    assert mech.delta(e.lower).ge("1e-4") is True and mech.delta(e.upper).le("1e-4") is True


@pytest.mark.parametrize(("steps", "sigma"), [(10, "6"), (1000, "60")])
def test_replace_q_one_is_the_gaussian_with_twice_the_sensitivity(steps: int, sigma: str) -> None:
    exact = GaussianMechanism(sigma, compositions=steps, neighbours="replace-one")
    e = composed_epsilon([(sigma, 1, steps)], "1e-5", neighbours="replace-one", target=LOOSE,
                         method="grid")
    assert e.contains(exact.epsilon("1e-5").lower) and e.contains(exact.epsilon("1e-5").upper)


def test_sensitivity_scales_the_noise() -> None:
    """Only sigma / sensitivity enters: against the Gaussian closed form at q = 1 and the
    one-step closed forms at q < 1 (both on grids)."""
    exact = GaussianMechanism("3", sensitivity="0.5", compositions=50)
    e = composed_epsilon([("3", 1, 50, "0.5")], "1e-6", target=LOOSE, method="grid")
    assert e.contains(exact.epsilon("1e-6").lower)
    mech = SubsampledGaussian("1.5", "0.2", sensitivity="2")
    for d in ("remove", "add"):
        b = composed_delta([{"sigma": "1.5", "q": "0.2", "steps": 1, "sensitivity": "2"}], "0.2",
                           neighbours=d, target=LOOSE, method="grid")
        assert b.contains(mech.direction_delta("0.2", d).lower)
    assert check_phases([("1", "0.1", 3, "2")])[0].noise_ratio == Fraction(1, 2)


def test_auto_answers_one_step_and_q_one_by_the_closed_forms() -> None:
    """Exact, and at least 1e-10 wide whatever coarser width was asked (they cost ms)."""
    narrow = Target(rel=1e-10, absolute=1e-18)
    one = composed_epsilon([("1", "0.05", 1)], "1e-5", target=LOOSE)
    assert one == SubsampledGaussian("1", "0.05").epsilon("1e-5", Target(rel=1e-10))
    rep = composed_delta([("1", "0.05", 1, "2")], "1", neighbours="replace-one")
    assert rep == SubsampledGaussian("1", "0.05", "2", "replace-one").delta("1", narrow)
    gauss = composed_epsilon([("10", 1, 100)], "1e-5")
    assert gauss == GaussianMechanism("10", compositions=100).epsilon(
        "1e-5", Target(rel=1e-10, absolute=PLD_EPSILON_TARGET.absolute))
    assert gauss.rel_width <= 1e-10


# -- merged intervals (the speed-up): sound for any breakpoints, the same truth -------------------
@settings(max_examples=10)
@given(st.sampled_from(["remove", "add", "replace"]), st.fractions(0, 3, max_denominator=32),
       st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_any_breakpoints_give_a_dominating_measure(kind: str, eps: Fraction,
                                                   gaps: list[int]) -> None:
    """Connect-the-dots on an arbitrary subset of nodes still bounds delta from above (the chord
    argument does not need adjacent nodes)."""
    s, q, h = Fraction(9, 10), Fraction(1, 10), Fraction(1, 64)
    with ctx.workprec(160):
        if kind == "replace":
            full = pld_step._replace_nodes(s, q, h, list(range(-300, 301)))
        else:
            full = pld_step._remove_add_nodes(s, q, h, list(range(-8, 300)))[kind]
        keep, i = [0], 0
        for g in gaps * 40:
            i += g
            if i >= len(full) - 1:
                break
            keep.append(i)
        keep.append(len(full) - 1)
        coarse = pld_step._connect_the_dots([full[k] for k in keep], h, 90)
        up = grid.delta_ball(coarse, eps)
    exact = SubsampledGaussian(s, q).direction_delta(eps, kind, Target(rel=1e-12))
    assert exact.lower <= Bound.from_arb(up).upper, (kind, eps, keep[:5])


def test_merging_keeps_few_nodes_and_encloses_the_same_truth(
        monkeypatch: pytest.MonkeyPatch) -> None:
    merged = composed_epsilon([("1", "0.005", 60)], "1e-5")
    monkeypatch.setattr(pld_step, "COARSEN", 0.0)
    fine = composed_epsilon([("1", "0.005", 60)], "1e-5")
    assert merged.overlaps(fine) and merged.rel_width <= 1e-3
    # a flat weight keeps the dense middle and merges the far tail of a small-q step
    flat = Coarsening(lambda x: np.ones_like(x), 0.0, 0.25)
    kept = breakpoints("remove", 1.0, 0.002, 1e-4, 1e-15, {"remove": flat})
    every = breakpoints("remove", 1.0, 0.002, 1e-4, 1e-15)
    assert len(kept) < len(every) / 10 and kept[0] == every[0] and kept[-1] == every[-1]
    assert merge_scale(np.array([1.0, 1.0]), 0.0) == 0.0


def test_shared_nodes_weigh_each_direction_by_its_own_scale() -> None:
    """The remove and add grids share nodes; each direction's merging weights count relative
    to their own total, so rescaling one direction's density (its delta scale is unrelated to
    the other's) changes nothing, and neither direction loses the nodes it keeps alone."""
    def bump(centre: float, scale: float) -> Coarsening:
        return Coarsening(lambda x: scale * np.exp(-0.5 * ((x - centre) / 0.05) ** 2), 0.0,
                          0.25)

    s, q, h, tail = 0.5, 0.01, 2e-3, 1e-15
    remove, add = bump(-0.3, 1.0), bump(0.2, 1.0)
    both = breakpoints("remove", s, q, h, tail, {"remove": remove, "add": add})
    louder = breakpoints("remove", s, q, h, tail, {"remove": remove, "add": bump(0.2, 1e6)})
    assert both == louder
    alone = breakpoints("remove", s, q, h, tail, {"remove": remove})
    kept = set(both)
    near = [i for i in alone if abs(0.3 - i * h) < 0.05]  # remove weighs density(0 - loss)
    assert near and all(i in kept for i in near)


def test_merged_lower_discretisation_stays_below_the_truth() -> None:
    """The lower grid with merged intervals (a weight that merges aggressively) is still
    dominated by the true one-step profile."""
    s, q, h = Fraction(1), Fraction(1, 50), Fraction(1, 256)
    flat = Coarsening(lambda x: np.ones_like(x), 0.0, 4.0)
    mech = SubsampledGaussian(s, q)
    with ctx.workprec(160):
        for kind in ("remove", "add"):
            lo = lower_discretisation(s, q, h, kind, 90, 1e-20, flat)
            for eps in (Fraction(0), Fraction(1, 100), Fraction(1, 10), Fraction(1)):
                low = Bound.from_arb(grid.delta_ball(lo, eps)).lower
                assert low <= mech.direction_delta(eps, kind).upper, (kind, eps)


def test_rest_density_reads_a_grid_measure() -> None:
    pld = grid.GridPLD(2, fmpz_poly([0, 4, 0, 0]), fmpz(0), 4, True, Fraction(1, 2))
    dens = rest_density(pld, window=0)
    # node 3 (loss 3/2) holds 4/16 of mass over h = 1/2: density 1/2
    assert dens(np.array([1.5, 1.0, 9.0])).tolist() == [0.5, 0.0, 0.0]


# -- heterogeneous phases -------------------------------------------------------------------------
def test_splitting_a_phase_encloses_the_same_truth() -> None:
    whole = composed_epsilon([("1.2", "0.05", 60)], "1e-6", target=LOOSE)
    split = composed_epsilon([("1.2", "0.05", 20), ("1.2", "0.05", 40)], "1e-6", target=LOOSE)
    assert whole.overlaps(split)
    mixed = composed_epsilon([("1.2", "0.05", 20), ("0.8", "0.1", 40)], "1e-6", target=LOOSE)
    assert mixed.gt(whole) is True  # a noisier, larger-q phase costs more privacy


def test_zero_sampling_phases_are_the_identity() -> None:
    assert composed_delta([(1, 0, 100)], "0.1") == Bound.exact(0)
    assert composed_epsilon([(1, 0, 100)], "1e-5") == Bound.exact(0)
    with_zero = composed_delta([(1, 0, 100), ("1", "0.2", 5)], "0.5", target=LOOSE)
    alone = composed_delta([("1", "0.2", 5)], "0.5", target=LOOSE)
    assert with_zero.overlaps(alone)


def test_add_direction_is_exactly_zero_beyond_its_bounded_loss() -> None:
    # the add loss is < -log(1 - q) = 0.105.. per step: 3 steps cannot exceed 0.4
    assert composed_delta([("1", "0.1", 3)], "0.4", neighbours="add") == Bound.exact(0)
    both = composed_delta([("1", "0.1", 3)], "0.4", target=LOOSE)
    remove = composed_delta([("1", "0.1", 3)], "0.4", neighbours="remove", target=LOOSE)
    assert both == remove


# -- monotonicity: certified orders are never wrong; lower <= upper always ------------------------
#: a domain where delta stays above ~1e-20 (far smaller deltas need far finer fixed point)
_SIGMA = st.sampled_from(["0.7", "1", "1.5"])
_Q = st.sampled_from(["0.05", "0.2", "0.5", "1"])
_STEPS = st.integers(1, 40)


@settings(max_examples=6)
@given(_SIGMA, _Q, _STEPS, st.fractions(0, "3/2", max_denominator=16),
       st.fractions(Fraction(1, 16), 1, max_denominator=16))
def test_delta_is_certified_non_increasing_in_epsilon(sigma: str, q: str, steps: int,
                                                      eps: Fraction, gap: Fraction) -> None:
    a = composed_delta([(sigma, q, steps)], eps, target=COARSE)
    b = composed_delta([(sigma, q, steps)], eps + gap, target=COARSE)
    assert a.lower <= a.upper and b.lower <= b.upper
    assert a.lt(b) is not True


@settings(max_examples=6)
@given(_SIGMA, _Q, _STEPS, st.integers(1, 40), st.fractions(0, "3/2", max_denominator=16))
def test_delta_is_certified_non_decreasing_in_steps(sigma: str, q: str, steps: int, more: int,
                                                    eps: Fraction) -> None:
    a = composed_delta([(sigma, q, steps)], eps, target=COARSE)
    b = composed_delta([(sigma, q, steps + more)], eps, target=COARSE)
    assert a.gt(b) is not True


@settings(max_examples=6)
@given(_SIGMA, _Q, _STEPS, st.sampled_from(["0.1", "0.5", "2"]))
def test_epsilon_is_certified_non_increasing_in_sigma(sigma: str, q: str, steps: int,
                                                      extra: str) -> None:
    a = composed_epsilon([(sigma, q, steps)], "1e-5", target=COARSE)
    b = composed_epsilon([(Fraction(sigma) + Fraction(extra), q, steps)], "1e-5", target=COARSE)
    assert a.lower <= a.upper
    assert a.lt(b) is not True


def test_clear_orders_are_certified() -> None:
    """The orders are not vacuous: where the truths differ clearly, the intervals separate."""
    ph = [("1", "0.1", 20)]
    assert composed_delta(ph, "0.5", target=LOOSE).gt(composed_delta(ph, "1", target=LOOSE))
    assert composed_epsilon([("1", "0.1", 40)], "1e-5", target=LOOSE).gt(
        composed_epsilon(ph, "1e-5", target=LOOSE))
    assert composed_epsilon([("2", "0.1", 20)], "1e-5", target=LOOSE).lt(
        composed_epsilon(ph, "1e-5", target=LOOSE))


# -- the refinement and its budget ----------------------------------------------------------------
def test_requested_width_is_met() -> None:
    e = composed_epsilon([("1", "0.05", 200)], "1e-5", target=Target(rel=2e-4))
    assert e.rel_width <= 2e-4


def test_add_remove_encloses_the_maximum_of_the_two_directions() -> None:
    # the add direction trails here (0.1698 against 0.1733) and its last level is composed on
    # a grid about 4 times coarser than remove's (pld_refine.trailing_spacings): the answer must
    # still enclose max(eps_remove, eps_add), which lies in [max of the lower ends, max of the
    # upper ends] of the separate answers
    phases, goal = [("2", "0.001", 10_000)], Target(rel=1e-3)
    both = composed_epsilon(phases, "1e-5", target=goal)
    parts = [composed_epsilon(phases, "1e-5", neighbours=n, target=goal)
             for n in ("remove", "add")]
    low, high = max(p.lower for p in parts), max(p.upper for p in parts)
    assert both.rel_width <= 1e-3
    assert both.lower <= high and low <= both.upper


@pytest.mark.parametrize(("sigma", "q"), [("1", "0.05"), ("0.7", "0.3")])
def test_reflected_profile_bounds_the_reverse_pair(sigma: str, q: str) -> None:
    """e^eps D_up(-eps) - e^eps + 1 from the remove pair's one-step upper measure bounds the add
    pair's delta(eps) (its closed form, certified) from above, tightly on a fine grid; and from
    a 3-step remove composition it lies above the add composition's certified lower bound."""
    h = Fraction(1, 512)
    with ctx.workprec(128):
        step = upper_discretisations(Fraction(sigma), Fraction(q), h, 64, 1e-14, 128, {})
        remove = step["remove"]
        add = SubsampledGaussian(sigma, q, neighbours="add")
        for eps in (Fraction(0), Fraction(1, 10), Fraction(1, 2), Fraction(1)):
            bound = Bound.from_arb(reflected_upper_delta(remove, eps), 128)
            exact = add.delta(eps, Target(rel=1e-12))
            assert exact.upper <= bound.upper
            assert bound.upper - exact.lower <= Decimal("1e-4") * max(exact.upper,
                                                                       Decimal("1e-6"))
        three = grid.power(remove, 3, 0)
        low = grid.power(lower_discretisation(Fraction(sigma), Fraction(q), h, "add", 64,
                                              1e-14), 3, 0)
        for eps in (Fraction(1, 10), Fraction(1, 2)):
            assert grid.delta_ball(low, eps) <= reflected_upper_delta(three, eps)


def test_a_trailing_direction_is_refined_only_until_it_drops_out() -> None:
    with ctx.workprec(64):
        lead = (arb("0.1730"), arb("0.1740"))
        h, h_next = Fraction(1, 4096), Fraction(1, 32768)
        trailing = {"remove": lead, "add": (arb("0.1660"), arb("0.1720"))}
        spacing = pld_refine.trailing_spacings(trailing, ["remove", "add"],
                                      {"remove": h, "add": h}, h_next, 1e-3)
        assert set(spacing) == {"add"} and h_next < spacing["add"] < h
        overlapping = {"remove": lead, "add": (arb("0.1700"), arb("0.1745"))}
        assert pld_refine.trailing_spacings(overlapping, ["remove", "add"],
                                   {"remove": h, "add": h}, h_next, 1e-3) == {}


def test_budget_exhaustion_is_inconclusive_with_a_valid_enclosure() -> None:
    exact = GaussianMechanism("30", compositions=1000).epsilon("1e-5")
    with pytest.raises(Inconclusive) as info:
        composed_epsilon([("30", 1, 1000)], "1e-5", target=Target(rel=1e-9), max_nodes=30_000,
                         method="grid")
    best = info.value.best
    assert best is not None and best.contains(exact.lower)


# -- cross-check: dp-accounting's pessimistic PLD accountant -------------------------------------
def _dp_accounting_epsilon(sigma: float, q: float, steps: int, delta: float) -> float:
    dp = pytest.importorskip("dp_accounting")
    from dp_accounting.pld import pld_privacy_accountant

    event = dp.SelfComposedDpEvent(dp.PoissonSampledDpEvent(q, dp.GaussianDpEvent(sigma)), steps)
    return float(pld_privacy_accountant.PLDAccountant().compose(event).get_epsilon(delta))


def _check_against_dp_accounting(sigma: float, q: float, steps: int) -> None:
    ours = composed_epsilon([(sigma, q, steps)], "1e-5")
    theirs = _dp_accounting_epsilon(sigma, q, steps, 1e-5)
    assert float(ours.lower) - 1e-7 <= theirs <= float(ours.upper) + steps * 1e-4


def test_dp_accounting_lies_in_or_just_above_our_interval() -> None:
    _check_against_dp_accounting(2.0, 0.1, 10)


@pytest.mark.large
@pytest.mark.parametrize(("sigma", "q", "steps"),
                         [(1.0, 0.01, 100), (0.8, 0.05, 1000), (1.0, 0.01, 10_000),
                          (0.5, 0.1, 10_000)])
def test_dp_accounting_cross_check_large(sigma: float, q: float, steps: int) -> None:
    _check_against_dp_accounting(sigma, q, steps)


@pytest.mark.large
@pytest.mark.parametrize(("sigma", "q"), [("1", "0.01"), ("0.5", "0.1")])
def test_issue_width_targets(sigma: str, q: str) -> None:
    assert composed_epsilon([(sigma, q, 10_000)], "1e-5").rel_width <= 1e-3


# -- the grid layer: exact integer arithmetic -----------------------------------------------------
def _grid(masses: list[int], offset: int, upper: bool, bits: int = 4, inf: int = 0
          ) -> grid.GridPLD:
    return grid.GridPLD(offset, fmpz_poly(masses), fmpz(inf), bits, upper, Fraction(1, 4))


@settings(max_examples=25)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=6),
       st.lists(st.integers(0, 40), min_size=1, max_size=6), st.integers(0, 5),
       st.integers(0, 5), st.booleans())
def test_multiply_is_the_exact_convolution_rounded_in_the_pipelines_direction(
        a: list[int], b: list[int], ia: int, ib: int, upper: bool) -> None:
    u, v = _grid(a, -2, upper, inf=ia), _grid(b, 3, upper, inf=ib)
    out = grid.multiply(u, v, 0)
    conv = np.convolve(a, b)
    expect = [-((-int(c)) // 16) if upper else int(c) // 16 for c in conv]
    got = [0] * len(expect)
    for i in range(out.length):
        got[out.offset - 1 + i] = int(out.poly[i])
    # eta = 0 keeps every non-zero coefficient; leading zeros are cut
    nz = [i for i, c in enumerate(expect) if c]
    if nz:
        assert got[nz[0]:nz[-1] + 1] == expect[nz[0]:nz[-1] + 1]
    inf = ia * (sum(b) + ib) + sum(a) * ib
    assert int(out.infinity) == (-((-inf) // 16) if upper else inf // 16)


@settings(max_examples=40)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=9),
       st.lists(st.integers(0, 60), min_size=1, max_size=9), st.integers(0, 5),
       st.integers(-12, 40), st.booleans())
def test_a_last_product_read_from_low_is_the_full_product_above_it(
        a: list[int], b: list[int], ia: int, low4: int, upper: bool) -> None:
    """multiply(..., low): above the node at or below ``low`` the coefficients are those of the
    exact convolution (rounded in the pipeline's direction); below it the exact remaining mass
    is lumped on that node (upper) or dropped (lower), so D(eps) is the full product's for
    eps >= low and bounds it in the pipeline's direction everywhere (computed from numpy's
    convolution, independently of the grid layer)."""
    u, v = _grid(a, -2, upper, inf=ia), _grid(b, 3, upper)
    low = Fraction(low4, 4) / 4  # losses are (offset + i) / 4; low on or between nodes
    full = grid.multiply(u, v, 0)
    part = grid.multiply(u, v, 0, low)
    conv = [int(c) for c in np.convolve(a, b)]  # units 2^-8, node j at loss (1 + j) / 4
    cut = min(max(math.floor((low - Fraction(1, 4)) * 4), 0), len(conv) - 1)
    if cut > 0:
        assert part.lumped
        head = sum(conv[: cut + 1]) if upper else conv[cut]
        kept = [head, *conv[cut + 1:]]
        expect = [-((-c) // 16) if upper else c // 16 for c in kept]
        got = {part.offset + i: int(part.poly[i]) for i in range(part.length)}
        for j, e in enumerate(expect):
            assert got.get(1 + cut + j, 0) == e
        assert part.nodes >= part.length
    else:
        assert part.poly == full.poly and part.offset == full.offset
    assert part.infinity == full.infinity
    for k in range(-4, 44):
        eps = Fraction(k, 16)
        with ctx.workprec(128):
            d_full, d_part = grid.delta_ball(full, eps), grid.delta_ball(part, eps)
        if eps >= low:
            assert d_full.overlaps(d_part) and abs(d_full - d_part) < 1e-30
        elif upper:
            assert not d_part < d_full
        else:
            assert not d_part > d_full


def test_partial_last_products_give_the_same_certified_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """composed_epsilon/delta read their last products from the query's eps (or the previous
    level's answer): an eps(delta) query whose last level follows a full one gets the same
    interval as with full products; a delta(eps) query still encloses the closed form (q = 1,
    method grid)."""
    phases = [("1", "0.02", 300)]
    with_cut = composed_epsilon(phases, "1e-5", target=Target(rel=1e-3))
    exact = GaussianMechanism("3", 1, 9).delta("0.7")
    got = composed_delta([("3", "1", 9)], "0.7", method="grid", target=Target(rel=1e-4))
    assert got.lower <= exact.lower and exact.upper <= got.upper
    monkeypatch.setattr(grid, "_cut_index", lambda *args: 0)  # every product resolved
    without = composed_epsilon(phases, "1e-5", target=Target(rel=1e-3))
    assert with_cut.lower == without.lower and with_cut.upper == without.upper
    # a delta query reads from its eps at every level, and the merging rule of the next level
    # then sees only that part: other grids, the same truth, about the same width
    full_grid = composed_delta([("3", "1", 9)], "0.7", method="grid", target=Target(rel=1e-4))
    assert full_grid.lower <= exact.lower and exact.upper <= full_grid.upper
    assert got.width <= 2 * full_grid.width


@settings(max_examples=60)
@given(st.lists(st.integers(0, 2**62), min_size=1, max_size=12),
       st.lists(st.integers(0, 2**62), min_size=1, max_size=12), st.integers(0, 2**40),
       st.integers(0, 2**60), st.integers(-8, 30), st.booleans(), st.booleans(),
       st.sampled_from([64, 48, 1]))
def test_packed_words_multiply_to_the_same_integers_as_fmpz_poly(
        a: list[int], b: list[int], ia: int, eta: int, low4: int, upper: bool,
        square: bool, bits: int) -> None:
    """pld_words.multiply (one big-integer product of 128-bit slots) against the fmpz_poly path
    of pld_grid.multiply: the same rounded masses, +infinity and offset, with and without a
    partial last product, for units 2^-64 and below (masses scaled to the unit, so that the
    slot check usually passes; when it fails, the caller's fallback is checked to be needed)."""
    if square:
        b = a
    a, b = [x >> (64 - bits) for x in a], [x >> (64 - bits) for x in b]
    u = grid.GridPLD(-2, fmpz_poly(a), fmpz(ia), bits, upper, Fraction(1, 4))
    v = u if square else grid.GridPLD(3, fmpz_poly(b), fmpz(0), bits, upper, Fraction(1, 4))
    low = Fraction(low4, 4)
    expect = grid.multiply(u, v, eta, low)
    wu = grid.to_words(u)
    wv = wu if square else grid.to_words(v)
    assert wu is not None and wv is not None
    cut = grid._cut_index(low, u.shift + v.shift, u.offset + v.offset, u.h, u.length, v.length)
    got = pld_words.multiply(wu, wv, eta, bits, upper, cut)
    if got is None:  # the slot check failed, or a lumped mass exceeds a word: fmpz_poly
        assert not pld_words.fits(wu.w, wv.w, bits) or (cut > 0 and max(
            int(c) for c in expect.poly.coeffs()) >= 2**64)
        return
    assert got.offset == expect.offset and got.infinity == int(expect.infinity)
    assert [int(x) for x in got.w] == [int(c) for c in expect.poly.coeffs()]


@pytest.mark.parametrize("direction", ["remove", "add", "replace"])
def test_packed_powers_equal_fmpz_powers_on_real_steps(direction: str) -> None:
    """The composition loop in words gives the fmpz_poly loop's integers on real one-step
    measures (both pipelines, a partial last product, several counts)."""
    s, q, h = Fraction(1), Fraction(1, 20), Fraction(1, 64)
    with ctx.workprec(192):
        up = pld_step.upper_discretisations(s, q, h, 64, 1e-12, 192, {})[direction]
        lo = lower_discretisation(s, q, h, direction, 64, 1e-12)
    for step in (up, lo):
        for count, low in ((1, None), (6, None), (37, Fraction(3, 2)), (64, Fraction(2))):
            packed = grid.power(step, count, 1000, low)
            plain = grid.power(step, count, 1000, low, packed=False)
            assert (packed.offset, packed.infinity, packed.lumped) == (
                plain.offset, plain.infinity, plain.lumped)
            assert packed.poly == plain.poly


def test_packed_multiply_declines_what_does_not_fit() -> None:
    """Masses whose product could overflow a 128-bit slot (or units beyond a word) are left to
    fmpz_poly, which still gives the exact rounded product."""
    big = [2**64 - 1, 2**64 - 3, 2**63]
    w = pld_words.Words(0, np.array(big, dtype=np.uint64), 0)
    assert not pld_words.fits(w.w, w.w, 64)
    assert pld_words.multiply(w, w, 0, 64, True) is None
    assert pld_words.multiply(w, w, 0, 65, True) is None
    u = grid.GridPLD(0, fmpz_poly(big), fmpz(0), 64, True, Fraction(1, 8))
    out = grid.power(u, 2, 0)
    conv = np.convolve(np.array(big, dtype=object), np.array(big, dtype=object))
    assert [int(c) for c in out.poly.coeffs()] == [-((-int(c)) >> 64) for c in conv]
    assert pld_words.exact_sum(np.array([2**64 - 1] * 3, dtype=np.uint64)) == 3 * (2**64 - 1)


def test_rescaling_rounds_every_large_coefficient_in_its_direction() -> None:
    rng = np.random.default_rng(7)
    coeffs = [int(x) << 90 | int(y) for x, y in zip(rng.integers(0, 2**62, 3000),
                                                     rng.integers(0, 2**62, 3000), strict=True)]
    # small coefficients too: below one unit (ceiling 1, floor 0), exact multiples, zeros
    coeffs += [1, 2**79, 2**80 - 1, 2**80, 2**80 + 1, 0, 5, 3 * 2**80, 7]
    poly = fmpz_poly(coeffs)
    up = [int(c) for c in grid._rescale(poly, 80, True).coeffs()]
    down = [int(c) for c in grid._rescale(poly, 80, False).coeffs()]
    assert up == [-((-c) >> 80) for c in coeffs]
    assert down == [c >> 80 for c in coeffs][: len(down)] and not any(
        c >> 80 for c in coeffs[len(down):])


def test_truncation_moves_tails_in_the_bounds_direction() -> None:
    masses = [3, 1, 50, 60, 2, 4]
    up = grid.truncate(_grid(masses, 0, True), 4)
    assert int(up.infinity) == 4 and up.offset == 2  # top tail to +inf, low tail up
    assert [int(c) for c in up.poly.coeffs()] == [54, 60, 2]
    lo = grid.truncate(_grid(masses, 0, False), 4)
    assert int(lo.infinity) == 0 and lo.offset == 2  # low tail dropped, top tail down
    assert [int(c) for c in lo.poly.coeffs()] == [50, 60, 6]


def test_to_fixed_rounds_outward() -> None:
    with ctx.workprec(64):
        x = arb(1) / 3
        assert grid.to_fixed(x, 10, True) == 342 and grid.to_fixed(x, 10, False) == 341
        assert grid.to_fixed(arb(-1e-30, 1e-29), 10, False) == 0


def test_delta_of_a_grid_measure_matches_the_definition() -> None:
    pld = _grid([1, 2, 3, 4], -1, True, bits=4, inf=1)
    eps = Fraction(1, 3)
    with ctx.workprec(128):
        value = float(grid.delta_ball(pld, eps).mid())
    losses = [(-1 + i) / 4 for i in range(4)]
    direct = (1 + sum(m * max(0.0, 1 - math.exp(1 / 3 - lo))
                      for m, lo in zip([1, 2, 3, 4], losses, strict=True))) / 16
    assert value == pytest.approx(direct, rel=1e-14)


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("phases", "message"), [
    ([(-1, "0.1", 10)], "phases[0].sigma=-1 must be positive"),
    ([(1, "1.5", 10)], "phases[0].q=1.5 must be in [0, 1]"),
    ([(1, "0.1", 0)], "phases[0].steps=0 must be a positive integer"),
    ([(1, "0.1", 2.5)], "phases[0].steps=2.5 must be a positive integer"),
    ([], "phases=[] must not be empty"),
    ([(1, "0.1")], "phases[0]="),
    ([(1, "0.1", 3, 0)], "phases[0].sensitivity=0 must be positive"),
    ("abc", "phases='abc'"),
    ([{"sigma": 1, "q": "0.1"}], "lacks the key 'steps'"),
])
def test_bad_phases_name_the_parameter(phases: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re_escape(message)):
        composed_delta(phases, 1)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_bad_arguments_name_the_parameter() -> None:
    ph = [(1, "0.1", 10)]
    with pytest.raises(InvalidArgument, match=r"epsilon=-1 must be non-negative"):
        composed_delta(ph, -1)
    with pytest.raises(InvalidArgument, match=r"delta=0 must be in \(0, 1\]"):
        composed_epsilon(ph, 0)
    with pytest.raises(InvalidArgument, match=r"neighbours=replace must be one of"):
        composed_epsilon(ph, "1e-5", neighbours="replace")
    with pytest.raises(InvalidArgument, match=r"method=fft must be one of"):
        composed_epsilon(ph, "1e-5", method="fft")
    with pytest.raises(InvalidArgument, match=r"max_nodes=0 must be a positive integer"):
        composed_epsilon(ph, "1e-5", max_nodes=0)


def test_phase_forms_are_equivalent() -> None:
    a = check_phases([("1", "0.1", 10)])
    assert a == check_phases(("1", "0.1", 10)) == check_phases([{"sigma": "1", "q": "0.1",
                                                                 "steps": 10}])
    assert a == check_phases([Phase(Fraction(1), Fraction(1, 10), 10)])
    assert a[0].q == Fraction(1, 10)  # a decimal string is that exact number


@settings(max_examples=80)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=30), st.integers(0, 200))
def test_cut_points_are_the_defined_extremes(masses: list[int], eta: int) -> None:
    """pld_cuts.cut_points (galloping, then bisection) against the definition by exhaustive
    search: the largest a with prefix(a) <= eta, the smallest b with suffix(b) <= eta, clamped
    to keep a node."""
    n = len(masses)

    def prefix(k: int) -> int:
        return sum(masses[:k])

    def suffix(k: int) -> int:
        return sum(masses[k:])

    a = max(k for k in range(n + 1) if prefix(k) <= eta)
    b = min(k for k in range(n + 1) if suffix(k) <= eta)
    a = max(0, min(a, n - 1))
    assert cut_points(prefix, suffix, n, eta) == (a, max(a + 1, min(b, n)))


def test_deep_tail_delta_meets_the_width() -> None:
    """delta(0.05) of (sigma 2, q 0.001, T = 100) is ~6e-16: the merging rule's float densities
    (noise ~1e-16 of their peak) cannot steer there, and with them the merged lower bound lost
    2% and got worse as h shrank until the node budget ran out (inconclusive). Without merging
    below delta 1e-13 the requested 1e-3 is met; the answer lies below delta(0.03) ~7.5e-10."""
    phases = [("2", "0.001", 100)]
    deep = composed_delta(phases, "0.05", target=Target(rel=1e-3))
    assert deep.rel_width <= 1e-3
    assert deep.lower > 0 and deep.upper < composed_delta(phases, "0.03", target=LOOSE).lower


@settings(max_examples=60)
@given(st.lists(st.one_of(st.integers(0, 2**64 - 1), st.just(0), st.integers(2**64, 2**70)),
                max_size=10), st.integers(-5, 5), st.sampled_from([1, 48, 64, 65]))
def test_measure_carries_exactly_its_coefficients_as_words(masses: list[int], offset: int,
                                                           bits: int) -> None:
    """grid.measure keeps the polynomial and its words in step (trailing zeros trimmed, no
    words where a mass or the unit exceeds a word), and to_words / power read the same
    integers as a conversion of the polynomial would."""
    m = grid.measure(offset, masses, 7, bits, True, Fraction(1, 8))
    coeffs = [int(c) for c in m.poly.coeffs()]
    fits = bits <= 64 and all(x < 2**64 for x in masses)
    assert (m.words is not None) == fits
    if m.words is not None:
        assert m.words.tolist() == coeffs
    plain = grid.GridPLD(offset, fmpz_poly(masses), fmpz(7), bits, True, Fraction(1, 8))
    a, b = grid.to_words(m), grid.to_words(plain)
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert (a.offset, a.w.tolist(), a.infinity) == (b.offset, b.w.tolist(), b.infinity)
    if coeffs:
        assert grid.power(m, 3, 0).poly == grid.power(plain, 3, 0).poly
    for eps in (Fraction(-1), Fraction(offset, 8), Fraction(offset + 3, 8), Fraction(9)):
        assert grid._tail_sums(m, grid.first_above(m, eps))[0] == \
            grid._tail_sums(plain, grid.first_above(plain, eps))[0]
