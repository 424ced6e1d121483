"""The optimistic one-step discretisation's float placement (certify.accounting.pld_lower):
each interval's barycentre lies just past its node by the aimed margin, not more, so a T-fold
composition is not shifted down by T times a coarse margin. Soundness (the lower bound stays
below the truth) is tested end to end in tests/test_pld.py."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from flint import ctx

from certify.accounting.pld_compose import Composer, Plan, check_phases
from certify.accounting.pld_invert import lower_delta, upper_delta
from certify.accounting.pld_lower import _AIMS, Pair, _solve


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
