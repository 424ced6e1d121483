"""Certified special functions on Arb balls: normal, chi-square and Student-t distributions.

Ball-level functions (``normal_cdf``, ``chi2_sf``, ...) take and return ``arb`` balls at the
ambient ``ctx.prec``: the output contains the function's value at every point of the input ball.
They are monotone in their first argument, so a wide input ball is evaluated at its two (exact)
endpoints and the results are joined; at an exact point the working precision is raised until
the result carries about ``ctx.prec`` correct bits (guard bits absorb the rounding of
intermediate quantities such as ``x / sqrt(2)`` and ``exp(-z)`` for large ``z``).

Tails are enclosed, never underflowed: Arb's exponents are unbounded, so Phi(-1e6) ~ 1e-2e11 is a
ball with a small *relative* radius. Where Arb's own routines lose accuracy (erfc at huge
arguments, the lower incomplete gamma function for large orders) this module sums series with
rigorous remainder bounds instead (see ``_mills_ratio_scaled`` and ``_log_gamma_p_series``).

Exact-input convenience evaluators (``normal_cdf_bound``, ...) escalate precision until a
:class:`~certify.numerics.precision.Target` width is met and return a
:class:`~certify.numerics.bound.Bound`. Certified quantiles live in
:mod:`certify.numerics.quantiles`.

Degrees of freedom ``k`` / ``nu`` may be an ``arb`` ball (certainly positive) or an exact number
(``int``, ``Fraction``, ``str``, ``Decimal``, or a ``float`` meaning its exact binary value).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from flint import arb, ctx

from certify._validate import check_positive, to_exact
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import exact_ball

#: what the ball-level functions accept for a degrees-of-freedom parameter
Real = arb | int | float | str | Decimal | Fraction
#: what the exact-input evaluators accept (see ``certify._validate.to_exact``)
ExactReal = int | float | str | Decimal | Fraction

_Param = arb | Fraction

#: extra working bits over the caller's precision at every point evaluation
_GUARD = 16
#: how many times a point evaluation may double its working precision to reach ``ctx.prec`` bits
_REFINE_STEPS = 3
#: guard bits are capped at _MAX_EXTRA_FACTOR * prec + _MAX_EXTRA (absurdly large arguments
#: then get a valid but wide ball instead of an unbounded working precision)
_MAX_EXTRA_FACTOR = 4
_MAX_EXTRA = 4096
#: the incomplete-gamma series gives way to Arb's Q(a, z) beyond this many terms
_MAX_SERIES_TERMS = 200_000

_UNIT = arb(0.5, 0.5)  # [0, 1]: the trivial enclosure of a probability (and of the unit factor)
_WHOLE_LINE = arb(0, "inf")


# -- internal machinery ---------------------------------------------------------------------


def _mag2(x: arb) -> int:
    """An upper bound on log2|x| for a finite ball (0 for 0): sizes the guard bits."""
    u = x.abs_upper()
    if u.is_zero() or not u.is_finite():
        return 0
    man, exp = u.man_exp()
    return max(0, int(man).bit_length() + int(exp))


def _refined(compute: Callable[[], arb], refine: bool, extra: int = 0) -> arb:
    """Evaluate ``compute()`` with guard bits, doubling the working precision (at most
    ``_REFINE_STEPS`` times) until the ball has ``ctx.prec - 3`` correct bits.

    Every attempt is a valid enclosure; refining only narrows it, so stopping early is safe.
    ``refine`` is False when an input is an inexact ball (its radius, not rounding, dominates).
    """
    prec = ctx.prec
    work = prec + _GUARD + min(max(0, extra), _MAX_EXTRA_FACTOR * prec + _MAX_EXTRA)
    value = arb("nan")
    for _ in range(_REFINE_STEPS if refine else 1):
        with ctx.workprec(work):
            value = compute()
        if value.is_finite() and value.rel_accuracy_bits() >= prec - 3:
            break
        work *= 2
    return value


def _monotone(point: Callable[[arb], arb], x: arb, trivial: arb) -> arb:
    """Enclose a monotone function over the ball ``x`` by its values at the two endpoints.

    ``point`` receives exact balls. A non-finite ``x`` gets ``trivial`` (e.g. [0, 1]).
    """
    if not isinstance(x, arb):
        raise TypeError(f"expected an arb ball, got {type(x).__name__}")
    if not x.is_finite():
        return trivial
    if x.is_exact():
        return point(x)
    return point(x.lower()).union(point(x.upper()))


def _param(name: str, value: Real) -> _Param:
    """A positive parameter: an arb ball that is certainly > 0, or an exact positive rational."""
    if isinstance(value, arb):
        if not (value.is_finite() and value > 0):
            raise InvalidArgument(f"{name}={value} must be positive.")
        return value
    return check_positive(name, value)


def _ball(v: _Param) -> arb:
    """The parameter as a ball at the current working precision."""
    return v if isinstance(v, arb) else exact_ball(v)


def _exact(v: _Param) -> bool:
    return not isinstance(v, arb) or v.is_exact()


# -- normal distribution --------------------------------------------------------------------


def _mills_ratio_scaled(t: arb) -> arb:
    """t R(t) for t > 0, where R(t) = Q(t) / phi(t) is Mills' ratio, Q(t) = 1 - Phi(t).

    R(t) = int_0^inf exp(-t u - u^2/2) du. The Taylor partial sums of exp(-v), v = u^2/2 >= 0,
    alternately bound it from above and below; integrating term by term against exp(-t u) gives
    R(t) between consecutive partial sums of sum_m (-1)^m (2m-1)!! / t^(2m+1) (the enveloping
    asymptotic series of DLMF 7.12.1, remainder property DLMF 7.12(i)). So t R(t) lies in
    S_{m-1} + u_m [0, 1] for every m; the loop stops once |u_m| is negligible or the terms
    stop decreasing (2m - 1 >= t^2), either way a valid enclosure.
    """
    inv_t2 = 1 / (t * t)
    tol = arb(2) ** -(ctx.prec + 8)
    total = arb(1)
    term = arb(1)
    m = 0
    while True:
        m += 1
        term = -term * (2 * m - 1) * inv_t2
        if abs(term) < tol or arb(2 * m - 1) >= t * t or m > 4 * ctx.prec + 64:
            return total + term * _UNIT
        total += term


#: Arb's erfc, given guard bits, keeps full accuracy up to t ~ 1e4 (and is faster there); it
#: loses bits beyond (40 of 64 at t = 1e5), where the enveloping series takes over
_MILLS_MIN_T2 = 2**24


def _use_mills(t: arb) -> bool:
    """Use the asymptotic series: t >= 4096, and t^2 >= 4(prec + 16), which guarantees that its
    terms fall below 2^-(prec+8) before they start to grow."""
    return bool(t * t >= max(4 * (ctx.prec + _GUARD), _MILLS_MIN_T2))


def _log_normal_tail_mills(t: arb) -> arb:
    """log Q(t) = -t^2/2 - log t - log(2 pi)/2 + log(t R(t)), t > 0 (A&S 26.2.12 with R above)."""
    return -(t * t) / 2 - t.log() - (2 * arb.pi()).log() / 2 + _mills_ratio_scaled(t).log()


def _normal_tail(t: arb) -> arb:
    """Q(t) = Phi(-t) for an exact t >= 0, to about ctx.prec relative bits.

    Q(t) = erfc(t / sqrt 2) / 2 (DLMF 7.2.2, A&S 26.2.29); for t >= 4096 the enveloping
    asymptotic series instead, exponentiated with 2 log2 t guard bits (an absolute
    error e in -t^2/2 is a relative error e in Q).
    """
    if _use_mills(t):
        return _refined(lambda: _log_normal_tail_mills(t).exp(), True, 2 * _mag2(t))
    return _refined(lambda: (t / arb(2).sqrt()).erfc() / 2, True, 2 * _mag2(t))


def _log_normal_tail(t: arb) -> arb:
    """log Q(t) for an exact t >= 0 (see ``_normal_tail``)."""
    if _use_mills(t):
        return _refined(lambda: _log_normal_tail_mills(t), True)
    return _refined(lambda: ((t / arb(2).sqrt()).erfc() / 2).log(), True, 2 * _mag2(t))


def _normal_cdf_point(x: arb) -> arb:
    if x <= 0:
        return _normal_tail(-x)
    return 1 - _normal_tail(x)  # 1 - Q(x) with Q(x) < 1/2: no cancellation


def _log_normal_cdf_point(x: arb) -> arb:
    if x <= 0:
        return _log_normal_tail(-x)
    return (-_normal_tail(x)).log1p()  # log1p(-Q(x)): accurate however small Q(x) is


def normal_cdf(x: arb) -> arb:
    """Phi(x) = erfc(-x / sqrt 2) / 2 (DLMF 7.2.2; A&S 26.2.29), accurate in both tails.

    For x <= 0 the tail is computed directly (the enveloping asymptotic series of DLMF 7.12.1
    once |x| >= 4096); for x > 0 as 1 - Phi(-x), where Phi(-x) < 1/2 so nothing cancels.
    """
    return _monotone(_normal_cdf_point, x, _UNIT)


def normal_sf(x: arb) -> arb:
    """1 - Phi(x) = Phi(-x) (symmetry of N(0, 1)), computed without cancellation."""
    return normal_cdf(-x)


def log_normal_cdf(x: arb) -> arb:
    """log Phi(x): log of the tail for x <= 0 (no exponentiation at all in the far tail, so
    x = -1e6 gives -5e11 - ... to full relative accuracy); log1p(-Phi(-x)) for x > 0."""
    return _monotone(_log_normal_cdf_point, x, _WHOLE_LINE)


def log_normal_sf(x: arb) -> arb:
    """log(1 - Phi(x)) = log Phi(-x)."""
    return log_normal_cdf(-x)


def normal_pdf(x: arb) -> arb:
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi) (A&S 26.2.1), with guard bits for large |x|."""
    return _refined(lambda: (-(x * x) / 2).exp() / (2 * arb.pi()).sqrt(),
                    x.is_exact(), 2 * _mag2(x))


# -- chi-square distribution (regularized incomplete gamma) ----------------------------------


def _log_gamma_p_series(a: arb, z: arb) -> arb | None:
    """log P(a, z) by the series gamma*(a, z) = e^{-z} sum_n z^n / Gamma(a + n + 1) (DLMF 8.7.1):

        P(a, z) = z^a e^{-z} / Gamma(a + 1) * sum_{n >= 0} z^n / ((a + 1)(a + 2)...(a + n)).

    All terms are positive (no cancellation). After the term t_n, the ratios of later terms are
    at most r = z / (a + n + 1); once r < 1 the remainder is at most t_n r / (1 - r), which is
    added as [0, bound]. Returns None when more than ``_MAX_SERIES_TERMS`` terms would be needed.
    """
    tol = arb(2) ** -(ctx.prec + 8)
    total = arb(1)
    term = arb(1)
    n = 0
    while n < _MAX_SERIES_TERMS:
        n += 1
        term = term * z / (a + n)
        total += term
        r = z / (a + n + 1)
        if r < 1:
            tail = term * r / (1 - r)
            if tail < tol * total:
                total += tail * _UNIT
                return a * z.log() - z - (a + 1).lgamma() + total.log()
    return None


def _gamma_q(a: arb, z: arb) -> arb:
    """Q(a, z) = Gamma(a, z) / Gamma(a) (DLMF 8.2.4), Arb's ``gamma_upper`` (reliable for all
    a > 0, z > 0 once exp(-z) is resolved, hence the log2 z guard bits chosen by the caller)."""
    return z.gamma_upper(a, regularized=1)


def _chi2_point(x: arb, k: _Param, upper: bool, log: bool) -> arb:
    """P(k/2, x/2) (or Q, or their logs) at an exact x: the series for the left side
    (z < a), Arb's Q for the right, and 1 - (the other) only where the other is below ~1/2."""
    if x <= 0:
        if upper:
            return arb(0) if log else arb(1)
        return arb("-inf") if log else arb(0)

    def z_a() -> tuple[arb, arb]:
        return x / 2, _ball(k) / 2

    with ctx.workprec(32):
        z0, a0 = z_a()
        left = bool(z0 < a0.mid())
        extra = _mag2(z0) + _mag2(a0) + _mag2(z0.log()) + 4
    refine = _exact(k)

    def log_p() -> arb:
        z, a = z_a()
        value = _log_gamma_p_series(a, z)
        return value if value is not None else (-_gamma_q(a, z)).log1p()

    def q() -> arb:
        z, a = z_a()
        return _gamma_q(a, z)

    def log_q_left() -> arb:
        # log Q = log1p(-P) while P <= 1/2 (Q near 1 keeps its relative accuracy); else log Q
        lp = log_p()
        if lp < -arb(2).log():
            return (-lp.exp()).log1p()
        z, a = z_a()
        return _gamma_q(a, z).log()

    if upper:
        if log and left:
            return _refined(log_q_left, refine, extra)
        if log:
            return _refined(lambda: q().log(), refine, extra)
        return _refined(q, refine, extra)
    if left:
        if log:
            return _refined(log_p, refine, extra)
        return _refined(lambda: log_p().exp(), refine, extra)
    if log:
        return _refined(lambda: (-q()).log1p(), refine, extra)
    return _refined(lambda: 1 - q(), refine, extra)


def chi2_cdf(x: arb, k: Real) -> arb:
    """P(X <= x) for X ~ chi^2_k: P(k/2, x/2) (A&S 26.4.19; DLMF 8.2.4), 0 for x <= 0.

    ``k`` > 0 may be any real. Left of the mode the series of DLMF 8.7.1 is summed (Arb's
    lower incomplete gamma fails for large orders); right of it 1 - Q(k/2, x/2) is used.
    """
    kk = _param("k", k)
    return _monotone(lambda xe: _chi2_point(xe, kk, upper=False, log=False), x, _UNIT)


def chi2_sf(x: arb, k: Real) -> arb:
    """P(X > x) = Q(k/2, x/2) (A&S 26.4.19; DLMF 8.2.4), computed directly (never 1 - P)."""
    kk = _param("k", k)
    return _monotone(lambda xe: _chi2_point(xe, kk, upper=True, log=False), x, _UNIT)


def log_chi2_cdf(x: arb, k: Real) -> arb:
    """log P(k/2, x/2): the log of the DLMF 8.7.1 series (no exponentiation) left of the mode,
    log1p(-Q) right of it; -inf (an exact infinite ball) for x <= 0."""
    kk = _param("k", k)
    return _monotone(lambda xe: _chi2_point(xe, kk, upper=False, log=True), x, _WHOLE_LINE)


def log_chi2_sf(x: arb, k: Real) -> arb:
    """log Q(k/2, x/2), for extreme right tails (x = 1e40 gives about -5e39 to full accuracy)."""
    kk = _param("k", k)
    return _monotone(lambda xe: _chi2_point(xe, kk, upper=True, log=True), x, _WHOLE_LINE)


# -- Student-t distribution (regularized incomplete beta) ------------------------------------


#: for |t| <= 1/2, P(|T| < |t|) <= 0.39 whatever nu, so 1/2 -+ (central form)/2 cannot cancel
_T_SWITCH = arb(1) / 2


def _t_central_point(s: arb, nu: _Param) -> arb:
    """P(|T| < s) = I_{s^2/(nu+s^2)}(1/2, nu/2) for an exact s >= 0 (A&S 26.7.1 with the
    reflection I_x(a, b) = 1 - I_{1-x}(b, a), DLMF 8.17.4); for s > 1/2, where that argument
    approaches 1, as 1 - 2 P(T > s) instead (P(T > s) < 0.31 there: no cancellation)."""
    if s.is_zero():
        return arb(0)
    if s > _T_SWITCH:
        return 1 - 2 * _t_tail_point(s, nu)

    def compute() -> arb:
        n = _ball(nu)
        s2 = s * s
        return (s2 / (n + s2)).beta_lower(arb(1) / 2, n / 2, regularized=1)

    return _refined(compute, _exact(nu))


def _t_tail_point(s: arb, nu: _Param) -> arb:
    """P(T > s) = I_{nu/(nu+s^2)}(nu/2, 1/2) / 2 for an exact s > 0 (A&S 26.7.1).

    x = nu/(nu+s^2) is rounded; a relative error e in x becomes about (nu/2) e in I_x(nu/2, 1/2)
    for small x (I_x ~ x^(nu/2)) and sqrt(nu) e near x = 1: log2(nu) guard bits cover both."""

    def compute() -> arb:
        n = _ball(nu)
        return (n / (n + s * s)).beta_lower(n / 2, arb(1) / 2, regularized=1) / 2

    with ctx.workprec(32):
        extra = _mag2(_ball(nu))
    return _refined(compute, _exact(nu), extra)


def _t_cdf_point(t: arb, nu: _Param) -> arb:
    s = abs(t)
    if s <= _T_SWITCH:
        c = _t_central_point(s, nu) / 2
        return 1 / arb(2) - c if t < 0 else 1 / arb(2) + c
    tail = _t_tail_point(s, nu)
    return tail if t < 0 else 1 - tail


def student_t_cdf(t: arb, nu: Real) -> arb:
    """P(T <= t), T ~ Student-t with nu > 0 (real) degrees of freedom (A&S 26.7.1):

        F(t) = I_{nu/(nu+t^2)}(nu/2, 1/2) / 2 for t < 0,  F(t) = 1 - F(-t) for t > 0.

    For |t| <= 1/2 the reflected form 1/2 -+ I_{t^2/(nu+t^2)}(1/2, nu/2) / 2 (DLMF 8.17.4) is
    used, which keeps relative accuracy when t^2 << nu.
    """
    n = _param("nu", nu)
    return _monotone(lambda te: _t_cdf_point(te, n), t, _UNIT)


def student_t_sf(t: arb, nu: Real) -> arb:
    """P(T > t) = F(-t) (symmetry), computed without cancellation."""
    return student_t_cdf(-t, nu)


def student_t_central(t: arb, nu: Real) -> arb:
    """P(|T| < |t|) = I_{t^2/(nu+t^2)}(1/2, nu/2) (A&S 26.7.1, DLMF 8.17.4): the two-sided
    central probability, accurate (relative) for small |t| where 2 F(|t|) - 1 would cancel.

    Monotone in |t|; a ball straddling 0 is enclosed over [0, max |t|]."""
    n = _param("nu", nu)
    if not isinstance(t, arb):
        raise TypeError(f"expected an arb ball, got {type(t).__name__}")
    if not t.is_finite():
        return _UNIT
    lo, hi = abs(t).lower(), abs(t).upper()
    if lo < 0:  # abs() of a ball straddling 0 may have a slightly negative lower bound
        lo = arb(0)
    if lo == hi:
        return _t_central_point(lo, n)
    return _t_central_point(lo, n).union(_t_central_point(hi, n))


# -- exact-input evaluators with precision escalation ----------------------------------------


def _exact_eval(compute: Callable[[], arb], target: Target | None, what: str) -> Bound:
    if target is not None and not isinstance(target, Target):
        raise InvalidArgument(f"target={target!r} must be a Target.")
    return escalate(lambda _prec: compute(), target, what=what)


def normal_cdf_bound(x: ExactReal, target: Target | None = None) -> Bound:
    """Phi(x) for an exact x (a float means its binary value), to the requested width."""
    xq = to_exact("x", x)
    return _exact_eval(lambda: normal_cdf(exact_ball(xq)), target, f"Phi({x})")


def normal_sf_bound(x: ExactReal, target: Target | None = None) -> Bound:
    """1 - Phi(x) for an exact x, to the requested (relative) width however far in the tail."""
    xq = to_exact("x", x)
    return _exact_eval(lambda: normal_sf(exact_ball(xq)), target, f"1 - Phi({x})")


def chi2_cdf_bound(x: ExactReal, k: ExactReal, target: Target | None = None) -> Bound:
    """P(chi^2_k <= x) for exact x and k > 0."""
    xq, kq = to_exact("x", x), check_positive("k", k)
    return _exact_eval(lambda: chi2_cdf(exact_ball(xq), kq), target, f"chi2_cdf({x}, k={k})")


def chi2_sf_bound(x: ExactReal, k: ExactReal, target: Target | None = None) -> Bound:
    """P(chi^2_k > x) for exact x and k > 0."""
    xq, kq = to_exact("x", x), check_positive("k", k)
    return _exact_eval(lambda: chi2_sf(exact_ball(xq), kq), target, f"chi2_sf({x}, k={k})")


def student_t_cdf_bound(t: ExactReal, nu: ExactReal, target: Target | None = None) -> Bound:
    """P(T_nu <= t) for exact t and nu > 0."""
    tq, nq = to_exact("t", t), check_positive("nu", nu)
    return _exact_eval(lambda: student_t_cdf(exact_ball(tq), nq), target,
                       f"student_t_cdf({t}, nu={nu})")


def student_t_sf_bound(t: ExactReal, nu: ExactReal, target: Target | None = None) -> Bound:
    """P(T_nu > t) for exact t and nu > 0."""
    tq, nq = to_exact("t", t), check_positive("nu", nu)
    return _exact_eval(lambda: student_t_sf(exact_ball(tq), nq), target,
                       f"student_t_sf({t}, nu={nu})")


__all__ = [
    "chi2_cdf",
    "chi2_cdf_bound",
    "chi2_sf",
    "chi2_sf_bound",
    "log_chi2_cdf",
    "log_chi2_sf",
    "log_normal_cdf",
    "log_normal_sf",
    "normal_cdf",
    "normal_cdf_bound",
    "normal_pdf",
    "normal_sf",
    "normal_sf_bound",
    "student_t_cdf",
    "student_t_cdf_bound",
    "student_t_central",
    "student_t_sf",
    "student_t_sf_bound",
]
