"""Accountant verification (issue 6): verdicts on deliberately broken accountants and on correct
ones, the tolerance policy, the forms (epsilon upper/lower, delta, RDP), errors, grids, JUnit,
certificates with ``verify --recompute``, and the CLI.

The correct accountants here are independent of the checker's references where it matters:
the analytic Gaussian mechanism is a float ``scipy.optimize.brentq`` root of Balle and Wang's
closed form (Thm 8) in ``scipy.stats``; the RDP of the Gaussian is the textbook
``alpha T / (2 sigma^2)`` with Mironov's conversion (Prop. 3). For q < 1 the "correct" accountant
reports the certified upper end of our own engine (rounded up to a float), which isolates the
verdict logic. No peer library is needed (tests/test_accountant_adapters.py covers those).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from scipy import optimize, stats

from certify.accountants.adapters import Adapter, from_callable, load_target
from certify.accountants.check import (
    TOLERANCE,
    Tolerance,
    check_accountant,
    judged_value,
)
from certify.accountants.grid import GRIDS, Grid, cell, grid_from_json, load_grid
from certify.accountants.junit import to_junit
from certify.accountants.reference import References
from certify.accounting.pld import composed_delta, composed_epsilon
from certify.cli import main
from certify.errors import InvalidArgument
from certify.mechanisms.gaussian import GaussianMechanism
from certify.numerics.precision import Target
from certify.report import verify_file
from certify.report.accountants import (
    certificate_for,
    read_accountant_index,
    write_accountant_reports,
)
from certify.testing import AccountantUnsound, assert_sound

ORDERS = (1.5, 2.0, 8.0)
#: q = 1: the T-fold composition is the Gaussian mechanism with sigma / sqrt(T) (closed forms)
GAUSS = Grid("gauss", (cell(1.0, 1.0, 10, 1e-6), cell(2.0, 1.0, 4, 1e-5),
                       cell(0.8, 1.0, 1, 1e-5)), ORDERS, max_level=0)
#: q < 1: one step (closed form), a short composition (PLD) where the add direction is far below
MIXED = Grid("mixed", (cell(1.0, 0.5, 1, 1e-2), cell(0.5, 0.9, 3, 1e-5)), ORDERS, max_level=0)


@pytest.fixture(scope="module")
def refs() -> References:
    return References()


# -- accountants --------------------------------------------------------------------------------
def _log_delta_gaussian(sigma: float, eps: float) -> float:
    """Balle and Wang 2018, Thm 8, in floats: delta = Phi(1/(2s) - eps s) - e^eps Phi(-1/(2s) -
    eps s) for sensitivity 1 and noise s (written with scipy's log-CDF)."""
    a = stats.norm.logcdf(1 / (2 * sigma) - eps * sigma)
    b = eps + stats.norm.logcdf(-1 / (2 * sigma) - eps * sigma)
    return a + math.log1p(-math.exp(b - a))


def analytic_gaussian(*, noise_multiplier: float, sample_rate: float, steps: int,
                      delta: float) -> float:
    """A correct float accountant for q = 1 (ignores q: valid for every q, exact at q = 1)."""
    s = noise_multiplier / math.sqrt(steps)
    hi = 1.0
    while _log_delta_gaussian(s, hi) > math.log(delta):
        hi *= 2
    return float(optimize.brentq(lambda e: _log_delta_gaussian(s, e) - math.log(delta), 0.0, hi,
                                 xtol=1e-12))


def _float_up(x: Any) -> float:
    return math.nextafter(float(x), math.inf)


def certified_upper(*, noise_multiplier: float, sample_rate: float, steps: int,
                    delta: float) -> float:
    """Correct by construction: the certified upper end of the true epsilon, rounded up."""
    b = composed_epsilon([(noise_multiplier, sample_rate, steps)], delta)
    return _float_up(b.upper)


def scaled(factor: float) -> Any:
    def acc(**kw: Any) -> float:
        return factor * analytic_gaussian(**kw)
    return acc


def one_direction(direction: str) -> Any:
    def acc(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        b = composed_epsilon([(noise_multiplier, sample_rate, steps)], delta,
                             neighbours=direction)
        return _float_up(b.upper)
    return acc


def rdp_gaussian(conversion: str) -> Any:
    """RDP accountant for q = 1: rho(alpha) = T alpha / (2 sigma^2), then a conversion optimised
    over a fine set of orders. ``mironov``: rho + log(1/delta)/(alpha - 1) (Mironov 2017,
    Prop. 3, correct); ``log10``: the same with log10 (a wrong conversion)."""
    log = math.log if conversion == "mironov" else math.log10

    def acc(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        orders = [1 + k / 100 for k in range(1, 5000)]
        return min(steps * a / (2 * noise_multiplier**2) + log(1 / delta) / (a - 1)
                   for a in orders)
    return acc


def capped(cap: float, wrap: bool = False) -> Any:
    def acc(**kw: Any) -> float:
        eps = analytic_gaussian(**kw)
        return eps % cap if wrap else min(eps, cap)
    return acc


def verdicts(report: Any) -> list[str]:
    return [r.verdict for r in report.results]


# -- broken accountants are flagged, correct ones are not ----------------------------------------
def test_correct_float_accountant_is_sound_within_tolerance(refs: References) -> None:
    rep = check_accountant(analytic_gaussian, GAUSS, references=refs)
    assert verdicts(rep) == ["tight"] * 3, [r.note for r in rep.results]
    assert rep.ok and rep.exit_code == 0
    # the closed-form references separate a brentq answer from the truth: proven, not undecided
    assert all(r.proof == "sound" for r in rep.results)


def test_correct_accountant_for_subsampled_cells(refs: References) -> None:
    rep = check_accountant(certified_upper, MIXED, references=refs)
    assert "unsound" not in verdicts(rep) and rep.ok


@pytest.mark.parametrize("factor", [0.99, 1 - 1e-6])
def test_scaled_down_epsilon_is_unsound(refs: References, factor: float) -> None:
    rep = check_accountant(scaled(factor), GAUSS, references=refs)
    assert verdicts(rep) == ["unsound"] * 3
    assert rep.exit_code == 1
    for r in rep.results:  # the certified delta at the reported epsilon exceeds the target
        assert r.delta_at_reported is not None and r.delta is not None
        assert r.delta_at_reported.gt(Fraction(r.delta)) is True
        assert r.excess is not None and r.excess.upper < 0


def test_only_the_add_direction_is_unsound_where_remove_dominates(refs: References) -> None:
    rep = check_accountant(one_direction("add"), MIXED, references=refs)
    assert verdicts(rep) == ["unsound", "unsound"]
    # the remove direction dominates on these cells: an accountant of it alone is not flagged
    ok = check_accountant(one_direction("remove"), MIXED, references=refs)
    assert "unsound" not in verdicts(ok)


def test_wrong_conversion_formula_is_unsound(refs: References) -> None:
    grid = Grid("one", GAUSS.cells[:1], ORDERS, 0)
    assert verdicts(check_accountant(rdp_gaussian("log10"), grid, references=refs)) == ["unsound"]
    right = check_accountant(rdp_gaussian("mironov"), grid, references=refs)
    assert verdicts(right) == ["loose"]  # sound, and RDP is conservative by more than 1%
    assert right.results[0].excess is not None and right.results[0].excess.lower > 0.01


def test_capping_or_wrapping_epsilon_is_unsound(refs: References) -> None:
    # the first cell's epsilon is about 19.42; the others are below 16
    assert verdicts(check_accountant(capped(16.0), GAUSS, references=refs)) == [
        "unsound", "tight", "tight"]
    assert verdicts(check_accountant(capped(16.0, wrap=True), GAUSS, references=refs))[0] == \
        "unsound"


# -- the tolerance policy ------------------------------------------------------------------------
def test_tolerance_policy_at_the_1e12_level(refs: References) -> None:
    sigma, steps, delta = 1.0, 10, 1e-6
    truth = GaussianMechanism(sigma, compositions=steps).epsilon(delta, Target(rel=1e-25))
    true = Fraction(truth.lower)  # within 1e-25 of the truth

    def at(rel: float) -> Any:
        def acc(**_: Any) -> float:
            return float(true * (1 - Fraction(rel)))
        return acc

    grid = Grid("one", GAUSS.cells[:1], ORDERS, 0)
    assert verdicts(check_accountant(at(5e-13), grid, references=refs)) == ["tight"]
    assert verdicts(check_accountant(at(1e-10), grid, references=refs)) == ["unsound"]
    # without the tolerance, the 5e-13 understatement is provably unsound
    strict = Tolerance(rel=0.0, absolute=0.0, rdp_rel=0.0)
    assert verdicts(check_accountant(at(5e-13), grid, references=refs,
                                     tolerance=strict)) == ["unsound"]


def test_judged_value_moves_in_the_accountants_favour() -> None:
    e = 2.5
    assert judged_value(e, "upper") == Fraction("2.500000000003500000")
    assert judged_value(e, "lower") == Fraction("2.499999999996500000")
    assert judged_value(e, "delta") == Fraction(e) * (1 + Fraction(1, 10**12))
    assert judged_value(e, "rdp") == Fraction(e) * (1 + Fraction(1, 10**9))
    with pytest.raises(InvalidArgument, match="kind='x'"):
        judged_value(e, "x")
    with pytest.raises(InvalidArgument, match="tolerance.rel"):
        Tolerance(rel=-1.0)
    assert "1e-12" in TOLERANCE.describe() and TOLERANCE.to_json()["rdp_rel"] == "1e-09"


# -- forms ---------------------------------------------------------------------------------------
def test_lower_bound_form(refs: References) -> None:
    grid = Grid("one", GAUSS.cells[:1], ORDERS, 0)

    def make(factor: float) -> Adapter:
        def eps(**kw: Any) -> float:
            return factor * analytic_gaussian(**kw)
        return Adapter("lower", epsilon=eps, bound="lower")

    assert verdicts(check_accountant(make(1.01), grid, references=refs)) == ["unsound"]
    assert verdicts(check_accountant(make(0.9), grid, references=refs)) == ["loose"]
    assert verdicts(check_accountant(make(1.0 - 1e-6), grid, references=refs)) == ["tight"]


def test_delta_form(refs: References) -> None:
    def delta_for(factor: float) -> Any:
        def acc(*, noise_multiplier: float, sample_rate: float, steps: int,
                epsilon: float) -> float:
            b = GaussianMechanism(noise_multiplier, compositions=steps).delta(epsilon)
            return factor * _float_up(b.upper)
        return acc

    good = check_accountant(delta_for(1.0), GAUSS, references=refs)
    assert [r.form for r in good.results] == ["delta"] * 3
    assert verdicts(good) == ["tight"] * 3
    assert all(r.at_epsilon is not None and r.at_epsilon > 0 for r in good.results)
    assert verdicts(check_accountant(delta_for(0.99), GAUSS, references=refs)) == ["unsound"] * 3


def test_rdp_form(refs: References) -> None:
    def rdp_for(factor: float) -> Any:
        def rdp(*, noise_multiplier: float, sample_rate: float, orders: list[float]) -> list[float]:
            return [factor * a / (2 * noise_multiplier**2) for a in orders]
        return rdp

    def eps(**kw: Any) -> float:
        return analytic_gaussian(**kw)

    grid = Grid("one", GAUSS.cells[:1], ORDERS, 0)
    good = check_accountant(Adapter("rdp", epsilon=eps, rdp=rdp_for(1.0)), grid, references=refs)
    assert [r.form for r in good.results] == ["epsilon", "rdp", "rdp", "rdp"]
    assert verdicts(good) == ["tight"] * 4
    bad = check_accountant(Adapter("rdp", rdp=rdp_for(0.999)), grid, references=refs)
    assert verdicts(bad) == ["unsound"] * 3


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "fragment"), [
    (math.nan, "nan"), (math.inf, "inf"), (-1.0, "negative"), ("x", "not a number"),
    (True, "boolean")])
def test_bad_answers_are_errors(refs: References, value: Any, fragment: str) -> None:
    rep = check_accountant(lambda **_: value, Grid("one", GAUSS.cells[:1], ORDERS, 0),
                           references=refs)
    assert verdicts(rep) == ["error"] and fragment in rep.results[0].note
    assert rep.exit_code == 0


def test_raising_accountant_is_an_error(refs: References) -> None:
    def boom(**_: Any) -> float:
        raise ZeroDivisionError("no")

    rep = check_accountant(boom, Grid("one", GAUSS.cells[:1], ORDERS, 0), references=refs)
    assert verdicts(rep) == ["error"] and "ZeroDivisionError" in rep.results[0].note


# -- targets and grids ---------------------------------------------------------------------------
def test_from_callable_detects_the_forms() -> None:
    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        return 1.0

    def dlt(*, noise_multiplier: float, sample_rate: float, steps: int, epsilon: float) -> float:
        return 1e-5

    assert from_callable(eps).forms() == ["epsilon"]
    assert from_callable(dlt).forms() == ["delta"]
    eps.delta_for_epsilon = dlt  # type: ignore[attr-defined]
    assert from_callable(eps).forms() == ["epsilon", "delta"]
    assert load_target("math:sqrt").forms() == ["epsilon"]
    with pytest.raises(InvalidArgument, match="target='nosuch'"):
        load_target("nosuch")
    with pytest.raises(InvalidArgument, match="cannot be imported"):
        load_target("no_such_module_xyz:f")
    with pytest.raises(InvalidArgument, match="has no attribute"):
        load_target("math:nope")
    with pytest.raises(InvalidArgument, match="none of"):
        Adapter("x")


def test_grids(tmp_path: Path) -> None:
    assert len(GRIDS["quick"].cells) == 8 and GRIDS["quick"].max_level == 0
    assert len(GRIDS["default"].cells) == 33 and len(GRIDS["full"].cells) == 300
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"cells": [{"noise_multiplier": 1, "sample_rate": "0.5",
                                           "steps": 3, "delta": 1e-5}],
                                "rdp_orders": [2, 3], "max_level": 2}))
    g = load_grid(str(path))
    assert g.name == "g" and g.cells[0] == cell(1.0, 0.5, 3, 1e-5) and g.max_level == 2
    assert grid_from_json([{"noise_multiplier": 1, "sample_rate": 1, "steps": 1,
                            "delta": 0.1}]).rdp_orders
    for bad, fragment in [([], "non-empty"), ([{"noise_multiplier": 1}], "lacks"),
                          ([{"noise_multiplier": -1, "sample_rate": 1, "steps": 1,
                             "delta": 0.1}], "noise_multiplier"),
                          ([{"noise_multiplier": 1, "sample_rate": 1.5, "steps": 1,
                             "delta": 0.1}], "sample_rate"),
                          ([{"noise_multiplier": 1, "sample_rate": 1, "steps": 0,
                             "delta": 0.1}], "steps"),
                          ({"cells": [], "bogus": 1}, "unknown keys")]:
        with pytest.raises(InvalidArgument, match=fragment):
            grid_from_json(bad)
    with pytest.raises(InvalidArgument, match="neither a built-in grid"):
        load_grid("nosuch")


# -- reports: JUnit, certificates, verify --recompute, CLI, assert_sound --------------------------
def test_junit_one_testcase_per_cell(refs: References) -> None:
    rep = check_accountant(capped(16.0), GAUSS, references=refs)
    root = ET.fromstring(to_junit([rep]))
    cases = root.findall(".//testcase")
    assert len(cases) == 3 and root.get("failures") == "1"
    assert cases[0].find("failure") is not None and cases[1].find("failure") is None


def test_certificate_recompute_and_tamper(refs: References, tmp_path: Path) -> None:
    bad = check_accountant(scaled(0.99), GAUSS, references=refs)
    good = check_accountant(analytic_gaussian, GAUSS, references=refs)
    good.target = "analytic"
    paths = write_accountant_reports([bad, good], tmp_path)
    assert certificate_for(bad).verdict.status == "refuted"
    assert certificate_for(good).verdict.status == "confirmed"
    for p in paths:
        result = verify_file(p, recompute=True)
        assert result.ok, result.problems
    index = read_accountant_index(tmp_path)
    assert set(index) == {p.name for p in paths}
    assert "Other runs" in (tmp_path / "README.md").read_text()
    # tampering with a reported value breaks the hash
    data = json.loads(paths[0].read_text())
    data["evidence"][0]["values"]["cells"][0]["reported"] = "1e9"
    paths[0].write_text(json.dumps(data))
    assert any("sha256" in p for p in verify_file(paths[0]).problems)
    # a forged certificate (hash redone) whose verdict does not follow from its numbers
    from certify.report import certificate_sha256

    data = json.loads(paths[1].read_text())
    data["evidence"][0]["values"]["cells"][0]["verdict"] = "unsound"
    data["sha256"] = certificate_sha256(data)
    paths[1].write_text(json.dumps(data))
    problems = verify_file(paths[1], recompute=True).problems
    assert any("does not follow" in p for p in problems)
    assert any("verdict 'confirmed' stored" in p for p in problems)


def test_cli_module_function_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "my_acct.py").write_text(
        "def good(*, noise_multiplier, sample_rate, steps, delta):\n"
        "    return 50.0\n"
        "def low(*, noise_multiplier, sample_rate, steps, delta):\n"
        "    return 0.5\n")
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps([c.to_json() | {"steps": c.steps} for c in GAUSS.cells[:2]]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    junit = tmp_path / "out" / "junit.xml"
    code = main(["accountant", "my_acct:low", "--grid", str(grid), "--out", "certs",
                 "--junit", str(junit), "--json"])
    out = capsys.readouterr().out
    assert code == 1
    data = json.loads(out)
    assert data["unsound"] == 2 and not data["ok"]
    assert ET.parse(junit).getroot().get("failures") == "2"
    assert (tmp_path / "certs" / "my_acct_low.grid.json").is_file()
    assert main(["accountant", "my_acct:good", "--grid", str(grid), "--no-certificate"]) == 0
    assert "loose" in capsys.readouterr().out
    assert main(["accountant", "nosuch"]) == 2
    assert main(["accountant", "my_acct:good", "--grid", "nosuch.json"]) == 2


def test_assert_sound_fails_with_a_table(refs: References) -> None:
    with pytest.raises(AccountantUnsound) as info:
        assert_sound(capped(16.0), GAUSS, references=refs)
    text = str(info.value)
    assert "1 unsound" in text and "sigma=1 q=1 T=10" in text and "true value in" in text
    assert info.value.report.counts()["unsound"] == 1
    assert assert_sound(analytic_gaussian, GAUSS, references=refs).ok


def test_certified_upper_helper_is_consistent() -> None:
    """The helper accountant's answer is above the certified delta crossing: delta(e) <= delta."""
    e = certified_upper(noise_multiplier=0.5, sample_rate=0.9, steps=3, delta=1e-5)
    assert composed_delta([(0.5, 0.9, 3)], e).upper <= Fraction(1, 10**5) * (1 + Fraction(1, 100))


def test_regenerate_without_peer_libraries_writes_nothing(tmp_path: Path) -> None:
    from certify.report.accountants import regenerate_accountant_reports

    out = tmp_path / "accountants"
    message = regenerate_accountant_reports(out, names=[])
    assert "not regenerated" in message and not out.exists()
