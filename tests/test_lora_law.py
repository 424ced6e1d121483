"""Tests for certify.lora.law: the exact law of the LoRA noise entry u_i (seed 001, Lemmas 3.1/4.1)
and its certified distances to normal laws.

The law (standardised): ``X = -a + a V + b sqrt(V) Z``, ``V ~ chi2_r / r``, ``Z ~ N(0, 1)``,
``a = rho sqrt(r)``, ``b^2 = 1 - rho^2``, kink ``mu = -a``.

Oracles, none of which uses law.py's Bessel formula or Arb:

* the density as mpmath quadrature (45 digits) of the normal variance-mean mixture itself,
  ``f(x) = int_0^inf N(x; -a + a v, b^2 v) gamma(v; r/2, rate r/2) dv``, peak-normalised so that
  far-tail values keep their relative accuracy;
* tail masses as the mixture of normal tails ``E_V[Phi(...)]``, again by mpmath quadrature;
* at ``r = 2`` (``V ~ Exp(1)``) the law is the asymmetric Laplace law
  ``f(mu + y) = exp((a y - s|y|)/b^2)/s``, ``s = sqrt(a^2 + 2 b^2)`` (the integral
  ``int_0^inf v^(-1/2) e^(-alpha/v - beta v) dv = sqrt(pi/beta) e^(-2 sqrt(alpha beta))``), and
  for ``rho = 0`` the Laplace law with variance 1: closed-form CDF, closed-form crossings with the
  normal density (roots of a quadratic), so TV and Kolmogorov distances in closed form;
* for other ``r``, crossings located with scipy (``kve``) on a grid and refined by
  ``mpmath.findroot`` on the density in mpmath's ``besselk``, then TV and Kolmogorov from the
  mixture CDF at the crossings, cross-checked against a piecewise quadrature of ``|f - phi|``;
* a Monte Carlo run of the sampler (numpy, fixed seed, 5 sigma).
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import acb, arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special as sps

from certify.errors import InvalidArgument
from certify.lora.law import (
    Distances,
    NoiseLaw,
    _range_on_cell,
    crossing_points,
    distances_to_normal,
    side_mass,
)
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

DPS = 45
#: the reference values are good to ~1e-40 (quadrature error estimates are asserted below 1e-30);
#: a certified enclosure must contain them up to this slack
REL_SLACK = mpmath.mpf("1e-30")
ABS_SLACK = mpmath.mpf("1e-25")
SIDES = (-1, 1)


# -- mpmath oracles ---------------------------------------------------------------------------


def mpq(x: Fraction | int) -> mpmath.mpf:
    x = Fraction(x)
    return mpmath.mpf(x.numerator) / x.denominator


def params(law: NoiseLaw) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(a, b^2)`` of the law, in mpmath."""
    rho2 = mpq(law.rho2)
    return mpmath.sqrt(rho2 * law.r), 1 - rho2


def mix_density(law: NoiseLaw, side: int, y: Fraction) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``f(mu + side y)`` as the mixture integral, with mpmath's error estimate.

    The integrand ``N(side y; a v, b^2 v) * gamma(v)`` is ``K exp(L(v))`` with
    ``L(v) = -y^2/(2 b^2 v) + side a y/b^2 - a^2 v/(2 b^2) + (r/2 - 3/2) log v - r v/2``;
    ``L' = 0`` is a quadratic in ``v`` (peak ``v*``), and the range is split around ``v*``
    on the scale of ``1/sqrt(-L''(v*))`` and geometrically."""
    with mpmath.workdps(DPS):
        a, b2 = params(law)
        yy, k = mpq(y), mpmath.mpf(law.r) / 2
        big_a, big_b, big_c = a * a / (2 * b2) + k, k - mpmath.mpf(3) / 2, yy * yy / (2 * b2)
        vstar = (big_b + mpmath.sqrt(big_b**2 + 4 * big_a * big_c)) / (2 * big_a)

        def log_integrand(v: mpmath.mpf) -> mpmath.mpf:
            return (-yy * yy / (2 * b2 * v) + side * a * yy / b2 - a * a * v / (2 * b2)
                    + big_b * mpmath.log(v) - k * v)

        peak = log_integrand(vstar)
        curvature = yy * yy / (b2 * vstar**3) + big_b / vstar**2
        width = 1 / mpmath.sqrt(curvature) if curvature > 0 else vstar
        cuts = {vstar * c for c in (mpmath.mpf(1) / 64, mpmath.mpf(1) / 8, mpmath.mpf(1) / 2,
                                    2, 8, 64)}
        cuts |= {vstar + c * width for c in (-8, -3, -1, 0, 1, 3, 8) if vstar + c * width > 0}
        value, err = mpmath.quad(
            lambda v: mpmath.exp(log_integrand(v) - peak) if v > 0 else mpmath.mpf(0),
            [mpmath.mpf(0), *sorted(cuts), mpmath.inf], error=True)
        scale = k**k / mpmath.gamma(k) / mpmath.sqrt(2 * mpmath.pi * b2) * mpmath.exp(peak)
        return value * scale, err * scale


def mix_side_mass(law: NoiseLaw, side: int, y: Fraction | mpmath.mpf
                  ) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``P(side (X - mu) >= y) = E_V[ erfc((y - side a V) / (b sqrt(2V))) / 2 ]``, by mpmath
    quadrature over the chi2_r/r density (split where the erfc argument turns and around the
    gamma bulk)."""
    with mpmath.workdps(DPS):
        a, b2 = params(law)
        yy = y if isinstance(y, mpmath.mpf) else mpq(y)
        k = mpmath.mpf(law.r) / 2
        log_norm = k * mpmath.log(k) - mpmath.loggamma(k)

        def integrand(v: mpmath.mpf) -> mpmath.mpf:
            if v <= 0:
                return mpmath.mpf(0)
            tail = mpmath.erfc((yy - side * a * v) / mpmath.sqrt(2 * b2 * v)) / 2
            return tail * mpmath.exp(log_norm + (k - 1) * mpmath.log(v) - k * v)

        cuts = {yy * yy / (2 * b2) * c for c in (mpmath.mpf(1) / 64, mpmath.mpf(1) / 8, 1, 8)}
        cuts |= {mpmath.mpf(c) / 8 for c in (1, 2, 4, 6, 8, 10, 12, 16, 24, 32, 64, 128, 256)}
        if a > 0:
            cuts |= {yy / a * c for c in (mpmath.mpf(1) / 4, mpmath.mpf(1) / 2, 1, 2, 4)}
        return mpmath.quad(integrand, [mpmath.mpf(0), *sorted(cuts), mpmath.inf], error=True)


def mix_cdf(law: NoiseLaw, x: mpmath.mpf) -> mpmath.mpf:
    """``F(x)`` from :func:`mix_side_mass` (the side that keeps the value small)."""
    with mpmath.workdps(DPS):
        a, _ = params(law)
        y = x + a
        if y < 0:
            value, err = mix_side_mass(law, -1, -y)
        else:
            tail, err = mix_side_mass(law, 1, y)
            value = 1 - tail
        assert err < mpmath.mpf("1e-30")
        return value


def bessel_log_density(law: NoiseLaw, x: mpmath.mpf) -> mpmath.mpf:
    """``log f(x)`` from the closed form ``C e^(a y/b^2) |y|^nu K_nu(kappa |y|)`` in mpmath's
    ``besselk`` (used only to locate crossings and for a second TV route; the form itself is
    checked against :func:`mix_density` in the density tests)."""
    a, b2 = params(law)
    r = law.r
    nu = mpmath.mpf(r - 1) / 2
    kappa = mpmath.sqrt(r) / b2
    y = x + a
    log_c = (mpmath.log(2) + mpmath.mpf(r) / 2 * mpmath.log(mpmath.mpf(r) / 2)
             - nu / 2 * mpmath.log(r) - mpmath.loggamma(mpmath.mpf(r) / 2)
             - mpmath.log(2 * mpmath.pi) / 2 - mpmath.log(b2) / 2)
    return (log_c + a * y / b2 + nu * mpmath.log(abs(y))
            + mpmath.log(mpmath.besselk(nu, kappa * abs(y))))


def _log_density_float(law: NoiseLaw, x: np.ndarray) -> np.ndarray:
    """The same closed form in floats with scipy's exponentially scaled ``kve`` (AMOS)."""
    r = law.r
    rho2 = float(law.rho2)
    a, b2 = math.sqrt(rho2 * r), 1 - rho2
    nu, kappa = (r - 1) / 2, math.sqrt(r) / b2
    y = np.abs(x + a)
    log_c = (math.log(2) + r / 2 * math.log(r / 2) - nu / 2 * math.log(r)
             - math.lgamma(r / 2) - math.log(2 * math.pi) / 2 - math.log(b2) / 2)
    return (log_c + a * (x + a) / b2 + nu * np.log(y) + np.log(sps.kve(nu, kappa * y))
            - kappa * y)


def mp_crossings(law: NoiseLaw, variance: Fraction) -> list[mpmath.mpf]:
    """All ``x`` with ``f(x) = phi_v(x)``: sign changes of ``log f - log phi_v``
    on a float grid (uniform, plus log-spaced towards the kink ``mu``), each refined by
    ``mpmath.findroot`` (Anderson-Bjorck on the bracket) at ``DPS`` digits. The grid (15 sd,
    doubled as needed) reaches ``f > phi_v`` at both ends (exponential against Gaussian tails,
    where ``x^2/(2v)`` outgrows the nearly linear ``log f``), so no crossing lies beyond it."""
    v = float(variance)
    mu = -math.sqrt(float(law.rho2) * law.r)
    near = mu + np.concatenate([-np.logspace(0, -12, 200), np.logspace(-12, 0, 200)])
    reach = 15 * math.sqrt(v)
    while True:  # a thin tail (large rho, left side) can cross phi_v again far out
        grid = np.unique(np.concatenate([np.linspace(-reach, reach, 6001), near]))
        grid = grid[grid != mu]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            g = (_log_density_float(law, grid)
                 - (-grid**2 / (2 * v) - 0.5 * math.log(2 * math.pi * v)))
        for j in np.flatnonzero(~np.isfinite(g)):  # kve overflows near the kink for large nu
            with mpmath.workdps(20):
                xj = mpmath.mpf(float(grid[j]))
                g[j] = float(bessel_log_density(law, xj) + xj * xj / (2 * mpq(variance))
                             + mpmath.log(2 * mpmath.pi * mpq(variance)) / 2)
        if g[0] > 0 and g[-1] > 0:
            break
        reach *= 2
        assert reach < 500
    roots = []
    with mpmath.workdps(DPS):
        vv = mpq(variance)

        def diff(x: mpmath.mpf) -> mpmath.mpf:
            return bessel_log_density(law, x) - (-x * x / (2 * vv)
                                                 - mpmath.log(2 * mpmath.pi * vv) / 2)

        for x0, x1, g0, g1 in zip(grid, grid[1:], g, g[1:], strict=False):
            if g0 * g1 < 0:
                if x0 < mu < x1:  # pragma: no cover - the grid excludes mu itself
                    raise AssertionError("a sign change across the kink")
                lo, hi = mpmath.mpf(x0), mpmath.mpf(x1)
                root = mpmath.findroot(diff, (lo, hi), solver="anderson")
                if not lo <= root <= hi:  # left the bracket: bisect instead
                    root = mpmath.findroot(diff, (lo, hi), solver="bisect")
                assert lo <= root <= hi
                roots.append(root)
    return roots


def mp_distances(law: NoiseLaw, variance: Fraction,
                 cdf: Callable[[mpmath.mpf], mpmath.mpf] | None = None,
                 crossings: list[mpmath.mpf] | None = None
                 ) -> tuple[mpmath.mpf, mpmath.mpf, list[mpmath.mpf]]:
    """``(TV, Kolmogorov, crossings)``: with ``Delta = F - Phi_v`` monotone between consecutive
    crossings, ``TV = (1/2) sum_j |Delta(c_(j+1)) - Delta(c_j)|`` (``Delta(+-inf) = 0``) and
    ``D = max_j |Delta(c_j)|``."""
    cross = mp_crossings(law, variance) if crossings is None else crossings
    cdf = cdf or (lambda x: mix_cdf(law, x))
    with mpmath.workdps(DPS):
        sd = mpmath.sqrt(mpq(variance))
        deltas = [cdf(c) - mpmath.ncdf(c / sd) for c in cross]
        ends = [mpmath.mpf(0), *deltas, mpmath.mpf(0)]
        tv = sum(abs(d1 - d0) for d0, d1 in zip(ends, ends[1:], strict=False)) / 2
        kol = max(abs(d) for d in deltas)
    return tv, kol, cross


def quad_tv(law: NoiseLaw, variance: Fraction, cross: list[mpmath.mpf]) -> mpmath.mpf:
    """``(1/2) int |f - phi_v|`` by mpmath quadrature of the besselk density, piecewise between
    crossings (and split at the kink): a second route to the TV, independent of the CDF."""
    with mpmath.workdps(DPS):
        vv = mpq(variance)
        mu = -params(law)[0]

        def diff(x: mpmath.mpf) -> mpmath.mpf:
            if x == mu:
                return mpmath.mpf(0)
            return mpmath.exp(bessel_log_density(law, x)) - mpmath.npdf(x, 0, mpmath.sqrt(vv))

        cuts = [-mpmath.inf, *sorted([*cross, mu]), mpmath.inf]
        total = mpmath.mpf(0)
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            inner = [lo, hi]
            if lo == -mpmath.inf:
                inner = [lo, hi - 4, hi - 1, hi]
            elif hi == mpmath.inf:
                inner = [lo, lo + 1, lo + 4, hi]
            total += abs(mpmath.quad(diff, inner))
        return total / 2


# -- helpers --------------------------------------------------------------------------------


def contains(bound: Bound, ref: mpmath.mpf, slack: mpmath.mpf) -> bool:
    """``ref`` lies in ``bound`` widened by ``slack`` (the reference's own error)."""
    with mpmath.workdps(60):
        return (mpmath.mpf(str(bound.lower)) - slack <= ref
                <= mpmath.mpf(str(bound.upper)) + slack)


def density_bound(law: NoiseLaw, side: int, y: Fraction, prec: int = 160) -> Bound:
    with ctx.workprec(prec):
        ball = law.density_at(acb(arb(y.numerator) / y.denominator), side)
        assert ball.imag.contains(0)
        return Bound.from_arb(ball.real, prec)


def law_cdf(law: NoiseLaw, side: int, y: Fraction) -> Bound:
    """The certified ``F(mu + side y)`` from :func:`side_mass`."""
    mass = side_mass(law, side, y)
    if side < 0:
        return mass
    return Bound.from_fractions(1 - Fraction(mass.upper), 1 - Fraction(mass.lower), 128)


def x_of(law: NoiseLaw, side: int, y: Fraction) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        return -params(law)[0] + side * mpq(y)


# -- 1. density ----------------------------------------------------------------------------

DENSITY_CASES = [
    # (r, rho2, side, y): even r (elementary Bessel form) and odd r (Arb's K_nu)
    (2, Fraction(0), 1, Fraction(1, 3)),
    (2, Fraction(1, 10), -1, Fraction(7)),
    (2, Fraction(9, 10), -1, Fraction(2)),
    (4, Fraction(1, 2), 1, Fraction(1, 1000)),
    (4, Fraction(9, 10), 1, Fraction(7)),
    (16, Fraction(1, 2), -1, Fraction(7)),
    (16, Fraction(1, 10), 1, Fraction(2)),
    (1, Fraction(0), -1, Fraction(1, 1000)),  # log singularity at the kink
    (1, Fraction(1, 2), 1, Fraction(1, 3)),
    (3, Fraction(1, 10), -1, Fraction(2)),
    (3, Fraction(9, 10), 1, Fraction(7)),
]


@pytest.mark.parametrize(("r", "rho2", "side", "y"), DENSITY_CASES)
def test_density_matches_mixture_quadrature(r: int, rho2: Fraction, side: int, y: Fraction) -> None:
    law = NoiseLaw(r, rho2)
    ref, err = mix_density(law, side, y)
    assert err < REL_SLACK * ref
    bound = density_bound(law, side, y)
    assert contains(bound, ref, REL_SLACK * ref), (bound, ref)
    assert bound.rel_width < 1e-30  # at 160 bits: narrow, so containment means something


@settings(max_examples=14, deadline=None)
@given(r=st.sampled_from([2, 4, 6, 8, 16]),
       rho2=st.sampled_from([Fraction(0), Fraction(1, 10_000), Fraction(1, 7), Fraction(1, 2),
                             Fraction(3, 4)]),
       side=st.sampled_from(SIDES),
       y=st.sampled_from([Fraction(1, 2**20), Fraction(1, 10), Fraction(3, 4), Fraction(5, 2),
                          Fraction(6)]))
def test_density_even_r_property(r: int, rho2: Fraction, side: int, y: Fraction) -> None:
    law = NoiseLaw(r, rho2)
    ref, err = mix_density(law, side, y)
    assert err < REL_SLACK * ref
    bound = density_bound(law, side, y)
    assert contains(bound, ref, REL_SLACK * ref), (bound, ref)
    assert bound.rel_width < 1e-30


def test_density_r2_is_asymmetric_laplace() -> None:
    """At r = 2: ``f(mu + y) = exp((a y - s|y|)/b^2)/s`` (module docstring), exactly."""
    for rho2 in (Fraction(0), Fraction(1, 3)):
        law = NoiseLaw(2, rho2)
        with mpmath.workdps(DPS):
            a, b2 = params(law)
            s = mpmath.sqrt(a * a + 2 * b2)
            for side in SIDES:
                for y in (Fraction(1, 8), Fraction(3)):
                    ref = mpmath.exp((side * a * mpq(y) - s * mpq(y)) / b2) / s
                    assert contains(density_bound(law, side, y), ref, REL_SLACK * ref)


def test_density_at_off_cut_is_not_an_enclosure() -> None:
    """A ball touching the branch cut ``Re y <= 0`` gets no enclosure (non-finite), so that
    ``acb.integral`` subdivides instead of trusting it."""
    law = NoiseLaw(2, Fraction(1, 4))
    with ctx.workprec(64):
        assert not law.density_at(acb(arb(0, 1)), 1).is_finite()
        assert not law.density_at(acb(-1), -1).is_finite()


# -- 2. side masses --------------------------------------------------------------------------

MASS_CASES = [
    (2, Fraction(1, 10), 1, Fraction(1, 2)),
    (2, Fraction(1, 2), -1, Fraction(3)),
    (4, Fraction(0), 1, Fraction(1, 100)),
    (4, Fraction(3, 4), 1, Fraction(2)),
    (16, Fraction(1, 10), -1, Fraction(1)),
    (16, Fraction(1, 2), 1, Fraction(5)),
    (3, Fraction(1, 5), 1, Fraction(1, 2)),
    (3, Fraction(1, 5), -1, Fraction(3, 2)),
    (1, Fraction(0), 1, Fraction(1)),
    (1, Fraction(1, 5), -1, Fraction(1)),
]


@pytest.mark.parametrize(("r", "rho2", "side", "y"), MASS_CASES)
def test_side_mass_matches_mixture_cdf(r: int, rho2: Fraction, side: int, y: Fraction) -> None:
    law = NoiseLaw(r, rho2)
    ref, err = mix_side_mass(law, side, y)
    assert err < mpmath.mpf("1e-30")
    bound = side_mass(law, side, y)
    assert contains(bound, ref, ABS_SLACK), (bound, ref)
    assert bound.width <= Fraction(1, 10**12)  # the default target: absolute 1e-12


@settings(max_examples=8, deadline=None)
@given(r=st.sampled_from([2, 4, 8]),
       rho2=st.sampled_from([Fraction(0), Fraction(1, 100), Fraction(1, 3), Fraction(4, 5)]),
       side=st.sampled_from(SIDES),
       y=st.sampled_from([Fraction(1, 2**30), Fraction(1, 4), Fraction(3, 2), Fraction(9)]))
def test_side_mass_property(r: int, rho2: Fraction, side: int, y: Fraction) -> None:
    law = NoiseLaw(r, rho2)
    ref, err = mix_side_mass(law, side, y)
    assert err < mpmath.mpf("1e-30")
    bound = side_mass(law, side, y)
    assert contains(bound, ref, ABS_SLACK), (bound, ref)


def test_side_mass_tighter_target() -> None:
    law = NoiseLaw(4, Fraction(1, 7))
    ref, _ = mix_side_mass(law, 1, Fraction(1, 2))
    bound = side_mass(law, 1, Fraction(1, 2), Target(rel=None, absolute=1e-25, max_prec=512))
    assert bound.width <= Fraction(1, 10**25)
    assert contains(bound, ref, mpmath.mpf("1e-35")), (bound, ref)


def test_side_mass_r2_closed_form() -> None:
    """At r = 2 (asymmetric Laplace): ``P(X - mu >= y) = b^2 e^(-(s - a) y / b^2) / (s (s - a))``
    and ``P(X - mu <= -y) = b^2 e^(-(s + a) y / b^2) / (s (s + a))``; the two sum to 1 at 0."""
    for rho2 in (Fraction(0), Fraction(1, 10_000), Fraction(2, 3)):
        law = NoiseLaw(2, rho2)
        with mpmath.workdps(DPS):
            a, b2 = params(law)
            s = mpmath.sqrt(a * a + 2 * b2)
            for side in SIDES:
                for y in (Fraction(1, 3), Fraction(4)):
                    ref = b2 * mpmath.exp(-(s - side * a) * mpq(y) / b2) / (s * (s - side * a))
                    assert contains(side_mass(law, side, y), ref, ABS_SLACK)


def test_side_mass_odd_r_large_rho() -> None:
    law = NoiseLaw(1, Fraction(1, 5))
    ref, _ = mix_side_mass(law, 1, Fraction(1))
    bound = side_mass(law, 1, Fraction(1), Target(rel=None, absolute=1e-6, max_prec=1024))
    assert contains(bound, ref, ABS_SLACK)


# -- 3. r = 2, m = infinity: the Laplace law with variance 1 -----------------------------------


def laplace_reference() -> tuple[mpmath.mpf, mpmath.mpf, list[mpmath.mpf]]:
    """TV and Kolmogorov distances between ``Laplace(scale 1/sqrt 2)`` (density
    ``e^(-sqrt2 |x|)/sqrt2``) and ``N(0, 1)``, in closed form.

    On ``x > 0`` the densities cross where ``x^2/2 - sqrt2 x + log(pi)/2 = 0``:
    ``c_(1,2) = sqrt2 -+ sqrt(2 - log pi)`` (checked against ``findroot``); Laplace is above on
    ``(0, c1)`` and beyond ``c2``. With ``F(x) = 1 - e^(-sqrt2 x)/2`` (x >= 0) and the symmetry,
    ``TV = 2[(F - Phi)(c1) - (F - Phi)(c2)]`` and ``D = max |F - Phi|(c_j)``."""
    with mpmath.workdps(DPS):
        r2 = mpmath.sqrt(2)
        c1 = r2 - mpmath.sqrt(2 - mpmath.log(mpmath.pi))
        c2 = r2 + mpmath.sqrt(2 - mpmath.log(mpmath.pi))

        def gap(x: mpmath.mpf) -> mpmath.mpf:  # log f - log phi on x > 0
            return -r2 * x - mpmath.log(2) / 2 + x * x / 2 + mpmath.log(2 * mpmath.pi) / 2

        for c, guess in ((c1, mpmath.mpf("0.5")), (c2, mpmath.mpf("2.3"))):
            assert abs(mpmath.findroot(gap, guess) - c) < mpmath.mpf("1e-40")

        def delta(x: mpmath.mpf) -> mpmath.mpf:
            return 1 - mpmath.exp(-r2 * x) / 2 - mpmath.ncdf(x)

        tv = 2 * (delta(c1) - delta(c2))
        kol = max(abs(delta(c1)), abs(delta(c2)))
        # a second route: the piecewise integral of |f - phi| (by symmetry, twice x > 0)
        def diff(x: mpmath.mpf) -> mpmath.mpf:
            return mpmath.exp(-r2 * x) / r2 - mpmath.npdf(x)

        pieces = [mpmath.quad(diff, [0, c1]), mpmath.quad(diff, [c1, c2]),
                  mpmath.quad(diff, [c2, c2 + 4, mpmath.inf])]
        assert abs(sum(abs(p) for p in pieces) - tv) < mpmath.mpf("1e-40")
        return tv, kol, [-c2, -c1, c1, c2]


def test_laplace_limit_distances() -> None:
    law = NoiseLaw.flat(None, 2)
    tv, kol, cross = laplace_reference()
    d = distances_to_normal(law, 1)
    assert contains(d.total_variation, tv, ABS_SLACK), (d.total_variation, tv)
    assert contains(d.kolmogorov, kol, ABS_SLACK), (d.kolmogorov, kol)
    assert d.total_variation.width < Fraction(1, 10**11)
    assert d.kolmogorov.width < Fraction(1, 10**11)
    # the located crossings are the four closed-form ones
    xs = d.x_values(law)
    assert len(xs) == 4
    for x, c in zip(xs, cross, strict=True):
        assert abs(x - float(c)) < 1e-9
    # the Kolmogorov distance is attained at +-c1 (|F - Phi| is larger there)
    assert d.at is not None and abs(abs(float(x_of(law, *d.at))) - float(cross[2])) < 1e-9


def test_laplace_cdf_closed_form() -> None:
    """``side_mass(-1, y) = F(-y) = e^(-sqrt2 y)/2`` for the Laplace law."""
    law = NoiseLaw.flat(None, 2)
    for y in (Fraction(1, 1000), Fraction(1, 2), Fraction(5)):
        with mpmath.workdps(DPS):
            ref = mpmath.exp(-mpmath.sqrt(2) * mpq(y)) / 2
        for side in SIDES:
            assert contains(side_mass(law, side, y), ref, ABS_SLACK)


# -- 4. finite m, even r ---------------------------------------------------------------------


def r2_reference(law: NoiseLaw, variance: Fraction
                 ) -> tuple[mpmath.mpf, mpmath.mpf, list[mpmath.mpf]]:
    """At r = 2 in closed form: ``log f(mu + y) = (a y - s|y|)/b^2 - log s`` against
    ``log phi_v``: on each side of ``mu`` the crossing condition is a quadratic in ``y``;
    the CDF is the closed-form asymmetric Laplace one."""
    with mpmath.workdps(DPS):
        a, b2 = params(law)
        s = mpmath.sqrt(a * a + 2 * b2)
        vv = mpq(variance)
        cross = []
        for side in SIDES:
            # y >= 0 the distance from mu, x = side y - a:
            # (side y - a)^2/(2v) + (side a - s) y / b^2 - log s + log(2 pi v)/2 = 0
            c2 = 1 / (2 * vv)
            c1 = -side * a / vv + (side * a - s) / b2
            c0 = a * a / (2 * vv) - mpmath.log(s) + mpmath.log(2 * mpmath.pi * vv) / 2
            disc = c1 * c1 - 4 * c2 * c0
            if disc > 0:
                for y in ((-c1 - mpmath.sqrt(disc)) / (2 * c2),
                          (-c1 + mpmath.sqrt(disc)) / (2 * c2)):
                    if y > 0:
                        cross.append(side * y - a)
        cross.sort()

        def cdf(x: mpmath.mpf) -> mpmath.mpf:
            y = x + a
            if y < 0:
                return b2 * mpmath.exp((s + a) * y / b2) / (s * (s + a))
            return 1 - b2 * mpmath.exp(-(s - a) * y / b2) / (s * (s - a))

        tv, kol, _ = mp_distances(law, variance, cdf=cdf, crossings=cross)
        return tv, kol, cross


FINITE_CASES = [
    (2, 10, Fraction(1)),
    (2, 3, Fraction(4, 3)),  # against the matched variance 1 + rho^2
    (4, 10, Fraction(1)),
    (4, 100, Fraction(101, 100)),
]


@pytest.mark.parametrize(("r", "m", "variance"), FINITE_CASES)
def test_finite_m_distances(r: int, m: int, variance: Fraction) -> None:
    check_distances(NoiseLaw.flat(m, r), variance)


def check_distances(law: NoiseLaw, variance: Fraction) -> None:
    """Certified TV and Kolmogorov distances against the mpmath route (mixture CDF at the
    mpmath crossings; for even r also the piecewise quadrature of ``|f - phi|``, for r = 2 the
    closed form), crossings located like mpmath's (a crossing beyond ``crossing_points``' span
    may be missing: the enclosures must hold anyway)."""
    r = law.r
    tv, kol, cross = mp_distances(law, variance)
    if r % 2 == 0:  # mpmath's besselk of integer order is slow at 45 digits
        assert abs(quad_tv(law, variance, cross) - tv) < mpmath.mpf("1e-30")
    if r == 2:
        tv2, kol2, cross2 = r2_reference(law, variance)
        assert len(cross2) == len(cross)
        assert all(abs(c - c2) < mpmath.mpf("1e-30") for c, c2 in zip(cross, cross2, strict=True))
        assert abs(tv - tv2) < mpmath.mpf("1e-30") and abs(kol - kol2) < mpmath.mpf("1e-30")
    d = distances_to_normal(law, variance)
    assert contains(d.total_variation, tv, ABS_SLACK), (d.total_variation, tv)
    assert contains(d.kolmogorov, kol, ABS_SLACK), (d.kolmogorov, kol)
    assert d.total_variation.width < Fraction(1, 10**10)
    assert d.kolmogorov.width < Fraction(1, 10**10)
    xs = d.x_values(law)
    near = [c for c in cross if abs(float(c)) <= 12 * math.sqrt(float(variance))]
    assert len(near) <= len(xs) <= len(cross)
    assert all(any(abs(x - float(c)) < 1e-9 for x in xs) for c in near)


ODD_AND_SPIKED = [
    (NoiseLaw.flat(10, 1), Fraction(1)),
    (NoiseLaw.spiked(10, 2), Fraction(1)),  # rho^2 = 100/109: also the r = 2 closed form
]


@pytest.mark.parametrize(("law", "variance"), ODD_AND_SPIKED)
def test_odd_rank_and_spiked_distances(law: NoiseLaw, variance: Fraction) -> None:
    check_distances(law, variance)


@pytest.mark.large
@pytest.mark.parametrize(("law", "variance"), [
    (NoiseLaw.flat(None, 1), Fraction(1)),
    (NoiseLaw.spiked(100, 8), Fraction(1)),
    (NoiseLaw.flat(100, 3), Fraction(101, 100)),
    (NoiseLaw.spiked(10, 3), Fraction(1)),
    (NoiseLaw.spiked(10, 1), Fraction(119, 109)),
    (NoiseLaw.spiked(10_000, 1), Fraction(1)),
    (NoiseLaw.flat(10, 128), Fraction(1)),
    (NoiseLaw.flat(100, 256), Fraction(101, 100)),
    (NoiseLaw.spiked(100, 256), Fraction(1)),  # (spiked(10, 256) crosses phi again near x = -790)
])
def test_odd_rank_and_spiked_distances_large(law: NoiseLaw, variance: Fraction) -> None:
    check_distances(law, variance)


@pytest.mark.large
@pytest.mark.parametrize(("r", "m", "variance"), [
    (16, 10, Fraction(1)),
    (16, 10_000, Fraction(1)),
    (8, 5, Fraction(6, 5)),
    (6, 5, Fraction(1, 2)),
    (2, 2, Fraction(2)),
    (32, 1000, Fraction(1)),
])
def test_finite_m_distances_large(r: int, m: int, variance: Fraction) -> None:
    test_finite_m_distances(r, m, variance)


def _within_seconds(seconds: float, compute: Callable[[], Distances]) -> Distances:
    """Run ``compute`` under a SIGALRM budget (``TimeoutError`` past it)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return compute()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)




def test_far_left_crossing_small_m() -> None:
    law = NoiseLaw.flat(2, 16)
    tv, kol, cross = mp_distances(law, Fraction(1))
    assert cross[0] < -20  # the far crossing, beyond crossing_points' span
    d = _within_seconds(3, lambda: distances_to_normal(law, 1))
    assert contains(d.total_variation, tv, ABS_SLACK), (d.total_variation, tv)
    assert contains(d.kolmogorov, kol, ABS_SLACK), (d.kolmogorov, kol)


@pytest.mark.large
@pytest.mark.parametrize(("r", "m", "variance"), [
    (4, 2, Fraction(3, 2)), (32, 3, Fraction(1)), (64, 5, Fraction(6, 5))])
def test_far_left_crossing_small_m_large(r: int, m: int, variance: Fraction) -> None:
    law = NoiseLaw.flat(m, r)
    tv, kol, _ = mp_distances(law, variance)
    d = _within_seconds(20, lambda: distances_to_normal(law, variance))
    assert contains(d.total_variation, tv, ABS_SLACK), (d.total_variation, tv)
    assert contains(d.kolmogorov, kol, ABS_SLACK), (d.kolmogorov, kol)


@pytest.mark.parametrize("law", [NoiseLaw.flat(7, 6), NoiseLaw.flat(10, 1),
                                 NoiseLaw.flat(None, 1), NoiseLaw.spiked(100, 3)])
def test_crossing_points_match_mpmath(law: NoiseLaw) -> None:
    """Exactly the mpmath crossings, also at r = 1 (where wide 64-bit balls of Arb's K_0 once
    produced spurious sign changes)."""
    cross = mp_crossings(law, Fraction(1))
    found = crossing_points(law, 1)
    assert len(found) == len(cross)
    for (side, y), c in zip(found, cross, strict=True):
        assert abs(float(x_of(law, side, y)) - float(c)) < 1e-9


# -- 5. monotone behaviour used by the claims --------------------------------------------------


def test_tv_limit_positive_decreasing_and_close_to_m_1e4() -> None:
    limits: dict[int, Distances] = {}
    for r in (2, 4, 16):
        lim = distances_to_normal(NoiseLaw.flat(None, r), 1)
        big = distances_to_normal(NoiseLaw.flat(10_000, r), 1)
        limits[r] = lim
        tv_lim, tv_big = lim.total_variation, big.total_variation
        # certainly within 1e-3 of each other
        assert Fraction(tv_big.upper) - Fraction(tv_lim.lower) <= Fraction(1, 1000)
        assert Fraction(tv_lim.upper) - Fraction(tv_big.lower) <= Fraction(1, 1000)
        for d in (lim, big):
            assert d.total_variation.gt(0) is True
            assert d.kolmogorov.lower <= d.kolmogorov.upper
            assert d.kolmogorov.gt(0) is True
            # Kolmogorov <= TV always; the enclosures must not contradict it
            assert d.kolmogorov.le(d.total_variation) is not False
            assert d.kolmogorov.overlaps(d.total_variation) or d.kolmogorov.le(
                d.total_variation) is True
    assert limits[4].total_variation.lt(limits[2].total_variation) is True
    assert limits[16].total_variation.lt(limits[4].total_variation) is True
    assert limits[4].kolmogorov.lt(limits[2].kolmogorov) is True
    assert limits[16].kolmogorov.lt(limits[4].kolmogorov) is True


def test_symmetric_law_has_symmetric_crossings() -> None:
    """rho = 0 is symmetric about 0: crossings come in pairs ``(-1, y), (+1, y)`` and the
    side masses agree."""
    law = NoiseLaw.flat(None, 4)
    d = distances_to_normal(law, 1)
    left = sorted(y for side, y in d.points if side < 0)
    right = sorted(y for side, y in d.points if side > 0)
    assert left == right
    assert side_mass(law, -1, left[0]).overlaps(side_mass(law, 1, left[0]))


def test_spiked_profile_matches_from_q() -> None:
    q = ["10"] + ["1"] * 9
    assert NoiseLaw.spiked(10, 4) == NoiseLaw.from_q(q, 0, 4)
    assert NoiseLaw.spiked(10, 4).rho2 == Fraction(100, 109)
    assert NoiseLaw.spiked(5, 3, 1) == NoiseLaw.flat(5, 3)
    assert NoiseLaw.spiked(10, 2, "0.5") == NoiseLaw.from_q(["0.5"] + [1] * 9, 0, 2)


def test_from_q_matches_flat_and_sign() -> None:
    law = NoiseLaw.from_q([3, 4], 0, 4)
    assert law.rho2 == Fraction(9, 25) and law.r == 4
    assert NoiseLaw.from_q([-3, 4], 0, 4) == law
    assert NoiseLaw.from_q(["0.5"] * 8, 3, 2) == NoiseLaw.flat(8, 2)
    assert NoiseLaw.flat(8, 2).variance == Fraction(9, 8)


# -- 6. Monte Carlo ----------------------------------------------------------------------------


@pytest.mark.parametrize(("r", "m"), [(4, 10), (2, None)])
def test_monte_carlo_cdf_at_crossings(r: int, m: int | None) -> None:
    """Empirical ``P(X <= c)`` at the certified crossings, N = 200000 draws of
    ``-a + a V + b sqrt(V) Z`` (seed fixed): within 5 sigma (binomial sd at the certified F)
    plus the enclosure's width, of the certified CDF."""
    law = NoiseLaw.flat(m, r)
    d = distances_to_normal(law, 1)
    rng = np.random.default_rng(20240601 + r)
    n = 200_000
    rho2 = float(law.rho2)
    a, b = math.sqrt(rho2 * r), math.sqrt(1 - rho2)
    v = rng.chisquare(r, n) / r
    x = -a + a * v + b * np.sqrt(v) * rng.standard_normal(n)
    assert abs(x.var() - float(law.variance)) < 0.05
    for side, y in d.points:
        cdf = law_cdf(law, side, y)
        c = float(x_of(law, side, y))
        p = float(cdf.mid)
        sigma = math.sqrt(p * (1 - p) / n)
        empirical = float(np.mean(x <= c))
        assert abs(empirical - p) <= 5 * sigma + float(cdf.width), (side, y, empirical, cdf)


# -- 7. bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "match"), [
    (lambda: NoiseLaw(0, Fraction(0)), "r=0"),
    (lambda: NoiseLaw(-2, Fraction(0)), "r=-2"),
    (lambda: NoiseLaw(True, Fraction(0)), "r=True"),
    (lambda: NoiseLaw(2, Fraction(1)), "rho2="),
    (lambda: NoiseLaw(2, Fraction(-1, 10)), "rho2="),
    (lambda: NoiseLaw(2, Fraction(3, 2)), "rho2="),
    (lambda: NoiseLaw(2, 0.5), "rho2=0.5"),  # type: ignore[arg-type]
    (lambda: NoiseLaw.flat(1, 2), "m=1"),
    (lambda: NoiseLaw.flat(0, 2), "m=0"),
    (lambda: NoiseLaw.flat(None, 0), "r=0"),
    (lambda: NoiseLaw.flat(4, 0), "r=0"),
    (lambda: NoiseLaw.from_q([0, 3, 0], 1, 2), "q="),
    (lambda: NoiseLaw.from_q([5], 0, 2), "q="),
    (lambda: NoiseLaw.from_q("12", 0, 2), "q="),
    (lambda: NoiseLaw.from_q([1, 2], 2, 2), "i=2"),
    (lambda: NoiseLaw.from_q([1, 2], 0, 0), "r=0"),
    (lambda: NoiseLaw.from_q([1, float("nan")], 0, 2), "q\\[1\\]"),
    (lambda: NoiseLaw(2, Fraction(3, 2)), "rho2=3/2 must be"),
    (lambda: NoiseLaw.from_q([1, 2], "0", 2), "i=0 must be"),  # type: ignore[arg-type]
    (lambda: NoiseLaw.spiked(1, 2), "m=1"),
    (lambda: NoiseLaw.spiked(10, 0), "r=0"),
    (lambda: NoiseLaw.spiked(10, 2, 0), "ratio=0"),
    (lambda: NoiseLaw.spiked(10, 2, "-2"), "ratio=-2 must be positive"),
])
def test_bad_law_input(make: Callable[[], object], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        make()


LAW = NoiseLaw(2, Fraction(1, 10))


@pytest.mark.parametrize(("call", "match"), [
    (lambda: distances_to_normal(LAW, 0), "variance=0"),
    (lambda: distances_to_normal(LAW, -1), "variance=-1"),
    (lambda: distances_to_normal(LAW, float("inf")), "variance=inf"),
    (lambda: distances_to_normal(LAW, 1, target=1e-10), "target="),  # type: ignore[arg-type]
    (lambda: crossing_points(LAW, "-0.5"), "variance=-0.5 must be positive"),
    (lambda: side_mass(LAW, 0, Fraction(1)), "side=0"),
    (lambda: side_mass(LAW, 2, Fraction(1)), "side=2"),
    (lambda: side_mass(LAW, True, Fraction(1)), "side=True"),
    (lambda: side_mass(LAW, 1, 0), "y=0"),
    (lambda: side_mass(LAW, -1, "-1/2"), "y=-1/2 must be positive"),
    (lambda: side_mass(LAW, "up", Fraction(1)), "side=up must be"),  # type: ignore[arg-type]
    (lambda: side_mass(LAW, 1, float("nan")), "y=nan"),
    (lambda: side_mass(LAW, 1, Fraction(1), target="tight"), "target="),  # type: ignore[arg-type]
])
def test_bad_call_input(call: Callable[[], object], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        call()


@pytest.mark.parametrize(("law", "budget"), [
    (NoiseLaw.flat(100, 8), 10.0), (NoiseLaw.flat(10, 1), 15.0), (NoiseLaw.flat(100, 256), 20.0)])
def test_fast_cases_stay_fast(law: NoiseLaw, budget: float) -> None:
    """A full distance certificate in a few CPU seconds, odd r (Hankel / midpoint Bessel K) and
    r = 256 (the 128-term Bessel polynomial) included (CPU time: the machine is shared)."""
    start = time.process_time()
    distances_to_normal(law, 1)
    assert time.process_time() - start < budget


# -- 8. the sign-defect cell bounds --------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(r=st.sampled_from([1, 2, 3, 8, 64]),
       rho2=st.sampled_from([Fraction(0), Fraction(1, 10), Fraction(100, 109)]),
       side=st.sampled_from(SIDES),
       lo=st.sampled_from([Fraction(1, 2**30), Fraction(1, 1000), Fraction(1, 3), Fraction(1),
                           Fraction(5, 2), Fraction(6)]),
       width=st.sampled_from([Fraction(1, 2**20), Fraction(1, 100), Fraction(1, 4), Fraction(3)]),
       exact_variance=st.booleans())
def test_cell_range_encloses_the_density_difference(r: int, rho2: Fraction, side: int,
                                                    lo: Fraction, width: Fraction,
                                                    exact_variance: bool) -> None:
    """``_range_on_cell`` (zeroth- and first-order bounds from the cell's two ends) contains
    ``f - phi_v`` at points across the cell, with ``f`` from mpmath's besselk form."""
    law = NoiseLaw(r, rho2)
    variance = law.variance if exact_variance else Fraction(1)
    hi = lo + width
    with ctx.workprec(128):
        lower, upper = _range_on_cell(law, variance, side, lo, hi, {})
    low, up = Fraction(Bound.from_arb(lower, 128).lower), Fraction(Bound.from_arb(upper, 128).upper)
    assert low <= up
    with mpmath.workdps(40):
        vv = mpq(variance)
        for t in (0, Fraction(1, 7), Fraction(1, 2), Fraction(6, 7), 1):
            x = x_of(law, side, lo + t * width)
            diff = mpmath.exp(bessel_log_density(law, x)) - mpmath.npdf(x, 0, mpmath.sqrt(vv))
            slack = mpmath.mpf("1e-30") * (abs(diff) + 1)
            assert mpq(low) - slack <= diff <= mpq(up) + slack, (t, low, diff, up)
