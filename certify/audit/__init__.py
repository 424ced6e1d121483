"""Statistics on attack samples: membership-inference metrics with exact or conservative
confidence intervals and certified empirical eps lower bounds (claims SMP-1, SMP-2, WPM-6).

Scores: higher means "member"; members and non-members are independent iid samples (one score
per independent trial). See :mod:`certify.audit.metrics` and :mod:`certify.audit.epsilon` for
the constructions and their guarantees.
"""

from certify.audit.epsilon import (
    DIRECTIONS,
    EpsilonCandidate,
    EpsilonLowerBound,
    default_levels,
    epsilon_from_counts,
    epsilon_lower_bound,
)
from certify.audit.io import read_scores_csv
from certify.audit.metrics import (
    Accuracy,
    ConfidenceInterval,
    TprAtFpr,
    accuracy,
    auc,
    auc_estimate,
    chernoff_hoeffding_interval,
    tpr_at_fpr,
)
from certify.audit.reported import (
    ReportedBound,
    epsilon_from_accuracy,
    epsilon_from_auc,
    epsilon_from_tpr_at_fpr,
)
from certify.audit.summary import DEFAULT_FPRS, AuditSummary, audit_scores

__all__ = [
    "DEFAULT_FPRS",
    "DIRECTIONS",
    "Accuracy",
    "AuditSummary",
    "ConfidenceInterval",
    "EpsilonCandidate",
    "EpsilonLowerBound",
    "ReportedBound",
    "TprAtFpr",
    "accuracy",
    "audit_scores",
    "auc",
    "auc_estimate",
    "chernoff_hoeffding_interval",
    "default_levels",
    "epsilon_from_accuracy",
    "epsilon_from_auc",
    "epsilon_from_counts",
    "epsilon_lower_bound",
    "epsilon_from_tpr_at_fpr",
    "read_scores_csv",
    "tpr_at_fpr",
]
