"""certify.report.verify: tampering, malformed files, and recomputation against a throwaway
claim registered here (TEST-1: sqrt(2) by precision escalation).

Oracle for the throwaway claim: mpmath's sqrt(2) at 60 digits must lie in the certified Bound
(an independent library), so the "correct" certificate that verify accepts really is correct.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import mpmath
import pytest
from flint import arb

from certify.claims import registry
from certify.claims.model import Claim, ClaimInfo, Evidence, Outcome, Verdict
from certify.claims.runner import certify_claim
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.report import certificate_sha256, verify_file, write_certificate
from certify.report.schema import have_jsonschema

INFO = ClaimInfo("TEST-1", "sqrt(2) exceeds 1.414", "test", "sqrt(2) > 1.414", "none")


def _sqrt2_check() -> Outcome:
    root = escalate(lambda prec: arb(2).sqrt(), Target(rel=1e-12), what="sqrt(2)")
    square = escalate(lambda prec: arb(2).sqrt() ** 2, Target(absolute=1e-12), what="sqrt(2)^2")
    decided = root.gt(Decimal("1.414"))
    ev = Evidence("certified", "Arb sqrt, escalated", {
        "sqrt2": root,
        "nested": [{"square": square}, "label"],
    }, root.prec)
    if decided:
        return Outcome((ev,), Verdict("confirmed", "sqrt(2) > 1.414"))
    return Outcome((ev,), Verdict("refuted", "sqrt(2) <= 1.414", counterexample={"x": root}))


@pytest.fixture()
def test_claim(monkeypatch: pytest.MonkeyPatch) -> Claim:
    """TEST-1 in a private copy of the registry (builtins not loaded; restored afterwards)."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "BUILTIN_MODULES", ())
    return registry.register(Claim(INFO, _sqrt2_check))


@pytest.fixture()
def cert_file(test_claim: Claim, tmp_path: Path) -> Path:
    path = tmp_path / "TEST-1.json"
    write_certificate(certify_claim(test_claim), path)
    return path


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _save(path: Path, data: dict[str, Any], rehash: bool) -> None:
    if rehash:
        data["sha256"] = certificate_sha256(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_throwaway_claim_is_correct(cert_file: Path) -> None:
    root = Bound.from_strings(**{k: v for k, v in _load(cert_file)["evidence"][0]["values"]
                                 ["sqrt2"].items() if k != "prec"})
    with mpmath.workdps(60):
        assert root.contains(mpmath.sqrt(2))
    assert root.meets(rel=1e-12)


def test_correct_certificate_verifies(cert_file: Path) -> None:
    for recompute in (False, True):
        result = verify_file(cert_file, recompute=recompute)
        assert result.ok, result.problems
        assert result.claim_id == "TEST-1" and result.problems == []
        assert result.path == str(cert_file)


def test_unhashed_run_may_change(cert_file: Path) -> None:
    data = _load(cert_file)
    data["run"] = {"generated_at": "yesterday", "seconds": [123.0]}
    _save(cert_file, data, rehash=False)
    assert verify_file(cert_file).ok


@pytest.mark.parametrize("edit", [
    lambda d: d["evidence"][0]["values"]["sqrt2"].update(
        lower=d["evidence"][0]["values"]["sqrt2"]["lower"][:-1] + "0"),  # flip the last digit
    lambda d: d["verdict"].update(status="inconclusive", reason="tampered"),
    lambda d: d["claim"].update(title="something else"),
    lambda d: d["environment"].update(python="0.0"),
], ids=["bound-digit", "verdict", "title", "environment"])
def test_tampering_is_detected_without_recompute(cert_file: Path, edit: Any) -> None:
    data = _load(cert_file)
    before = json.dumps(data)
    edit(data)
    assert json.dumps(data) != before
    _save(cert_file, data, rehash=False)
    result = verify_file(cert_file)
    assert not result.ok
    assert any(p.startswith("sha256 mismatch") for p in result.problems), result.problems


@pytest.mark.parametrize("where", ["sqrt2", "nested"])
def test_disjoint_rehashed_bound_is_caught_only_by_recompute(cert_file: Path, where: str) -> None:
    data = _load(cert_file)
    values = data["evidence"][0]["values"]
    fake = {"lower": "1.5", "upper": "1.6", "prec": 64}
    if where == "sqrt2":
        values["sqrt2"] = fake
        path_text = "evidence[0].values.sqrt2"
    else:
        values["nested"][0]["square"] = fake
        path_text = "evidence[0].values.nested[0].square"
    _save(cert_file, data, rehash=True)
    assert verify_file(cert_file).ok  # the hash is consistent: only recomputation can tell
    result = verify_file(cert_file, recompute=True)
    assert not result.ok
    [problem] = result.problems
    assert path_text in problem and "[1.5, 1.6]" in problem and "disjoint" in problem
    fresh: Any = _sqrt2_check().evidence[0].values
    again = fresh["sqrt2"] if where == "sqrt2" else fresh["nested"][0]["square"]
    assert f"recomputed {again}" in problem


def test_wider_but_valid_bound_is_accepted(cert_file: Path) -> None:
    data = _load(cert_file)
    data["evidence"][0]["values"]["sqrt2"] = {"lower": "1.41", "upper": "1.42", "prec": 64}
    _save(cert_file, data, rehash=True)
    assert verify_file(cert_file, recompute=True).ok


def test_recompute_reports_verdict_claim_and_missing_bounds(cert_file: Path) -> None:
    data = _load(cert_file)
    data["verdict"].update(status="inconclusive", reason="made up")
    data["claim"]["statement"] = "sqrt(2) > 2"
    data["evidence"][0]["values"]["extra"] = {"lower": "1", "upper": "2"}
    _save(cert_file, data, rehash=True)
    assert verify_file(cert_file).ok
    problems = verify_file(cert_file, recompute=True).problems
    assert len(problems) == 3, problems
    assert any("verdict 'inconclusive' stored, 'confirmed' recomputed" in p for p in problems)
    assert any("claim.statement differs" in p for p in problems)
    assert any("evidence[0].values.extra" in p and "no Bound" in p for p in problems)


def test_recompute_unknown_claim(cert_file: Path) -> None:
    data = _load(cert_file)
    data["claim"]["id"] = "TEST-NOPE"
    _save(cert_file, data, rehash=True)
    result = verify_file(cert_file, recompute=True)
    assert not result.ok and result.claim_id == "TEST-NOPE"
    assert any("not a registered claim" in p for p in result.problems)


def test_missing_and_invalid_files(tmp_path: Path, cert_file: Path) -> None:
    missing = verify_file(tmp_path / "nope.json")
    assert not missing.ok and "no such file" in missing.problems[0] and missing.claim_id is None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = verify_file(bad, recompute=True)
    assert not result.ok and "not valid JSON" in result.problems[0]
    nan = tmp_path / "nan.json"
    nan.write_text(cert_file.read_text().replace('"seconds": [', '"seconds": [NaN, '),
                   encoding="utf-8")
    assert not verify_file(nan).ok
    for text in ("[1, 2]", '{"RPT-1": {"verdict": "confirmed"}}', '{"format": "other/1"}'):
        other = tmp_path / "other.json"
        other.write_text(text, encoding="utf-8")
        result = verify_file(other)
        assert not result.ok and result.problems == [
            f"{other}: not a certify-dp certificate (format="
            f"{json.loads(text).get('format') if text.startswith('{') else None!r}, "
            "expected 'certify-dp/certificate/1')"]


def test_schema_failures_are_reported(cert_file: Path) -> None:
    data = _load(cert_file)
    del data["verdict"]
    _save(cert_file, data, rehash=True)
    result = verify_file(cert_file, recompute=True)
    assert not result.ok
    if have_jsonschema():
        assert any(p.startswith("schema:") and "verdict" in p for p in result.problems)
    else:  # an environment without the (core) dependency: the reader's checks still run
        assert any("schema validation skipped" in n for n in result.notes)
    assert any(p.startswith("malformed certificate") for p in result.problems)
    assert any(p.startswith("recompute skipped") for p in result.problems)
