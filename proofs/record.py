"""``ProofRecord``: what a symbolic derivation returns.

``proofs`` imports sympy only, never ``certify`` (DESIGN.md): ``certify`` turns a ProofRecord into
``symbolic`` evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProofStep:
    """One machine-checked step: ``claim`` is what was checked, ``method`` how
    (``"simplify(lhs - rhs) == 0"``, ``"exact identity"``, ``"sympy.integrate"``), ``ok`` the
    result."""

    claim: str
    method: str
    ok: bool


@dataclass(frozen=True)
class ProofRecord:
    """A symbolic derivation: the statement, the derived expression (sympy ``srepr``-able string),
    the steps that were machine-checked, and the assumptions they rest on."""

    name: str
    statement: str
    result: str
    steps: tuple[ProofStep, ...]
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def ok(self) -> bool:
        """True when every step checked out (and there is at least one)."""
        return bool(self.steps) and all(s.ok for s in self.steps)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "statement": self.statement,
            "result": self.result,
            "steps": [{"claim": s.claim, "method": s.method, "ok": s.ok} for s in self.steps],
            "assumptions": list(self.assumptions),
            "source": self.source,
            "ok": self.ok,
        }
