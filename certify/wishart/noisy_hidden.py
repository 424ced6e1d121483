"""``M(V + E)`` released *without* ``M``: a certified lower bound on its privacy profile
(claim WPM-8; seed 000). Derivation in ``proofs/wishart_noisy.py`` (``proof_pre_hidden_statistic``).

Setting as in :mod:`certify.wishart.noisy_pre`. The statistic is ``T = e_2^T y`` with
``e_2 = (V - V') / ||V - V'||``. Conditioning on ``x = V + E`` and on
``s = x^T M x / ||x||^2 ~ chi2_r / r`` (independent of ``x``), ``Mx = ||x|| (s x^ + sqrt(s/r)
Z_perp)``, hence::

    T | (s, h) ~ N( gamma s,  sigma^2 s^2 + s h / r ),
    gamma = b = sqrt((1 - rho)/2) under V,   gamma = -b under V',
    h = ||x||^2 - (e_2^T x)^2 ~ sigma^2 chi'^2_{d-1}(lambda),   lambda = (1 + rho) / (2 sigma^2),

``s`` and ``h`` independent, the law of ``h`` the same under both neighbours. The hockey-stick
divergence dominates that of any event, so for every threshold ``tau``::

    delta(eps) >= P_V[T > tau] - e^eps P_V'[T > tau].

Enclosure (our construction). The threshold is written ``tau = b x*^2`` with ``x*`` an exact
rational, and ``s = x^2`` (``x`` has density ``2 (r/2)^{r/2} / Gamma(r/2) x^{r-1} e^{-r x^2/2}``).
With ``g_gamma(s, h) = (gamma s - tau) / sqrt(sigma^2 s^2 + s h / r)``, ``g_gamma`` is
non-decreasing in ``h`` where ``gamma s < tau`` and non-increasing where ``gamma s > tau``; for
``gamma = b`` the switch is exactly at ``x = x*``, for ``gamma = -b`` it never happens. Partition
``h`` into cells ``[h_j, h_{j+1}]`` with certified masses ``w_j``
(:func:`certify.wishart.noisy_cells.noncentral_chi2_axis`). Then for each ``s``::

    E_h Phi(g_b)   >=  sum_j w_j^- Phi(g_b(s, h_j))        (x < x*),
                   >=  sum_j w_j^- Phi(g_b(s, h_{j+1}))    (x > x*),
    E_h Phi(g_-b)  <=  sum_j w_j^+ Phi(g_-b(s, h_{j+1})) + w_inf,

(``w^-``/``w^+`` the lower/upper ends of the mass balls, ``w_inf`` the mass beyond the last edge)
and the remaining expectation over ``x`` is a certified one-dimensional integral
(:func:`certify.numerics.integrate.integrate`) on ``[x_lo, x*]`` and ``[x*, inf)`` (upper tail
``(1 + e^eps) P[chi2_r > r T^2]``). Below ``x_lo`` the positive part is dropped (it is
non-negative) and the negative part is charged ``e^eps (Phi(g_-b(x_lo^2, h_K)) + w_inf)
P[s < x_lo^2]`` (``g_-b`` is at most that there: its denominator grows with ``x`` and ``h``).
The discretisation only lowers the bound (never falsifies it); its loss is first order in the
``h`` cell widths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
from flint import acb, arb, ctx

from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.integrate import integrate
from certify.numerics.precision import Target
from certify.numerics.roots import exact_ball
from certify.numerics.special import chi2_cdf, chi2_sf
from certify.wishart.noisy_cells import noncentral_chi2_axis, phi_acb

__all__ = [
    "HIDDEN_TARGET",
    "float_hidden_event",
    "float_hidden_threshold",
    "hidden_event_bounds",
    "hidden_lower_bound",
    "threshold_tau",
]

#: numerical width asked of each integral (the discretisation loss is larger)
HIDDEN_TARGET = Target(rel=1e-4, absolute=1e-300, max_prec=256)
#: default number of h cells and the tail probability left beyond the outer h edges
H_CELLS = 240
H_TAIL = 1e-13


def threshold_tau(rho: Fraction, x_star: Fraction) -> float:
    """``tau = b x*^2`` as a float (display only; the certified code uses the exact form)."""
    return math.sqrt((1 - float(rho)) / 2) * float(x_star) ** 2


class _Cells:
    """The ``h`` partition as exact nodes and the lower/upper ends of the cell masses."""

    def __init__(self, d: int, rho: Fraction, sigma: Fraction, cells: int, tail: float):
        from scipy import stats

        lam = (1 + rho) / (2 * sigma * sigma)
        probs = np.unique(np.concatenate([
            np.geomspace(tail, 0.05, cells // 4), np.linspace(0.05, 0.95, cells // 2),
            1 - np.geomspace(0.05, tail, cells // 4)]))
        points = float(sigma) ** 2 * stats.ncx2.ppf(probs, d - 1, float(lam))
        axis = noncentral_chi2_axis(d - 1, lam, sigma * sigma, list(points))
        self.nodes: list[Fraction] = [Fraction(0), *axis.edges]
        bounded = axis.masses[:-1]
        self.low = [m.lower() for m in bounded]
        self.high = [m.upper() for m in bounded]
        self.beyond = axis.masses[-1].upper()


class _Problem:
    """The integrands of the event bounds in ``x = sqrt(s)``, with constants per precision.

    ``term(x, sign, node, weights)`` is ``sum_j w_j Phi(g(x^2, h_j'))`` for ``gamma = sign b``,
    ``h_j'`` the lower (``node="lo"``) or upper (``"hi"``) node of cell ``j``, ``w_j`` the
    lower (``weights="lo"``) or upper end of its mass; ``g = gamma' (x^2 -+ x*^2) /
    (x sqrt(sigma^2 x^2 + h/r))`` (``g = b (x^2 - x*^2) / (sigma x^2)`` at ``h = 0``).
    """

    def __init__(self, d: int, r: int, rho: Fraction, sigma: Fraction, x_star: Fraction,
                 cells: int, tail: float):
        _check(d, r, rho, sigma)
        if x_star <= 0:
            raise InvalidArgument(f"x_star={x_star} must be positive.")
        self.d, self.r, self.rho, self.sigma, self.x_star = d, r, rho, sigma, x_star
        self.cells = _Cells(d, rho, sigma, cells, tail)
        self._cache: dict[int, tuple[arb, arb, arb, list[arb], arb]] = {}

    def constants(self) -> tuple[arb, arb, arb, list[arb], arb]:
        prec = ctx.prec
        if prec not in self._cache:
            nodes = [exact_ball(h) / self.r for h in self.cells.nodes]
            half_r = arb(self.r) / 2
            log_c = arb(2).log() + half_r * half_r.log() - half_r.lgamma()
            self._cache[prec] = (exact_ball((1 - self.rho) / 2).sqrt(),
                                 exact_ball(self.sigma * self.sigma),
                                 exact_ball(self.x_star * self.x_star), nodes, log_c)
        return self._cache[prec]

    def density(self, x: acb) -> acb:
        """``2 (r/2)^{r/2} / Gamma(r/2) x^{r-1} e^{-r x^2/2}``: the law of ``sqrt(chi2_r / r)``."""
        log_c = self.constants()[4]
        return (acb(log_c) - arb(self.r) * x * x / 2).exp() * x ** (self.r - 1)

    def term(self, x: acb, sign: int, node: str, weights: str) -> acb:
        b, sig2, s_star, nodes, _ = self.constants()
        s = x * x
        num = b * (s - s_star) if sign > 0 else -b * (s + s_star)
        base = sig2 * s
        total = acb(0)
        ws = self.cells.low if weights == "lo" else self.cells.high
        offset = 0 if node == "lo" else 1
        for j, w in enumerate(ws):
            h = nodes[j + offset]
            g = num / base if h.is_zero() else num / (x * (base + h).sqrt(analytic=True))
            total += w * phi_acb(g)
        return total

    def low_end(self, eps: Fraction, budget: float) -> tuple[Fraction, arb]:
        """A cut ``x_lo`` below ``x*`` and a ball ``[0, B]`` bounding ``e^eps E[Phi(g_-b) +
        w_inf; s < x_lo^2]``: for ``x <= x_lo``, ``g_-b(x^2, h) <= -b x*^2 / (x_lo sqrt(sigma^2
        x_lo^2 + h_K / r))`` (the denominator is increasing in ``x`` and ``h``), and the
        probability of ``s < x_lo^2`` is a certified chi-square CDF. ``budget`` (float) is the
        size of bound wanted; the cut is halved until it is met (or 60 times)."""
        x_lo = self.x_star / 2
        bound = arb("inf")
        for _ in range(60):
            bound = self._low_bound(x_lo, eps)
            if bound < arb(budget):
                break
            x_lo /= 2
        return x_lo, arb(0).union(bound.upper())

    def _low_bound(self, x_lo: Fraction, eps: Fraction) -> arb:
        b, sig2, s_star, nodes, _ = self.constants()
        xl = exact_ball(x_lo)
        g = -b * s_star / (xl * (sig2 * xl * xl + nodes[-1]).sqrt())
        phi = phi_acb(acb(g)).real
        mass = chi2_cdf(arb(self.r) * xl * xl, self.r)
        return exact_ball(eps).exp() * (phi + self.cells.beyond) * mass

    def integral(self, f: Callable[[acb, bool], acb], a: Fraction, b: object, factor: arb,
                 target: Target, what: str) -> Bound:
        r = self.r

        def upper_tail(cut: arb) -> arb:
            return (factor * chi2_sf(arb(r) * cut * cut, r)).upper()

        return integrate(f, a, b, upper_tail=upper_tail if b == "inf" else None, target=target,
                         max_prec=target.max_prec, what=what)


def hidden_lower_bound(d: int, r: int, rho: Fraction, sigma: Fraction, eps: Fraction,
                       x_star: Fraction, *, cells: int = H_CELLS, tail: float = H_TAIL,
                       target: Target | None = None, estimate: float | None = None) -> Bound:
    """A certified lower bound on the output-only profile ``delta(eps)`` of ``M(V + E)`` from
    the event ``{T > b x*^2}`` (module docstring). The returned Bound encloses the discretised
    event difference; its ``lower`` end is the certified lower bound on ``delta(eps)`` (it may
    be negative: then the event says nothing). ``estimate`` (a float guess of the value) sizes
    the cut near ``x = 0``."""
    goal = target or HIDDEN_TARGET
    prob = _Problem(d, r, rho, sigma, x_star, cells, tail)
    budget = 1e-6 * abs(estimate) if estimate else 1e-12
    with ctx.workprec(64):
        x_lo, low_part = prob.low_end(eps, budget)

    def side(node: str) -> Callable[[acb, bool], acb]:
        def f(x: acb, analytic: bool) -> acb:
            minus = prob.term(x, -1, "hi", "hi") + prob.cells.beyond
            value = prob.term(x, 1, node, "lo") - exact_ball(eps).exp() * minus
            return prob.density(x) * value
        return f

    factor = 1 + exact_ball(eps).exp()
    left = prob.integral(side("lo"), x_lo, x_star, factor, goal, "hidden lower bound, left")
    right = prob.integral(side("hi"), x_star, "inf", factor, goal, "hidden lower bound, right")
    low = _frac(left.lower) + _frac(right.lower) - _frac(Bound.from_arb(low_part, 64).upper)
    high = _frac(left.upper) + _frac(right.upper)
    return Bound.from_fractions(low, high, max(left.prec, right.prec))


def hidden_event_bounds(d: int, r: int, rho: Fraction, sigma: Fraction, x_star: Fraction,
                        *, cells: int = H_CELLS, tail: float = H_TAIL,
                        target: Target | None = None) -> tuple[Bound, Bound]:
    """Certified enclosures of ``P_V[T > tau]`` and ``P_V'[T > tau]``, ``tau = b x*^2`` (lower
    ends from the lower sums, upper ends from the upper sums; the part ``s < x_lo^2`` is
    dropped from the lower ends and charged its probability in the upper ends)."""
    goal = target or HIDDEN_TARGET
    prob = _Problem(d, r, rho, sigma, x_star, cells, tail)
    x_lo = x_star / 64
    with ctx.workprec(64):
        low_mass = chi2_cdf(arb(r) * exact_ball(x_lo * x_lo), r).upper()
    one = arb(1)

    def make(sign: int, node: str, weights: str, extra: bool) -> Callable[[acb, bool], acb]:
        def f(x: acb, analytic: bool) -> acb:
            value = prob.term(x, sign, node, weights)
            if extra:
                value += prob.cells.beyond
            return prob.density(x) * value
        return f

    def total(sign: int, left: tuple[str, str, bool], right: tuple[str, str, bool],
              charge: bool) -> Fraction:
        a = prob.integral(make(sign, *left), x_lo, x_star, one, goal, "event, left")
        b = prob.integral(make(sign, *right), x_star, "inf", one, goal, "event, right")
        if charge:
            return _frac(a.upper) + _frac(b.upper) + _frac(Bound.from_arb(low_mass, 64).upper)
        return _frac(a.lower) + _frac(b.lower)

    # gamma = +b: lower sums (lo node left of x*, hi node right), upper sums the other way
    lower_v = total(1, ("lo", "lo", False), ("hi", "lo", False), False)
    upper_v = total(1, ("hi", "hi", True), ("lo", "hi", True), True)
    # gamma = -b: g increasing in h everywhere
    lower_w = total(-1, ("lo", "lo", False), ("lo", "lo", False), False)
    upper_w = total(-1, ("hi", "hi", True), ("hi", "hi", True), True)
    return (Bound.from_fractions(lower_v, upper_v, 64), Bound.from_fractions(lower_w, upper_w, 64))


def _frac(x: object) -> Fraction:
    return Fraction(str(x))


# -- float steering (not certified) ---------------------------------------------------------------


def float_hidden_event(d: int, r: int, rho: float, sigma: float, taus: np.ndarray,
                       nodes: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Float ``P_V[T > tau]`` and ``P_V'[T > tau]`` by a product rule on probability midpoints
    (refined geometrically in the tails). Steering and tests only: not certified."""
    from scipy import stats
    from scipy.special import ndtr

    b = math.sqrt((1 - rho) / 2)
    lam = (1 + rho) / (2 * sigma * sigma)
    ps, w = _midpoint_probs(nodes, 1e-15)
    s = stats.chi2.ppf(ps, r) / r
    hp, hw = _midpoint_probs(max(nodes // 3, 40), 1e-10)
    h = sigma * sigma * stats.ncx2.ppf(hp, d - 1, lam)
    keep_s, keep_h = np.isfinite(s) & (s > 0), np.isfinite(h) & (h >= 0)
    s2, h2 = s[keep_s][:, None], h[keep_h][None, :]
    ww = w[keep_s][:, None] * hw[keep_h][None, :]
    sd = np.sqrt(sigma * sigma * s2 * s2 + s2 * h2 / r)
    out_v, out_w = [], []
    for tau in np.atleast_1d(taus):
        out_v.append(float(np.sum(ww * ndtr((b * s2 - tau) / sd))))
        out_w.append(float(np.sum(ww * ndtr((-b * s2 - tau) / sd))))
    return np.array(out_v), np.array(out_w)


def _midpoint_probs(nodes: int, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """Probability midpoints and weights, refined geometrically in both tails (float)."""
    edges = np.unique(np.concatenate([np.geomspace(tail, 0.01, nodes // 4),
                                      np.linspace(0.01, 0.99, nodes // 2),
                                      1 - np.geomspace(0.01, tail, nodes // 4)]))
    edges = np.concatenate([[0.0], edges, [1.0]])
    return (edges[1:] + edges[:-1]) / 2, np.diff(edges)


def float_hidden_threshold(d: int, r: int, rho: float, sigma: float,
                           eps: float) -> tuple[Fraction, float]:
    """The exact ``x*`` (on a 1/256 grid) whose threshold ``tau = b x*^2`` maximises the float
    event difference, and that float estimate (steering only)."""
    b = math.sqrt((1 - rho) / 2)
    scale = b + sigma * math.sqrt(1 + d / r)
    taus = np.linspace(scale / 50, 40 * scale, 200)
    pv, pw = float_hidden_event(d, r, rho, sigma, taus)
    vals = pv - math.exp(eps) * pw
    i = int(np.argmax(vals))
    x_star = Fraction(max(1, round(256 * math.sqrt(taus[i] / b))), 256)
    return x_star, float(vals[i])


def _check(d: int, r: int, rho: Fraction, sigma: Fraction) -> None:
    if not (isinstance(d, int) and isinstance(r, int) and d >= 2 and 1 <= r <= d):
        raise InvalidArgument(f"d={d}, r={r}: need integers d >= 2 and 1 <= r <= d.")
    if not -1 < rho < 1:
        raise InvalidArgument(f"rho={rho} must be in (-1, 1).")
    if sigma <= 0:
        raise InvalidArgument(f"sigma={sigma} must be positive.")
