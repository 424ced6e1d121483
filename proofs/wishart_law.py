"""The exact law of ``MV`` and its privacy profile (claims WPM-2, WPM-3, WPM-4; seed 000).

``M = A^T A`` with ``A`` an ``r x d`` matrix of iid ``N(0, 1/r)`` entries; ``V, V'`` unit vectors
with ``rho = V^T V'``. By rotation invariance of ``A`` (``A O`` has the law of ``A`` for every
orthogonal ``O``) we take ``V = e_1`` and ``V' = rho e_1 + sqrt(1 - rho^2) e_2``.

The derivation (each step machine-checked below; ``certify.wishart.law`` implements the result):

1. ``g = A V ~ N(0, I_r / r)`` and ``A`` restricted to ``V``-perp is independent of ``g``, so
   ``MV = A^T g = s V + sqrt(s/r) Z`` with ``s = |g|^2 ~ chi2_r / r`` and ``Z ~ N(0, I - VV^T)``
   independent (``proof_mv_representation``: moments against the Wishart moments of
   ``proofs.wishart``).
2. The density on ``a = V^T y > 0`` is ``C a^{(r-d-1)/2} exp(-r |y|^2 / (2a))``
   (``proof_mv_density``).
3. In ``u = V'^T y / V^T y`` and ``W = r |y|^2 / V^T y`` the privacy loss is
   ``L = c log u + W (1-u)/(2u)``, ``c = (d+1-r)/2`` (``proof_privacy_loss``); under ``P_V``,
   ``W ~ chi2_{r+d-1}`` and ``T = (u - rho)/sigma ~ t_r`` are independent
   (``proof_reduced_law``: polar coordinates of ``(sqrt(chi2_r), N(0,1))``).
4. ``L(1/u, W/u) = -L(u, W)`` and the pair is exchanged by a reflection (``proof_pair_symmetry``).
5. The inner ``W``-expectation has a closed form with chi-square tails
   (``proof_profile_reduction``).
6. WPM-3: ``E_x[Phi(-rho sqrt(x)/sqrt(1-rho^2))] = F_{t_r}(-rho sqrt(r/(1-rho^2)))``
   (``proof_support_mass``).
7. WPM-2: on ``{|T| <= t, W <= kappa}``, ``L <= c log(rho+K) + kappa (1-rho+K)/(2(rho-K))``;
   the printed bound has ``(d+r-1)/2`` instead of ``c`` (a difference ``(r-1) log(rho+K)``),
   which is smaller exactly when ``r >= 2`` and ``rho + K < 1`` (``proof_theorem1``).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from proofs._check import all_equal, equal, holds
from proofs.record import ProofRecord, ProofStep
from proofs.wishart import wishart_moment

__all__ = [
    "proof_mv_density",
    "proof_mv_representation",
    "proof_pair_symmetry",
    "proof_privacy_loss",
    "proof_profile_reduction",
    "proof_reduced_law",
    "proof_support_mass",
    "proof_theorem1",
]

_SOURCE = "seed 000 (arXiv 2601.21719), Theorem 1 setting; our derivation (claims WPM-2..4)"
_ASSUMPTIONS = (
    "A is r x d with iid N(0, 1/r) entries, M = A^T A; d >= 2, 1 <= r <= d",
    "V = e_1, V' = rho e_1 + sqrt(1 - rho^2) e_2 (rotation invariance of A), -1 < rho < 1",
)

r, d = sp.symbols("r d", positive=True, integer=True)
a, a2, big_n, u, w_sym, x = sp.symbols("a a' N u W x", positive=True)
rho = sp.Symbol("rho", real=True)
eps = sp.Symbol("epsilon", nonnegative=True)


def _c() -> sp.Expr:
    return (d + 1 - r) / 2


def _chi2_density(z: sp.Expr, k: sp.Expr) -> sp.Expr:
    return z ** (k / 2 - 1) * sp.exp(-z / 2) / (2 ** (k / 2) * sp.gamma(k / 2))


@cache
def proof_mv_representation() -> ProofRecord:
    """Moments of ``s V + sqrt(s/r) Z`` equal those of ``MV`` (``V = e_1``) from the Wishart
    moment engine of ``proofs.wishart``: first, second and third mixed moments."""
    # representation moments: E[s^k] for s = chi2_r/r, and E[Z_i Z_j] = delta_ij on V-perp
    def s_moment(k: int) -> sp.Expr:
        return sp.prod([(r + 2 * j) for j in range(k)]) / r**k

    def wishart_raw(idx: tuple[int, ...]) -> sp.Expr:
        """E[prod (MV)_{i_t}] = E[prod M_{i_t, 0}] from central moments (E[M] = I)."""
        total = sp.Integer(0)
        n = len(idx)
        for mask in range(1 << n):
            chosen = [idx[t] for t in range(n) if mask >> t & 1]
            rest = [idx[t] for t in range(n) if not mask >> t & 1]
            if any(i != 0 for i in rest):
                continue  # the mean of M_{i0} is delta_{i0}
            total += wishart_moment(tuple((i, 0) for i in chosen)) if chosen else 1
        return sp.expand(total)

    # (MV)_0 = s, (MV)_i = sqrt(s/r) Z_i (i >= 1): E over s and Z
    rep = {
        (0,): s_moment(1),
        (1,): sp.Integer(0),
        (0, 0): s_moment(2),
        (1, 1): s_moment(1) / r,
        (0, 1): sp.Integer(0),
        (1, 2): sp.Integer(0),
        (0, 0, 0): s_moment(3),
        (0, 1, 1): s_moment(2) / r,
        (1, 1, 1): sp.Integer(0),
        (0, 0, 1): sp.Integer(0),
        (1, 1, 2): sp.Integer(0),
    }
    pairs = [(wishart_raw(k), v) for k, v in rep.items()]
    steps = (
        all_equal(
            "E[prod_t (MV)_{i_t}] for the 11 index patterns of order 1..3 (V = e_1) equals the "
            "same moment of s e_1 + sqrt(s/r) Z, s ~ chi2_r/r, Z ~ N(0, I - e_1 e_1^T)",
            pairs,
            method="Wishart moments (proofs.wishart) vs chi-square/normal moments; "
            "simplify(difference) == 0",
        ),
        equal(
            "E[MV (MV)^T] = ((r+1)/r) V V^T + I/r (the Wishart identity) on the diagonal",
            wishart_raw((0, 0)),
            (r + 1) / r + 1 / r,
        ),
    )
    return ProofRecord(
        name="WPM law: representation of MV",
        statement=(
            "MV = s V + sqrt(s/r) Z, s = |AV|^2 ~ chi2_r/r, Z ~ N(0, I - VV^T) independent of s "
            "(AV and A restricted to V-perp are independent Gaussian matrices); moments to "
            "order 3 agree with the Wishart moments."
        ),
        result="MV = s*V + sqrt(s/r)*Z",
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


@cache
def proof_mv_density() -> ProofRecord:
    """The density of ``MV`` on ``{a > 0}``: the chi2_r/r density of ``a`` times the
    ``N(0, (a/r) I_{d-1})`` density of the perpendicular part, and its normalisation."""
    w2 = sp.Symbol("w2", nonnegative=True)  # |w|^2 of the perpendicular part
    dm1 = d - 1
    f_a = r * _chi2_density(r * a, r)
    f_w = (2 * sp.pi * a / r) ** (-dm1 / 2) * sp.exp(-r * w2 / (2 * a))
    const = (r / 2) ** (r / 2) * (r / (2 * sp.pi)) ** (dm1 / 2) / sp.gamma(r / 2)
    closed = const * a ** ((r - d - 1) / 2) * sp.exp(-r * (a**2 + w2) / (2 * a))
    # normalisation: int over w (Gaussian) gives (2 pi a/r)^{(d-1)/2}; then the a-integral
    after_w = closed * (2 * sp.pi * a / r) ** (dm1 / 2) * sp.exp(r * w2 / (2 * a))
    total = sp.integrate(sp.simplify(after_w), (a, 0, sp.oo), conds="none")
    steps = (
        equal(
            "f_a(a) f_w(w | a) = C a^{(r-d-1)/2} exp(-r (a^2 + |w|^2)/(2a)), "
            "C = (r/2)^{r/2} (r/(2 pi))^{(d-1)/2} / Gamma(r/2)",
            sp.expand_power_base(sp.powsimp(f_a * f_w), force=False) / closed,
            1,
        ),
        equal("the density integrates to 1 (Gaussian w-integral, then Gamma(r/2))",
              sp.simplify(total), 1),
    )
    return ProofRecord(
        name="WPM law: density of MV",
        statement=(
            "p_V(y) = C a^{(r-d-1)/2} exp(-r N/(2a)) for a = V^T y > 0 (0 otherwise), "
            "N = |y|^2, C = (r/2)^{r/2} (r/(2 pi))^{(d-1)/2} / Gamma(r/2)."
        ),
        result=str(closed),
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


def _log_density(av: sp.Expr, nn: sp.Expr) -> sp.Expr:
    return (r - d - 1) / 2 * sp.log(av) - r * nn / (2 * av)


@cache
def proof_privacy_loss() -> ProofRecord:
    """``L = log p_V - log p_V'`` in the coordinates ``u = a'/a``, ``W = r N / a``."""
    loss = _log_density(a, big_n) - _log_density(a2, big_n)
    reduced = _c() * sp.log(u) + w_sym * (1 - u) / (2 * u)
    substituted = loss.subs({a2: u * a}).subs({big_n: w_sym * a / r})
    steps = (
        equal(
            "L = ((r-d-1)/2) log(a/a') - (rN/2)(1/a - 1/a') becomes c log u + W(1-u)/(2u) with "
            "a' = u a, N = W a / r, c = (d+1-r)/2",
            sp.expand_log(substituted, force=True),
            sp.expand_log(reduced, force=True),
        ),
        equal(
            "dL/dW = (1-u)/(2u): L is affine in W given u",
            sp.diff(reduced, w_sym),
            (1 - u) / (2 * u),
        ),
        holds(
            "c = (d+1-r)/2 >= 1/2 on the domain r <= d",
            sp.simplify(_c().subs(r, d) - sp.Rational(1, 2)) == 0,
            method="c at r = d is 1/2 and c decreases in r",
        ),
    )
    return ProofRecord(
        name="WPM law: privacy loss in reduced coordinates",
        statement=(
            "For y with a = V^T y > 0 and a' = V'^T y > 0: L(y) = c log u + W (1-u)/(2u), "
            "u = a'/a, W = r|y|^2/a, c = (d+1-r)/2; L = +inf where a' <= 0."
        ),
        result=str(reduced),
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


@cache
def proof_reduced_law() -> ProofRecord:
    """Under ``P_V``: ``u = rho + sigma T`` with ``T ~ t_r``, ``W ~ chi2_{r+d-1}``, independent."""
    s_, z1, cc = sp.symbols("s z_1 c_rest", positive=True)
    p_, q_, big_r, th, t = sp.symbols("p q R theta t", positive=True)
    # u and W from the representation: a = s, a' = rho s + sqrt(1-rho^2) sqrt(s/r) z1,
    # N = s^2 + (s/r)(z1^2 + c_rest); with x = r s
    a_rep = s_
    a2_rep = rho * s_ + sp.sqrt(1 - rho**2) * sp.sqrt(s_ / r) * z1
    n_rep = s_**2 + s_ / r * (z1**2 + cc)
    # polar coordinates of (p, q) = (sqrt(x), z1): density prop. p^{r-1} e^{-(p^2+q^2)/2}
    dens_pq = p_ ** (r - 1) * sp.exp(-(p_**2 + q_**2) / 2)
    polar = dens_pq.subs({p_: big_r * sp.cos(th), q_: big_r * sp.sin(th)}) * big_r
    factorised = big_r**r * sp.exp(-(big_r**2) / 2) * sp.cos(th) ** (r - 1)
    # theta-density cos^{r-1} theta; T = sqrt(r) tan(theta) has density prop. (1+t^2/r)^{-(r+1)/2}
    theta_of_t = sp.atan(t / sp.sqrt(r))
    t_density = sp.cos(theta_of_t) ** (r - 1) * sp.diff(theta_of_t, t)
    student = (1 + t**2 / r) ** (-(r + 1) / 2) / sp.sqrt(r)
    # R^2 ~ chi2_{r+1}: density of R prop. R^r e^{-R^2/2} -> of R^2: chi2_{r+1}
    y2 = sp.Symbol("y2", positive=True)
    r2_density = (sp.sqrt(y2) ** r * sp.exp(-y2 / 2) / (2 * sp.sqrt(y2)))
    mgf_t = sp.Symbol("tau", negative=True)
    steps = (
        equal(
            "u = a'/a = rho + sqrt((1-rho^2)/r) * z_1/sqrt(s) = rho + sigma T, "
            "T = z_1/sqrt(x/r), x = r s",
            a2_rep / a_rep,
            rho + sp.sqrt((1 - rho**2) / r) * z1 / sp.sqrt(s_),
        ),
        equal(
            "W = r N / a = x + z_1^2 + c_rest (x = r s ~ chi2_r, z_1 ~ N(0,1), "
            "c_rest ~ chi2_{d-2})",
            sp.expand(r * n_rep / a_rep),
            r * s_ + z1**2 + cc,
        ),
        equal(
            "polar coordinates p = R cos(theta), q = R sin(theta) factorise the density of "
            "(sqrt(x), z_1): R^r e^{-R^2/2} * cos(theta)^{r-1} (R and theta independent)",
            sp.simplify(sp.powsimp(polar / factorised, force=True)),
            1,
        ),
        equal(
            "T = sqrt(r) tan(theta) with theta-density prop. cos^{r-1}(theta) has density prop. "
            "(1 + t^2/r)^{-(r+1)/2} (Student t_r)",
            sp.simplify(t_density / student),
            1,
        ),
        equal(
            "R^2 has density prop. y^{(r+1)/2 - 1} e^{-y/2} (chi2_{r+1})",
            sp.simplify(r2_density / (y2 ** ((r + 1) / 2 - 1) * sp.exp(-y2 / 2))),
            sp.Rational(1, 2),
        ),
        equal(
            "W = R^2 + c_rest ~ chi2_{r+1} * chi2_{d-2} = chi2_{r+d-1} (product of MGFs "
            "(1-2 tau)^{-k/2}), independent of theta, hence of T",
            (1 - 2 * mgf_t) ** (-(r + 1) / 2) * (1 - 2 * mgf_t) ** (-(d - 2) / 2),
            (1 - 2 * mgf_t) ** (-(r + d - 1) / 2),
        ),
    )
    return ProofRecord(
        name="WPM law: reduced coordinates are independent Student-t and chi-square",
        statement=(
            "Under P_V: u = rho + sqrt((1-rho^2)/r) T with T ~ t_r, W ~ chi2_{r+d-1}, and T, W "
            "independent. (For d = 2 the chi2_{d-2} part is absent, which the MGF step covers.)"
        ),
        result="u = rho + sqrt((1-rho**2)/r)*T, W ~ chi2(r+d-1)",
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


def _u_density(z: sp.Expr) -> sp.Expr:
    """f_u(z) = c_r (1-rho^2)^{r/2} (z^2 - 2 rho z + 1)^{-(r+1)/2}."""
    c_r = sp.gamma((r + 1) / 2) / (sp.sqrt(sp.pi) * sp.gamma(r / 2))
    return c_r * (1 - rho**2) ** (r / 2) * (z**2 - 2 * rho * z + 1) ** (-(r + 1) / 2)


@cache
def proof_pair_symmetry() -> ProofRecord:
    """``L(1/u, W/u) = -L(u, W)``, the density identity of ``u`` under ``x -> 1/x``, and the
    Student density written in ``u``."""
    reduced = _c() * sp.log(u) + w_sym * (1 - u) / (2 * u)
    swapped = reduced.subs({u: 1 / u, w_sym: w_sym / u}, simultaneous=True)
    sig = sp.sqrt((1 - rho**2) / r)
    t_of_u = (u - rho) / sig
    c_r = sp.gamma((r + 1) / 2) / (sp.sqrt(sp.pi) * sp.gamma(r / 2))
    student_u = c_r / sp.sqrt(r) * (1 + t_of_u**2 / r) ** (-(r + 1) / 2) / sig
    rr = sp.Symbol("rr", positive=True)  # a generic positive exponent for the power identities
    steps = (
        equal(
            "the loss of the swapped pair: L(1/u, W/u) = -L(u, W) (u' = a/a' = 1/u, "
            "W' = r N/a' = W/u)",
            sp.expand_log(swapped, force=True),
            sp.expand_log(-reduced, force=True),
        ),
        equal(
            "the t_r density of T = (u - rho)/sigma, as a density in u, is "
            "c_r (1-rho^2)^{r/2} (u^2 - 2 rho u + 1)^{-(r+1)/2} (base identity)",
            sp.simplify((1 + t_of_u**2 / r) - (u**2 - 2 * rho * u + 1) / (1 - rho**2)),
            0,
        ),
        equal(
            "... and its constant: c_r / (sqrt(r) sigma) = c_r (1-rho^2)^{-1/2} "
            "(the remaining factor (1-rho^2)^{(r+1)/2 - 1/2} = (1-rho^2)^{r/2})",
            sp.simplify((student_u / _u_density(u)).subs(
                (1 + t_of_u**2 / r), (u**2 - 2 * rho * u + 1) / (1 - rho**2)
            ).subs(rho, sp.Rational(1, 3)).subs(u, sp.Rational(2, 5)).subs(r, 3)),
            1,
        ),
        equal(
            "f_u(1/x) / x^2 = x^{r-1} f_u(x) (the base: (1/x^2 - 2 rho/x + 1) = "
            "(x^2 - 2 rho x + 1)/x^2, raised to -(rr+1)/2)",
            sp.powsimp(sp.expand_power_base(
                (x**2) ** ((rr + 1) / 2) / x**2, force=True), force=True),
            x ** (rr - 1),
        ),
    )
    return ProofRecord(
        name="WPM law: symmetry of the pair",
        statement=(
            "The reflection exchanging V and V' preserves the law of M (O M O^T ~ M), so the law "
            "of L under P_V' is the law of -L under P_V: delta(eps) is the same in both orders "
            "and delta(eps) = P[L > eps] - e^eps P[L < -eps]."
        ),
        result="L(1/u, W/u) = -L(u, W)",
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


@cache
def proof_profile_reduction() -> ProofRecord:
    """The closed-form ``W``-expectation given ``u`` and the ``x = 1/u`` substitution of the
    part ``u > 1``."""
    n = r + d - 1
    bb = sp.Symbol("B", positive=True)
    wv = sp.Symbol("w", positive=True)
    # tilt: e^{-B w} f_n(w) = (1+2B)^{-n/2} (1+2B) f_n((1+2B) w)
    lhs = sp.exp(-bb * wv) * _chi2_density(wv, n)
    rhs = (1 + 2 * bb) ** (-n / 2) * (1 + 2 * bb) * _chi2_density((1 + 2 * bb) * wv, n)
    big_a = _c() * sp.log(u)
    b_of_u = (1 - u) / (2 * u)
    # threshold: A + B W > eps  <=>  W > w0 (u < 1), w0 = (eps - A)/B = u w(u),
    # w = 2(eps - c log u)/(1-u)
    w_fun = 2 * (eps - _c() * sp.log(u)) / (1 - u)
    w0 = (eps - big_a) / b_of_u
    # part u > 1 with u = 1/x: w0' = (A - eps)/|B| = v(x) / x, v = 2(-c log x - eps)/(1-x)
    xx = sp.Symbol("x", positive=True)
    v_fun = 2 * (-_c() * sp.log(xx) - eps) / (1 - xx)
    w0_prime = ((big_a - eps) / (-b_of_u)).subs(u, 1 / xx)
    steps = (
        equal(
            "exponential tilt of chi2_n: e^{-Bw} f_n(w) = (1+2B)^{-n/2} (1+2B) f_n((1+2B)w), so "
            "E[e^{-BW} 1{W > w0}] = (1+2B)^{-n/2} Q_n((1+2B) w0)",
            sp.simplify(sp.powsimp(lhs / rhs, force=True)),
            1,
        ),
        equal("1 + 2B = 1/u for B = (1-u)/(2u)", 1 + 2 * b_of_u, 1 / u),
        equal(
            "the weight e^{eps - A} (1+2B)^{-n/2} = e^eps u^{r-1} (n = r+d-1, A = c log u)",
            sp.powsimp(sp.exp(-big_a) * u ** (n / 2), force=True),
            u ** (r - 1),
        ),
        equal("u < 1: W > w0 with w0 = u w(u), w(u) = 2(eps - c log u)/(1-u); (1+2B) w0 = w(u)",
              sp.simplify(w0 - u * w_fun), 0),
        equal("u > 1, u = 1/x: W < w0' with w0' = (A - eps)/(-B) = v(x), "
              "v(x) = 2(-c log x - eps)/(1-x); the tilted threshold is (1+2B) w0' = x v(x)",
              sp.simplify(sp.expand_log(w0_prime - v_fun, force=True)), 0),
        equal("(1 + 2B) at u = 1/x is x", (1 + 2 * b_of_u).subs(u, 1 / xx), xx),
        equal("w0' > 0 exactly when x < b = e^{-eps/c} (log x < -eps/c)",
              sp.simplify(sp.expand_log(v_fun.subs(xx, sp.exp(-eps / _c())), force=True)), 0),
    )
    return ProofRecord(
        name="WPM law: one-dimensional privacy profile",
        statement=(
            "delta(eps) = F_t(-rho/sigma) + int_0^1 [Q_n(x w(x)) - e^eps x^{r-1} Q_n(w(x))] "
            "f_u(x) dx + int_0^b [x^{r-1} P_n(v(x)) - e^eps P_n(x v(x))] f_u(x) dx, n = r+d-1, "
            "b = e^{-eps/c}, eps >= 0."
        ),
        result="delta = floor + I_1 + I_2",
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


@cache
def proof_support_mass() -> ProofRecord:
    """WPM-3: ``E_{x~chi2_r}[Phi(-alpha sqrt(x))] = F_{t_r}(-alpha sqrt(r))``,
    ``alpha = rho/sqrt(1-rho^2)``: both sides are 1/2 at ``alpha = 0`` and have the same
    derivative in ``alpha`` (a Gamma integral), for symbolic ``r``."""
    al = sp.Symbol("alpha", positive=True)
    xs = sp.Symbol("x", positive=True)
    # d/d alpha of E[Phi(-alpha sqrt x)] = -E[sqrt(x) phi(alpha sqrt x)]
    integrand = -sp.sqrt(xs) * sp.exp(-(al**2) * xs / 2) / sp.sqrt(2 * sp.pi) * _chi2_density(xs, r)
    lhs_derivative = sp.integrate(integrand, (xs, 0, sp.oo), conds="none")
    c_r = sp.gamma((r + 1) / 2) / (sp.sqrt(sp.pi) * sp.gamma(r / 2))
    # d/d alpha F_t(-alpha sqrt r) = -sqrt(r) f_t(alpha sqrt r), f_t(t) = c_r/sqrt(r) (1+t^2/r)^..
    rhs_derivative = -c_r * (1 + al**2) ** (-(r + 1) / 2)
    # r = 1: E[Phi(-alpha sqrt(x))] = 1/2 - atan(alpha)/pi (Cauchy CDF), explicit check
    r1 = sp.integrate(
        (integrand.subs(r, 1)).subs(al, sp.Symbol("b", positive=True)),
        (sp.Symbol("x", positive=True), 0, sp.oo), conds="none",
    )
    steps = (
        equal(
            "d/d alpha E_x[Phi(-alpha sqrt x)] = -Gamma((r+1)/2)/(sqrt(pi) Gamma(r/2)) "
            "(1+alpha^2)^{-(r+1)/2} = d/d alpha F_{t_r}(-alpha sqrt r)",
            sp.simplify(sp.powsimp(lhs_derivative / rhs_derivative, force=True)),
            1,
        ),
        holds("both sides equal 1/2 at alpha = 0 (Phi(0) = F_t(0) = 1/2)", True,
              method="symmetry of N(0,1) and t_r"),
        equal(
            "r = 1 cross-check: the derivative is -1/(pi (1+alpha^2)), that of "
            "1/2 - atan(alpha)/pi",
            sp.simplify(r1 - sp.diff(sp.Rational(1, 2) - sp.atan(sp.Symbol("b", positive=True))
                                     / sp.pi, sp.Symbol("b", positive=True))),
            0,
        ),
    )
    return ProofRecord(
        name="WPM-3 support mass",
        statement=(
            "P_V[V'^T MV <= 0] = P[z_1 <= -alpha sqrt(x)] = E_{x~chi2_r}[Phi(-rho sqrt(x)/"
            "sqrt(1-rho^2))] = F_{t_r}(-rho sqrt(r/(1-rho^2))); as rho -> -rho it covers "
            "negative alignments too (then alpha < 0 and the identity holds by symmetry)."
        ),
        result="E[Phi(-alpha*sqrt(x))] = F_t(-alpha*sqrt(r))",
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


@cache
def proof_theorem1() -> ProofRecord:
    """WPM-2: the bound on ``L`` on the event ``{|T| <= t, W <= kappa}`` and where the printed
    coefficient ``(d+r-1)/2`` undercuts it."""
    kk, kap = sp.symbols("K kappa", positive=True)
    reduced = _c() * sp.log(u) + w_sym * (1 - u) / (2 * u)
    corrected = _c() * sp.log(rho + kk) + kap * (1 - rho + kk) / (2 * (rho - kk))
    printed = (d + r - 1) / 2 * sp.log(rho + kk) + kap * (1 - rho + kk) / (2 * (rho - kk))
    steps: list[ProofStep] = [
        equal("dL/du = c/u - W/(2u^2); the log term increases in u (c > 0)",
              sp.diff(reduced, u), _c() / u - w_sym / (2 * u**2)),
        equal("d/du [(1-u)/(2u)] = -1/(2u^2) < 0: the W-coefficient decreases in u",
              sp.diff((1 - u) / (2 * u), u), -1 / (2 * u**2)),
        holds(
            "on u in [rho-K, rho+K] (rho > K), W in [0, kappa]: L <= c log(rho+K) + "
            "kappa (1-rho+K)/(2(rho-K)), since the W-term is <= kappa (1-u)/(2u) <= "
            "kappa (1-rho+K)/(2(rho-K)) when u <= 1 and <= 0 when u > 1",
            True, method="monotonicity of the two terms (steps above)",
        ),
        holds(
            "P[|T| > t] + P[W > kappa] = 2 delta' + delta' (t = t_r(1-delta'), "
            "kappa = kappa_{d+r-1}(1-delta')), and delta(eps) <= P[L > eps] (eps >= 0)",
            True, method="union bound; (1 - e^{eps-L})_+ <= 1{L > eps}",
        ),
        equal(
            "printed - corrected = (r-1) log(rho + K): the printed eps is smaller than the "
            "bound on L exactly when r >= 2 and rho + K < 1",
            sp.simplify(printed - corrected),
            (r - 1) * sp.log(rho + kk),
        ),
    ]
    return ProofRecord(
        name="WPM-2 Theorem 1: corrected log coefficient",
        statement=(
            "With t = t_r(1-delta'), K = sqrt((1-rho^2)/r) t and kappa = kappa_{d+r-1}(1-delta'), "
            "rho > K: MV is (max(0, eps_c), 3 delta')-DP with eps_c = ((d+1-r)/2) log(rho+K) + "
            "kappa (1-rho+K)/(2(rho-K)); the printed (d+r-1)/2 is smaller when r >= 2, rho+K < 1."
        ),
        result=str(corrected),
        steps=tuple(steps),
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )
