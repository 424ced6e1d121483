"""Verify a certificate file: well-formed, untampered and, on request, reproducible.

Checks, in order (``certify verify FILE [--recompute]``):

1. the file exists, is JSON (NaN and Infinity literals refused) and declares the certificate
   ``format`` (other JSON, such as a reports folder's ``index.json``, stops here);
2. it validates against the schema (:mod:`certify.report.schema`; skipped with a note when
   ``jsonschema`` is not installed) and reads back as a :class:`Certificate`;
3. the stored ``sha256`` equals the sha256 of the canonical JSON of its hashed part
   (tampering with anything but the unhashed ``run`` timings is detected);
4. with ``recompute``: the claim is looked up in the registry and its check re-run; the
   verdict status must be the same, the claim metadata must be that of the registered claim,
   and every Bound in the stored evidence (and counterexample) must overlap the Bound at the
   same path in the recomputed one. Two valid enclosures of the same number always overlap,
   so disjoint bounds prove that one of them is false; that is a failure, reported with the
   path and both intervals.

Problems are collected, never raised: a missing file or invalid JSON is ``ok=False`` with a
message. A bug inside a re-run check (any exception other than ``Inconclusive``, which the
runner turns into a verdict) propagates, as in :func:`certify.claims.runner.run_check`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certify.claims import registry, runner
from certify.claims.model import Certificate, Value
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.report.certificate import (
    FORMAT,
    certificate_from_json,
    certificate_sha256,
    check_hash,
    loads_strict,
)
from certify.report.schema import have_jsonschema, schema_problems

_Path = tuple[str | int, ...]


@dataclass
class VerifyResult:
    """The outcome of verifying one file: ``ok`` is True exactly when ``problems`` is empty.

    ``notes`` holds remarks that are not failures (a check that could not run here).
    """

    path: str
    claim_id: str | None
    ok: bool
    problems: list[str]
    notes: list[str] = field(default_factory=list)


def verify_file(path: str | os.PathLike[str], recompute: bool = False) -> VerifyResult:
    """Verify the certificate at ``path`` (see the module docstring for the checks)."""
    name = str(path)
    problems: list[str] = []
    notes: list[str] = []

    def done(claim_id: str | None) -> VerifyResult:
        return VerifyResult(name, claim_id, not problems, problems, notes)

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(f"{name}: no such file")
        return done(None)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{name}: cannot be read ({exc})")
        return done(None)
    try:
        data = loads_strict(text)
    except ValueError as exc:
        problems.append(f"{name}: not valid JSON ({exc})")
        return done(None)

    claim_id = _claim_id(data)
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt != FORMAT:
        problems.append(f"{name}: not a certify-dp certificate (format={fmt!r}, "
                        f"expected {FORMAT!r})")
        return done(claim_id)
    if have_jsonschema():
        problems.extend(schema_problems(data))
    else:
        notes.append("jsonschema is not installed: schema validation skipped "
                     "(the structural checks of the reader still ran)")

    cert: Certificate | None
    try:
        cert = certificate_from_json(data)
    except InvalidArgument as exc:
        cert = None
        problems.append(f"malformed certificate: {exc}")

    if isinstance(data, dict):
        problems.extend(_hash_problems(data))

    if recompute:
        if cert is None:
            problems.append("recompute skipped: the certificate could not be read")
        else:
            problems.extend(recompute_problems(cert))
    return done(claim_id)


def recompute_problems(cert: Certificate) -> list[str]:
    """Re-run the certificate's claim and list every disagreement (empty when consistent)."""
    if cert.claim.id.startswith("accountant/"):  # written by `certify accountant`
        from certify.report.accountants import recompute_accountant_problems

        return recompute_accountant_problems(cert)
    try:
        claim = registry.get(cert.claim.id)
    except InvalidArgument as exc:
        return [f"recompute: {exc}"]
    problems = [
        f"recompute: claim.{f.name} differs from the registered claim: "
        f"stored {getattr(cert.claim, f.name)!r}, registered {getattr(claim.info, f.name)!r}"
        for f in dataclasses.fields(cert.claim)
        if getattr(cert.claim, f.name) != getattr(claim.info, f.name)
    ]
    outcome = runner.run_check(claim)
    if outcome.verdict.status != cert.verdict.status:
        problems.append(
            f"recompute: verdict {cert.verdict.status!r} stored, "
            f"{outcome.verdict.status!r} recomputed ({outcome.verdict.summary})"
        )
    fresh = _tree(outcome.evidence, outcome.verdict.counterexample)
    for where, stored in _bounds(_tree(cert.evidence, cert.verdict.counterexample), ()):
        again = _lookup(fresh, where)
        if not isinstance(again, Bound):
            problems.append(
                f"recompute: {_fmt(where)}: stored {stored} has no Bound at this path "
                "in the recomputed evidence"
            )
        elif not stored.overlaps(again):
            problems.append(
                f"recompute: {_fmt(where)}: stored {stored} and recomputed {again} are "
                "disjoint, so one of them is not a valid enclosure"
            )
    return problems


def _hash_problems(data: dict[str, Any]) -> list[str]:
    stored = data.get("sha256")
    if not isinstance(stored, str):
        return ["sha256 is missing"]
    if check_hash(data):
        return []
    try:
        again = certificate_sha256(data)
    except (TypeError, ValueError) as exc:
        return [f"sha256 cannot be recomputed ({exc})"]
    return [
        f"sha256 mismatch: stored {stored}, recomputed {again}: "
        "the hashed content was changed after the certificate was written"
    ]


def _claim_id(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("claim"), dict):
        cid = data["claim"].get("id")
        return cid if isinstance(cid, str) else None
    return None


def _tree(evidence: Any, counterexample: Mapping[str, Value] | None) -> dict[str, Any]:
    """The Bound-bearing parts of a certificate, addressed like its JSON."""
    return {
        "evidence": [{"values": ev.values} for ev in evidence],
        "verdict": {"counterexample": counterexample},
    }


def _bounds(value: Any, where: _Path) -> Iterator[tuple[_Path, Bound]]:
    if isinstance(value, Bound):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _bounds(item, (*where, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _bounds(item, (*where, i))


def _lookup(root: Any, where: _Path) -> Any:
    node = root
    for part in where:
        in_seq = isinstance(part, int) and isinstance(node, (list, tuple)) and part < len(node)
        in_map = isinstance(part, str) and isinstance(node, Mapping) and part in node
        if not (in_seq or in_map):
            return None
        node = node[part]
    return node


def _fmt(where: _Path) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


__all__ = ["VerifyResult", "recompute_problems", "verify_file"]
