"""Run a claim's check and wrap the outcome into a Certificate.

An :class:`~certify.errors.Inconclusive` raised anywhere inside a check becomes an
``inconclusive`` verdict carrying its reason; any other exception propagates (a bug is never
reported as a verdict).
"""

from __future__ import annotations

import datetime
import platform
import time
from importlib import metadata

from certify.claims.model import Certificate, Claim, Outcome, Verdict
from certify.errors import Inconclusive


def environment() -> dict[str, str]:
    """Versions of certify and of the libraries that the evidence depends on."""
    env = {"python": platform.python_version()}
    for dist in ("certify-dp", "python-flint", "mpmath", "sympy", "numpy", "scipy"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "not installed"
    return env


def run_check(claim: Claim) -> Outcome:
    """The claim's outcome; Inconclusive becomes an inconclusive verdict."""
    start = time.perf_counter()
    try:
        return claim.check()
    except Inconclusive as exc:
        seconds = time.perf_counter() - start
        return Outcome(
            evidence=(),
            verdict=Verdict(
                "inconclusive",
                f"{claim.id}: the evidence did not reach a definite answer ({seconds:.1f} s)",
                reason=exc.reason,
            ),
        )


def certify_claim(claim: Claim) -> Certificate:
    outcome = run_check(claim)
    return Certificate(
        claim=claim.info,
        evidence=outcome.evidence,
        verdict=outcome.verdict,
        environment=environment(),
        generated_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
