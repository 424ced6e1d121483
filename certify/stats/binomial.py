"""Exact Clopper-Pearson confidence bounds for a binomial proportion, certified.

Clopper and Pearson (1934), "The use of confidence or fiducial limits illustrated in the case of
the binomial", Biometrika 26(4). For ``k`` successes in ``n`` independent trials with success
probability ``p``, and an error level ``alpha`` in (0, 1):

* the one-sided lower limit ``p_L`` solves ``P(Bin(n, p) >= k) = alpha``, and
* the one-sided upper limit ``p_U`` solves ``P(Bin(n, p) <= k) = alpha``.

The binomial tails are regularized incomplete beta functions (DLMF 8.17.5 / A&S 26.5.24):

    P(Bin(n, p) >= k) = I_p(k, n - k + 1),        P(Bin(n, p) <= k) = I_{1-p}(n - k, k + 1),

both continuous and strictly monotone in ``p`` on [0, 1], so each limit is the unique root of
``I - alpha`` there (the lower limit is the ``alpha`` quantile of Beta(k, n - k + 1), the upper
one the ``1 - alpha`` quantile of Beta(k + 1, n - k)). Edge cases in closed form:
``p_L = 0`` for ``k = 0`` and ``p_L = alpha^(1/n)`` for ``k = n`` (``p^n = alpha``);
``p_U = 1`` for ``k = n`` and ``p_U = 1 - alpha^(1/n)`` for ``k = 0`` (``(1 - p)^n = alpha``).

Guarantees: ``P_p(p_L <= p) >= 1 - alpha`` and ``P_p(p <= p_U) >= 1 - alpha`` for every ``p``
(exact, not asymptotic). The two-sided interval at confidence ``gamma`` uses
``alpha = (1 - gamma) / 2`` on each side, so it covers ``p`` with probability ``>= gamma``.

Certification: each root is enclosed by :func:`certify.numerics.roots.certified_root` (signs of
``I - alpha`` certified with Arb's regularized incomplete beta, ``arb.beta_lower``) and returned
as a :class:`~certify.numerics.bound.Bound` *enclosing the exact Clopper-Pearson endpoint*.
A float guess from ``scipy.stats.beta.ppf`` only chooses where the bracketing looks first.

Which end to use: the conservative (still valid) confidence limit is the Bound's **lower end for
a lower confidence limit** (``clopper_pearson_lower(...).lower``) and its **upper end for an
upper confidence limit** (``clopper_pearson_upper(...).upper``): moving a lower limit down or an
upper limit up can only increase coverage.
"""

from __future__ import annotations

import math
from fractions import Fraction

from flint import arb

from certify._validate import check_positive_int, check_probability
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root, exact_ball

#: default width of a reported limit (relative): far below any statistical resolution
DEFAULT_TARGET = Target(rel=1e-12, absolute=None)

__all__ = [
    "DEFAULT_TARGET",
    "binomial_tail_ge",
    "binomial_tail_le",
    "clopper_pearson",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
]


# -- validation -------------------------------------------------------------------------------


def _check_counts(successes: object, trials: object) -> tuple[int, int]:
    n = check_positive_int("trials", trials)
    if isinstance(successes, bool) or not isinstance(successes, int):
        raise InvalidArgument(f"successes={successes!r} must be a non-negative integer.")
    if successes < 0:
        raise InvalidArgument(f"successes={successes} must be a non-negative integer.")
    if successes > n:
        raise InvalidArgument(f"successes={successes} must not exceed trials={n}.")
    return successes, n


def _check_target(target: Target | None) -> Target:
    if target is None:
        return DEFAULT_TARGET
    if not isinstance(target, Target):
        raise InvalidArgument(f"target={target!r} must be a Target.")
    return target


# -- binomial tails as balls ------------------------------------------------------------------


def binomial_tail_ge(p: arb, k: int, n: int) -> arb:
    """P(Bin(n, p) >= k) = I_p(k, n - k + 1) for 1 <= k <= n (DLMF 8.17.5), at the ambient
    precision; the ball contains the tail at every point of ``p``."""
    return p.beta_lower(arb(k), arb(n - k + 1), regularized=1)


def binomial_tail_le(p: arb, k: int, n: int) -> arb:
    """P(Bin(n, p) <= k) = I_{1-p}(n - k, k + 1) for 0 <= k <= n - 1 (DLMF 8.17.5 with the
    reflection I_x(a, b) = 1 - I_{1-x}(b, a), DLMF 8.17.4), at the ambient precision."""
    return (1 - p).beta_lower(arb(n - k), arb(k + 1), regularized=1)


# -- one-sided limits -------------------------------------------------------------------------


def _root_power(alpha: Fraction, n: int, target: Target, upper: bool) -> Bound:
    """alpha^(1/n) (or 1 - alpha^(1/n), via expm1 without cancellation), enclosed."""

    def compute(_prec: int) -> arb:
        log_root = exact_ball(alpha).log() / n
        return -log_root.expm1() if upper else log_root.exp()

    what = f"{'1 - ' if upper else ''}alpha^(1/n) at alpha={float(alpha):.6g}, n={n}"
    return escalate(compute, target, what=what, within=(0, 1))


def _float_guess(q: float, a: float, b: float) -> Fraction | None:
    """A non-rigorous starting point (the Beta(a, b) q-quantile from scipy), or None."""
    try:
        from scipy.stats import beta as beta_dist

        g = float(beta_dist.ppf(q, a, b))
    except Exception:  # pragma: no cover - the guess is optional
        return None
    if not (math.isfinite(g) and 0.0 < g < 1.0):
        return None
    return Fraction(g)


def clopper_pearson_lower(
    successes: int, trials: int, alpha: object, target: Target | None = None
) -> Bound:
    """The one-sided (1 - alpha) Clopper-Pearson lower confidence limit, enclosed.

    ``alpha`` in (0, 1) is the error level (``"0.05"`` for a 95% bound; a float means its exact
    binary value). The returned Bound contains the exact limit; the valid, conservative
    number to report is its ``.lower`` end.
    """
    k, n = _check_counts(successes, trials)
    a = check_probability("alpha", alpha, open_low=True, open_high=True)
    goal = _check_target(target)
    if k == 0:
        return Bound.exact(0)
    if k == n:
        return _root_power(a, n, goal, upper=False)

    def f(p: arb) -> arb:  # increasing in p, -alpha at 0 and 1 - alpha at 1
        return binomial_tail_ge(p, k, n) - exact_ball(a)

    return certified_root(
        f, 0, 1, target=goal, guess=_float_guess(float(a), k, n - k + 1),
        what=f"Clopper-Pearson lower limit (k={k}, n={n}, alpha={float(a):.6g})",
    )


def clopper_pearson_upper(
    successes: int, trials: int, alpha: object, target: Target | None = None
) -> Bound:
    """The one-sided (1 - alpha) Clopper-Pearson upper confidence limit, enclosed.

    The returned Bound contains the exact limit; the valid, conservative number to report is
    its ``.upper`` end.
    """
    k, n = _check_counts(successes, trials)
    a = check_probability("alpha", alpha, open_low=True, open_high=True)
    goal = _check_target(target)
    if k == n:
        return Bound.exact(1)
    if k == 0:
        return _root_power(a, n, goal, upper=True)

    def f(p: arb) -> arb:  # decreasing in p, 1 - alpha at 0 and -alpha at 1
        return binomial_tail_le(p, k, n) - exact_ball(a)

    return certified_root(
        f, 0, 1, target=goal, guess=_float_guess(1.0 - float(a), k + 1, n - k),
        what=f"Clopper-Pearson upper limit (k={k}, n={n}, alpha={float(a):.6g})",
    )


def clopper_pearson(
    successes: int, trials: int, confidence: object, target: Target | None = None
) -> tuple[Bound, Bound]:
    """The two-sided Clopper-Pearson interval at ``confidence`` in (0, 1) (e.g. ``"0.95"``):
    ``(lower limit, upper limit)``, each the one-sided limit at ``alpha = (1 - confidence)/2``.

    Report ``result[0].lower`` and ``result[1].upper`` (the conservative ends).
    """
    _check_counts(successes, trials)
    gamma = check_probability("confidence", confidence, open_low=True, open_high=True)
    half = (1 - gamma) / 2
    return (
        clopper_pearson_lower(successes, trials, half, target),
        clopper_pearson_upper(successes, trials, half, target),
    )
