"""The Gaussian mechanism's exact privacy profile (claim ACC-1).

The dominating pair of the Gaussian mechanism with sensitivity ``Delta`` and noise sd ``sigma`` is
``P = N(mu, 1)`` vs ``Q = N(0, 1)`` with ``mu = Delta / sigma``; derived here:

* privacy loss ``L(x) = log p(x)/q(x) = mu x - mu^2/2``, distributed ``N(mu^2/2, mu^2)`` under
  ``P`` and ``N(-mu^2/2, mu^2)`` under ``Q``;
* hockey-stick divergence ``delta(eps) = int (p - e^eps q)_+ dx``, integrated from the crossing
  point ``x* = eps/mu + mu/2``, equals Balle and Wang (2018, "Improving the Gaussian mechanism for
  differential privacy", Theorem 8)
  ``delta(eps) = Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu)``;
* ``d delta / d eps = -e^eps Phi(-mu/2 - eps/mu)``;
* ``k``-fold composition: the pair ``N(mu, 1)^k`` vs ``N(0, 1)^k`` has the privacy loss of the
  single pair with ``mu sqrt(k)`` (its log-likelihood ratio is a function of the sufficient
  statistic ``T = sum x_j / sqrt(k) ~ N(mu sqrt(k), 1)``), so ``delta_k = delta`` at ``mu sqrt k``;
* ``N(Delta, sigma^2)`` vs ``N(0, sigma^2)`` has the same privacy loss and profile as
  ``N(Delta/sigma, 1)`` vs ``N(0, 1)``: ``Delta`` and ``sigma`` enter only through their ratio.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from proofs._check import all_equal, equal, holds
from proofs.record import ProofRecord

__all__ = [
    "balle_wang_delta",
    "balle_wang_delta_derivative",
    "eps",
    "mu",
    "normal_cdf",
    "proof_gaussian_composition",
    "proof_gaussian_hockey_stick",
    "proof_gaussian_privacy_loss",
    "proof_gaussian_scaling",
]

#: mu = sensitivity / sigma (times sqrt(k) after k-fold composition), > 0
mu = sp.Symbol("mu", positive=True)
#: epsilon (any real; the profile is used for eps >= 0)
eps = sp.Symbol("epsilon", real=True)

_x = sp.Symbol("x", real=True)
_SOURCE = "Balle & Wang (2018), Theorem 8; claim ACC-1"
_ASSUMPTIONS = ("P = N(mu, 1), Q = N(0, 1), mu > 0", "delta(eps) = int (p - e^eps q)_+ dx")


def normal_cdf(z: sp.Expr) -> sp.Expr:
    """``Phi(z) = (1 + erf(z/sqrt 2))/2``."""
    return (1 + sp.erf(z / sp.sqrt(2))) / 2


def balle_wang_delta(m: sp.Expr = mu, e: sp.Expr = eps) -> sp.Expr:
    """``Phi(m/2 - e/m) - e^e Phi(-m/2 - e/m)`` (Balle and Wang 2018, Theorem 8)."""
    return normal_cdf(m / 2 - e / m) - sp.exp(e) * normal_cdf(-m / 2 - e / m)


def balle_wang_delta_derivative(m: sp.Expr = mu, e: sp.Expr = eps) -> sp.Expr:
    """``d delta / d eps = -e^eps Phi(-m/2 - eps/m)``."""
    return -sp.exp(e) * normal_cdf(-m / 2 - e / m)


_ONE = sp.Integer(1)


def _normal_pdf(x: sp.Expr, mean: sp.Expr, sd: sp.Expr = _ONE) -> sp.Expr:
    return sp.exp(-((x - mean) ** 2) / (2 * sd**2)) / (sd * sp.sqrt(2 * sp.pi))


def _privacy_loss(mean: sp.Expr = mu, sd: sp.Expr = _ONE) -> sp.Expr:
    return sp.expand(sp.expand_log(sp.log(_normal_pdf(_x, mean, sd) / _normal_pdf(_x, 0, sd))))


@cache
def proof_gaussian_privacy_loss() -> ProofRecord:
    """ACC-1: ``L(x) = mu x - mu^2/2``; ``L ~ N(mu^2/2, mu^2)`` under P and
    ``N(-mu^2/2, mu^2)`` under Q."""
    z = sp.Symbol("z", real=True)
    loss = _privacy_loss()
    mgf_p = sp.integrate(sp.exp(z * loss) * _normal_pdf(_x, mu), (_x, -sp.oo, sp.oo))
    mgf_q = sp.integrate(sp.exp(z * loss) * _normal_pdf(_x, 0), (_x, -sp.oo, sp.oo))
    steps = (
        equal(
            "L(x) = log p(x)/q(x) = mu x - mu^2/2",
            loss,
            mu * _x - mu**2 / 2,
            method="expand_log; difference == 0",
        ),
        equal(
            "E_P exp(z L) = exp(z mu^2/2 + z^2 mu^2/2): L ~ N(mu^2/2, mu^2) under P",
            sp.simplify(sp.log(mgf_p)),
            z * mu**2 / 2 + z**2 * mu**2 / 2,
            method="sympy.integrate of the mgf; simplify(log difference) == 0",
        ),
        equal(
            "E_Q exp(z L) = exp(-z mu^2/2 + z^2 mu^2/2): L ~ N(-mu^2/2, mu^2) under Q",
            sp.simplify(sp.log(mgf_q)),
            -z * mu**2 / 2 + z**2 * mu**2 / 2,
            method="sympy.integrate of the mgf; simplify(log difference) == 0",
        ),
        equal("E_Q exp(L) = 1 (Q-expectation of the likelihood ratio)", mgf_q.subs(z, 1), 1),
    )
    return ProofRecord(
        name="ACC-1 Gaussian privacy loss",
        statement="For N(mu,1) vs N(0,1): L(x) = mu x - mu^2/2, L ~ N(mu^2/2, mu^2) under P.",
        result=str(mu * _x - mu**2 / 2),
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


@cache
def proof_gaussian_hockey_stick() -> ProofRecord:
    """ACC-1: the hockey-stick integral equals Balle-Wang's Theorem 8, and its eps-derivative."""
    loss = _privacy_loss()
    crossing = sp.solve(sp.Eq(loss, eps), _x)
    x_star = eps / mu + mu / 2
    p_tail = sp.integrate(_normal_pdf(_x, mu), (_x, x_star, sp.oo))
    q_tail = sp.integrate(_normal_pdf(_x, 0), (_x, x_star, sp.oo))
    delta = p_tail - sp.exp(eps) * q_tail
    bw = balle_wang_delta()
    # the same delta as E_P[(1 - e^{eps - L})_+], integrating over the law of L
    ell = sp.Symbol("l", real=True)
    loss_pdf = _normal_pdf(ell, mu**2 / 2, mu)
    delta_pld = sp.integrate(loss_pdf, (ell, eps, sp.oo)) - sp.exp(eps) * sp.integrate(
        sp.exp(-ell) * loss_pdf, (ell, eps, sp.oo)
    )
    steps = (
        holds(
            "p(x) = e^eps q(x) exactly at x* = eps/mu + mu/2",
            len(crossing) == 1 and sp.simplify(crossing[0] - x_star) == 0,
            method="sympy.solve(L(x) = eps, x)",
        ),
        holds(
            "L'(x) = mu > 0: (p - e^eps q)_+ = (p - e^eps q) 1{x > x*}",
            sp.diff(loss, _x) == mu and mu.is_positive,
            method="sympy.diff; mu positive",
        ),
        equal(
            "int_{x*}^oo (p - e^eps q) dx = Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu)",
            delta,
            bw,
            method="sympy.integrate; simplify(difference) == 0",
        ),
        equal(
            "the same value as E_P[(1 - e^(eps - L))_+] with L ~ N(mu^2/2, mu^2)",
            delta_pld,
            bw,
            method="sympy.integrate over the privacy-loss law; simplify(difference) == 0",
        ),
        equal(
            "d delta/d eps = -e^eps Phi(-mu/2 - eps/mu) (the p(x*) = e^eps q(x*) terms cancel)",
            sp.diff(bw, eps),
            balle_wang_delta_derivative(),
            method="sympy.diff; simplify(difference) == 0",
        ),
        equal("delta(0) = 2 Phi(mu/2) - 1 = TV(P, Q)", bw.subs(eps, 0), 2 * normal_cdf(mu / 2) - 1),
        equal("delta(eps) -> 0 as eps -> oo", sp.limit(bw, eps, sp.oo), 0, method="sympy.limit"),
    )
    return ProofRecord(
        name="ACC-1 Gaussian hockey-stick divergence (Balle-Wang Theorem 8)",
        statement=(
            "delta(eps) = int (p - e^eps q)_+ = Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu); "
            "d delta/d eps = -e^eps Phi(-mu/2 - eps/mu)."
        ),
        result=str(bw),
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )


@cache
def proof_gaussian_composition() -> ProofRecord:
    """ACC-1: ``k``-fold composition of ``N(mu,1)`` vs ``N(0,1)`` is the pair with
    ``mu sqrt(k)``."""
    k = sp.Symbol("k", positive=True, integer=True)
    z = sp.Symbol("z", real=True)
    tt = sp.Symbol("T", real=True)
    xs = sp.symbols("x0:3", real=True)
    # explicit k = 3: log of the product likelihood ratio
    llr3 = sp.expand(
        sp.expand_log(
            sp.log(
                sp.Mul(*[_normal_pdf(xj, mu) for xj in xs])
                / sp.Mul(*[_normal_pdf(xj, 0) for xj in xs])
            ),
        )
    )
    mu_k = mu * sp.sqrt(k)
    # general k: L_k = mu sum x_j - k mu^2/2 with sum x_j = sqrt(k) T
    llr_k = mu * sp.sqrt(k) * tt - k * mu**2 / 2
    mgf_one = sp.integrate(sp.exp(z * _x / sp.sqrt(k)) * _normal_pdf(_x, mu), (_x, -sp.oo, sp.oo))
    steps = (
        equal(
            "k = 3: log prod p(x_j)/q(x_j) = mu (x_0 + x_1 + x_2) - 3 mu^2/2",
            llr3,
            mu * sum(xs) - 3 * mu**2 / 2,
            method="expand_log; difference == 0",
        ),
        equal(
            "general k: with T = sum x_j/sqrt(k), L_k = mu sqrt(k) T - k mu^2/2 = "
            "mu_k T - mu_k^2/2, "
            "mu_k = mu sqrt(k) (the single-pair loss at mu_k)",
            llr_k,
            mu_k * tt - mu_k**2 / 2,
        ),
        equal(
            "under P, E exp(z T) = (E exp(z x/sqrt k))^k = exp(mu sqrt(k) z + z^2/2): T ~ "
            "N(mu sqrt k, 1) (and N(0, 1) under Q, mu = 0)",
            sp.expand(k * sp.log(mgf_one)),
            mu * sp.sqrt(k) * z + z**2 / 2,
            method="sympy.integrate; expand_log; difference == 0",
        ),
        all_equal(
            "so the k-fold profile is delta(eps) at mu sqrt(k); e.g. the privacy loss of the "
            "composition is N(k mu^2/2, k mu^2) = N(mu_k^2/2, mu_k^2) under P",
            [(k * mu**2 / 2, mu_k**2 / 2), (k * mu**2, mu_k**2)],
        ),
    )
    return ProofRecord(
        name="ACC-1 Gaussian k-fold composition",
        statement="N(mu,1)^k vs N(0,1)^k has the privacy profile of N(mu sqrt(k),1) vs N(0,1).",
        result=str(balle_wang_delta(mu_k)),
        steps=steps,
        assumptions=_ASSUMPTIONS + ("k >= 1 independent releases",),
        source=_SOURCE,
    )


@cache
def proof_gaussian_scaling() -> ProofRecord:
    """ACC-1: sensitivity and noise sd enter only through ``mu = Delta / sigma``."""
    sens, sigma = sp.symbols("Delta sigma", positive=True)
    y = sp.Symbol("y", real=True)
    loss = _privacy_loss(sens, sigma)
    m = sens / sigma
    x_star = sigma**2 * eps / sens + sens / 2
    delta = sp.integrate(_normal_pdf(_x, sens, sigma), (_x, x_star, sp.oo)) - sp.exp(
        eps
    ) * sp.integrate(_normal_pdf(_x, 0, sigma), (_x, x_star, sp.oo))
    steps = (
        equal(
            "log N(x; Delta, sigma^2)/N(x; 0, sigma^2) at x = sigma y equals (Delta/sigma) y - "
            "(Delta/sigma)^2/2, the loss of N(Delta/sigma, 1) vs N(0, 1) at y",
            loss.subs(_x, sigma * y),
            m * y - m**2 / 2,
        ),
        equal(
            "int (p_sigma - e^eps q_sigma)_+ dx (from x* = sigma^2 eps/Delta + Delta/2) equals "
            "Balle-Wang at mu = Delta/sigma",
            delta,
            balle_wang_delta(m),
            method="sympy.integrate; simplify(difference) == 0",
        ),
    )
    return ProofRecord(
        name="ACC-1 Gaussian scaling",
        statement=(
            "N(Delta, sigma^2) vs N(0, sigma^2) has the profile of N(Delta/sigma, 1) vs N(0, 1)."
        ),
        result=str(balle_wang_delta(m)),
        steps=steps,
        assumptions=("Delta > 0, sigma > 0",),
        source=_SOURCE,
    )
