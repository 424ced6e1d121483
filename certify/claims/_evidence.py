"""Helpers shared by claim modules: JSON-safe evidence values and symbolic evidence from proofs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import cast

from certify.claims.model import Evidence, Value
from certify.numerics.bound import Bound


def jsonable(x: object) -> Value:
    """A value as evidence data: Bounds stay; exact Fractions become exact text ("p/q" or a
    terminating decimal); numpy scalars become Python numbers; containers recurse (keys as text)."""
    if isinstance(x, Bound) or x is None or isinstance(x, (bool, str)):
        return cast(Value, x)
    if isinstance(x, int):
        return x
    if isinstance(x, Fraction):
        exact = Bound.exact(x)
        return str(exact.lower) if exact.lower == exact.upper else f"{x.numerator}/{x.denominator}"
    if isinstance(x, float):
        return x
    if isinstance(x, Mapping):
        return {str(jsonable(k)) if not isinstance(k, str) else k: jsonable(v)
                for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    item = getattr(x, "item", None)  # numpy scalar
    if callable(item):
        return jsonable(item())
    return str(x)


def symbolic_evidence(method: str, proofs: Iterable[Callable[[], object]]) -> tuple[Evidence, bool]:
    """Run sympy derivations from ``proofs/`` and wrap their records; also whether all passed."""
    start = time.perf_counter()
    records = [proof() for proof in proofs]
    ok = all(getattr(r, "ok", False) for r in records)
    values = {"proofs": [cast(Value, r.to_json()) for r in records]}  # type: ignore[attr-defined]
    return Evidence("symbolic", method, values, 0, time.perf_counter() - start), ok


def bounds_back(obj: object) -> object:
    """JSON with ``{"lower": str, "upper": str}`` enclosures (e.g. from :mod:`certify.audit`'s
    ``to_json``) turned back into Bounds: the certificate format reserves that shape for Bounds."""
    if isinstance(obj, dict):
        if set(obj) == {"lower", "upper"} and all(isinstance(v, str) for v in obj.values()):
            return Bound.from_strings(obj["lower"], obj["upper"])
        return {k: bounds_back(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [bounds_back(v) for v in obj]
    return obj
