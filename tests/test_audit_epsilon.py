"""certify.audit.epsilon: the certified empirical eps lower bound.

Validity is tested where the truth is known: samples of the Gaussian mechanism (exact profile
from certify.mechanisms.gaussian) over many seeds, counting the seeds where the bound exceeds the
certified eps(delta) and comparing with the allowed rate 1 - confidence by a one-sided binomial
test; a plug-in estimator without confidence accounting fails the same test (so it can fail).
Tightness: the bound approaches eps(delta) as the trial count grows.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from scipy.stats import beta, binom

from certify.audit import default_levels, epsilon_from_counts, epsilon_lower_bound
from certify.errors import InvalidArgument
from certify.mechanisms.gaussian import GaussianMechanism

MECH = GaussianMechanism(sigma=1, sensitivity=1)  # N(1, 1) (members) vs N(0, 1): mu = 1
DELTA = "0.1"
EPS_TRUE = MECH.epsilon(DELTA)  # ~1.1603, certified enclosure


def _samples(n: int, seed: int, mech: GaussianMechanism = MECH) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return mech.sample(n, rng, neighbour=1)[:, 0], mech.sample(n, rng, neighbour=0)[:, 0]


def _too_many(violations: int, seeds: int, rate: float) -> bool:
    """Significantly more violations than ``rate`` allows (one-sided binomial test at 1e-3)."""
    return float(binom.sf(violations - 1, seeds, rate)) < 1e-3


def _plug_in(members: np.ndarray, nonmembers: np.ndarray, delta: float) -> float:
    """max over thresholds of ln((TPR_hat - delta)/FPR_hat): no confidence accounting."""
    xs, ys = np.sort(members), np.sort(nonmembers)
    best = 0.0
    for t in ys[:-1]:
        tpr = (xs.size - np.searchsorted(xs, t, side="right")) / xs.size
        fpr = (ys.size - np.searchsorted(ys, t, side="right")) / ys.size
        if tpr > delta and fpr > 0:
            best = max(best, math.log((tpr - delta) / fpr))
    return best


def test_never_exceeds_the_certified_epsilon_over_many_seeds() -> None:
    seeds, confidence = 150, 0.95
    bounds = [epsilon_lower_bound(*_samples(300, s), DELTA, confidence="0.95").epsilon
              for s in range(seeds)]
    violations = sum(b > EPS_TRUE.upper for b in bounds)
    assert not _too_many(violations, seeds, 1 - confidence)
    assert float(np.mean([float(b) for b in bounds])) > 0.3  # informative, not just 0
    plug = [_plug_in(*_samples(300, s), 0.1) for s in range(seeds)]
    plug_violations = sum(p > float(EPS_TRUE.upper) for p in plug)
    assert _too_many(plug_violations, seeds, 1 - confidence)  # the test has power


def test_identical_laws_give_zero_at_the_stated_rate() -> None:
    same = GaussianMechanism(sigma=1, sensitivity=1)
    seeds = 150
    positives = 0
    for s in range(seeds):
        rng = np.random.default_rng(1000 + s)
        x, y = same.sample(200, rng, 0)[:, 0], same.sample(200, rng, 0)[:, 0]
        positives += epsilon_lower_bound(x, y, "0", confidence="0.8").epsilon > 0
    assert not _too_many(positives, seeds, 0.2)


def test_approaches_the_certified_epsilon() -> None:
    values = [float(epsilon_lower_bound(*_samples(n, 7), DELTA).epsilon)
              for n in (1000, 10_000, 100_000)]
    truth = float(EPS_TRUE.lower)
    assert all(v <= float(EPS_TRUE.upper) for v in values)
    assert values[0] < values[1] < values[2]
    assert truth - values[2] < 0.15
    assert truth - values[2] < (truth - values[0]) / 3


@pytest.mark.large
def test_approaches_the_certified_epsilon_large() -> None:
    value = float(epsilon_lower_bound(*_samples(1_000_000, 11), DELTA).epsilon)
    assert float(EPS_TRUE.lower) - 0.06 < value <= float(EPS_TRUE.upper)


def test_perfect_separation_matches_closed_form() -> None:
    n = m = 1000
    res = epsilon_lower_bound(np.ones(n), np.zeros(m), "1e-5", confidence="0.95")
    tests = 2 * len(default_levels(1000))
    assert res.tests == tests
    a = 0.05 / (2 * tests)
    with mpmath.workdps(40):
        aa = mpmath.mpf(1) / 20 / (2 * tests)
        expect = mpmath.log((aa ** (mpmath.mpf(1) / n) - mpmath.mpf("1e-5"))
                            / (1 - aa ** (mpmath.mpf(1) / m)))
        assert abs(mpmath.mpf(str(res.epsilon)) - expect) < mpmath.mpf("1e-9")
        assert mpmath.mpf(str(res.epsilon)) <= expect
    assert res.best is not None and res.best.level == 0 and res.best.true_positives == n
    assert res.alpha_per_limit == Fraction(1, 20) / (2 * tests)
    assert abs(float(res.alpha_per_limit) - a) < 1e-18


def test_each_direction_and_its_threshold_in_score_units() -> None:
    x, y = _samples(2000, 3)
    both = epsilon_lower_bound(x, y, DELTA)
    high = epsilon_lower_bound(x, y, DELTA, directions=["members-high"])
    low = epsilon_lower_bound(x, y, DELTA, directions=["members-low"])
    assert high.tests == low.tests == len(default_levels(2000)) and both.tests == 2 * high.tests
    for res, name in ((high, "members-high"), (low, "members-low")):
        assert res.epsilon > 0 and res.best is not None and res.best.direction == name
    assert high.best is not None and low.best is not None and high.best.threshold is not None
    assert low.best.threshold is not None
    # members-high flags score > t among members; members-low flags score < t among non-members
    assert high.best.true_positives == int(np.sum(x > high.best.threshold))
    assert low.best.true_positives == int(np.sum(y < low.best.threshold))
    assert int(np.sum(x < low.best.threshold)) <= low.best.level
    # scores against the convention (members lower) carry no evidence in these two tests
    assert epsilon_lower_bound(-x, -y, DELTA).epsilon == 0


def test_epsilon_from_counts_against_scipy() -> None:
    res = epsilon_from_counts(90, 100, 5, 100, "0.01", confidence="0.95", tests=2)
    a = 0.05 / 4
    tl = beta.ppf(a, 90, 11)
    fu = beta.ppf(1 - a, 6, 95)
    assert abs(float(res.epsilon) - math.log((tl - 0.01) / fu)) < 1e-8
    assert res.epsilon <= Decimal(math.log((tl - 0.01) / fu)) + Decimal("1e-12")
    weak = epsilon_from_counts(50, 100, 50, 100, "0.01")
    assert weak.epsilon == 0


def test_all_equal_scores_and_default_levels() -> None:
    assert epsilon_lower_bound([0.5] * 50, [0.5] * 50, "1e-5").epsilon == 0
    assert default_levels(1) == (0,)
    assert default_levels(10) == (0, 1, 2, 3, 4, 6, 8)
    lv = default_levels(1000)
    assert lv[0] == 0 and lv[-1] < 1000 and all(b > a for a, b in zip(lv, lv[1:], strict=False))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"delta": "1"}, "delta=1"),
        ({"delta": "-0.1"}, "delta=-0.1"),
        ({"delta": "0.1", "confidence": "1"}, "confidence=1"),
        ({"delta": "0.1", "levels": [5]}, "levels: 5"),
        ({"delta": "0.1", "levels": [-1]}, "levels: -1"),
        ({"delta": "0.1", "levels": []}, "levels=\\[\\]"),
        ({"delta": "0.1", "directions": ["up"]}, "directions="),
        ({"delta": "0.1", "directions": []}, "directions="),
    ],
)
def test_bad_input(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment):
        epsilon_lower_bound([1.0, 2.0, 3.0], [0.0, 1.0, 2.0], **kwargs)  # type: ignore[arg-type]


def test_bad_counts() -> None:
    with pytest.raises(InvalidArgument, match="true_positives=11"):
        epsilon_from_counts(11, 10, 0, 10, "0.1")
    with pytest.raises(InvalidArgument, match="negatives=0"):
        epsilon_from_counts(1, 10, 0, 0, "0.1")
    with pytest.raises(InvalidArgument, match="members=\\[\\]"):
        epsilon_lower_bound([], [1.0], "0.1")
