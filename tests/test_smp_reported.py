"""certify.audit.reported (SMP-1): the privacy-region maxima against independent computations
(numerical integration, linear programming), the conversions' coverage at their stated
confidence on a pair where they are tight, their approach to the truth, and bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.audit.epsilon import epsilon_from_counts
from certify.audit.reported import (
    epsilon_from_accuracy,
    epsilon_from_auc,
    epsilon_from_tpr_at_fpr,
    max_accuracy,
    max_auc,
)
from certify.errors import InvalidArgument
from proofs.attack_region import ATTACK_REGION_PROOFS


def test_region_proofs_check_out() -> None:
    assert all(p().ok for p in ATTACK_REGION_PROOFS)


@settings(max_examples=10, deadline=None)
@given(eps=st.floats(0, 6), delta=st.sampled_from([0.0, 1e-5, 0.01, 0.3]))
def test_max_auc_against_numerical_integration(eps: float, delta: float) -> None:
    """The area under min(1, e^eps x + delta, 1 - (1 - delta - x)/e^eps), by mpmath quadrature
    split at the kinks (40 digits)."""
    mpmath.mp.dps = 40
    e, d = mpmath.exp(mpmath.mpf(eps)), mpmath.mpf(delta)

    def g(x: mpmath.mpf) -> mpmath.mpf:
        return min(mpmath.mpf(1), e * x + d, 1 - (1 - d - x) / e)

    kink = (1 - d) / (1 + e)
    area = mpmath.quad(g, [0, kink, 1 - d, 1])
    b = max_auc(eps, delta)
    assert mpmath.mpf(str(b.lower)) - mpmath.mpf("1e-25") <= area
    assert area <= mpmath.mpf(str(b.upper)) + mpmath.mpf("1e-25")


@settings(max_examples=10, deadline=None)
@given(eps=st.floats(0, 5), delta=st.sampled_from([0.0, 1e-5, 0.05]),
       w=st.sampled_from(["1/2", "0.3", "0.538", "0.9"]))
def test_max_accuracy_against_linear_programming(eps: float, delta: float, w: str) -> None:
    """max w y + (1 - w)(1 - x) over the privacy region (all four DP constraints), scipy's LP."""
    from scipy.optimize import linprog

    wf = float(Fraction(w))
    e = math.exp(eps)
    # variables (x, y); constraints A_ub @ (x, y) <= b_ub
    a_ub = [[-e, 1], [1, -e], [-1, e], [e, -1]]
    b_ub = [delta, delta, e - 1 + delta, e - 1 + delta]
    res = linprog([1 - wf, -wf], A_ub=a_ub, b_ub=b_ub, bounds=[(0, 1), (0, 1)])
    assert res.status == 0
    best = wf * res.x[1] + (1 - wf) * (1 - res.x[0])
    b = max_accuracy(eps, delta, w)
    assert float(b.lower) - 1e-9 <= best <= float(b.upper) + 1e-9


def _binomial_999(trials: int) -> int:
    """The 99.9% quantile of Bin(trials, 0.05): a count a valid 95% bound stays below."""
    from scipy.stats import binom

    return int(binom.ppf(0.999, trials, 0.05))


def _randomized_response(eps: float) -> float:
    """TPR = TNR = e^eps/(1 + e^eps): the pair at the corner of the eps-DP region, where the
    accuracy and AUC bounds are tight (its eps(delta) is eps for every delta < 1/(1 + e^-eps))."""
    return math.exp(eps) / (1 + math.exp(eps))


def test_accuracy_bound_coverage_on_a_tight_pair() -> None:
    """400 simulated audits of randomized response (eps = 1, 300 members + 300 non-members):
    the certified lower bound may exceed the true eps in at most 5% of them; with 400 audits
    the count must stay below Bin(400, 0.05)'s 99.9% quantile."""
    eps, n = 1.0, 300
    p = _randomized_response(eps)
    rng = np.random.default_rng(2024)
    over = 0
    for _ in range(400):
        correct = int(rng.binomial(n, p) + rng.binomial(n, p))
        b = epsilon_from_accuracy(Fraction(correct, 2 * n), n, n, "1e-5")
        over += b.epsilon > eps
    assert over <= _binomial_999(400)


def test_accuracy_bound_approaches_the_truth() -> None:
    """At the exact mean the bound tends to eps = 1 as n grows, and never exceeds it."""
    p = Fraction(_randomized_response(1.0))
    prev = Fraction(-1)
    for n in (10**3, 10**5, 10**7):
        b = epsilon_from_accuracy(p, n, n, 0)
        assert prev <= Fraction(b.epsilon) <= 1
        prev = Fraction(b.epsilon)
    assert prev > Fraction(98, 100)


def test_auc_bound_coverage_on_a_tight_pair() -> None:
    """Binary scores of randomized response have AUC = e^eps/(1 + e^eps), the maximum: 300
    simulated audits (200 + 200) exceed the true eps at most Bin(300, 0.05)'s 99.9% quantile."""
    eps, n = 1.5, 200
    p = _randomized_response(eps)
    rng = np.random.default_rng(7)
    over = 0
    for _ in range(300):
        x = rng.random(n) < p  # members: score 1 with probability p
        y = rng.random(n) < 1 - p
        auc = Fraction(int(np.sum(x[:, None] > y[None, :])) * 2
                       + int(np.sum(x[:, None] == y[None, :])), 2 * n * n)
        over += epsilon_from_auc(auc, n, n, 0).epsilon > eps
    assert over <= _binomial_999(300)


def test_reported_figures_of_the_paper() -> None:
    """ASR 51.97% at the reference split proves nothing: a constant guess scores 233/433."""
    b = epsilon_from_accuracy("0.5197", 233, 200, "1e-5", resolution="0.00005")
    assert b.counts == {"correct": 226, "total": 433}  # ceil(0.51965 * 433)
    assert b.epsilon == 0 and not b.proves_something
    assert b.chance > Fraction(233, 433)
    big = epsilon_from_accuracy("0.5197", 10**6, 10**6, "1e-5")
    assert 0.07 < float(big.epsilon) < math.log(0.5197 / 0.4803)
    small = epsilon_from_accuracy("0.5197", 1000, 1000, "1e-5")
    assert small.epsilon == 0


def test_tpr_at_fpr_is_the_toolkits_counts_bound() -> None:
    b = epsilon_from_tpr_at_fpr("0.3", "0.01", 1000, 1000, "1e-5")
    direct = epsilon_from_counts(300, 1000, 10, 1000, "1e-5")
    assert b.epsilon == direct.epsilon > 0
    rounded = epsilon_from_tpr_at_fpr("0.3", "0.01", 1000, 1000, "1e-5", resolution="0.0005")
    assert rounded.counts == {"true_positives": 300, "false_positives": 10}
    worse = epsilon_from_tpr_at_fpr("0.3", "0.01", 1000, 1000, "1e-5", resolution="0.005")
    assert worse.epsilon < b.epsilon


def test_auc_near_chance_proves_nothing() -> None:
    assert epsilon_from_auc("0.52", 500, 500, "1e-5").epsilon == 0
    assert epsilon_from_auc("0.99", 500, 500, "1e-5").epsilon > 2


@pytest.mark.parametrize("call, name", [
    (lambda: epsilon_from_accuracy("1.2", 10, 10, "1e-5"), "accuracy"),
    (lambda: epsilon_from_accuracy("0.6", 0, 10, "1e-5"), "members"),
    (lambda: epsilon_from_accuracy("0.6", 10, -1, "1e-5"), "nonmembers"),
    (lambda: epsilon_from_accuracy("0.6", 10, 10, "1"), "delta"),
    (lambda: epsilon_from_accuracy("0.6", 10, 10, "1e-5", confidence=1), "confidence"),
    (lambda: epsilon_from_accuracy("0.6", 10, 10, "1e-5", resolution=-1), "resolution"),
    (lambda: epsilon_from_auc(float("nan"), 10, 10, "1e-5"), "auc"),
    (lambda: epsilon_from_tpr_at_fpr("0.5", "-0.1", 10, 10, "1e-5"), "fpr"),
    (lambda: max_accuracy(-1, 0), "epsilon"),
    (lambda: max_accuracy(1, 0, "2"), "member_fraction"),
    (lambda: max_auc(1, "1.5"), "delta"),
])
def test_bad_input(call: object, name: str) -> None:
    with pytest.raises(InvalidArgument, match=name):
        call()  # type: ignore[operator]
