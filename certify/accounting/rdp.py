"""Certified Renyi DP of the Poisson-subsampled Gaussian (claim ACC-3) and the RDP -> (eps, delta)
conversions that accountants use (claim ACC-4).

Notation as in :mod:`certify.mechanisms.subsampled`: ``s = sigma / C``,
``Q = N(0, s^2)``, ``P = (1-q) Q + q N(1, s^2)``, and the likelihood ratio
``g(x) = P(x)/Q(x) = 1 - q + q e^{u(x)}``, ``u(x) = (2x - 1)/(2 s^2)``. Both directions of
add/remove are moments of ``g`` under ``Q``:

    D_alpha(P || Q) = log M(alpha) / (alpha - 1),
    D_alpha(Q || P) = log M(1 - alpha) / (alpha - 1),      M(beta) = E_Q[g^beta]

(for the second, ``int Q^alpha P^{1-alpha} = E_Q[(P/Q)^{1-alpha}]``). The RDP value at order alpha
is the larger of the two (Mironov 2017, "Renyi differential privacy", Def. 4, over both neighbour
orders).

*Integer orders, remove direction* (Mironov, Talwar, Zhang 2019, "Renyi differential privacy of the
sampled Gaussian mechanism", Sec. 3.3): expanding ``g^alpha`` binomially and using
``E_Q[e^{k u}] = e^{(k^2 - k)/(2 s^2)}``,
``A_alpha = sum_k C(alpha, k) (1-q)^(alpha-k) q^k e^{(k^2-k)/(2 s^2)}``. Since the weights sum to 1
and the k = 0, 1 terms have exponent 0, ``A_alpha - 1 = sum_{k>=2} C(alpha,k) (1-q)^(alpha-k) q^k
expm1((k^2-k)/(2 s^2))``, a sum of positive terms (no cancellation, even for tiny q), and
``eps(alpha) = log1p(A_alpha - 1) / (alpha - 1)``.

*Composition*: a mechanism with ``steps = T`` is T independent runs of the one-step pair, and
Renyi divergences of product measures add (van Erven and Harremoes 2014, "Renyi divergence and
Kullback-Leibler divergence", Thm 28), so every value below is T times the one-step value (the
same neighbouring pair, hence the same direction, in every step).

*Fractional orders and the add direction*: certified integration
(:func:`certify.numerics.integrate.integrate`) of the non-negative integrand
``Q(x) phi_beta(g(x))`` with ``phi_beta(t) = t^beta - 1 - beta (t - 1)``; since ``E_Q[g] = 1``,
``M(beta) - 1 = E_Q[phi_beta(g)]`` exactly, and ``phi_beta >= 0`` for beta > 1 and beta < 0
(t^beta is convex there and phi_beta is its gap above the tangent at t = 1), so the integral of a
positive function is computed without the cancellation of ``M - 1``. Tail bounds: see
:func:`_tail_bound` (our derivation, from Jensen's inequality and Gaussian completing the square).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from fractions import Fraction

from flint import acb, arb, ctx

from certify._validate import check_choice, check_probability, to_exact
from certify.errors import Inconclusive, InvalidArgument
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import exact_ball as ball
from certify.numerics.special import normal_cdf

#: default width of an RDP value
RDP_TARGET = Target(rel=1e-10)
DIRECTIONS = ("remove", "add")
METHODS = ("auto", "integral")
#: the bits reserved for Arb's integration (cancellation in phi_beta near t = 1 costs bits)
_INTEGRAL_MAX_PREC = 4096
#: precision of the final log1p(M - 1)/(alpha - 1) from the integral's Bound
_RESULT_PREC = 256




def check_order(name: str, value: object) -> Fraction:
    """A Renyi order: an exact number > 1."""
    a = to_exact(name, value)
    if a <= 1:
        raise InvalidArgument(f"{name}={value} must be greater than 1.")
    return a


def _check_orders(orders: object) -> list[Fraction]:
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise InvalidArgument(f"orders={orders!r} must be a non-empty sequence of numbers > 1.")
    out = [check_order(f"orders[{i}]", a) for i, a in enumerate(orders)]
    if not out:
        raise InvalidArgument("orders=[] must be a non-empty sequence of numbers > 1.")
    return out


def _check_mechanism(mech: object) -> SubsampledGaussian:
    if not isinstance(mech, SubsampledGaussian):
        raise InvalidArgument(f"mech={mech!r} must be a SubsampledGaussian.")
    if mech.neighbours == "replace-one":
        raise InvalidArgument(
            f"mech.neighbours={mech.neighbours} is not supported: Renyi DP is certified for the "
            "add-remove pairs only."
        )
    return mech


# -- integer orders: the MTZ binomial sum -------------------------------------------------------
def _binomial_excess(n: int, s: arb, q: arb) -> arb:
    """A_n - 1 = sum_{k=2}^{n} C(n,k) (1-q)^(n-k) q^k expm1((k^2-k)/(2 s^2)) (MTZ 2019 Sec. 3.3)."""
    total = arb(0)
    p = 1 - q
    two_s2 = 2 * s * s
    for k in range(2, n + 1):
        total += arb(math.comb(n, k)) * p ** (n - k) * q**k * (arb(k * k - k) / two_s2).expm1()
    return total


# -- any order: certified integration of Q(x) phi_beta(g(x)) -------------------------------------
def _gauss_mass(s: arb, mean: arb, cut: arb, upper: bool) -> arb:
    """N(mean, s^2) mass of [cut, inf) (``upper``) or (-inf, cut]."""
    return normal_cdf((mean - cut) / s) if upper else normal_cdf((cut - mean) / s)


def _tilt(s: arb, gamma: arb) -> arb:
    """K(gamma) = e^{(gamma^2 - gamma)/(2 s^2)}, so that
    int_I Q(x) e^{gamma u(x)} dx = K(gamma) N(gamma, s^2)(I) (complete the square:
    e^{-x^2/(2s^2) + gamma x/s^2} = e^{gamma^2/(2s^2)} e^{-(x-gamma)^2/(2s^2)})."""
    return ((gamma * gamma - gamma) / (2 * s * s)).exp()


def _tail_bound(s: arb, q: Fraction, beta: Fraction, cut: arb, upper: bool) -> arb:
    """A rigorous upper bound on int_I Q(x) phi_beta(g(x)) dx, I = [cut, inf) or (-inf, cut].

    Ingredients (all pointwise bounds on phi_beta(g), integrated with :func:`_tilt`):

    * Jensen (t^beta convex for beta > 1 and beta < 0, g = (1-q)*1 + q*e^u):
      ``g^beta <= (1-q) + q e^{beta u}``;
    * general (any I): beta > 1: ``phi_beta(t) <= t^beta + beta - 1`` (drop -beta t <= 0), so the
      integrand is at most ``(beta - q) Q + q K(beta) N(beta)``; beta < 0:
      ``phi_beta(t) <= t^beta + |beta| t``, giving ``(1-q)(1+|beta|) Q + q K(beta) N(beta)
      + |beta| q N(1)``;
    * upper tail with cut >= 1/2 (so g >= 1 on I): beta > 1: ``phi_beta(t) <= t^beta`` (the tangent
      1 + beta(t-1) >= 0), and for u >= u0 = u(cut), ``1 - q <= (1-q) e^{u - u0}``, so
      ``g^beta <= c0^beta e^{beta u}``, ``c0 = (1-q) e^{-u0} + q``: bound
      ``c0^beta K(beta) N(beta)`` (also the Jensen one; the smaller is used); beta < 0:
      ``t^beta <= 1``, so ``phi_beta(t) <= |beta| (t - 1) <= |beta| q e^u``: bound
      ``|beta| q N(1)``;
    * lower tail with cut <= 1/2 (so 1-q <= g <= 1 on I): phi_beta is convex with its minimum 0 at
      t = 1, so on [1-q, 1] it is at most ``phi_beta(1-q) = (1-q)^beta - 1 + beta q`` (q < 1 when
      beta < 0); beta < 0 also: ``phi_beta(t) <= t^beta`` for t <= 1, with Jensen.

    The minimum of valid upper bounds is a valid upper bound.
    """
    qb, b = ball(q), ball(beta)
    n0 = _gauss_mass(s, arb(0), cut, upper)
    nb = _gauss_mass(s, b, cut, upper)
    n1 = _gauss_mass(s, arb(1), cut, upper)
    kb = _tilt(s, b)
    half = arb(0.5)
    if beta > 1:
        options = [(b - qb) * n0 + qb * kb * nb]
        if upper and cut >= half:
            u0 = (2 * cut - 1) / (2 * s * s)
            c0 = (1 - qb) * (-u0).exp() + qb
            options.append(c0**b * kb * nb)
            options.append((1 - qb) * n0 + qb * kb * nb)
        if not upper and cut <= half:
            options.append(((1 - qb) ** b - 1 + b * qb) * n0)
    else:
        nbeta = -b
        options = [(1 - qb) * (1 + nbeta) * n0 + qb * kb * nb + nbeta * qb * n1]
        if upper and cut >= half:
            options.append(nbeta * qb * n1)
        if not upper and cut <= half:
            options.append((1 - qb) * n0 + qb * kb * nb)
            if q < 1:
                options.append(((1 - qb) ** b - 1 + b * qb) * n0)
    finite = [opt for opt in options if opt.is_finite()]  # NaN is not finite either
    if not finite:
        return arb("inf")
    best = finite[0]
    for opt in finite[1:]:
        best = best.min(opt)
    # a bound on a non-negative quantity: its upper endpoint is what matters
    return best.upper()


_CENTRAL_LOG = 30.0


def _integrand(s: arb, q: Fraction, beta: Fraction) -> Callable[[acb, bool], acb]:
    """x -> Q(x) phi_beta(g(x)) on complex balls, with one of two algebraically equal forms.

    * central (|beta log g| moderate): ``Q(z) [expm1(beta log1p(w)) - beta w]``, w = q (e^u - 1),
      which keeps the relative accuracy of phi_beta(g) near g = 1 (tiny q);
    * far (|beta log g| large): ``exp(E(z)) - (1 - beta q) Q(z) - beta q Q(z - 1)``-type three-term
      form, where ``Q(z) e^u = N(1, s^2)`` density and ``Q g^beta = exp(E)`` with the square
      completed: right of the crossover (q e^u >= 1-q),
      ``E = -(z-beta)^2/(2s^2) + (beta^2-beta)/(2s^2) + beta log q + beta log1p(c e^{-u})``,
      ``c = (1-q)/q``; left of it, ``E = -z^2/(2s^2) + beta log(1-q) + beta log1p(e^u / c)``.
      Ball arithmetic on ``Q(z) g(z)^beta`` as a product of two huge/tiny exponentials would
      inflate the radius by e^{|z| rad(z) (1+|beta|)/s^2}; the completed square avoids it.

    The choice of form is made from the float midpoint and only affects conditioning; each form
    is analytic where the argument of its log1p has positive real part (log1p's branch cut is
    at real arguments <= -1), which is what the ``analytic`` flag checks.
    """
    qb, b = ball(q), ball(beta)
    two_s2 = 2 * s * s
    norm = 1 / (s * (2 * arb.pi()).sqrt())
    s_f, q_f, b_f = float(s.mid()), float(q), float(beta)
    assert q > 0, "q = 0 is answered without integrating"
    log_q = qb.log()
    log_1mq = (1 - qb).log() if q < 1 else arb.nan()  # the left form is only used when q < 1
    c = (1 - qb) / qb
    tilt = (b * b - b) / two_s2
    lin0, lin1 = 1 - b * qb, b * qb

    def region(x: float) -> str:
        u = (2 * x - 1) / (2 * s_f * s_f)
        right = q_f == 1 or math.log(q_f) + u >= math.log1p(-q_f)
        if right:
            log_g = math.log(q_f) + u + math.log1p(math.exp(-u) * (1 - q_f) / q_f)
        else:
            log_g = math.log1p(-q_f) + math.log1p(math.exp(u) * q_f / (1 - q_f))
        if abs(b_f * log_g) <= _CENTRAL_LOG:
            return "central"
        return "right" if right else "left"

    def f(z: acb, analytic: bool) -> acb:
        u = (2 * z - 1) / two_s2
        where = region(float(z.real.mid()))
        if where == "central":
            w = qb * u.expm1()
            if analytic and not (1 + w).real > 0:
                return acb(arb.nan())
            bregman = (b * w.log1p()).expm1() - b * w
            return norm * (-(z * z) / two_s2).exp() * bregman
        if where == "right":
            v = c * (-u).exp()
            if analytic and not (1 + v).real > 0:
                return acb(arb.nan())
            e = -((z - b) * (z - b)) / two_s2 + tilt + b * log_q + b * v.log1p()
        else:
            v = u.exp() / c
            if analytic and not (1 + v).real > 0:
                return acb(arb.nan())
            e = -(z * z) / two_s2 + b * log_1mq + b * v.log1p()
        gauss0 = (-(z * z) / two_s2).exp()
        gauss1 = (-((z - 1) * (z - 1)) / two_s2).exp()
        return norm * (e.exp() - lin0 * gauss0 - lin1 * gauss1)

    return f


def _excess_scale_exponent(s: Fraction, q: Fraction, beta: Fraction) -> int:
    """k with 2^k a heuristic size of M(beta) - 1 (not certified: it only normalises the
    integrand, see :func:`_moment_excess_integral`): ``s`` times the largest integrand value on a
    grid of step s/2 covering the bumps at 0, 1 and beta (each bump of the integrand has width
    >= s: Q(x) e^{gamma u} is a Gaussian of sd s, and log g is convex)."""
    lo = min(Fraction(0), beta) - 12 * s
    hi = max(Fraction(1), beta) + 12 * s
    n = min(20000, max(64, int((hi - lo) / (s / 2)) + 1))
    step = (hi - lo) / n
    best = arb(0)
    with ctx.workprec(128):
        f = _integrand(ball(s), q, beta)
        for i in range(n + 1):
            value = f(acb(ball(lo + i * step)), False).real
            if value.is_finite() and value.mid() > best.mid():
                best = value
        scale = best.mid() * ball(s)
        if not scale > 0:
            return 0
        k = (scale.log() / arb(2).log()).mid().floor().unique_fmpz()
        return int(k) if k is not None else 0


def _moment_excess_integral(
    mech: SubsampledGaussian, beta: Fraction, goal: Target, what: str
) -> tuple[arb, int]:
    """A ball containing M(beta) - 1 = int Q phi_beta(g) over the real line (beta > 1 or beta < 0),
    certified to ``goal`` (its relative width; an absolute one applies to the normalised integral).

    The integrand can span e^{+-10^5} over the range (its log has slope up to |x - beta|/s^2), and
    its total can lie far outside float range, so it is normalised by an exact power of two 2^k
    near its size (:func:`_excess_scale_exponent`, a heuristic: only the work, never the enclosure,
    depends on it) and integrated to relative width ``rel`` *or* absolute width ``rel / 16``; that
    saves Arb from resolving negligible stretches to full relative accuracy. If the result misses
    the relative width (the scale was too large), it is redone with the absolute tolerance taken
    from the certified lower end found. The returned ball is 2^k times the Bound, at the ambient
    precision (widened outward), with the working precision of the integral.
    """
    from certify.numerics.integrate import integrate

    s_exact = mech.noise_ratio
    q = mech.q
    k = _excess_scale_exponent(s_exact, q, beta) if goal.rel is not None else 0

    def s_ball() -> arb:
        return ball(s_exact)

    def unscale() -> arb:
        return arb((1, -k))  # 2^-k, exact

    f_cache: dict[int, Callable[[acb, bool], acb]] = {}

    def f(z: acb, analytic: bool) -> acb:
        key = ctx.prec
        if key not in f_cache:
            f_cache[key] = _integrand(s_ball(), q, beta)
        return f_cache[key](z, analytic) * unscale()

    points = sorted({Fraction(0), Fraction(1, 2), Fraction(1), beta})

    def run(target: Target) -> Bound:
        return integrate(
            f,
            "-inf",
            "inf",
            breakpoints=points,
            lower_tail=lambda t: _tail_bound(s_ball(), q, beta, t, upper=False) * unscale(),
            upper_tail=lambda t: _tail_bound(s_ball(), q, beta, t, upper=True) * unscale(),
            target=target,
            max_prec=_INTEGRAL_MAX_PREC,
            what=what,
        )

    if goal.rel is None:
        result = run(goal)
    else:
        result = run(Target(rel=goal.rel, absolute=goal.rel / 16, max_prec=goal.max_prec))
        if not goal.met_by(result) and result.lower > 0:
            retry = float(result.lower) * goal.rel / 4
            result = run(Target(rel=goal.rel, absolute=retry if retry > 0 else None,
                                max_prec=goal.max_prec))
    return result.to_arb() * arb((1, k)), result.prec


def _moment_target(goal: Target, alpha: Fraction) -> Target:
    """A width for M - 1 that gives ``goal`` on log1p(M - 1)/(alpha - 1) (log1p is 1-Lipschitz
    on [0, inf) and y/(1+y) <= log1p(y), so relative widths do not grow either)."""
    return Target(
        rel=None if goal.rel is None else goal.rel / 4,
        absolute=None if goal.absolute is None else goal.absolute * float(alpha - 1) / 4,
        max_prec=goal.max_prec,
    )


def renyi_divergence(
    mech: SubsampledGaussian,
    order: object,
    direction: object = "remove",
    target: Target | None = None,
    *,
    method: object = "auto",
) -> Bound:
    """Certified D_alpha(P || Q) (``direction="remove"``) or D_alpha(Q || P) (``"add"``) of the
    one-step subsampled Gaussian at an order alpha > 1 (module docstring for the formulas).

    ``method="auto"`` uses the exact binomial sum for integer orders in the remove direction and
    certified integration otherwise; ``method="integral"`` always integrates (a cross-check).
    For ``mech.steps = T`` the value is T times the one-step divergence (module docstring).
    """
    m = _check_mechanism(mech)
    alpha = check_order("order", order)
    d = check_choice("direction", direction, DIRECTIONS)
    how = check_choice("method", method, METHODS)
    goal = target or RDP_TARGET
    what = f"subsampled-gaussian D_{alpha} ({d})"
    if m.q == 0:
        return Bound.exact(0)  # P = Q
    beta = alpha if d == "remove" else 1 - alpha
    steps = m.steps
    if d == "remove" and alpha.denominator == 1 and how == "auto":
        n = int(alpha)
        return escalate(
            lambda _prec: _binomial_excess(n, ball(m.noise_ratio), ball(m.q)).log1p()
            * steps / (n - 1),
            goal,
            what=what,
        )
    with ctx.workprec(_RESULT_PREC):
        y, prec = _moment_excess_integral(m, beta, _moment_target(goal, alpha), what)
        # M - 1 = E_Q[phi_beta(g)] >= 0: intersecting with [0, inf) is a rigorous refinement
        y = y.intersection(y.upper().union(arb(0)))
        value = y.log1p() * steps / ball(alpha - 1)
        # labelled with the integral's precision (its digits are what the enclosure carries)
        result = Bound.from_arb(value, prec)
    if not goal.met_by(result):
        raise Inconclusive(f"{what}: {goal.describe()} not reached ({result})", result)
    return result


def rdp(
    mech: SubsampledGaussian, orders: Iterable[object], target: Target | None = None
) -> list[Bound]:
    """Certified RDP curve: for each order alpha > 1, max(D_alpha(P||Q), D_alpha(Q||P)) (or the
    one direction that ``mech.neighbours`` names), times ``mech.steps``.

    The maximum of two enclosures is enclosed by (max of lowers, max of uppers).
    """
    m = _check_mechanism(mech)
    alphas = _check_orders(orders)
    out = []
    for a in alphas:
        parts = [renyi_divergence(m, a, d, target) for d in m.directions]
        out.append(Bound(max(b.lower for b in parts), max(b.upper for b in parts),
                         max(b.prec for b in parts)))
    return out


# -- RDP -> (eps, delta) conversions (ACC-4) ----------------------------------------------------
_CONVERSION_PREC = 256


def _rdp_ends(name: str, value: object) -> tuple[arb, arb]:
    """The ends of an RDP enclosure as exact balls (a conversion is increasing in rho, so it is
    enclosed by its values at the two ends: this keeps wide inputs from loosening the output)."""
    if not isinstance(value, Bound):
        raise InvalidArgument(f"{name}={value!r} must be a Bound.")
    if not (value.lower.is_finite() and value.upper.is_finite()):
        raise InvalidArgument(f"{name}={value} must be finite.")
    return ball(Fraction(value.lower)), ball(Fraction(value.upper))


def _convert(rdp_value: Bound, shift: Callable[[], arb]) -> Bound:
    """Enclose rho + shift() over rho in ``rdp_value``: [lower + shift, upper + shift]."""
    with ctx.workprec(_CONVERSION_PREC):
        lo, hi = _rdp_ends("rdp_value", rdp_value)
        c = shift()
        low = Bound.from_arb(lo + c, _CONVERSION_PREC)
        high = Bound.from_arb(hi + c, _CONVERSION_PREC)
    return Bound(low.lower, high.upper, _CONVERSION_PREC)


def mironov_epsilon(rdp_value: Bound, order: object, delta: object) -> Bound:
    """Mironov 2017, "Renyi differential privacy", Prop. 3: an (alpha, rho)-RDP mechanism is
    (rho + log(1/delta)/(alpha - 1), delta)-DP.

    Returned: an enclosure of that expression over every rho in ``rdp_value``. It is increasing in
    rho, so its upper end, from an upper bound on the true RDP value, is a certified upper bound on
    the mechanism's eps(delta) (sound direction).
    """
    _rdp_ends("rdp_value", rdp_value)
    alpha = check_order("order", order)
    dlt = check_probability("delta", delta, open_low=True)
    return _convert(rdp_value, lambda: -ball(dlt).log() / ball(alpha - 1))


def balle_epsilon(rdp_value: Bound, order: object, delta: object) -> Bound:
    """Canonne, Kamath, Steinke 2020, "The discrete Gaussian for differential privacy", Prop. 12
    (= Balle, Barthe, Gaboardi, Hsu, Sato 2020, "Hypothesis testing interpretations and Renyi
    differential privacy", Thm 21; the conversion of dp-accounting and Opacus): an
    (alpha, rho)-RDP mechanism is (eps, delta)-DP with

        eps = rho + log((alpha - 1)/alpha) - (log delta + log alpha)/(alpha - 1).

    Returned: an enclosure of that expression over every rho in ``rdp_value`` (increasing in rho:
    its upper end is a certified upper bound on eps(delta), the sound direction). The expression
    can be negative; (eps, delta)-DP with eps < 0 implies (0, delta)-DP, see
    :func:`epsilon_from_rdp`.
    """
    _rdp_ends("rdp_value", rdp_value)
    alpha = check_order("order", order)
    dlt = check_probability("delta", delta, open_low=True)

    def shift() -> arb:
        a, am1 = ball(alpha), ball(alpha - 1)
        return (am1 / a).log() - (ball(dlt).log() + a.log()) / am1

    return _convert(rdp_value, shift)


def cks_epsilon(rdp_value: Bound, order: object, delta: object) -> Bound:
    """Canonne, Kamath, Steinke 2020, "The discrete Gaussian for differential privacy"
    (arXiv 2004.00010 v4), Prop. 12, in its own delta-form: an (alpha, rho)-RDP mechanism is
    (eps, delta)-DP for ``delta = e^{(alpha - 1)(rho - eps)} / alpha * (1 - 1/alpha)^(alpha - 1)``,
    solved for eps:

        eps = rho - (log delta + log alpha - (alpha - 1) log(1 - 1/alpha)) / (alpha - 1).

    Algebraically the same number as :func:`balle_epsilon` (dp-accounting cites both for it);
    computed from this form independently, so the two enclosures cross-check each other.
    Increasing in rho: the upper end from an upper bound on the RDP value is sound.
    """
    _rdp_ends("rdp_value", rdp_value)
    alpha = check_order("order", order)
    dlt = check_probability("delta", delta, open_low=True)

    def shift() -> arb:
        a, am1 = ball(alpha), ball(alpha - 1)
        return -(ball(dlt).log() + a.log() - am1 * (1 - 1 / a).log()) / am1

    return _convert(rdp_value, shift)


def kl_epsilon(rdp_value: Bound, order: object, delta: object) -> Bound:
    """dp-accounting 0.6 ``compute_epsilon``'s shortcut: eps = 0 when
    ``delta^2 + expm1(-rho) > 0``, i.e. ``delta > sqrt(1 - e^{-rho})``.

    Sound because (0, delta)-DP means TV(P, Q) <= delta, TV <= sqrt(1 - e^{-KL(P||Q)})
    (Bretagnolle and Huber 1979), and KL = D_1 <= D_alpha <= rho for alpha >= 1 (Renyi
    divergence is non-decreasing in its order; van Erven and Harremoes 2014, Thm 3).
    Returned: ``[0, 0]`` when the condition holds for every rho in ``rdp_value`` (certified);
    otherwise the shortcut makes no claim and the result is ``[0, +infinity]`` (the trivial
    enclosure; :func:`epsilon_from_rdp` then takes another order's value).
    """
    _rdp_ends("rdp_value", rdp_value)
    check_order("order", order)
    dlt = check_probability("delta", delta, open_low=True)
    with ctx.workprec(_CONVERSION_PREC):
        _, hi = _rdp_ends("rdp_value", rdp_value)
        d = ball(dlt)
        if d * d + (-hi).expm1() > 0:  # the worst rho in the enclosure satisfies it
            return Bound.exact(0)
    return Bound(Decimal(0), Decimal("Infinity"), _CONVERSION_PREC)


CONVERSIONS: dict[str, Callable[[Bound, object, object], Bound]] = {
    "mironov2017": mironov_epsilon,
    "balle2020": balle_epsilon,
    "cks2020": cks_epsilon,
    "kl-tv": kl_epsilon,
}


def epsilon_from_rdp(
    rdp_values: Sequence[Bound],
    orders: Sequence[object],
    delta: object,
    conversion: object = "balle2020",
) -> Bound:
    """Optimise a conversion over the orders: eps(delta) <= max(0, min_alpha conv(rho_alpha)).

    Each conversion bounds eps(delta) from above at every order, so the minimum over orders does
    too; the minimum of enclosures is enclosed by (min of lowers, min of uppers). Since
    eps(delta) >= 0 by definition and (eps, delta)-DP with eps < 0 implies (0, delta)-DP, the
    result is the enclosure of max(0, that minimum) -- stated here, not a silent clamp. Its upper
    end is a certified upper bound on eps(delta) whenever each rdp value encloses (or bounds from
    above) the true RDP at its order.
    """
    alphas = _check_orders(orders)
    conv = CONVERSIONS[check_choice("conversion", conversion, tuple(CONVERSIONS))]
    if isinstance(rdp_values, (str, bytes)) or not isinstance(rdp_values, Sequence):
        raise InvalidArgument(f"rdp_values={rdp_values!r} must be a sequence of Bounds.")
    if len(rdp_values) != len(alphas):
        raise InvalidArgument(
            f"rdp_values has {len(rdp_values)} entries but orders has {len(alphas)}."
        )
    check_probability("delta", delta, open_low=True)
    bounds = [conv(r, a, delta) for r, a in zip(rdp_values, alphas, strict=True)]
    lower = max(min(b.lower for b in bounds), Decimal(0))
    upper = max(min(b.upper for b in bounds), Decimal(0))
    return Bound(lower, upper, max(b.prec for b in bounds))


def rdp_epsilon(
    mech: SubsampledGaussian,
    delta: object,
    orders: Sequence[object],
    conversion: object = "balle2020",
    target: Target | None = None,
) -> Bound:
    """The RDP accountant's eps(delta) for one step: :func:`rdp` at ``orders`` then
    :func:`epsilon_from_rdp`; its upper end is a certified upper bound on eps(delta)."""
    check_probability("delta", delta, open_low=True)
    check_choice("conversion", conversion, tuple(CONVERSIONS))
    alphas = _check_orders(orders)
    return epsilon_from_rdp(rdp(mech, alphas, target), alphas, delta, conversion)


__all__ = [
    "CONVERSIONS",
    "balle_epsilon",
    "check_order",
    "cks_epsilon",
    "epsilon_from_rdp",
    "kl_epsilon",
    "mironov_epsilon",
    "rdp",
    "rdp_epsilon",
    "renyi_divergence",
]
