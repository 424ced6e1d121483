"""Statistical tests of ``certify.lora.sampling`` (claims LDP-2, LDP-4, LDP-5, LDP-8; seed 001).

Every test below states its statistic and its level. Levels are per test: ``LEVEL = 1e-6``
two-sided, i.e. ``|z| <= Z = 4.9`` (``2 * Phi(-4.9) = 9.6e-7``) for z-tests and ``p > 1e-6`` for
Kolmogorov-Smirnov tests that must not reject; tests that *must* reject assert ``p < 1e-6`` or
``|z| > 4.9``. The z-tests use the asymptotic normal law of the sample statistic (nominal level).
Seeds are fixed, so every outcome is deterministic; each (case, sampler, backend) gets its own
seed so that samples compared by a two-sample test are independent.

Oracles, all independent of the samplers:

* exact cumulants ``kappa_1..kappa_4`` of ``u_i``: the sympy expressions of
  ``proofs.lora_u.u_cumulants`` with the numbers substituted exactly;
* ``kappa_5..kappa_8`` (only for the standard errors of the sample cumulants): the closed form
  ``kappa_n = (r/2) (n-1)! (a^n + b^n)``, ``a, b = (q_i +- ||q||)/r`` (factorise the cumulant
  generating function of ``proofs.lora_u.u_characteristic_function``), itself checked against a
  sympy series of that cf;
* the exact CDF of the variance-gamma law, ``F(x) = E_W[Phi((x + q_i - q_i W^2)/(s W))]`` with
  ``W = sqrt(chi2_r / r)`` (chi law), ``s^2 = (||q||^2 - q_i^2)/r``, by adaptive vector quadrature
  (``scipy.integrate.quad_vec``), itself checked against the Laplace closed form (r = 2, q_i = 0)
  and against scipy quadrature of the Bessel-K density ``proofs.lora_u.u_density``.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special, stats

from certify.errors import InvalidArgument
from certify.lora.sampling import sample_lora_update, sample_u, sample_u_mixture
from proofs.lora_u import q_i as Q_I
from proofs.lora_u import s as S_SYM
from proofs.lora_u import t as T_SYM
from proofs.lora_u import u_characteristic_function, u_cumulants, u_density
from proofs.wishart import r as R_SYM

LEVEL = 1e-6
#: two-sided z critical value at LEVEL: 2 * Phi(-4.9) = 9.6e-7 <= 1e-6
Z = 4.9
#: samples per (case, sampler, backend)
N = 40_000

SAMPLERS = {"direct": sample_u, "mixture": sample_u_mixture}


def _q(name: str) -> np.ndarray:
    """The q profiles (the law of u_i depends on q only through q_i and ||q||)."""
    if name == "flat8":
        return np.full(8, 0.5)
    if name == "ramp10":
        return np.linspace(0.1, 1.0, 10)
    if name == "signed20":
        return np.linspace(-1.0, 1.0, 20)
    if name == "spike_at_i":  # q_7 = 3 dominates the other 29 entries of 0.1
        q = np.full(30, 0.1)
        q[7] = 3.0
        return q
    if name == "spike_elsewhere":  # q_0 = 3, u_4 sees q_i = 0.1
        q = np.full(10, 0.1)
        q[0] = 3.0
        return q
    if name == "axis":  # q = 2 e_2: s = 0, u_i = q_i (chi2_r / r - 1)
        q = np.zeros(6)
        q[2] = 2.0
        return q
    if name == "flat200":
        return np.full(200, 0.1)
    raise KeyError(name)


#: (id, r, q profile, i): r = 1, 2, 16, spiked q, s = 0
CASES = [
    ("r1-flat", 1, "flat8", 0),
    ("r2-ramp", 2, "ramp10", 3),
    ("r16-signed", 16, "signed20", 5),
    ("r4-spike-at-i", 4, "spike_at_i", 7),
    ("r2-spike-elsewhere", 2, "spike_elsewhere", 4),
    ("r3-axis", 3, "axis", 2),
]
CASE_IDS = [c[0] for c in CASES]
_CASE = {c[0]: c[1:] for c in CASES}


def _seed(case: str, sampler: str, backend: str) -> int:
    return (
        1000 * CASE_IDS.index(case)
        + 10 * list(SAMPLERS).index(sampler)
        + ("numpy", "torch").index(backend)
    )


def _need(backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch")


@cache
def _samples(case: str, sampler: str, backend: str) -> np.ndarray:
    r, qname, i = _CASE[case]
    return SAMPLERS[sampler](
        _q(qname), i, r, N, backend=backend, seed=_seed(case, sampler, backend)
    )


# --------------------------------------------------------------------------------------------
# oracles


def _norm2(q: np.ndarray) -> Fraction:
    return sum((Fraction(float(x)) ** 2 for x in q), Fraction(0))


@cache
def _exact_cumulants(case: str) -> dict[int, float]:
    """kappa_1..kappa_4 of u_i: ``proofs.lora_u.u_cumulants`` at the case's exact numbers."""
    r, qname, i = _CASE[case]
    q = _q(qname)
    qi = Fraction(float(q[i]))
    s2 = _norm2(q) - qi**2  # proofs' s^2 = sum_{j != i} q_j^2
    subs = {Q_I: sp.Rational(qi), S_SYM: sp.sqrt(sp.Rational(s2)), R_SYM: r}
    return {n: float(sp.N(k.subs(subs), 30)) for n, k in u_cumulants().items()}


def _cumulant(q: np.ndarray, i: int, r: int, n: int) -> float:
    """kappa_n of u_i, n >= 2: the cgf ``-q_i z - (r/2) log(1 - 2 q_i z/r - s^2 z^2/r^2)`` of
    ``proofs.lora_u.u_characteristic_function`` factorises as ``(1 - a z)(1 - b z)`` with
    ``a, b = (q_i +- ||q||)/r``, so ``kappa_n = (r/2) (n-1)! (a^n + b^n)``."""
    qn = math.sqrt(float(_norm2(q)))
    a, b = (q[i] + qn) / r, (q[i] - qn) / r
    return (r / 2) * math.factorial(n - 1) * (a**n + b**n)


def _kstat_sds(case: str, n: int) -> dict[int, float]:
    """Standard errors of the k-statistics k_1..k_4 (Fisher; Kendall & Stuart, Vol. 1, eq. 12.35
    to leading order in 1/n): Var k_1 = kappa_2/n, Var k_2 = kappa_4/n + 2 kappa_2^2/(n-1),
    Var k_3 ~ (kappa_6 + 9 k2 k4 + 9 k3^2 + 6 k2^3)/n,
    Var k_4 ~ (kappa_8 + 16 k2 k6 + 48 k3 k5 + 34 k4^2 + 72 k2^2 k4 + 144 k2 k3^2 + 24 k2^4)/n."""
    r, qname, i = _CASE[case]
    q = _q(qname)
    k = {j: _cumulant(q, i, r, j) for j in range(2, 9)}
    v = {
        1: k[2] / n,
        2: k[4] / n + 2 * k[2] ** 2 / (n - 1),
        3: (k[6] + 9 * k[2] * k[4] + 9 * k[3] ** 2 + 6 * k[2] ** 3) / n,
        4: (
            k[8]
            + 16 * k[2] * k[6]
            + 48 * k[3] * k[5]
            + 34 * k[4] ** 2
            + 72 * k[2] ** 2 * k[4]
            + 144 * k[2] * k[3] ** 2
            + 24 * k[2] ** 4
        )
        / n,
    }
    return {j: math.sqrt(x) for j, x in v.items()}


def vg_cdf(x: np.ndarray, qi: float, s2: float, r: int) -> np.ndarray:
    """CDF of ``u_i`` at the points ``x``: ``u_i + q_i = q_i W^2 + s W Z`` with ``W = sqrt(V)``,
    ``V ~ chi2_r / r`` (``W`` chi-distributed with scale ``1/sqrt r``), ``s^2 = (||q||^2 -
    q_i^2)/r``, so ``F(x) = int_0^oo Phi((x + q_i - q_i w^2)/(s w)) f_W(w) dw`` (substituting
    ``w = sqrt(v)`` makes the integrand bounded at 0 for every r). For ``s = 0``:
    ``u_i = q_i (V - 1)``, a scaled chi-square. Absolute error below 1e-9 (quad_vec, max-norm)."""
    x = np.asarray(x, dtype=float)
    if s2 == 0:
        y = r * (1 + x / qi)
        return stats.chi2.cdf(y, r) if qi > 0 else stats.chi2.sf(y, r)
    s = math.sqrt(s2)
    chi = stats.chi(r, scale=1 / math.sqrt(r))
    hi = float(chi.isf(1e-17))

    def integrand(w: float) -> np.ndarray:
        return special.ndtr((x + qi - qi * w * w) / (s * w)) * chi.pdf(w)

    val, err = integrate.quad_vec(
        integrand, 0.0, hi, epsabs=1e-11, epsrel=0.0, norm="max", points=[float(chi.median())]
    )
    assert err < 1e-9
    return np.asarray(val)


def _vg_args(q: np.ndarray, i: int, r: int) -> tuple[float, float, int]:
    qi = float(q[i])
    return qi, float((_norm2(q) - Fraction(qi) ** 2) / r), r


def _ks_exact(x: np.ndarray, q: np.ndarray, i: int, r: int) -> float:
    """p-value of the one-sample KS test (scipy.stats.kstest, exact/asymptotic Kolmogorov law)
    of ``x`` against the exact law of u_i."""
    return float(stats.kstest(x, lambda v: vg_cdf(v, *_vg_args(q, i, r))).pvalue)


# --------------------------------------------------------------------------------------------
# the oracles themselves


def test_cumulant_closed_form_matches_proofs() -> None:
    """kappa_2..kappa_4 of the closed form equal proofs.lora_u.u_cumulants (rel 1e-12) in every
    case, and kappa_2..kappa_8 equal the Taylor coefficients of log phi(t) of
    proofs.lora_u.u_characteristic_function at one point (rel 1e-10)."""
    for case in CASE_IDS:
        r, qname, i = _CASE[case]
        exact = _exact_cumulants(case)
        assert exact[1] == 0
        for n in (2, 3, 4):
            assert _cumulant(_q(qname), i, r, n) == pytest.approx(exact[n], rel=1e-12)
    q = np.array([1.5, 1.0, -1.0, 0.5])  # q_i = 1.5, s^2 = 9/4, r = 3
    subs = {Q_I: sp.Rational(3, 2), S_SYM: sp.Rational(3, 2), R_SYM: 3}
    log_phi = sp.series(sp.log(u_characteristic_function(T_SYM).subs(subs)), T_SYM, 0, 9)
    log_phi = log_phi.removeO()
    for n in range(2, 9):
        coeff = complex(sp.N(log_phi.coeff(T_SYM, n) * sp.factorial(n) / sp.I**n, 30))
        assert abs(coeff.imag) < 1e-20
        assert _cumulant(q, 0, 3, n) == pytest.approx(coeff.real, rel=1e-10)


def test_vg_cdf_oracle() -> None:
    """The quadrature CDF against (a) the Laplace CDF (r = 2, q_i = 0: cf (1 + ||q||^2 t^2/4)^-1,
    scale b = ||q||/2), to 1e-9; (b) scipy.integrate.quad of the Bessel-K density
    proofs.lora_u.u_density (split at the cusp x = -q_i), r = 1 and r = 3 with q_i != 0, to
    1e-8."""
    q = np.array([0.0, 1.0, 2.0])  # i = 0: q_i = 0, ||q|| = sqrt(5)
    x = np.linspace(-4, 4, 17)
    b = math.sqrt(5) / 2
    laplace = np.where(x < 0, 0.5 * np.exp(x / b), 1 - 0.5 * np.exp(-x / b))
    np.testing.assert_allclose(vg_cdf(x, *_vg_args(q, 0, 2)), laplace, atol=1e-9, rtol=0)

    xs = sp.Symbol("x", real=True)
    kve = sp.Function("kve")  # K_nu(z) = kve(nu, z) e^{-z}: exact rewrite, avoids overflow
    for r, qi, s_val in ((1, 0.75, 1.25), (3, -1.5, 0.5)):
        dens = u_density(xs).subs({Q_I: sp.Rational(qi), S_SYM: sp.Rational(s_val), R_SYM: r})
        dens = sp.powsimp(
            dens.replace(sp.besselk, lambda nu, z: kve(nu, z) * sp.exp(-z)), combine="exp"
        )
        f = sp.lambdify(xs, dens, modules=[{"kve": special.kve}, "numpy"])
        cusp = -qi
        pts = [-2.5, cusp - 0.3, cusp + 0.2, 0.4, 3.0]
        ref = []
        for p in pts:
            pieces = [(-np.inf, p)] if p <= cusp else [(-np.inf, cusp), (cusp, p)]
            total = 0.0
            for lo, hi in pieces:
                val, err = integrate.quad(f, lo, hi, epsabs=1e-13, epsrel=1e-13, limit=200)
                assert err < 1e-10
                total += val
            ref.append(total)
        got = vg_cdf(np.array(pts), qi, s_val**2 / r, r)  # proofs' s^2 = r * (our s^2)
        np.testing.assert_allclose(got, ref, atol=1e-8, rtol=0)


# --------------------------------------------------------------------------------------------
# LDP-2: moments (both samplers, both backends)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("case", CASE_IDS)
def test_sample_cumulants_match_exact(case: str, sampler: str, backend: str) -> None:
    """Statistic: z_n = (k_n - kappa_n)/se(k_n), k_n the unbiased k-statistic (scipy.stats.kstat)
    of N = 40000 draws, kappa_n from proofs.lora_u (n = 1: mean 0, n = 2: variance
    (||q||^2 + q_i^2)/r, n = 3, n = 4). Level 1e-6 two-sided per statistic: |z_n| <= 4.9."""
    _need(backend)
    x = _samples(case, sampler, backend)
    assert x.dtype == np.float64 and x.shape == (N,) and np.all(np.isfinite(x))
    exact = _exact_cumulants(case)
    se = _kstat_sds(case, N)
    z = {n: (float(stats.kstat(x, n)) - exact[n]) / se[n] for n in (1, 2, 3, 4)}
    assert all(abs(v) <= Z for v in z.values()), z


def test_paper_variance_is_rejected() -> None:
    """Would fail if Var u_i were Lemma 3.1's ||q||^2/r: with q spiked at i (q_i = 3, 29 entries
    0.1, r = 4) the same variance z-test (se from the exact cumulants) rejects ||q||^2/r at level
    1e-6 (|z| > 4.9) for both samplers, while it accepts (||q||^2 + q_i^2)/r (previous test)."""
    case = "r4-spike-at-i"
    r, qname, i = _CASE[case]
    paper = float(_norm2(_q(qname))) / r
    se = _kstat_sds(case, N)[2]
    for sampler in SAMPLERS:
        z = (float(stats.kstat(_samples(case, sampler, "numpy"), 2)) - paper) / se
        assert z > Z, z


# --------------------------------------------------------------------------------------------
# LDP-2: the law (KS tests)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("case", CASE_IDS)
def test_direct_and_mixture_agree(case: str, backend: str) -> None:
    """Two-sample KS (scipy.stats.ks_2samp) of the direct and the mixture sampler, N = 40000
    each, independent seeds: must not reject at level 1e-6 (p > 1e-6)."""
    _need(backend)
    p = stats.ks_2samp(_samples(case, "direct", backend), _samples(case, "mixture", backend))
    assert p.pvalue > LEVEL, p


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("case", CASE_IDS)
def test_numpy_and_torch_agree(case: str, sampler: str) -> None:
    """Two-sample KS of the numpy and torch backends (same sampler), N = 40000 each: must not
    reject at level 1e-6 (p > 1e-6)."""
    pytest.importorskip("torch")
    p = stats.ks_2samp(_samples(case, sampler, "numpy"), _samples(case, sampler, "torch"))
    assert p.pvalue > LEVEL, p


@pytest.mark.parametrize("case", CASE_IDS)
def test_ks_against_exact_law(case: str) -> None:
    """One-sample KS (scipy.stats.kstest) of each numpy sampler's N = 40000 draws against the
    exact variance-gamma CDF (``vg_cdf``, an independent quadrature): must not reject at level
    1e-6 (p > 1e-6)."""
    r, qname, i = _CASE[case]
    q = _q(qname)
    x = np.concatenate([_samples(case, sampler, "numpy") for sampler in SAMPLERS])
    order = np.argsort(x)
    cdf = np.empty_like(x)
    cdf[order] = vg_cdf(x[order], *_vg_args(q, i, r))  # one quadrature for both samples
    for k, sampler in enumerate(SAMPLERS):
        part = x[k * N : (k + 1) * N]
        lookup = dict(zip(part.tolist(), cdf[k * N : (k + 1) * N].tolist(), strict=True))
        p = stats.kstest(part, lambda v, lk=lookup: np.array([lk[float(t)] for t in v])).pvalue
        assert p > LEVEL, (sampler, p)


@pytest.mark.parametrize("r", [1, 2])
def test_paper_normal_limit_is_rejected(r: int) -> None:
    """Would fail if u_i ~ N(0, ||q||^2/r) (Lemma 3.1's limit): flat q (m = 200, q_j = 0.1),
    i = 0, N = 20000 direct draws.

    * one-sample KS against N(0, ||q||^2/r): must reject, p < 1e-6;
    * kurtosis z-test of normality, z = g_2 / sqrt(24/N) (g_2 the sample excess kurtosis;
      asymptotic null law N(0, 1)): must reject, |z| > 4.9 (the exact excess kurtosis is
      6(||q||^4 + 6||q||^2 q_i^2 + q_i^4)/(r(||q||^2 + q_i^2)^2) >= 6/r);
    * controls: the same sample does not reject the exact law (KS, p > 1e-6), and N draws of the
      normal itself pass both normality tests (p > 1e-6, |z| <= 4.9), so the rejections are the
      law's, not the tests'.
    """
    n = 20_000
    q = _q("flat200")
    sd = math.sqrt(float(_norm2(q)) / r)
    x = sample_u(q, 0, r, n, seed=77 + r)
    z_kurt = float(stats.kurtosis(x)) / math.sqrt(24 / n)
    assert stats.kstest(x, stats.norm(0, sd).cdf).pvalue < LEVEL
    assert abs(z_kurt) > Z
    assert _ks_exact(x, q, 0, r) > LEVEL
    control = np.random.default_rng(99 + r).normal(0.0, sd, n)
    assert stats.kstest(control, stats.norm(0, sd).cdf).pvalue > LEVEL
    assert abs(float(stats.kurtosis(control)) / math.sqrt(24 / n)) <= Z


# --------------------------------------------------------------------------------------------
# sample_lora_update (LDP-8's event)

_G = np.array(
    [
        [1.0, -2.0, 0.5, 0.0, 3.0],
        [1.0, -2.0, 0.5, 0.0, 3.0],  # equal to row 0
        [1.0, -2.0, 0.5, 0.0, 3.0 + 2.0**-20],  # differs from row 0 in one entry
        [0.0, 1.0, 0.0, -1.0, 0.25],
    ]
)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_lora_update_mean(backend: str) -> None:
    """E[G A^T A] = G: per entry z = (mean - G_jk)/sqrt((||g_j||^2 + G_jk^2)/(r N)) (the
    variance of entry k of g A^T A is Var u_k + 0 = (||g||^2 + g_k^2)/r, proofs.lora_u), r = 2,
    N = 20000. Family level 1e-6 over the 20 entries (Bonferroni): |z| <= norm.isf(1e-6/40)."""
    _need(backend)
    r, n = 2, 20_000
    y = sample_lora_update(_G, r, n, backend=backend, seed=5)
    assert y.shape == (n, *_G.shape) and y.dtype == np.float64
    var = ((_G**2).sum(axis=1, keepdims=True) + _G**2) / r
    z = (y.mean(axis=0) - _G) / np.sqrt(var / n)
    crit = float(stats.norm.isf(LEVEL / (2 * _G.size)))
    assert np.max(np.abs(z)) <= crit, z


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_lora_update_equal_rows_event(backend: str) -> None:
    """Exact-equality event (WPM-5 / LDP-8): rows 0 and 1 of G are equal, so rows 0 and 1 of
    every draw are bitwise equal (N = 5000 of 5000); rows 0 and 2 differ (in one entry, by
    2^-20) and rows 0 and 3 differ, so no draw has them equal (0 of 5000)."""
    _need(backend)
    y = sample_lora_update(_G, 3, 5000, backend=backend, seed=6)
    assert np.all(y[:, 0, :] == y[:, 1, :])
    assert int(np.sum(np.all(y[:, 0, :] == y[:, 2, :], axis=1))) == 0
    assert int(np.sum(np.all(y[:, 0, :] == y[:, 3, :], axis=1))) == 0


# --------------------------------------------------------------------------------------------
# determinism and the torch-specific paths


def test_seeded_and_batched() -> None:
    """Same seed, same draws; another seed, other draws; a size spanning many batches
    (r m = 3200 numbers per sample, 1310 samples per batch) gives finite draws."""
    q = _q("flat200")
    a = sample_u(q, 3, 16, 3000, seed=1)
    assert np.array_equal(a, sample_u(q, 3, 16, 3000, seed=1))
    assert not np.array_equal(a, sample_u(q, 3, 16, 3000, seed=2))
    b = sample_u_mixture(q, 3, 16, 50, seed=1)
    assert np.array_equal(b, sample_u_mixture(q, 3, 16, 50, seed=1))
    g = sample_lora_update(_G, 2, 7, seed=3)
    assert np.array_equal(g, sample_lora_update(_G, 2, 7, seed=3))
    assert np.all(np.isfinite(a))


def test_torch_seeded_cpu() -> None:
    """torch backend: seeded torch.Generator (same seed, same draws), float64 numpy output."""
    pytest.importorskip("torch")
    q = _q("ramp10")
    for f in (sample_u, sample_u_mixture):
        a = f(q, 1, 2, 500, backend="torch", device="cpu", seed=4)
        assert isinstance(a, np.ndarray) and a.dtype == np.float64
        assert np.array_equal(a, f(q, 1, 2, 500, backend="torch", device="cpu", seed=4))
    y = sample_lora_update(_G, 2, 4, backend="torch", device="cpu", seed=1)
    assert np.array_equal(y, sample_lora_update(_G, 2, 4, backend="torch", device="cpu", seed=1))


@pytest.mark.gpu
def test_cuda_backend() -> None:
    """CUDA: cumulant z-tests (level 1e-6 each, |z| <= 4.9) for both samplers on device='cuda',
    two-sample KS against numpy (p > 1e-6), and the equal-rows event."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch.cuda.is_available() is False")
    for case in ("r1-flat", "r16-signed", "r4-spike-at-i"):
        r, qname, i = _CASE[case]
        exact = _exact_cumulants(case)
        se = _kstat_sds(case, N)
        for sampler, f in SAMPLERS.items():
            x = f(_q(qname), i, r, N, backend="torch", device="cuda", seed=123)
            z = {n: (float(stats.kstat(x, n)) - exact[n]) / se[n] for n in (1, 2, 3, 4)}
            assert all(abs(v) <= Z for v in z.values()), (case, sampler, z)
            p = stats.ks_2samp(x, _samples(case, sampler, "numpy")).pvalue
            assert p > LEVEL, (case, sampler, p)
    y = sample_lora_update(_G, 3, 2000, backend="torch", device="cuda", seed=6)
    assert np.all(y[:, 0, :] == y[:, 1, :])
    assert not np.any(np.all(y[:, 0, :] == y[:, 2, :], axis=1))


# --------------------------------------------------------------------------------------------
# bad input

_Q = [0.5, 1.0, -0.25]
_U_FUNCS = [sample_u, sample_u_mixture]


def _call_u(f: Any, **over: Any) -> None:
    kw: dict[str, Any] = {"q": _Q, "i": 0, "r": 2, "size": 10}
    kw.update(over)
    f(kw.pop("q"), kw.pop("i"), kw.pop("r"), kw.pop("size"), **kw)


@pytest.mark.parametrize("f", _U_FUNCS)
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("q", [1.0]),
        ("q", [0.0, 0.0, 0.0]),
        ("q", [1.0, float("nan")]),
        ("q", [1.0, float("inf")]),
        ("q", [[1.0, 2.0], [3.0, 4.0]]),
        ("q", [True, False]),
        ("q", [1 + 1j, 2.0]),
        ("q", "abc"),
        ("q", [[1.0], [1.0, 2.0]]),
        ("q", None),
        ("i", -1),
        ("i", 3),
        ("i", 1.0),
        ("i", True),
        ("i", "0"),
        ("r", 0),
        ("r", -2),
        ("r", 1.5),
        ("r", True),
        ("r", None),
        ("size", 0),
        ("size", -5),
        ("size", 2.5),
        ("backend", "jax"),
        ("backend", None),
        ("device", "cuda"),  # numpy backend takes no device
        ("seed", -1),
        ("seed", 1.5),
        ("seed", True),
    ],
)
def test_u_bad_input(f: Any, name: str, value: Any) -> None:
    """Each bad parameter raises InvalidArgument naming it (``name=...`` in the message)."""
    with pytest.raises(InvalidArgument, match=rf"^{name}="):
        _call_u(f, **{name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("G", [1.0, 2.0]),
        ("G", [[1.0, float("nan")]]),
        ("G", np.zeros((0, 3))),
        ("G", [[1 + 2j]]),
        ("G", "x"),
        ("r", 0),
        ("size", 0),
        ("backend", "cupy"),
        ("device", "cpu:0:x"),
        ("seed", -3),
    ],
)
def test_lora_update_bad_input(name: str, value: Any) -> None:
    """Each bad parameter of sample_lora_update raises InvalidArgument naming it."""
    kw: dict[str, Any] = {"G": [[1.0, 2.0]], "r": 2, "size": 3}
    kw.update({name: value})
    with pytest.raises(InvalidArgument, match=rf"^{name}="):
        sample_lora_update(kw.pop("G"), kw.pop("r"), kw.pop("size"), **kw)


def test_torch_device_bad_input() -> None:
    """torch backend: an unknown device, a non-device and CUDA without CUDA are refused."""
    torch = pytest.importorskip("torch")
    for dev in ("nonsense", 3.5, "meta"):
        with pytest.raises(InvalidArgument, match=r"^device="):
            _call_u(sample_u, backend="torch", device=dev)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidArgument, match=r"^device='cuda'.*is_available"):
            _call_u(sample_u_mixture, backend="torch", device="cuda")


@pytest.mark.parametrize("f", [*_U_FUNCS, sample_lora_update])
def test_torch_missing(monkeypatch: pytest.MonkeyPatch, f: Any) -> None:
    """With torch not importable, backend='torch' raises InvalidArgument saying so."""
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(InvalidArgument, match="not installed"):
        if f is sample_lora_update:
            f([[1.0, 2.0]], 2, 3, backend="torch")
        else:
            _call_u(f, backend="torch")
