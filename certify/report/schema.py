"""The JSON Schema (draft 2020-12) of a certificate, shipped as ``certificate.schema.json``.

The schema is the published contract for tools outside certify. Validation uses the
``jsonschema`` package (a core dependency; should it be missing from an environment,
:func:`schema_problems` says so, and :func:`certify.report.certificate.certificate_from_json`,
which is at least as strict about structure, remains the check that certify itself relies on).
JSON Schema cannot see NaN (no JSON text can hold one, but a Python object can), so
:func:`schema_problems` also refuses non-finite numbers.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "certificate.schema.json"
#: how many schema errors are listed before the rest are counted
MAX_LISTED = 20


@cache
def _schema_text() -> str:
    return resources.files("certify.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def schema() -> dict[str, Any]:
    """A fresh copy of the certificate schema."""
    result: dict[str, Any] = json.loads(_schema_text())
    return result


def have_jsonschema() -> bool:
    """Whether the ``jsonschema`` package (a core dependency) can be imported."""
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return False
    return True


def schema_problems(data: Any) -> list[str]:
    """Messages for every way ``data`` fails the schema (empty when it is valid).

    Raises :class:`ImportError` when ``jsonschema`` is not installed (see :func:`have_jsonschema`).
    """
    import jsonschema

    problems = [f"{where}: {value!r} is not a finite number" for where, value in _non_finite(data)]
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.path)), e.message))
    for err in errors[:MAX_LISTED]:
        problems.append(f"schema: at {_path(err.absolute_path)}: {_short(err.message)}")
    if len(errors) > MAX_LISTED:
        problems.append(f"schema: ... and {len(errors) - MAX_LISTED} more errors")
    return problems


def _non_finite(data: Any, where: str = "$") -> list[tuple[str, float]]:
    if isinstance(data, float):
        return [] if math.isfinite(data) else [(where, data)]
    if isinstance(data, dict):
        return [hit for k, v in data.items() for hit in _non_finite(v, f"{where}.{k}")]
    if isinstance(data, list):
        return [hit for i, v in enumerate(data) for hit in _non_finite(v, f"{where}[{i}]")]
    return []


def _path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


__all__ = ["SCHEMA_FILE", "have_jsonschema", "schema", "schema_problems"]
