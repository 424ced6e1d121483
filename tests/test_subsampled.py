"""The one-step Poisson-subsampled Gaussian's certified profile (ACC-2) against independent oracles:
mpmath.quad of the hockey-stick integrand, Balle-Wang at q = 1, mpmath root finding for eps(delta),
and a DKW test of the sampler."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from certify.errors import InvalidArgument
from certify.mechanisms.base import MechanismEntry, build_mechanism, mechanism_names
from certify.mechanisms.gaussian import GaussianMechanism
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound, digits_for_prec

# -- the independent oracle -----------------------------------------------------------------------

#: (first, second) components of each direction's pair: (weight of N(0), shift of the q-part)
_PAIRS = {
    "remove": ((True, 1), (False, 0)),
    "add": ((False, 0), (True, 1)),
    "replace": ((True, 1), (True, -1)),
}


def _density(s: mpmath.mpf, q: mpmath.mpf, mixed: bool, shift: int):
    if not mixed:
        return lambda x: mpmath.npdf(x, 0, s)
    return lambda x: (1 - q) * mpmath.npdf(x, 0, s) + q * mpmath.npdf(x, shift, s)


def mp_hockey(sigma: float, q_: float, eps_: float, direction: str
              ) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(delta, error estimate) of int (p - e^eps p')_+ by mpmath.quad at the ambient precision.

    The kink is found by mpmath.findroot on the privacy loss log p - log p' computed directly from
    the densities (only its monotonicity is used, not our closed forms); the integrand is then
    integrated over the side where it is positive, split at geometrically spaced points."""
    s, q, eps = mpmath.mpf(sigma), mpmath.mpf(q_), mpmath.mpf(eps_)
    (m1, k1), (m2, k2) = _PAIRS[direction]
    p, p2 = _density(s, q, m1, k1), _density(s, q, m2, k2)
    if q == 0:
        return mpmath.mpf(0), mpmath.mpf(0)
    increasing = direction != "add"
    if not increasing and mpmath.exp(-eps) <= 1 - q:
        return mpmath.mpf(0), mpmath.mpf(0)  # the add loss is bounded by -log(1-q)

    def loss(x: mpmath.mpf) -> mpmath.mpf:
        return mpmath.log(p(x)) - mpmath.log(p2(x)) - eps

    sign = 1 if increasing else -1
    lo, hi = mpmath.mpf(0), mpmath.mpf(0)
    step = s
    while sign * loss(hi) <= 0:
        hi += step
        step *= 2
    step = s
    while sign * loss(lo) > 0:
        lo -= step
        step *= 2
    x0 = mpmath.findroot(loss, (lo, hi), solver="anderson")
    # mpmath.quad's tolerance is absolute: normalise by the density at the kink (deltas go down
    # to 1e-30000 here), and split where the integrand decays by about e per piece
    scale = p(x0)
    width = s / max(1, abs(x0) / s) / 4
    offsets = [width * 4**j for j in range(int(mpmath.log(40 * s / width, 4)) + 2)]
    pts = [x0] + [x0 + sign * o for o in offsets] + [sign * mpmath.inf]
    if not increasing:
        pts = pts[::-1]
    value, err = mpmath.quad(
        lambda x: (p(x) - mpmath.exp(eps) * p2(x)) / scale, pts, error=True,
        method="gauss-legendre",
    )
    return value * scale, err * scale


def _dps_for(b: Bound) -> int:
    """At least twice the digits our bound carries."""
    return max(40, 2 * digits_for_prec(max(b.prec, 64)))


def _assert_oracle_inside(b: Bound, value: mpmath.mpf, err: mpmath.mpf, context: object) -> None:
    assert err <= abs(value) * mpmath.mpf(10) ** -20 or err <= mpmath.mpf(10) ** -60, (context, err)
    lo, hi = mpmath.mpf(str(b.lower)), mpmath.mpf(str(b.upper))
    assert lo - 10 * err <= value <= hi + 10 * err, (context, b, value)


sigmas = st.floats(min_value=math.log10(0.3), max_value=math.log10(20)).map(lambda t: 10.0**t)
qs = st.one_of(
    st.floats(min_value=-4, max_value=0).map(lambda t: 10.0**t),
    st.just(1.0),
)
epsilons = st.one_of(st.floats(min_value=0, max_value=10), st.just(0.0))
directions = st.sampled_from(["remove", "add", "replace"])


# -- q = 1: the Gaussian mechanism ----------------------------------------------------------------
def mp_balle_wang(mu: mpmath.mpf, eps: mpmath.mpf) -> mpmath.mpf:
    """Balle-Wang 2018 Thm 8, written out in mpmath."""
    return mpmath.ncdf(mu / 2 - eps / mu) - mpmath.exp(eps) * mpmath.ncdf(-mu / 2 - eps / mu)


@settings(max_examples=30)
@given(sigmas, epsilons, st.sampled_from(["add-remove", "replace-one"]))
def test_q_one_is_the_gaussian(sigma: float, eps: float, neighbours: str) -> None:
    mech = SubsampledGaussian(sigma, 1, neighbours=neighbours)
    b = mech.delta(eps)
    with mpmath.workdps(_dps_for(b)):
        mu = (2 if neighbours == "replace-one" else 1) / mpmath.mpf(sigma)
        truth = mp_balle_wang(mu, mpmath.mpf(eps))
        assert b.contains(truth), (sigma, eps, b, truth)
    assert b.meets(rel=1e-10) or b.upper == 0
    # and it agrees with certify.mechanisms.gaussian (both certified: they must overlap)
    g = GaussianMechanism(sigma, neighbours=neighbours).delta(eps)
    assert g.overlaps(b)


def test_q_one_add_and_remove_coincide() -> None:
    mech = SubsampledGaussian("0.8", 1)
    for eps in ("0", "0.5", "3"):
        r = mech.direction_delta(eps, "remove")
        a = mech.direction_delta(eps, "add")
        assert r.overlaps(a)


# -- the hockey-stick integral --------------------------------------------------------------------
def _check_direction(sigma: float, q: float, eps: float, direction: str) -> None:
    neighbours = "replace-one" if direction == "replace" else "add-remove"
    mech = SubsampledGaussian(sigma, q, neighbours=neighbours)
    b = mech.direction_delta(eps, direction)
    assert b.meets(rel=1e-10) or b.upper == 0
    assert b.lower >= 0 and b.upper <= 1
    with mpmath.workdps(_dps_for(b)):
        value, err = mp_hockey(sigma, q, eps, direction)
        if value == 0:
            assert b.upper == 0, (sigma, q, eps, direction, b)
            return
        _assert_oracle_inside(b, value, err, (sigma, q, eps, direction))


@settings(max_examples=20)
@given(sigmas, qs, epsilons, directions)
def test_direction_delta_contains_quad(sigma: float, q: float, eps: float, direction: str) -> None:
    _check_direction(sigma, q, eps, direction)


@pytest.mark.parametrize(
    ("sigma", "q", "eps", "direction"),
    [
        (1.0, 0.3, 0.2, "add"),
        (0.5, 0.9, 1.5, "add"),
        (5.0, 0.01, 0.005, "add"),
        (0.3, 0.0001, 0.0001, "add"),
        (0.3, 0.0001, 10.0, "remove"),
        (20.0, 0.0001, 10.0, "remove"),  # delta ~ 2e-32061
        (2.0, 0.05, 3.0, "replace"),
    ],
)
def test_direction_delta_fixed_cases(sigma: float, q: float, eps: float, direction: str) -> None:
    _check_direction(sigma, q, eps, direction)


@settings(max_examples=8)
@given(sigmas, qs, epsilons)
def test_profile_is_the_max_of_both_directions(sigma: float, q: float, eps: float) -> None:
    mech = SubsampledGaussian(sigma, q)
    b = mech.delta(eps)
    with mpmath.workdps(_dps_for(b)):
        r, er = mp_hockey(sigma, q, eps, "remove")
        a, ea = mp_hockey(sigma, q, eps, "add")
        value, err = (r, er) if r >= a else (a, ea)
        _assert_oracle_inside(b, value, err, (sigma, q, eps))


def test_known_value_by_hand() -> None:
    """sigma = 1, q = 1/2, eps = 0: the remove profile is the total variation
    P(x > 1/2) - Q(x > 1/2) = q (Phi(1/2) - Phi(-1/2)) (x* = 1/2 when e^eps = 1)."""
    mech = SubsampledGaussian(1, "0.5")
    b = mech.direction_delta(0, "remove")
    with mpmath.workdps(60):
        assert b.contains(mpmath.mpf(1) / 2 * (mpmath.ncdf(0.5) - mpmath.ncdf(-0.5)))


def test_q_zero_is_private() -> None:
    for neighbours in ("add-remove", "replace-one"):
        mech = SubsampledGaussian(1, 0, neighbours=neighbours)
        for b in (mech.delta(0), mech.delta(3), mech.epsilon("1e-9")):
            assert b.lower == b.upper == 0


@settings(max_examples=20)
@given(sigmas, qs, st.floats(min_value=0, max_value=9.9), st.sampled_from(["add-remove",
                                                                           "replace-one"]))
def test_delta_is_decreasing(sigma: float, q: float, eps: float, neighbours: str) -> None:
    mech = SubsampledGaussian(sigma, q, neighbours=neighbours)
    d1 = mech.delta(eps)
    d2 = mech.delta(Fraction(eps) + Fraction(1, 20))
    assert d2.lt(d1) is True, (sigma, q, eps, d1, d2)


# -- eps(delta) -----------------------------------------------------------------------------------
def mp_profile(sigma: float, q: float, eps: mpmath.mpf, neighbours: str) -> mpmath.mpf:
    """delta(eps) as P(L > eps) - e^eps P'(L > eps), with the kink x0 from findroot on the loss
    (an oracle independent of our closed forms for x0)."""
    s, qq = mpmath.mpf(sigma), mpmath.mpf(q)
    out = mpmath.mpf(0)
    for direction in ("replace",) if neighbours == "replace-one" else ("remove", "add"):
        (m1, k1), (m2, k2) = _PAIRS[direction]
        if direction == "add" and mpmath.exp(-eps) <= 1 - qq:
            continue

        def loss(x: mpmath.mpf, m1=m1, k1=k1, m2=m2, k2=k2) -> mpmath.mpf:
            return (mpmath.log(_density(s, qq, m1, k1)(x)) - mpmath.log(_density(s, qq, m2, k2)(x))
                    - eps)

        sign = -1 if direction == "add" else 1
        lo, hi, step = mpmath.mpf(0), mpmath.mpf(0), s
        while sign * loss(hi) <= 0:
            hi, step = hi + step, step * 2
        step = s
        while sign * loss(lo) > 0:
            lo, step = lo - step, step * 2
        x0 = mpmath.findroot(loss, (lo, hi), solver="anderson")

        def one(mean: int, x0: mpmath.mpf = x0, sign: int = sign) -> mpmath.mpf:
            # N(mean, s^2) mass of {L > eps}: x > x0 (increasing loss) or x < x0 (add)
            z = (x0 - mean) / s
            return mpmath.ncdf(-z) if sign > 0 else mpmath.ncdf(z)

        def tail(mixed: bool, shift: int) -> mpmath.mpf:
            return (1 - qq) * one(0) + qq * one(shift) if mixed else one(0)

        out = max(out, tail(m1, k1) - mpmath.exp(eps) * tail(m2, k2))
    return out


@settings(max_examples=12)
@given(sigmas, st.floats(min_value=-4, max_value=0).map(lambda t: 10.0**t),
       st.floats(min_value=-12, max_value=-1).map(lambda t: 10.0**t),
       st.sampled_from(["add-remove", "replace-one"]))
def test_epsilon_contains_findroot(sigma: float, q: float, delta: float, neighbours: str) -> None:
    mech = SubsampledGaussian(sigma, q, neighbours=neighbours)
    b = mech.epsilon(delta)
    with mpmath.workdps(40):
        target = mpmath.mpf(delta)
        if b.upper == 0:
            assert mp_profile(sigma, q, mpmath.mpf(0), neighbours) <= target
            return
        assert b.meets(rel=1e-10, absolute=1e-15)
        root = mpmath.findroot(
            lambda e: mpmath.log(mp_profile(sigma, q, e, neighbours)) - mpmath.log(target),
            (mpmath.mpf(str(b.lower)) * (1 - mpmath.mpf("1e-6")),
             mpmath.mpf(str(b.upper)) * (1 + mpmath.mpf("1e-6")) + mpmath.mpf("1e-12")),
            solver="anderson",
        )
        assert b.contains(root), (sigma, q, delta, b, root)


def test_epsilon_zero_when_delta_at_zero_is_small() -> None:
    mech = SubsampledGaussian(5, "0.001")
    d0 = mech.delta(0)
    e0 = mech.epsilon(Fraction(d0.upper) * 2)
    assert e0.lower == e0.upper == 0
    assert mech.epsilon(Fraction(d0.lower) / 2).lower > 0


def test_epsilon_far_below_float_range() -> None:
    mech = SubsampledGaussian(2, "0.01")
    b = mech.epsilon("1e-400")
    with mpmath.workdps(60):
        lo, hi = mpmath.mpf(str(b.lower)), mpmath.mpf(str(b.upper))
        t = mpmath.mpf("1e-400")
        assert mp_profile(2.0, 0.01, lo, "add-remove") >= t >= mp_profile(2.0, 0.01, hi,
                                                                            "add-remove")


# -- sampler --------------------------------------------------------------------------------------
@pytest.mark.parametrize("neighbours", ["add-remove", "replace-one"])
def test_sampler_matches_the_pair(neighbours: str) -> None:
    """DKW: P(sup |F_n - F| > t) <= 2 exp(-2 n t^2) = 2e-8 at n = 2e5, t = 0.01 (fixed seed)."""
    mech = SubsampledGaussian("1.5", "0.3", sensitivity=2, neighbours=neighbours)
    rng = np.random.default_rng(20240601)
    n, t = 200_000, 0.01
    sd, c, q = 1.5, 2.0, 0.3
    grid = np.linspace(-6, 8, 57)
    for neighbour in (0, 1):
        x = np.sort(mech.sample(n, rng, neighbour=neighbour))
        empirical = np.searchsorted(x, grid, side="right") / n
        shift = c * neighbour if neighbours == "add-remove" else (2 * neighbour - 1) * c

        exact = (1 - q) * norm.cdf(grid, 0, sd) + q * norm.cdf(grid, shift, sd)
        if neighbours == "add-remove" and neighbour == 0:
            exact = norm.cdf(grid, 0, sd)
        assert np.max(np.abs(empirical - exact)) < t


# -- parameters, registry, bad input --------------------------------------------------------------
def test_params_are_exact_text() -> None:
    mech = SubsampledGaussian("0.1", "1/3", sensitivity="2.5")
    assert mech.params() == {"sigma": "0.1", "q": "1/3", "sensitivity": "2.5",
                             "neighbours": "add-remove"}
    assert mech.q == Fraction(1, 3) and mech.sigma == Fraction(1, 10)
    assert mech.name == "subsampled-gaussian"


def test_registered_for_the_cli() -> None:
    assert "subsampled-gaussian" in mechanism_names()
    mech = build_mechanism("subsampled-gaussian", {"sigma": "0.9", "q": "0.01"})
    assert isinstance(mech, SubsampledGaussian)
    assert mech.sigma == Fraction(9, 10) and mech.q == Fraction(1, 100)
    with pytest.raises(InvalidArgument, match="q"):
        build_mechanism("subsampled-gaussian", {"sigma": "0.9"})
    with pytest.raises(InvalidArgument, match="bogus=3"):
        build_mechanism("subsampled-gaussian", {"sigma": "0.9", "q": "0.1", "bogus": "3"})
    built = build_mechanism("subsampled-gaussian", {"sigma": "0.9", "q": "0.1", "steps": "3"})
    assert isinstance(built, SubsampledGaussian) and built.steps == 3
    with pytest.raises(InvalidArgument, match="steps=1e3 must be a positive integer"):
        build_mechanism("subsampled-gaussian", {"sigma": "0.9", "q": "0.1", "steps": "1e3"})
    assert isinstance(MechanismEntry, type)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"sigma": -1, "q": 0.1}, "sigma=-1"),
        ({"sigma": 0, "q": 0.1}, "sigma=0"),
        ({"sigma": 1, "q": 1.5}, "q=1.5"),
        ({"sigma": 1, "q": -0.1}, "q=-0.1"),
        ({"sigma": 1, "q": "nan"}, "q=nan"),
        ({"sigma": 1, "q": 0.1, "sensitivity": 0}, "sensitivity=0"),
        ({"sigma": 1, "q": 0.1, "neighbours": "swap"}, "neighbours=swap"),
        ({"sigma": 1, "q": 0.1, "steps": 0}, "steps=0"),
        ({"sigma": 1, "q": 0.1, "steps": 2.5}, "steps=2.5"),
    ],
)
def test_bad_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidArgument, match=name):
        SubsampledGaussian(**kwargs)


def test_bad_calls() -> None:
    mech = SubsampledGaussian(1, "0.1")
    with pytest.raises(InvalidArgument, match="epsilon=-1"):
        mech.delta(-1)
    with pytest.raises(InvalidArgument, match="delta=0"):
        mech.epsilon(0)
    with pytest.raises(InvalidArgument, match="delta=2"):
        mech.epsilon(2)
    with pytest.raises(InvalidArgument, match="direction=up"):
        mech.direction_delta(1, "up")
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidArgument, match="n=0"):
        mech.sample(0, rng)
    with pytest.raises(InvalidArgument, match="neighbour=2"):
        mech.sample(10, rng, neighbour=2)
    with pytest.raises(InvalidArgument, match="backend=torch"):
        mech.sample(10, rng, backend="torch")


# -- steps > 1: the certified PLD composition (issue 5: certify profile ... steps=T) -------------
def test_steps_route_to_the_pld_composition_and_q_one_is_the_gaussian() -> None:
    """q = 1: T steps are the Gaussian mechanism with sigma / sqrt(T) (Balle-Wang), which both
    modules must enclose; for q < 1 the mechanism's answer is the PLD composition's."""
    from certify.accounting.pld import composed_delta, composed_epsilon

    g = GaussianMechanism("4", compositions=16)
    m = SubsampledGaussian("4", 1, steps=16)
    assert m.epsilon("1e-5").overlaps(g.epsilon("1e-5"))
    assert m.delta("0.5").overlaps(g.delta("0.5"))
    m = SubsampledGaussian("1", "0.05", steps=40)
    e = m.epsilon("1e-5")
    assert e.rel_width <= 1e-3  # the PLD default width
    assert e.overlaps(composed_epsilon([("1", "0.05", 40)], "1e-5"))
    d = SubsampledGaussian("1", "0.05", steps=40, neighbours="remove").delta("1")
    assert d.overlaps(composed_delta([("1", "0.05", 40)], "1", neighbours="remove"))
    # more steps cost more privacy (certified: the enclosures separate)
    assert SubsampledGaussian("1", "0.05", steps=80).epsilon("1e-5").gt(e) is True


def test_steps_with_sensitivity_and_replace_one() -> None:
    # sigma / sensitivity is all that matters
    a = SubsampledGaussian("2", "0.05", sensitivity="2", steps=30).epsilon("1e-5")
    b = SubsampledGaussian("1", "0.05", steps=30).epsilon("1e-5")
    assert a.overlaps(b)
    # replace-one at q = 1: the Gaussian mechanism with 2C
    r = SubsampledGaussian("3", 1, steps=9, neighbours="replace-one").delta("1")
    g = GaussianMechanism("3", compositions=9, neighbours="replace-one").delta("1")
    assert r.overlaps(g)
    assert SubsampledGaussian("1", "0.05", steps=30, neighbours="replace-one").epsilon(
        "1e-5").gt(b) is True  # replacing moves the sum by up to 2C: more privacy loss


def test_single_directions_of_one_step() -> None:
    """neighbours=remove/add: one direction's profile; add's loss is bounded by -log(1-q), so
    its delta is 0 beyond and eps(delta) lies below that bound."""
    rem = SubsampledGaussian("0.8", "0.3", neighbours="remove")
    add = SubsampledGaussian("0.8", "0.3", neighbours="add")
    both = SubsampledGaussian("0.8", "0.3")
    for eps in ("0.1", "0.3"):
        assert rem.delta(eps).overlaps(both.direction_delta(eps, "remove"))
        assert add.delta(eps).overlaps(both.direction_delta(eps, "add"))
    zero = add.delta("0.5")  # -log(0.7) = 0.357 < 0.5
    assert zero.lower == zero.upper == 0
    e = add.epsilon("1e-3")
    assert e.lt(-math.log(0.7)) is True
    assert add.delta(e.upper).le("1e-3") is True and add.delta(e.lower).ge("1e-3") is True
    assert both.epsilon("1e-3").overlaps(rem.epsilon("1e-3"))  # remove dominates here


def test_params_and_sampler_with_steps() -> None:
    mech = SubsampledGaussian("1", "0.5", steps=4, neighbours="remove")
    assert mech.params()["steps"] == "4" and "steps" not in SubsampledGaussian(1, "0.5").params()
    assert mech.one_step() == SubsampledGaussian("1", "0.5", neighbours="remove")
    rng = np.random.default_rng(3)
    x = mech.sample(50_000, rng, neighbour=1)
    assert x.shape == (50_000, 4)
    # each step: mean q C = 0.5, variance sigma^2 + q(1-q) C^2 = 1.25 (5 sd of the mean: 0.011)
    assert np.all(np.abs(x.mean(axis=0) - 0.5) < 0.03)
    assert np.all(np.abs(x.var(axis=0) - 1.25) < 0.05)


def test_cli_profile_with_steps_matches_the_api() -> None:
    """``certify profile subsampled-gaussian sigma=.. q=.. steps=.. delta=.. --json`` (typer's
    CliRunner) returns the API's certified interval; bad steps are usage errors."""
    import json

    from typer.testing import CliRunner

    from certify.accounting.pld import composed_delta, composed_epsilon
    from certify.cli import app, main

    runner = CliRunner()
    result = runner.invoke(app, ["profile", "subsampled-gaussian", "sigma=1", "q=0.05",
                                 "steps=40", "delta=1e-5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["params"]["steps"] == "40" and data["delta"] == {"lower": "0.00001",
                                                                   "upper": "0.00001"}
    api = composed_epsilon([("1", "0.05", 40)], "1e-5")
    got = Bound.from_strings(data["epsilon"]["lower"], data["epsilon"]["upper"])
    assert got.overlaps(api) and got.rel_width <= 1e-3
    result = runner.invoke(app, ["profile", "subsampled-gaussian", "sigma=1", "q=0.05",
                                 "steps=40", "epsilon=1", "neighbours=add", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    got = Bound.from_strings(data["delta"]["lower"], data["delta"]["upper"])
    assert got.overlaps(composed_delta([("1", "0.05", 40)], "1", neighbours="add"))
    assert main(["profile", "subsampled-gaussian", "sigma=1", "q=0.05", "steps=0",
                 "delta=1e-5"]) == 2
