"""Exact expectations of polynomials in independent centred normals, and of products of sums
over ``r`` iid rows, symbolic in ``r``.

Two rules carry everything here:

* Gaussian moments (Isserlis' theorem for independent coordinates): for independent
  ``g_k ~ N(0, s_k^2)``, ``E[prod_k g_k^{n_k}] = prod_k (n_k - 1)!! s_k^{n_k}`` when every
  ``n_k`` is even, and ``0`` otherwise (so ``E[g^2] = s^2``, ``E[g^4] = 3 s^4``).
* Row patterns: if ``S_t = sum_{k=1}^{r} X_t(row_k)`` with iid rows, then
  ``E[prod_{t=1}^p S_t] = sum_{pi} r(r-1)...(r-|pi|+1) prod_{B in pi} E[prod_{t in B} X_t(row)]``,
  the sum running over the set partitions ``pi`` of ``{1..p}`` (the pattern of equal row indices
  in a tuple ``(k_1..k_p)``; a pattern with ``b`` blocks is realised by the falling factorial
  ``r^(b)`` tuples, and distinct rows are independent and identically distributed).

Both are implemented exactly (sympy rationals and symbols); ``brute_force_row_sums`` expands the
sums literally for a concrete ``r`` and is the independent cross-check used by the proofs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp
from sympy.utilities.iterables import multiset_partitions

__all__ = [
    "brute_force_row_sums",
    "expect_normal",
    "expect_row_sums",
    "normal_moment",
    "set_partitions",
]


def normal_moment(n: int, variance: sp.Expr) -> sp.Expr:
    """``E[g^n]`` for ``g ~ N(0, variance)``: ``(n-1)!! variance^(n/2)`` for even ``n``, else 0."""
    if n < 0:
        raise ValueError(f"n={n} must be nonnegative.")
    if n % 2:
        return sp.Integer(0)
    return sp.factorial2(n - 1) * sp.sympify(variance) ** (n // 2)


def expect_normal(expr: sp.Expr, variances: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr:
    """``E[expr]`` where ``expr`` is a polynomial in the independent centred normals that are
    the keys of ``variances`` (values: their variances); other symbols are constants."""
    gens = tuple(variances)
    expanded = sp.expand(sp.sympify(expr))
    if not gens:
        return expanded
    poly = sp.Poly(expanded, *gens)
    total = sp.Integer(0)
    for monom, coeff in poly.terms():
        term = sp.sympify(coeff)
        for g, n in zip(gens, monom, strict=True):
            if n % 2:
                term = sp.Integer(0)
                break
            term *= normal_moment(n, variances[g])
        total += term
    return sp.expand(total)


def set_partitions(p: int) -> list[list[list[int]]]:
    """All set partitions of ``{0, ..., p-1}`` (Bell(p) of them; ``[[]]`` for ``p = 0``)."""
    if p == 0:
        return [[]]
    return [list(map(list, part)) for part in multiset_partitions(list(range(p)))]


def expect_row_sums(
    factors: Sequence[sp.Expr], variances: Mapping[sp.Symbol, sp.Expr], count: sp.Expr
) -> sp.Expr:
    """``E[prod_t S_t]``, ``S_t = sum_{k=1}^{count} X_t(row_k)``, rows iid copies of the normals
    in ``variances``; ``factors[t]`` is ``X_t`` written in one generic row. Exact in ``count``
    (a symbol allowed): the set-partition formula in the module docstring."""
    exprs = [sp.sympify(f) for f in factors]
    canon = [exprs.index(f) for f in exprs]  # equal factors share one label
    blocks: dict[tuple[int, ...], sp.Expr] = {}
    total = sp.Integer(0)
    for partition in set_partitions(len(exprs)):
        term = sp.ff(count, len(partition))
        for block in partition:
            key = tuple(sorted(canon[t] for t in block))
            if key not in blocks:
                blocks[key] = expect_normal(sp.Mul(*[exprs[c] for c in key]), variances)
            term *= blocks[key]
        total += term
    return sp.factor(sp.expand(total))


def brute_force_row_sums(
    factors: Sequence[sp.Expr], variances: Mapping[sp.Symbol, sp.Expr], count: int
) -> sp.Expr:
    """The same expectation for a concrete ``count``: each row gets fresh copies of the normals,
    the sums are written out term by term, multiplied, expanded and averaged with
    ``expect_normal``. Independent of the set-partition bookkeeping."""
    rows: list[dict[sp.Symbol, sp.Symbol]] = [
        {g: sp.Symbol(f"{g.name}__row{k}") for g in variances} for k in range(count)
    ]
    all_vars: dict[sp.Symbol, sp.Expr] = {}
    for ren in rows:
        for g, v in variances.items():
            all_vars[ren[g]] = v
    product = sp.Integer(1)
    for f in factors:
        product *= sp.Add(*[sp.sympify(f).xreplace(ren) for ren in rows])
    return sp.factor(expect_normal(product, all_vars))
