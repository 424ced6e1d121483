"""Certified Renyi DP of the subsampled Gaussian (ACC-3) and the RDP -> (eps, delta) conversions
(ACC-4), against mpmath (exact sums, quadrature, the conversions written out) and against the
certified exact profile (soundness of the conversions)."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.accounting.rdp import (
    balle_epsilon,
    cks_epsilon,
    epsilon_from_rdp,
    kl_epsilon,
    mironov_epsilon,
    rdp,
    rdp_epsilon,
    renyi_divergence,
)
from certify.errors import InvalidArgument
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound, digits_for_prec

pytest.importorskip("certify.numerics.integrate")


def _mp(x: Fraction | float) -> mpmath.mpf:
    x = Fraction(x)
    return mpmath.mpf(x.numerator) / x.denominator


def mp_binomial_rdp(sigma: float, q: float, alpha: int) -> mpmath.mpf:
    """MTZ 2019 Sec. 3.3 written out: log(sum_k C(a,k) (1-q)^(a-k) q^k e^{(k^2-k)/(2 s^2)})/(a-1),
    at the ambient precision (the raw sum, not our expm1 form)."""
    s, qq = mpmath.mpf(sigma), mpmath.mpf(q)
    total = mpmath.fsum(
        mpmath.binomial(alpha, k) * (1 - qq) ** (alpha - k) * qq**k
        * mpmath.exp(mpmath.mpf(k * k - k) / (2 * s * s))
        for k in range(alpha + 1)
    )
    return mpmath.log(total) / (alpha - 1)


def mp_quad_rdp(sigma: float, q: float, alpha: Fraction, direction: str
                ) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(D, relative error estimate) by mpmath.quad of E_Q[g^beta - 1], beta = alpha (remove) or
    1 - alpha (add), g = 1 - q + q e^{(2x-1)/(2 s^2)}; D = log1p(.)/(alpha - 1).

    The range is the bumps at 0, 1 and beta widened by 20 s (every term of the integrand is
    bounded by Gaussians of sd s centred there, whose mass beyond 20 s is below e^{-200}), split
    every 2s; the integrand is normalised by its largest value at the split points
    (mpmath.quad's tolerance is absolute)."""
    s, qq, a = mpmath.mpf(sigma), mpmath.mpf(q), _mp(alpha)
    beta = a if direction == "remove" else 1 - a

    def h(x: mpmath.mpf) -> mpmath.mpf:
        u = (2 * x - 1) / (2 * s * s)
        w = qq * mpmath.expm1(u)
        return mpmath.npdf(x, 0, s) * mpmath.expm1(beta * mpmath.log1p(w))

    lo = min(mpmath.mpf(0), beta) - 20 * s
    hi = max(mpmath.mpf(1), beta) + 20 * s
    n = int((hi - lo) / (2 * s)) + 1
    pts = [lo + (hi - lo) * i / n for i in range(n + 1)]
    pts = sorted(set(pts) | {mpmath.mpf(0), mpmath.mpf(1) / 2, mpmath.mpf(1), beta})
    scale = max(abs(h(x)) for x in pts) or mpmath.mpf(1)
    value, err = mpmath.quad(lambda x: h(x) / scale, pts, error=True, method="gauss-legendre")
    excess = value * scale
    return mpmath.log1p(excess) / (a - 1), abs(err * scale / excess)


sigmas = st.floats(min_value=math.log10(0.3), max_value=math.log10(20)).map(lambda t: 10.0**t)
qs = st.one_of(st.floats(min_value=-4, max_value=0).map(lambda t: 10.0**t), st.just(1.0))


def _dps(b: Bound) -> int:
    """Twice the digits our bound carries (at least 44)."""
    return max(44, 2 * digits_for_prec(max(b.prec, 64)))


# -- integer orders ----------------------------------------------------------------------------
@settings(max_examples=30)
@given(sigmas, qs, st.integers(min_value=2, max_value=64))
def test_integer_orders_match_the_exact_sum(sigma: float, q: float, alpha: int) -> None:
    b = renyi_divergence(SubsampledGaussian(sigma, q), alpha, "remove")
    assert b.meets(rel=1e-10)
    with mpmath.workdps(_dps(b) + 20):  # + 20: log(A) of A = 1 + tiny
        truth = mp_binomial_rdp(sigma, q, alpha)
        assert b.contains(truth), (sigma, q, alpha, b, truth)


@pytest.mark.parametrize(("sigma", "q", "alpha"), [(1.0, 0.01, 2), (0.5, 0.3, 4), (2.0, 0.7, 9),
                                                   (0.4, 0.001, 32)])
def test_integer_orders_integral_agrees_with_the_sum(sigma: float, q: float, alpha: int) -> None:
    """Two certified methods for the same number must overlap (a cross-check)."""
    mech = SubsampledGaussian(sigma, q)
    by_sum = renyi_divergence(mech, alpha, "remove")
    by_integral = renyi_divergence(mech, alpha, "remove", method="integral")
    assert by_integral.meets(rel=1e-10)
    assert by_sum.overlaps(by_integral), (by_sum, by_integral)


@settings(max_examples=12)
@given(sigmas, st.floats(min_value=1.0001, max_value=40), st.sampled_from(["remove", "add"]))
def test_q_one_is_alpha_over_two_s_squared(sigma: float, alpha: float, direction: str) -> None:
    """For q = 1 both directions are the Gaussian's D_alpha = alpha Delta^2 / (2 sigma^2)
    (Mironov 2017, the Gaussian mechanism's RDP), an exact rational here."""
    b = renyi_divergence(SubsampledGaussian(sigma, 1), alpha, direction)
    assert b.contains(Fraction(alpha) / (2 * Fraction(sigma) ** 2)), (sigma, alpha, b)
    assert b.meets(rel=1e-10)


def test_q_zero_is_zero() -> None:
    for b in rdp(SubsampledGaussian(1, 0), [2, "2.5"]):
        assert b.lower == b.upper == 0


# -- fractional orders and the add direction -----------------------------------------------------
@settings(max_examples=10)
@given(sigmas, qs, st.fractions(min_value=Fraction(65, 64), max_value=Fraction(16),
                                max_denominator=64), st.sampled_from(["remove", "add"]))
def test_orders_match_quadrature(sigma: float, q: float, alpha: Fraction, direction: str) -> None:
    if alpha.denominator == 1 and direction == "remove":
        alpha += Fraction(1, 3)  # the sum is tested above; exercise the integral here
    b = renyi_divergence(SubsampledGaussian(sigma, q), alpha, direction)
    assert b.meets(rel=1e-10)
    with mpmath.workdps(_dps(b)):
        truth, rel_err = mp_quad_rdp(sigma, q, alpha, direction)
        assert rel_err < mpmath.mpf(10) ** -25, (sigma, q, alpha, direction, rel_err)
        tol = abs(truth) * rel_err * 10
        lo, hi = mpmath.mpf(str(b.lower)), mpmath.mpf(str(b.upper))
        assert lo - tol <= truth <= hi + tol, (sigma, q, alpha, direction, b, truth)


@pytest.mark.parametrize(
    ("sigma", "q", "alpha", "direction"),
    [
        (0.5, 0.01, Fraction(511, 2), "remove"),  # D ~ 506: the integrand spans e^{+-10^5}
        (0.5, 0.01, Fraction(256), "add"),
        (0.3, 0.5, Fraction(129, 2), "add"),
        (20.0, 0.0001, Fraction(3, 2), "remove"),  # D ~ 2e-11
        (0.3, 0.0001, Fraction(101, 100), "add"),
    ],
)
def test_hard_orders_match_quadrature(sigma: float, q: float, alpha: Fraction,
                                      direction: str) -> None:
    b = renyi_divergence(SubsampledGaussian(sigma, q), alpha, direction)
    assert b.meets(rel=1e-10)
    with mpmath.workdps(_dps(b)):
        truth, rel_err = mp_quad_rdp(sigma, q, alpha, direction)
        assert rel_err < mpmath.mpf(10) ** -25
        tol = abs(truth) * rel_err * 10
        assert mpmath.mpf(str(b.lower)) - tol <= truth <= mpmath.mpf(str(b.upper)) + tol


@pytest.mark.parametrize("sigma", [0.5, 2.0])
@pytest.mark.parametrize("q", [0.01, 0.5, 1.0])
@pytest.mark.parametrize("beta", [Fraction(5, 2), Fraction(-6)])
def test_tail_bounds_dominate_the_tails(sigma: float, q: float, beta: Fraction) -> None:
    """The explicit tail bounds (_tail_bound) against mpmath.quad of the tails themselves, at cuts
    inside the bulk where the tails are not negligible (so an unsound bound would show)."""
    from flint import arb, ctx

    from certify.accounting.rdp import _tail_bound

    s, qq, b = mpmath.mpf(sigma), mpmath.mpf(q), _mp(beta)

    def h(x: mpmath.mpf) -> mpmath.mpf:
        g = 1 - qq + qq * mpmath.exp((2 * x - 1) / (2 * s * s))
        return mpmath.npdf(x, 0, s) * (g**b - 1 - b * (g - 1))

    far = 40 * s + abs(b) + 2
    with mpmath.workdps(30), ctx.workprec(128):
        for cut in (-1, 0.5, 2):
            c = mpmath.mpf(cut)
            upper = mpmath.quad(h, [c, c + 1, c + far])
            lower = mpmath.quad(h, [c - far, c - 1, c])
            ub = _tail_bound(arb(sigma), Fraction(q), beta, arb(cut), upper=True)
            lb = _tail_bound(arb(sigma), Fraction(q), beta, arb(cut), upper=False)
            assert mpmath.mpf(ub.mid().str(40, radius=False)) >= upper * (1 - mpmath.mpf("1e-20"))
            assert mpmath.mpf(lb.mid().str(40, radius=False)) >= lower * (1 - mpmath.mpf("1e-20"))


def test_rdp_is_the_max_of_both_directions_and_increasing_in_alpha() -> None:
    mech = SubsampledGaussian("0.9", "0.05")
    orders = [Fraction(3, 2), 2, Fraction(5, 2), 4, 8, 16]
    curve = rdp(mech, orders)
    for a, b in zip(orders, curve, strict=True):
        rem = renyi_divergence(mech, a, "remove")
        add = renyi_divergence(mech, a, "add")
        assert b.lower == max(rem.lower, add.lower) and b.upper == max(rem.upper, add.upper)
    # Renyi divergence is non-decreasing in the order (van Erven and Harremoes 2014, Thm 3)
    for lo, hi in zip(curve, curve[1:], strict=False):
        assert lo.lt(hi) is True


#: the conversions work at 256 bits (81 digits): the oracle at more than twice that
_CONV_DPS = 2 * digits_for_prec(256) + 10


# -- conversions --------------------------------------------------------------------------------
def mp_mironov(rho: mpmath.mpf, alpha: mpmath.mpf, delta: mpmath.mpf) -> mpmath.mpf:
    return rho + mpmath.log(1 / delta) / (alpha - 1)


def mp_balle(rho: mpmath.mpf, alpha: mpmath.mpf, delta: mpmath.mpf) -> mpmath.mpf:
    return rho + mpmath.log((alpha - 1) / alpha) - (mpmath.log(delta) + mpmath.log(alpha)) / (
        alpha - 1)


@settings(max_examples=25)
@given(st.fractions(min_value=0, max_value=50, max_denominator=1000),
       st.fractions(min_value=Fraction(101, 100), max_value=256, max_denominator=100),
       st.floats(min_value=-30, max_value=-0.01).map(lambda t: 10.0**t))
def test_conversions_match_mpmath(rho: Fraction, alpha: Fraction, delta: float) -> None:
    r = Bound.exact(rho)
    with mpmath.workdps(_CONV_DPS):
        args = (_mp(rho), _mp(alpha), mpmath.mpf(delta))
        assert mironov_epsilon(r, alpha, delta).contains(mp_mironov(*args))
        assert balle_epsilon(r, alpha, delta).contains(mp_balle(*args))
    # the output is as wide as the input plus rounding at the working precision
    slack = Bound.exact("1e-70").upper
    assert mironov_epsilon(r, alpha, delta).width <= r.width + slack
    assert balle_epsilon(r, alpha, delta).width <= r.width + slack


def test_conversion_of_a_wide_rdp_bound_is_sound() -> None:
    """The conversions increase with rho: the upper end comes from the upper end of the RDP."""
    r = Bound.from_strings("0.25", "0.5")
    with mpmath.workdps(_CONV_DPS):
        for conv, mp_conv in ((mironov_epsilon, mp_mironov), (balle_epsilon, mp_balle)):
            b = conv(r, 8, "1e-6")
            hi = mp_conv(mpmath.mpf("0.5"), mpmath.mpf(8), mpmath.mpf("1e-6"))
            lo = mp_conv(mpmath.mpf("0.25"), mpmath.mpf(8), mpmath.mpf("1e-6"))
            assert b.contains(hi) and b.contains(lo)
            # and the ends are tight (the wide input does not loosen them)
            assert abs(mpmath.mpf(str(b.upper)) - hi) < mpmath.mpf(10) ** -70
            assert abs(mpmath.mpf(str(b.lower)) - lo) < mpmath.mpf(10) ** -70


def test_epsilon_from_rdp_takes_the_min_over_orders_and_is_nonnegative() -> None:
    orders = [2, 4, 8]
    rhos = [Bound.exact("0.1"), Bound.exact("0.3"), Bound.exact("0.9")]
    with mpmath.workdps(_CONV_DPS):
        expected = min(mp_balle(_mp(Fraction(r.lower)), mpmath.mpf(a), mpmath.mpf("1e-5"))
                       for r, a in zip(rhos, orders, strict=True))
        assert epsilon_from_rdp(rhos, orders, "1e-5").contains(expected)
        expected_m = min(mp_mironov(_mp(Fraction(r.lower)), mpmath.mpf(a), mpmath.mpf("1e-5"))
                         for r, a in zip(rhos, orders, strict=True))
        assert epsilon_from_rdp(rhos, orders, "1e-5", "mironov2017").contains(expected_m)
    # rho = 0, delta = 1/2, alpha = 10: the Balle et al. expression is negative; eps(delta) >= 0
    zero = epsilon_from_rdp([Bound.exact(0)], [10], "0.5")
    assert zero.lower == zero.upper == 0


@settings(max_examples=6)
@given(sigmas, qs, st.floats(min_value=-10, max_value=-2).map(lambda t: 10.0**t),
       st.sampled_from(["balle2020", "mironov2017"]))
def test_rdp_epsilon_is_an_upper_bound_on_the_exact_epsilon(
    sigma: float, q: float, delta: float, conversion: str
) -> None:
    """Soundness (ACC-4): the RDP accountant's eps is >= the certified exact eps(delta) of the
    one-step mechanism, decided by a certified comparison."""
    mech = SubsampledGaussian(sigma, q)
    orders = [Fraction(3, 2), 2, 3, 5, 8, 16, 32]
    by_rdp = rdp_epsilon(mech, delta, orders, conversion)
    exact = mech.epsilon(delta)
    assert by_rdp.ge(exact) is True, (sigma, q, delta, by_rdp, exact)


# -- steps, single directions, CKS and the KL shortcut ------------------------------------------
def mp_cks(rho: mpmath.mpf, alpha: mpmath.mpf, delta: mpmath.mpf) -> mpmath.mpf:
    """CKS 2020 Prop. 12 as printed (delta-form), solved for eps by mpmath.findroot: an oracle
    that shares no algebra with either implementation."""
    def gap(eps: mpmath.mpf) -> mpmath.mpf:
        return ((alpha - 1) * (rho - eps) - mpmath.log(alpha)
                + (alpha - 1) * mpmath.log(1 - 1 / alpha) - mpmath.log(delta))
    return mpmath.findroot(gap, rho)


@settings(max_examples=20)
@given(st.fractions(min_value=0, max_value=50, max_denominator=1000),
       st.fractions(min_value=Fraction(101, 100), max_value=256, max_denominator=100),
       st.floats(min_value=-30, max_value=-0.01).map(lambda t: 10.0**t))
def test_cks_matches_its_delta_form_and_balle(rho: Fraction, alpha: Fraction,
                                              delta: float) -> None:
    r = Bound.exact(rho)
    c = cks_epsilon(r, alpha, delta)
    with mpmath.workdps(_CONV_DPS):
        assert c.contains(mp_cks(_mp(rho), _mp(alpha), mpmath.mpf(delta)))
    assert c.overlaps(balle_epsilon(r, alpha, delta))  # one number, two forms


@pytest.mark.parametrize(("rho", "delta", "claims_zero"), [
    ("1e-8", "1e-3", True),          # 1 - e^-rho = 1e-8 < delta^2 = 1e-6
    ("1e-6", "1e-3", True),          # 1 - e^-rho = 1e-6 - 5e-13 < 1e-6: by a hair
    ("1.000001e-6", "1e-3", False),  # 1 - e^-rho = 1.0000005e-6 > 1e-6
    ("0.5", "0.5", False),
])
def test_kl_shortcut_claims_zero_exactly_when_delta_exceeds_the_tv_bound(
        rho: str, delta: str, claims_zero: bool) -> None:
    b = kl_epsilon(Bound.exact(rho), 2, delta)
    with mpmath.workdps(60):
        expected = mpmath.mpf(delta) ** 2 > -mpmath.expm1(-mpmath.mpf(rho))
    assert expected == claims_zero
    assert (b == Bound.exact(0)) == claims_zero
    if not claims_zero:
        assert b.lower == 0 and not b.upper.is_finite()


def test_kl_shortcut_is_sound_where_it_claims_zero() -> None:
    """Where the shortcut says eps = 0, the certified delta(0) (the TV distance of the pair) is
    below delta, for one step and for T steps (RDP = T times the one-step value)."""
    from certify.accounting.pld import composed_delta

    one = SubsampledGaussian(2, "0.001")
    rho = rdp(one, [Fraction(5, 4)])
    assert epsilon_from_rdp(rho, [Fraction(5, 4)], "1e-3", "kl-tv") == Bound.exact(0)
    assert one.delta(0).le("1e-3") is True
    ten = SubsampledGaussian(2, "0.001", steps=10)
    rho = rdp(ten, [Fraction(5, 4)])
    assert epsilon_from_rdp(rho, [Fraction(5, 4)], "1e-2", "kl-tv") == Bound.exact(0)
    assert composed_delta([(2, "0.001", 10)], 0).le("1e-2") is True


def test_steps_multiply_the_divergence_and_single_directions() -> None:
    one = SubsampledGaussian("1.2", "0.1")
    many = SubsampledGaussian("1.2", "0.1", steps=250)
    for order in (Fraction(3, 2), 4):
        for d in ("remove", "add"):
            a, b = renyi_divergence(one, order, d), renyi_divergence(many, order, d)
            scaled = Bound.from_fractions(Fraction(a.lower) * 250, Fraction(a.upper) * 250)
            assert b.overlaps(scaled) and b.rel_width <= 1e-9
    rem = SubsampledGaussian("1.2", "0.1", neighbours="remove")
    assert rdp(rem, [4])[0] == renyi_divergence(one, 4, "remove")
    both = rdp(one, [4])[0]
    assert both.overlaps(renyi_divergence(one, 4, "remove"))  # remove dominates at order 4


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input_names_the_parameter() -> None:
    mech = SubsampledGaussian(1, "0.1")
    with pytest.raises(InvalidArgument, match="order=1 "):
        renyi_divergence(mech, 1)
    with pytest.raises(InvalidArgument, match=r"order=0.5"):
        renyi_divergence(mech, 0.5)
    with pytest.raises(InvalidArgument, match="direction=both"):
        renyi_divergence(mech, 2, "both")
    with pytest.raises(InvalidArgument, match="method=fast"):
        renyi_divergence(mech, 2, method="fast")
    with pytest.raises(InvalidArgument, match="mech="):
        renyi_divergence("gaussian", 2)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="neighbours=replace-one"):
        rdp(SubsampledGaussian(1, "0.1", neighbours="replace-one"), [2])
    with pytest.raises(InvalidArgument, match=r"orders\[1\]=1"):
        rdp(mech, [2, 1])
    with pytest.raises(InvalidArgument, match="orders="):
        rdp(mech, [])
    with pytest.raises(InvalidArgument, match="orders="):
        rdp(mech, "2")
    with pytest.raises(InvalidArgument, match="delta=0"):
        mironov_epsilon(Bound.exact(1), 2, 0)
    with pytest.raises(InvalidArgument, match="delta=1.5"):
        balle_epsilon(Bound.exact(1), 2, 1.5)
    with pytest.raises(InvalidArgument, match="rdp_value="):
        balle_epsilon(0.5, 2, "1e-5")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="conversion=renyi"):
        epsilon_from_rdp([Bound.exact(1)], [2], "1e-5", "renyi")
    with pytest.raises(InvalidArgument, match="rdp_values"):
        epsilon_from_rdp([Bound.exact(1)], [2, 3], "1e-5")
    with pytest.raises(InvalidArgument, match="delta=0"):
        rdp_epsilon(mech, 0, [2])
