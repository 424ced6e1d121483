"""``V -> M(V + E)``: add Gaussian noise, then project (claims WPM-8, WPM-9; seed 000).

``M = A^T A`` (``A`` ``r x d`` iid ``N(0, 1/r)``), ``E ~ N(0, sigma^2 I_d)``, unit ``V, V'`` with
``rho = V^T V'``, ``Delta = ||V - V'|| = sqrt(2 (1 - rho))``, ``mu = Delta / sigma``. Derivations
in ``proofs/wishart_noisy.py``.

Post-processing (``proof_pre_post_processing``). ``M`` is drawn independently of the data and of
``E``, so the pair ``(M, M(V + E))`` -- and *a fortiori* ``M(V + E)`` alone -- is a randomised
function of the Gaussian mechanism's output ``V + E``: its profile is at most
``delta_G(mu, eps)`` whether or not ``M`` is released.

Release model "matrix public" (``M`` released with the output; LoRA's frozen ``A`` ships inside
the adapter). Given ``A`` (rank ``r`` almost surely, ``r <= d``), ``y`` determines
``z = A(V + E) ~ N(AV, sigma^2 A A^T)``, a Gaussian mechanism whose Mahalanobis sensitivity is
``||P_A (V - V')|| / sigma`` with ``P_A = A^T (A A^T)^{-1} A`` the projection on the row space of
``A`` (``proof_pre_public_given_a``). The row space is uniformly distributed, so
``beta = ||P_A w||^2 / ||w||^2 ~ Beta(r/2, (d - r)/2)`` (``beta = 1`` when ``r = d``). Since the
law of ``A`` is the same under both neighbours, the hockey-stick divergence of the pair
``(A, y)`` is the average of the conditional ones, so the exact profile is

    delta_pub(eps) = E_beta[ delta_G(mu sqrt(beta), eps) ].

Substituting ``beta = sin^2(pi t / 2)``, ``t = e^y`` (``proof_pre_beta_substitution``)::

    delta_pub(eps) = (pi / B(r/2, (d-r)/2)) int_{-inf}^0 delta_G(mu sin(pi e^y / 2), eps)
                     sin^{r-1}(pi e^y / 2) cos^{d-r-1}(pi e^y / 2) e^y dy,

analytic in ``y`` on a strip around the half-line; the lower tail is bounded by
``delta_G(mu sin(pi e^T / 2), eps) P[beta <= sin^2(pi e^T / 2)]`` (``delta_G`` is increasing in
``mu``), with ``P[beta <= x] <= 2 sqrt 2 x^{r/2} / (r B)`` for ``x <= 1/2``.

Release model "output only" (just ``y``): its profile lies between the certified lower bound of
:mod:`certify.wishart.noisy_hidden` and ``delta_pub`` (post-processing: dropping ``M``).

The "random sensitivity" profile ``E_s[delta_G(mu sqrt(s), eps)]``, ``s ~ chi2_r / r``, is also
here: it is the exact one-step profile of the LoRA variant that adds noise to ``B``'s gradient
``g A^T`` with ``A`` public (WPM-9), since ``||A g||^2 = ||g||^2 chi2_r / r``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from flint import acb, arb

from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.integrate import integrate
from certify.numerics.precision import Target
from certify.numerics.roots import exact_ball
from certify.numerics.special import chi2_sf
from certify.wishart.noisy_cells import gauss_delta_acb

__all__ = [
    "PRE_TARGET",
    "gaussian_delta_real",
    "public_delta",
    "random_sensitivity_delta",
]

#: default width of the exact public-model profile
PRE_TARGET = Target(rel=1e-8)
_MAX_PREC = 1024


def gaussian_delta_real(mu: arb, eps: arb) -> arb:
    """The Gaussian profile ``delta_G(mu, eps)`` (Balle-Wang Thm 8) at a real ball ``mu > 0``."""
    return gauss_delta_acb(acb(mu), eps).real


def _mu_ball(mu_sq: Fraction) -> arb:
    return exact_ball(mu_sq).sqrt()


def _log_inv_beta(d: int, r: int) -> arb:
    """``log(1 / B(r/2, (d-r)/2)) = lgamma(d/2) - lgamma(r/2) - lgamma((d-r)/2)``."""
    half = arb(1) / 2
    return (arb(d) * half).lgamma() - (arb(r) * half).lgamma() - (arb(d - r) * half).lgamma()


def public_delta(d: int, r: int, mu_sq: Fraction, eps: Fraction,
                 target: Target | None = None) -> Bound:
    """Certified ``E_beta[delta_G(mu sqrt(beta), eps)]``, ``beta ~ Beta(r/2, (d-r)/2)``
    (``beta = 1`` when ``r = d``): the exact profile of ``M(V + E)`` with ``M`` public, where
    ``mu^2 = mu_sq`` is the squared Gaussian sensitivity ``||V - V'||^2 / sigma^2``."""
    _check_dims(d, r)
    if mu_sq <= 0:
        raise InvalidArgument(f"mu_sq={mu_sq} must be positive.")
    if eps < 0:
        raise InvalidArgument(f"epsilon={eps} must be non-negative.")
    goal = target or PRE_TARGET
    if r == d:
        from certify.numerics.precision import escalate

        return escalate(lambda _p: gaussian_delta_real(_mu_ball(mu_sq), exact_ball(eps)), goal,
                        what="gaussian delta (r = d)", within=(0, 1))

    def integrand(y: acb, analytic: bool) -> acb:
        t = y.exp()
        angle = arb.pi() * t / 2
        sn, cs = angle.sin(), angle.cos()
        mu = acb(_mu_ball(mu_sq)) * sn
        weight = sn ** (r - 1) * cs ** (d - r - 1) * t * arb.pi() * _log_inv_beta(d, r).exp()
        return gauss_delta_acb(mu, exact_ball(eps)) * weight

    def lower_tail(cut: arb) -> arb:
        x = (arb.pi() * cut.exp() / 2).sin() ** 2
        value = gaussian_delta_real(_mu_ball(mu_sq) * x.sqrt(), exact_ball(eps))
        if x <= arb(1) / 2:
            mass = 2 * arb(2).sqrt() * x ** (arb(r) / 2) / r * _log_inv_beta(d, r).exp()
            value *= min(mass.upper(), arb(1))
        return value.upper()

    peak = _float_peak(d, r, mu_sq, eps)
    bound = integrate(integrand, "-inf", 0, breakpoints=[peak] if peak is not None else (),
                      lower_tail=lower_tail, target=goal, max_prec=_MAX_PREC,
                      what=f"public-M delta(d={d}, r={r}, eps={float(eps):.6g})")
    return bound.within(0, 1)


def _float_peak(d: int, r: int, mu_sq: Fraction, eps: Fraction) -> Fraction | None:
    """``log t`` at the mode of the integrand (floats; only a breakpoint, so any value is safe)."""
    ys = np.linspace(-12, -1e-9, 4000)
    t = np.exp(ys)
    ang = np.pi * t / 2
    mu = math.sqrt(float(mu_sq)) * np.sin(ang)
    with np.errstate(all="ignore"):
        log_w = ((r - 1) * np.log(np.sin(ang)) + (d - r - 1) * np.log(np.cos(ang)) + ys
                 + np.log(np.maximum(_float_gauss_delta(mu, float(eps)), 1e-300)))
    if not np.any(np.isfinite(log_w)):
        return None
    y = float(ys[int(np.nanargmax(np.where(np.isfinite(log_w), log_w, -np.inf)))])
    return Fraction(round(y * 1024), 1024) if -12 < y < -1 / 512 else None


def _float_gauss_delta(mu: np.ndarray, eps: float) -> np.ndarray:
    from scipy.special import log_ndtr

    with np.errstate(all="ignore"):
        a = log_ndtr(mu / 2 - eps / mu)
        b = eps + log_ndtr(-mu / 2 - eps / mu)
        return np.where(b < a, np.exp(a) * -np.expm1(b - a), 0.0)


def random_sensitivity_delta(r: int, mu_sq: Fraction, eps: Fraction,
                             target: Target | None = None) -> Bound:
    """Certified ``E_s[delta_G(mu sqrt(s), eps)]``, ``s ~ chi2_r / r``: a Gaussian mechanism
    whose sensitivity is ``||A g||`` for a fresh public ``A`` (``s = x^2``, ``x = e^y``)::

        int_R delta_G(mu e^y, eps) * 2 (r/2)^{r/2} / Gamma(r/2) * e^{r y} e^{-r e^{2y} / 2} dy.

    Tails: below ``T``, ``delta_G(mu e^T, eps)`` (monotone in ``mu``); above ``T``,
    ``P[chi2_r > r e^{2T}]``."""
    if r < 1:
        raise InvalidArgument(f"r={r} must be a positive integer.")
    if mu_sq <= 0 or eps < 0:
        raise InvalidArgument(f"mu_sq={mu_sq}, epsilon={eps}: need mu_sq > 0, epsilon >= 0.")
    goal = target or PRE_TARGET

    def log_const() -> arb:
        half_r = arb(r) / 2
        return arb(2).log() + half_r * half_r.log() - half_r.lgamma()

    def integrand(y: acb, analytic: bool) -> acb:
        x = y.exp()
        weight = (log_const() + r * y - arb(r) * x * x / 2).exp()
        return gauss_delta_acb(acb(_mu_ball(mu_sq)) * x, exact_ball(eps)) * weight

    def lower_tail(cut: arb) -> arb:
        return gaussian_delta_real(_mu_ball(mu_sq) * cut.exp(), exact_ball(eps)).upper()

    def upper_tail(cut: arb) -> arb:
        return chi2_sf(arb(r) * (2 * cut).exp(), r).upper()

    bound = integrate(integrand, "-inf", "inf", breakpoints=[Fraction(0)],
                      lower_tail=lower_tail, upper_tail=upper_tail, target=goal,
                      max_prec=_MAX_PREC, what=f"random-sensitivity delta(r={r})")
    return bound.within(0, 1)


def _check_dims(d: int, r: int) -> None:
    if not (isinstance(d, int) and isinstance(r, int) and d >= 2 and 1 <= r <= d):
        raise InvalidArgument(f"d={d}, r={r}: need integers d >= 2 and 1 <= r <= d.")
