"""One noisy release of a dataset embedding (claims HYP-1, HYP-2; seed 003, arXiv 2606.26772).

Derived here (sympy):

* HYP-1: the L2 sensitivity of the clipped-embedding aggregate. The sum moves by at most C
  (add/remove) or 2C (replace-one). The *mean with the private count* under add/remove moves by
  ``(n e - S)/(n (n + 1))`` (S the sum over the n records of the smaller set, e the added record),
  at most ``2C/(n + 1)``, attained at ``S = n C u``, ``e = -C u``; this exceeds the naive ``C/n``
  by ``C (n - 1)/(n (n + 1))``. With a public, fixed denominator ``n`` (release (S + Z)/n) it is
  ``C/n`` (add/remove), and ``2C/n`` under replace-one.
* HYP-2: DP-SGD on the quadratic loss ``(1/2)|theta|^2 - <theta, tbar>`` with learning rate eta,
  from theta_0 = 0: ``theta_T = sum_t eta (1 - eta)^(T-1-t) ghat_t``, so the bias is
  ``(1 - eta)^T tbar`` and independent per-step noise of variance v contributes
  ``v eta (1 - (1 - eta)^(2T)) / (2 - eta)``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from proofs._check import all_equal, equal, holds
from proofs.record import ProofRecord

__all__ = ["HYPERNET_PROOFS", "proof_hyp_dpsgd_recursion", "proof_hyp_mean_sensitivity"]

_SOURCE = "seed 003 (arXiv 2606.26772, abstract); our derivation"


@cache
def proof_hyp_mean_sensitivity() -> ProofRecord:
    """HYP-1: mean aggregation under add/remove with the private count: 2C/(n + 1), tight."""
    n, c = sp.symbols("n C", positive=True)
    s, e = sp.symbols("S e", real=True)  # coordinates along the worst direction u
    diff = (s + e) / (n + 1) - s / n
    worst = diff.subs({s: n * c, e: -c})
    steps = (
        equal("mean(D + e) - mean(D) = (n e - S)/(n (n + 1))", diff, (n * e - s) / (n * (n + 1))),
        equal("at S = n C u, e = -C u (all records on the clipping sphere, opposite) the change "
              "has norm 2C/(n + 1)", sp.Abs(worst), 2 * c / (n + 1)),
        equal("triangle inequality: |n e - S| <= n C + n C, so |change| <= 2C/(n + 1)",
              (n * c + n * c) / (n * (n + 1)), 2 * c / (n + 1)),
        equal("2C/(n + 1) - C/n = C (n - 1)/(n (n + 1)) (> 0 for n >= 2: the naive C/n "
              "under-estimates)", 2 * c / (n + 1) - c / n, c * (n - 1) / (n * (n + 1))),
    )
    return ProofRecord(
        name="HYP-1 sensitivity of the mean of clipped embeddings",
        statement="Under add/remove with the private count, the mean of n >= n_min clipped "
                  "embeddings has L2 sensitivity 2C/(n_min + 1) (tight), not C/n.",
        result="2*C/(n + 1)",
        steps=steps,
        assumptions=("each embedding clipped to norm <= C", "n = size of the smaller dataset"),
        source=_SOURCE,
    )


@cache
def proof_hyp_dpsgd_recursion() -> ProofRecord:
    """HYP-2: bias and noise variance of DP-SGD on the quadratic model."""
    eta = sp.Symbol("eta", positive=True)
    t, j = sp.symbols("T j", integer=True, positive=True)
    total = sp.piecewise_fold(sp.summation(eta**2 * (1 - eta) ** (2 * j), (j, 0, t - 1)))
    # sympy answers Piecewise((T eta^2, (1 - eta)^2 = 1), (geometric sum, True)); the special
    # branch needs eta in {0, 2}, outside (0, 1]
    special = set(sp.solve(sp.Eq((1 - eta) ** 2, 1), eta))
    generic = total.args[-1][0] if isinstance(total, sp.Piecewise) else total
    closed = eta * (1 - (1 - eta) ** (2 * t)) / (2 - eta)
    th, tb, gh = sp.symbols("theta tbar ghat", real=True)
    step = th - eta * (th - gh)
    # explicit T = 3 recursion from theta_0 = 0 with per-step inputs g0, g1, g2
    g = sp.symbols("g0:3", real=True)
    x = sp.Integer(0)
    for k in range(3):
        x = step.subs({th: x, gh: g[k]})
    steps = (
        equal("one step theta - eta (theta - ghat) = (1 - eta) theta + eta ghat", step,
              (1 - eta) * th + eta * gh),
        equal("T = 3 from theta_0 = 0: theta_3 = sum_t eta (1 - eta)^(2 - t) g_t", x,
              sum(eta * (1 - eta) ** (2 - k) * g[k] for k in range(3))),
        equal("with E ghat_t = tbar: E theta_T = (1 - (1 - eta)^T) tbar (T = 3), bias "
              "(1 - eta)^T tbar", x.subs({g[0]: tb, g[1]: tb, g[2]: tb}),
              (1 - (1 - eta) ** 3) * tb),
        holds("the summation's special branch (1 - eta)^2 = 1 needs eta in {0, 2}: not in (0, 1]",
              all(not (0 < r <= 1) for r in special) and isinstance(total, sp.Piecewise),
              method="sympy.solve"),
        equal("sum_{j<T} eta^2 (1 - eta)^(2j) = eta (1 - (1 - eta)^(2T))/(2 - eta)",
              generic, closed, method="sympy.summation (eta in (0, 1] branch); simplify == 0"),
        holds("T = 1, eta = 1 (one full-batch step) gives weight 1: output perturbation",
              closed.subs({eta: 1, t: 1}) == 1, method="substitution"),
        all_equal("the weight is below eta/(2 - eta) * 1 and increases to it as T -> oo",
                  [(sp.limit(closed.subs(eta, sp.Rational(1, 10)), t, sp.oo),
                    sp.Rational(1, 19))]),
    )
    return ProofRecord(
        name="HYP-2 DP-SGD on the quadratic model: bias and noise",
        statement="theta_T - tbar = -(1 - eta)^T tbar + sum_t eta (1 - eta)^(T-1-t) xi_t; "
                  "E|theta_T - tbar|^2 = (1 - eta)^(2T)|tbar|^2 + eta (1 - (1-eta)^(2T))/(2-eta) "
                  "* (trace of one step's noise covariance).",
        result=str(closed),
        steps=steps,
        assumptions=("0 < eta <= 1", "per-step noise independent, mean zero"),
        source=_SOURCE,
    )


#: the derivations of this module, in order (``proofs.registry`` lists them)
HYPERNET_PROOFS = (proof_hyp_mean_sensitivity, proof_hyp_dpsgd_recursion)
