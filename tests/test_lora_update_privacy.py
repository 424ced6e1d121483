"""Tests for certify.lora.update_privacy (claim LDP-8).

Oracles: the structure of the neighbouring pair (exact row equalities), the Clopper-Pearson
closed forms at 0 and n successes (mpmath), Balle-Wang's delta(eps) at 50 digits in mpmath, and
``GaussianMechanism`` itself where the implied noise multiplier is rational.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from certify.errors import InvalidArgument
from certify.lora.update_privacy import (
    claimed_dpsgd_delta,
    claimed_noise_multiplier,
    lora_step_event_test,
    neighbouring_gradients,
)
from certify.mechanisms.gaussian import GaussianMechanism

DPS = 50


def mp(x: object) -> mpmath.mpf:
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(str(x))


def balle_wang_mp(mu: mpmath.mpf, eps: mpmath.mpf) -> mpmath.mpf:
    return mpmath.ncdf(mu / 2 - eps / mu) - mpmath.exp(eps) * mpmath.ncdf(-mu / 2 - eps / mu)


def test_neighbouring_pair_structure() -> None:
    g, g2 = neighbouring_gradients(6, 5, batch=3, l1=2, l2=4, clip=0.5, seed=3)
    assert np.array_equal(g[2], g[4])                 # two equal rows under D
    e = g2 - g
    assert np.count_nonzero(np.abs(e).sum(axis=1)) == 1 and np.any(e[4])
    assert np.linalg.norm(e) <= 0.5 + 1e-12            # one clipped example
    assert np.linalg.norm(g) <= 3 * 0.5 + 1e-12


def test_event_probabilities_and_delta_lower_bound() -> None:
    trials = 1500
    res = lora_step_event_test(12, 10, 3, trials, seed=7, epsilons=["0", "1", "3"])
    assert res["count_D"] == trials and res["count_D_prime"] == 0
    with mpmath.workdps(DPS):
        a = (1 - mp("0.999")) / 2
        lower = a ** (mpmath.mpf(1) / trials)          # CP lower limit at k = n
        upper = 1 - lower                              # CP upper limit at k = 0
        assert res["p_D_lower"].contains(lower)
        assert res["p_D_prime_upper"].contains(upper)
        for eps in ("0", "1", "3"):
            value = lower - mpmath.exp(mp(eps)) * upper
            assert res["delta_lower"][Fraction(eps)].contains(value)
    # with 1500 samples the statistical bound already shows delta(1) > 0.98
    assert res["delta_lower"][Fraction(1)].lower > Fraction("0.98")
    assert res["exact_delta"].contains(1)


def test_event_is_not_an_artifact_of_equal_rows_in_a() -> None:
    """Under D' the rows differ by y A^T A with ||y A^T A|| ~ ||y|| sqrt(m/r): never within
    the tolerance; under D they coincide whatever the rank (r = 1 included)."""
    res = lora_step_event_test(4, 3, 1, 400, seed=11, epsilons=["0"])
    assert (res["count_D"], res["count_D_prime"]) == (400, 0)


def test_torch_backend_agrees() -> None:
    pytest.importorskip("torch")
    res = lora_step_event_test(8, 6, 2, 300, seed=5, backend="torch", epsilons=["1"])
    assert (res["count_D"], res["count_D_prime"]) == (300, 0)
    assert res["backend"] == "torch"


def test_noise_multiplier_typical_sizes() -> None:
    z = claimed_noise_multiplier("1/2", 768, 8, 64)
    with mpmath.workdps(DPS):
        assert z.contains(mpmath.mpf(1) / 3 / mpmath.sqrt(96))
    assert 0.0340 < z.mid < 0.0341
    z_small = claimed_noise_multiplier("0.1", 768, 8, 64)
    assert 0.0835 < z_small.mid < 0.0836


@pytest.mark.parametrize("eps", ["0", "1", "8", "100", "500", "1000"])
def test_implied_delta_against_mpmath(eps: str) -> None:
    res = claimed_dpsgd_delta("1/2", 768, 8, 64, eps)
    with mpmath.workdps(DPS):
        mu = 3 * mpmath.sqrt(96)
        ref = balle_wang_mp(mu, mp(eps))
        gap = mpmath.ncdf(mp(eps) / mu - mu / 2) + mpmath.exp(mp(eps)) * mpmath.ncdf(
            -mu / 2 - mp(eps) / mu)
        assert res["mu"].contains(mu)
        assert res["implied_delta"].contains(ref)
        assert res["implied_gap"].contains(gap)
        assert abs(gap - (1 - ref)) < mpmath.mpf("1e-45")
    assert res["contradiction"] is True         # the implied delta is certainly < 1 = exact
    assert res["exact_delta"].contains(1)


def test_implied_delta_matches_gaussian_mechanism_when_z_is_rational() -> None:
    """D = 1/3, n = 8, r = 2, b = 4: z = (2/3)/(4/3) sqrt(1/4) = 1/4 exactly."""
    res = claimed_dpsgd_delta("1/3", 8, 2, 4, "2", clip_norm="0.5")
    assert res["z"].contains(Fraction(1, 4)) and res["sigma_dp"].contains(Fraction(1, 8))
    mech = GaussianMechanism(sigma=Fraction(1, 4), sensitivity=1)
    assert res["implied_delta"].overlaps(mech.delta(2))
    assert math.isclose(res["implied_delta"].mid, mech.delta(2).mid, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lora_step_event_test(1, 4, 2, 10, 0), "n=1 must be at least 2"),
        (lambda: lora_step_event_test(4, 4, 0, 10, 0), "r=0"),
        (lambda: lora_step_event_test(4, 4, 2, 0, 0), "trials=0"),
        (lambda: lora_step_event_test(4, 4, 2, 10, -1), "seed=-1"),
        (lambda: lora_step_event_test(4, 4, 2, 10, 0, backend="jax"), "backend=jax"),
        (lambda: lora_step_event_test(4, 4, 2, 10, 0, confidence=1), "confidence=1"),
        (lambda: lora_step_event_test(4, 4, 2, 10, 0, epsilons=["-1"]), "epsilon=-1"),
        (lambda: neighbouring_gradients(4, 4, l1=1, l2=1), "must differ"),
        (lambda: neighbouring_gradients(4, 4, l2=4), "l2=4"),
        (lambda: claimed_noise_multiplier("1", 8, 2, 4), "delta=1 must be in"),
        (lambda: claimed_noise_multiplier("0.5", 8, 2, 0), "b=0"),
        (lambda: claimed_dpsgd_delta("0.5", 8, 2, 4, "-0.5"), "epsilon=-0.5"),
        (lambda: claimed_dpsgd_delta("0.5", 8, 2, 4, "1", clip_norm=0), "clip_norm=0"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        call()
