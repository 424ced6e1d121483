"""The quadratic exponential mechanism (QEM-1 .. QEM-5) against independent computations.

Oracles: mpmath at 40-60 digits (Balle-Wang; the two-normal hockey-stick integral by quadrature
split at roots found by mpmath.findroot, not at our closed-form roots; chi-square tails by the
regularized incomplete gamma function); brute-force maximisation on grids; Monte Carlo with
Hoeffding intervals at level 1e-6 and fixed seeds; the sympy derivations evaluated numerically.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InvalidArgument
from certify.mechanisms.expmech import (
    GaussNewtonPair,
    QuadraticExpMech,
    gradient_sensitivity,
    jl_fixed_gradient_exceedance,
    jl_uniform_bound_probability,
    normal_pair_delta,
    qem_normal,
    sample_qem,
    sample_qem_projected,
    utility_sensitivity,
)


def mpf(q: object) -> mpmath.mpf:
    f = Fraction(q)  # type: ignore[call-overload]
    return mpmath.mpf(f.numerator) / f.denominator


def mp_balle_wang(mu: mpmath.mpf, eps: mpmath.mpf) -> mpmath.mpf:
    return mpmath.ncdf(mu / 2 - eps / mu) - mpmath.exp(eps) * mpmath.ncdf(-mu / 2 - eps / mu)


def mp_pair(a: object, s2: object, eps: object, dps: int = 40) -> mpmath.mpf:
    """int (p - e^eps q)_+ for p = N(0,1), q = N(a, s2), by quadrature split where the log
    ratio crosses eps. The log ratio is a quadratic; its coefficients are interpolated from
    mpmath's own log densities at x = -1, 0, 1 and its real roots found by mpmath.polyroots."""
    with mpmath.workdps(dps):
        am, s, e = mpf(a), mpmath.sqrt(mpf(s2)), mpf(eps)

        def loss(x: mpmath.mpf) -> mpmath.mpf:
            return mpmath.log(mpmath.npdf(x) / mpmath.npdf(x, am, s)) - e

        l0, l1, lm = loss(0), loss(1), loss(-1)
        c2, c1 = (l1 + lm) / 2 - l0, (l1 - lm) / 2
        if abs(c2) < mpmath.mpf(10) ** (-dps // 2):
            cuts = [-l0 / c1] if c1 != 0 else []
        else:
            cuts = sorted(mpmath.re(r) for r in mpmath.polyroots([c2, c1, l0], maxsteps=200,
                                                                 extraprec=2 * dps)
                          if abs(mpmath.im(r)) < mpmath.mpf(10) ** (-dps // 2))
        pts = [-mpmath.inf, *cuts, mpmath.inf]

        def f(x: mpmath.mpf) -> mpmath.mpf:
            return max(mpmath.npdf(x) - mpmath.exp(e) * mpmath.npdf(x, am, s), 0)

        return mpmath.quad(f, pts)


# -- the profile --------------------------------------------------------------------------------
@pytest.mark.parametrize("a, s2, eps", [
    (Fraction(1, 2), Fraction(1, 4), 1), (Fraction(-1, 3), 3, Fraction(1, 2)),
    (2, Fraction(9, 10), 2), (1, 1, 1), (0, 2, 0), (Fraction(3, 2), Fraction(1, 2), 4),
])
def test_normal_pair_delta_contains_quadrature(a: object, s2: object, eps: object) -> None:
    b = normal_pair_delta(a, s2, eps)
    with mpmath.workdps(40):
        truth = mp_pair(a, s2, eps)
        assert b.contains(truth), (b, truth)


@settings(max_examples=6)
@given(st.fractions(min_value=-3, max_value=3, max_denominator=16),
       st.fractions(min_value=Fraction(1, 5), max_value=5, max_denominator=16),
       st.fractions(min_value=0, max_value=4, max_denominator=8))
def test_normal_pair_delta_hypothesis(a: Fraction, s2: Fraction, eps: Fraction) -> None:
    b = normal_pair_delta(a, s2, eps)
    with mpmath.workdps(40):
        truth = mp_pair(a, s2, eps, dps=30)
        tol = mpmath.mpf(10) ** -20  # quadrature error allowance, below the certified width
        assert mpf(b.lower) - tol <= truth <= mpf(b.upper) + tol


@settings(max_examples=25)
@given(st.fractions(min_value=Fraction(1, 100), max_value=10, max_denominator=100),
       st.fractions(min_value=Fraction(1, 100), max_value=10, max_denominator=100),
       st.fractions(min_value=Fraction(1, 100), max_value=10, max_denominator=100),
       st.fractions(min_value=0, max_value=20, max_denominator=10))
def test_profile_against_mpmath(clip: Fraction, h: Fraction, lam: Fraction, eps: Fraction) -> None:
    mech = QuadraticExpMech(clip, h, lam)
    b = mech.delta(eps)
    with mpmath.workdps(80):
        truth = mp_balle_wang(mpmath.sqrt(mpf(clip**2 * lam / h)), mpf(eps))
    assert b.contains(truth)


def test_from_epsilon0_and_neighbours() -> None:
    mech = QuadraticExpMech.from_epsilon0(1, 1, 1, 1)
    assert mech.scale == Fraction(1, 2) and mech.mu_squared == Fraction(1, 2)
    rep = QuadraticExpMech.from_epsilon0(1, 1, 1, 1, "replace-one")
    # Delta_u doubles (lambda halves) and Delta_g doubles: mu^2 = 4 * (1/4) / 1 = 1
    assert rep.scale == Fraction(1, 4) and rep.mu_squared == 1
    # mu^2 = eps0 C / (2 R h)
    m = QuadraticExpMech.from_epsilon0(Fraction(3, 2), 7, Fraction(1, 3), Fraction(2, 5))
    assert m.mu_squared == Fraction(3, 2) * Fraction(1, 3) / (2 * 7 * Fraction(2, 5))


@pytest.mark.parametrize("delta", ["1e-5", "0.2", "1e-30"])
def test_epsilon_inverts_delta(delta: str) -> None:
    mech = QuadraticExpMech(1, 1, Fraction(1, 2))
    e = mech.epsilon(delta)
    assert e.rel_width <= 1e-9
    assert mech.delta(e.upper).le(Fraction(delta)) is True
    assert mech.delta(e.lower).ge(Fraction(delta)) is True


def test_epsilon_zero_when_delta_large() -> None:
    mech = QuadraticExpMech(1, 1, Fraction(1, 2))
    assert mech.epsilon("0.9").upper == 0


def test_pure_dp_fails_at_every_eps() -> None:
    mech = QuadraticExpMech.from_epsilon0(1, 1, 1, 1)
    for eps in (1, 5, 20, 60):
        assert mech.delta(eps).gt(0) is True


# -- the data-dependent covariance pair ----------------------------------------------------------
def test_gauss_newton_pair_zero_beta_is_mean_only() -> None:
    pair = GaussNewtonPair(Fraction(1, 2), 2, 1, 0)
    mech = QuadraticExpMech(1, 2, Fraction(1, 2))
    for eps in (0, 1, 3):
        assert pair.delta(eps).overlaps(mech.delta(eps))


def _logpdf(x: np.ndarray, mean: np.ndarray, prec: np.ndarray) -> np.ndarray:
    d = x - mean
    return np.asarray(0.5 * np.linalg.slogdet(prec)[1]
                      - 0.5 * np.einsum("ij,jk,ik->i", d, prec, d))


def test_gauss_newton_pair_monte_carlo() -> None:
    """The p = 2 samplers of D (g = 0, H) and D' (g = v, H + beta v v^T), v along the eigenvalue
    h = 2 of H, beta = 3/2, lambda = 1: delta from E_P[(1 - e^(eps - L))_+] (Hoeffding, 1e-6)."""
    h = np.diag([2.0, 5.0])
    v = np.array([1.0, 0.0])
    lam, beta, n = 1.0, 1.5, 300_000
    hp = h + beta * np.outer(v, v)
    m1, p1 = qem_normal(np.zeros(2), h, np.zeros(2), lam)
    m2, p2 = qem_normal(np.zeros(2), hp, v, lam)
    xa = sample_qem(np.zeros(2), h, np.zeros(2), lam, n, seed=1)
    xb = sample_qem(np.zeros(2), hp, v, lam, n, seed=2)
    la = _logpdf(xa, m1, p1) - _logpdf(xa, m2, p2)
    lb = _logpdf(xb, m2, p2) - _logpdf(xb, m1, p1)
    half = math.sqrt(math.log(2 / 1e-6) / (2 * n))
    pair = GaussNewtonPair(1, 2, 1, Fraction(3, 2))
    for eps in (0, Fraction(1, 2), 1, 2):
        for loss, direction in ((la, "add"), (lb, "remove")):
            est = float(np.mean(np.maximum(0.0, 1 - np.exp(float(eps) - loss))))
            b = pair.delta_direction(eps, direction)
            assert float(b.lower) - half <= est <= float(b.upper) + half, (eps, direction)


# -- sensitivities ----------------------------------------------------------------------------
@settings(max_examples=20)
@given(st.fractions(min_value=Fraction(1, 10), max_value=5, max_denominator=10),
       st.fractions(min_value=Fraction(1, 10), max_value=5, max_denominator=10),
       st.fractions(min_value=0, max_value=3, max_denominator=10))
def test_utility_sensitivity_brute_force(r: Fraction, c: Fraction, beta: Fraction) -> None:
    b = float(c * r)
    a = np.linspace(-b, b, 801)
    aa, ap = np.meshgrid(a, a)
    add = np.max(np.abs(a + float(beta) * a**2 / 2))
    rep = np.max(np.abs((aa - ap) * (1 + float(beta) * (aa + ap) / 2)))
    add_f = float(utility_sensitivity(r, c, "add-remove", beta))
    rep_f = float(utility_sensitivity(r, c, "replace-one", beta))
    assert add == pytest.approx(add_f, rel=1e-12)
    # the grid maximum is below the exact supremum and within the grid's resolution of it
    assert rep <= rep_f * (1 + 1e-12)
    assert rep >= rep_f - 2 * b / 800 * (1 + float(beta) * b) * 2


def test_sensitivity_values_and_errors() -> None:
    assert gradient_sensitivity(3) == 3 and gradient_sensitivity(3, "replace-one") == 6
    assert utility_sensitivity(2, 3) == 6
    with pytest.raises(InvalidArgument, match="radius=-1"):
        utility_sensitivity(-1, 1)
    with pytest.raises(InvalidArgument, match="neighbours="):
        utility_sensitivity(1, 1, "swap")
    with pytest.raises(InvalidArgument, match="gauss_newton=-1"):
        utility_sensitivity(1, 1, "add-remove", -1)


def test_jl_probabilities_against_mpmath() -> None:
    with mpmath.workdps(60):
        for k, d in ((10, Fraction(1, 2)), (50, Fraction(1, 5))):
            x = mpf(k * (1 + d) ** 2)
            truth = mpmath.gammainc(mpmath.mpf(k) / 2, x / 2, mpmath.inf, regularized=True)
            assert jl_fixed_gradient_exceedance(k, d).contains(truth)
        for p, k, d in ((1000, 10, Fraction(1, 2)), (20, 10, Fraction(1))):
            x = mpf(k * k * (1 + d) ** 2)
            truth = mpmath.gammainc(mpmath.mpf(p * k) / 2, 0, x / 2, regularized=True)
            assert jl_uniform_bound_probability(p, k, d).contains(truth)
    with pytest.raises(InvalidArgument, match="k=20"):
        jl_uniform_bound_probability(10, 20, 1)


def test_jl_fixed_gradient_monte_carlo() -> None:
    """|A^T v| > 1.5 |v| for one fixed v, k = 10: frequency vs the certified chi-square tail
    (binomial sd, 6 sd margin)."""
    rng = np.random.default_rng(3)
    k, trials = 10, 200_000
    norms = np.linalg.norm(rng.normal(0, 1 / math.sqrt(k), size=(trials, k)), axis=1)
    freq = float(np.mean(norms > 1.5))
    p = jl_fixed_gradient_exceedance(k, Fraction(1, 2)).mid
    assert abs(freq - p) <= 6 * math.sqrt(p * (1 - p) / trials)


# -- samplers -----------------------------------------------------------------------------------
def _instance() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    b = rng.normal(size=(4, 4))
    h = b @ b.T + np.eye(4)
    return rng.normal(size=4), (h + h.T) / 2, rng.normal(size=4)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_sampler_moments(backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch")
    t0, h, g = _instance()
    lam = 2.0
    x = sample_qem(t0, h, g, lam, 200_000, seed=4, backend=backend,
                   device="cpu" if backend == "torch" else None)
    mean = t0 - np.linalg.solve(h, g)
    cov = np.linalg.inv(lam * h)
    sd = np.sqrt(np.diag(cov) / x.shape[0])
    assert np.all(np.abs(x.mean(axis=0) - mean) <= 6 * sd)
    emp = np.cov(x.T)
    # entrywise sd of a sample covariance: sqrt((S_ii S_jj + S_ij^2)/n)
    sd_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / x.shape[0])
    assert np.all(np.abs(emp - cov) <= 6 * sd_cov)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fit_test_accepts_and_rejects(backend: str) -> None:
    from certify.claims.expmech import sampler_fit_test

    if backend == "torch":
        pytest.importorskip("torch")
    t0, h, g = _instance()
    mean, prec = qem_normal(t0, h, g, 0.5)
    draws = sample_qem(t0, h, g, 0.5, 50_000, seed=8, backend=backend,
                       device="cpu" if backend == "torch" else None)
    good = sampler_fit_test(draws, mean, prec)
    for key in ("mean_p_value", "mahalanobis_p_value", "covariance_p_value"):
        assert good[key].gt(Fraction(1, 10**4)) is True  # type: ignore[attr-defined]
    bad = sampler_fit_test(sample_qem(t0, h, g, 0.6, 50_000, seed=8), mean, prec)
    assert bad["mahalanobis_p_value"].lt(Fraction(1, 10**6)) is True  # type: ignore[attr-defined]


def test_projected_sampler_lives_in_subspace() -> None:
    t0, h, g = _instance()
    a = np.random.default_rng(2).normal(size=(4, 2))
    x = sample_qem_projected(t0, h, g, 1.0, a, 2000, seed=3)
    resid = (x - t0) - (x - t0) @ a @ np.linalg.pinv(a)
    assert np.max(np.abs(resid)) < 1e-9
    z_mean = -np.linalg.solve(a.T @ h @ a, a.T @ g)
    assert np.allclose(np.mean((x - t0) @ np.linalg.pinv(a).T, axis=0), z_mean, atol=0.2)


def test_sampler_validation() -> None:
    t0, h, g = _instance()
    with pytest.raises(InvalidArgument, match="positive definite"):
        qem_normal(t0, -h, g, 1)
    with pytest.raises(InvalidArgument, match="scale=0"):
        qem_normal(t0, h, g, 0)
    with pytest.raises(InvalidArgument, match="must match"):
        qem_normal(t0, h[:3, :3], g, 1)
    with pytest.raises(InvalidArgument, match="backend="):
        sample_qem(t0, h, g, 1, 10, seed=0, backend="jax")
    with pytest.raises(InvalidArgument, match="seed="):
        sample_qem(t0, h, g, 1, 10, seed=-1)
    with pytest.raises(InvalidArgument, match="n=0"):
        sample_qem(t0, h, g, 1, 0, seed=0)
    with pytest.raises(InvalidArgument, match="clip=0"):
        QuadraticExpMech(0, 1, 1)
    with pytest.raises(InvalidArgument, match="epsilon=-1"):
        QuadraticExpMech(1, 1, 1).delta(-1)
    with pytest.raises(InvalidArgument, match="delta=0"):
        QuadraticExpMech(1, 1, 1).epsilon(0)


# -- the sympy derivations, numerically ----------------------------------------------------------
def test_proofs_pass() -> None:
    from proofs.expmech import EXPMECH_PROOFS

    for proof in EXPMECH_PROOFS:
        record = proof()
        assert record.ok, record.name


def test_completing_the_square_numerically() -> None:
    """QEM-1 in floats for p = 6: lambda u(theta) - log N(theta; m, (lambda H)^-1) is the same
    at every theta (the normalising constant)."""
    rng = np.random.default_rng(10)
    b = rng.normal(size=(6, 6))
    h = b @ b.T + np.eye(6)
    t0, g, lam = rng.normal(size=6), rng.normal(size=6), 0.8
    mean, prec = qem_normal(t0, h, g, lam)
    thetas = rng.normal(size=(20, 6)) * 3
    u = np.array([-(t - t0) @ h @ (t - t0) / 2 - g @ (t - t0) for t in thetas])
    diffs = lam * u - _logpdf(thetas, mean, prec)
    assert np.ptp(diffs) < 1e-9 * max(1.0, float(np.max(np.abs(diffs))))


def test_normal_pair_log_ratio_numerically() -> None:
    import sympy as sp

    from proofs.expmech import normal_pair_log_ratio

    x, a, s = sp.symbols("x a s")
    expr = sp.lambdify((x, a, s), normal_pair_log_ratio(x, a, s))
    for xv, av, sv in ((0.3, 1.2, 0.7), (-2.0, -0.5, 1.9)):
        direct = (-xv**2 / 2 - 0.5 * math.log(2 * math.pi)) - (
            -((xv - av) ** 2) / (2 * sv**2) - math.log(sv) - 0.5 * math.log(2 * math.pi))
        assert expr(xv, av, sv) == pytest.approx(direct, rel=1e-12)


# -- CLI -----------------------------------------------------------------------------------------
def test_cli_profile(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from certify.cli import main

    code = main(["profile", "expmech-quadratic", "clip=1", "hessian_min=1", "epsilon0=1",
                 "radius=1", "epsilon=1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["mechanism"] == "expmech-quadratic"
    assert out["params"]["scale"] == "0.5"
    with mpmath.workdps(40):
        truth = mp_balle_wang(mpmath.sqrt(mpmath.mpf(1) / 2), mpmath.mpf(1))
        assert mpmath.mpf(out["delta"]["lower"]) <= truth <= mpmath.mpf(out["delta"]["upper"])
    code = main(["profile", "expmech-quadratic", "clip=1", "hessian_min=-2", "scale=1",
                 "delta=1e-5"])
    assert code == 2 and "hessian_min=-2" in capsys.readouterr().err
    code = main(["profile", "expmech-quadratic", "clip=1", "hessian_min=1", "scale=1",
                 "epsilon0=1", "delta=1e-5"])
    assert code == 2 and "epsilon0=1" in capsys.readouterr().err
    code = main(["profile", "expmech-quadratic", "clip=1", "hessian_min=1", "delta=1e-5"])
    assert code == 2 and "epsilon0" in capsys.readouterr().err


@pytest.mark.parametrize("clip, delta", [(1, "1e-300"), (10**6, "1e-5")])
def test_epsilon_extreme_scales(clip: int, delta: str) -> None:
    mech = QuadraticExpMech(clip, 1, 1)
    e = mech.epsilon(delta)
    assert mech.delta(e.upper).le(Fraction(delta)) is True
    assert mech.delta(e.lower).ge(Fraction(delta)) is True


def test_torch_device_validation() -> None:
    torch = pytest.importorskip("torch")
    t0, h, g = _instance()
    if not torch.cuda.is_available():
        with pytest.raises(InvalidArgument, match="device='cuda'"):
            sample_qem(t0, h, g, 1, 5, seed=0, backend="torch", device="cuda")
    with pytest.raises(InvalidArgument, match="device='tpu7'"):
        sample_qem(t0, h, g, 1, 5, seed=0, backend="torch", device="tpu7")
