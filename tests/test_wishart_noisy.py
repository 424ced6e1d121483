"""The noisy Wishart variants (WPM-7..9): certified pieces against independent computations.

Oracles: mpmath quadrature at 40 digits (public-matrix profile, random-sensitivity profile, the
MV + E event probabilities, the non-central chi-square CDF), float quadrature of the same
expectations for the cell sums (which must enclose them), the r = d identity with the Gaussian,
and the bad-input contract.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.cli import main
from certify.errors import InvalidArgument
from certify.mechanisms.base import build_mechanism
from certify.mechanisms.gaussian import GaussianMechanism
from certify.mechanisms.wishart_noisy import (
    WishartNoisyPost,
    WishartNoisyPre,
    sample_noisy_post,
    sample_noisy_pre,
)
from certify.numerics.bound import Bound
from certify.numerics.roots import exact_ball
from certify.wishart.noisy_cells import _ncx2_pair
from certify.wishart.noisy_hidden import (
    float_hidden_event,
    hidden_event_bounds,
    hidden_lower_bound,
    threshold_tau,
)
from certify.wishart.noisy_post import (
    coupling_upper_bound,
    event_lower_bound,
    event_probabilities,
)
from certify.wishart.noisy_pre import public_delta, random_sensitivity_delta

DPS = 32


def _mp_gauss_delta(mu: mpmath.mpf, eps: mpmath.mpf) -> mpmath.mpf:
    if eps == 0:
        return mpmath.erf(mu / (2 * mpmath.sqrt(2)))
    return mpmath.ncdf(mu / 2 - eps / mu) - mpmath.e**eps * mpmath.ncdf(-mu / 2 - eps / mu)


def _mp_public(d: int, r: int, mu_sq: Fraction, eps: Fraction) -> mpmath.mpf:
    """E_beta delta_G(mu sqrt(beta)) by mpmath.quad in beta with the Beta density (a different
    integration variable and integrator from the certified t = e^y form)."""
    with mpmath.workdps(DPS):
        mu = mpmath.sqrt(mpmath.mpf(mu_sq.numerator) / mu_sq.denominator)
        e = mpmath.mpf(eps.numerator) / eps.denominator
        a, b = mpmath.mpf(r) / 2, mpmath.mpf(d - r) / 2
        norm = mpmath.beta(a, b)

        def f(x: mpmath.mpf) -> mpmath.mpf:
            density = x ** (a - 1) * (1 - x) ** (b - 1) / norm
            return _mp_gauss_delta(mu * mpmath.sqrt(x), e) * density

        # a fine fixed subdivision: the integrand is sharply peaked for large d (mpmath's error
        # estimate is unreliable on a few wide pieces there)
        peak = mpmath.mpf(r) / d
        pts = sorted(set(mpmath.linspace(0, 1, 33)) | {peak / 2, peak, 2 * peak} - {0, 1}
                     | {mpmath.mpf(0), mpmath.mpf(1)})
        pts = [p for p in pts if 0 <= p <= 1]
        value, error = mpmath.quad(f, pts, error=True)
        assert error < mpmath.mpf(10) ** (-16) * abs(value)
        return value


@pytest.mark.parametrize(("d", "r", "mu_sq", "eps"), [
    (16, 1, Fraction(2), Fraction(1)),
    (16, 1, Fraction(2), Fraction(0)),
    (64, 8, Fraction(16, 5), Fraction(4)),
    (64, 63, Fraction(1), Fraction(3)),
    (1024, 64, Fraction(4), Fraction(2)),
    (8, 3, Fraction(1, 4), Fraction(1, 2)),
])
def test_public_delta_matches_mpmath(d: int, r: int, mu_sq: Fraction, eps: Fraction) -> None:
    bound = public_delta(d, r, mu_sq, eps)
    truth = _mp_public(d, r, mu_sq, eps)
    assert bound.rel_width <= 1e-7
    assert bound.contains(mpmath.nstr(truth, 35)), (bound, truth)


def test_public_delta_rank_d_is_the_gaussian() -> None:
    gauss = GaussianMechanism(sigma=Fraction(1, 2)).delta(Fraction(1))
    ours = public_delta(10, 10, Fraction(4), Fraction(1))
    assert ours.overlaps(gauss)


@settings(max_examples=6)
@given(d=st.integers(4, 64), eps=st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(2)]))
def test_public_delta_monotone_in_rank_and_below_gaussian(d: int, eps: Fraction) -> None:
    mu_sq = Fraction(1)
    low = public_delta(d, 1, mu_sq, eps)
    mid = public_delta(d, d // 2, mu_sq, eps)
    full = public_delta(d, d, mu_sq, eps)
    # beta ~ Beta(r/2, (d-r)/2) increases stochastically with r; delta_G increases in mu
    assert low.upper <= mid.lower
    assert mid.upper <= full.lower


def test_random_sensitivity_matches_mpmath() -> None:
    for r, mu_sq, eps in ((1, Fraction(1), Fraction(1)), (8, Fraction(4), Fraction(2))):
        bound = random_sensitivity_delta(r, mu_sq, eps)
        with mpmath.workdps(DPS):
            mu = mpmath.sqrt(mpmath.mpf(mu_sq.numerator) / mu_sq.denominator)
            e = mpmath.mpf(eps.numerator) / eps.denominator
            k = mpmath.mpf(r) / 2

            def f(s: mpmath.mpf, mu: mpmath.mpf = mu, e: mpmath.mpf = e,
                  k: mpmath.mpf = k) -> mpmath.mpf:
                dens = k**k / mpmath.gamma(k) * s ** (k - 1) * mpmath.exp(-k * s)
                return _mp_gauss_delta(mu * mpmath.sqrt(s), e) * dens

            truth = mpmath.quad(f, [0, 0.5, 1, 4, mpmath.inf])
        assert bound.contains(mpmath.nstr(truth, 35)), (bound, truth)


def _mp_post_event(r: int, rho: Fraction, sigma: Fraction, t: Fraction,
                   sign: int) -> mpmath.mpf:
    """P[T > t] with T | s ~ N(sign b s, sigma^2 + c^2 s/r), by mpmath quadrature over s."""
    with mpmath.workdps(DPS):
        fr = lambda q: mpmath.mpf(q.numerator) / q.denominator  # noqa: E731
        b = mpmath.sqrt((1 - fr(rho)) / 2)
        c2 = (1 + fr(rho)) / 2
        k = mpmath.mpf(r) / 2

        def f(s: mpmath.mpf) -> mpmath.mpf:
            dens = k**k / mpmath.gamma(k) * s ** (k - 1) * mpmath.exp(-k * s)
            sd = mpmath.sqrt(fr(sigma) ** 2 + c2 * s / r)
            return mpmath.ncdf((sign * b * s - fr(t)) / sd) * dens

        return mpmath.quad(f, [0, 0.25, 1, 4, 16, mpmath.inf])


@pytest.mark.parametrize(("r", "rho", "sigma", "t"), [
    (1, Fraction(0), Fraction(1), Fraction(3, 2)),
    (16, Fraction(9, 10), Fraction(1, 2), Fraction(1, 4)),
    (4, Fraction(-1, 2), Fraction(2), Fraction(5)),
])
def test_post_event_probabilities_match_mpmath(r: int, rho: Fraction, sigma: Fraction,
                                               t: Fraction) -> None:
    pv, pw = event_probabilities(r, rho, sigma, t)
    assert pv.contains(mpmath.nstr(_mp_post_event(r, rho, sigma, t, 1), 35))
    assert pw.contains(mpmath.nstr(_mp_post_event(r, rho, sigma, t, -1), 35))
    eps = Fraction(1, 2)
    diff = event_lower_bound(r, rho, sigma, eps, t)
    with mpmath.workdps(DPS):
        truth = _mp_post_event(r, rho, sigma, t, 1) - mpmath.e**0.5 * _mp_post_event(
            r, rho, sigma, t, -1)
    assert diff.contains(mpmath.nstr(truth, 35))


def test_coupling_upper_bound_dominates_its_expectation() -> None:
    """The monotone upper cell sum is above E delta_G(mu sqrt(s^2 + s z^2/r)) (float Monte
    Carlo with 400k draws, 5 standard errors) and not far above it."""
    r, rho, sigma, eps = 4, Fraction(1, 2), Fraction(1), Fraction(1, 2)
    upper = float(coupling_upper_bound(r, rho, sigma, eps).upper)
    rng = np.random.default_rng(11)
    s = rng.chisquare(r, 400_000) / r
    z2 = rng.chisquare(1, 400_000)
    mu = math.sqrt(2 * (1 - float(rho))) / float(sigma) * np.sqrt(s * s + s * z2 / r)
    from scipy.stats import norm
    vals = norm.cdf(mu / 2 - float(eps) / mu) - math.exp(float(eps)) * norm.cdf(
        -mu / 2 - float(eps) / mu)
    mean, se = float(vals.mean()), float(vals.std() / math.sqrt(vals.size))
    assert upper >= mean - 5 * se
    assert upper <= 1.1 * mean


def test_noncentral_chi2_matches_mpmath_series() -> None:
    for x, k, lam in ((Fraction(3), 15, Fraction(1, 2)), (Fraction(40), 15, Fraction(19, 5)),
                      (Fraction(1, 2), 3, Fraction(10))):
        with ctx.workprec(128):
            cdf, sf = _ncx2_pair(x, k, exact_ball(lam) / 2)
        with mpmath.workdps(60):  # beyond the 128-bit (~38-digit) certified width
            h = mpmath.mpf(lam.numerator) / lam.denominator / 2
            xx = mpmath.mpf(x.numerator) / x.denominator
            def term(j: mpmath.mpf, h: mpmath.mpf = h, k: int = k,
                     xx: mpmath.mpf = xx) -> mpmath.mpf:
                return (mpmath.exp(-h) * h**j / mpmath.factorial(j)
                        * mpmath.gammainc(k / mpmath.mpf(2) + j, 0, xx / 2, regularized=True))

            truth = mpmath.nsum(term, [0, mpmath.inf])
            assert Bound.from_arb(cdf, 128).contains(mpmath.nstr(truth, 55))
            assert Bound.from_arb(sf, 128).contains(mpmath.nstr(1 - truth, 55))


def test_hidden_event_bounds_enclose_float_quadrature() -> None:
    d, r, rho, sigma, x_star = 8, 2, Fraction(1, 2), Fraction(1), Fraction(2)
    pv, pw = hidden_event_bounds(d, r, rho, sigma, x_star, cells=60)
    fv, fw = float_hidden_event(d, r, float(rho), float(sigma),
                                np.array([threshold_tau(rho, x_star)]), nodes=800)
    assert float(pv.lower) <= fv[0] <= float(pv.upper)
    assert float(pw.lower) <= fw[0] <= float(pw.upper)
    assert float(pv.upper) - float(pv.lower) < 0.2 * fv[0]


def test_hidden_lower_bound_below_public_profile() -> None:
    d, r, rho, sigma, eps = 16, 1, Fraction(0), Fraction(1), Fraction(1)
    low = hidden_lower_bound(d, r, rho, sigma, eps, Fraction(563, 128), cells=60,
                             estimate=2.7e-3)
    public = public_delta(d, r, 2 * (1 - rho) / sigma**2, eps)
    assert 0 < low.lower < public.lower  # post-processing: output-only <= M-public


def test_mechanism_brackets_are_ordered_and_contain_gaussian_relation() -> None:
    pre = WishartNoisyPre(64, 8, "0.9", "0.5", release="matrix")
    b = pre.delta("1")
    g = pre.gaussian_delta("1")
    assert b.upper < g.lower  # strict amplification with M public, r < d
    post = WishartNoisyPost(16, 16, "0.9", "0.1")
    br = post.delta("1")
    assert br.lower <= br.upper
    assert br.upper < post.gaussian_delta("1").lower  # noise-free profile below Gaussian


def test_epsilon_bracket_inverts_delta() -> None:
    pre = WishartNoisyPre(64, 8, "0.9", "0.5", release="matrix")
    eps = pre.epsilon("1e-5")
    lo, hi = Fraction(str(eps.lower)), Fraction(str(eps.upper))
    assert hi - lo <= Fraction(1, 10**4) * hi
    assert pre.delta(lo).lower > Fraction(1, 10**5) or lo == 0
    assert pre.delta(hi).upper <= Fraction(1, 10**5)


def test_cli_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["profile", "wishart-noisy-pre", "d=16", "r=4", "rho=0.5", "sigma=1",
                 "release=matrix", "epsilon=1", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert data["mechanism"] == "wishart-noisy-pre" and data["params"]["release"] == "matrix"
    assert "bracket" not in data  # the M-released profile is exact
    truth = _mp_public(16, 4, Fraction(1), Fraction(1))
    assert mpmath.mpf(data["delta"]["lower"]) <= truth <= mpmath.mpf(data["delta"]["upper"])
    code = main(["profile", "wishart-noisy-post", "d=8", "r=8", "rho=0.9", "sigma=0.2",
                 "epsilon=2", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert Fraction(data["delta"]["lower"]) <= Fraction(data["delta"]["upper"])
    assert data["bracket"] is True  # lower and upper methods, said so in the output
    code = main(["profile", "wishart-noisy-post", "d=8", "r=9", "rho=0.9", "sigma=0.2",
                 "epsilon=2", "--json"])
    assert code == 2


@pytest.mark.parametrize(("build", "fragment"), [
    (lambda: WishartNoisyPost(1, 1, "0.5", "1"), "d=1"),
    (lambda: WishartNoisyPost(8, 9, "0.5", "1"), "r=9"),
    (lambda: WishartNoisyPost(8, 0, "0.5", "1"), "r=0"),
    (lambda: WishartNoisyPost(8, 2, "1", "1"), "rho=1"),
    (lambda: WishartNoisyPost(8, 2, "-1", "1"), "rho=-1"),
    (lambda: WishartNoisyPre(8, 2, "0.5", "0"), "sigma=0"),
    (lambda: WishartNoisyPre(8, 2, "0.5", "-1.0"), "sigma=-1.0"),
    (lambda: WishartNoisyPre(8, 2, "0.5", "1", release="secret"), "release=secret"),
    (lambda: WishartNoisyPre(8, 2, "0.5", "1", release="matrix").delta("-1"), "epsilon=-1"),
    (lambda: WishartNoisyPre(8, 2, "0.5", "1", release="matrix").epsilon("0"), "delta=0"),
    (lambda: sample_noisy_post([1.0, 0.0], 1, 1.0, 0), "size=0"),
    (lambda: sample_noisy_post([1.0, 0.0], 1, 1.0, 5, backend="jax"), "backend=jax"),
    (lambda: sample_noisy_pre([], 1, 1.0, 5), "V must be"),
    (lambda: sample_noisy_pre([1.0, 0.0], 3, 1.0, 5), "r=3"),
    (lambda: sample_noisy_pre([1.0, 0.0], 1, 0.0, 5), "sigma=0"),
    (lambda: sample_noisy_pre([1.0, 0.0], 1, 1.0, 5, method="magic"), "method=magic"),
    (lambda: WishartNoisyPost(8, 2, "0.5", "1").sample(3, neighbour=2), "neighbour=2"),
    (lambda: build_mechanism("wishart-noisy-post", {"d": "8", "r": "2", "rho": "0.5"}),
     "sigma is required"),
])
def test_bad_input_raises_invalid_argument(build: Callable[[], object], fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=None) as info:
        build()
    assert fragment in str(info.value), str(info.value)


def test_proofs_pass_and_are_registered() -> None:
    from proofs.registry import ALL_PROOFS
    from proofs.wishart_noisy import WISHART_NOISY_PROOFS

    for proof in WISHART_NOISY_PROOFS:
        assert proof().ok, proof().name
        assert proof in ALL_PROOFS


def test_ball_inputs_keep_the_ambient_precision() -> None:
    before = ctx.prec
    public_delta(16, 2, Fraction(1), Fraction(1))
    assert ctx.prec == before
