"""One call for a full audit of attack scores: AUC, TPR at fixed FPRs, balanced accuracy and the
certified empirical eps lower bound (what ``certify audit`` prints).

Each interval holds at ``confidence`` on its own (they are not simultaneous); the eps bound
carries its own union bound over the thresholds it scans (:mod:`certify.audit.epsilon`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from certify._validate import check_probability
from certify.audit._scores import check_confidence, check_pair, exact_text
from certify.audit.epsilon import EpsilonLowerBound, epsilon_lower_bound
from certify.audit.metrics import (
    Accuracy,
    ConfidenceInterval,
    TprAtFpr,
    accuracy,
    auc,
    tpr_at_fpr,
)

__all__ = ["DEFAULT_FPRS", "AuditSummary", "audit_scores"]

#: the fixed false-positive rates reported by default
DEFAULT_FPRS: tuple[str, ...] = ("0.001", "0.01", "0.1")


@dataclass(frozen=True)
class AuditSummary:
    members: int
    nonmembers: int
    confidence: Fraction
    auc: ConfidenceInterval
    tpr_at_fpr: tuple[TprAtFpr, ...]
    accuracy: Accuracy
    epsilon: EpsilonLowerBound

    def to_json(self) -> dict[str, object]:
        return {
            "members": self.members, "nonmembers": self.nonmembers,
            "confidence": exact_text(self.confidence), "auc": self.auc.to_json(),
            "tpr_at_fpr": [t.to_json() for t in self.tpr_at_fpr],
            "accuracy": self.accuracy.to_json(), "epsilon": self.epsilon.to_json(),
        }


def audit_scores(
    members: object,
    nonmembers: object,
    delta: object,
    *,
    confidence: object = "0.95",
    fprs: Sequence[object] = DEFAULT_FPRS,
) -> AuditSummary:
    """Every metric of :mod:`certify.audit.metrics` plus the eps lower bound at ``delta``."""
    x, y = check_pair(members, nonmembers)
    gamma = check_confidence(confidence)
    check_probability("delta", delta, open_high=True)
    rates = tuple(fprs)
    return AuditSummary(
        members=x.size, nonmembers=y.size, confidence=gamma,
        auc=auc(x, y, gamma),
        tpr_at_fpr=tuple(tpr_at_fpr(x, y, f, gamma) for f in rates),
        accuracy=accuracy(x, y, gamma),
        epsilon=epsilon_lower_bound(x, y, delta, confidence=gamma),
    )
