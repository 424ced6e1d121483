"""Tests for proofs/lora_u.py: the exact law of u_i = (q (A^T A - I))_i (LDP-2, LDP-4, LDP-5).

Oracles, each independent of the sympy derivation it checks:

* Monte Carlo of the actual matrix product (numpy, fixed seeds): sample moments within z = 5
  standard errors, the standard error from the *exact* higher moments (read off the cf series);
  empirical cdf / cf values within z = 5 binomial / bounded-variable standard errors; a
  Kolmogorov distance within the Berry-Esseen bound plus the DKW margin at level 1e-6.
* mpmath at 30 digits: the Bessel-K density against the Fourier inversion of the cf and
  against the gamma mixture integral; the cf against the integral of the conditional cf.

At least three tests here would fail if Lemma 3.1 held at small r (u_i ~ N(0, ||q||^2/r)).
"""

from __future__ import annotations

import ast
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.lora_u import (
    berry_esseen_bound,
    proof_u_berry_esseen,
    proof_u_characteristic_function,
    proof_u_law,
    proof_u_limit_m_infinity,
    proof_u_limit_r_infinity,
    proof_u_moments,
    q_i,
    s,
    t,
    u_characteristic_function,
    u_density,
    u_summary,
)
from proofs.moments import expect_normal
from proofs.wishart import r

RECORDS = (
    proof_u_moments,
    proof_u_characteristic_function,
    proof_u_law,
    proof_u_limit_m_infinity,
    proof_u_limit_r_infinity,
    proof_u_berry_esseen,
)
Z = 5.0
#: q in R^5 (exact rationals), i = 0
Q = [
    sp.Rational(9, 10),
    sp.Rational(-1, 2),
    sp.Rational(3, 10),
    sp.Rational(6, 5),
    sp.Rational(-7, 10),
]


def _params(q: list[sp.Rational], i: int, n_rows: int) -> dict[sp.Symbol, sp.Expr]:
    s2 = sum(x**2 for j, x in enumerate(q) if j != i)
    return {r: n_rows, q_i: q[i], s: sp.sqrt(s2)}


def _exact_moments(subs: dict[sp.Symbol, sp.Expr], nmax: int = 8) -> list[float]:
    """E[u^n], n = 0..nmax, from the Taylor series of the derived cf at concrete parameters."""
    phi = u_characteristic_function().subs(subs)
    ser = sp.series(phi, t, 0, nmax + 1).removeO()
    return [float(sp.re(sp.factorial(n) * ser.coeff(t, n) / sp.I**n)) for n in range(nmax + 1)]


def _sample_u(q: np.ndarray, i: int, n_rows: int, n: int, seed: int, chunk: int = 50_000):
    """u_i = (q (A^T A - I))_i for n independent A (n_rows x m, iid N(0, 1/n_rows))."""
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        a = rng.standard_normal((k, n_rows, len(q))) / np.sqrt(n_rows)
        aq = a @ q  # (k, n_rows): A_k q^T
        out.append(np.einsum("nk,nk->n", aq, a[:, :, i]) - q[i])
    return np.concatenate(out)


# ---------------------------------------------------------------------------- the records


@pytest.mark.parametrize("make", RECORDS, ids=lambda f: f.__name__)
def test_record_ok(make):
    rec = make()
    assert rec.steps and rec.ok, [st.claim for st in rec.steps if not st.ok]
    assert rec.source and rec.statement


def test_variance_formula_is_not_the_papers():
    summ = u_summary()
    qn2 = q_i**2 + s**2
    assert sp.simplify(summ["variance"] - (qn2 + q_i**2) / r) == 0
    assert sp.simplify(summ["variance"] - qn2 / r) != 0
    assert sp.simplify(summ["variance"].subs(q_i, 0) - s**2 / r) == 0


# ---------------------------------------------------------------------------- Monte Carlo


@pytest.fixture(scope="module")
def small_r_samples():
    """r = 2, m = 5, i = 0: 400 000 draws of u_i from the matrix product itself."""
    q = np.array([float(x) for x in Q])
    return _sample_u(q, 0, 2, 400_000, seed=31), _exact_moments(_params(Q, 0, 2))


def test_moments_monte_carlo(small_r_samples):
    u, mom = small_r_samples
    n = len(u)
    for k in (1, 2, 3, 4):
        se = math.sqrt((mom[2 * k] - mom[k] ** 2) / n)
        assert abs(np.mean(u**k) - mom[k]) < Z * se, (k, np.mean(u**k), mom[k], se)


def test_lemma_3_1_variance_rejected_at_small_r(small_r_samples):
    """Would fail if Var u_i = ||q||^2/r (Lemma 3.1): the sample variance is > 20 s.e. away."""
    u, mom = small_r_samples
    qn2 = float(sum(x**2 for x in Q))
    se = math.sqrt((mom[4] - mom[2] ** 2) / len(u))
    assert abs(np.mean(u**2) - (qn2 + float(Q[0]) ** 2) / 2) < Z * se
    assert abs(np.mean(u**2) - qn2 / 2) > 20 * se


def test_gaussian_fourth_moment_rejected_at_small_r(small_r_samples):
    """Would fail if u_i were Gaussian with *any* variance: E u^4 is far from 3 (E u^2)^2, and the
    excess kurtosis matches the derived value (>= 6/r)."""
    u, mom = small_r_samples
    se4 = math.sqrt((mom[8] - mom[4] ** 2) / len(u))
    assert abs(np.mean(u**4) - 3 * mom[2] ** 2) > 20 * se4
    exk = float(u_summary()["excess_kurtosis"].subs(_params(Q, 0, 2)))
    assert exk >= 6 / 2
    assert abs(mom[4] / mom[2] ** 2 - 3 - exk) < 1e-12


def test_characteristic_function_monte_carlo(small_r_samples):
    u, _ = small_r_samples
    phi = u_characteristic_function().subs(_params(Q, 0, 2))
    for tv in (0.3, 0.8, 1.7):
        exact = complex(phi.subs(t, tv))
        emp = complex(np.mean(np.cos(tv * u)), np.mean(np.sin(tv * u)))
        assert abs(emp.real - exact.real) < Z / math.sqrt(len(u))
        assert abs(emp.imag - exact.imag) < Z / math.sqrt(len(u))


def _mp(x: sp.Expr) -> mpmath.mpf:
    """An exact sympy number as an mpmath number at the working precision."""
    return mpmath.mpf(str(sp.N(x, mpmath.mp.dps + 10)))


def _vg_pdf(subs: dict[sp.Symbol, sp.Expr]):
    """The Bessel-K density of ``u_density`` written directly in mpmath (fast quadrature)."""
    lam = mpmath.mpf(int(subs[r])) / 2
    qi, sv, n_rows = _mp(subs[q_i]), _mp(subs[s]), int(subs[r])
    alpha = n_rows * mpmath.sqrt(qi**2 + sv**2) / sv**2
    beta, gam = n_rows * qi / sv**2, n_rows / sv
    nu = lam - mpmath.mpf(1) / 2

    def dens(xx):
        y = xx + qi
        ay = abs(y)
        return (
            gam ** (2 * lam)
            * ay**nu
            * mpmath.besselk(nu, alpha * ay)
            * mpmath.exp(beta * y)
            / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(lam) * (2 * alpha) ** nu)
        )

    return dens


def _vg_cdf(subs: dict[sp.Symbol, sp.Expr], x: float) -> float:
    """P(u_i <= x) by mpmath quadrature of the Bessel-K density (split at the cusp y = 0)."""
    dens = _vg_pdf(subs)
    qi = _mp(subs[q_i])
    pts = sorted({-mpmath.inf, -qi, mpmath.mpf(x)})
    pts = [p for p in pts if p <= x]
    return float(mpmath.quad(dens, pts))


def test_empirical_cdf_matches_bessel_density(small_r_samples):
    u, _ = small_r_samples
    subs = _params(Q, 0, 2)
    with mpmath.workdps(20):
        for x in (-1.5, -0.5, 0.4, 2.0):
            p = _vg_cdf(subs, x)
            emp = float(np.mean(u <= x))
            assert abs(emp - p) < Z * math.sqrt(p * (1 - p) / len(u)), (x, emp, p)


def test_m_to_infinity_is_not_gaussian():
    """r = 2, m = 200, q_j = 1/sqrt(m) (||q|| = 1): the law is near Laplace(b = 1/2), not
    N(0, ||q||^2/r). Would fail if Lemma 3.1's normal limit were accurate at this m."""
    m, n_rows, n = 200, 2, 100_000
    q = np.full(m, 1 / math.sqrt(m))
    u = _sample_u(q, 0, n_rows, n, seed=5, chunk=10_000)
    x = math.sqrt(0.5)  # one standard deviation of N(0, 1/2)
    emp = float(np.mean(u <= x))
    se = math.sqrt(emp * (1 - emp) / n)
    qi_exact = 1 / sp.sqrt(m)
    subs = {r: n_rows, q_i: qi_exact, s: sp.sqrt(1 - qi_exact**2)}
    with mpmath.workdps(20):
        exact = _vg_cdf(subs, x)
    laplace = 1 - math.exp(-x / 0.5) / 2
    gauss = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert abs(emp - exact) < Z * se
    assert abs(exact - laplace) < 0.01
    assert abs(emp - gauss) > 0.02 + Z * se


def test_berry_esseen_bound_holds_at_large_r():
    """r = 64, m = 5: the Kolmogorov distance of u_i / sd to N(0, 1) is below the derived
    Berry-Esseen bound plus the DKW margin (level 1e-6)."""
    n_rows, n = 64, 60_000
    q = np.array([float(x) for x in Q])
    u = _sample_u(q, 0, n_rows, n, seed=11, chunk=10_000)
    var = float(u_summary()["variance"].subs(_params(Q, 0, n_rows)))
    z = np.sort(u / math.sqrt(var))
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    ecdf_hi = np.arange(1, n + 1) / n
    d = max(np.max(ecdf_hi - cdf), np.max(cdf - (ecdf_hi - 1 / n)))
    dkw = math.sqrt(math.log(2 / 1e-6) / (2 * n))
    bound = float(berry_esseen_bound().subs(r, n_rows))
    assert d <= bound + dkw
    assert bound == pytest.approx(0.4748 * 15**0.75 / 8)


def test_row_summand_moments_monte_carlo():
    """Y = q_i x^2 + w x - q_i/r, x ~ N(0, 1/r), w ~ N(0, s^2/r): E Y^2 and E Y^4 against samples,
    and the Lyapunov bounds (E Y^2)^(3/2) <= E|Y|^3 <= (E Y^4)^(3/4)."""
    x, w = sp.symbols("x w")
    n_rows, qv, sv = 3, 0.8, 1.3
    yexpr = qv * x**2 + w * x - sp.Rational(4, 5) / n_rows
    var = {x: sp.Rational(1, n_rows), w: sp.Rational(169, 100) / n_rows}
    mom = {k: float(expect_normal(yexpr**k, var)) for k in (2, 4, 8)}
    rng = np.random.default_rng(3)
    n = 400_000
    xs = rng.standard_normal(n) / math.sqrt(n_rows)
    ws = sv * rng.standard_normal(n) / math.sqrt(n_rows)
    y = qv * xs**2 + ws * xs - qv / n_rows
    for k in (2, 4):
        se = math.sqrt((mom[2 * k] - mom[k] ** 2) / n)
        assert abs(np.mean(y**k) - mom[k]) < Z * se
    abs3 = np.mean(np.abs(y) ** 3)
    assert mom[2] ** 1.5 < abs3 < mom[4] ** 0.75
    assert mom[4] / mom[2] ** 2 <= 15


# ---------------------------------------------------------------------------- mpmath


def _density_value(subs: dict[sp.Symbol, sp.Expr], x: sp.Expr) -> mpmath.mpf:
    """``u_density`` (the sympy closed form) evaluated by sympy at the working precision."""
    return _mp(u_density(x).subs(subs))


@pytest.mark.parametrize(
    ("n_rows", "x"), [(3, sp.Rational(-2)), (3, sp.Rational(1, 5)), (5, sp.Rational(3, 2))]
)
def test_density_equals_fourier_inversion_of_cf(n_rows, x):
    """f(x) = (1/pi) int_0^oo Re(e^{-itx} phi(t)) dt (mpmath.quadosc, the phase of phi tends to
    e^{-i t q_i}, so the integrand oscillates at frequency |x + q_i|)."""
    subs = {r: n_rows, q_i: sp.Rational(1, 2), s: sp.Rational(3, 2)}
    qi, sv = mpmath.mpf(1) / 2, mpmath.mpf(3) / 2
    with mpmath.workdps(20):
        xv = mpmath.mpf(x)

        def integrand(tt):
            base = 1 - 2j * qi * tt / n_rows + sv**2 * tt**2 / n_rows**2
            phi = mpmath.exp(-1j * qi * tt) * mpmath.power(base, -mpmath.mpf(n_rows) / 2)
            return mpmath.re(mpmath.exp(-1j * tt * xv) * phi)

        inv = mpmath.quadosc(integrand, [0, mpmath.inf], omega=abs(xv + qi)) / mpmath.pi
        assert abs(inv / _density_value(subs, x) - 1) < mpmath.mpf("1e-15"), (x, inv)


@pytest.mark.parametrize("n_rows", [1, 2, 4])
def test_density_equals_gamma_mixture(n_rows):
    """f(x) = int_0^oo N(x; -q_i + q_i v, (s^2/r) v) Gamma(v; r/2, rate r/2) dv, by mpmath."""
    qi, sv = mpmath.mpf(-3) / 4, mpmath.mpf(1)
    subs = {r: n_rows, q_i: sp.Rational(-3, 4), s: sp.Integer(1)}
    with mpmath.workdps(30):
        lam = mpmath.mpf(n_rows) / 2

        def integrand(v, xv):
            sd2 = sv**2 / n_rows * v
            normal = mpmath.exp(-((xv + qi - qi * v) ** 2) / (2 * sd2)) / mpmath.sqrt(
                2 * mpmath.pi * sd2
            )
            gam = lam**lam * v ** (lam - 1) * mpmath.exp(-lam * v) / mpmath.gamma(lam)
            return normal * gam

        for x in (sp.Rational(-1, 2), sp.Rational(1, 3), sp.Rational(2)):
            xv = mpmath.mpf(x)
            mix = mpmath.quad(lambda v, xv=xv: integrand(v, xv), [0, 1, 4, mpmath.inf])
            assert abs(mix / _density_value(subs, x) - 1) < mpmath.mpf("1e-20"), (x, mix)


@pytest.mark.parametrize("n_rows", [1, 2, 4])
def test_density_mass_mean_variance(n_rows):
    """The Bessel-K density integrates to 1, has mean 0 and the derived variance (mpmath)."""
    subs = {r: n_rows, q_i: sp.Rational(2, 5), s: sp.Rational(7, 10)}
    with mpmath.workdps(20):
        f = _vg_pdf(subs)
        for x in (sp.Rational(-1), sp.Rational(1, 2)):  # the mpmath form is u_density itself
            assert abs(f(mpmath.mpf(x)) / _density_value(subs, x) - 1) < mpmath.mpf("1e-18")
        cusp = -mpmath.mpf(2) / 5
        pts = [-mpmath.inf, cusp - 1, cusp, cusp + 1, mpmath.inf]
        mass = mpmath.quad(f, pts)
        mean = mpmath.quad(lambda x: x * f(x), pts)
        second = mpmath.quad(lambda x: x * x * f(x), pts)
    var = float(u_summary()["variance"].subs(subs))
    assert abs(mass - 1) < 1e-15
    assert abs(mean) < 1e-15
    assert abs(second - var) < 1e-14


@settings(max_examples=10, deadline=None)
@given(
    n_rows=st.integers(1, 6),
    qi=st.fractions("-2", "2", max_denominator=10),
    sv=st.fractions("1/10", "3", max_denominator=10),
    tv=st.fractions("-4", "4", max_denominator=10),
)
def test_cf_equals_conditional_integral(n_rows, qi, sv, tv):
    """phi(t) = int_0^oo exp(i q_i t (g - 1) - t^2 s^2 g/(2r)) Gamma(g; r/2, rate r/2) dg
    (mpmath.quad, the oscillating range cut into half-periods)."""
    exact = {r: n_rows, q_i: sp.Rational(qi), s: sp.Rational(sv)}
    t_exact = sp.Rational(tv)
    with mpmath.workdps(20):
        qi, sv, tv = (mpmath.mpf(x.numerator) / x.denominator for x in (qi, sv, tv))
        lam = mpmath.mpf(n_rows) / 2
        top = 60 / (lam + tv**2 * sv**2 / (2 * n_rows))  # the integrand is < e^-60 beyond
        n_int = max(4, int(abs(qi * tv) * top / mpmath.pi) + 1)
        pts = [mpmath.mpf(0)] + [top * (k + 1) / n_int for k in range(n_int)] + [mpmath.inf]

        def integrand(g):
            dens = lam**lam * g ** (lam - 1) * mpmath.exp(-lam * g) / mpmath.gamma(lam)
            return mpmath.exp(1j * qi * tv * (g - 1) - tv**2 * sv**2 * g / (2 * n_rows)) * dens

        numeric = complex(mpmath.quad(integrand, pts))
        closed = complex(u_characteristic_function(t_exact).subs(exact).evalf(20))
    assert abs(numeric - closed) < 1e-11


def test_abs_third_moment_of_chi2_deviation():
    """E|X^2 - 1|^3 (X ~ N(0,1)) from the Berry-Esseen record vs mpmath quadrature."""
    rec = proof_u_berry_esseen()
    expr = sp.sympify(ast.literal_eval(rec.result)["E_abs_X2m1_cubed"])
    with mpmath.workdps(30):
        num = mpmath.quad(
            lambda x: abs(x * x - 1) ** 3 * mpmath.npdf(x), [-mpmath.inf, -1, 0, 1, mpmath.inf]
        )
        assert abs(_mp(expr) - num) < mpmath.mpf("1e-25")
