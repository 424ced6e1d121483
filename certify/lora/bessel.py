"""Certified ``e^z K_nu(z)`` for the orders of the LoRA noise law, on complex balls with
``Re z > 0``, with an output radius that follows the input radius.

The density of the noise law (:mod:`certify.lora.law`) needs ``K_nu`` at ``nu = (r - 1)/2``:
half-integers for even ``r``, integers for odd ``r``. Arb's ``bessel_k`` is rigorous, but for an
integer order and ``|z|`` below its asymptotic threshold it sums the power series of
``I_(-nu) - I_nu``: it cancels about ``2|z| / ln 2`` bits (without compensating: at 64 bits
``K_0(20)`` comes back with no correct digit) and it amplifies the input ball's radius by
``e^(2|z|)`` (a radius ``1e-3`` at ``z = 20`` becomes ``1e14``). Certified integration evaluates
the integrand on wide complex balls, so those balls made odd ranks unusable. Here:

* **half-integer** ``nu = n + 1/2``: the terminating expansion (DLMF 10.49.12)
  ``e^z K_(n+1/2)(z) = sqrt(pi / (2z)) sum_(k=0)^n (n+k)! / (k! (n-k)!) (2z)^(-k)``, a
  polynomial in ``1/(2z)`` with positive integer coefficients (cached per ``n``);
* **integer** ``nu = n``, large ``|z|``: the Hankel expansion (DLMF 10.40.2)
  ``e^z K_nu(z) = sqrt(pi / (2z)) (sum_(k<l) a_k(nu) z^(-k) + R_l(nu, z))`` with
  ``a_k(nu) = (4nu^2 - 1^2)(4nu^2 - 3^2) ... (4nu^2 - (2k-1)^2) / (k! 8^k)`` (DLMF 10.17.1) and the
  remainder bound ``|R_l(nu, z)| <= 2 |a_l(nu)| |z|^(-l) exp(|nu^2 - 1/4| / |z|)`` for
  ``|ph z| <= pi/2`` and every ``l >= 1`` (DLMF 10.40.10 with 10.40.11, from F. W. J. Olver,
  "Error bounds for asymptotic expansions, with an application to cylinder functions of large
  argument", 1964, where ``nu`` is unrestricted: ``K_nu(z) = (pi i/2) e^(nu pi i/2) H^(1)_nu(iz)``,
  DLMF 10.27.8, maps ``|ph z| <= pi/2`` to ``0 <= ph(iz) <= pi``, where the variation
  ``V_(iz, i infinity)(t^(-l))`` is at most ``|z|^(-l)``). ``l`` is chosen so that the
  bound is below ``2^-(prec+8)`` relative to the leading term; the expansion is used only where
  such an ``l`` exists (``|z|`` above about ``0.35 prec``);
* **integer** ``nu = n``, small ``|z|``: Arb at the ball's *exact midpoint* ``z0`` (Hankel's
  expansion there when it reaches the precision), at about ``3|z0| + 24`` extra bits (raised
  until the value is as narrow as the ambient precision asks), plus the
  mean-value term ``|z - z0| sup |d/dw e^w K_n(w)|`` over the ball. From
  ``e^w K_nu(w) = int_0^inf e^(-w (cosh t - 1)) cosh(nu t) dt`` (DLMF 10.32.9), for
  ``Re w >= x > 0``

      |d/dw e^w K_nu(w)| <= int (cosh t - 1) e^(-x (cosh t - 1)) cosh(nu t) dt
                         = e^x ((K_(nu-1)(x) + K_(nu+1)(x))/2 - K_nu(x))     (DLMF 10.29.1),

  decreasing in ``x``: it is evaluated at the exact lower end ``x`` of ``Re z``. For narrow balls
  a cheaper bound suffices: the slope is at most ``e^x K_(n+1)(x)`` (``K_(n-1) <= K_(n+1)``), and
  ``e^x K_(n+1)(x) <= n! 2^n x^(-n-1) e^x`` (``x^mu K_mu(x)`` decreases to ``Gamma(mu)
  2^(mu-1)``, DLMF 10.29.4, 10.30.2) and ``<= sqrt(2 pi / x) e^((n+1)^2 / (2x))``
  (``cosh t - 1 >= t^2/2``, ``cosh(mu t) <= e^(mu t)`` in the integral).

The tests compare every branch with mpmath's ``besselk`` at twice the digits, on exact points
and inside wide complex balls, and check the DLMF remainder bound against the true remainder.
"""

from __future__ import annotations

import functools
import math

from flint import acb, acb_poly, arb, ctx, fmpq

from certify.errors import InvalidArgument

__all__ = ["scaled_bessel_k"]

#: guard bits asked of the Hankel remainder beyond the working precision
_GUARD = 8
#: most terms of the Hankel expansion ever summed
_MAX_TERMS = 4000


def scaled_bessel_k(twice_nu: int, z: acb) -> acb:
    """``e^z K_nu(z)`` with ``nu = twice_nu / 2 >= 0`` (an integer or a half-integer) on the
    complex ball ``z``, at the ambient precision (module docstring). Where ``Re z > 0`` is not
    certain the result is non-finite: no enclosure is claimed (``acb.integral`` then
    subdivides)."""
    if not isinstance(twice_nu, int) or isinstance(twice_nu, bool) or twice_nu < 0:
        raise InvalidArgument(f"twice_nu={twice_nu} must be a non-negative integer.")
    if not z.real > 0:
        return acb(arb("nan"))
    if twice_nu % 2:
        return _half_integer(twice_nu // 2, z)
    n = twice_nu // 2
    prec = ctx.prec
    lower = z.abs_lower()
    terms = _hankel_terms(n, float(lower.lower()), prec + _GUARD)
    if terms is not None:
        return _hankel(n, z, terms, lower)
    return _midpoint(n, z, prec)


# -- half-integer order --------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _half_integer_polynomial(n: int) -> acb_poly:
    """``sum_k (n+k)! / (k! (n-k)!) t^k`` for ``k = 0..n`` (DLMF 10.49.12), exact integer
    coefficients (evaluated in one Arb call: Horner in Python costs ~0.5 ms at ``n = 127``)."""
    return acb_poly([math.factorial(n + k) // (math.factorial(k) * math.factorial(n - k))
                     for k in range(n + 1)])


def _half_integer(n: int, z: acb) -> acb:
    return (arb.pi() / (2 * z)).sqrt() * _half_integer_polynomial(n)(1 / (2 * z))


# -- integer order, large |z|: Hankel's expansion with DLMF's remainder bound ---------------------


@functools.lru_cache(maxsize=16)
def _hankel_coefficients(n: int, count: int) -> tuple[fmpq, ...]:
    """``a_k(n)`` for ``k < count`` (DLMF 10.17.1), exact."""
    four_nu2 = 4 * n * n
    out = [fmpq(1)]
    for k in range(1, count):
        out.append(out[-1] * fmpq(four_nu2 - (2 * k - 1) ** 2, 8 * k))
    return tuple(out)


def _hankel_terms(n: int, modulus: float, bits: int) -> int | None:
    """The smallest ``l >= 1`` with ``2 |a_l(n)| m^(-l) exp(|n^2 - 1/4| / m) <= 2^-bits`` for
    ``|z| >= m`` (floats choose ``l``; the bound itself is then evaluated in balls), or None if
    the terms turn upward first (``|z|`` too small for this precision)."""
    if not modulus > 0 or not math.isfinite(modulus):
        return None
    four_nu2 = 4 * n * n
    log_goal = -bits * math.log(2) - math.log(2) - abs(n * n - 0.25) / modulus
    log_term = 0.0  # log |a_k| - k log m
    for k in range(1, _MAX_TERMS):
        factor = abs(four_nu2 - (2 * k - 1) ** 2) / (8 * k * modulus)
        if factor >= 1 and k > n + 1:
            return None  # past the smallest term
        log_term += math.log(factor)
        if log_term <= log_goal - 1e-9 * abs(log_goal):
            return k
    return None


def _hankel(n: int, z: acb, terms: int, lower: arb) -> acb:
    coefficients = _hankel_coefficients(n, terms + 1)
    inv = 1 / z
    total = acb(0)
    for k in range(terms - 1, -1, -1):
        total = total * inv + arb(coefficients[k])
    m = arb(lower.lower())
    bound = (2 * abs(arb(coefficients[terms])) * m ** (-terms)
             * (abs(arb(n * n) - arb(fmpq(1, 4))) / m).exp())
    radius = bound.upper()
    total += acb(arb(0, radius), arb(0, radius))
    return (arb.pi() / (2 * z)).sqrt() * total


# -- integer order, small |z|: Arb at the exact midpoint plus a mean-value term --------------------


def _midpoint(n: int, z: acb, prec: int) -> acb:
    z0 = acb(z.real.mid(), z.imag.mid())
    value = _exact_point(n, z0, prec)
    rho = z.real.rad() + z.imag.rad()  # |z - z0| <= rho over the ball
    if rho == 0:
        return value
    x = z.real.lower()
    if not x > 0:  # pragma: no cover - excluded by the caller's Re z > 0
        return acb(arb("nan"))
    err = rho * _crude_slope(n, x)
    # the crude slope is enough when its term is within a factor 64 of the radius the input
    # itself implies (relative rho / |z0|) or below the working precision
    allowed = abs(value).lower() * (arb(2) ** (8 - prec) + 64 * rho / abs(z0).lower())
    if not err <= allowed:
        err = rho * _slope(n, x)
    err = err.upper()
    if z.imag == 0:
        return value + acb(arb(0, err))
    return value + acb(arb(0, err), arb(0, err))


def _exact_point(n: int, z0: acb, prec: int) -> acb:
    """``e^z K_n(z)`` at an exact point: Hankel's expansion where it reaches ``prec`` bits, else
    Arb with extra bits for the series' cancellation (a multiple of 64, so that Arb's cached
    constants are reused), raised until the ball is as narrow as ``prec`` asks (four tries)."""
    modulus = z0.abs_lower()
    terms = _hankel_terms(n, float(modulus.lower()), prec + _GUARD)
    if terms is not None:
        return _hankel(n, z0, terms, modulus)
    extra = 64 * math.ceil((3 * float(abs(z0).upper()) + 24) / 64)
    value = acb(arb("nan"))
    for _ in range(4):
        with ctx.workprec(prec + extra):
            value = z0.bessel_k(acb(n), scaled=True)
            magnitude = abs(value)
            if magnitude.lower() > 0 and (value.real.rad() + value.imag.rad()
                                          <= magnitude.lower() * arb(2) ** (-prec - 2)):
                break
        extra *= 2
    return value


def _slope(n: int, x: arb) -> arb:
    """``e^x ((K_(n-1)(x) + K_(n+1)(x))/2 - K_n(x))``: the bound on ``|d/dw e^w K_n(w)|`` for
    ``Re w >= x`` (module docstring), at the exact point ``x > 0``."""
    with ctx.workprec(64 + int(3 * float(x.upper())) + 24):
        xa = acb(x)
        below = xa.bessel_k(acb(abs(n - 1)), scaled=True).real
        above = xa.bessel_k(acb(n + 1), scaled=True).real
        here = xa.bessel_k(acb(n), scaled=True).real
        return ((below + above) / 2 - here).upper() + arb(0)


def _crude_slope(n: int, x: arb) -> arb:
    """A cheap upper bound on :func:`_slope`: ``e^x K_(n+1)(x)`` bounded by
    ``min(n! 2^n x^(-n-1) e^x, sqrt(2 pi / x) e^((n+1)^2 / (2x)))`` (module docstring)."""
    with ctx.workprec(64):
        small = math.factorial(n) * arb(2) ** n * x ** (-n - 1) * x.exp()
        large = (2 * arb.pi() / x).sqrt() * (arb((n + 1) ** 2) / (2 * x)).exp()
        return (small.upper() if small.upper() < large.upper() else large.upper()) + arb(0)
