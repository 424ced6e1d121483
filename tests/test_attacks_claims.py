"""The WPM-6 claim check end to end: verdict, the audited numbers it reports, and its figure."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from certify.claims.wishart_attacks import check_wpm5, check_wpm6, figure_wpm5, figure_wpm6


def test_wpm6_confirmed_with_its_numbers(tmp_path: Path) -> None:
    outcome = check_wpm6()
    assert outcome.verdict.status == "confirmed"
    (stat,) = outcome.evidence
    attacks: Any = stat.values["attacks"]
    assert isinstance(attacks, dict)
    main = attacks["gram-asymmetry"]
    assert Fraction(main["auc"]["lower"]) > Fraction(99, 100)
    assert [t["fpr"] for t in main["tpr_at_fpr"]] == ["0.001", "0.01"]
    assert all(Fraction(t["tpr"]["lower"]) > Fraction(99, 100) for t in main["tpr_at_fpr"])
    eps = Fraction(main["epsilon_lower"]["epsilon_lower"])
    assert 4 < eps < 6  # 1000 trials per side cannot show more than ~ln(1000/7)
    for name in ("loss", "calibrated-loss"):  # black-box attacks: near chance
        assert Fraction(attacks[name]["auc"]["upper"]) < Fraction(3, 4)
    config: Any = stat.values["config"]
    assert config["trials"] == 1000
    pytest.importorskip("matplotlib")
    figure_wpm6(outcome, str(tmp_path / "wpm6.svg"))
    figure_wpm5(check_wpm5(), str(tmp_path / "wpm5.svg"))
    assert (tmp_path / "wpm6.svg").stat().st_size > 1000
    assert (tmp_path / "wpm5.svg").stat().st_size > 1000
