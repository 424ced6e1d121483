"""Statistical tests of the noisy Wishart samplers against the derived laws and the certified
bounds (fixed seeds; every interval is stated with its confidence level).

- moments: E y = V and Var(e_2^T y) from the derivations (z-scores, |z| < 5);
- the 1-D statistic: empirical P[e_2^T y > t] (direct sampler) inside 99.9% Clopper-Pearson
  limits overlapping the certified probability (MV + E) or the certified enclosure (M(V + E));
- hockey-stick estimates: sample averages of the exact conditional profile (M public) or of
  ``(1 - e^{eps - L})_+`` with the privacy loss ``L`` of MV + E computed by float quadrature,
  with 99.9% Hoeffding intervals, must meet the certified bounds.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.special import logsumexp, ndtr

from certify.mechanisms.wishart_noisy import (
    WishartNoisyPost,
    WishartNoisyPre,
    canonical_pair,
    sample_noisy_post,
    sample_noisy_pre,
)
from certify.stats.binomial import clopper_pearson
from certify.wishart.noisy import post_bracket
from certify.wishart.noisy_hidden import hidden_event_bounds, threshold_tau
from certify.wishart.noisy_post import event_probabilities
from certify.wishart.noisy_pre import public_delta

CONFIDENCE = "0.999"


def _hoeffding(n: int, alpha: float = 1e-3) -> float:
    """Half-width of the two-sided (1 - alpha) Hoeffding interval for a mean of [0, 1] values."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def _e2(d: int, rho: Fraction) -> np.ndarray:
    v, w = canonical_pair(d, rho)
    return (v - w) / np.linalg.norm(v - w)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("method", ["law", "direct"])
def test_post_moments(backend: str, method: str) -> None:
    pytest.importorskip("torch") if backend == "torch" else None
    d, r, rho, sigma, n = 6, 3, Fraction(1, 2), 0.7, 60_000
    v, _ = canonical_pair(d, rho)
    y = sample_noisy_post(v, r, sigma, n, seed=5, backend=backend, device="cpu", method=method)
    mean_z = (y.mean(axis=0) - v) / (y.std(axis=0) / math.sqrt(n))
    assert np.all(np.abs(mean_z) < 5)
    t = y @ _e2(d, rho)
    b2, c2 = (1 - float(rho)) / 2, (1 + float(rho)) / 2
    var = sigma**2 + c2 / r + b2 * 2 / r  # E Var(T|s) + Var E(T|s)
    sd_var = math.sqrt((np.mean((t - t.mean()) ** 4) - var**2) / n)
    assert abs(t.var() - var) < 5 * sd_var


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("method", ["law", "direct"])
def test_pre_moments(backend: str, method: str) -> None:
    pytest.importorskip("torch") if backend == "torch" else None
    d, r, rho, sigma, n = 6, 2, Fraction(1, 2), 0.7, 60_000
    v, _ = canonical_pair(d, rho)
    y = sample_noisy_pre(v, r, sigma, n, seed=6, backend=backend, device="cpu", method=method)
    mean_z = (y.mean(axis=0) - v) / (y.std(axis=0) / math.sqrt(n))
    assert np.all(np.abs(mean_z) < 5)
    t = y @ _e2(d, rho)
    b2, c2 = (1 - float(rho)) / 2, (1 + float(rho)) / 2
    mean_h = sigma**2 * (d - 1) + c2
    # T | (s, h) ~ N(b s, sigma^2 s^2 + s h / r): E s^2 = 1 + 2/r, Var s = 2/r
    var = sigma**2 * (1 + 2 / r) + mean_h / r + b2 * 2 / r
    sd_var = math.sqrt((np.mean((t - t.mean()) ** 4) - var**2) / n)
    assert abs(t.var() - var) < 5 * sd_var


def test_post_statistic_law_matches_certified_probabilities() -> None:
    d, r, rho, sigma, t = 5, 2, Fraction(0), Fraction(1, 2), Fraction(3, 4)
    pv, pw = event_probabilities(r, rho, sigma, t)
    for neighbour, certified in ((0, pv), (1, pw)):
        vec = canonical_pair(d, rho)[neighbour]
        y = sample_noisy_post(vec, r, sigma, 40_000, seed=10 + neighbour, method="direct")
        k = int(np.sum(y @ _e2(d, rho) > float(t)))
        lo, hi = clopper_pearson(k, y.shape[0], CONFIDENCE)
        assert lo.lower <= certified.upper and certified.lower <= hi.upper


def test_pre_statistic_law_inside_certified_enclosure() -> None:
    d, r, rho, sigma, x_star = 6, 2, Fraction(1, 2), Fraction(1), Fraction(3, 2)
    pv, pw = hidden_event_bounds(d, r, rho, sigma, x_star, cells=60)
    tau = threshold_tau(rho, x_star)
    for neighbour, certified in ((0, pv), (1, pw)):
        vec = canonical_pair(d, rho)[neighbour]
        y = sample_noisy_pre(vec, r, sigma, 40_000, seed=20 + neighbour, method="direct")
        k = int(np.sum(y @ _e2(d, rho) > tau))
        lo, hi = clopper_pearson(k, y.shape[0], CONFIDENCE)
        assert lo.lower <= certified.upper and certified.lower <= hi.upper


def test_public_profile_against_sampled_subspaces() -> None:
    """delta_pub(eps) = E_A delta_G(||P_A w|| / sigma, eps): average the conditional Gaussian
    profile over sampled A (QR of the row space) -- an independent route to the Beta law."""
    d, r, rho, sigma, eps, n = 12, 3, Fraction(1, 2), Fraction(1, 2), Fraction(1, 2), 20_000
    rng = np.random.default_rng(31)
    v, vp = canonical_pair(d, rho)
    w = v - vp
    a = rng.standard_normal((n, r, d))
    q, _ = np.linalg.qr(np.swapaxes(a, 1, 2))  # (n, d, r): orthonormal basis of the row space
    proj = np.einsum("ndr,d->nr", q, w)
    mu = np.linalg.norm(proj, axis=1) / float(sigma)
    e = float(eps)
    vals = ndtr(mu / 2 - e / mu) - math.exp(e) * ndtr(-mu / 2 - e / mu)
    est, half = float(vals.mean()), _hoeffding(n)
    exact = public_delta(d, r, 2 * (1 - rho) / sigma**2, eps)
    assert est - half <= float(exact.upper) and float(exact.lower) <= est + half
    # and the mechanism's own sampler agrees with the projection picture in the mean
    mech = WishartNoisyPre(d, r, rho, sigma, release="matrix")
    assert mech.delta(eps).overlaps(exact)


def _post_log_density(y: np.ndarray, vec: np.ndarray, r: int, sigma: float,
                      s_nodes: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """log p_V(y) for MV + E: the mixture over s of N(s V, sigma^2 I + (s/r)(I - V V^T)),
    by a product rule on probability midpoints of s (float; the test's own oracle)."""
    d = y.shape[1]
    a = y @ vec
    n2 = np.sum(y * y, axis=1)
    s = s_nodes[None, :]
    tau = s / r + sigma**2
    log_k = (-(a[:, None] - s) ** 2 / (2 * sigma**2) - (n2 - a * a)[:, None] / (2 * tau)
             - 0.5 * math.log(2 * math.pi * sigma**2) - (d - 1) / 2 * np.log(2 * math.pi * tau))
    return logsumexp(log_k + log_w[None, :], axis=1)


def test_post_hockey_stick_estimate_meets_certified_bracket() -> None:
    from scipy import stats

    d, r, rho, sigma, n = 4, 2, Fraction(1, 2), Fraction(1, 2), 10_000
    mech = WishartNoisyPost(d, r, rho, sigma)
    v, vp = canonical_pair(d, rho)
    edges = np.concatenate([[0.0], np.geomspace(1e-9, 1e-3, 200), np.linspace(2e-3, 0.998, 1200),
                            1 - np.geomspace(1e-3, 1e-12, 200), [1.0]])
    mids, weights = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    s_nodes = stats.chi2.ppf(mids, r) / r
    log_w = np.log(weights)
    y = mech.sample(n, neighbour=0, seed=41, method="direct")
    loss = (_post_log_density(y, v, r, float(sigma), s_nodes, log_w)
            - _post_log_density(y, vp, r, float(sigma), s_nodes, log_w))
    half = _hoeffding(n)
    for eps in (Fraction(0), Fraction(1)):
        est = float(np.mean(np.maximum(0.0, 1 - np.exp(float(eps) - loss))))
        br = post_bracket(d, r, rho, sigma, eps)
        assert est + half >= float(br.lower.lower)
        assert est - half <= float(br.upper.upper)


@pytest.mark.gpu
def test_cuda_samplers_match_moments() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    d, r, rho, sigma, n = 6, 3, Fraction(1, 2), 0.7, 60_000
    v, _ = canonical_pair(d, rho)
    for sampler in (sample_noisy_post, sample_noisy_pre):
        y = sampler(v, r, sigma, n, seed=7, backend="torch", device="cuda")
        z = (y.mean(axis=0) - v) / (y.std(axis=0) / math.sqrt(n))
        assert np.all(np.abs(z) < 5)
