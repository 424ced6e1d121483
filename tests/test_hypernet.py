"""The one-shot embedding release (HYP-1) and the synthetic comparison's formulas (HYP-2).

Oracles: mpmath at 50 digits (Balle-Wang root by mpmath.findroot, the classical calibration);
exhaustive search over small datasets for the sensitivities; exact Fraction sums for DP-SGD's
noise weight; Monte Carlo simulation of DP-SGD and of the hypernetwork release (fixed seeds,
6-sigma margins).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InvalidArgument
from certify.mechanisms.gaussian import GaussianMechanism
from certify.mechanisms.hypernet import (
    EmbeddingRelease,
    analytic_mu,
    calibrate_sigma,
    classical_sigma,
    embedding_sensitivity,
)


def mpf(q: object) -> mpmath.mpf:
    f = Fraction(q)  # type: ignore[call-overload]
    return mpmath.mpf(f.numerator) / f.denominator


def mp_bw(mu: mpmath.mpf, eps: mpmath.mpf) -> mpmath.mpf:
    return mpmath.ncdf(mu / 2 - eps / mu) - mpmath.exp(eps) * mpmath.ncdf(-mu / 2 - eps / mu)


# -- sensitivities ----------------------------------------------------------------------------
def test_sensitivity_table() -> None:
    assert embedding_sensitivity(1) == 1
    assert embedding_sensitivity(1, "sum", "replace-one") == 2
    assert embedding_sensitivity(1, "mean", "add-remove", 10) == Fraction(2, 11)
    assert embedding_sensitivity(1, "mean", "add-remove", 10, "fixed") == Fraction(1, 10)
    assert embedding_sensitivity(3, "mean", "replace-one", 10) == Fraction(6, 10)
    with pytest.raises(InvalidArgument, match="n=None"):
        embedding_sensitivity(1, "mean")
    with pytest.raises(InvalidArgument, match="aggregation=median"):
        embedding_sensitivity(1, "median")
    with pytest.raises(InvalidArgument, match="n=0"):
        embedding_sensitivity(1, "mean", n=0)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_mean_sensitivity_exhaustive(n: int) -> None:
    """One-dimensional embeddings on a grid of [-1, 1] (C = 1): the largest change of the mean
    over the private count when one record is added to a set of n records, by exhaustion."""
    grid = [Fraction(i, 4) for i in range(-4, 5)]
    best = Fraction(0)
    for data in itertools.product(grid, repeat=n):
        mean = sum(data, Fraction(0)) / n
        for e in grid:
            best = max(best, abs((sum(data, Fraction(0)) + e) / (n + 1) - mean))
    assert best == embedding_sensitivity(1, "mean", "add-remove", n)
    assert best >= Fraction(1, n)  # the naive C/n (equality only at n = 1)


# -- calibration ------------------------------------------------------------------------------
@settings(max_examples=25)
@given(st.fractions(min_value=0, max_value=30, max_denominator=20),
       st.integers(min_value=1, max_value=20))
def test_analytic_mu_against_findroot(eps: Fraction, k: int) -> None:
    dlt = Fraction(1, 10**k)
    b = analytic_mu(eps, dlt)
    with mpmath.workdps(50):
        e, d = mpf(eps), mpf(dlt)
        guess = mpf(b.mid)
        truth = mpmath.findroot(lambda m: mpmath.log(mp_bw(m, e)) - mpmath.log(d), guess)
        assert b.contains(truth)


@pytest.mark.parametrize("eps, delta, sens", [(1, "1e-5", 1), ("0.1", "1e-8", 2),
                                               (8, "1e-6", Fraction(2, 1001)), (0, "0.01", 1)])
def test_calibrated_sigma_guarantees(eps: object, delta: str, sens: object) -> None:
    sigma = calibrate_sigma(eps, delta, sens)
    assert sigma.rel_width <= 1e-9
    at_hi = GaussianMechanism(Fraction(sigma.upper), sens).delta(eps)
    at_lo = GaussianMechanism(Fraction(sigma.lower), sens).delta(eps)
    assert at_hi.le(Fraction(delta)) is True
    assert at_lo.gt(Fraction(delta)) is True


def test_classical_sigma_against_mpmath() -> None:
    b = classical_sigma(2, "1e-5", 3)
    with mpmath.workdps(50):
        truth = 3 * mpmath.sqrt(2 * mpmath.log(mpmath.mpf("1.25") / mpmath.mpf("1e-5"))) / 2
        assert b.contains(truth)


def test_classical_fails_at_large_eps_and_holds_small() -> None:
    for eps, fails in ((Fraction(1, 2), False), (16, True)):
        s = classical_sigma(eps, "1e-5", 1)
        d = GaussianMechanism(Fraction(s.upper), 1).delta(eps)
        assert d.gt(Fraction(1, 10**5)) is fails


def test_release_profile_is_gaussian() -> None:
    rel = EmbeddingRelease(3, 1, "mean", "add-remove", 1000)
    ref = GaussianMechanism(3, Fraction(2, 1001))
    assert rel.delta(Fraction(1, 10**6)).overlaps(ref.delta(Fraction(1, 10**6)))
    assert rel.params()["sensitivity"] == "2/1001"
    with pytest.raises(InvalidArgument, match="sigma=-1"):
        EmbeddingRelease(-1)
    with pytest.raises(InvalidArgument, match="denominator=public"):
        EmbeddingRelease(1, 1, "mean", "add-remove", 10, "public")


def test_release_monte_carlo_matches_sensitivity() -> None:
    """Sampled releases of the worst pair for the mean over the private count (n = 3, C = 1)
    have the privacy loss of N(Delta, sigma^2) vs N(0, sigma^2): delta(0) = TV by sampling."""
    rng = np.random.default_rng(12)
    sigma, n, trials = 0.5, 3, 400_000
    d1 = np.array([1.0, 1.0, 1.0])
    d2 = np.append(d1, -1.0)
    x = d1.mean() + sigma * rng.standard_normal(trials)
    y = d2.mean() + sigma * rng.standard_normal(trials)
    mid = (d1.mean() + d2.mean()) / 2
    tv = float(np.mean(x > mid) - np.mean(y > mid))
    exact = GaussianMechanism(Fraction(sigma), embedding_sensitivity(1, "mean", "add-remove",
                                                                      n)).delta(0)
    assert abs(tv - exact.mid) <= 6 * math.sqrt(0.5 / trials)


# -- HYP-2 formulas -----------------------------------------------------------------------------
def test_gamma_is_the_geometric_sum() -> None:
    from certify.claims.hypernet import SyntheticSetting

    s = SyntheticSetting(steps=37, eta=Fraction(3, 10))
    direct = sum((s.eta**2 * (1 - s.eta) ** (2 * j) for j in range(37)), Fraction(0))
    assert s.gamma() == direct


def test_dpsgd_error_monte_carlo() -> None:
    """Simulate DP-SGD on the quadratic model (d = 3, n = 40, Poisson rate 0.3, T = 15,
    eta = 0.2, z = 0.7): the mean squared error matches the closed form."""
    from certify.claims.hypernet import SyntheticSetting

    rng = np.random.default_rng(13)
    d, n, q, steps, eta, z = 3, 40, 0.3, 15, 0.2, 0.7
    t = rng.normal(size=(n, d))
    t /= np.linalg.norm(t, axis=1, keepdims=True)  # |t_i| = C = 1
    tbar = t.mean(axis=0)
    runs = 20_000
    theta = np.zeros((runs, d))
    for _ in range(steps):
        mask = rng.random((runs, n)) < q
        noisy = (mask @ t + z * rng.standard_normal((runs, d))) / (q * n)
        theta = theta - eta * (theta - noisy)
    err = np.sum((theta - tbar) ** 2, axis=1)
    s = SyntheticSetting(n=n, d=d, k=1, tbar_sq=Fraction(float(tbar @ tbar)),
                         q=Fraction(q), steps=steps, eta=Fraction(eta))
    exact = float(s.dpsgd_error(Fraction(z)))
    assert abs(float(err.mean()) - exact) <= 6 * float(err.std()) / math.sqrt(runs)


def test_hypernet_error_monte_carlo() -> None:
    """Hypernetwork release with W of orthonormal columns (d = 6, k = 2): E|W s/n - tbar|^2 =
    |(I - W W^T) tbar|^2 + k sigma^2 / n^2."""
    from certify.claims.hypernet import SyntheticSetting

    rng = np.random.default_rng(14)
    d, k, n, sigma, runs = 6, 2, 25, 3.0, 100_000
    w = np.linalg.qr(rng.normal(size=(d, k)))[0]
    t = rng.normal(size=(n, d))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    tbar = t.mean(axis=0)
    s_sum = (t @ w).sum(axis=0)
    theta = ((s_sum + sigma * rng.standard_normal((runs, k))) / n) @ w.T
    err = np.sum((theta - tbar) ** 2, axis=1)
    rho = float(np.sum((tbar - w @ (w.T @ tbar)) ** 2))
    setting = SyntheticSetting(n=n, d=d, k=k)
    exact = float(setting.hypernet_error(Fraction(sigma), Fraction(rho)))
    assert abs(float(err.mean()) - exact) <= 6 * float(err.std()) / math.sqrt(runs)


def test_oneshot_flip_is_where_errors_cross() -> None:
    from certify.claims.hypernet import RHOS, SETTING, oneshot_flip_epsilon

    flip = oneshot_flip_epsilon()
    for eps, hyp_wins in ((Fraction(flip.lower) * Fraction(99, 100), True),
                          (Fraction(flip.upper) * Fraction(101, 100), False)):
        sigma = calibrate_sigma(eps, SETTING.delta, SETTING.clip)
        s = Fraction(sigma.mid)
        assert (SETTING.hypernet_error(s, RHOS[1]) < SETTING.oneshot_error(s)) is hyp_wins


def test_proofs_pass() -> None:
    from proofs.hypernet import HYPERNET_PROOFS

    for proof in HYPERNET_PROOFS:
        assert proof().ok


# -- CLI -----------------------------------------------------------------------------------------
def test_cli_profile(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from certify.cli import main

    code = main(["profile", "embedding-release", "sigma=0.5", "aggregation=mean", "n=3",
                 "epsilon=0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["params"]["sensitivity"] == "0.5"
    with mpmath.workdps(40):
        truth = 2 * mpmath.ncdf(mpmath.mpf(1) / 2) - 1  # mu = 1: delta(0) = 2 Phi(1/2) - 1
        assert mpmath.mpf(out["delta"]["lower"]) <= truth <= mpmath.mpf(out["delta"]["upper"])
    # the JSON's params rebuild the same mechanism (the derived sensitivity is accepted back)
    again = ["profile", "embedding-release", *(f"{k}={v}" for k, v in out["params"].items()),
             "epsilon=0", "--json"]
    assert main(again) == 0 and json.loads(capsys.readouterr().out)["delta"] == out["delta"]
    code = main(["profile", "embedding-release", "sigma=0.5", "aggregation=mean", "n=3",
                 "sensitivity=1", "epsilon=0"])
    assert code == 2 and "sensitivity='1'" in capsys.readouterr().err
    code = main(["profile", "embedding-release", "sigma=1", "aggregation=mean", "delta=1e-5"])
    assert code == 2 and "n=None" in capsys.readouterr().err
    code = main(["profile", "embedding-release", "sigma=1", "n=x", "aggregation=mean",
                 "delta=1e-5"])
    assert code == 2 and "n=x" in capsys.readouterr().err


def test_analytic_mu_tiny_delta() -> None:
    mu = analytic_mu(1, Fraction(1, 10**400))
    for end, above in ((Fraction(mu.upper), True), (Fraction(mu.lower), False)):
        d = GaussianMechanism(1, end).delta(1)  # sigma = 1, sensitivity = mu
        assert d.gt(Fraction(1, 10**400)) is above
