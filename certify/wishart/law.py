"""The exact law of ``MV`` and of its privacy loss (seed 000, WPM-3/WPM-4; our derivation).

Every formula here is derived and machine-checked in ``proofs/wishart_law.py``; the tests
(``tests/test_wishart_law.py``) check them numerically against sampling and mpmath.

Setting: ``M = A^T A``, ``A`` ``r x d`` iid ``N(0, 1/r)``, unit vectors ``V, V'`` with
``rho = V^T V'``; ``d >= 2``, ``1 <= r <= d``, ``-1 < rho < 1``.

1. Representation (``proof_mv_representation``): ``MV = s V + sqrt(s/r) Z`` with
   ``s ~ chi2_r / r`` and ``Z ~ N(0, I - V V^T)`` independent of ``s``.
2. Density (``proof_mv_density``): with ``a = V^T y > 0`` and ``N = ||y||^2``,
   ``p_V(y) = C a^{(r-d-1)/2} exp(-r N / (2a))``,
   ``C = (r/2)^{r/2} (r/(2 pi))^{(d-1)/2} / Gamma(r/2)``; zero on ``a <= 0``.
3. Reduced coordinates (``proof_reduced_coordinates``): ``u = V'^T y / V^T y`` and
   ``W = r ||y||^2 / V^T y``. Under ``P_V``, ``W ~ chi2_n`` (``n = r + d - 1``) and
   ``T = (u - rho)/sigma ~ t_r`` (``sigma = sqrt((1 - rho^2)/r)``) are *independent*, and the
   privacy loss ``L = log p_V / p_V'`` is

       L = c log u + W (1 - u) / (2u)   (u > 0),    L = +inf  (u <= 0),    c = (d + 1 - r)/2.

   The density of ``u`` is ``f_u(x) = c_r (1 - rho^2)^{r/2} (x^2 - 2 rho x + 1)^{-(r+1)/2}``,
   ``c_r = Gamma((r+1)/2) / (sqrt(pi) Gamma(r/2))``, and ``f_u(1/x) / x^2 = x^{r-1} f_u(x)``.
4. Symmetry (``proof_pair_symmetry``): a reflection exchanging ``V`` and ``V'`` preserves the
   law of ``M``, so the law of ``L`` under ``P_V'`` is that of ``-L`` under ``P_V``; both orders
   of the pair have the same profile, ``delta(eps) = P[L > eps] - e^eps P[L < -eps]``.
5. The profile (``proof_profile_reduction``): conditioning on ``u``, ``L`` is affine in ``W``
   and ``e^{-L}`` tilts ``chi2_n`` into a rescaled ``chi2_n`` (factor ``u^{n/2} e^{-c log u}
   = u^{r-1}``). For ``eps >= 0``, with ``Q_n``/``P_n`` the ``chi2_n`` survival function/CDF::

       delta(eps) = F_{t_r}(-rho / sigma) + I_1 + I_2,
       I_1 = int_0^1 [Q_n(x w(x)) - e^eps x^{r-1} Q_n(w(x))] f_u(x) dx,
             w(x) = 2 (eps - c log x) / (1 - x)                          (the part u < 1)
       I_2 = int_0^b [x^{r-1} P_n(v(x)) - e^eps P_n(x v(x))] f_u(x) dx,
             v(x) = 2 (-c log x - eps) / (1 - x),  b = e^{-eps/c}        (u > 1/b, as x = 1/u)

   (``1 < u <= 1/b`` contributes nothing). ``F_{t_r}(-rho/sigma)`` is the mass of ``MV`` outside
   the support of ``MV'`` (WPM-3) and the limit of ``delta(eps)`` as ``eps -> inf``: the floor
   (WPM-4).
6. Integration variable: ``x = sigma(y) = 1/(1 + e^{-y})`` for ``I_1`` and ``x = b sigma(y)``
   for ``I_2``, ``y`` over the real line: both ends become exponentially decaying tails
   (``|integrand| <= f_max e^{-|y|}``, ``f_max = c_r / sqrt(1 - rho^2)``), and in ``I_2``
   ``v(b sigma(y)) = 2 c log(1 + e^{-y}) / (1 - b sigma(y))`` is positive on the whole line.

The integrands are evaluated by Arb: on real balls exactly (certified chi-square functions); on
the complex boxes that Arb's integrator uses to bound the integrand on Bernstein ellipses, the
chi-square functions (whose Arb implementation is unusable on complex balls of large order) are
bounded in modulus instead, by integrating along straight paths (``s = n/2 >= 1``, ``Re z > 0``)::

    |Q(s, z)| <= e^{|z| - Re z} Q(s, |z|),        |P(s, z)| <= (|z| / Re z)^s P(s, Re z),

which is all the Gauss-Legendre error bound needs (Johansson 2018, see
:mod:`certify.numerics.integrate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import acb, arb, ctx, fmpq

from certify.numerics.special import chi2_cdf, chi2_sf, student_t_cdf

__all__ = [
    "VectorLaw",
    "privacy_loss",
    "reduced_coordinates",
]


def _q(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


@dataclass(frozen=True)
class VectorLaw:
    """The law of ``MV`` for the pair ``(V, V')`` with ``d, r, rho`` (validated by the caller:
    :class:`certify.mechanisms.wishart.WishartVectorMechanism`)."""

    d: int
    r: int
    rho: Fraction

    @property
    def n(self) -> int:
        """Degrees of freedom of ``W``: ``r + d - 1``."""
        return self.r + self.d - 1

    @property
    def c(self) -> Fraction:
        """The coefficient of ``log u`` in ``L``: ``(d + 1 - r)/2 >= 1/2``."""
        return Fraction(self.d + 1 - self.r, 2)

    # -- Arb quantities (ambient precision) ------------------------------------------------
    def sigma(self) -> arb:
        """``sqrt((1 - rho^2)/r)``: the scale of ``u - rho``."""
        return ((1 - _q(self.rho) ** 2) / self.r).sqrt()

    def floor(self) -> arb:
        """``F_{t_r}(-rho sqrt(r/(1 - rho^2)))`` (item 5: the support term, WPM-3/WPM-4)."""
        return student_t_cdf(-_q(self.rho) / self.sigma(), self.r)

    def log_cr(self) -> arb:
        """``log c_r = lgamma((r+1)/2) - lgamma(r/2) - log(pi)/2``."""
        r = arb(self.r)
        return ((r + 1) / 2).lgamma() - (r / 2).lgamma() - arb.pi().log() / 2

    def f_max(self) -> arb:
        """``c_r / sqrt(1 - rho^2)`` >= ``f_u(x)`` for every real ``x``."""
        return self.log_cr().exp() / (1 - _q(self.rho) ** 2).sqrt()

    def integrand(
        self, part: int, eps: Fraction, complement: bool = False
    ) -> Callable[[acb, bool], acb]:
        """The integrand of ``I_1`` (``part=1``) or ``I_2`` (``part=2``) in the variable ``y``
        (item 6), for ``acb.integral``; ``eps >= 0`` exact. Constants are rebuilt at each
        precision.

        ``complement=True`` gives ``H = M - G`` instead of ``G`` (item 7): ``M`` is the
        integrand with the conditional hockey-stick replaced by its limit (``1`` in ``I_1``,
        ``x^{r-1}`` in ``I_2``), whose integral :meth:`mass_left` is a Student-t probability."""
        return _Integrand(self, part, eps, complement)

    def mass_left(self, part: int, eps: Fraction, y_c: arb | None) -> arb:
        """``int_{-inf}^{y_c} M dy`` (item 7): ``P[0 < u < sigma(y_c)]`` for ``I_1``;
        ``int_0^{x_c} x^{r-1} f_u(x) dx = P[u > 1/x_c]`` (``x_c = b sigma(y_c)``, by
        ``f_u(1/x)/x^2 = x^{r-1} f_u(x)``) for ``I_2``."""
        rho, scale = _q(self.rho), self.sigma()
        x_c = arb(1) if y_c is None else 1 / (1 + (-y_c).exp())  # y_c = None: +inf
        if part == 1:
            a0 = -rho / scale
            a1 = (x_c - rho) / scale
            if a0 >= 0:
                return student_t_cdf(-a0, self.r) - student_t_cdf(-a1, self.r)
            return student_t_cdf(a1, self.r) - student_t_cdf(a0, self.r)
        inv_x = (_q(eps) / _q(self.c)).exp() / x_c
        return student_t_cdf(-(inv_x - rho) / scale, self.r)

    def tail_bound(self, part: int, eps: Fraction) -> Callable[[arb], arb]:
        """``|int_T^inf|`` and ``|int_-inf^T|`` of the integrand are at most
        ``f_max * scale * e^{-|T|}`` (``scale = 1`` for ``I_1``, ``b`` for ``I_2``): the
        integrand is ``G f_u(x) dx/dy`` with ``0 <= G <= 1``, ``f_u <= f_max`` and
        ``dx/dy = scale * sigma(y) (1 - sigma(y)) <= scale * e^{-|y|}``."""

        def bound(t: arb) -> arb:
            scale = arb(1) if part == 1 else (-_q(eps) / _q(self.c)).exp()
            return self.f_max() * scale * (-abs(t)).exp()

        return bound


class _Integrand:
    """``f(y, analytic)`` for ``acb.integral``: exact on real balls, a modulus bound on complex
    boxes (module docstring), non-finite where holomorphy is not certain."""

    def __init__(self, law: VectorLaw, part: int, eps: Fraction, complement: bool) -> None:
        self.law, self.part, self.eps_q, self.complement = law, part, eps, complement
        self.eps = _q(eps)
        self._prec = -1
        self._k: dict[str, Any] = {}

    def _constants(self) -> dict[str, Any]:
        if self._prec != ctx.prec:
            law = self.law
            rho = _q(law.rho)
            one_m_rho2 = 1 - rho * rho
            log_k = law.log_cr() + arb(law.r) / 2 * one_m_rho2.log()
            c = _q(law.c)
            self.eps = _q(self.eps_q)
            self._k = {
                "rho": rho,
                "log_k": log_k,
                "k": log_k.exp(),
                "c": c,
                "e_eps": self.eps.exp(),
                "b": (-self.eps / c).exp(),
                "one_m_b": -((-self.eps / c).expm1()),
                "half_power": -arb(law.r + 1) / 2,
            }
            self._prec = ctx.prec
        return self._k

    def __call__(self, y: acb, analytic: bool) -> acb:
        if y.imag.is_zero():
            return acb(self._real(y.real))
        return self._complex(y)

    def _geometry(self, y: Any) -> tuple[Any, Any, Any, Any]:
        """``(x, z_1, z_2, dx/dy)`` at ``y`` (arb or acb), written with ``t = e^{-y}``,
        ``s = 1/(1+t)``, ``h = 1/(1+e^y) = 1 - s`` and ``ell(t) = log1p(t)/t`` (so that
        ``log1p(t) e^y = ell(t)`` exactly): no wide box is multiplied by a reciprocal box
        that cancels it, which keeps Arb's complex boxes tight where ``x -> 1``.

        * ``I_1``: ``x = s``, ``A = eps + c log1p(t)`` (``= eps - c log x``),
          ``z_1 = x w = 2 A e^y = 2 (eps e^y + c ell)``, ``z_2 = w = z_1 + 2A``,
          ``dx/dy = s h``;
        * ``I_2``: ``x = b s``, ``z_1 = v = 2 c ell(t) / ((1-b) e^y + b s)`` (the same
          ``2(-c log x - eps)/(1-x)`` after ``-c log b = eps``), ``z_2 = x v``, ``dx/dy = b s h``.
        """
        k = self._k
        t = (-y).exp()
        ey = y.exp()
        s = 1 / (1 + t)
        h = 1 / (1 + ey)
        ell = _log1p_ratio(t)
        if self.part == 1:
            z1 = 2 * (self.eps * ey + k["c"] * ell)
            return s, z1, z1 + 2 * (self.eps + k["c"] * t.log1p()), s * h
        v = 2 * k["c"] * ell / (k["one_m_b"] * ey + k["b"] * s)
        x = k["b"] * s
        return x, v, x * v, x * h

    def _density(self, x: Any, analytic: bool) -> Any:
        """``f_u(x) = K (x^2 - 2 rho x + 1)^{-(r+1)/2}`` (``None`` if the base may touch the
        branch cut of the power, complex boxes only)."""
        k = self._k
        qx = (x - k["rho"]) ** 2 + (1 - k["rho"] ** 2)
        if isinstance(qx, acb):
            if not qx.real > 0:
                return None
            return k["k"] * (qx.log(analytic=analytic) * k["half_power"]).exp()
        return k["k"] * (qx.log() * k["half_power"]).exp()

    # -- exact evaluation on a real ball ----------------------------------------------------
    def _real(self, y: arb) -> arb:
        k = self._constants()
        r, n = self.law.r, self.law.n
        x, z1, z2, jac = self._geometry(y)
        e_eps, x_pow = k["e_eps"], x ** (r - 1)
        if self.complement:  # H = M - G
            if self.part == 1:  # P_n(x w) + e^eps x^{r-1} Q_n(w)
                g = _chi2_p(z1, n) + e_eps * x_pow * _chi2_q(z2, n)
            else:  # x^{r-1} Q_n(v) + e^eps P_n(x v)
                g = x_pow * _chi2_q(z1, n) + e_eps * _chi2_p(z2, n)
        elif self.part == 1:  # G = Q_n(x w) - e^eps x^{r-1} Q_n(w)
            g = _chi2_q(z1, n) - e_eps * x_pow * _chi2_q(z2, n)
        else:  # G = x^{r-1} P_n(v) - e^eps P_n(x v)
            g = x_pow * _chi2_p(z1, n) - e_eps * _chi2_p(z2, n)
        return g * self._density(x, False) * jac

    # -- modulus bound on a complex box -------------------------------------------------------
    def _complex(self, y: acb) -> acb:
        k = self._constants()
        r, n = self.law.r, self.law.n
        if not abs(y.imag).upper() < 1:  # |Im y| < 1 < pi/2: Re e^{+-y} > 0, no poles
            return _NONFINITE
        x, z1, z2, jac = self._geometry(y)
        x_pow = abs(x).upper() ** (r - 1)
        # which chi-square function each term uses: (I_1: Q, Q), (I_2: P, P); complement flips
        first, second = (_q_bound, _q_bound) if self.part == 1 else (_p_bound, _p_bound)
        if self.complement:
            first = _p_bound if self.part == 1 else _q_bound
            second = _q_bound if self.part == 1 else _p_bound
        b1, b2 = first(z1, n), second(z2, n)
        if b1 is None or b2 is None:
            return _NONFINITE
        radius = (b1 + k["e_eps"] * x_pow * b2 if self.part == 1
                  else x_pow * b1 + k["e_eps"] * b2)
        density = self._density(x, True)
        if density is None or not radius.is_finite():
            return _NONFINITE
        return _disc(radius) * density * jac


_NONFINITE = acb(arb.nan())


def _log1p_ratio(t: Any) -> Any:
    """``log1p(t)/t`` on an arb or acb ball (``Re t > 0``): for ``|t| <= 1/4`` the series
    ``sum_k (-t)^k/(k+1)`` with the remainder ``|t|^{N+1}/((N+2)(1-|t|))`` added as a ball
    (no division of a box near 0 by itself), else directly."""
    mag = abs(t).upper()
    if not mag <= arb(1) / 4:
        return t.log1p() / t
    terms = ctx.prec // 2 + 4
    total = t * 0 + arb(1) / (terms + 1)
    for j in range(terms, 0, -1):  # Horner: 1 - t/2 + t^2/3 - ...
        total = arb(1) / j - t * total
    rem = mag ** (terms + 1) / ((terms + 2) * (1 - mag))
    err = arb(0, rem.upper())
    if isinstance(total, acb):
        return total + acb(err, err)
    return total + err


def _chi2_q(z: arb, n: int) -> arb:
    """``Q_n(z)`` on a real ball: Arb's regularized upper incomplete gamma on the ball itself
    (fast, valid for ``z > 0``), falling back to :func:`certify.numerics.special.chi2_sf`
    (endpoint-wise, refined) when that ball is less than half as accurate as the precision."""
    if z > 0:
        value = (z / 2).gamma_upper(arb(n) / 2, regularized=1)
        if _accurate(value, z, n):
            return value
    return chi2_sf(z, n)


def _chi2_p(z: arb, n: int) -> arb:
    """``P_n(z)`` on a real ball: ``1 - Q_n(z)`` with about ``-log2 P`` guard bits right of
    ``n/20`` (cheap in Arb), else :func:`certify.numerics.special.chi2_cdf` (the DLMF 8.7.1
    series, fast there); the same acceptance rule as :func:`_chi2_q`."""
    if z > 0 and z > arb(n) / 20:
        prec = ctx.prec
        with ctx.workprec(prec + 64 + _chernoff_bits(z, n)):
            value = 1 - (z / 2).gamma_upper(arb(n) / 2, regularized=1)
        if value > 0 and _accurate(value, z, n):
            return +value
    return chi2_cdf(z, n)


def _chernoff_bits(z: arb, n: int) -> int:
    """About ``-log2 P_n(z)`` left of the mean (Chernoff: ``log P(a, x) <= a (1 + log(x/a))
    - x``, ``a = n/2``, ``x = z/2``), capped at 4096: the guard bits that let ``1 - Q``
    keep its relative accuracy. Only sizes the working precision."""
    x, a = float(z.mid()) / 2, n / 2
    if not 0 < x < a:
        return 0
    nats = x - a - a * math.log(x / a)
    return min(4096, int(nats / math.log(2)) + 1)


def _accurate(value: arb, z: arb, n: int) -> bool:
    """Accept Arb's ball when it carries half the working precision, or nearly as many bits as
    its argument allows (a wide argument ball cannot give a narrow value; re-evaluating it
    endpoint-wise would only cost time)."""
    if not value.is_finite():
        return False
    bits = value.rel_accuracy_bits()
    return bits >= ctx.prec // 2 or bits >= z.rel_accuracy_bits() - 16 - n.bit_length()


def _disc(radius: arb) -> acb:
    """A complex ball containing the closed disc ``|z| <= radius``."""
    rad = radius.upper()
    return acb(arb(0, rad), arb(0, rad))


def _q_bound(z: acb, n: int) -> arb | None:
    """An upper bound of ``|Q_n(z)| = |Q(n/2, z/2)|`` over the box ``z`` with ``Re z > 0``.

    Pointwise ``|Q(s, zeta)| <= e^{|zeta| - Re zeta} Q(s, |zeta|)`` (integrate
    ``t^{s-1} e^{-t}`` along ``zeta + [0, inf)``, ``|t| <= |zeta| + tau``, ``s = n/2 >= 1``), and
    ``|z| - Re z = Im(z)^2 / (|z| + Re z) <= Im(z)^2 / (2 Re z)``, ``Q`` decreasing: over the box,
    ``|Q_n(z)| <= exp(max Im^2 / (4 min Re)) Q_n(min Re)`` (no spread of ``Re z`` leaks into
    the exponential)."""
    re_lo = z.real.lower()
    if not re_lo > 0:
        return None
    im_hi = abs(z.imag).upper()
    growth = (im_hi * im_hi / (4 * re_lo)).exp()
    return (growth * chi2_sf(re_lo, n)).upper()


def _p_bound(z: acb, n: int) -> arb | None:
    """An upper bound of ``|P_n(z)| = |P(n/2, z/2)|`` over the box ``z`` with ``Re z > 0``.

    Pointwise ``|P(s, zeta)| <= (|zeta| / Re zeta)^s P(s, Re zeta)`` (integrate along the
    segment ``[0, zeta]``, ``s >= 1``) and ``(|z|/Re z)^2 = 1 + Im^2/Re^2``, ``P`` increasing:
    over the box, ``|P_n(z)| <= (1 + max Im^2 / min Re^2)^{n/4} P_n(max Re)``."""
    re_lo = z.real.lower()
    if not re_lo > 0:
        return None
    im_hi = abs(z.imag).upper()
    growth = ((im_hi * im_hi) / (re_lo * re_lo)).log1p() * (arb(n) / 4)
    return (growth.exp() * chi2_cdf(z.real.upper(), n)).upper()


# ------------------------------------------------------------------------------------------------
# float versions (numpy): for sampling-based tests and for steering (never certified)


def reduced_coordinates(
    y: np.ndarray, v: np.ndarray, v_prime: np.ndarray, r: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(u, W) = (V'^T y / V^T y, r ||y||^2 / V^T y)`` for rows ``y`` (item 3)."""
    a = y @ v
    return (y @ v_prime) / a, r * np.einsum("ij,ij->i", y, y) / a


def privacy_loss(y: np.ndarray, v: np.ndarray, v_prime: np.ndarray, r: int) -> np.ndarray:
    """``L(y) = log p_V(y) - log p_V'(y)`` from the density (item 2), float64, ``+inf`` where
    ``V'^T y <= 0`` (rows ``y`` with ``V^T y > 0``):
    ``((r-d-1)/2) log(a/a') - (r N / 2)(1/a - 1/a')``."""
    d = y.shape[1]
    a, a2 = y @ v, y @ v_prime
    norm2 = np.einsum("ij,ij->i", y, y)
    out = np.full(a.shape, np.inf)
    ok = a2 > 0
    out[ok] = ((r - d - 1) / 2) * np.log(a[ok] / a2[ok]) - (r * norm2[ok] / 2) * (
        1 / a[ok] - 1 / a2[ok]
    )
    return out


def float_profile(
    d: int, r: int, rho: float, eps: float, rtol: float = 1e-10
) -> tuple[float, float, float]:
    """``(delta(eps), P[L < -eps], floor)`` in floats: the trapezoidal rule in ``y`` (item 6)
    over ``|y| <= 60``, in log-space (vectorized scipy), the step halved until two successive
    results agree to ``rtol`` (or 2^18 nodes). Never certified: it sizes absolute widths and
    guesses ``eps(delta)``, and the tests compare it with mpmath."""
    points = 4001
    previous = _float_trapezoid(d, r, rho, eps, points)
    while points < 1 << 18:
        points = 2 * points - 1
        current = _float_trapezoid(d, r, rho, eps, points)
        scale = abs(current[0]) + abs(current[1])
        if abs(current[0] - previous[0]) <= rtol * abs(current[0]) and abs(
            current[1] - previous[1]
        ) <= rtol * scale:
            return current
        previous = current
    return previous


def _float_trapezoid(
    d: int, r: int, rho: float, eps: float, points: int
) -> tuple[float, float, float]:
    arrays = _float_arrays(d, r, rho, eps, points)
    h = arrays["y"][1] - arrays["y"][0]
    i1, j1, i2, j2 = (float(np.sum(arrays[k]) * h) for k in ("g1", "side1", "g2", "side2"))
    floor = float(arrays["floor"][0])
    return floor + i1 + i2, j1 + j2, floor


def float_split(d: int, r: int, rho: float, eps: float) -> tuple[float, float]:
    """For each of ``I_1, I_2``: the first grid point ``y`` (from the left) where the
    integrand ``G`` falls below half of ``M`` (item 7); ``-inf`` when it starts below, ``+inf``
    when it never does. Left of it the complement form is integrated. Steering only."""
    arrays = _float_arrays(d, r, rho, eps, 4001)
    y = arrays["y"]
    out = []
    for g, m in (("g1", "m1"), ("g2", "m2")):
        with np.errstate(all="ignore"):
            ratio = np.nan_to_num(arrays[g] / arrays[m], nan=0.0)
        below = np.nonzero(~(ratio >= 0.5))[0]
        if below.size == 0:
            out.append(math.inf)
        elif below[0] == 0:
            out.append(-math.inf)
        else:
            out.append(float(y[below[0]]))
    return out[0], out[1]


def _float_arrays(d: int, r: int, rho: float, eps: float, points: int) -> dict[str, np.ndarray]:
    from scipy import special, stats

    n, c = r + d - 1, (d + 1 - r) / 2
    log_k = (special.gammaln((r + 1) / 2) - special.gammaln(r / 2) - 0.5 * math.log(math.pi)
             + r / 2 * math.log1p(-rho * rho))
    floor = float(stats.t.cdf(-rho * math.sqrt(r / (1 - rho * rho)), r))
    y = np.linspace(-60.0, 60.0, points)
    t = np.exp(-y)
    log1p_t = np.log1p(t)
    with np.errstate(all="ignore"):
        # I_1: x = sigma(y)
        x = 1 / (1 + t)
        log_x = -log1p_t
        log_jac = log_x + np.log(t) - np.log1p(t)  # log(x (1 - x))
        w = 2 * (eps + c * log1p_t) * (1 + t) / t
        l1 = _log_chi2_sf(x * w, n)
        l2 = (r - 1) * log_x + _log_chi2_sf(w, n)
        lf = log_k - (r + 1) / 2 * np.log((x - rho) ** 2 + 1 - rho * rho) + log_jac
        main1 = np.exp(l1 + lf) * -np.expm1(np.minimum(0.0, eps + l2 - l1))
        side1 = np.exp(l2 + lf)
        m1 = np.exp(lf)
        # I_2: x = b sigma(y)
        log_b = -eps / c
        one_m_b = -math.expm1(log_b)
        x2 = math.exp(log_b) / (1 + t)
        log_x2 = log_b - log1p_t
        v = 2 * c * log1p_t * (1 + t) / (one_m_b + t)
        k1 = (r - 1) * log_x2 + _log_chi2_cdf(v, n)
        k2 = _log_chi2_cdf(x2 * v, n)
        log_jac2 = log_x2 + np.log(t) - np.log1p(t)
        lf2 = log_k - (r + 1) / 2 * np.log((x2 - rho) ** 2 + 1 - rho * rho) + log_jac2
        main2 = np.exp(k1 + lf2) * -np.expm1(np.minimum(0.0, eps + k2 - k1))
        side2 = np.exp(k2 + lf2)
        m2 = np.exp((r - 1) * log_x2 + lf2)
    out = {"y": y, "floor": np.array([floor])}
    for name, arr in (("g1", main1), ("side1", side1), ("m1", m1), ("g2", main2),
                      ("side2", side2), ("m2", m2)):
        out[name] = np.nan_to_num(arr, nan=0.0, posinf=0.0)
    return out


def _log_chi2_sf(z: np.ndarray, n: int) -> np.ndarray:
    """log Q_n(z) in floats (``log gammaincc``); where that underflows, the leading term of the
    continued fraction, ``log(x^{a-1} e^{-x} / Gamma(a)) - log(1 - (a-1)/x)`` (``a = n/2``,
    ``x = z/2 > a``; DLMF 8.11.2): steering accuracy only."""
    from scipy import special

    a = n / 2
    with np.errstate(all="ignore"):
        out = np.log(special.gammaincc(a, np.maximum(z, 0.0) / 2))
        bad = ~(out > -700) & (z > n)
        if np.any(bad):
            x = z[bad] / 2
            out[bad] = (a - 1) * np.log(x) - x - special.gammaln(a) - np.log1p(-(a - 1) / x)
    return np.asarray(out, dtype=float)


def _log_chi2_cdf(z: np.ndarray, n: int) -> np.ndarray:
    """log P_n(z) in floats (``log gammainc``); where that underflows, the leading term of
    DLMF 8.7.1's series, ``log(x^a e^{-x} / Gamma(a+1)) - log(1 - x/(a+1))`` (``x < a + 1``)."""
    from scipy import special

    a = n / 2
    with np.errstate(all="ignore"):
        out = np.log(special.gammainc(a, np.maximum(z, 0.0) / 2))
        bad = ~(out > -700) & (z > 0) & (z < n)
        if np.any(bad):
            x = z[bad] / 2
            out[bad] = a * np.log(x) - x - special.gammaln(a + 1) - np.log1p(-x / (a + 1))
    return np.asarray(out, dtype=float)
