"""Membership-inference metrics with exact or conservative confidence intervals.

Convention (everywhere in :mod:`certify.audit`): a *score* is the attacker's statistic, higher
meaning "member". The rule at threshold ``t`` flags "member" iff ``score > t``. ``members`` are
scores of examples that were in the training set (or, for a mechanism, outputs under the
neighbour that contains the target), ``nonmembers`` those that were not; the two samples are
independent, and each is iid (one score per independent trial).

Intervals (each valid on its own at the stated confidence; they are not simultaneous):

* **AUC** ``= P(X > Y) + P(X = Y)/2`` (``X`` a member score, ``Y`` a non-member score; ties
  count one half). The estimate is the Mann-Whitney statistic ``U/(n m)``, exact (a rational).
  Its interval is the Chernoff-Hoeffding bound for two-sample U-statistics: Hoeffding (1963),
  "Probability inequalities for sums of bounded random variables", JASA 58, Theorem 1
  (eq. 2.1: ``P(mean - p >= t) <= exp(-k KL(p + t || p))`` for the mean of ``k`` independent
  variables in [0, 1] with mean ``p``) extended to U-statistics in his section 5: ``U/(n m)``
  is an average, over permutations, of means of ``k = min(n, m)`` iid kernel values
  ``h(X_i, Y_j) = 1{X_i > Y_j} + 1{X_i = Y_j}/2`` in [0, 1]; by Jensen its moment generating
  function is at most that of such a mean, so the same Chernoff bound holds with ``k``.
  Inverting it: the lower limit ``p_L`` solves ``k KL(U_hat || p) = ln(1/alpha)`` for
  ``p < U_hat`` (``p_L = 0`` when ``U_hat = 0``), the upper limit likewise above ``U_hat``,
  with ``alpha = (1 - confidence)/2`` per side; then ``P(p_L > AUC) <= alpha``
  (``{p_L > p} = {U_hat > p + t*}`` with ``k KL(p + t* || p) = ln(1/alpha)``). The interval is
  distribution-free (ties, atoms allowed), never wider than Hoeffding's sub-Gaussian
  ``+- sqrt(ln(1/alpha)/(2k))`` (Pinsker), and much narrower near 0 and 1: at ``U_hat = 1``,
  ``p_L = alpha^(1/k)``, which is what an AUC > 0.99 claim needs. Each limit is enclosed by
  :func:`~certify.numerics.roots.certified_root`; the reported ends are the conservative ones
  (a limit closer than ``2^-2000`` relative to 0 or 1 is reported as that end).
* **TPR at a fixed FPR** ``f``: with ``c = floor(f m)``, the threshold is ``t_c``, the
  ``(c+1)``-th largest non-member score (so at most ``c`` non-members are flagged). ``t_c``
  depends on the non-member scores only, so given ``t_c`` the number of flagged members is
  ``Bin(n, TPR(t_c))``: its two-sided Clopper-Pearson interval is exact. The *true* FPR of
  ``t_c`` is random; ``P(FPR(t_c) > u) <= P(Bin(m, u) <= c)`` for every ``u`` (if
  ``FPR(t_c) > u`` then at most ``c`` non-members are ``>= t*`` for the point ``t*`` where the
  survival function ``P(Y > t)`` crosses ``u``, and ``P(Y >= t*) >= u``), so the one-sided
  Clopper-Pearson upper limit at count ``c`` bounds it.
* **Balanced accuracy** ``(TPR(t) + TNR(t))/2``: at a threshold fixed in advance, from
  Clopper-Pearson limits of TPR and TNR at ``alpha/4`` each (union bound); at the best threshold
  chosen on the data, from the Dvoretzky-Kiefer-Wolfowitz inequality with Massart's (1990)
  constant, ``P(sup_t |F_hat - F| > e) <= 2 exp(-2 n e^2)``, applied to both samples at
  ``alpha/2`` each: it holds simultaneously for every threshold, so it covers both the chosen
  threshold's accuracy and the best achievable one.

Clopper-Pearson limits come from :mod:`certify.stats.binomial` (certified enclosures of the
exact limits).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
from flint import arb, ctx

from certify._validate import check_probability, to_exact
from certify.audit._scores import (
    check_confidence,
    check_pair,
    count_above,
    dec_text,
    exact_text,
)
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root, exact_ball
from certify.stats.binomial import clopper_pearson_lower, clopper_pearson_upper

__all__ = [
    "Accuracy",
    "ConfidenceInterval",
    "TprAtFpr",
    "accuracy",
    "auc",
    "auc_estimate",
    "chernoff_hoeffding_interval",
    "cp_lower",
    "cp_upper",
    "tpr_at_fpr",
]

#: bracketing a Chernoff-Hoeffding limit stops 2^-2000 (relative) from the end of [0, 1]
_MAX_HALVINGS = 2000
#: width of the enclosures of interval ends (far below any statistical resolution)
LIMIT_TARGET = Target(rel=1e-12, absolute=1e-300)


@dataclass(frozen=True)
class ConfidenceInterval:
    """An exact point ``estimate`` and conservative limits: ``P(lower <= truth <= upper) >=
    confidence`` (``lower`` already rounded down, ``upper`` up)."""

    estimate: Fraction
    lower: Decimal
    upper: Decimal
    confidence: Fraction
    method: str

    def contains(self, x: object) -> bool:
        value = to_exact("x", x)
        return Fraction(self.lower) <= value <= Fraction(self.upper)

    def to_json(self) -> dict[str, str]:
        return {
            "estimate": exact_text(self.estimate),
            "estimate_float": repr(float(self.estimate)),
            "lower": dec_text(self.lower),
            "upper": dec_text(self.upper),
            "confidence": exact_text(self.confidence),
            "method": self.method,
        }


# -- Clopper-Pearson, memoised (pure functions of integers and an exact alpha) ----------------

_CP_TARGET = Target(rel=1e-9, absolute=1e-300)


@functools.lru_cache(maxsize=65536)
def cp_lower(successes: int, trials: int, alpha: Fraction) -> Decimal:
    """Conservative one-sided ``1 - alpha`` Clopper-Pearson lower limit (rounded down)."""
    return clopper_pearson_lower(successes, trials, alpha, _CP_TARGET).lower


@functools.lru_cache(maxsize=65536)
def cp_upper(successes: int, trials: int, alpha: Fraction) -> Decimal:
    """Conservative one-sided ``1 - alpha`` Clopper-Pearson upper limit (rounded up)."""
    return clopper_pearson_upper(successes, trials, alpha, _CP_TARGET).upper


# -- AUC ------------------------------------------------------------------------------------


def auc_estimate(members: object, nonmembers: object) -> Fraction:
    """``U / (n m)``: the fraction of (member, non-member) pairs ordered correctly, ties counting
    one half. Exact (integer counts)."""
    x, y = check_pair(members, nonmembers)
    ys = np.sort(y)
    less = np.searchsorted(ys, x, side="left").astype(np.int64)
    leq = np.searchsorted(ys, x, side="right").astype(np.int64)
    twice_u = 2 * int(less.sum(dtype=np.int64)) + int((leq - less).sum(dtype=np.int64))
    return Fraction(twice_u, 2 * x.size * y.size)


def _kl(u: Fraction, p: arb) -> arb:
    """KL(Bernoulli(u) || Bernoulli(p)) with 0 ln 0 = 0, at the ambient precision."""
    total = arb(0)
    if u > 0:
        total += exact_ball(u) * (exact_ball(u) / p).log()
    if u < 1:
        total += exact_ball(1 - u) * (exact_ball(1 - u) / (1 - p)).log()
    return total


def _kl_limit(u: Fraction, k: int, alpha: Fraction, upper: bool) -> Bound:
    """Enclosure of the root of ``k KL(u || p) = ln(1/alpha)`` below ``u`` (``upper=False``; 0
    when ``u = 0``) or above it (``upper=True``; 1 when ``u = 1``)."""
    if (u == 0 and not upper) or (u == 1 and upper):
        return Bound.exact(u)

    def g(p: arb) -> arb:  # convex in p, minimum -ln(1/alpha) at p = u, +inf at 0+ and 1-
        return k * _kl(u, p) + exact_ball(alpha).log()

    step = Fraction(1, 2)
    for halvings in range(1, _MAX_HALVINGS + 1):
        far = 1 - (1 - u) * step if upper else u * step
        # 1 - far can be 2^-400 and less: resolve it (a ball touching 1 makes log(1 - p) NaN)
        with ctx.workprec(128 + 2 * halvings):
            if g(exact_ball(far)) > 0:
                break
        step /= 2
    else:
        # the root lies within (1 - u) 2^-2000 of the end (e.g. one tie among 10^12 pairs with
        # k small): the end itself is a valid, conservative limit, looser by less than that
        return Bound.exact(1 if upper else 0)
    lo, hi = (u, far) if upper else (far, u)
    side = "upper" if upper else "lower"
    return certified_root(g, lo, hi, target=LIMIT_TARGET,
                          what=f"Chernoff-Hoeffding {side} limit (u={float(u):.6g}, k={k})")


def chernoff_hoeffding_interval(
    estimate: object, k: object, confidence: object = "0.95"
) -> tuple[Decimal, Decimal]:
    """Conservative two-sided limits for the mean ``p`` of a [0, 1]-valued statistic that obeys
    the Chernoff bound ``P(est - p >= t) <= exp(-k KL(p + t || p))`` (and its mirror): a mean
    of ``k`` iid bounded variables, or a two-sample U-statistic with ``k = min(n, m)``
    (Hoeffding 1963, Thm 1 and section 5). ``alpha = (1 - confidence)/2`` per side."""
    u = to_exact("estimate", estimate)
    if not 0 <= u <= 1:
        raise InvalidArgument(f"estimate={estimate} must be in [0, 1].")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k={k!r} must be a positive integer.")
    gamma = check_confidence(confidence)
    alpha = (1 - gamma) / 2
    return _kl_limit(u, k, alpha, upper=False).lower, _kl_limit(u, k, alpha, upper=True).upper


def auc(members: object, nonmembers: object, confidence: object = "0.95") -> ConfidenceInterval:
    """The AUC of the attack with its Chernoff-Hoeffding U-statistic interval (module
    docstring): exact estimate, distribution-free conservative limits, ``k = min(n, m)``."""
    x, y = check_pair(members, nonmembers)
    gamma = check_confidence(confidence)
    u = auc_estimate(x, y)
    k = min(x.size, y.size)
    lo, hi = chernoff_hoeffding_interval(u, k, gamma)
    return ConfidenceInterval(
        u, lo, hi, gamma,
        f"Mann-Whitney U/(nm); Chernoff-Hoeffding bound for two-sample U-statistics "
        f"(Hoeffding 1963, Thm 1 + section 5), k = min(n, m) = {k}, alpha/2 per side")


# -- TPR at fixed FPR -------------------------------------------------------------------------


@dataclass(frozen=True)
class TprAtFpr:
    """The rule ``score > threshold`` with at most ``allowed_false_positives = floor(fpr m)``
    non-members flagged. ``tpr``: two-sided Clopper-Pearson (exact given the threshold);
    ``fpr_upper``: a one-sided upper confidence limit on the threshold's true FPR."""

    fpr: Fraction
    threshold: float
    allowed_false_positives: int
    false_positives: int
    nonmembers: int
    true_positives: int
    members: int
    tpr: ConfidenceInterval
    fpr_upper: Decimal
    confidence: Fraction

    def to_json(self) -> dict[str, object]:
        return {
            "fpr": exact_text(self.fpr), "threshold": self.threshold,
            "allowed_false_positives": self.allowed_false_positives,
            "false_positives": self.false_positives, "nonmembers": self.nonmembers,
            "true_positives": self.true_positives, "members": self.members,
            "tpr": self.tpr.to_json(), "fpr_upper": dec_text(self.fpr_upper),
            "confidence": exact_text(self.confidence),
        }


def threshold_at_level(sorted_negatives: np.ndarray, level: int) -> float:
    """The ``(level+1)``-th largest of an ascending array: the smallest threshold ``t`` with at
    most ``level`` values ``> t`` among the ones that can be chosen from the data."""
    return float(sorted_negatives[sorted_negatives.size - 1 - level])


def tpr_at_fpr(
    members: object, nonmembers: object, fpr: object, confidence: object = "0.95"
) -> TprAtFpr:
    """TPR at the threshold that flags at most ``floor(fpr * m)`` non-members, with exact
    Clopper-Pearson limits (module docstring for why they are valid with a data-chosen
    threshold)."""
    x, y = check_pair(members, nonmembers)
    f = check_probability("fpr", fpr, open_low=True, open_high=True)
    gamma = check_confidence(confidence)
    xs, ys = np.sort(x), np.sort(y)
    n, m = xs.size, ys.size
    c = (f * m).numerator // (f * m).denominator  # floor, exact; c <= m - 1 since f < 1
    t = threshold_at_level(ys, c)
    fp, tp = count_above(ys, t), count_above(xs, t)
    half = (1 - gamma) / 2
    tpr_ci = ConfidenceInterval(
        Fraction(tp, n), cp_lower(tp, n, half), cp_upper(tp, n, half), gamma,
        "two-sided Clopper-Pearson (exact given the threshold, which depends on the "
        "non-member scores only)")
    return TprAtFpr(f, t, c, fp, m, tp, n, tpr_ci, cp_upper(c, m, 1 - gamma), gamma)


# -- balanced accuracy ------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """Balanced accuracy ``(TPR + TNR)/2`` of the rule ``score > threshold`` (``threshold`` None
    means every example is flagged); ``chosen`` tells whether the threshold was chosen on the
    data (DKW interval) or given in advance (Clopper-Pearson interval)."""

    threshold: float | None
    chosen: bool
    true_positives: int
    members: int
    true_negatives: int
    nonmembers: int
    balanced: ConfidenceInterval

    def to_json(self) -> dict[str, object]:
        return {
            "threshold": self.threshold, "chosen_on_data": self.chosen,
            "true_positives": self.true_positives, "members": self.members,
            "true_negatives": self.true_negatives, "nonmembers": self.nonmembers,
            "balanced_accuracy": self.balanced.to_json(),
        }


def _dkw_radius(n: int, alpha: Fraction) -> Bound:
    """sqrt(ln(2/alpha) / (2n)) enclosed (Massart 1990)."""
    return escalate(lambda _p: ((2 / exact_ball(alpha)).log() / (2 * n)).sqrt(), LIMIT_TARGET,
                    what="DKW radius")


def accuracy(
    members: object, nonmembers: object, confidence: object = "0.95",
    threshold: object | None = None,
) -> Accuracy:
    """Balanced accuracy of the threshold rule with a conservative interval.

    ``threshold=None``: the best threshold on the data (the maximum over every cut), with the
    DKW-Massart band (simultaneous over thresholds, so valid for the chosen one and for the best
    achievable accuracy ``sup_t``). A given ``threshold``: Clopper-Pearson limits
    of TPR and TNR at ``alpha/4`` each.
    """
    x, y = check_pair(members, nonmembers)
    gamma = check_confidence(confidence)
    alpha = 1 - gamma
    xs, ys = np.sort(x), np.sort(y)
    n, m = xs.size, ys.size
    if threshold is not None:
        t = float(to_exact("threshold", threshold))
        tp, tn = count_above(xs, t), m - count_above(ys, t)
        q = alpha / 4
        lo = (Fraction(cp_lower(tp, n, q)) + Fraction(cp_lower(tn, m, q))) / 2
        hi = (Fraction(cp_upper(tp, n, q)) + Fraction(cp_upper(tn, m, q))) / 2
        b = Bound.from_fractions(lo, hi)
        ci = ConfidenceInterval(Fraction(tp * m + tn * n, 2 * n * m), b.lower, b.upper, gamma,
                                "Clopper-Pearson limits of TPR and TNR at alpha/4 each")
        return Accuracy(t, False, tp, n, tn, m, ci)
    cuts = np.unique(np.concatenate([xs, ys]))
    tps = n - np.searchsorted(xs, cuts, side="right").astype(np.int64)
    tns = np.searchsorted(ys, cuts, side="right").astype(np.int64)
    score = tps * m + tns * n  # proportional to the balanced accuracy, exact in int64
    best = int(np.argmax(score))
    if int(score[best]) <= n * m:  # no cut beats flagging everybody (accuracy 1/2)
        chosen_t: float | None = None
        tp, tn = n, 0
    else:
        chosen_t, tp, tn = float(cuts[best]), int(tps[best]), int(tns[best])
    est = Fraction(tp * m + tn * n, 2 * n * m)
    rx, ry = _dkw_radius(n, alpha / 2), _dkw_radius(m, alpha / 2)
    radius_up = (Fraction(rx.upper) + Fraction(ry.upper)) / 2
    b = Bound.from_fractions(est - radius_up, est + radius_up).within(0, 1)
    ci = ConfidenceInterval(est, b.lower, b.upper, gamma,
                            "best threshold on the data; DKW-Massart band on both samples at "
                            "alpha/2 each (simultaneous over thresholds)")
    return Accuracy(chosen_t, True, tp, n, tn, m, ci)


def roc_points(members: np.ndarray, nonmembers: np.ndarray,
               fprs: tuple[float, ...]) -> list[list[float]]:
    """Empirical ``(FPR, TPR)`` of the rule ``score > t`` at the thresholds allowing at most
    ``floor(f m)`` of the ``m`` non-members above them, for each ``f`` in ``fprs`` (for figures
    only: plain estimates, no confidence)."""
    xs, ys = np.sort(np.asarray(members)), np.sort(np.asarray(nonmembers))
    out = []
    for f in fprs:
        c = int(np.floor(f * ys.size))
        if c >= ys.size:
            out.append([1.0, 1.0])
            continue
        t = ys[ys.size - 1 - c]
        fp = ys.size - np.searchsorted(ys, t, side="right")
        tp = xs.size - np.searchsorted(xs, t, side="right")
        out.append([float(fp / ys.size), float(tp / xs.size)])
    return out
