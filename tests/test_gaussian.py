"""The Gaussian mechanism's certified profile against mpmath at >= 2x the digits (ACC-1)."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify import GaussianMechanism, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target


def mp_delta(mu: mpmath.mpf, eps: mpmath.mpf) -> mpmath.mpf:
    """Balle-Wang Thm 8 in mpmath (the independent oracle)."""
    return mpmath.ncdf(mu / 2 - eps / mu) - mpmath.exp(eps) * mpmath.ncdf(-mu / 2 - eps / mu)


def mp_delta_stable(sigma: Fraction, eps: object, bits: int) -> mpmath.mpf:
    """mpmath at twice the digits of our working precision, plus the cancellation guard:
    recompute at double the digits until two evaluations agree to 30 digits. All inputs are
    converted inside the working precision (sigma exactly, eps exactly)."""
    dps = max(60, int(bits * 0.30103 * 2) + 20)
    e = Fraction(eps)  # type: ignore[arg-type]
    prev = None
    for _ in range(8):
        with mpmath.workdps(dps):
            val = mp_delta(mu_of(sigma), mpmath.mpf(e.numerator) / e.denominator)
        if prev is not None and abs(val - prev) <= abs(val) * mpmath.mpf(10) ** -30:
            return val
        prev, dps = val, dps * 2
    raise AssertionError("mpmath oracle did not stabilise")


def mu_of(sigma: Fraction, sens: Fraction = Fraction(1), k: int = 1) -> mpmath.mpf:
    return mpmath.mpf(sens.numerator) / sens.denominator * mpmath.sqrt(k) / (
        mpmath.mpf(sigma.numerator) / sigma.denominator
    )


log_sigma = st.floats(min_value=-2, max_value=3, allow_nan=False)
epsilons = st.one_of(
    st.floats(min_value=0, max_value=1e3, allow_nan=False),
    st.floats(min_value=0, max_value=10, allow_nan=False),
    st.just(0.0),
)


@settings(max_examples=60)
@given(log_sigma, epsilons)
def test_delta_contains_mpmath(ls: float, eps: float) -> None:
    sigma = Fraction(10.0**ls)
    mech = GaussianMechanism(sigma)
    b = mech.delta(eps)
    with mpmath.workdps(100):
        truth = mp_delta_stable(sigma, eps, max(b.prec, 64))
        assert b.contains(truth), (sigma, eps, b, truth)
    assert b.rel_width <= 1e-10 or b.width <= Bound.exact("1e-300").upper
    assert b.lower >= 0 and b.upper <= 1


@settings(max_examples=40)
@given(log_sigma, st.floats(min_value=-300, max_value=np.log10(0.99)))
def test_epsilon_contains_mpmath_root(ls: float, log_delta: float) -> None:
    sigma = Fraction(10.0**ls)
    delta = Fraction(10.0**log_delta)
    mech = GaussianMechanism(sigma)
    b = mech.epsilon(delta)
    with mpmath.workdps(80):
        mu = mu_of(sigma)
        target = mpmath.mpf(delta.numerator) / delta.denominator
        if b.upper == 0:
            # eps = 0 is certified only when delta(0) <= delta
            assert mp_delta(mu, mpmath.mpf(0)) <= target
            return
        # delta(eps) is decreasing: the truth lies in [lower, upper] iff the signs straddle
        lo, hi = mpmath.mpf(str(b.lower)), mpmath.mpf(str(b.upper))
        assert mp_delta(mu, lo) >= target >= mp_delta(mu, hi), (sigma, delta, b)
    assert b.rel_width <= 1e-10 or b.width <= Bound.exact("1e-15").upper


@pytest.mark.parametrize(
    ("sigma", "eps"),
    [("1", "1000"), ("0.01", "1000"), ("1000", "1000"), ("2", "300"), ("0.5", "1e-9")],
)
def test_delta_far_below_float_range(sigma: str, eps: str) -> None:
    mech = GaussianMechanism(sigma)
    b = mech.delta(eps)
    truth = mp_delta_stable(Fraction(sigma), Fraction(eps), b.prec)
    assert b.contains(truth)
    assert b.rel_width <= 1e-10


@pytest.mark.parametrize(("sigma", "eps"), [("0.05", "0.001"), ("0.02", "10"), ("0.05", "1")])
def test_delta_within_1e15_of_one(sigma: str, eps: str) -> None:
    b = GaussianMechanism(sigma).delta(eps)
    with mpmath.workdps(200):
        truth = mp_delta(mu_of(Fraction(sigma)), mpmath.mpf(eps))  # exact decimal inputs
        assert 1 - truth < mpmath.mpf("1e-15")
        assert b.contains(truth)
    assert b.upper <= 1
    assert b.width <= Bound.exact("1e-15").upper


@pytest.mark.parametrize("delta", ["1e-300", "1e-1000", "1e-10000"])
def test_epsilon_for_tiny_delta(delta: str) -> None:
    mech = GaussianMechanism("1")
    b = mech.epsilon(delta)
    with mpmath.workdps(120):
        target = mpmath.mpf(delta)
        lo, hi = mpmath.mpf(str(b.lower)), mpmath.mpf(str(b.upper))
        mu = mpmath.mpf(1)
        assert mp_delta(mu, lo) >= target >= mp_delta(mu, hi)


def test_epsilon_zero_when_delta_exceeds_total_variation() -> None:
    # delta(0) = 2 Phi(mu/2) - 1 = TV(N(mu,1), N(0,1)); mu = 1e-3 gives TV ~ 4e-4
    assert GaussianMechanism("1000").epsilon("0.5") == Bound.exact(0)
    assert GaussianMechanism("1000").epsilon("1") == Bound.exact(0)


def test_composition_and_neighbours_reduce_to_mu() -> None:
    eps = Fraction(1)
    k4 = GaussianMechanism("2", compositions=4).delta(eps)
    single = GaussianMechanism("1").delta(eps)
    assert k4.overlaps(single)
    replace = GaussianMechanism("2", neighbours="replace-one").delta(eps)
    assert replace.overlaps(single)
    sens = GaussianMechanism("3", sensitivity="1.5").delta(eps)
    assert sens.overlaps(GaussianMechanism("2").delta(eps))


def test_delta_strictly_decreasing_in_epsilon_certified() -> None:
    mech = GaussianMechanism("0.8")
    values = [mech.delta(e) for e in ("0", "0.5", "1", "2", "4", "8")]
    for a, b in zip(values, values[1:], strict=False):
        assert a.gt(b) is True


def test_exact_decimal_parameters() -> None:
    # sigma="0.1" is exactly 1/10, float 0.1 is its binary value: different mechanisms
    assert GaussianMechanism("0.1").sigma == Fraction(1, 10)
    assert GaussianMechanism(0.1).sigma == Fraction(0.1)
    assert GaussianMechanism("0.1").params()["sigma"] == "0.1"


def test_requested_width_is_met() -> None:
    b = GaussianMechanism("1").epsilon("1e-5", Target(rel=1e-40))
    assert b.rel_width <= 1e-40
    with mpmath.workdps(120):
        lo, hi = mpmath.mpf(str(b.lower)), mpmath.mpf(str(b.upper))
        assert mp_delta(mpmath.mpf(1), lo) >= mpmath.mpf("1e-5") >= mp_delta(mpmath.mpf(1), hi)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"sigma": -1.0}, "sigma=-1.0 must be positive"),
        ({"sigma": 0}, "sigma=0 must be positive"),
        ({"sigma": float("nan")}, "sigma=nan"),
        ({"sigma": float("inf")}, "sigma=inf"),
        ({"sigma": 1, "sensitivity": -2}, "sensitivity=-2"),
        ({"sigma": 1, "compositions": 0}, "compositions=0"),
        ({"sigma": 1, "compositions": 2.5}, "compositions=2.5"),
        ({"sigma": 1, "neighbours": "swap"}, "neighbours=swap"),
        ({"sigma": True}, "sigma=True"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment.replace("(", r"\(")):
        GaussianMechanism(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "value", "fragment"),
    [
        ("delta", -1, "epsilon=-1 must be non-negative"),
        ("delta", float("nan"), "epsilon=nan"),
        ("epsilon", 0, r"delta=0 must be in \(0, 1\]"),
        ("epsilon", 1.5, r"delta=1.5 must be in \(0, 1\]"),
        ("epsilon", "abc", "delta='abc' is not a number"),
    ],
)
def test_bad_profile_arguments(method: str, value: object, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment):
        getattr(GaussianMechanism(1), method)(value)


def test_sampler_matches_profile_statistically() -> None:
    """The sampler's hockey-stick estimate at eps, with a 99.9% Hoeffding interval, must
    overlap the certified delta (fixed seed)."""
    mech = GaussianMechanism("1")
    rng = np.random.default_rng(12345)
    n = 400_000
    x0 = mech.sample(n, rng, neighbour=1)[:, 0]  # P = N(1, 1)
    eps = 0.5
    # privacy loss of N(1,1) vs N(0,1) at x: x - 1/2 ; delta = E_P[(1 - e^{eps - L})_+]
    loss = x0 - 0.5
    est = float(np.mean(np.clip(1 - np.exp(eps - loss), 0, None)))
    half = float(np.sqrt(np.log(2 / 1e-3) / (2 * n)))  # Hoeffding, values in [0, 1]
    b = mech.delta(eps)
    assert b.lower - Bound.exact(half).upper <= Bound.exact(est).upper
    assert Bound.exact(est).lower <= b.upper + Bound.exact(half).upper
