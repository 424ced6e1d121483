"""SMP-LoRA's ratio objective and DP-LoRA's clipping, noise, sampling and accounting, each
against an independent computation (finite differences, the batch formula of TinyMLP, exact
sampling statistics with stated confidence, mpmath's Gaussian profile)."""

from __future__ import annotations

import functools
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.attacks import load_digits_split, pretrain_mlp, train
from certify.attacks.data import Dataset
from certify.attacks.dp_lora import (
    DpSettings,
    clipped_factors,
    dp_config,
    dp_lora_epsilon,
    effective_sample_rate,
)
from certify.attacks.model import TinyMLP
from certify.attacks.per_example import per_example_factors
from certify.attacks.smp import (
    ProxyAttacker,
    attacker_member_loss,
    attacker_objective,
    attacker_step,
    smp_config,
    smp_first_gradient,
    smp_gradient_W1,
    smp_objective,
)
from certify.attacks.training import TrainConfig
from certify.errors import InvalidArgument
from certify.numerics.quantiles import chi2_quantile


@functools.lru_cache(maxsize=1)
def _setup() -> tuple[TinyMLP, Dataset, Dataset]:
    public, private = load_digits_split(597, seed=7)
    base = pretrain_mlp(public, hidden=16, steps=60, seed=7)
    return base, private.subset(np.arange(12)), private.subset(np.arange(100, 140))


def _random_delta(base: TinyMLP, seed: int, scale: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((4, base.W1.shape[1])) / 2.0
    B = scale * rng.standard_normal((base.W1.shape[0], 4))
    return A, B


# -- per-example gradients --------------------------------------------------------------------


def test_per_example_factors_match_the_batch_formula() -> None:
    base, data, _ = _setup()
    _, B = _random_delta(base, 1)
    A, _ = _random_delta(base, 2)
    a, losses = per_example_factors(base, data, B @ A)
    mean = (a.T @ data.X) / len(data)
    np.testing.assert_allclose(mean, base.grad_W1(data, B @ A), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(losses, base.losses(data.X, data.y, B @ A), rtol=1e-13)
    with pytest.raises(InvalidArgument):
        per_example_factors(base, data.subset(np.arange(0)))


def _loss_i(base: TinyMLP, data: Dataset, A: np.ndarray, B: np.ndarray, i: int) -> float:
    return float(base.losses(data.X[i], data.y[i], B @ A)[0])


def test_clipped_per_example_gradients_against_finite_differences() -> None:
    """Unclipped per-example gradients in B (central differences, an independent computation)
    and the clipping: every clipped norm <= C (to rounding), unchanged below C."""
    base, data, _ = _setup()
    A, B = _random_delta(base, 3)
    u, v, norms = clipped_factors(base, data, B @ A, A, 1e9)  # no clipping
    h = 1e-6
    for i in (0, 5):
        fd = np.zeros_like(B)
        for j in range(B.shape[0]):
            for k in range(B.shape[1]):
                e = np.zeros_like(B)
                e[j, k] = h
                fd[j, k] = (_loss_i(base, data, A, B + e, i)
                            - _loss_i(base, data, A, B - e, i)) / (2 * h)
        g = np.outer(u[i], v[i])
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)
        assert norms[i] == pytest.approx(float(np.linalg.norm(fd)), rel=1e-5)
    clip = float(np.median(norms))
    uc, vc, norms_c = clipped_factors(base, data, B @ A, A, clip)
    np.testing.assert_array_equal(norms_c, norms)
    clipped = np.array([np.linalg.norm(np.outer(uc[i], vc[i])) for i in range(len(data))])
    assert np.all(clipped <= clip * (1 + 1e-12))
    below = norms <= clip
    np.testing.assert_array_equal(uc[below], u[below])
    np.testing.assert_allclose(clipped[~below], clip, rtol=1e-12)


# -- SMP-LoRA ---------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10**6), alpha=st.sampled_from([0.0, 0.5, 3.0, 100.0]),
       beta=st.sampled_from([0.5, 1.0, 2.0]), w=st.floats(-8, 8), c=st.floats(-2, 2))
def test_smp_gradient_against_finite_differences(seed: int, alpha: float, beta: float,
                                                 w: float, c: float) -> None:
    """grad_B J = grad_W1 J A^T (the closed form of certify.attacks.smp) against central
    differences of J(B) itself, with the attacker held fixed."""
    base, data, _ = _setup()
    A, B = _random_delta(base, seed)
    att = ProxyAttacker(w, c)
    grad = smp_gradient_W1(base, data, B @ A, att, alpha, beta) @ A.T
    h = 1e-6
    rng = np.random.default_rng(seed + 1)
    for _ in range(4):  # random directions: directional derivative
        d = rng.standard_normal(B.shape)
        jp = smp_objective(base, data, (B + h * d) @ A, att, alpha, beta)[0]
        jm = smp_objective(base, data, (B - h * d) @ A, att, alpha, beta)[0]
        fd = (jp - jm) / (2 * h)
        assert float(np.sum(grad * d)) == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_smp_objective_is_the_stated_ratio() -> None:
    base, data, _ = _setup()
    A, B = _random_delta(base, 4)
    att = ProxyAttacker(-3.0, 0.2)
    j, adapt, gain = smp_objective(base, data, B @ A, att, 2.0, 1.0)
    losses = base.losses(data.X, data.y, B @ A)
    z = -3.0 * losses + 0.2
    assert adapt == pytest.approx(float(np.mean(losses)), rel=1e-14)
    assert gain == pytest.approx(float(np.mean(np.log1p(np.exp(-z)))), rel=1e-12)
    assert j == pytest.approx(adapt / (1.0 + 2.0 * gain), rel=1e-14)
    assert attacker_member_loss(att, losses) == pytest.approx(gain, rel=1e-14)


def test_attacker_step_is_a_gradient_step() -> None:
    rng = np.random.default_rng(5)
    member, aux = rng.exponential(0.2, 30), rng.exponential(0.5, 40)
    att = ProxyAttacker(-1.5, 0.3)
    lr = 1e-3
    new = attacker_step(att, member, aux, lr)
    h = 1e-6
    gw = (attacker_objective(ProxyAttacker(att.w + h, att.c), member, aux)
          - attacker_objective(ProxyAttacker(att.w - h, att.c), member, aux)) / (2 * h)
    gc = (attacker_objective(ProxyAttacker(att.w, att.c + h), member, aux)
          - attacker_objective(ProxyAttacker(att.w, att.c - h), member, aux)) / (2 * h)
    assert (att.w - new.w) / lr == pytest.approx(gw, rel=1e-6)
    assert (att.c - new.c) / lr == pytest.approx(gc, rel=1e-6)
    # many steps: the attacker learns that low loss means member (w < 0) and gets better
    for _ in range(200):
        att = attacker_step(att, member, aux, 5.0)
    assert att.w < 0
    assert attacker_objective(att, member, aux) < np.log(2)


def test_smp_with_alpha_zero_is_lora_and_the_first_gradient_replays() -> None:
    """alpha = 0, beta = 1: J = L, so SMP-LoRA must equal the LoRA trainer (same A from the
    same generator); the first-step gradient is deterministic given the data."""
    base, data, aux = _setup()
    cfg = smp_config(4, 5, 0.5, alpha=0.0, beta=1.0, aux=aux)
    smp = train("smp-lora", base, data, cfg, np.random.default_rng(9))
    lora = train("lora", base, data, TrainConfig(rank=4, steps=5, lr=0.5),
                 np.random.default_rng(9))
    np.testing.assert_allclose(smp.delta_W1, lora.delta_W1, rtol=1e-10, atol=1e-14)
    one = smp_config(4, 1, 0.5, alpha=50.0, aux=aux)
    model = train("smp-lora", base, data, one, np.random.default_rng(3))
    A = model.secret["A"]
    np.testing.assert_array_equal(model.delta_W1,
                                  (-0.5 * smp_first_gradient(base, data, one) @ A.T) @ A)


def test_smp_bad_input() -> None:
    _, _, aux = _setup()
    with pytest.raises(InvalidArgument, match="alpha"):
        smp_config(4, 1, 0.5, alpha=-1.0, aux=aux)
    with pytest.raises(InvalidArgument, match="beta"):
        smp_config(4, 1, 0.5, alpha=1.0, beta=0.0, aux=aux)
    with pytest.raises(InvalidArgument, match="attacker_steps"):
        smp_config(4, 1, 0.5, alpha=1.0, attacker_steps=0, aux=aux)
    with pytest.raises(InvalidArgument, match="attacker_lr"):
        smp_config(4, 1, 0.5, alpha=1.0, attacker_lr=float("nan"), aux=aux)
    with pytest.raises(InvalidArgument, match="aux"):
        smp_config(4, 1, 0.5, alpha=1.0, aux=aux.subset(np.arange(0)))
    base, data, _ = _setup()
    with pytest.raises(InvalidArgument, match="smp"):
        train("smp-lora", base, data, TrainConfig(), np.random.default_rng(0))


# -- DP-LoRA ----------------------------------------------------------------------------------


def test_dp_noise_scale_chi_square_at_stated_confidence() -> None:
    """Two runs with the same generator and noise multipliers s1, s2 differ by exactly
    -lr (s1 - s2) C Z / E with Z the noise draw: Z must be iid N(0, 1). Sum of squares over
    60 runs x h r entries against certified chi-square quantiles (two-sided, 99.9%), and the
    per-entry variance of the differences against the stated scale."""
    base, data, _ = _setup()
    lr, clip, e = 0.5, 0.7, 4.0
    zs = []
    for seed in range(60):
        runs = [train("dp-lora", base, data,
                      dp_config(4, 1, lr, clip=clip, noise_multiplier=s, sample_rate=0.5,
                                expected_batch=e), np.random.default_rng(seed)).secret["B"]
                for s in (3.0, 1.0)]
        zs.append(-(runs[0] - runs[1]) * e / (lr * (3.0 - 1.0) * clip))
    z = np.concatenate([x.ravel() for x in zs])
    k = z.size
    total = float(np.sum(z * z))
    lo = chi2_quantile(Fraction(1, 2000), k)
    hi = chi2_quantile(Fraction(1999, 2000), k)
    assert float(lo.upper) < total < float(hi.lower)
    assert abs(float(np.mean(z))) < 3.3 / np.sqrt(k)  # 99.9% two-sided for N(0, 1/k)


def test_dp_poisson_sampling_rate() -> None:
    """The lots are Poisson(q): two runs with the same generator at noise multipliers 1 and 2
    give the noise-free lot sum (2 B_1 - B_2 = -lr S / E); solving S = sum_i m_i c_i for the
    inclusion indicators m recovers each lot exactly. Over 120 one-step runs of 12 examples
    at q = 1/4: the inclusion count within the 99.9% two-sided binomial range, and lot sizes
    that vary (Poisson, not a fixed batch)."""
    base, data, _ = _setup()
    lr, clip, e, q = 0.3, 1.0, 3.0, 0.25
    included, sizes = 0, []
    for seed in range(120):
        outs = [train("dp-lora", base, data, dp_config(4, 1, lr, clip=clip, noise_multiplier=s,
                                                       sample_rate=q, expected_batch=e),
                      np.random.default_rng(seed)).secret for s in (1.0, 2.0)]
        lot_sum = -(2 * outs[0]["B"] - outs[1]["B"]) * e / lr
        u, v, _ = clipped_factors(base, data, None, outs[0]["A"], clip)
        design = np.stack([np.outer(u[i], v[i]).ravel() for i in range(len(data))], axis=1)
        m = np.linalg.lstsq(design, lot_sum.ravel(), rcond=None)[0]
        assert np.allclose(m, np.round(m), atol=1e-6)
        assert set(np.round(m).astype(int).tolist()) <= {0, 1}
        included += int(np.round(m).sum())
        sizes.append(int(np.round(m).sum()))
    trials = 120 * len(data)
    from scipy.stats import binom

    lo, hi = binom.ppf(0.0005, trials, q), binom.ppf(0.9995, trials, q)
    assert lo <= included <= hi
    assert len(set(sizes)) > 3
    assert effective_sample_rate(0.5) == Fraction(1, 2)
    assert effective_sample_rate(0.25) == Fraction(1, 4)
    q3 = effective_sample_rate(0.3)
    assert Fraction(0.3) <= q3 < Fraction(0.3) + Fraction(1, 2**53)
    assert effective_sample_rate(1.0) == 1


def test_dp_trainer_without_noise_effect_is_clipped_sgd() -> None:
    """With q = 1 the noise-free part of one step is -lr (sum of clipped gradients) / E: the
    difference of two runs' B over the noise multipliers isolates it."""
    base, data, _ = _setup()
    lr, clip, e = 0.3, 0.05, 12.0
    outs = [train("dp-lora", base, data, dp_config(4, 1, lr, clip=clip, noise_multiplier=s,
                                                   sample_rate=1.0, expected_batch=e),
                  np.random.default_rng(11)).secret for s in (1.0, 2.0)]
    signal = 2 * outs[0]["B"] - outs[1]["B"]  # removes the shared noise (linear in sigma)
    u, v, _ = clipped_factors(base, data, None, outs[0]["A"], clip)
    np.testing.assert_allclose(signal, -lr * (u.T @ v) / e, rtol=1e-9, atol=1e-14)


def _gaussian_delta(eps: mpmath.mpf, mu: mpmath.mpf) -> mpmath.mpf:
    """delta(eps) of N(mu, 1) vs N(0, 1) (Balle and Wang 2018, Thm 8), mpmath."""
    phi = mpmath.ncdf
    return phi(-eps / mu + mu / 2) - mpmath.exp(eps) * phi(-eps / mu - mu / 2)


def test_dp_epsilon_one_full_batch_step_is_the_gaussian_mechanism() -> None:
    """q = 1, T steps: the composition is N(sqrt(T)/sigma, 1) vs N(0, 1); the certified
    enclosure must bracket the root of mpmath's delta(eps) = 1e-5 (60 digits)."""
    mpmath.mp.dps = 60
    for sigma, steps in ((1.0, 1), (2.0, 4)):
        cfg = dp_config(4, steps, 0.1, clip=1.0, noise_multiplier=sigma, sample_rate=1.0,
                        expected_batch=10.0)
        b = dp_lora_epsilon(cfg, "1e-5")
        mu = mpmath.sqrt(steps) / mpmath.mpf(sigma)
        assert _gaussian_delta(mpmath.mpf(str(b.lower)), mu) >= mpmath.mpf("1e-5")
        assert _gaussian_delta(mpmath.mpf(str(b.upper)), mu) <= mpmath.mpf("1e-5")


def test_dp_epsilon_subsampled_brackets_and_grows_with_q() -> None:
    cfg = lambda q: dp_config(4, 20, 0.1, clip=1.0, noise_multiplier=2.0,  # noqa: E731
                              sample_rate=q, expected_batch=4.0)
    low, high = dp_lora_epsilon(cfg(0.25), "1e-5"), dp_lora_epsilon(cfg(0.5), "1e-5")
    assert 0 < low.lower <= low.upper < high.lower


def test_dp_bad_input() -> None:
    for kwargs, name in (({"clip": 0.0}, "clip"), ({"noise_multiplier": -1.0}, "noise"),
                         ({"sample_rate": 0.0}, "sample_rate"),
                         ({"sample_rate": 1.5}, "sample_rate"),
                         ({"expected_batch": float("inf")}, "expected_batch")):
        args = {"clip": 1.0, "noise_multiplier": 1.0, "sample_rate": 0.5,
                "expected_batch": 4.0} | kwargs
        with pytest.raises(InvalidArgument, match=name):
            DpSettings(**args)
    base, data, _ = _setup()
    with pytest.raises(InvalidArgument, match="dp"):
        train("dp-lora", base, data, TrainConfig(), np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match="dp"):
        dp_lora_epsilon(TrainConfig(), "1e-5")
    cfg = dp_config(4, 1, 0.1, clip=1.0, noise_multiplier=1.0, sample_rate=1.0,
                    expected_batch=1.0)
    with pytest.raises(InvalidArgument, match="delta"):
        dp_lora_epsilon(cfg, 0)
