"""Certified empirical lower bounds on epsilon from membership-inference scores.

**The inequality.** If a mechanism is (eps, delta)-DP, then for the two output laws P (target
in the data: "members") and Q (target out: "non-members") and *every* event S,
``P(S) <= e^eps Q(S) + delta`` and ``Q(S) <= e^eps P(S) + delta``. For a test that flags
"member" on S this reads ``TPR <= e^eps FPR + delta`` and ``TNR <= e^eps FNR + delta``: the
privacy region of Kairouz, Oh and Viswanath (2015), "The composition theorem for differential
privacy", ICML, Theorem 2.1 (the hypothesis-testing characterisation). Hence

    eps >= ln((TPR - delta) / FPR)      and      eps >= ln((TNR - delta) / FNR),

which is how audits turn an attack into an epsilon lower bound (Jagielski, Ullman and Oprea
2020, "Auditing differentially private machine learning: how private is private SGD?",
NeurIPS; Nasr, Song, Thakurta, Papernot and Carlini 2021, "Adversary instantiation: lower bounds
for differentially private machine learning", IEEE S&P), with a Clopper-Pearson lower limit
for the TPR and upper limit for the FPR.

**The construction here (exact, finite-sample).** Scores: higher means "member"; the rule at
threshold ``t`` flags ``score > t``. Two *directions*: ``members-high`` (S = {score > t},
positives = members, negatives = non-members) and ``members-low`` (the complement events:
scores negated, positives = non-members, negatives = members). For each direction a set of
*levels* ``c`` (integers fixed before looking at the scores; default ``0, 1, 2, 3, 4, 6, 8,
11, 16, ...``, the roundings of ``2^(j/2)`` below the number of negatives ``m``) defines the
threshold ``t_c`` = the ``(c+1)``-th largest negative score, so at most ``c`` negatives are
flagged. Then:

* ``P(FPR(t_c) > CP_U(c, m, a)) <= a`` although ``t_c`` is random: if the true FPR of
  ``t_c`` exceeds ``u``, at most ``c`` negatives lie at or above the point ``t*`` where the
  survival function ``P(Y > t)`` crosses ``u``, and ``P(Y >= t*) >= u``; so the probability is
  at most ``P(Bin(m, u) <= c)``, which is ``a`` at the Clopper-Pearson upper limit ``u`` for
  count ``c`` (see also :mod:`certify.audit.metrics`);
* given ``t_c`` (a function of the negatives only) the number of flagged positives is
  ``Bin(n, TPR(t_c))``, so ``P(TPR(t_c) < CP_L(k_c, n, a)) <= a``.

With ``T`` (direction, level) pairs in all and ``a = (1 - confidence) / (2 T)``, a union bound
over the ``2 T`` limits makes *all of them* hold together with probability ``>= confidence``;
on that event every candidate ``ln((CP_L - delta) / CP_U)`` (where ``CP_L > delta``) is at
most the smallest eps for which the pair (P, Q) is (eps, delta)-indistinguishable, and so is
their maximum. The reported bound is that maximum (or 0: eps >= 0 always). The two tests use
the score convention; scores oriented the other way (members lower) give no evidence here (DP
also bounds ``Q(S) <= e^eps P(S) + delta``: pass the negated scores for that orientation).
The statement needs iid member scores, iid non-member scores and independence between the
two samples (one score per independent trial); it is conditional on nothing else.

**Certification.** The Clopper-Pearson limits are certified enclosures
(:mod:`certify.stats.binomial`; the conservative ends are used), and the logarithm is enclosed
in ball arithmetic; the reported number is the lower end of that enclosure. A float screen
(``scipy.stats.beta``) only chooses which candidates to certify: every candidate is covered by
the union bound, so certifying the best few changes nothing in the guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np

from certify._validate import check_probability
from certify.audit._scores import check_confidence, check_pair, dec_text, exact_text
from certify.audit.metrics import cp_lower, cp_upper
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import exact_ball

__all__ = [
    "DIRECTIONS",
    "EpsilonCandidate",
    "EpsilonLowerBound",
    "default_levels",
    "epsilon_from_counts",
    "epsilon_lower_bound",
]

DIRECTIONS: tuple[str, ...] = ("members-high", "members-low")
_LOG_TARGET = Target(rel=1e-12, absolute=1e-15)


@dataclass(frozen=True)
class EpsilonCandidate:
    """One test: the rule, its counts, the two limits and the enclosure of
    ``ln((tpr_lower - delta) / fpr_upper)`` (None when ``tpr_lower <= delta``).

    The rule is ``score > threshold`` for ``members-high`` (positives: members) and
    ``score < threshold`` for ``members-low`` (positives: non-members), in the caller's score
    units; ``level`` is the allowed number of flagged negatives.
    """

    direction: str
    level: int
    threshold: float | None
    true_positives: int
    positives: int
    negatives: int
    tpr_lower: Decimal
    fpr_upper: Decimal
    epsilon: Bound | None

    def to_json(self) -> dict[str, object]:
        return {
            "direction": self.direction,
            "rule": "score > threshold" if self.direction == "members-high"
            else "score < threshold",
            "level": self.level, "threshold": self.threshold,
            "true_positives": self.true_positives, "positives": self.positives,
            "negatives": self.negatives, "tpr_lower": dec_text(self.tpr_lower),
            "fpr_upper": dec_text(self.fpr_upper),
            "epsilon": None if self.epsilon is None else self.epsilon.to_json(),
        }


@dataclass(frozen=True)
class EpsilonLowerBound:
    """``epsilon``: with probability >= ``confidence``, every eps at which the audited pair is
    (eps, ``delta``)-DP is >= ``epsilon`` (a conservative decimal, >= 0). ``tests`` is the
    number of (direction, level) pairs in the union bound, ``alpha_per_limit`` the error level
    of each one-sided Clopper-Pearson limit; ``best`` the candidate that attains the bound."""

    epsilon: Decimal
    delta: Fraction
    confidence: Fraction
    tests: int
    alpha_per_limit: Fraction
    best: EpsilonCandidate | None
    method: str

    def to_json(self) -> dict[str, object]:
        return {
            "epsilon_lower": dec_text(self.epsilon), "delta": exact_text(self.delta),
            "confidence": exact_text(self.confidence), "tests": self.tests,
            "alpha_per_limit": exact_text(self.alpha_per_limit),
            "best": None if self.best is None else self.best.to_json(), "method": self.method,
        }


def default_levels(negatives: int) -> tuple[int, ...]:
    """``{0} U {round(2^(j/2)) : j >= 0}`` below ``negatives`` (a grid fixed in advance: the
    union bound costs only its logarithm, and consecutive levels differ by a factor ~1.41)."""
    if negatives < 1:
        raise InvalidArgument(f"negatives={negatives} must be positive.")
    out = {0}
    j = 0
    while True:
        c = round(2 ** (j / 2))
        if c >= negatives:
            break
        out.add(c)
        j += 1
    return tuple(sorted(out))


def _log_ratio(tpr_lower: Decimal, delta: Fraction, fpr_upper: Decimal) -> Bound | None:
    """Enclosure of ln((tpr_lower - delta) / fpr_upper), or None when the numerator is <= 0."""
    num = Fraction(tpr_lower) - delta
    den = Fraction(fpr_upper)
    if num <= 0:
        return None
    if den <= 0:  # pragma: no cover - a Clopper-Pearson upper limit with alpha < 1 is > 0
        raise InvalidArgument(f"fpr_upper={fpr_upper} must be positive.")
    return escalate(lambda _p: (exact_ball(num) / exact_ball(den)).log(), _LOG_TARGET,
                    what="ln((TPR_L - delta) / FPR_U)")


def _check_levels(levels: Iterable[object] | None, negatives: int, direction: str
                  ) -> tuple[int, ...]:
    if levels is None:
        return default_levels(negatives)
    out = []
    for c in levels:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
            raise InvalidArgument(f"levels: {c!r} must be a non-negative integer.")
        if int(c) >= negatives:
            raise InvalidArgument(f"levels: {c} must be below the {negatives} negatives of "
                                  f"direction {direction}.")
        out.append(int(c))
    if not out:
        raise InvalidArgument("levels=[] must hold at least one level.")
    return tuple(sorted(set(out)))


def epsilon_lower_bound(
    members: object,
    nonmembers: object,
    delta: object,
    *,
    confidence: object = "0.95",
    levels: Sequence[int] | None = None,
    directions: Sequence[str] = DIRECTIONS,
) -> EpsilonLowerBound:
    """The certified empirical eps lower bound at ``delta`` and ``confidence`` (module
    docstring: construction and confidence accounting). ``levels`` (the allowed numbers of
    flagged negatives, fixed in advance) default to :func:`default_levels`; ``directions`` to
    both tests."""
    x, y = check_pair(members, nonmembers)
    dlt = check_probability("delta", delta, open_high=True)
    gamma = check_confidence(confidence)
    dirs = tuple(directions)
    if not dirs or any(d not in DIRECTIONS for d in dirs) or len(set(dirs)) != len(dirs):
        raise InvalidArgument(f"directions={directions!r} must be distinct values among "
                              f"{', '.join(DIRECTIONS)}.")
    plans = []
    for d in dirs:
        pos, neg = (x, y) if d == "members-high" else (-y, -x)
        lv = _check_levels(levels, neg.size, d)
        plans.append((d, np.sort(pos), np.sort(neg), lv))
    tests = sum(len(p[3]) for p in plans)
    a = (1 - gamma) / (2 * tests)
    af = float(a)
    # float screen (scipy's Beta quantiles, not certified): which candidates to certify first
    from scipy.stats import beta

    screened: list[tuple[float, str, int, float, int, int, int]] = []
    for d, pos, neg, lv in plans:
        cs = np.asarray(lv, dtype=np.int64)
        ts = neg[neg.size - 1 - cs]
        ks = pos.size - np.searchsorted(pos, ts, side="right")
        with np.errstate(all="ignore"):
            lows = np.where(ks > 0, beta.ppf(af, np.maximum(ks, 1), pos.size - ks + 1), 0.0)
            highs = beta.ppf(1 - af, cs + 1, neg.size - cs)
            values = np.where(lows > float(dlt), np.log((lows - float(dlt)) / highs), -np.inf)
        for value, c, t, k in zip(values, cs, ts, ks, strict=True):
            screened.append((float(value), d, int(c), float(t), int(k), int(pos.size),
                             int(neg.size)))
    screened.sort(key=lambda s: -s[0])
    best: EpsilonCandidate | None = None
    best_lower = Decimal(0)
    for value, d, c, t, k, n_pos, n_neg in screened:
        if value == -math.inf:
            break
        if best is not None and value < float(best_lower) - 1e-6 * (1 + abs(float(best_lower))):
            break  # no remaining candidate can beat the certified best
        tl, fu = cp_lower(k, n_pos, a), cp_upper(c, n_neg, a)
        enc = _log_ratio(tl, dlt, fu)
        if enc is not None and enc.lower > best_lower:
            shown = t if d == "members-high" else 0.0 - t  # back to the caller's score scale
            best = EpsilonCandidate(d, c, shown, k, n_pos, n_neg, tl, fu, enc)
            best_lower = enc.lower
    return EpsilonLowerBound(
        best_lower, dlt, gamma, tests, a, best,
        "max over (direction, level) of ln((CP_L(TPR) - delta) / CP_U(FPR)) at the thresholds "
        "t_c (c-th largest negative; levels fixed in advance), Clopper-Pearson at "
        "alpha/(2 tests) each (union bound); Kairouz et al. 2015 Thm 2.1")


def epsilon_from_counts(
    true_positives: int,
    positives: int,
    false_positives: int,
    negatives: int,
    delta: object,
    *,
    confidence: object = "0.95",
    tests: int = 1,
) -> EpsilonLowerBound:
    """The bound from one test whose threshold was fixed *before* the counts were drawn (e.g.
    an attack success rate reported with its sample sizes), Bonferroni-corrected for ``tests``
    such tests: ``ln((CP_L(tp, n) - delta) / CP_U(fp, m))`` with each limit at
    ``alpha / (2 tests)``. Returns 0 when that is not positive."""
    for name, v in (("positives", positives), ("negatives", negatives), ("tests", tests)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InvalidArgument(f"{name}={v!r} must be a positive integer.")
    for name, v, top in (("true_positives", true_positives, positives),
                         ("false_positives", false_positives, negatives)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
            raise InvalidArgument(f"{name}={v!r} must be an integer in [0, {top}].")
    dlt = check_probability("delta", delta, open_high=True)
    gamma = check_confidence(confidence)
    a = (1 - gamma) / (2 * tests)
    tl, fu = cp_lower(true_positives, positives, a), cp_upper(false_positives, negatives, a)
    enc = _log_ratio(tl, dlt, fu)
    cand = EpsilonCandidate("members-high", false_positives, None, true_positives, positives,
                            negatives, tl, fu, enc)
    lower = enc.lower if enc is not None and enc.lower > 0 else Decimal(0)
    return EpsilonLowerBound(
        lower, dlt, gamma, tests, a, cand,
        "ln((CP_L(TPR) - delta) / CP_U(FPR)) for pre-registered thresholds, Clopper-Pearson at "
        "alpha/(2 tests) each; Kairouz et al. 2015 Thm 2.1")
