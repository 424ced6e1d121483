"""The claim and certificate model (DESIGN.md, "The types that travel").

A :class:`Claim` is metadata plus a ``check``; running the check yields an :class:`Outcome`
(evidence + verdict), which the runner wraps into a :class:`Certificate` with the environment.
Serialisation (canonical JSON, sha256, schema) lives in :mod:`certify.report`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Union

from certify.errors import InvalidArgument
from certify.numerics.bound import Bound

EvidenceKind = Literal["symbolic", "certified", "statistical", "cross-check"]
EVIDENCE_KINDS: tuple[str, ...] = ("symbolic", "certified", "statistical", "cross-check")
Status = Literal["confirmed", "refuted", "inconclusive"]
STATUSES: tuple[str, ...] = ("confirmed", "refuted", "inconclusive")

#: a value inside evidence: a certified Bound, or plain JSON data (finite floats only for
#: statistical summaries and display; certified quantities are always Bounds)
Value = Union[Bound, str, int, float, bool, None, Sequence["Value"], Mapping[str, "Value"]]


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: ``kind`` (symbolic | certified | statistical | cross-check),
    ``method`` (what was computed, and how), ``values`` (Bounds and data), the working
    precision in bits (0 when not applicable) and the seconds it took."""

    kind: EvidenceKind
    method: str
    values: Mapping[str, Value]
    prec: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            raise InvalidArgument(f"kind={self.kind!r} must be one of {', '.join(EVIDENCE_KINDS)}.")


@dataclass(frozen=True)
class Verdict:
    """``confirmed`` | ``refuted`` | ``inconclusive``.

    A refuted verdict carries the certified ``counterexample`` (its parameters and the Bounds that
    decide it); an inconclusive one carries the ``reason``.
    """

    status: Status
    summary: str
    counterexample: Mapping[str, Value] | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidArgument(f"status={self.status!r} must be one of {', '.join(STATUSES)}.")
        if self.status == "refuted" and not self.counterexample:
            raise InvalidArgument("counterexample=None: a refuted verdict needs a counterexample.")
        if self.status == "inconclusive" and not self.reason:
            raise InvalidArgument("reason=None: an inconclusive verdict needs a reason.")


@dataclass(frozen=True)
class Outcome:
    """What a claim's check returns."""

    evidence: tuple[Evidence, ...]
    verdict: Verdict


@dataclass(frozen=True)
class ClaimInfo:
    """The serialisable metadata of a claim (IDs exactly as in CLAIMS.md)."""

    id: str
    title: str
    source: str
    statement: str
    domain: str
    derived_from: str | None = None


@dataclass(frozen=True)
class Claim:
    """A claim: metadata plus the check that certifies it.

    ``figure``, when given, draws the claim's figure from its outcome into the given path (SVG).
    """

    info: ClaimInfo
    check: Callable[[], Outcome]
    figure: Callable[[Outcome, str], None] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(frozen=True)
class Certificate:
    """Claim metadata + evidence + verdict + environment. Its sha256 is computed over the
    canonical JSON by :mod:`certify.report.certificate` (timings are excluded from the hash)."""

    claim: ClaimInfo
    evidence: tuple[Evidence, ...]
    verdict: Verdict
    environment: Mapping[str, str]
    generated_at: str = ""
