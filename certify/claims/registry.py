"""The claim registry: claim modules call :func:`register`; ``certify run`` calls :func:`select`."""

from __future__ import annotations

import fnmatch
import importlib
import re

from certify.claims.model import Claim
from certify.errors import InvalidArgument

_REGISTRY: dict[str, Claim] = {}

#: modules that register the built-in catalogue (one per source, DESIGN.md)
BUILTIN_MODULES: tuple[str, ...] = (
    "certify.claims.reference_curves",
    "certify.claims.accounting",
    "certify.claims.lora_noise",
    "certify.claims.lora_training",
    "certify.claims.expmech",
    "certify.claims.hypernet",
    "certify.claims.wishart",
    "certify.claims.wishart_attacks",
    "certify.claims.wishart_noisy",
    "certify.claims.smp",
)


def register(claim: Claim) -> Claim:
    """Add a claim; registering a second, different claim under the same ID is an error."""
    existing = _REGISTRY.get(claim.id)
    if existing is not None and existing is not claim and existing.info != claim.info:
        raise InvalidArgument(f"id={claim.id!r} is already registered.")
    _REGISTRY[claim.id] = claim
    return claim


def load_builtin_claims() -> None:
    for name in BUILTIN_MODULES:
        importlib.import_module(name)


def _natural_key(claim_id: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", claim_id)]


def all_claims() -> list[Claim]:
    load_builtin_claims()
    return [_REGISTRY[k] for k in sorted(_REGISTRY, key=_natural_key)]


def get(claim_id: str) -> Claim:
    load_builtin_claims()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        raise InvalidArgument(f"claim={claim_id!r} is not a registered claim ID.") from None


def select(patterns: str | None = None) -> list[Claim]:
    """Claims whose ID matches any of the comma-separated glob patterns (all when None).

    A pattern that matches nothing is an error, so a typo never yields an empty green run.
    """
    claims = all_claims()
    if patterns is None or patterns.strip() in ("", "*"):
        return claims
    chosen: list[Claim] = []
    for pattern in (p.strip() for p in patterns.split(",")):
        if not pattern:
            continue
        matched = [c for c in claims if fnmatch.fnmatchcase(c.id, pattern)]
        if not matched:
            raise InvalidArgument(f"claims={pattern!r} matches no registered claim.")
        chosen.extend(c for c in matched if c not in chosen)
    return sorted(chosen, key=lambda c: _natural_key(c.id))
