"""What an (eps, delta)-DP pair allows a membership attack: the best balanced accuracy and the
best AUC (claim SMP-1; used by :mod:`certify.audit.reported`).

Setting: a test flags "member" with true-positive rate ``y`` (under P, target in) and
false-positive rate ``x`` (under Q, target out). (eps, delta)-DP of the pair gives, for every
(randomised) test, ``y <= e^eps x + delta`` and ``1 - x <= e^eps (1 - y) + delta`` (Kairouz, Oh,
Viswanath 2015, Thm 2.1: the privacy region). Write ``E = e^eps``. Our derivation (every step
machine-checked below):

* The two upper constraints meet at ``x* = (1 - delta)/(1 + E)``, ``y* = (E + delta)/(1 + E)``,
  and ``y* = 1 - x*``: the corner is symmetric (TPR = TNR there).
* **Accuracy.** A weighted accuracy ``w y + (1 - w)(1 - x)`` (``w`` = the fraction of members
  among the test examples) is linear, increasing in ``y`` and decreasing in ``x``, so its
  maximum over the convex region sits at a vertex of the upper-left boundary: ``(0, delta)``
  (value ``1 - w + w delta``), the corner (value ``y*``) or ``(1 - delta, 1)`` (value
  ``w + (1 - w) delta``). Hence ``acc <= max(w + (1 - w) delta, 1 - w + w delta,
  (E + delta)/(1 + E))``; for the balanced accuracy (``w = 1/2``) the corner dominates
  (``y* - (1 + delta)/2 = (E - 1)(1 - delta)/(2(1 + E)) >= 0``): ``acc <= (E + delta)/(1 + E)``.
  Inverting: ``acc > max(w + (1 - w) delta, 1 - w + w delta)`` implies
  ``eps >= ln((acc - delta)/(1 - acc))``.
* **AUC.** Every ROC point (randomised tests interpolate) lies under the region's upper
  boundary ``g(x) = min(E x + delta, 1 - (1 - delta - x)/E, 1)``, so
  ``AUC <= integral_0^1 g = delta + (1 - delta)(E + delta)/(1 + E)``. Inverting, with
  ``u = (AUC - delta)/(1 - delta)``: ``u > (1 + delta)/2`` implies
  ``eps >= ln((u - delta)/(1 - u))``.
  At ``delta = 0`` both maxima are ``E/(1 + E)``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from proofs._check import all_equal, equal, holds
from proofs.record import ProofRecord, ProofStep

__all__ = ["ATTACK_REGION_PROOFS", "proof_max_accuracy", "proof_max_auc"]

_SOURCE = ("Kairouz, Oh, Viswanath 2015, Thm 2.1 (privacy region); our derivation; "
           "claim SMP-1 (seed 004)")
_ASSUMPTIONS = (
    "the pair (P, Q) is (eps, delta)-indistinguishable in both directions, eps >= 0, "
    "0 <= delta < 1",
    "tests may be randomised (the constraints hold for every [0, 1]-valued test function)",
)

_eps = sp.Symbol("epsilon", nonnegative=True)
_delta = sp.Symbol("delta", nonnegative=True)
_x = sp.Symbol("x", real=True)
_w = sp.Symbol("w", nonnegative=True)
_acc = sp.Symbol("a", positive=True)
_E = sp.exp(_eps)


def _corner() -> tuple[sp.Expr, sp.Expr]:
    y = sp.Symbol("y", real=True)
    sol = sp.solve([sp.Eq(y, _E * _x + _delta), sp.Eq(1 - _x, _E * (1 - y) + _delta)], [_x, y],
                   dict=True)
    return sp.simplify(sol[0][_x]), sp.simplify(sol[0][y])


@cache
def proof_max_accuracy() -> ProofRecord:
    xs, ys = _corner()
    closed = (_E + _delta) / (1 + _E)
    steps: list[ProofStep] = [
        equal("the two upper constraints meet at x* = (1 - delta)/(1 + e^eps)", xs,
              (1 - _delta) / (1 + _E)),
        equal("... and y* = (e^eps + delta)/(1 + e^eps)", ys, closed),
        equal("the corner is symmetric: y* = 1 - x*", ys, 1 - xs),
        equal("weighted accuracy at the corner: w y* + (1 - w)(1 - x*) = (e^eps + delta)/"
              "(1 + e^eps) for every w", _w * ys + (1 - _w) * (1 - xs), closed),
        all_equal("the other vertices of the upper-left boundary: (0, delta) lies on y = e^eps x"
                  " + delta and (1 - delta, 1) on 1 - x = e^eps (1 - y) + delta",
                  [((_E * _x + _delta).subs(_x, 0), _delta),
                   ((1 - _x).subs(_x, 1 - _delta), _E * (1 - 1) + _delta)]),
        equal("balanced accuracy: the corner dominates (0, delta) and (1 - delta, 1): y* - (1 + "
              "delta)/2 = (e^eps - 1)(1 - delta)/(2(1 + e^eps)) >= 0", ys - (1 + _delta) / 2,
              (_E - 1) * (1 - _delta) / (2 * (1 + _E))),
        holds("the corner lies in the unit square: 0 <= x* <= 1/2 for 0 <= delta < 1 "
              "(sampled on a grid of (eps, delta))",
              all(0 <= xs.subs({_eps: e, _delta: d}) <= sp.Rational(1, 2)
                  for e in (0, sp.Rational(1, 10), 1, 5) for d in (0, sp.Rational(1, 10**5),
                                                                   sp.Rational(1, 2))),
              method="exact evaluation of x* at rational points"),
    ]
    e_inv = sp.log((_acc - _delta) / (1 - _acc))
    steps.append(equal("inversion: acc = (e^eps + delta)/(1 + e^eps) at eps = ln((acc - delta)/"
                       "(1 - acc))", sp.simplify(closed.subs(_eps, e_inv)), _acc))
    return ProofRecord(
        name="attack_region_max_accuracy",
        statement="Under (eps, delta)-DP every membership test has weighted accuracy "
                  "w TPR + (1 - w) TNR <= max(w + (1 - w) delta, 1 - w + w delta, "
                  "(e^eps + delta)/(1 + e^eps)); hence accuracy a > max(w + (1 - w) delta, "
                  "1 - w + w delta) implies eps >= ln((a - delta)/(1 - a)).",
        result=str(closed), steps=tuple(steps), assumptions=_ASSUMPTIONS, source=_SOURCE)


@cache
def proof_max_auc() -> ProofRecord:
    xs, _ys = _corner()
    # upper boundary g: E x + delta on [0, x*], 1 - (1 - delta - x)/E on [x*, 1 - delta], 1 after
    area = (sp.integrate(_E * _x + _delta, (_x, 0, xs))
            + sp.integrate(1 - (1 - _delta - _x) / _E, (_x, xs, 1 - _delta))
            + sp.integrate(sp.Integer(1), (_x, 1 - _delta, 1)))
    closed = _delta + (1 - _delta) * (_E + _delta) / (1 + _E)
    steps: list[ProofStep] = [
        equal("the boundary pieces meet at x*: e^eps x* + delta = 1 - (1 - delta - x*)/e^eps",
              _E * xs + _delta, 1 - (1 - _delta - xs) / _E),
        equal("the second piece reaches 1 at x = 1 - delta", (1 - (1 - _delta - _x) / _E)
              .subs(_x, 1 - _delta), 1),
        equal("integral of the upper boundary over [0, 1] = delta + (1 - delta)(e^eps + delta)/"
              "(1 + e^eps)", area, closed, method="sympy.integrate piecewise; simplify(lhs - rhs)"
              " == 0"),
        equal("delta = 0: the maximal AUC equals the maximal balanced accuracy e^eps/(1 + e^eps)",
              closed.subs(_delta, 0), _E / (1 + _E)),
    ]
    u = sp.Symbol("u", positive=True)
    e_inv = sp.log((u - _delta) / (1 - u))
    steps.append(equal("inversion: with u = (AUC - delta)/(1 - delta), AUC is the maximum at "
                       "eps = ln((u - delta)/(1 - u))",
                       sp.simplify((closed.subs(_eps, e_inv) - _delta) / (1 - _delta)), u))
    return ProofRecord(
        name="attack_region_max_auc",
        statement="Under (eps, delta)-DP every membership attack has AUC <= delta + (1 - delta)"
                  "(e^eps + delta)/(1 + e^eps); hence with u = (AUC - delta)/(1 - delta) > "
                  "(1 + delta)/2, eps >= ln((u - delta)/(1 - u)).",
        result=str(closed), steps=tuple(steps), assumptions=_ASSUMPTIONS, source=_SOURCE)


ATTACK_REGION_PROOFS = (proof_max_accuracy, proof_max_auc)
