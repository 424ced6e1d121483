"""The QEM and HYP claim checks end to end: their verdicts, counterexamples and figures
(heavier checks behind the ``large`` marker)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from certify.claims.registry import get
from certify.claims.runner import run_check
from certify.numerics.bound import Bound


@pytest.mark.parametrize("claim_id, status", [
    ("QEM-1", "confirmed"), ("QEM-3", "confirmed"), ("QEM-4", "refuted"),
    ("QEM-4.c", "confirmed"), ("HYP-1", "confirmed"),
])
def test_fast_verdicts(claim_id: str, status: str) -> None:
    outcome = run_check(get(claim_id))
    assert outcome.verdict.status == status, outcome.verdict


def test_qem2_counterexample_and_figure(tmp_path: Path) -> None:
    claim = get("QEM-2")
    outcome = run_check(claim)
    assert outcome.verdict.status == "refuted"
    ce = outcome.verdict.counterexample
    assert ce is not None
    delta = ce["certified_delta_at_eps0"]
    assert isinstance(delta, Bound) and delta.gt(Fraction(1, 100)) is True
    assert run_check(get("QEM-2.c")).verdict.status == "confirmed"
    assert claim.figure is not None
    path = tmp_path / "qem2.svg"
    claim.figure(outcome, str(path))
    assert path.read_text().lstrip().startswith("<?xml")


@pytest.mark.large
@pytest.mark.parametrize("claim_id, status", [("QEM-5", "confirmed"), ("HYP-2", "confirmed")])
def test_heavy_verdicts(claim_id: str, status: str, tmp_path: Path) -> None:
    claim = get(claim_id)
    outcome = run_check(claim)
    assert outcome.verdict.status == status, outcome.verdict
    if claim.figure is not None:
        claim.figure(outcome, str(tmp_path / "f.svg"))
        assert (tmp_path / "f.svg").stat().st_size > 1000


def test_hyp1_figure(tmp_path: Path) -> None:
    claim = get("HYP-1")
    assert claim.figure is not None
    claim.figure(run_check(claim), str(tmp_path / "hyp1.svg"))
    assert (tmp_path / "hyp1.svg").stat().st_size > 1000
