"""``V -> MV + E``: project, then add Gaussian noise (claims WPM-7, WPM-9; seed 000).

``M = A^T A`` (``A`` ``r x d`` iid ``N(0, 1/r)``), ``E ~ N(0, sigma^2 I_d)`` independent, unit
``V, V'`` with ``rho = V^T V'``; ``b = sqrt((1 - rho)/2)``, ``c = sqrt((1 + rho)/2)``,
``e_2 = (V - V') / ||V - V'||``, ``mu_G = ||V - V'|| / sigma = 2b / sigma``. Derivations in
``proofs/wishart_noisy.py``.

Law (``proof_post_conditional_law``). ``MV = s V + sqrt(s/r) Z_perp`` with ``s ~ chi2_r / r`` and
``Z_perp ~ N(0, I - V V^T)`` independent, so given ``s`` the output is
``N(s V, sigma^2 I + (s/r)(I - V V^T))``: a one-dimensional mixture over ``s``. The privacy loss
depends on ``y`` only through ``(V^T y, V'^T y, ||y||^2)``. No closed form of the profile is
derived here; it is bracketed.

Lower bound (``proof_post_statistic``): ``T = e_2^T y`` has ``T | s ~ N(b s, sigma^2 + c^2 s / r)``
under ``V`` and ``N(-b s, sigma^2 + c^2 s / r)`` under ``V'``. For any threshold ``t``,
``delta(eps) >= P_V[T > t] - e^eps P_V'[T > t]``, a certified one-dimensional integral in
``x = sqrt(s)`` (density ``2 (r/2)^{r/2} / Gamma(r/2) x^{r-1} e^{-r x^2/2}``, upper tail
``(1 + e^eps) P[chi2_r > r T^2]``).

Upper bounds (stated as upper bounds, never as the profile):

* post-processing: ``MV + E`` is ``MV`` followed by an independent, data-free channel, so
  ``delta(eps) <= delta_MV(eps)``, the exact noise-free profile (:mod:`certify.wishart.profile`);
* the rotation coupling (``proof_post_rotation_coupling``): with ``R`` the rotation of the plane
  ``span(V, V')`` taking ``V`` to ``V'``, ``A' = A R^T`` has the law of ``A`` and
  ``M'V' = R M V``, so by joint convexity of the hockey-stick divergence
  ``delta(eps) <= E delta_G(||(R - I) M V|| / sigma, eps) = E delta_G(mu_G sqrt(s^2 + s z^2/r),
  eps)`` with ``z ~ N(0, 1)`` independent of ``s``; ``delta_G`` is increasing in its first
  argument, so a monotone upper cell sum over ``(r s, z^2)`` (two chi-square laws) bounds it.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
from flint import acb, arb, ctx

from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.integrate import integrate
from certify.numerics.precision import Target
from certify.numerics.roots import exact_ball
from certify.numerics.special import chi2_sf
from certify.wishart.noisy_cells import chi2_axis, gauss_delta_acb, monotone_upper_sum, phi_acb

__all__ = [
    "POST_TARGET",
    "coupling_upper_bound",
    "event_lower_bound",
    "event_probabilities",
    "float_post_curves",
    "float_post_event",
    "float_post_threshold",
    "noise_free_upper_bound",
]

#: numerical width of each certified piece (the bracket's width is the method gap)
POST_TARGET = Target(rel=1e-6, absolute=1e-300, max_prec=512)


def _check(r: int, rho: Fraction, sigma: Fraction) -> None:
    if not (isinstance(r, int) and r >= 1):
        raise InvalidArgument(f"r={r} must be a positive integer.")
    if not -1 < rho < 1:
        raise InvalidArgument(f"rho={rho} must be in (-1, 1).")
    if sigma <= 0:
        raise InvalidArgument(f"sigma={sigma} must be positive.")


def _log_const(r: int) -> arb:
    half_r = arb(r) / 2
    return arb(2).log() + half_r * half_r.log() - half_r.lgamma()


def _event_integral(r: int, rho: Fraction, sigma: Fraction, t: Fraction, weight_v: arb,
                    weight_w: arb, target: Target, what: str) -> Bound:
    """``weight_v P_V[T > t] + weight_w P_V'[T > t]`` as one certified integral."""

    def integrand(x: acb, analytic: bool) -> acb:
        b = exact_ball((1 - rho) / 2).sqrt()
        c2 = exact_ball((1 + rho) / 2)
        s = x * x
        sd = (exact_ball(sigma * sigma) + c2 * s / r).sqrt(analytic=True)
        tt = exact_ball(t)
        density = (acb(_log_const(r)) - arb(r) * s / 2).exp() * x ** (r - 1)
        value = weight_v * phi_acb((b * s - tt) / sd) + weight_w * phi_acb((-b * s - tt) / sd)
        return density * value

    scale = abs(weight_v) + abs(weight_w)

    def upper_tail(cut: arb) -> arb:
        return (scale * chi2_sf(arb(r) * cut * cut, r)).upper()

    return integrate(integrand, 0, "inf", upper_tail=upper_tail, target=target,
                     max_prec=target.max_prec, what=what)


def event_lower_bound(r: int, rho: Fraction, sigma: Fraction, eps: Fraction, t: Fraction,
                      target: Target | None = None) -> Bound:
    """Certified ``P_V[T > t] - e^eps P_V'[T > t]`` (``T = e_2^T (MV + E)``), a lower bound on
    the profile ``delta(eps)`` of ``MV + E`` (its ``lower`` end is the certified bound)."""
    _check(r, rho, sigma)
    goal = target or POST_TARGET
    return _event_integral(r, rho, sigma, t, arb(1), -exact_ball(eps).exp(), goal,
                           f"MV+E event bound (r={r}, eps={float(eps):.6g})")


def event_probabilities(r: int, rho: Fraction, sigma: Fraction, t: Fraction,
                        target: Target | None = None) -> tuple[Bound, Bound]:
    """Certified ``P_V[T > t]`` and ``P_V'[T > t]`` (used by the tests against sampling)."""
    _check(r, rho, sigma)
    goal = target or POST_TARGET
    return (_event_integral(r, rho, sigma, t, arb(1), arb(0), goal, "P_V[T > t]"),
            _event_integral(r, rho, sigma, t, arb(0), arb(1), goal, "P_V'[T > t]"))


def float_post_event(r: int, rho: float, sigma: float, ts: np.ndarray | list[float],
                     nodes: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Float ``P_V[T > t]``, ``P_V'[T > t]`` for every ``t`` in ``ts`` (product rule on
    probability midpoints of ``s``, refined in the tails). Steering and tests only."""
    from scipy import stats
    from scipy.special import ndtr

    edges = np.unique(np.concatenate([np.geomspace(1e-18, 0.01, nodes // 4),
                                      np.linspace(0.01, 0.99, nodes // 2),
                                      1 - np.geomspace(0.01, 1e-16, nodes // 4)]))
    edges = np.concatenate([[0.0], edges, [1.0]])
    mid, w = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    s = stats.chi2.ppf(mid, r) / r
    keep = np.isfinite(s)
    s, w = s[keep][:, None], w[keep][:, None]
    b, c2 = math.sqrt((1 - rho) / 2), (1 + rho) / 2
    sd = np.sqrt(sigma * sigma + c2 * s / r)
    t = np.asarray(ts, dtype=float)[None, :]
    pv = np.sum(w * ndtr((b * s - t) / sd), axis=0)
    pw = np.sum(w * ndtr((-b * s - t) / sd), axis=0)
    return pv, pw


def float_post_threshold(r: int, rho: float, sigma: float, eps: float,
                         curves: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                         ) -> tuple[Fraction, float]:
    """The exact threshold ``t`` (on a 1/1024 grid) maximising the float event difference, and
    that estimate (steering only; the bound is certified at the returned ``t``). ``curves``:
    precomputed ``(ts, pv, pw)`` from :func:`float_post_curves`."""
    ts, pv, pw = curves if curves is not None else float_post_curves(r, rho, sigma)
    vals = pv - math.exp(eps) * pw
    i = int(np.argmax(vals))
    lo, hi = ts[max(i - 1, 0)], ts[min(i + 1, len(ts) - 1)]
    fine = np.linspace(lo, hi, 101)
    fv, fw = float_post_event(r, rho, sigma, fine)
    fvals = fv - math.exp(eps) * fw
    j = int(np.argmax(fvals))
    return Fraction(round(fine[j] * 1024), 1024), float(fvals[j])


def float_post_curves(r: int, rho: float, sigma: float,
                      points: int = 800) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ts, P_V[T > t], P_V'[T > t])`` on a grid of thresholds (steering only)."""
    b, c2 = math.sqrt((1 - rho) / 2), (1 + rho) / 2
    scale = b + math.sqrt(sigma * sigma + c2 / r)
    ts = np.linspace(-scale, 60 * scale, points)
    pv, pw = float_post_event(r, rho, sigma, ts)
    return ts, pv, pw


def coupling_upper_bound(r: int, rho: Fraction, sigma: Fraction, eps: Fraction,
                         *, cells: int = 160, prec: int = 96) -> Bound:
    """Certified upper bound on the profile of ``MV + E`` by the rotation coupling: a ball whose
    upper end bounds ``E delta_G(mu_G sqrt(s^2 + s z^2 / r), eps)`` (monotone upper cell sum over
    ``X = r s ~ chi2_r`` and ``W = z^2 ~ chi2_1``). Returned as ``Bound(0, upper)``."""
    from scipy import stats

    _check(r, rho, sigma)
    if eps < 0:
        raise InvalidArgument(f"epsilon={eps} must be non-negative.")
    probs = np.unique(np.concatenate([np.linspace(0.002, 0.998, cells),
                                      1 - np.geomspace(0.002, 1e-15, cells // 4)]))
    with ctx.workprec(prec):
        x_axis = chi2_axis(r, Fraction(1), list(stats.chi2.ppf(probs, r)))
        w_axis = chi2_axis(1, Fraction(1), list(stats.chi2.ppf(probs[:: 2], 1)))
        mu_g = exact_ball(2 * (1 - rho)).sqrt() / exact_ball(sigma)
        e = exact_ball(eps)
        rr = arb(r)

        def corner(point: tuple[Fraction, ...]) -> arb:
            s = exact_ball(point[0]) / rr
            w = exact_ball(point[1])
            mu = mu_g * (s * s + s * w / rr).sqrt()
            return gauss_delta_acb(acb(mu), e).real

        total = monotone_upper_sum((x_axis, w_axis), corner, arb(1))
        upper = min(total.upper(), arb(1))
        return Bound.from_fractions(Fraction(0), _upper_fraction(upper), prec)


def noise_free_upper_bound(d: int, r: int, rho: Fraction, eps: Fraction,
                           target: Target | None = None) -> Bound | None:
    """``Bound(0, delta_MV(eps).upper)``: the noise-free profile bounds ``MV + E`` by
    post-processing (None when the certified profile is not reachable to the target)."""
    from certify.wishart.profile import wishart_delta

    try:
        exact = wishart_delta(d, r, rho, eps, target or Target(rel=1e-6))
    except Inconclusive:
        return None
    return Bound(Decimal(0), exact.upper, exact.prec)


def _upper_fraction(x: arb) -> Fraction:
    b = Bound.from_arb(x, 96)
    return Fraction(str(b.upper))
