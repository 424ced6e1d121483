"""Certified eps lower bounds from *reported* attack figures (accuracy, AUC, TPR at a fixed FPR)
with their sample sizes (claim SMP-1): what a published membership-inference result proves.

**What DP allows an attack** (:mod:`proofs.attack_region`, from the privacy region of Kairouz,
Oh, Viswanath 2015, Thm 2.1): for a pair that is (eps, delta)-DP in both directions, with
``E = e^eps``,

* weighted accuracy ``w TPR + (1 - w) TNR <= max(w + (1 - w) delta, 1 - w + w delta,
  (E + delta)/(1 + E))``, ``w`` the fraction of members among the test examples (balanced:
  ``(E + delta)/(1 + E)``);
* ``AUC <= delta + (1 - delta)(E + delta)/(1 + E)``;
* ``TPR <= E FPR + delta`` at every threshold.

**From a reported figure to a confidence bound.** The figure is turned back into counts (the
most conservative counts consistent with it and its rounding ``resolution``) and a one-sided
lower confidence limit at level ``confidence`` is put on the true metric:

* accuracy: ``K`` correct out of ``n + m`` test examples; the mean of ``n + m`` *independent*
  Bernoulli variables with different means (``TPR`` for members, ``TNR`` for non-members) obeys
  Hoeffding's (1963, Thm 1) Chernoff bound with ``k = n + m``, so the Chernoff-Hoeffding limit
  (:func:`certify.audit.metrics.chernoff_hoeffding_interval`) is valid where a Clopper-Pearson
  limit would need identical trials;
* AUC: the Chernoff-Hoeffding U-statistic limit with ``k = min(n, m)`` (the toolkit's AUC
  interval, :func:`certify.audit.metrics.auc`);
* TPR at FPR: :func:`certify.audit.epsilon.epsilon_from_counts` (Clopper-Pearson on both rates;
  a data-chosen threshold is covered, :mod:`certify.audit.epsilon`).

Then every eps at which the audited pair is (eps, delta)-DP is at least the inverted bound, with
probability >= ``confidence``; when the limit does not exceed what a data-independent guess
achieves (accuracy ``max(w, 1 - w)`` up to delta, AUC ``(1 + delta)/2`` after rescaling) the bound
is 0: the figure proves nothing. A lower bound never implies an upper bound: that needs a proof
about the mechanism (DP-SGD's accounting), which no attack result can supply.

**Standing assumption** (the toolkit's, :mod:`certify.audit`): each member and non-member
outcome is an independent trial of the membership game. For many examples scored against one
trained model this is an assumption about the paper's experiment, not a theorem (one-run audits
need randomised inclusion and their own analysis: Steinke, Nasr, Jagielski 2023, "Privacy
auditing with one (1) training run", NeurIPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flint import arb

from certify._validate import check_nonnegative, check_positive_int, check_probability
from certify.audit._scores import check_confidence, dec_text, exact_text
from certify.audit.epsilon import epsilon_from_counts
from certify.audit.metrics import chernoff_hoeffding_interval
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import exact_ball

__all__ = [
    "ReportedBound",
    "epsilon_from_accuracy",
    "epsilon_from_auc",
    "epsilon_from_tpr_at_fpr",
    "max_accuracy",
    "max_auc",
]

_TARGET = Target(rel=1e-12, absolute=1e-15)


@dataclass(frozen=True)
class ReportedBound:
    """A reported figure, the counts read from it, the conservative lower confidence limit of
    the metric (``limit``; for TPR at FPR the TPR limit), the level a data-independent guess
    reaches (``chance``), and the certified ``epsilon`` lower bound (>= 0, rounded down)."""

    figure: str
    value: Fraction
    members: int
    nonmembers: int
    counts: dict[str, int]
    limit: Decimal
    chance: Fraction
    epsilon: Decimal
    delta: Fraction
    confidence: Fraction
    method: str

    @property
    def proves_something(self) -> bool:
        return self.epsilon > 0

    def to_json(self) -> dict[str, object]:
        return {
            "figure": self.figure, "value": exact_text(self.value), "members": self.members,
            "nonmembers": self.nonmembers, "counts": dict(self.counts),
            "limit": dec_text(self.limit), "chance": exact_text(self.chance),
            "epsilon_lower": dec_text(self.epsilon), "delta": exact_text(self.delta),
            "confidence": exact_text(self.confidence), "method": self.method,
        }


def _sizes(members: object, nonmembers: object) -> tuple[int, int]:
    return check_positive_int("members", members), check_positive_int("nonmembers", nonmembers)


def _rate(name: str, value: object) -> Fraction:
    return check_probability(name, value)


def _ln_odds(limit: Fraction, delta: Fraction) -> Decimal:
    """Lower end of an enclosure of ln((limit - delta)/(1 - limit)), 0 < limit - delta."""
    b = escalate(lambda _p: ((exact_ball(limit) - exact_ball(delta))
                             / (1 - exact_ball(limit))).log(),
                 _TARGET, what="ln((limit - delta)/(1 - limit))")
    return b.lower if b.lower > 0 else Decimal(0)


def _one_sided(estimate: Fraction, k: int, gamma: Fraction) -> Decimal:
    """Chernoff-Hoeffding one-sided lower limit at level ``gamma`` (two-sided call at
    ``1 - 2 (1 - gamma)``, whose lower end errs with probability ``1 - gamma``)."""
    return chernoff_hoeffding_interval(estimate, k, 1 - 2 * (1 - gamma))[0]


def epsilon_from_accuracy(
    accuracy: object, members: object, nonmembers: object, delta: object, *,
    confidence: object = "0.95", resolution: object = 0,
) -> ReportedBound:
    """eps lower bound from an attack accuracy (fraction correct over ``members +
    nonmembers`` test examples, threshold fixed before the test data), reported to within
    ``resolution`` (module docstring)."""
    acc = _rate("accuracy", accuracy)
    n, m = _sizes(members, nonmembers)
    res = check_nonnegative("resolution", resolution)
    dlt = check_probability("delta", delta, open_high=True)
    gamma = check_confidence(confidence)
    total = n + m
    low = max(acc - res, Fraction(0)) * total
    correct = -((-low.numerator) // low.denominator)  # ceil: fewest correct consistent
    if correct > total:  # pragma: no cover - acc <= 1
        raise InvalidArgument(f"accuracy={accuracy} exceeds 1.")
    limit = _one_sided(Fraction(correct, total), total, gamma)
    w = Fraction(n, total)
    chance = max(w + (1 - w) * dlt, 1 - w + w * dlt)
    lim = Fraction(limit)
    eps = _ln_odds(lim, dlt) if lim > chance and lim > dlt else Decimal(0)
    return ReportedBound(
        "accuracy", acc, n, m, {"correct": correct, "total": total}, limit, chance, eps, dlt,
        gamma,
        "K = ceil((accuracy - resolution)(n + m)) correct; one-sided Chernoff-Hoeffding lower "
        "limit a_L with k = n + m (independent, non-identical Bernoulli trials; Hoeffding 1963 "
        "Thm 1); under (eps, delta)-DP accuracy <= max(w + (1 - w) delta, 1 - w + w delta, "
        "(e^eps + delta)/(1 + e^eps)) (proofs.attack_region), so a_L > the first two gives "
        "eps >= ln((a_L - delta)/(1 - a_L))")


def epsilon_from_auc(
    auc: object, members: object, nonmembers: object, delta: object, *,
    confidence: object = "0.95", resolution: object = 0,
) -> ReportedBound:
    """eps lower bound from an attack AUC over ``members`` and ``nonmembers`` scores."""
    value = _rate("auc", auc)
    n, m = _sizes(members, nonmembers)
    res = check_nonnegative("resolution", resolution)
    dlt = check_probability("delta", delta, open_high=True)
    gamma = check_confidence(confidence)
    low = max(value - res, Fraction(0))
    k = min(n, m)
    limit = _one_sided(low, k, gamma)
    u = (Fraction(limit) - dlt) / (1 - dlt)
    chance = dlt + (1 - dlt) * (1 + dlt) / 2  # the AUC at which u = (1 + delta)/2
    eps = _ln_odds(u, dlt) if u > (1 + dlt) / 2 else Decimal(0)
    return ReportedBound(
        "auc", value, n, m, {"k": k}, limit, chance, eps, dlt, gamma,
        "one-sided Chernoff-Hoeffding U-statistic lower limit A_L with k = min(n, m) "
        "(Hoeffding 1963, section 5); under (eps, delta)-DP AUC <= delta + (1 - delta)"
        "(e^eps + delta)/(1 + e^eps) (proofs.attack_region), so with u = (A_L - delta)/"
        "(1 - delta) > (1 + delta)/2, eps >= ln((u - delta)/(1 - u))")


def epsilon_from_tpr_at_fpr(
    tpr: object, fpr: object, members: object, nonmembers: object, delta: object, *,
    confidence: object = "0.95", resolution: object = 0,
) -> ReportedBound:
    """eps lower bound from a TPR reported at a fixed FPR (the toolkit's
    :func:`~certify.audit.epsilon.epsilon_from_counts` on the most conservative counts: the
    fewest true positives and the most false positives consistent with the figures)."""
    t, f = _rate("tpr", tpr), _rate("fpr", fpr)
    n, m = _sizes(members, nonmembers)
    res = check_nonnegative("resolution", resolution)
    dlt = check_probability("delta", delta, open_high=True)
    gamma = check_confidence(confidence)
    low = max(t - res, Fraction(0)) * n
    tp = -((-low.numerator) // low.denominator)
    high = min(f + res, Fraction(1)) * m
    fp = high.numerator // high.denominator  # the most false positives with fp/m <= fpr + res
    out = epsilon_from_counts(tp, n, fp, m, dlt, confidence=gamma)
    best = out.best
    limit = best.tpr_lower if best is not None else Decimal(0)
    return ReportedBound(
        "tpr-at-fpr", t, n, m, {"true_positives": tp, "false_positives": fp}, limit,
        dlt + f, out.epsilon, dlt, gamma,
        "epsilon_from_counts: ln((CP_L(TPR) - delta)/CP_U(FPR)), Clopper-Pearson one-sided "
        "limits at (1 - confidence)/2 each (Kairouz et al. 2015 Thm 2.1)")


def _eps_ball(epsilon: object) -> Fraction:
    return check_nonnegative("epsilon", epsilon)


def max_accuracy(epsilon: object, delta: object, member_fraction: object = "1/2") -> Bound:
    """Enclosure of the largest weighted accuracy an (eps, delta)-DP pair allows,
    ``max(w + (1 - w) delta, 1 - w + w delta, (e^eps + delta)/(1 + e^eps))``."""
    eps = _eps_ball(epsilon)
    dlt = check_probability("delta", delta, open_high=True)
    w = check_probability("member_fraction", member_fraction)
    guess = max(w + (1 - w) * dlt, 1 - w + w * dlt)

    def corner(_p: int) -> arb:
        e = exact_ball(eps).exp()
        return (e + exact_ball(dlt)) / (1 + e)

    b = escalate(corner, _TARGET, what="(e^eps + delta)/(1 + e^eps)")
    return Bound.from_fractions(max(Fraction(b.lower), guess), max(Fraction(b.upper), guess))


def max_auc(epsilon: object, delta: object) -> Bound:
    """Enclosure of the largest AUC an (eps, delta)-DP pair allows,
    ``delta + (1 - delta)(e^eps + delta)/(1 + e^eps)``."""
    eps = _eps_ball(epsilon)
    dlt = check_probability("delta", delta, open_high=True)

    def value(_p: int) -> arb:
        e, d = exact_ball(eps).exp(), exact_ball(dlt)
        return d + (1 - d) * (e + d) / (1 + e)

    return escalate(value, _TARGET, what="delta + (1 - delta)(e^eps + delta)/(1 + e^eps)")
