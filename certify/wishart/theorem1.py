"""Seed 000's Theorem 1 (claim WPM-2) as printed, its corrected form (WPM-2.c), and both
against the exact privacy profile.

As printed (CLAIMS.md, WPM-2): fix ``delta' > 0``, ``t = t_r(1 - delta')`` (Student-t quantile),
``K = sqrt((1 - rho^2)/r) t``; if ``rho > t / sqrt(r + t^2)`` (equivalently ``rho > K``),
``V -> MV`` is ``(eps, delta)``-DP with

    delta = F_floor + 3 delta',    F_floor = E_{x~chi2_r}[Phi(-rho sqrt(x)/sqrt(1-rho^2))],
    eps   = ((d+r-1)/2) log(rho + K) + (1 - rho + K) kappa_{d+r-1}(1 - delta') / (2 (rho - K)).

The bound fails at a point when the exact ``delta(eps)`` at the printed ``eps`` exceeds the
printed ``delta`` (certified: the lower end of ``delta`` at the upper end of the ``eps`` ball
against the upper end of the printed ``delta``).

Corrected (``proofs/wishart_law.py``, ``proof_theorem1``): on ``{|T| <= t, W <= kappa}`` the loss
``L = c log u + W (1-u)/(2u)`` is at most

    eps_c = ((d+1-r)/2) log(rho + K) + (1 - rho + K) kappa_{d+r-1}(1 - delta') / (2 (rho - K)),

so ``MV`` is ``(max(eps_c, 0), 3 delta')``-DP (a fortiori with the printed ``delta``). The printed
coefficient ``(d+r-1)/2`` exceeds ``c = (d+1-r)/2`` by ``r - 1``: the printed ``eps`` is smaller
than ``eps_c`` exactly when ``r >= 2`` and ``rho + K < 1``, and only there can it fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, ctx

from certify._validate import check_probability
from certify.errors import Inconclusive, InvalidArgument
from certify.mechanisms.wishart import check_d_r, check_rho
from certify.numerics.bound import Bound, to_fraction
from certify.numerics.precision import Target
from certify.numerics.quantiles import chi2_quantile, student_t_quantile
from certify.numerics.roots import exact_ball
from certify.wishart.law import VectorLaw, _float_trapezoid
from certify.wishart.profile import wishart_delta, wishart_floor

__all__ = [
    "PointCheck",
    "Theorem1Bound",
    "check_point",
    "float_screen",
    "theorem1_bound",
]

_QUANTILE_TARGET = Target(rel=1e-15)
#: trapezoidal nodes of the screen's float profile (about 1e-6 relative on smooth cases; the
#: screen only chooses points to certify)
_SCREEN_NODES = 2001
_PREC = 192


@dataclass(frozen=True)
class Theorem1Bound:
    """Theorem 1's quantities at one point, certified: ``t``, ``kappa``, whether ``rho > K``
    (the hypothesis), the printed and corrected ``eps`` and the printed ``delta``."""

    d: int
    r: int
    rho: Fraction
    delta_prime: Fraction
    t: Bound
    kappa: Bound
    admissible: bool
    eps_printed: Bound | None
    eps_corrected: Bound | None
    delta_printed: Bound
    floor: Bound


@dataclass(frozen=True)
class PointCheck:
    """The exact profile at the printed (and corrected) ``eps``: ``status`` is ``fails`` (the
    exact delta certainly exceeds the printed delta), ``holds`` (certainly not) or
    ``undecided``; ``corrected_holds`` the same comparison at ``eps_c`` (True/False/None)."""

    bound: Theorem1Bound
    delta_at_printed: Bound | None
    delta_at_corrected: Bound | None
    status: str
    corrected_holds: bool | None


def theorem1_bound(d: object, r: object, rho: object, delta_prime: object) -> Theorem1Bound:
    """Certified printed/corrected quantities of Theorem 1 (``0 < delta' < 1/2``)."""
    d_, r_ = check_d_r(d, r)
    rho_ = check_rho(rho)
    dp = check_probability("delta_prime", delta_prime, open_low=True, open_high=True)
    if not dp < Fraction(1, 2):
        raise InvalidArgument(f"delta_prime={delta_prime} must be below 1/2 (t > 0).")
    t = student_t_quantile(1 - dp, r_, _QUANTILE_TARGET)
    kappa = chi2_quantile(1 - dp, d_ + r_ - 1, _QUANTILE_TARGET)
    floor = wishart_floor(r_, rho_, Target(rel=1e-12))
    with ctx.workprec(_PREC):
        rho_b = exact_ball(rho_)
        k_ball = ((1 - rho_b * rho_b) / r_).sqrt() * t.to_arb()
        gap = rho_b - k_ball
        admissible = bool(gap > 0)
        delta_printed = Bound.from_arb(floor.to_arb() + 3 * exact_ball(dp), _PREC)
        eps_p = eps_c = None
        if admissible:
            second = (1 - rho_b + k_ball) * kappa.to_arb() / (2 * gap)
            log_term = (rho_b + k_ball).log()
            eps_p = Bound.from_arb(arb(d_ + r_ - 1) / 2 * log_term + second, _PREC)
            eps_c = Bound.from_arb(arb(d_ + 1 - r_) / 2 * log_term + second, _PREC)
        elif not gap <= 0:
            raise Inconclusive(
                f"theorem 1 at d={d_}, r={r_}, rho={rho}, delta'={delta_prime}: the hypothesis "
                "rho > t/sqrt(r + t^2) is undecided at the quantile's width"
            )
    return Theorem1Bound(d_, r_, rho_, dp, t, kappa, admissible, eps_p, eps_c,
                         delta_printed, floor)


def check_point(
    d: object, r: object, rho: object, delta_prime: object, *, corrected: bool = True,
    target: Target | None = None,
) -> PointCheck:
    """Compare the exact ``delta`` at the printed (and, if asked, corrected) ``eps`` with the
    printed ``delta``. Raises InvalidArgument when the hypothesis ``rho > K`` is false."""
    bound = theorem1_bound(d, r, rho, delta_prime)
    if not bound.admissible or bound.eps_printed is None or bound.eps_corrected is None:
        raise InvalidArgument(
            f"rho={rho} is not above t/sqrt(r + t^2) at r={r}, delta'={delta_prime}: "
            "Theorem 1 says nothing there."
        )
    goal = target or Target(rel=1e-6)
    # delta is decreasing: delta(eps) >= delta(eps_hi) and <= delta(eps_lo) on the eps ball
    at_hi = _delta_at(bound, bound.eps_printed.upper, goal)
    status = "undecided"
    if at_hi.gt(bound.delta_printed) is True:
        status = "fails"
    else:
        at_lo = _delta_at(bound, bound.eps_printed.lower, goal)
        if at_lo.le(bound.delta_printed) is True:
            status = "holds"
        at_hi = Bound.hull(at_lo, at_hi)
    at_c: Bound | None = None
    holds_c: bool | None = None
    if corrected:
        at_c = _delta_at(bound, bound.eps_corrected.lower, goal)
        three = Bound.exact(3 * bound.delta_prime)
        holds_c = at_c.le(three)
    return PointCheck(bound, at_hi, at_c, status, holds_c)


def _delta_at(bound: Theorem1Bound, eps: object, goal: Target) -> Bound:
    e = to_fraction(eps)
    if e < 0:  # delta decreasing and eps >= 0 in the DP convention: delta(eps<0) >= delta(0)
        e = Fraction(0)
    return wishart_delta(bound.d, bound.r, bound.rho, e, goal)


# ------------------------------------------------------------------------------------------------
# float screening (never certified: it only chooses which points to certify)


@dataclass(frozen=True)
class Screened:
    d: int
    r: int
    rho: float
    delta_prime: float
    eps_printed: float
    eps_corrected: float
    delta_printed: float
    delta_exact: float
    delta_exact_corrected: float

    @property
    def ratio(self) -> float:
        """exact delta / printed delta at the printed eps (> 1: the bound fails)."""
        return self.delta_exact / self.delta_printed


def float_quantities(
    d: int, r: int, rho: float, dp: float
) -> tuple[float, float, float] | None:
    """``(eps_printed, eps_corrected, delta_printed)`` in floats, None when ``rho <= K``."""
    from scipy import stats

    t = float(stats.t.isf(dp, r))
    k = math.sqrt((1 - rho * rho) / r) * t
    if not rho > k:
        return None
    kappa = float(stats.chi2.isf(dp, d + r - 1))
    second = (1 - rho + k) * kappa / (2 * (rho - k))
    floor = float(stats.t.cdf(-rho * math.sqrt(r / (1 - rho * rho)), r))
    return ((d + r - 1) / 2 * math.log(rho + k) + second,
            (d + 1 - r) / 2 * math.log(rho + k) + second, floor + 3 * dp)


def float_screen(
    ds: tuple[int, ...], ranks: int | None, delta_primes: tuple[float, ...],
    rho_steps: tuple[float, ...],
) -> tuple[list[Screened], int]:
    """Screen Theorem 1 on a grid: every ``d`` in ``ds``; ranks ``1..d`` when ``d <= ranks``
    (or ``ranks`` is None), else ``{1, 2, d/4, d/2, 3d/4, d-1, d}``; ``rho = 1 - (1 - rho_min)
    q`` for ``q`` in ``rho_steps`` (``rho_min = t/sqrt(r + t^2)``, the hypothesis' edge).
    Points where the printed eps is at least the corrected one are valid by
    ``proof_theorem1`` and are not evaluated. Returns the evaluated points and how many
    grid points there were."""
    from scipy import stats

    out: list[Screened] = []
    total = 0
    for d in ds:
        if ranks is None or d <= ranks:
            rs = list(range(1, d + 1))
        else:
            rs = sorted({1, 2, d // 4, d // 2, (3 * d) // 4, d - 1, d} - {0})
        for r in rs:
            for dp in delta_primes:
                t = float(stats.t.isf(dp, r))
                rho_min = t / math.sqrt(r + t * t)
                for q in rho_steps:
                    rho = 1 - (1 - rho_min) * q
                    total += 1
                    if not rho < 1 - 1e-12:
                        continue
                    vals = float_quantities(d, r, rho, dp)
                    if vals is None:
                        continue
                    eps_p, eps_c, delta_p = vals
                    if eps_p >= eps_c:
                        continue
                    try:
                        exact = _float_trapezoid(d, r, rho, max(eps_p, 0.0), _SCREEN_NODES)[0]
                        exact_c = _float_trapezoid(d, r, rho, max(eps_c, 0.0), _SCREEN_NODES)[0]
                    except (ArithmeticError, ValueError):
                        continue
                    out.append(Screened(d, r, rho, dp, eps_p, eps_c, delta_p, exact, exact_c))
    return out, total


def law_of(d: int, r: int, rho: Fraction) -> VectorLaw:
    """The exact law at a point (validated)."""
    d_, r_ = check_d_r(d, r)
    return VectorLaw(d_, r_, check_rho(rho))
