"""Claims ACC-2..ACC-4 (certify/claims/accounting.py) and the peer-consistency check
(certify/accounting/peers.py).

The checks must be able to fail: an unsound conversion planted next to the real ones must turn
ACC-4 into a certified refutation with its counterexample, and a closed form moved off the truth
must make ACC-2's cross-check disagree. ACC-2's full grid is heavy (behind ``large``)."""

from __future__ import annotations

import importlib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import certify.claims.accounting as acc
from certify.accounting.peers import PRV_LOWER_ABOVE_UPPER, peer_findings
from certify.claims.registry import BUILTIN_MODULES, get
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound

#: the module itself (``certify.accounting.rdp`` as an attribute is the re-exported function)
rdp_module = importlib.import_module("certify.accounting.rdp")


def test_registered_in_the_catalogue() -> None:
    assert "certify.claims.accounting" in BUILTIN_MODULES
    for claim_id in ("ACC-2", "ACC-3", "ACC-4"):
        assert get(claim_id).id == claim_id
    assert get("ACC-4").figure is not None


def test_acc3_is_confirmed_with_cross_checks() -> None:
    out = acc.check_acc3()
    assert out.verdict.status == "confirmed", out.verdict
    kinds = [e.kind for e in out.evidence]
    assert kinds == ["certified", "cross-check"]
    values = out.evidence[0].values["divergences"]
    assert isinstance(values, dict) and len(values) == len(acc.RDP_GRID)
    row = values["sigma=1.5,q=1"]
    assert isinstance(row, dict)
    cell = row["2"]
    assert isinstance(cell, dict)
    # q = 1: alpha / (2 sigma^2) = 2 / 4.5 in both directions and their maximum
    for key in ("remove", "add", "rdp"):
        b = cell[key]
        assert isinstance(b, Bound) and b.contains(Fraction(4, 9))


@pytest.fixture
def small_acc4(monkeypatch: pytest.MonkeyPatch) -> None:
    """ACC-4 on three points (the full check takes ~10 s)."""
    monkeypatch.setattr(acc, "SWEEP_T", (1, 100))
    monkeypatch.setattr(acc, "EXTRA_POINTS", (("0.001", "2", 1, "1e-3"),))


@pytest.mark.usefixtures("small_acc4")
def test_acc4_is_confirmed_and_its_figure_is_drawn(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = acc.check_acc4()
    assert out.verdict.status == "confirmed", out.verdict
    points = out.evidence[0].values["points"]
    assert isinstance(points, dict)
    kl = points["q=0.001,sigma=2,T=1,delta=1e-3"]
    assert isinstance(kl, dict)
    shortcut = kl["kl-tv"]
    assert isinstance(shortcut, dict) and shortcut["verdict"] == "sound"
    eps = shortcut["epsilon"]
    assert isinstance(eps, Bound) and eps.lower == eps.upper == 0
    path = tmp_path / "acc4.svg"
    acc.figure_acc4(out, str(path))
    assert path.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.usefixtures("small_acc4")
def test_acc4_refutes_an_unsound_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 'conversion' that halves Balle et al.'s eps is below the certified truth somewhere: the
    check must return a certified counterexample."""
    def halved(rdp_value: Bound, order: object, delta: object) -> Bound:
        b = rdp_module.balle_epsilon(rdp_value, order, delta)
        return Bound(b.lower / 2, b.upper / 2, b.prec)

    monkeypatch.setitem(rdp_module.CONVERSIONS, "halved", halved)
    out = acc.check_acc4()
    assert out.verdict.status == "refuted"
    ce = out.verdict.counterexample
    assert ce is not None and ce["conversion"] == "halved"
    conv, pld = ce["converted_epsilon"], ce["pld_epsilon"]
    assert isinstance(conv, Bound) and isinstance(pld, Bound) and conv.lt(pld) is True


def test_acc2_cross_check_disagreement_is_inconclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    """A q = 1 'closed form' off the truth is disjoint from the grid enclosure: ACC-2 must not be
    confirmed. (Only the cross-check part runs: the grids are patched to tiny ones.)"""
    monkeypatch.setattr(acc, "EPSILON_CELLS", (("0.1", "2", 10, "1e-3"),))
    monkeypatch.setattr(acc, "WIDTH_CELLS", ())
    monkeypatch.setattr(acc, "DIRECTION_CELLS", ())
    monkeypatch.setattr(acc, "DELTA_CELLS", ())
    monkeypatch.setattr(acc, "GAUSS_CELLS", (("2", 4, acc.LOOSE),))
    monkeypatch.setattr(acc, "ONE_STEP_CELLS", ())
    assert acc.check_acc2().verdict.status == "confirmed"

    class Shifted(acc.GaussianMechanism):
        def epsilon(self, delta: object, target: object = None) -> Bound:
            b = super().epsilon(delta)
            return Bound(b.lower + 1, b.upper + 1, b.prec)

    monkeypatch.setattr(acc, "GaussianMechanism", Shifted)
    out = acc.check_acc2()
    assert out.verdict.status == "inconclusive" and "disjoint" in (out.verdict.reason or "")


@pytest.mark.large
def test_acc2_full_check_is_confirmed() -> None:
    out = acc.check_acc2()
    assert out.verdict.status == "confirmed", out.verdict
    widths = out.evidence[1].values
    assert all(isinstance(v, dict) and v["at_most_1e-3"] is True for v in widths.values())


# -- peer findings ------------------------------------------------------------------------------
ROLES = {"lower": "lower", "estimate": "estimate", "upper": "upper"}


def test_peer_findings_flag_each_inconsistency_exactly() -> None:
    ours = Bound.from_strings("127.8584", "127.9059")  # q=0.1, sigma=1, T=1e4, delta=1e-5
    reported = float(str(PRV_LOWER_ABOVE_UPPER["eps_lower"]))
    found = peer_findings(ours, {"lower": reported, "estimate": 127.95, "upper": 127.97}, ROLES,
                          "prv")
    assert [f.kind for f in found] == ["lower-above-upper"]
    assert "127.934" in found[0].describe()
    found = peer_findings(ours, {"lower": 127.80, "estimate": 127.85, "upper": 127.8583},
                          ROLES, "prv")
    assert [f.kind for f in found] == ["estimate-below-lower", "upper-below-lower"]
    # the boundary itself is consistent (a float is its exact binary value)
    edge = Bound(Decimal(0.5), Decimal(0.75), 0)
    assert peer_findings(edge, {"lower": 0.75, "estimate": 0.5, "upper": 0.5}, ROLES, "p") == []
    # inf and nan claim nothing inconsistent
    assert peer_findings(ours, {"upper": float("inf"), "estimate": float("nan")}, ROLES, "p") == []


def test_peer_findings_bad_input() -> None:
    with pytest.raises(InvalidArgument, match="certified="):
        peer_findings(1.0, {}, {}, "p")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="roles"):
        peer_findings(Bound.exact(1), {"eps": 1.0}, {"eps": "median"}, "p")
