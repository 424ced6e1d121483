"""Samplers of the Wishart mechanisms against the exact law of MV (certify.mechanisms.wishart,
certify.wishart.law; derivation proofs/wishart_law.py).

Statistical tests use fixed seeds and state their level: Kolmogorov-Smirnov p-values above
1e-4, z-scores below 5. A wrong law (a missing 1/r, a wrong dof) fails them by far.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from certify.errors import InvalidArgument
from certify.mechanisms.wishart import (
    WishartMatrixMechanism,
    WishartVectorMechanism,
    sample_vector_output,
    sample_wishart,
)
from certify.wishart.law import privacy_loss, reduced_coordinates

SEED = 20261122
P_MIN = 1e-4

try:
    import torch

    HAVE_TORCH = True
    HAVE_CUDA = bool(torch.cuda.is_available())
except ImportError:  # pragma: no cover
    HAVE_TORCH = HAVE_CUDA = False

BACKENDS = ["numpy"] + (["torch"] if HAVE_TORCH else [])


def _unit(d: int, seed: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(d)
    return v / np.linalg.norm(v)


# -- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"d": 1, "r": 1, "rho": "0.5"}, "d=1"),
        ({"d": 4, "r": 0, "rho": "0.5"}, "r=0"),
        ({"d": 4, "r": 5, "rho": "0.5"}, "r=5"),
        ({"d": 4, "r": 2, "rho": "1"}, "rho=1"),
        ({"d": 4, "r": 2, "rho": "-1"}, "rho=-1"),
        ({"d": 4, "r": 2, "rho": "abc"}, "rho="),
        ({"d": 4.0, "r": 2, "rho": "0.5"}, "d=4.0"),
    ],
)
def test_vector_mechanism_rejects_bad_parameters(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidArgument, match=name):
        WishartVectorMechanism(**kwargs)


def test_parameters_are_exact() -> None:
    mech = WishartVectorMechanism(8, 3, "0.1")
    assert mech.params() == {"d": "8", "r": "3", "rho": "0.1"}
    assert WishartVectorMechanism(8, 3, "-0.25").rho == -0.25
    assert WishartMatrixMechanism(4, 2).params() == {"d": "4", "r": "2"}


def test_sampler_arguments_are_validated() -> None:
    with pytest.raises(InvalidArgument, match="V=0"):
        sample_vector_output([0.0, 0.0], 1, 10)
    with pytest.raises(InvalidArgument, match="r=3"):
        sample_vector_output([1.0, 0.0], 3, 10)
    with pytest.raises(InvalidArgument, match="method"):
        sample_vector_output([1.0, 0.0], 1, 10, method="exact")
    with pytest.raises(InvalidArgument, match="backend"):
        sample_wishart(3, 2, 5, backend="jax")
    with pytest.raises(InvalidArgument, match="seed"):
        sample_wishart(3, 2, 5, seed=-1)
    with pytest.raises(InvalidArgument, match="size"):
        sample_wishart(3, 2, 0)
    with pytest.raises(InvalidArgument, match="F has shape"):
        WishartMatrixMechanism(3, 2).sample(np.ones((4, 2)), 3)
    with pytest.raises(InvalidArgument, match="neighbour"):
        WishartVectorMechanism(3, 2, "0.5").sample(3, neighbour=2)


# -- the Wishart matrix --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_wishart_mean_and_variance(backend: str) -> None:
    """E[M] = I, Var M_ii = 2/r, Var M_ij = 1/r (proofs.wishart)."""
    d, r, n = 4, 3, 40_000
    m = sample_wishart(d, r, n, seed=SEED, backend=backend, device="cpu" if backend == "torch"
                       else None)
    assert m.shape == (n, d, d)
    np.testing.assert_allclose(m, np.swapaxes(m, 1, 2), atol=1e-12)
    mean = m.mean(axis=0)
    sd_diag, sd_off = math.sqrt(2 / r / n), math.sqrt(1 / r / n)
    assert np.max(np.abs(np.diag(mean) - 1)) < 5 * sd_diag
    assert np.max(np.abs(mean - np.diag(np.diag(mean)))) < 5 * sd_off
    assert abs(m[:, 0, 0].var() - 2 / r) < 0.05 * 2 / r
    assert abs(m[:, 0, 1].var() - 1 / r) < 0.05 / r


def test_generator_seed_is_accepted_and_reproducible() -> None:
    a = sample_wishart(3, 2, 4, seed=np.random.default_rng(5))
    b = sample_wishart(3, 2, 4, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


# -- MV: the two samplers and the law ------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["law", "direct"])
def test_mv_moments(backend: str, method: str) -> None:
    """E[MV] = V and Cov(MV) = (V V^T + I)/r (Wishart second moment)."""
    d, r, n = 5, 2, 60_000
    v = _unit(d)
    y = sample_vector_output(v, r, n, seed=SEED, backend=backend, method=method,
                             device="cpu" if backend == "torch" else None)
    mean = y.mean(axis=0)
    cov_exact = (np.outer(v, v) + np.eye(d)) / r
    sd = np.sqrt(np.diag(cov_exact) / n)
    assert np.max(np.abs(mean - v) / sd) < 5
    cov = np.cov(y, rowvar=False)
    assert np.max(np.abs(cov - cov_exact)) < 0.06 * np.max(cov_exact)


@pytest.mark.parametrize("method", ["law", "direct"])
def test_mv_marginals(method: str) -> None:
    """V^T MV ~ chi2_r/r; the perpendicular coordinate over sqrt(s/r) is N(0,1);
    sqrt(r) (e^T MV)/(V^T MV) ~ t_r for a unit e perpendicular to V; W ~ chi2_{r+d-1}."""
    d, r, n = 6, 3, 30_000
    v = np.zeros(d)
    v[0] = 1.0
    y = sample_vector_output(v, r, n, seed=SEED + 1, method=method)
    s = y[:, 0]
    assert stats.kstest(s * r, stats.chi2(r).cdf).pvalue > P_MIN
    z = y[:, 1] / np.sqrt(s / r)
    assert stats.kstest(z, stats.norm.cdf).pvalue > P_MIN
    t = math.sqrt(r) * y[:, 2] / s
    assert stats.kstest(t, stats.t(r).cdf).pvalue > P_MIN
    w = r * np.einsum("ij,ij->i", y, y) / s
    assert stats.kstest(w, stats.chi2(r + d - 1).cdf).pvalue > P_MIN


def test_reduced_coordinates_are_independent_student_and_chi2() -> None:
    """Under P_V: (u - rho)/sigma ~ t_r and W ~ chi2_{r+d-1}, independent (proof_reduced_law):
    KS for both, and the rank correlation of (|T|, W) near 0 (|z| < 5)."""
    d, r, rho, n = 7, 4, 0.6, 30_000
    mech = WishartVectorMechanism(d, r, rho)
    v, w = mech.pair()
    y = mech.sample(n, seed=SEED + 2)
    u, big_w = reduced_coordinates(y, v, w, r)
    t = (u - rho) / math.sqrt((1 - rho**2) / r)
    assert stats.kstest(t, stats.t(r).cdf).pvalue > P_MIN
    assert stats.kstest(big_w, stats.chi2(r + d - 1).cdf).pvalue > P_MIN
    tau = stats.kendalltau(np.abs(t), big_w).statistic
    assert abs(tau) * math.sqrt(9 * n / 4) < 5  # Var(tau) ~ 4/(9n) under independence


def test_law_and_direct_samplers_agree_in_distribution() -> None:
    d, r, n = 5, 2, 20_000
    v = _unit(d, 3)
    a = sample_vector_output(v, r, n, seed=1, method="law")
    b = sample_vector_output(v, r, n, seed=2, method="direct")
    for proj in (v, _unit(d, 9)):
        assert stats.ks_2samp(a @ proj, b @ proj).pvalue > P_MIN


def test_non_unit_vector_scales_linearly() -> None:
    v = np.array([3.0, 4.0, 0.0])
    y = sample_vector_output(v, 2, 20_000, seed=4)
    assert np.all(y @ v > 0)  # V^T M V = ||A V||^2 > 0
    # Cov(MV) = (V V^T + ||V||^2 I)/r: each coordinate's sd is at most ||V|| sqrt(2/r)
    np.testing.assert_allclose(y.mean(axis=0), v, atol=5 * 5 * math.sqrt(2 / (2 * 20_000)))


def test_privacy_loss_matches_reduced_form() -> None:
    """L from the density formula equals c log u + W(1-u)/(2u) (proof_privacy_loss)."""
    d, r, rho = 6, 2, 0.7
    mech = WishartVectorMechanism(d, r, rho)
    v, w = mech.pair()
    y = mech.sample(2000, seed=7)
    loss = privacy_loss(y, v, w, r)
    u, big_w = reduced_coordinates(y, v, w, r)
    ok = u > 0
    reduced = (d + 1 - r) / 2 * np.log(u[ok]) + big_w[ok] * (1 - u[ok]) / (2 * u[ok])
    np.testing.assert_allclose(loss[ok], reduced, rtol=1e-9, atol=1e-9)
    assert np.all(np.isinf(loss[~ok]))


def test_matrix_mechanism_shares_m_across_columns() -> None:
    """Equal columns of F give equal columns of MF (the same M multiplies every column)."""
    f = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [2.0, 2.0, 0.0]])
    out = WishartMatrixMechanism(3, 2).sample(f, 50, seed=3)
    assert out.shape == (50, 3, 3)
    np.testing.assert_allclose(out[:, :, 0], out[:, :, 1], rtol=1e-12, atol=1e-12)


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_CUDA, reason="needs torch with CUDA")
def test_cuda_sampler_matches_law() -> None:  # pragma: no cover - no GPU here
    d, r, n = 64, 8, 50_000
    v = np.zeros(d)
    v[0] = 1.0
    y = sample_vector_output(v, r, n, seed=SEED, backend="torch", device="cuda")
    assert stats.kstest(y[:, 0] * r, stats.chi2(r).cdf).pvalue > P_MIN
    y2 = sample_vector_output(v, r, 5000, seed=SEED, backend="torch", device="cuda",
                              method="direct")
    assert stats.kstest(y2[:, 0] * r, stats.chi2(r).cdf).pvalue > P_MIN
    m = sample_wishart(16, 4, 2000, seed=SEED, backend="torch", device="cuda")
    assert abs(m.mean(axis=0)[0, 0] - 1) < 5 * math.sqrt(2 / 4 / 2000)
