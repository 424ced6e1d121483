"""Theorem 2 of seed 000 (claim WPM-5): the noise-free matrix Wishart mechanism is not DP.

Setting: ``M = A^T A``, ``A`` an ``r x d`` matrix of iid ``N(0, 1/r)`` entries (``r >= 1``); the
mechanism releases ``M F`` for a ``d x m`` query ``F``; neighbours differ in one column.

The explicit pair and event (our derivation; every algebraic step is checked below):

* ``F = [v, v]`` and ``F' = [v, w]`` with ``v != w`` (they differ in column 2 only); put
  ``y = v - w != 0``.
* ``S`` = "the two columns of the output are equal".
* Under ``F``: ``M F = [M v, M v]``, so ``S`` holds for *every* realisation of ``M``:
  ``P_F(S) = 1``.
* Under ``F'``: the column difference is ``M v - M w = M y``, and ``M y = 0`` iff ``A y = 0``
  (``y^T M y = ||A y||^2``, and ``M y = A^T (A y)``). Each entry ``(A y)_k = sum_j A_kj y_j`` is
  a fixed non-zero linear combination of independent normals: ``N(0, ||y||^2 / r)`` with
  positive variance, whose law has a density, so ``P((A y)_1 = 0) = 0`` and
  ``P_F'(S) = P(A y = 0) <= P((A y)_1 = 0) = 0``. This holds for every ``1 <= r <= d``: the
  kernel of ``M`` (dimension ``d - r`` when ``r < d``) is random, and a *fixed* ``y`` lies in it
  with probability 0.
* (eps, delta)-DP would require ``P_F(S) <= e^eps P_F'(S) + delta``, i.e. ``1 <= delta``:
  for every eps the mechanism is not (eps, delta)-DP with ``delta < 1`` (its hockey-stick
  divergence is ``delta(eps) = 1``).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from proofs._check import all_equal, equal, holds, is_zero
from proofs.moments import expect_normal
from proofs.record import ProofRecord, ProofStep

__all__ = ["proof_matrix_mechanism_not_dp"]

_SOURCE = "seed 000 (arXiv 2601.21719), Theorem 2; claim WPM-5"
_ASSUMPTIONS = (
    "A is r x d with iid N(0, 1/r) entries, r >= 1; M = A^T A (the same M for every column)",
    "neighbouring queries F = [v, v] and F' = [v, w] differ in one column, v != w",
)

_r = sp.Symbol("r", positive=True, integer=True)


def _explicit(rows: int, d: int) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    a = sp.Matrix(rows, d, sp.symbols(f"a0:{rows * d}"))
    v = sp.Matrix(sp.symbols(f"v0:{d}"))
    w = sp.Matrix(sp.symbols(f"w0:{d}"))
    return a, v, w


def _identity_steps() -> list[ProofStep]:
    steps = []
    shapes = ((1, 3), (2, 3), (3, 3), (2, 4))
    pairs_equal, pairs_diff, pairs_quad, pairs_fact = [], [], [], []
    differs = []
    for rows, d in shapes:
        a, v, w = _explicit(rows, d)
        m = a.T * a
        out = m * v.row_join(v)
        pairs_equal += list(zip(out[:, 0], out[:, 1], strict=True))
        out2 = m * v.row_join(w)
        y = v - w
        pairs_diff += list(zip(out2[:, 0] - out2[:, 1], m * y, strict=True))
        differs.append(not all(is_zero(c) for c in out2[:, 0] - out2[:, 1]))
        ay = a * y
        pairs_quad.append(((y.T * m * y)[0, 0], sum(c**2 for c in ay)))
        pairs_fact += list(zip(m * y, a.T * ay, strict=True))
    shown = ", ".join(f"(r, d) = ({r}, {d})" for r, d in shapes)
    steps.append(all_equal(f"under F = [v, v] both output columns are M v, entry by entry, for "
                           f"every A ({shown})", pairs_equal,
                           method="expand(column 1 - column 2) == 0 with symbolic A, v"))
    steps.append(all_equal(f"under F' = [v, w] the column difference is M (v - w) ({shown})",
                           pairs_diff))
    steps.append(holds(f"under F' = [v, w] the column difference is not identically zero as a "
                       f"polynomial in (A, v, w) ({shown})", all(differs),
                       method="expand(column 1 - column 2) != 0"))
    steps.append(all_equal(f"y^T M y = ||A y||^2, so M y = 0 implies A y = 0 ({shown})",
                           pairs_quad))
    steps.append(all_equal(f"M y = A^T (A y), so A y = 0 implies M y = 0 ({shown})", pairs_fact))
    big_a = sp.MatrixSymbol("A", sp.Symbol("r"), sp.Symbol("d"))
    big_y = sp.MatrixSymbol("y", sp.Symbol("d"), 1)
    generic = (big_a * big_y).T * (big_a * big_y) - big_y.T * (big_a.T * big_a) * big_y
    steps.append(holds("y^T (A^T A) y = (A y)^T (A y) for symbolic dimensions (r, d)",
                       sp.simplify(generic) == sp.ZeroMatrix(1, 1) or sp.simplify(generic) == 0,
                       method="sympy matrix-expression simplification (MatrixSymbol)"))
    return steps


def _law_steps() -> list[ProofStep]:
    d = 4
    a_row = sp.symbols(f"g0:{d}")
    y = sp.symbols(f"y0:{d}", real=True)
    entry = sum(ai * yi for ai, yi in zip(a_row, y, strict=True))
    variances = {g: 1 / _r for g in a_row}
    mean = expect_normal(entry, variances)
    second = expect_normal(entry**2, variances)
    steps = [
        equal("(A y)_k = sum_j A_kj y_j has mean 0 (d = 4, A_kj iid N(0, 1/r))", mean, 0,
              method="Gaussian moments, expand(E - 0) == 0"),
        equal("(A y)_k has variance ||y||^2 / r (> 0 for y != 0): a non-degenerate normal",
              second, sum(yi**2 for yi in y) / _r,
              method="Gaussian moments (Isserlis), expand(E[(Ay)_k^2] - ||y||^2/r) == 0"),
    ]
    s, t, x = sp.symbols("s t x", positive=True)
    density = sp.exp(-x**2 / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
    mass = sp.integrate(density, (x, -t, t))
    steps.append(equal("P(|X| <= t) = erf(t / (s sqrt 2)) for X ~ N(0, s^2)", mass,
                       sp.erf(t / (s * sp.sqrt(2))), method="sympy.integrate of the density"))
    limit = sp.limit(mass, t, 0, "+")
    steps.append(equal("P(X = 0) <= P(|X| <= t) -> 0 as t -> 0+: a point has probability 0",
                       limit, 0, method="sympy.limit"))
    return steps


def _dp_step() -> ProofStep:
    delta, eps = sp.symbols("delta epsilon", real=True)
    p_f, p_f_prime = sp.Integer(1), sp.Integer(0)
    feasible = sp.solve_univariate_inequality(p_f <= sp.exp(eps) * p_f_prime + delta, delta,
                                              relational=False)
    return holds("P_F(S) = 1, P_F'(S) = 0: the DP inequality P_F(S) <= e^eps P_F'(S) + delta "
                 "holds iff delta >= 1, for every eps",
                 feasible == sp.Interval(1, sp.oo),
                 method="sympy.solve_univariate_inequality in delta (eps symbolic)")


@cache
def proof_matrix_mechanism_not_dp() -> ProofRecord:
    """WPM-5: the explicit neighbours, event and probabilities (module docstring)."""
    steps = tuple(_identity_steps() + _law_steps() + [_dp_step()])
    return ProofRecord(
        name="WPM-5 matrix Wishart mechanism is not DP",
        statement="For F = [v, v], F' = [v, w] (v != w) and S = {the two output columns are "
                  "equal}: P_F(S) = 1 and P_F'(S) = P(A (v - w) = 0) = 0, so the mechanism "
                  "F -> A^T A F is not (eps, delta)-DP for any eps and any delta < 1.",
        result="delta(eps) = 1 for every eps",
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE,
    )
