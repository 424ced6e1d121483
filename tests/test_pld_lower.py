"""The optimistic one-step discretisation's float placement (certify.accounting.pld_lower):
each interval's barycentre lies just past its node by the aimed margin, not more, so a T-fold
composition is not shifted down by T times a coarse margin. Soundness (the lower bound stays
below the truth) is tested end to end in tests/test_pld.py."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from flint import ctx

from certify.accounting import pld_lower, pld_pilot
from certify.accounting.pld_compose import Composer, Plan, check_phases, loss_moments
from certify.accounting.pld_grid import delta_ball
from certify.accounting.pld_invert import lower_delta, upper_delta
from certify.accounting.pld_lower import (
    _AIMS,
    Pair,
    _chain,
    _off_phase,
    _overruns,
    _solve,
    _split_plan,
    lower_discretisation,
)
from certify.accounting.pld_refine import pilot_start
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound


@pytest.mark.parametrize(("s", "q", "node"), [(2.0, 0.001, 0.0), (1.0, 0.01, 0.0),
                                              (0.5, 0.1, 0.925), (0.8, 0.05, -0.0359)])
def test_solved_interval_puts_its_barycentre_just_past_the_node(s: float, q: float,
                                                                node: float) -> None:
    """An interval grown (towards higher losses) with the finest aim has a float barycentre
    log(P/Q) within 5e-11 of its node (the aim is 5.7e-14; the float masses that measure it err
    by up to ~4e-12) -- not 2^-30 = 9.3e-10 past it, which, summed over 10^4 steps, shifted the
    composed lower bound by 9e-6 in loss."""
    pair = Pair(s, q, "remove")
    start = pair.y_of(node - 0.25 * abs(node - math.log1p(-q)))
    y = _solve(pair, start, node, True, 40.0, _AIMS[0])
    assert y is not None
    p, qm = pair.masses(pair.tails(start), pair.tails(y))
    assert abs(math.log(p / qm) - node) < 5e-11


def test_composed_lower_bound_has_no_floor() -> None:
    """At T = 10^4 (sigma 2, q 0.001) and a steep profile (delta(0.2582) ~ 1.05e-8, log delta
    falling by ~100 per unit eps) the gap between the certified upper and lower bounds shrinks
    like h^2 when h halves (the aim's shift T 2^-30 used to leave a floor of ~9e-4 relative)."""
    eps = Fraction("0.2582")
    composer = Composer(check_phases([("2", "0.001", 10_000)]))
    gaps = []
    for h in (Fraction(19, 2**20), Fraction(19, 2**21)):
        plan = Plan(h, 83, 1 << 20, 1e-18, 115, 0)
        with ctx.workprec(plan.prec):
            up = upper_delta(composer.composed(plan, "remove", True, eps), eps)
            lo = lower_delta(composer.composed(plan, "remove", False, eps), eps)
        gaps.append(float(up - lo))
    assert gaps[1] < 0.33 * gaps[0]
    assert gaps[1] < 1.2e-11


def _profile(measure: pld_pilot.Composed) -> Callable[[np.ndarray], np.ndarray]:
    """The float profile x -> D(x) of a composed pilot measure (on [l_i, l_{i+1}) it is
    ``S1 - e^x S2`` with the sums over the nodes above; 0 above the top node)."""
    m = np.maximum(measure.masses, 0.0)
    loss = (measure.first + np.arange(m.size)) * measure.h
    s1 = np.append(np.cumsum(m[::-1])[::-1], 0.0)
    s2 = np.append(np.cumsum((m * np.exp(-loss))[::-1])[::-1], 0.0)

    def profile(x: np.ndarray) -> np.ndarray:
        i = np.clip(np.searchsorted(loss, x, side="right"), 0, m.size)
        return s1[i] - np.exp(x) * s2[i]

    return profile


@pytest.mark.large  # the unmerged one-step discretisation at h = 2^-17 takes ~25 s
def test_merged_intervals_stay_within_their_checked_span() -> None:
    """A delta(eps) query deep in the tail (sigma 1, q 0.001, T = 10^4, eps 0.6939, delta
    ~1.1e-8) weighs the one-step losses near eps most, where the mass falls steeply: an interval
    aimed 2^13 nodes ahead ran over 4.5 10^4 nodes there, beyond the span the merging rule had
    checked, and the merged lower bound lost 4.5e-3 of delta at h = 2^-17 (more at finer h).
    Measured to first order -- T sum_l (m_fine - m_merged)(l) D_rest(eps - l), D_rest the
    pilot's composed profile -- merging now costs under 1e-3 of delta."""
    eps = 0.6939
    composer = Composer(check_phases([("1", "0.001", 10_000)]))
    start = pilot_start(composer, ["remove", "add"], 1e-3, lambda c: c.delta(eps), 1 << 19, eps,
                        lambda b: max(b, 1e-300))
    assert start is not None
    rule = start[2]["remove"]
    phases = [(1.0, 0.001, 10_000)]
    scale = math.sqrt(10_000 * loss_moments(1.0, 0.001, "remove")[1])
    found = pld_pilot.estimate(phases, "remove", scale, lambda c: c.delta(eps))
    assert found is not None
    profile = _profile(found[0].rest)
    h = Fraction(1, 131072)
    values = []
    for coarsening in (rule, None):
        with ctx.workprec(115):
            grid = lower_discretisation(Fraction(1), Fraction(1, 1000), h, "remove", 82, 1e-18,
                                        coarsening)
        m = np.array([float(c) for c in grid.poly.coeffs()]) * 2.0**-82
        loss = float(grid.shift) + (grid.offset + np.arange(m.size)) * float(h)
        values.append(float(np.sum(m * profile(eps - loss))))
    merged, fine = values
    delta = found[0].value
    assert 0 <= 10_000 * (fine - merged) < 1e-3 * delta


@pytest.mark.parametrize(("s", "q", "kind", "node", "h"),
                         [(2.0, 0.001, "remove", 0.0, 2.0**-20),
                          (1.0, 0.01, "remove", 0.01, 2.0**-14),
                          (0.5, 0.1, "remove", 0.9, 2.0**-10),
                          (1.0, 0.01, "add", -0.02, 2.0**-14),
                          (0.8, 0.05, "replace", 0.1, 2.0**-12)])
def test_chain_matches_the_one_interval_solver(s: float, q: float, kind: str, node: float,
                                               h: float) -> None:
    """The chain of consecutive intervals solved at once (Newton on the bidiagonal system of
    balance conditions) puts every end where the one-interval solver, run interval after
    interval from the same start, puts it (to well within the solver's own tolerance), and each
    interval's float barycentre lies just past its node."""
    pair = Pair(s, q, kind)
    up = kind != "add"
    k0 = math.floor(node / h)
    start = pair.y_of((k0 - 0.5) * h if up else (k0 + 0.5) * h)
    limit = 40.0 if up else -40.0
    ends, losses = _chain(pair, start, k0, 0.0, h, up, limit, None)
    assert len(ends) >= 20
    y = start
    for i, end in enumerate(ends):
        k = k0 + i if up else k0 - i
        solved = _solve(pair, y, k * h, up, limit)
        assert solved is not None
        assert abs(end - solved) <= 1e-7 * abs(solved - y)
        low, high = (y, end) if up else (end, y)
        p, qm = pair.masses(pair.tails(low), pair.tails(high))
        assert abs(math.log(p / qm) - k * h) < 5e-11
        assert losses[i] == pytest.approx(pair.loss(end), abs=1e-12)
        y = end


def test_chain_stops_where_the_sweep_would_skip_a_node() -> None:
    """A chain started off-centre (its first interval's end lands past the next node) is
    refused or cut short: every interval it returns but the last ends between its node and the
    next, so the sweep's rule would aim the following interval at the next node."""
    pair = Pair(1.0, 0.01, "remove")
    h = 2.0**-12
    k0 = 100
    for offset in (-0.5, -0.9, -0.99, -1.4):
        start = pair.y_of((k0 + offset) * h)
        ends, losses = _chain(pair, start, k0, 0.0, h, True, 40.0, None)
        for i, loss in enumerate(losses[:-1]):
            assert math.floor(loss / h + 1e-3) == k0 + i


@pytest.mark.parametrize("skip", [4, 16, 64])
def test_overrun_check_agrees_with_the_solver(skip: int) -> None:
    """The shortcut that aims a merged interval closer without solving it answers as the
    solved interval's length would (far in the tail, where barycentres lag behind)."""
    pair = Pair(1.0, 0.001, "remove")
    h = 2.0**-14
    for start_loss in (0.01, 0.02, 0.03):
        y = pair.y_of(start_loss)
        target = start_loss + skip * h
        span = 3 * skip * h
        solved = _solve(pair, y, target, True, 40.0)
        beyond = solved is None or pair.loss(solved) - start_loss > span
        assert _overruns(pair, y, start_loss, target, span, True, 40.0) == beyond


@pytest.mark.parametrize(("s", "q", "kind", "node", "h"),
                         [(1.0, 0.01, "remove", 0.01, 2.0**-12),
                          (1.0, 0.001, "remove", 0.002, 2.0**-14),
                          (0.5, 0.1, "remove", 0.9, 2.0**-9),
                          (1.0, 0.01, "add", -0.02, 2.0**-12),
                          (0.8, 0.05, "replace", 0.1, 2.0**-11)])
@pytest.mark.parametrize("offset", [0.0, 0.3, -0.35])
def test_split_group_returns_the_ends_to_the_middles(s: float, q: float, kind: str, node: float,
                                                     h: float, offset: float) -> None:
    """From an end off the middles between nodes (on a node, or 0.3 of a node from one), the
    split group -- [y, cut) plus the fraction alpha of the next interval K -- has its float
    barycentre just past its node, K (and so (1 - alpha) K) just past the next one, and K's
    far end lies within 0.05 h of the middle past that node, where centred intervals keep the
    sweep."""
    pair = Pair(s, q, kind)
    up = kind != "add"
    sign = 1 if up else -1
    k0 = round(node / h)
    y_loss = (k0 + offset) * h
    y = pair.y_of(y_loss)
    limit = 40.0 * sign
    assert _off_phase(y_loss / h)
    plan = _split_plan(pair, y, y_loss, 0.0, h, up, limit)
    assert plan is not None
    assert plan.t == k0 + sign
    alpha = plan.alpha(_AIMS[0])
    assert alpha is not None and 0 <= alpha < 1

    def between(a: float, b: float) -> tuple[float, float]:
        low, high = (a, b) if up else (b, a)
        return pair.masses(pair.tails(low), pair.tails(high))

    p_a, q_a = between(y, plan.y_cut)
    p_k, q_k = between(plan.y_cut, plan.y_far)
    assert abs(math.log((p_a + alpha * p_k) / (q_a + alpha * q_k)) - plan.t * h) < 5e-11
    assert abs(math.log(p_k / q_k) - (plan.t + sign) * h) < 5e-11
    far = pair.loss(plan.y_far) / h
    assert abs(far - (plan.t + 1.5 * sign)) < 0.05


@pytest.mark.parametrize(("sigma", "q", "h"), [("1", "0.001", Fraction(39, 262144)),
                                               ("1", "0.1", Fraction(21, 2048)),
                                               ("1/2", "0.01", Fraction(25, 2048))])
def test_lower_grid_uses_every_node_where_the_mass_is(sigma: str, q: str, h: Fraction) -> None:
    """Without the split groups the sweep's ends drifted onto the nodes on these steps (the
    first grids of issue 5's cells with sigma <= 1) and stayed there: every other node carried
    no mass, the intervals were 2h wide and the lower bound's error four times that of
    centred ones. Past the first 20 nodes (the bounded end) and up to where the mass above falls
    below 1e-6 (no merging: every interval is aimed at the next node), at most 2% of the nodes
    carry no mass (a split group's first part may span two)."""
    with ctx.workprec(96):
        grid = lower_discretisation(Fraction(sigma), Fraction(q), h, "remove", 64, 1e-15)
    m = np.array([float(c) for c in grid.poly.coeffs()])
    above = np.cumsum(m[::-1])[::-1] / m.sum()
    hi = int(np.flatnonzero(above >= 1e-6)[-1])
    assert hi - 20 > 50
    assert np.count_nonzero(m[20:hi + 1]) >= 0.98 * (hi - 19)


@pytest.mark.parametrize(("sigma", "q", "h", "kind"),
                         [("2", "0.001", Fraction(5, 131072), "remove"),
                          ("1", "0.1", Fraction(21, 2048), "add"),
                          ("1", "0.01", Fraction(23, 16384), "replace")])
def test_sweep_cdfs_at_reduced_precision_give_the_same_grid(monkeypatch: pytest.MonkeyPatch,
                                                             sigma: str, q: str, h: Fraction,
                                                             kind: str) -> None:
    """The sweep's CDFs at bits + 8 (here 72 of the ambient 96) certify the same intervals on
    the same nodes as at the ambient precision; each node's mass, rounded down to 2^-64, loses
    at most a few units to the wider balls."""
    grids = []
    for guard in (1000, 8):
        monkeypatch.setattr("certify.accounting.pld_lower._CDF_GUARD", guard)
        with ctx.workprec(96):
            grids.append(lower_discretisation(Fraction(sigma), Fraction(q), h, kind, 64, 1e-15))
    full, reduced = ([int(c) for c in g.poly.coeffs()] for g in grids)
    assert grids[0].offset == grids[1].offset and grids[0].shift == grids[1].shift
    assert len(full) == len(reduced)
    assert [c != 0 for c in full] == [c != 0 for c in reduced]
    assert all(0 <= a - b <= 8 for a, b in zip(full, reduced, strict=True))


@pytest.mark.parametrize(("sigma", "q", "h", "direction"),
                         [("1", "0.01", Fraction(1, 512), "remove"),
                          ("1", "0.01", Fraction(1, 512), "add"),
                          ("1/2", "0.1", Fraction(1, 256), "remove")])
def test_split_groups_keep_the_lower_grid_below_the_truth(monkeypatch: pytest.MonkeyPatch,
                                                          sigma: str, q: str, h: Fraction,
                                                          direction: str) -> None:
    """A one-step lower grid with split groups (counted: the test fails if none was made) has a
    certified profile below the closed form's (SubsampledGaussian) at orders on and between its
    nodes."""
    made = []
    plan = pld_lower._split_plan

    def counted(*args: object) -> object:
        found = plan(*args)  # type: ignore[arg-type]
        if found is not None:
            made.append(found)
        return found

    monkeypatch.setattr(pld_lower, "_split_plan", counted)
    with ctx.workprec(128):
        grid = lower_discretisation(Fraction(sigma), Fraction(q), h, direction, 80, 1e-20)
    assert made
    mech = SubsampledGaussian(sigma, q)
    for eps in (Fraction(0), Fraction(1, 7), h * 5, Fraction(1, 2), Fraction(1)):
        with ctx.workprec(128):
            low = Bound.from_arb(delta_ball(grid, eps)).lower
        assert low <= mech.direction_delta(eps, direction).upper
