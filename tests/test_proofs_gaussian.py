"""Tests for proofs/gaussian.py (claim ACC-1).

Oracles: mpmath quadrature (40 digits) of the hockey-stick integrand max(p - e^eps q, 0), split at
the crossing point found by mpmath.findroot (not the derived x*); mpmath.diff of the closed form;
Monte Carlo of the k-fold composition from its definition (the sum of k per-coordinate privacy
losses), with a Hoeffding interval at level 1e-6 (the summand (1 - e^(eps - L))_+ lies in [0, 1]).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from proofs._check import equal
from proofs.gaussian import (
    balle_wang_delta,
    balle_wang_delta_derivative,
    eps,
    mu,
    proof_gaussian_composition,
    proof_gaussian_hockey_stick,
    proof_gaussian_privacy_loss,
    proof_gaussian_scaling,
)

RECORDS = (
    proof_gaussian_privacy_loss,
    proof_gaussian_hockey_stick,
    proof_gaussian_composition,
    proof_gaussian_scaling,
)


@pytest.mark.parametrize("make", RECORDS, ids=lambda f: f.__name__)
def test_record_ok(make):
    rec = make()
    assert rec.steps and rec.ok, [s.claim for s in rec.steps if not s.ok]
    assert rec.source and rec.statement


def test_a_wrong_formula_fails():
    """The check machinery rejects a plausible but wrong profile (sign of mu/2 swapped)."""
    wrong = (1 + sp.erf((-mu / 2 - eps / mu) / sp.sqrt(2))) / 2 - sp.exp(eps) * (
        1 + sp.erf((mu / 2 - eps / mu) / sp.sqrt(2))
    ) / 2
    assert not equal("wrong", balle_wang_delta(), wrong).ok


def _mp_delta_quad(m: mpmath.mpf, e: mpmath.mpf, scale: mpmath.mpf | None = None):
    """int max(N(x; m*scale, scale^2) - e^e N(x; 0, scale^2), 0) dx by mpmath.quad."""
    scale = mpmath.mpf(1) if scale is None else scale
    mean = m * scale

    def p(x):
        return mpmath.npdf(x, mean, scale)

    def q(x):
        return mpmath.npdf(x, 0, scale)

    def diff(x):
        return p(x) - mpmath.exp(e) * q(x)

    # crossing point by root finding on the log-ratio (independent of the derived x*)
    root = mpmath.findroot(lambda x: mpmath.log(p(x)) - mpmath.log(q(x)) - e, mean)
    return mpmath.quad(lambda x: max(diff(x), 0), [root, root + 10 * scale, mpmath.inf])


def _closed(expr: sp.Expr):
    """An mpmath function of (mu, eps) for a closed form (moderate tails only: Phi is written
    through erf, which cancels when Phi(z) is tiny)."""
    return sp.lambdify((mu, eps), expr, "mpmath")


@settings(max_examples=15, deadline=None)
@given(
    m=st.fractions("1/10", "8", max_denominator=100),
    e=st.fractions("0", "6", max_denominator=100),
)
def test_balle_wang_against_quadrature(m, e):
    assume(e / m <= 12)  # keeps delta above ~1e-35, where 30-digit quadrature is meaningful
    closed_expr = balle_wang_delta(sp.Rational(m), sp.Rational(e))
    with mpmath.workdps(30):
        closed = mpmath.mpf(str(sp.N(closed_expr, 35)))  # sympy's adaptive-precision evalf
        mm = mpmath.mpf(m.numerator) / m.denominator
        ee = mpmath.mpf(e.numerator) / e.denominator
        numeric = _mp_delta_quad(mm, ee)
        assert closed > 0
        assert abs(closed / numeric - 1) < mpmath.mpf("1e-20")


def test_derivative_against_numerical_differentiation():
    f = _closed(balle_wang_delta())
    df = _closed(balle_wang_delta_derivative())
    with mpmath.workdps(40):
        for m, e in ((0.5, 0.1), (1.0, 1.0), (3.0, 2.5), (0.5, 3.0)):
            mm, ee = mpmath.mpf(m), mpmath.mpf(e)
            numeric = mpmath.diff(lambda x, mm=mm: f(mm, x), ee)
            assert abs(numeric / df(mm, ee) - 1) < mpmath.mpf("1e-25")
            assert df(mm, ee) < 0


@pytest.mark.parametrize(("k", "m", "e"), [(3, 0.8, 0.5), (4, 0.3, 0.1)])
def test_composition_monte_carlo(k, m, e):
    """delta of N(m,1)^k vs N(0,1)^k at eps = E_P[(1 - e^(eps - L))_+], L = sum_j (m x_j - m^2/2),
    equals Balle-Wang at m sqrt(k) (and not at m)."""
    rng = np.random.default_rng(1000 + k)
    n = 1_000_000
    x = rng.standard_normal((n, k)) + m
    loss = (m * x - m * m / 2).sum(axis=1)
    est = float(np.mean(np.maximum(1 - np.exp(e - loss), 0)))
    hoeffding = math.sqrt(math.log(2 / 1e-6) / (2 * n))
    exact = float(sp.N(balle_wang_delta(sp.Float(m, 30) * sp.sqrt(k), sp.Float(e, 30))))
    single = float(sp.N(balle_wang_delta(sp.Float(m, 30), sp.Float(e, 30))))
    assert abs(est - exact) < hoeffding
    assert abs(est - single) > 5 * hoeffding


@pytest.mark.parametrize(
    ("sens", "sigma", "e"), [(1.0, 2.0, 0.3), (0.5, 0.1, 3.0), (3.0, 7.0, 0.0)]
)
def test_scaling_against_quadrature(sens, sigma, e):
    """N(Delta, sigma^2) vs N(0, sigma^2) by quadrature equals Balle-Wang at Delta/sigma."""
    with mpmath.workdps(40):
        ss, sg, ee = mpmath.mpf(sens), mpmath.mpf(sigma), mpmath.mpf(e)
        numeric = _mp_delta_quad(ss / sg, ee, sg)
        closed = mpmath.mpf(
            str(
                sp.N(
                    balle_wang_delta(sp.Float(sens, 40) / sp.Float(sigma, 40), sp.Float(e, 40)), 45
                )
            )
        )
        assert abs(numeric - closed) < mpmath.mpf("1e-28")


def test_privacy_loss_law_monte_carlo():
    """Under P = N(mu, 1), L = mu x - mu^2/2 has mean mu^2/2 and variance mu^2 (z = 5)."""
    m = 1.7
    rng = np.random.default_rng(4)
    n = 400_000
    loss = m * (rng.standard_normal(n) + m) - m * m / 2
    assert abs(loss.mean() - m * m / 2) < 5 * m / math.sqrt(n)
    # Var of the sample variance of a normal: 2 sigma^4 / n
    assert abs(loss.var() - m * m) < 5 * math.sqrt(2) * m * m / math.sqrt(n)
