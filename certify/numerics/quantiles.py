"""Certified quantile brackets of the normal, chi-square and Student-t distributions.

Each quantile is the unique sign change of an increasing certified function
``g(x) = (distribution function at x) compared with p`` on x > 0, found by
:func:`certify.numerics.roots.certified_root`. Comparisons are made in the form that keeps
relative accuracy: ``log p`` against the log of the tail for small tail probabilities, the
central probability against ``1 - 2p`` near the median, and the complementary function
(never ``1 - F``) above the median. Symmetric distributions solve for the distance from 0
and restore the sign, so a p within 1e-30 of 1 costs nothing extra.

The initial bracket is certified, never assumed: the (non-rigorous) float quantile of
``scipy.special`` (the routines behind ``scipy.stats``) is the starting point when it is finite
and positive; a bracket of relative width 2**-29 around it is tried first, else the bracket
is grown by squaring factors of 2 until the sign of g is certified to change (this reaches
quantiles of size 2**(+-16384) in about 15 evaluations), and narrowed by bisecting the exponent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from flint import arb, ctx

from certify._validate import ExactInput, check_positive, check_probability
from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import DEFAULT_MAX_PREC, DEFAULT_START_PREC, Target, precisions
from certify.numerics.roots import certified_root, exact_ball
from certify.numerics.special import (
    log_chi2_cdf,
    log_chi2_sf,
    log_normal_sf,
    student_t_central,
    student_t_sf,
)

Function = Callable[[arb], arb]

#: relative half-width of the first bracket tried around a float guess
_GUESS_SLACK = Fraction(1, 2**30)
#: the exponent search gives up beyond quantiles of size 2**(+-2**_MAX_DOUBLINGS)
_MAX_DOUBLINGS = 40
#: precision cap for signs probed while searching (a point undecided here is within
#: about 2**-400 of the root, and is then bracketed directly)
_SEARCH_PREC = 512


# -- public entry points ---------------------------------------------------------------------


def normal_quantile(p: ExactInput, target: Target | None = None) -> Bound:
    """Phi^{-1}(p) for an exact p in (0, 1), enclosed to ``target`` (default rel 1e-10).

    With q = min(p, 1 - p) and t = |Phi^{-1}(p)|, t solves Q(t) = q (Q = 1 - Phi):
    near the median as erf(t / sqrt 2) = 1 - 2q (Q = erfc(t / sqrt 2) / 2, DLMF 7.2.2),
    otherwise as log Q(t) = log q.
    """
    pq = check_probability("p", p, open_low=True, open_high=True)
    goal = _check_target(target)
    if pq == Fraction(1, 2):
        return Bound.exact(0)
    q = min(pq, 1 - pq)
    g: Function
    if q >= Fraction(1, 4):
        gap = 1 - 2 * q

        def g(t: arb) -> arb:
            return (t / arb(2).sqrt()).erf() - exact_ball(gap)
    else:

        def g(t: arb) -> arb:
            return exact_ball(q).log() - log_normal_sf(t)

    guess = _scipy_guess(lambda: -_scipy().ndtri(float(q)))
    t_bound = _solve_positive(g, guess, goal, f"normal_quantile(p={_label(p)})")
    return t_bound if pq > Fraction(1, 2) else _negate(t_bound)


def chi2_quantile(p: ExactInput, k: ExactInput, target: Target | None = None) -> Bound:
    """The p-quantile of chi^2_k (k > 0 real): x with P(k/2, x/2) = p (A&S 26.4.19).

    Solved as log P(k/2, x/2) = log p for p <= 1/2 and log Q(k/2, x/2) = log(1 - p) above,
    so both tails keep relative accuracy.
    """
    pq = check_probability("p", p, open_low=True, open_high=True)
    kq = check_positive("k", k)
    goal = _check_target(target)
    g: Function
    if pq <= Fraction(1, 2):

        def g(x: arb) -> arb:
            return log_chi2_cdf(x, kq) - exact_ball(pq).log()

        guess = _scipy_guess(lambda: 2 * _scipy().gammaincinv(float(kq) / 2, float(pq)))
    else:
        rest = 1 - pq

        def g(x: arb) -> arb:
            return exact_ball(rest).log() - log_chi2_sf(x, kq)

        guess = _scipy_guess(lambda: 2 * _scipy().gammainccinv(float(kq) / 2, float(rest)))
    return _solve_positive(g, guess, goal, f"chi2_quantile(p={_label(p)}, k={_label(k)})")


def student_t_quantile(p: ExactInput, nu: ExactInput, target: Target | None = None) -> Bound:
    """The p-quantile of Student's t with nu > 0 (real) degrees of freedom (A&S 26.7.1).

    With q = min(p, 1 - p) and s = |quantile|: near the median P(|T| < s) = 1 - 2q
    (central form, DLMF 8.17.4), otherwise log P(T > s) = log q.
    """
    pq = check_probability("p", p, open_low=True, open_high=True)
    nq = check_positive("nu", nu)
    goal = _check_target(target)
    if pq == Fraction(1, 2):
        return Bound.exact(0)
    q = min(pq, 1 - pq)
    g: Function
    if q >= Fraction(1, 4):
        gap = 1 - 2 * q

        def g(s: arb) -> arb:
            return student_t_central(s, nq) - exact_ball(gap)
    else:

        def g(s: arb) -> arb:
            return exact_ball(q).log() - student_t_sf(s, nq).log()

    guess = _scipy_guess(lambda: -_scipy().stdtrit(float(nq), float(q)))
    s_bound = _solve_positive(g, guess, goal, f"student_t_quantile(p={_label(p)}, nu={_label(nu)})")
    return s_bound if pq > Fraction(1, 2) else _negate(s_bound)


# -- the certified search --------------------------------------------------------------------


def _solve_positive(g: Function, guess: Fraction | None, target: Target, what: str) -> Bound:
    """Enclose the unique root on (0, inf) of an increasing certified ``g``."""
    lo, hi = _bracket(g, guess, target.max_prec, what)
    inside = guess if guess is not None and lo < guess < hi else None
    return certified_root(g, lo, hi, target=target, guess=inside, what=what)


def _sign(g: Function, x: Fraction, max_prec: int = DEFAULT_MAX_PREC) -> int | None:
    """The certified sign of g(x), raising the precision up to ``max_prec``; None if undecided."""
    for prec in precisions(DEFAULT_START_PREC, max_prec):
        with ctx.workprec(prec):
            value = g(exact_ball(x))
        if value > 0:
            return 1
        if value < 0:
            return -1
    return None


def _bracket(g: Function, guess: Fraction | None, max_prec: int,
             what: str) -> tuple[Fraction, Fraction]:
    """0 < lo < hi with g(lo) < 0 < g(hi), both certified."""
    search = min(_SEARCH_PREC, max_prec)
    if guess is not None:
        lo, hi = guess * (1 - _GUESS_SLACK), guess * (1 + _GUESS_SLACK)
        if _sign(g, lo, search) == -1 and _sign(g, hi, search) == 1:
            return lo, hi
    x0 = guess if guess is not None else Fraction(1)
    s0 = _sign(g, x0, search)
    if s0 is None:
        return _around(g, x0, max_prec, what)
    # grow: exponents 0, -+1, -+2, -+4, ... in the direction of the root
    step = -s0
    near, far = 0, 0
    for j in range(_MAX_DOUBLINGS + 1):
        far = step * 2**j
        s = _sign(g, x0 * Fraction(2) ** far, search)
        if s is None:
            return _around(g, x0 * Fraction(2) ** far, max_prec, what)
        if s != s0:
            break
        near = far
    else:
        raise Inconclusive(f"{what}: no certified sign change within 2**(+-2**{_MAX_DOUBLINGS})"
                           f" of {float(x0):.6g}")
    # bisect the exponent: g has sign s0 at x0 * 2**near and -s0 at x0 * 2**far
    while abs(far - near) > 1:
        mid = (near + far) // 2
        s = _sign(g, x0 * Fraction(2) ** mid, search)
        if s is None:
            return _around(g, x0 * Fraction(2) ** mid, max_prec, what)
        if s == s0:
            near = mid
        else:
            far = mid
    a, b = x0 * Fraction(2) ** near, x0 * Fraction(2) ** far
    return (a, b) if a < b else (b, a)


def _around(g: Function, x: Fraction, max_prec: int, what: str) -> tuple[Fraction, Fraction]:
    """A certified bracket around a point where the sign of g stayed undecided (x is then
    extremely close to the root, possibly equal to it). The bracket is asymmetric so that
    its midpoint is not x."""
    for e in (60, 40, 20):
        lo, hi = x * (1 - Fraction(1, 2**e)), x * (1 + Fraction(3, 2 ** (e + 1)))
        if _sign(g, lo, max_prec) == -1 and _sign(g, hi, max_prec) == 1:
            return lo, hi
    raise Inconclusive(f"{what}: the sign stayed undecided near {float(x):.17g}")


# -- helpers -------------------------------------------------------------------------------------


def _check_target(target: Target | None) -> Target:
    if target is None:
        return Target()
    if not isinstance(target, Target):
        raise InvalidArgument(f"target={target!r} must be a Target.")
    return target


def _label(value: object) -> str:
    """A short text for messages (a Fraction of 1e-10000 has no affordable ``str``)."""
    try:
        text = str(value)
    except ValueError:
        text = "<huge>"
    return text if len(text) <= 40 else text[:18] + "..." + text[-18:]


def _negate(b: Bound) -> Bound:
    """-b, exactly (``copy_negate``: Decimal's unary minus would round to 28 digits)."""
    return Bound(b.upper.copy_negate(), b.lower.copy_negate(), b.prec)


def _scipy() -> Any:
    """scipy.special: the float quantiles behind scipy.stats (norm.isf = -ndtri, chi2.ppf =
    2 gammaincinv(k/2, .), t.isf = -stdtrit), at a fifth of scipy.stats' import time."""
    import scipy.special  # deferred: only quantile searches need it

    return scipy.special


def _scipy_guess(compute: Callable[[], float]) -> Fraction | None:
    """A float starting point from scipy (only ever a hint), or None if unusable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(compute())
    except (ArithmeticError, ValueError, OverflowError):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return Fraction(value)


__all__ = ["chi2_quantile", "normal_quantile", "student_t_quantile"]
