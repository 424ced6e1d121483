"""Certified brackets of the privacy profiles of the noisy Wishart variants (WPM-7, WPM-8).

A bracket is a certified lower bound and a certified upper bound on the true ``delta(eps)``
(the hockey-stick divergence of the neighbouring pair); when both come from the same exact
formula the bracket is the usual numerical enclosure. Methods (derivations in
``proofs/wishart_noisy.py``):

``MV + E`` (:mod:`certify.wishart.noisy_post`)
    lower: the event ``{e_2^T y > t}`` at a float-optimised exact ``t``;
    upper: ``min(delta_MV(eps), rotation coupling, 1)``.

``M(V + E)``, matrix public (:mod:`certify.wishart.noisy_pre`)
    exact: ``E_beta delta_G(mu sqrt(beta), eps)``.

``M(V + E)``, output only (:mod:`certify.wishart.noisy_hidden`)
    lower: the event ``{e_2^T y > b x*^2}`` by cell sums; upper: the public-matrix profile.

``epsilon(delta)`` brackets follow from the ``delta`` brackets: if a certified lower bound on
``delta(eps_L)`` exceeds ``delta`` then ``eps(delta) > eps_L``; if a certified upper bound on
``delta(eps_U)`` is at most ``delta`` then ``eps(delta) <= eps_U`` (``delta(eps)`` is
non-increasing).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target
from certify.wishart.noisy_hidden import float_hidden_threshold, hidden_lower_bound
from certify.wishart.noisy_post import (
    coupling_upper_bound,
    event_lower_bound,
    float_post_threshold,
    noise_free_upper_bound,
)
from certify.wishart.noisy_pre import public_delta

__all__ = [
    "ProfileBracket",
    "epsilon_bracket",
    "post_bracket",
    "pre_hidden_bracket",
    "pre_public_delta",
]


@dataclass(frozen=True)
class ProfileBracket:
    """Certified ``lower <= delta(eps) <= upper``: ``lower``/``upper`` are the Bounds of the
    two sides (their own ``lower``/``upper`` ends are what certify), ``methods`` names them."""

    epsilon: Fraction
    lower: Bound
    upper: Bound
    methods: dict[str, str]

    def bound(self) -> Bound:
        """The enclosure ``[max(0, lower.lower), min(1, upper.upper)]`` of ``delta(eps)``."""
        lo = max(Fraction(str(self.lower.lower)), Fraction(0))
        hi = min(Fraction(str(self.upper.upper)), Fraction(1))
        if lo > hi:  # pragma: no cover - would mean an unsound side
            raise InvalidArgument(f"bracket lower {lo} exceeds upper {hi} at eps={self.epsilon}.")
        return Bound.from_fractions(lo, hi, max(self.lower.prec, self.upper.prec))


def pre_public_delta(d: int, r: int, rho: Fraction, sigma: Fraction, eps: Fraction,
                     target: Target | None = None) -> Bound:
    """Exact profile of ``M(V + E)`` with ``M`` released: ``E_beta delta_G(mu sqrt(beta))``."""
    return public_delta(d, r, 2 * (1 - rho) / (sigma * sigma), eps, target)


def post_bracket(d: int, r: int, rho: Fraction, sigma: Fraction, eps: Fraction,
                 *, coupling: bool = True, noise_free: bool = True) -> ProfileBracket:
    """The certified bracket of ``delta(eps)`` for ``MV + E`` (module docstring)."""
    t, _ = float_post_threshold(r, float(rho), float(sigma), float(eps))
    lower = event_lower_bound(r, rho, sigma, eps, t)
    uppers: list[tuple[Bound, str]] = [(Bound.exact(1), "trivial")]
    if noise_free:
        nf = noise_free_upper_bound(d, r, rho, eps)
        if nf is not None:
            uppers.append((nf, "noise-free profile delta_MV (post-processing)"))
    if coupling:
        uppers.append((coupling_upper_bound(r, rho, sigma, eps),
                       "rotation coupling (joint convexity)"))
    best, name = min(uppers, key=lambda item: item[0].upper)
    methods = {"lower": f"event {{e_2^T y > {t}}}", "upper": name}
    return ProfileBracket(eps, lower, best, methods)


def pre_hidden_bracket(d: int, r: int, rho: Fraction, sigma: Fraction, eps: Fraction,
                       *, cells: int = 80, target: Target | None = None) -> ProfileBracket:
    """The certified bracket of ``delta(eps)`` for ``M(V + E)`` released without ``M``."""
    upper = pre_public_delta(d, r, rho, sigma, eps, target)
    x_star, est = float_hidden_threshold(d, r, float(rho), float(sigma), float(eps))
    lower: Bound
    if est > 0:
        lower = hidden_lower_bound(d, r, rho, sigma, eps, x_star, cells=cells, estimate=est)
        method = f"event {{e_2^T y > b x*^2}}, x* = {x_star}, {cells} h-cells"
    else:
        lower, method = Bound.exact(0), "trivial (no useful event found)"
    return ProfileBracket(eps, lower, upper,
                          {"lower": method, "upper": "public-matrix profile (post-processing)"})


def epsilon_bracket(
    lower_delta: Callable[[Fraction], Fraction],
    upper_delta: Callable[[Fraction], Fraction],
    delta: Fraction,
    *,
    rel: float = 1e-6,
    eps_max: Fraction = Fraction(2000),
) -> Bound:
    """Certified ``[eps_L, eps_U]`` containing ``eps(delta) = min{eps >= 0 : delta(eps) <=
    delta}`` from certified lower/upper bounds of ``delta(eps)`` (exact rational values).

    ``eps_L``: the largest point found by bisection with ``lower_delta(eps_L) > delta`` (0 if
    none); ``eps_U``: the smallest found with ``upper_delta(eps_U) <= delta``. Raises
    :class:`Inconclusive` when no ``eps <= eps_max`` has ``upper_delta(eps) <= delta``.
    """
    if not 0 < delta <= 1:
        raise InvalidArgument(f"delta={delta} must be in (0, 1].")
    eps_u = _smallest(lambda e: upper_delta(e) <= delta, eps_max, rel)
    if eps_u is None:
        raise Inconclusive(f"no eps <= {eps_max} has a certified upper bound on delta(eps) "
                           f"at most {float(delta):.6g}")
    if not lower_delta(Fraction(0)) > delta:
        return Bound.from_fractions(Fraction(0), eps_u)
    eps_l = _largest(lambda e: lower_delta(e) > delta, eps_u, rel)
    return Bound.from_fractions(eps_l, eps_u)


def _smallest(ok: Callable[[Fraction], bool], cap: Fraction, rel: float) -> Fraction | None:
    """Smallest ``e`` in ``[0, cap]`` found by doubling then bisection with ``ok(e)`` True
    (``ok`` need not be monotone: the returned point is one where it was verified)."""
    if ok(Fraction(0)):
        return Fraction(0)
    lo, hi = Fraction(0), Fraction(1, 4)
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > cap:
            return None
    return _bisect(lo, hi, ok, rel, keep_high=True)


def _largest(ok: Callable[[Fraction], bool], cap: Fraction, rel: float) -> Fraction:
    """Largest ``e`` in ``[0, cap]`` found by bisection with ``ok(e)`` True (``ok(0)`` is)."""
    return _bisect(Fraction(0), cap, ok, rel, keep_high=False)


def _bisect(lo: Fraction, hi: Fraction, ok: Callable[[Fraction], bool], rel: float,
            *, keep_high: bool) -> Fraction:
    """Bisect ``[lo, hi]`` where ``ok`` holds at ``hi`` (``keep_high``) or at ``lo``; returns the
    verified end once ``hi - lo <= rel * hi`` (or 200 steps)."""
    for _ in range(200):
        if hi - lo <= Fraction(rel) * max(hi, Fraction(1, 10**12)):
            break
        mid = _short((lo + hi) / 2)
        if not lo < mid < hi:
            break
        good = ok(mid)
        if keep_high:
            lo, hi = (lo, mid) if good else (mid, hi)
        else:
            lo, hi = (mid, hi) if good else (lo, mid)
    return hi if keep_high else lo


def _short(x: Fraction) -> Fraction:
    """A dyadic rational near ``x`` with a short mantissa (cheap exact balls)."""
    if x == 0:
        return x
    exponent = math.frexp(float(x))[1] - 40
    return Fraction(round(x / Fraction(2) ** exponent)) * Fraction(2) ** exponent

