"""Certificate <-> JSON: the layout, the canonical form and its sha256 (DESIGN.md, "The types
that travel").

Layout (``certify-dp/certificate/1``)::

    {"format": "certify-dp/certificate/1",
     "claim": {id, title, source, statement, domain, derived_from},
     "evidence": [{"kind", "method", "values", "prec"}, ...],
     "verdict": {"status", "summary", "counterexample", "reason"},
     "environment": {name: version},
     "sha256": "<hex>",
     "run": {"generated_at": "<iso time>", "seconds": [per evidence]}}

The ``sha256`` is taken over the canonical JSON (sorted keys, compact separators, UTF-8, no NaN)
of everything except ``sha256`` and ``run``: timestamps and timings are not hashed, so
re-running an unchanged check in an unchanged environment reproduces the hash.

A :class:`~certify.numerics.bound.Bound` inside evidence or a counterexample is written as
``{"lower": "<decimal>", "upper": "<decimal>", "prec": <bits>}``; the decimal strings are the
outward-rounded endpoints themselves, so the JSON alone is a valid enclosure. ``prec`` is
written because ``Bound`` equality includes it (lossless round trip); a reader also accepts
the two-key form ``{"lower", "upper"}`` (prec 0). This shape (exactly those keys, with string
endpoints) is reserved: a plain mapping of that shape is refused on writing, so reading can
never confuse it with a Bound (``{"lower": Bound, "upper": Bound}`` is an ordinary mapping).
Tuples and lists both become JSON arrays and are read back as :class:`JsonArray`, a tuple that
compares equal to a list or a tuple with equal items, so a read-back certificate compares
equal to the original.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from certify.claims.model import (
    EVIDENCE_KINDS,
    STATUSES,
    Certificate,
    ClaimInfo,
    Evidence,
    Value,
    Verdict,
)
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound

#: the value of the ``format`` key; bump the trailing number on an incompatible change
FORMAT = "certify-dp/certificate/1"

#: our decimal text (as written by ``Bound.to_json``): plain or scientific, or +-Infinity
DECIMAL_PATTERN = r"^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?|-?Infinity)$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)

_BOUND_KEYS = frozenset({"lower", "upper"})
_BOUND_KEYS_PREC = frozenset({"lower", "upper", "prec"})
_CLAIM_KEYS = ("id", "title", "source", "statement", "domain", "derived_from")
_TOP_KEYS = frozenset({"format", "claim", "evidence", "verdict", "environment", "sha256", "run"})
_UNHASHED = ("sha256", "run")


class JsonArray(tuple):
    """A JSON array read back from a certificate: an immutable sequence that compares equal to
    any list or tuple with equal items (the writer turns both into arrays)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = tuple.__hash__


# -- canonical form and hash ---------------------------------------------------------------


def canonical_json(obj: Any) -> bytes:
    """The canonical bytes that are hashed: sorted keys, compact, UTF-8, NaN refused."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def hashed_part(data: Mapping[str, Any]) -> dict[str, Any]:
    """Everything in a certificate's JSON except ``sha256`` and ``run``."""
    return {k: v for k, v in data.items() if k not in _UNHASHED}


def certificate_sha256(data: Mapping[str, Any]) -> str:
    """The sha256 (hex) of the canonical JSON of :func:`hashed_part`."""
    return hashlib.sha256(canonical_json(hashed_part(data))).hexdigest()


def check_hash(data: Mapping[str, Any]) -> bool:
    """Whether the stored ``sha256`` equals the recomputed one (False when absent or unhashable)."""
    stored = data.get("sha256")
    if not isinstance(stored, str):
        return False
    try:
        return stored == certificate_sha256(data)
    except (TypeError, ValueError):
        return False


# -- values ----------------------------------------------------------------------------------


def value_to_json(value: Value, where: str = "value") -> Any:
    """JSON data for an evidence value; ``where`` names its path in error messages."""
    if isinstance(value, Bound):
        return {**value.to_json(), "prec": value.prec}
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{where}={value} must be finite.")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgument(f"{where} key {key!r} must be a str.")
            out[key] = value_to_json(item, f"{where}.{key}")
        if _bound_shaped(out):
            raise InvalidArgument(
                f"{where}={dict(value)!r} has the reserved keys of a Bound; use a Bound or rename."
            )
        return out
    if isinstance(value, (list, tuple)):
        return [value_to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise InvalidArgument(
        f"{where}={value!r} has type {type(value).__name__}; evidence values are Bounds, "
        "str, int, finite float, bool, None, lists and str-keyed mappings of these."
    )


def value_from_json(data: Any, where: str = "value") -> Value:
    """The evidence value for JSON data (inverse of :func:`value_to_json`)."""
    if data is None or isinstance(data, (str, bool, int)):
        return data
    if isinstance(data, float):
        if not math.isfinite(data):
            raise InvalidArgument(f"{where}={data} must be finite.")
        return data
    if isinstance(data, list):
        return JsonArray(value_from_json(item, f"{where}[{i}]") for i, item in enumerate(data))
    if isinstance(data, dict):
        if _bound_shaped(data):
            return bound_from_json(data, where)
        out: dict[str, Value] = {}
        for key, item in data.items():
            if not isinstance(key, str):
                raise InvalidArgument(f"{where} key {key!r} must be a str.")
            out[key] = value_from_json(item, f"{where}.{key}")
        return out
    raise InvalidArgument(f"{where}={data!r} is not JSON data.")


def _bound_shaped(obj: Mapping[str, Any]) -> bool:
    """The reserved shape: keys ``lower``, ``upper`` (and optionally ``prec``), both strings."""
    return (
        frozenset(obj) in (_BOUND_KEYS, _BOUND_KEYS_PREC)
        and isinstance(obj["lower"], str)
        and isinstance(obj["upper"], str)
    )


def bound_from_json(data: Mapping[str, Any], where: str = "bound") -> Bound:
    """Read ``{"lower": "<decimal>", "upper": "<decimal>"[, "prec": bits]}`` exactly."""
    lower, upper = data.get("lower"), data.get("upper")
    ends: list[Decimal] = []
    for name, text in (("lower", lower), ("upper", upper)):
        if not isinstance(text, str) or not _DECIMAL_RE.fullmatch(text):
            raise InvalidArgument(f"{where}.{name}={text!r} is not a decimal string.")
        try:
            ends.append(Decimal(text))
        except InvalidOperation:
            raise InvalidArgument(f"{where}.{name}={text!r} is out of range.") from None
    prec = data.get("prec", 0)
    if isinstance(prec, bool) or not isinstance(prec, int) or prec < 0:
        raise InvalidArgument(f"{where}.prec={prec!r} must be a non-negative int.")
    try:
        return Bound(ends[0], ends[1], prec)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc}") from None


# -- certificate -----------------------------------------------------------------------------


def certificate_to_json(cert: Certificate) -> dict[str, Any]:
    """The JSON data of a certificate, ``sha256`` included (see the module docstring)."""
    for i, ev in enumerate(cert.evidence):
        if not (isinstance(ev.seconds, (int, float)) and math.isfinite(ev.seconds)):
            raise InvalidArgument(f"evidence[{i}].seconds={ev.seconds!r} must be finite.")
    data: dict[str, Any] = {
        "format": FORMAT,
        "claim": {key: getattr(cert.claim, key) for key in _CLAIM_KEYS},
        "evidence": [
            {
                "kind": ev.kind,
                "method": ev.method,
                "values": _mapping_to_json(ev.values, f"evidence[{i}].values"),
                "prec": ev.prec,
            }
            for i, ev in enumerate(cert.evidence)
        ],
        "verdict": {
            "status": cert.verdict.status,
            "summary": cert.verdict.summary,
            "counterexample": None
            if cert.verdict.counterexample is None
            else _mapping_to_json(cert.verdict.counterexample, "verdict.counterexample"),
            "reason": cert.verdict.reason,
        },
        "environment": _environment_to_json(cert.environment),
    }
    try:
        data["sha256"] = certificate_sha256(data)
    except UnicodeEncodeError as exc:
        raise InvalidArgument(f"certificate text is not valid Unicode ({exc}).") from None
    data["run"] = {
        "generated_at": cert.generated_at,
        "seconds": [float(ev.seconds) for ev in cert.evidence],
    }
    return data


def certificate_from_json(data: Any) -> Certificate:
    """The certificate for JSON data (strict: unknown keys and wrong types are refused).

    Raises :class:`~certify.errors.InvalidArgument` naming the offending path. Does not check
    the hash: see :func:`check_hash`.
    """
    obj = _expect(data, dict, "certificate")
    _exact_keys(obj, _TOP_KEYS, "certificate")
    if obj["format"] != FORMAT:
        raise InvalidArgument(f"format={obj['format']!r} must be {FORMAT!r}.")
    claim_data = _expect(obj["claim"], dict, "claim")
    _exact_keys(claim_data, frozenset(_CLAIM_KEYS), "claim")
    for key in _CLAIM_KEYS:
        if key == "derived_from" and claim_data[key] is None:
            continue
        _expect(claim_data[key], str, f"claim.{key}")
    claim = ClaimInfo(**{key: claim_data[key] for key in _CLAIM_KEYS})

    run = _expect(obj["run"], dict, "run")
    _exact_keys(run, frozenset({"generated_at", "seconds"}), "run")
    generated_at = _expect(run["generated_at"], str, "run.generated_at")
    seconds = _expect(run["seconds"], list, "run.seconds")
    items = _expect(obj["evidence"], list, "evidence")
    if len(seconds) != len(items):
        raise InvalidArgument(
            f"run.seconds has {len(seconds)} entries but evidence has {len(items)}."
        )
    evidence = tuple(
        _evidence_from_json(item, sec, f"evidence[{i}]")
        for i, (item, sec) in enumerate(zip(items, seconds, strict=True))
    )

    ver = _expect(obj["verdict"], dict, "verdict")
    _exact_keys(ver, frozenset({"status", "summary", "counterexample", "reason"}), "verdict")
    status = _expect(ver["status"], str, "verdict.status")
    if status not in STATUSES:
        raise InvalidArgument(f"verdict.status={status!r} must be one of {', '.join(STATUSES)}.")
    counter = ver["counterexample"]
    reason = ver["reason"]
    if reason is not None:
        _expect(reason, str, "verdict.reason")
    verdict = Verdict(
        status,
        _expect(ver["summary"], str, "verdict.summary"),
        None if counter is None else _mapping_from_json(counter, "verdict.counterexample"),
        reason,
    )

    env = _expect(obj["environment"], dict, "environment")
    for key, val in env.items():
        _expect(val, str, f"environment.{key}")
    sha = _expect(obj["sha256"], str, "sha256")
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise InvalidArgument(f"sha256={sha!r} must be 64 lowercase hex digits.")
    return Certificate(claim, evidence, verdict, dict(env), generated_at)


def _evidence_from_json(item: Any, seconds: Any, where: str) -> Evidence:
    ev = _expect(item, dict, where)
    _exact_keys(ev, frozenset({"kind", "method", "values", "prec"}), where)
    kind = _expect(ev["kind"], str, f"{where}.kind")
    if kind not in EVIDENCE_KINDS:
        raise InvalidArgument(f"{where}.kind={kind!r} must be one of {', '.join(EVIDENCE_KINDS)}.")
    prec = ev["prec"]
    if isinstance(prec, bool) or not isinstance(prec, int) or prec < 0:
        raise InvalidArgument(f"{where}.prec={prec!r} must be a non-negative int.")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise InvalidArgument(f"run.seconds for {where}={seconds!r} must be a number.")
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidArgument(f"run.seconds for {where}={seconds!r} must be finite and >= 0.")
    return Evidence(
        kind,
        _expect(ev["method"], str, f"{where}.method"),
        _mapping_from_json(ev["values"], f"{where}.values"),
        prec,
        float(seconds),
    )


def _environment_to_json(env: Mapping[str, str]) -> dict[str, str]:
    for key, val in env.items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise InvalidArgument(f"environment[{key!r}]={val!r}: keys and values must be str.")
    return dict(env)


def _mapping_to_json(values: Mapping[str, Value], where: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise InvalidArgument(f"{where}={values!r} must be a mapping.")
    out: dict[str, Any] = {}
    for key, item in values.items():
        if not isinstance(key, str):
            raise InvalidArgument(f"{where} key {key!r} must be a str.")
        out[key] = value_to_json(item, f"{where}.{key}")
    return out


def _mapping_from_json(data: Any, where: str) -> dict[str, Value]:
    obj = _expect(data, dict, where)
    return {key: value_from_json(item, f"{where}.{key}") for key, item in obj.items()}


def _expect(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        name = _JSON_NAMES.get(kind, kind.__name__)
        raise InvalidArgument(f"{where}={value!r} must be a {name}.")
    return value


_JSON_NAMES: dict[type, str] = {dict: "JSON object", list: "JSON array", str: "string"}


def _exact_keys(obj: Mapping[str, Any], keys: frozenset[str], where: str) -> None:
    missing = sorted(keys - obj.keys())
    extra = sorted(obj.keys() - keys)
    if missing:
        raise InvalidArgument(f"{where} is missing {', '.join(missing)}.")
    if extra:
        raise InvalidArgument(f"{where} has unknown keys {', '.join(map(str, extra))}.")


# -- files -----------------------------------------------------------------------------------


def loads_strict(text: str) -> Any:
    """Parse JSON, refusing the non-standard constants NaN, Infinity and -Infinity."""

    def _refuse(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON (numbers must be finite)")

    return json.loads(text, parse_constant=_refuse)


def dumps_pretty(data: Any) -> str:
    """The deterministic on-disk text: sorted keys, indent 2, UTF-8 text, trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) via a temporary file and an atomic rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_certificate(cert: Certificate, path: str | os.PathLike[str]) -> None:
    """Write the certificate's JSON (pretty, sorted keys, trailing newline) to ``path``."""
    write_text_atomic(path, dumps_pretty(certificate_to_json(cert)))


def read_certificate(path: str | os.PathLike[str]) -> tuple[Certificate, str]:
    """Read a certificate file: ``(certificate, stored sha256)``.

    Raises :class:`~certify.errors.InvalidArgument` when the file is missing, is not JSON or is
    not a well-formed certificate. The hash is not checked here (see :func:`check_hash` and
    :func:`certify.report.verify.verify_file`).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"path={str(path)!r} cannot be read: {exc}") from None
    try:
        data = loads_strict(text)
    except ValueError as exc:
        raise InvalidArgument(f"path={str(path)!r} is not valid JSON: {exc}") from None
    cert = certificate_from_json(data)
    return cert, data["sha256"]


__all__ = [
    "DECIMAL_PATTERN",
    "FORMAT",
    "JsonArray",
    "bound_from_json",
    "canonical_json",
    "certificate_from_json",
    "certificate_sha256",
    "certificate_to_json",
    "check_hash",
    "dumps_pretty",
    "hashed_part",
    "loads_strict",
    "read_certificate",
    "value_from_json",
    "value_to_json",
    "write_certificate",
    "write_text_atomic",
]
