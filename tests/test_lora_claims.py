"""Tests for the LDP claim modules' own logic (certify.claims.lora_noise, lora_training): the
numbers their summaries state are computed from certified values and rounded in the safe
direction, the grid is the one documented, and the LDP-1 / LDP-6 figures and verdicts come out
of the same cached data. (The distance grid itself is certified and tested in
tests/test_lora_law.py; running it here would take half a minute.)"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from certify.claims import lora_noise, lora_training
from certify.numerics.bound import Bound


@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=Fraction(1, 10**30), max_value=Fraction(10**6)),
       st.integers(1, 4))
def test_up_rounds_up_and_down_rounds_down(x: Fraction, digits: int) -> None:
    up = lora_noise._up(x, digits)
    assert Fraction(Decimal(up)) >= x
    assert Fraction(Decimal(up)) <= x * (1 + Fraction(1, 10 ** (digits - 1)))
    down = lora_noise._down(x, digits)
    assert Fraction(Decimal(down)) <= x
    assert x - Fraction(Decimal(down)) < Fraction(1, 10**digits)


def test_up_edge_cases() -> None:
    assert lora_noise._up(Fraction(1, 10)) == "1.0e-01"
    assert lora_noise._up(Fraction(99_999, 1_000_000)) == "1.0e-01"
    assert lora_noise._up(Fraction(2201, 10**8)) == "2.3e-05"
    assert lora_noise._up(Fraction(0)) == "0"


def _fake_grid(values: dict[tuple[int, int | None, str], tuple[str, str]]
               ) -> dict[str, dict[str, object]]:
    return {lora_noise._label(r, m, profile): {"tv_paper_normal": Bound.from_strings(lo, hi)}
            for (r, m, profile), (lo, hi) in values.items()}


def test_limit_gap_uses_the_far_ends() -> None:
    ranks = lora_noise.GRID_R
    values: dict[tuple[int, int | None, str], tuple[str, str]] = {}
    for j, r in enumerate(ranks):
        values[(r, None, lora_noise.FLAT)] = ("0.1", "0.1001")
        values[(r, 10_000, lora_noise.FLAT)] = ("0.1002", "0.1003") if j == 0 else ("0.1", "0.1")
    grid = _fake_grid(values)
    assert lora_noise.limit_gap(grid) == Fraction(3, 10_000)  # 0.1003 - 0.1


def test_grid_is_the_documented_one() -> None:
    points = lora_noise.grid_points()
    assert {r for r, _, _ in points} == {1, 2, 3, 4, 8, 16, 64, 128, 256}
    assert {m for _, m, p in points if p == lora_noise.FLAT} == {10, 100, 10_000, None}
    assert {m for _, m, p in points if p == lora_noise.SPIKED} == {10, 100, 10_000}
    assert len(points) == len(set(points)) == 9 * 4 + 9 * 3
    assert "1, 2, 3, 4, 8, 16, 64, 128, 256" in lora_noise.LDP4C.domain


def test_decade_points() -> None:
    assert lora_training._decade_point(4) == Fraction(1, 100)
    for k in (1, 3, 59):
        p = lora_training._decade_point(k)
        assert p > Fraction(1, 10) ** k / p  # p^2 > 10^-k: just above 10^(-k/2)
        assert abs(math.log10(p) + k / 2) < 1e-15


def test_ldp1_verdict_and_figure(tmp_path: Path) -> None:
    outcome = lora_training.check_ldp1()
    assert outcome.verdict.status == "refuted"
    cases, sweep, _, _, _ = lora_training._ldp1_data()
    case = cases["eta_L=1/10,T=4"]
    # the summary's numbers are the certified ones
    assert lora_training._num(case["fA_norm"]) in outcome.verdict.summary
    assert lora_training._num(case["theorem_bound"]) in outcome.verdict.summary
    up_to = lora_training._violated_up_to(sweep)
    assert up_to is not None and f"to {up_to}" in outcome.verdict.summary
    # the T = 4 analysis in lora_dynamics: violated exactly when 2x + x^2 + x^3 < 1, x = (eta L)^2
    for e in lora_training.SWEEP_ETA_L:
        x = Fraction(e) ** 2
        expected = 2 * x + x * x + x**3 < 1
        assert (sweep[f"eta_L={e}"]["violated"] is True) == expected, e
    path = tmp_path / "LDP-1.svg"
    lora_training.figure_ldp1(outcome, str(path))
    assert ET.parse(path).getroot().tag.endswith("svg")


def test_ldp6_verdict_boundary_and_figure(tmp_path: Path) -> None:
    outcome = lora_training.check_ldp6()
    assert outcome.verdict.status == "refuted"
    grid, boundary, curves, _ = lora_training._ldp6_data()
    example = grid["Delta=1/2,p=1e-20"]
    assert example["decision"] == "fails"
    assert f"{float(example['ratio'].mid):.2f} p" in outcome.verdict.summary
    for d in lora_training.GRID_DELTAS:
        row = boundary[f"Delta={d}"]
        if not row["certified_holds_for_every_p_above_p_star"]:
            continue
        p_star = row["p_star"]
        # the claim holds on the grid at every p above p*, fails at grid p in the failing step
        for p in lora_training.GRID_PS:
            check = grid[f"Delta={d},p={p}"]
            if Fraction(p) > Fraction(p_star.upper):
                assert check["decision"] == "holds", (d, p)
        for point in curves[f"Delta={d}"]:
            if point["p"] > Fraction(p_star.upper):
                assert point["decision"] == "holds", (d, point["p"])
    path = tmp_path / "LDP-6.svg"
    lora_training.figure_ldp6(outcome, str(path))
    assert ET.parse(path).getroot().tag.endswith("svg")


def test_ldp7_and_ldp8_summaries_state_certified_numbers() -> None:
    ldp7 = lora_training.check_ldp7()
    assert ldp7.verdict.status == "refuted"
    assert "r = 187" in ldp7.verdict.summary and "F ~ 4.8e-20" in ldp7.verdict.summary
