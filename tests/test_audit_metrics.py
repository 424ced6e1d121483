"""certify.audit.metrics and io: each metric against an independent computation (brute force,
scipy.stats.beta, mpmath root finding, simulation with a stated confidence), edge cases and
bad input."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta, binom, norm

from certify.audit import (
    accuracy,
    auc,
    auc_estimate,
    chernoff_hoeffding_interval,
    read_scores_csv,
    tpr_at_fpr,
)
from certify.audit.metrics import cp_lower, cp_upper
from certify.errors import InvalidArgument

small_scores = st.lists(st.integers(-3, 3), min_size=1, max_size=12)  # many ties


def _brute_auc(x: Sequence[float], y: Sequence[float]) -> Fraction:
    total = Fraction(0)
    for a in x:
        for b in y:
            total += 1 if a > b else Fraction(1, 2) if a == b else 0
    return total / (len(x) * len(y))


@settings(max_examples=150, deadline=None)
@given(small_scores, small_scores)
def test_auc_estimate_matches_brute_force_with_ties(x: list[int], y: list[int]) -> None:
    assert auc_estimate(x, y) == _brute_auc(x, y)


def test_auc_estimate_edge_cases() -> None:
    assert auc_estimate([1.0] * 5, [1.0] * 7) == Fraction(1, 2)  # all equal: every pair a tie
    assert auc_estimate([2.0], [1.0]) == 1
    assert auc_estimate([0.0], [1.0]) == 0
    assert auc_estimate([1, 2, 3], [0, 2, 4]) == Fraction(1 + Fraction(3, 2) + 2, 9)


def _mp_kl_root(u: Fraction, k: int, lower: bool) -> mpmath.mpf:
    """The root of k KL(u || p) = ln 40 (alpha = 1/40 per side) by mpmath at 50 digits."""
    with mpmath.workdps(50):
        uu = mpmath.mpf(u.numerator) / u.denominator

        def g(p: mpmath.mpf) -> mpmath.mpf:
            t1 = uu * mpmath.log(uu / p) if uu > 0 else 0
            t2 = (1 - uu) * mpmath.log((1 - uu) / (1 - p)) if uu < 1 else 0
            return k * (t1 + t2) - mpmath.log(40)  # alpha = 1/40 per side

        if lower:
            return mpmath.findroot(g, (mpmath.mpf("1e-30"), uu), solver="anderson")
        return mpmath.findroot(g, (uu, 1 - mpmath.mpf("1e-30")), solver="anderson")


@pytest.mark.parametrize(("u", "k"), [(Fraction(1), 1000), (Fraction(3, 4), 200),
                                      (Fraction(1, 2), 50), (Fraction(99, 100), 5000),
                                      (Fraction(1, 1000), 1000)])
def test_chernoff_hoeffding_limits_match_mpmath(u: Fraction, k: int) -> None:
    lo, hi = chernoff_hoeffding_interval(u, k, "0.95")
    alpha = 0.025
    root_lo = _mp_kl_root(u, k, lower=True)
    with mpmath.workdps(50):
        tol = mpmath.mpf("1e-10")
        assert mpmath.mpf(str(lo)) <= root_lo <= mpmath.mpf(str(lo)) * (1 + tol)
        if u < 1:
            root_hi = _mp_kl_root(u, k, lower=False)
            assert mpmath.mpf(str(hi)) * (1 - tol) <= root_hi <= mpmath.mpf(str(hi))
        else:
            assert hi == 1
    if u == 1:  # closed form alpha^(1/k)
        assert abs(float(lo) - alpha ** (1 / k)) < 1e-11


def test_chernoff_hoeffding_is_tighter_than_subgaussian_hoeffding() -> None:
    for u, k in [(Fraction(1, 2), 100), (Fraction(9, 10), 400), (Fraction(1), 1000)]:
        lo, hi = chernoff_hoeffding_interval(u, k, "0.95")
        radius = np.sqrt(np.log(1 / 0.025) / (2 * k))
        assert float(lo) >= float(u) - radius - 1e-12
        assert float(hi) <= float(u) + radius + 1e-12


def _binomial_ok(violations: int, trials: int, rate: float) -> bool:
    """Violations are not significantly above ``rate`` (one-sided binomial test at 1e-3)."""
    return float(binom.sf(violations - 1, trials, rate)) >= 1e-3


@pytest.mark.parametrize("mu", [1.0, 4.0])
def test_auc_interval_coverage_by_simulation(mu: float) -> None:
    truth = norm.cdf(mu / np.sqrt(2))  # P(X > Y) for X ~ N(mu, 1), Y ~ N(0, 1)
    seeds, misses = 120, 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        ci = auc(rng.normal(mu, 1, 80), rng.normal(0, 1, 60), "0.8")
        misses += not ci.contains(truth)
    assert _binomial_ok(misses, seeds, 0.2)


def test_auc_perfect_separation_lower_limit() -> None:
    ci = auc(np.full(1000, 2.0), np.zeros(1000), "0.95")
    assert ci.estimate == 1 and ci.upper == 1
    assert abs(float(ci.lower) - 0.025 ** (1 / 1000)) < 1e-11
    assert ci.lower > Fraction(99, 100)
    uneven = auc(np.full(50, 2.0), np.zeros(5000), "0.95")  # k = min(n, m) = 50
    assert abs(float(uneven.lower) - 0.025 ** (1 / 50)) < 1e-11


def test_clopper_pearson_against_scipy_beta() -> None:
    for k, n in [(0, 10), (3, 10), (10, 10), (1, 1000), (999, 1000)]:
        a = Fraction(1, 40)
        lo, hi = cp_lower(k, n, a), cp_upper(k, n, a)
        ref_lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
        ref_hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
        assert float(lo) <= ref_lo + 1e-12 and abs(float(lo) - ref_lo) < 1e-8
        assert float(hi) >= ref_hi - 1e-12 and abs(float(hi) - ref_hi) < 1e-8


def _brute_tpr_at_fpr(x: list[float], y: list[float], f: Fraction) -> tuple[float, int, int]:
    """Smallest threshold among the scores with at most floor(f m) non-members above it."""
    c = int(f * len(y))
    best = None
    for t in sorted(set(y)):
        if sum(v > t for v in y) <= c:
            best = t
            break
    assert best is not None
    return best, sum(v > best for v in x), sum(v > best for v in y)


@settings(max_examples=80, deadline=None)
@given(small_scores, small_scores, st.sampled_from(["0.01", "0.1", "0.25", "0.5", "0.9"]))
def test_tpr_at_fpr_matches_brute_force(x: list[int], y: list[int], f: str) -> None:
    res = tpr_at_fpr(x, y, f, "0.9")
    t, tp, fp = _brute_tpr_at_fpr([float(v) for v in x], [float(v) for v in y], Fraction(f))
    assert (res.threshold, res.true_positives, res.false_positives) == (t, tp, fp)
    assert res.false_positives <= res.allowed_false_positives
    assert res.tpr.estimate == Fraction(tp, len(x))
    assert float(res.tpr.lower) <= float(res.tpr.estimate) <= float(res.tpr.upper)


def test_fpr_upper_limit_is_valid_for_the_data_chosen_threshold() -> None:
    """The lemma behind tpr_at_fpr and the eps bound: P(FPR(t_c) > CP_U(c)) <= alpha, for a
    continuous law (where it is exact: 1 - t_c ~ Beta(c+1, m-c)) and a law with atoms."""
    m, c, reps = 40, 2, 3000
    u_limit = float(cp_upper(c, m, Fraction(1, 10)))
    rng = np.random.default_rng(3)
    cont = rng.random((reps, m))
    t = np.sort(cont, axis=1)[:, m - 1 - c]
    misses_cont = int(np.sum(1 - t > u_limit))
    atoms = rng.integers(0, 6, (reps, m)).astype(float)
    t2 = np.sort(atoms, axis=1)[:, m - 1 - c]
    true_fpr = (5 - t2) / 6  # P(Y > t) for Y uniform on {0..5}
    misses_atoms = int(np.sum(true_fpr > u_limit))
    assert _binomial_ok(misses_cont, reps, 0.1) and misses_cont > 0.05 * reps  # exact: ~alpha
    assert _binomial_ok(misses_atoms, reps, 0.1)


def _brute_best_balanced(x: list[float], y: list[float]) -> Fraction:
    cuts = sorted(set(x) | set(y)) + [min(x + y) - 1]
    return max((Fraction(sum(v > t for v in x), len(x)) + Fraction(sum(v <= t for v in y),
                len(y))) / 2 for t in cuts)


@settings(max_examples=80, deadline=None)
@given(small_scores, small_scores)
def test_best_balanced_accuracy_matches_brute_force(x: list[int], y: list[int]) -> None:
    res = accuracy(x, y, "0.9")
    assert res.balanced.estimate == _brute_best_balanced([float(v) for v in x],
                                                          [float(v) for v in y])
    radius = (np.sqrt(np.log(2 / 0.05) / (2 * len(x))) + np.sqrt(np.log(2 / 0.05) / (2 * len(y))))
    est = float(res.balanced.estimate)
    assert float(res.balanced.lower) <= max(0.0, est - radius / 2) + 1e-12
    assert float(res.balanced.upper) >= min(1.0, est + radius / 2) - 1e-12


def test_accuracy_fixed_threshold_and_all_equal_scores() -> None:
    res = accuracy([1, 2, 3, 4], [0, 1, 2, 3], "0.9", threshold=2.5)
    assert (res.true_positives, res.true_negatives) == (2, 3)
    assert res.balanced.estimate == Fraction(5, 8)
    lo = (float(cp_lower(2, 4, Fraction(1, 40))) + float(cp_lower(3, 4, Fraction(1, 40)))) / 2
    assert abs(float(res.balanced.lower) - lo) < 1e-12
    flat = accuracy([0.5] * 10, [0.5] * 10, "0.9")
    assert flat.balanced.estimate == Fraction(1, 2) and flat.threshold is None
    assert auc([0.5] * 10, [0.5] * 10).estimate == Fraction(1, 2)
    t = tpr_at_fpr([0.5] * 10, [0.5] * 10, "0.1")
    assert t.true_positives == 0 and t.false_positives == 0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: auc([], [1.0]), "members=[]"),
        (lambda: auc([1.0], []), "nonmembers=[]"),
        (lambda: auc([1.0, float("nan")], [1.0]), "finite"),
        (lambda: auc([[1.0]], [1.0]), "one-dimensional"),
        (lambda: auc(["a"], [1.0]), "real numbers"),
        (lambda: auc([1.0], [0.0], "1.5"), "confidence=1.5"),
        (lambda: tpr_at_fpr([1.0], [0.0], "0"), "fpr=0"),
        (lambda: tpr_at_fpr([1.0], [0.0], 1), "fpr=1"),
        (lambda: chernoff_hoeffding_interval("1.5", 10), "estimate=1.5"),
        (lambda: chernoff_hoeffding_interval("0.5", 0), "k=0"),
    ],
)
def test_bad_input_is_invalid_argument(call: object, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        call()  # type: ignore[operator]


def test_read_scores_csv(tmp_path: Path) -> None:
    good = tmp_path / "s.csv"
    good.write_text("# comment\nid,Score,member\na,0.5,1\nb,-1e3,0\n\nc,2,true\nd,3,no\n")
    members, nonmembers = read_scores_csv(good)
    assert members.tolist() == [0.5, 2.0] and nonmembers.tolist() == [-1000.0, 3.0]
    cases = {
        "empty.csv": "",
        "nohead.csv": "value,member\n1,1\n",
        "nolabel.csv": "score,x\n1,1\n",
        "badnum.csv": "score,member\nabc,1\n0,0\n",
        "inf.csv": "score,member\ninf,1\n0,0\n",
        "badlabel.csv": "score,member\n1,2\n0,0\n",
        "short.csv": "score,member\n1\n",
        "onlymembers.csv": "score,member\n1,1\n2,1\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(InvalidArgument, match="scores="):
            read_scores_csv(path)
    with pytest.raises(InvalidArgument, match="not a readable file"):
        read_scores_csv(tmp_path / "missing.csv")
