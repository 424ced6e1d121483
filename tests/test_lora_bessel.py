"""Tests for certify.lora.bessel: certified ``e^z K_nu(z)`` (integer and half-integer ``nu``) on
complex balls with ``Re z > 0``.

Oracles: mpmath's ``besselk`` at twice the digits of the working precision (plus 20), at exact
points and at points inside wide balls; the DLMF 10.40.10-11 remainder bound that the Hankel
branch relies on, checked against the true remainder computed with mpmath; the two integer-order
branches (Hankel, Arb at the midpoint) against each other where both apply.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import pytest
from flint import acb, arb, ctx, fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InvalidArgument
from certify.lora.bessel import _exact_point, _hankel, _hankel_terms, scaled_bessel_k
from certify.numerics.bound import Bound


def reference(twice_nu: int, z: complex | mpmath.mpc, digits: int) -> mpmath.mpc:
    """``e^z K_nu(z)`` by mpmath at ``digits`` decimal digits."""
    with mpmath.workdps(digits):
        zz = mpmath.mpc(z)
        return mpmath.besselk(mpmath.mpf(twice_nu) / 2, zz) * mpmath.exp(zz)


def encloses(ball: acb, ref: mpmath.mpc, slack: mpmath.mpf) -> bool:
    """``ref`` lies in ``ball`` (real and imaginary parts, outward-rounded endpoints) up to
    ``slack`` (the reference's own error)."""
    with mpmath.workdps(400):
        for part, value in ((ball.real, ref.real), (ball.imag, ref.imag)):
            b = Bound.from_arb(part, 1200)
            if not mpmath.mpf(str(b.lower)) - slack <= value <= mpmath.mpf(str(b.upper)) + slack:
                return False
    return True


def relative_width(ball: acb) -> float:
    magnitude = float(abs(ball).mid())
    return (float(ball.real.rad()) + float(ball.imag.rad())) / magnitude


def exact(z: complex) -> acb:
    return acb(z.real, z.imag)


# -- exact points -----------------------------------------------------------------------------

POINTS = [1e-8, 0.03, 1.0, 7.5, 24.0, 40.0, 90.0, 700.0,
          complex(30, 20), complex(1, 5), complex(0.5, 50), complex(80, -30)]


@pytest.mark.parametrize("prec", [64, 128])
@pytest.mark.parametrize("twice_nu", [0, 2, 10, 1, 3])
def test_exact_points_match_mpmath(prec: int, twice_nu: int) -> None:
    digits = 2 * int(prec * math.log10(2)) + 20
    # mpmath's complex besselk is slow at many digits: the complex points at 64 bits only
    for z in POINTS if prec <= 64 else [p for p in POINTS if not isinstance(p, complex)]:
        zc = complex(z)
        with ctx.workprec(prec):
            ball = scaled_bessel_k(twice_nu, exact(zc))
        ref = reference(twice_nu, zc, digits)
        assert encloses(ball, ref, abs(ref) * mpmath.mpf(10) ** (10 - digits)), (twice_nu, z, ball)
        # narrow: integer orders to the working precision; half-integers lose a few bits to
        # the polynomial's complex cancellation near the imaginary axis
        loss = 16 if twice_nu % 2 == 0 or zc.imag == 0 else prec // 2
        assert relative_width(ball) <= 2.0 ** (loss - prec), (twice_nu, z, ball)


@pytest.mark.large
@pytest.mark.parametrize("twice_nu", [0, 4, 7])
def test_exact_points_match_mpmath_256_bits(twice_nu: int) -> None:
    test_exact_points_match_mpmath(256, twice_nu)


def test_half_integer_order_255_real_axis() -> None:
    """r = 256 (nu = 127.5): the 128-term polynomial on the real axis, no cancellation."""
    for prec in (64, 128):
        digits = 2 * int(prec * math.log10(2)) + 20
        for z in (0.5, 12.0, 60.0, 400.0):
            with ctx.workprec(prec):
                ball = scaled_bessel_k(255, exact(complex(z)))
            ref = reference(255, z, digits)
            assert encloses(ball, ref, abs(ref) * mpmath.mpf(10) ** (10 - digits))
            assert relative_width(ball) <= 2.0 ** (12 - prec)


# -- wide balls -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(twice_nu=st.sampled_from([0, 2, 4, 1, 7]),
       log_x=st.floats(-3, 2.6),
       tilt=st.sampled_from([0.0, 0.3, -0.9]),
       log_rel=st.floats(-12, -0.7),
       prec=st.sampled_from([64, 128]))
def test_wide_balls_enclose_interior_and_stay_narrow(twice_nu: int, log_x: float, tilt: float,
                                                      log_rel: float, prec: int) -> None:
    """The ball contains the function at its centre and corners, and its radius follows the
    input's (at most ~1000 times the relative input radius): no ``e^(2|z|)`` amplification,
    which at ``|z| = 40`` alone would be a factor 5e34."""
    x0 = 10.0**log_x
    y0 = tilt * x0
    rad = x0 * 10.0**log_rel
    with ctx.workprec(prec):
        ball = scaled_bessel_k(twice_nu, acb(arb(x0, rad), arb(y0, rad) if tilt else arb(0)))
    assert ball.is_finite()
    digits = 40
    offsets = [(0, 0), (1, 0), (-1, 0)] + ([(1, 1), (-1, -1)] if tilt else [])
    for dx, dy in offsets:
        z = complex(x0 + dx * rad * 0.999, y0 + dy * rad * 0.999)
        ref = reference(twice_nu, z, digits)
        assert encloses(ball, ref, abs(ref) * mpmath.mpf("1e-30")), (z, ball, ref)
    if twice_nu % 2 == 0 or not tilt:
        assert relative_width(ball) <= 1000 * rad / abs(complex(x0, y0)) + 2.0 ** (20 - prec)


def test_branch_cut_gets_no_enclosure() -> None:
    with ctx.workprec(64):
        for twice_nu in (0, 1, 2):
            assert not scaled_bessel_k(twice_nu, acb(arb(0, 1))).is_finite()
            assert not scaled_bessel_k(twice_nu, acb(-2, 1)).is_finite()
            assert not scaled_bessel_k(twice_nu, acb(arb(1, 1), 3)).is_finite()


@pytest.mark.parametrize("bad", [-1, -2, True, 1.5, "2"])
def test_bad_order(bad: object) -> None:
    with pytest.raises(InvalidArgument, match="twice_nu="):
        scaled_bessel_k(bad, acb(1))  # type: ignore[arg-type]


# -- the DLMF remainder bound and the two integer branches --------------------------------------


def _a(nu: mpmath.mpf, k: int) -> mpmath.mpf:
    """``a_k(nu)`` (DLMF 10.17.1)."""
    out = mpmath.mpf(1)
    for j in range(1, k + 1):
        out *= (4 * nu * nu - (2 * j - 1) ** 2) / (8 * j)
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_dlmf_remainder_bound_holds(n: int) -> None:
    """``|R_l(nu, z)| <= 2 |a_l(nu)| |z|^(-l) exp(|nu^2 - 1/4| / |z|)`` on ``|ph z| <= pi/2``
    (DLMF 10.40.10-11), with the true remainder of Hankel's expansion from mpmath (60 digits),
    also on the imaginary axis, where the bound is tightest relative to the remainder."""
    with mpmath.workdps(60):
        nu = mpmath.mpf(n)
        for modulus in (2, 5, 20):
            for phase in (0, mpmath.pi / 4, mpmath.pi / 2 - mpmath.mpf("1e-6"), mpmath.pi / 2,
                          -mpmath.pi / 3):
                z = modulus * mpmath.expj(phase)
                scaled = mpmath.besselk(nu, z) * mpmath.exp(z) / mpmath.sqrt(mpmath.pi / (2 * z))
                partial = mpmath.mpf(0)
                for ell in range(1, 16):
                    partial += _a(nu, ell - 1) / z ** (ell - 1)
                    remainder = abs(scaled - partial)
                    bound = (2 * abs(_a(nu, ell)) / modulus**ell
                             * mpmath.exp(abs(nu * nu - mpmath.mpf(1) / 4) / modulus))
                    assert remainder <= bound, (n, modulus, phase, ell, remainder, bound)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_hankel_and_arb_midpoint_branches_agree(n: int) -> None:
    """Just above the Hankel threshold, the Hankel branch and Arb's value at the same exact point
    (with enough extra bits) overlap, and both are narrow."""
    for prec in (64, 128):
        with ctx.workprec(prec):
            modulus = 10.0
            while _hankel_terms(n, modulus, prec + 8) is None:
                modulus *= 1.05
            z = acb(arb(fmpq(int(modulus * 1000) + 1, 1000)))
            terms = _hankel_terms(n, float(z.real.lower()), prec + 8)
            assert terms is not None
            hankel = _hankel(n, z, terms, z.abs_lower())
            with ctx.workprec(4 * prec + 200):
                arb_value = z.bessel_k(acb(n), scaled=True)
            assert hankel.overlaps(arb_value)
            assert relative_width(hankel) <= 2.0 ** (4 - prec)
            assert relative_width(_exact_point(n, z, prec)) <= 2.0 ** (4 - prec)


def test_odd_rank_density_at_zero_mean_is_product_of_normals() -> None:
    """A cross-check through the law: at r = 1, m = inf the noise is ``Z1 Z2`` (two independent
    standard normals), whose density is ``K_0(|x|)/pi`` (DLMF 10.32.9 with the normal product
    integral), so ``e^x K_0(x)`` times ``e^-x / pi`` must be the density there."""
    from certify.lora.law import NoiseLaw

    law = NoiseLaw.flat(None, 1)
    for y in (Fraction(1, 1000), Fraction(1, 3), Fraction(5), Fraction(40)):
        with ctx.workprec(128):
            value = law.density_at(acb(arb(fmpq(y.numerator, y.denominator))), 1)
        with mpmath.workdps(80):
            yy = mpmath.mpf(y.numerator) / y.denominator
            ref = mpmath.mpc(mpmath.besselk(0, yy) / mpmath.pi)
            assert encloses(value, ref, abs(ref) * mpmath.mpf("1e-60"))
        assert relative_width(value) < 1e-30


@pytest.mark.parametrize("n", [0, 1, 2])
def test_slope_bounds_dominate_the_derivative(n: int) -> None:
    """``|d/dw e^w K_n(w)| <= _slope(n, x) <= _crude_slope(n, x)`` for ``Re w >= x`` (the
    mean-value term of the midpoint branch), with the derivative
    ``e^w (K_n(w) - (K_(n-1)(w) + K_(n+1)(w))/2)`` (DLMF 10.29.1) from mpmath."""
    from certify.lora.bessel import _crude_slope, _slope

    for x in (0.01, 0.3, 2.0, 11.0, 35.0):
        with ctx.workprec(64):
            xa = arb(x)
            precise, crude = _slope(n, xa), _crude_slope(n, xa)
            assert precise.upper() <= crude.upper()
        with mpmath.workdps(30):
            for w in (mpmath.mpc(x, 0), mpmath.mpc(x, x), mpmath.mpc(2 * x, -3 * x),
                      mpmath.mpc(x + 1, 0)):
                derivative = mpmath.exp(w) * (mpmath.besselk(n, w) - (
                    mpmath.besselk(abs(n - 1), w) + mpmath.besselk(n + 1, w)) / 2)
                assert abs(derivative) <= mpmath.mpf(str(Bound.from_arb(precise, 64).upper))
