"""Moments of the Wishart matrix ``M = A^T A`` (claims WPM-1 and LDP-3).

``A`` is ``r x d`` with iid ``N(0, 1/r)`` entries, so ``M ~ W_d(I_d / r, r)`` (seed 000, setting of
WPM). Row ``k`` of ``A`` is a vector of independent ``N(0, 1/r)`` normals and
``M_ij - delta_ij = sum_{k=1}^r (A_ki A_kj - delta_ij / r)`` is a sum over ``r`` iid rows, so every
mixed moment of the entries of ``M - I`` is an expectation of a product of row sums: it is
computed exactly, symbolically in ``r``, by ``proofs.moments.expect_row_sums`` (Gaussian moments
per row, set partitions of the row indices), and cross-checked by writing the sums out for
``r = 1, 2, 3``.

Seed 001 (eqs. 28-36) writes the same matrix as ``B = A^T A / r - I`` with *standard* normal
``A``; ``B`` has the law of ``M - I`` above (``A / sqrt(r)`` has ``N(0, 1/r)`` entries).

Results (all derived below, not assumed):

* ``E[M] = I``;  ``Cov(M_ij, M_kl) = (delta_ik delta_jl + delta_il delta_jk) / r``, so
  ``Var M_ii = 2/r`` and ``Var M_ij = 1/r`` (``i != j``), and distinct entries (up to symmetry)
  are uncorrelated;
* ``E[(M_ii - 1)^3] = 8/r^2``, ``E[(M_ii - 1)^4] = 12(r + 4)/r^3``, ``E[M_ij^4] = 3(r + 2)/r^3``,
  ``E[(M_ii - 1) M_ij^2] = 2/r^2``, ``E[M_ij M_jk M_ki] = 1/r^2``, and
  ``Cov(M_ij^2, M_ik^2) = 2/r^3 != 0`` (``i, j, k`` distinct): the entries of one column are
  uncorrelated but *not independent* (they share ``a_i``), which is what seed 001's eqs. (37)-(44)
  overlook when they apply a CLT for independent summands.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import sympy as sp
from sympy.stats import E as stats_expectation
from sympy.stats import Normal

from proofs._check import all_equal, equal, holds
from proofs.moments import brute_force_row_sums, expect_normal, expect_row_sums, normal_moment
from proofs.record import ProofRecord, ProofStep

__all__ = [
    "proof_ldp3_moments",
    "proof_wishart_covariance",
    "proof_wishart_higher_moments",
    "proof_wishart_mean",
    "r",
    "wishart_moment",
]

#: the rank (number of rows of ``A``), a positive integer symbol
r = sp.Symbol("r", positive=True, integer=True)

_SOURCE_WPM = "seed 000 (arXiv 2601.21719), setting of WPM; claim WPM-1"
_SOURCE_LDP = "seed 001, proof of Lemma 3.1, eqs. (28)-(38); claim LDP-3"
_ASSUMPTIONS = (
    "A is r x d with iid N(0, 1/r) entries (r >= 1); M = A^T A",
    "rows of A are iid; entries within a row are independent centred normals",
)


def _delta(i: int, j: int) -> int:
    return 1 if i == j else 0


def _row(d: int, variance: sp.Expr) -> tuple[tuple[sp.Symbol, ...], dict[sp.Symbol, sp.Expr]]:
    g = sp.symbols(f"g0:{d}")
    return g, {x: variance for x in g}


def _row_factors(
    pairs: Sequence[tuple[int, int]], scale: sp.Expr, variance: sp.Expr
) -> tuple[list[sp.Expr], dict[sp.Symbol, sp.Expr]]:
    """Per-row summands of ``scale * (A^T A)_ij - delta_ij`` for each ``(i, j)`` in ``pairs``."""
    d = 1 + max(max(p) for p in pairs)
    g, var = _row(d, variance)
    factors = [scale * g[i] * g[j] - sp.Rational(_delta(i, j)) / r for i, j in pairs]
    return factors, var


@cache
def wishart_moment(pairs: tuple[tuple[int, int], ...]) -> sp.Expr:
    """``E[prod_t (M_{i_t j_t} - delta_{i_t j_t})]`` exactly, as a function of the symbol ``r``.

    ``pairs`` are 0-based index pairs; equal integers mean equal indices, distinct integers
    distinct indices (so ``((0, 1), (0, 2))`` is ``E[M_ij M_ik]`` with ``i, j, k`` distinct).
    """
    if not pairs:
        return sp.Integer(1)
    factors, var = _row_factors(pairs, sp.Integer(1), 1 / r)
    return sp.factor(expect_row_sums(factors, var, r))


def _brute(pairs: tuple[tuple[int, int], ...], n_rows: int) -> sp.Expr:
    factors, var = _row_factors(pairs, sp.Integer(1), 1 / r)
    factors = [f.subs(r, n_rows) for f in factors]
    var = {k: v.subs(r, n_rows) for k, v in var.items()}
    return brute_force_row_sums(factors, var, n_rows)


def _brute_force_step(
    what: str, patterns: Sequence[tuple[tuple[int, int], ...]], rows: Sequence[int] = (1, 2, 3)
) -> ProofStep:
    pairs = [(wishart_moment(p).subs(r, n), _brute(p, n)) for p in patterns for n in rows]
    return all_equal(
        f"{what}: the symbolic-r result equals the sum written out term by term for r in "
        f"{tuple(rows)}",
        pairs,
        method="exact expansion over explicit rows, Gaussian moments; difference == 0",
    )


def _evaluator_step() -> ProofStep:
    s = sp.Symbol("s", positive=True)
    x = Normal("X", 0, s)
    pairs = [(normal_moment(n, s**2), stats_expectation(x**n)) for n in range(9)]
    return all_equal(
        "Gaussian moment rule E[g^n] = (n-1)!! s^n (n even), 0 (n odd), n = 0..8, agrees with "
        "sympy.stats expectations of N(0, s^2)",
        pairs,
        method="sympy.stats.E vs closed form; simplify(difference) == 0",
    )


@cache
def proof_wishart_mean() -> ProofRecord:
    """WPM-1: ``E[M] = I_d`` (so ``M f(S)`` is unbiased for ``f(S)``)."""
    diag = wishart_moment(((0, 0),)) + 1  # E[M_ii] = E[M_ii - 1] + 1
    off = wishart_moment(((0, 1),))
    steps = (
        _evaluator_step(),
        equal("E[M_ii] = r * E[g^2] = r * (1/r) = 1", diag, 1),
        equal("E[M_ij] = r * E[g_i] E[g_j] = 0 for i != j", off, 0),
        _brute_force_step("E[M_ij - delta_ij]", [((0, 0),), ((0, 1),)], rows=(1, 2, 3, 4)),
    )
    return ProofRecord(
        name="WPM-1 Wishart mean",
        statement="M = A^T A with A r x d iid N(0, 1/r): E[M] = I_d, hence E[M V] = V.",
        result=str(sp.Eq(sp.Symbol("E[M]"), sp.Symbol("I_d"))),
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE_WPM,
    )


def _index_patterns(n_positions: int) -> list[tuple[int, ...]]:
    """Every equality pattern of ``n_positions`` indices, as label tuples (Bell(n) of them)."""
    from proofs.moments import set_partitions

    out = []
    for part in set_partitions(n_positions):
        labels = [0] * n_positions
        for b, block in enumerate(part):
            for pos in block:
                labels[pos] = b
        out.append(tuple(labels))
    return out


@cache
def proof_wishart_covariance() -> ProofRecord:
    """WPM-1: ``Cov(M_ij, M_kl) = (delta_ik delta_jl + delta_il delta_jk) / r`` for all 15
    equality patterns of ``(i, j, k, l)``; in particular ``Var M_ii = 2/r``, ``Var M_ij = 1/r``."""
    patterns = _index_patterns(4)
    checks = []
    for i, j, k, ll in patterns:
        cov = wishart_moment(((i, j), (k, ll)))
        expected = sp.Rational(_delta(i, k) * _delta(j, ll) + _delta(i, ll) * _delta(j, k)) / r
        checks.append((cov, expected))
    steps = (
        _evaluator_step(),
        all_equal(
            "Cov(M_ij, M_kl) = (d_ik d_jl + d_il d_jk)/r for each of the 15 equality patterns "
            "of (i, j, k, l)",
            checks,
        ),
        equal("Var M_ii = 2/r", wishart_moment(((0, 0), (0, 0))), 2 / r),
        equal("Var M_ij = 1/r (i != j)", wishart_moment(((0, 1), (0, 1))), 1 / r),
        equal("Cov(M_ii, M_ij) = 0", wishart_moment(((0, 0), (0, 1))), 0),
        equal("Cov(M_ji, M_ki) = 0 (j, k, i distinct)", wishart_moment(((1, 0), (2, 0))), 0),
        _brute_force_step(
            "Cov(M_ij, M_kl), all 15 patterns", [((a, b), (c, e)) for a, b, c, e in patterns]
        ),
    )
    return ProofRecord(
        name="WPM-1 Wishart covariances",
        statement=(
            "For M = A^T A, A r x d iid N(0, 1/r): Cov(M_ij, M_kl) = (d_ik d_jl + d_il d_jk)/r; "
            "Var M_ii = 2/r, Var M_ij = 1/r (i != j)."
        ),
        result="Cov(M_ij, M_kl) = (KroneckerDelta(i,k)*KroneckerDelta(j,l) + "
        "KroneckerDelta(i,l)*KroneckerDelta(j,k))/r",
        steps=steps,
        assumptions=_ASSUMPTIONS,
        source=_SOURCE_WPM,
    )


#: (pattern, closed form, description): the moments derived in proof_wishart_higher_moments
_HIGHER: tuple[tuple[tuple[tuple[int, int], ...], sp.Expr, str], ...] = (
    (((0, 0),) * 3, 8 / r**2, "E[(M_ii - 1)^3] = 8/r^2"),
    (((0, 0),) * 4, 12 * (r + 4) / r**3, "E[(M_ii - 1)^4] = 12(r + 4)/r^3"),
    (((0, 1),) * 3, sp.Integer(0), "E[M_ij^3] = 0"),
    (((0, 1),) * 4, 3 * (r + 2) / r**3, "E[M_ij^4] = 3(r + 2)/r^3"),
    (((0, 0), (0, 1), (0, 1)), 2 / r**2, "E[(M_ii - 1) M_ij^2] = 2/r^2"),
    (((0, 0), (0, 0), (0, 1), (0, 1)), (2 * r + 8) / r**3, "E[(M_ii - 1)^2 M_ij^2] = (2r + 8)/r^3"),
    (((0, 1), (0, 1), (0, 2), (0, 2)), (r + 2) / r**3, "E[M_ij^2 M_ik^2] = (r + 2)/r^3"),
    (((0, 1), (1, 2), (2, 0)), 1 / r**2, "E[M_ij M_jk M_ki] = 1/r^2"),
    (((0, 1), (0, 1), (2, 3), (2, 3)), 1 / r**2, "E[M_ij^2 M_kl^2] = 1/r^2 (i, j, k, l distinct)"),
    (((0, 0), (1, 1)), sp.Integer(0), "E[(M_ii - 1)(M_jj - 1)] = 0"),
)


@cache
def proof_wishart_higher_moments() -> ProofRecord:
    """WPM-1 / LDP-3: third and fourth moments of ``M - I`` (see the module docstring), and the
    dependence ``Cov(M_ij^2, M_ik^2) = 2/r^3`` of entries sharing an index."""
    steps: list[ProofStep] = [
        equal(desc, wishart_moment(pattern), closed) for pattern, closed, desc in _HIGHER
    ]
    # chi-square cross-check: r M_ii ~ chi2_r, whose central moments are 2r, 8r, 12r^2 + 48r
    steps.append(
        all_equal(
            "r M_ii ~ chi2_r: E[(M_ii-1)^n] r^n equals the chi2_r central moments 2r, 8r, "
            "12 r^2 + 48 r (n = 2, 3, 4)",
            [
                (wishart_moment(((0, 0),) * 2) * r**2, 2 * r),
                (wishart_moment(((0, 0),) * 3) * r**3, 8 * r),
                (wishart_moment(((0, 0),) * 4) * r**4, 12 * r**2 + 48 * r),
            ],
        )
    )
    cov_sq = (
        wishart_moment(((0, 1), (0, 1), (0, 2), (0, 2))) - wishart_moment(((0, 1), (0, 1))) ** 2
    )
    steps.append(equal("Cov(M_ij^2, M_ik^2) = 2/r^3 (i, j, k distinct)", cov_sq, 2 / r**3))
    steps.append(
        holds(
            "hence M_ij and M_ik are uncorrelated (Cov = 0) but dependent (Cov of squares != 0)",
            sp.simplify(cov_sq) != 0 and sp.simplify(wishart_moment(((0, 1), (0, 2)))) == 0,
            method="computed values compared with 0",
        )
    )
    steps.append(_brute_force_step("all moments above", [p for p, _, _ in _HIGHER]))
    return ProofRecord(
        name="WPM-1 Wishart third and fourth moments",
        statement="; ".join(desc for _, _, desc in _HIGHER) + "; Cov(M_ij^2, M_ik^2) = 2/r^3.",
        result=str({desc.split(" = ")[0]: sp.sstr(closed) for _, closed, desc in _HIGHER}),
        steps=tuple(steps),
        assumptions=_ASSUMPTIONS,
        source=_SOURCE_WPM,
    )


@cache
def proof_ldp3_moments() -> ProofRecord:
    """LDP-3: the moments in seed 001's proof of Lemma 3.1 (eqs. 28-36), for ``B = A^T A / r - I``
    with *standard* normal ``A``, derived with standard normals directly."""
    g, var = _row(4, sp.Integer(1))

    def b_moment(pairs: tuple[tuple[int, int], ...]) -> sp.Expr:
        factors = [(g[i] * g[j] - _delta(i, j)) / r for i, j in pairs]
        return expect_row_sums(factors, var, r)

    a, b = g[0], g[1]
    steps = [
        equal("eq. (30): E[B_ii] = 0", b_moment(((0, 0),)), 0),
        equal("eq. (30): Var[B_ii] = Var(chi2_r)/r^2 = 2/r", b_moment(((0, 0),) * 2), 2 / r),
        equal(
            "eq. (32): a b = ((a + b)^2 - (a - b)^2)/4",
            a * b,
            ((a + b) ** 2 - (a - b) ** 2) / 4,
            method="exact polynomial identity",
        ),
        all_equal(
            "eq. (32)-(33): (a + b)/sqrt2 and (a - b)/sqrt2 are uncorrelated standard normals "
            "(jointly normal, so independent)",
            [
                (expect_normal((a + b) * (a - b), var), 0),
                (expect_normal((a + b) ** 2 / 2, var), 1),
                (expect_normal((a - b) ** 2 / 2, var), 1),
            ],
        ),
        equal(
            "eq. (35) with k = 1: Var[nu_1 - nu_2] = 4k = 4 for nu_1, nu_2 iid chi2_1",
            expect_normal((a**2 - b**2) ** 2, var) - expect_normal(a**2 - b**2, var) ** 2,
            4,
        ),
        equal("eq. (34): E[a_li a_lj] = 0", expect_normal(a * b, var), 0),
        equal("eq. (35): Var[a_li a_lj] = 1", expect_normal((a * b) ** 2, var), 1),
        equal("eq. (36): E[B_ij] = 0 (i != j)", b_moment(((0, 1),)), 0),
        equal("eq. (36): Var[B_ij] = 1/r (i != j)", b_moment(((0, 1),) * 2), 1 / r),
        all_equal(
            "eq. (38) needs Var(sum_l q_l B_li) = sum_l q_l^2 Var B_li: Cov(B_li, B_ki) = 0 for "
            "l != k, including Cov(B_ii, B_ki) = 0",
            [(b_moment(((1, 0), (2, 0))), 0), (b_moment(((0, 0), (1, 0))), 0)],
        ),
        all_equal(
            "B (standard normal A) has the second- and fourth-order moments of M - I "
            "(N(0, 1/r) entries) on every pattern checked",
            [(b_moment(p), wishart_moment(p)) for p, _, _ in _HIGHER]
            + [(b_moment(((0, 1), (0, 1))), wishart_moment(((0, 1), (0, 1))))],
        ),
    ]
    cov_sq = b_moment(((1, 0), (1, 0), (2, 0), (2, 0))) - b_moment(((1, 0), (1, 0))) ** 2
    steps.append(
        equal(
            "Cov(B_li^2, B_ki^2) = 2/r^3 != 0 (l, k, i distinct): the summands q_l B_li of "
            "eq. (37) share column i and are dependent, so the CLT for independent summands "
            "invoked after eq. (38) (and the independence in eq. (44)) does not apply",
            cov_sq,
            2 / r**3,
        )
    )
    return ProofRecord(
        name="LDP-3 moments of B = A^T A / r - I",
        statement=(
            "For standard normal A (r x m), B = A^T A / r - I: E[B_ii] = 0, Var B_ii = 2/r, "
            "E[B_ij] = 0, Var B_ij = 1/r, Cov(B_li, B_ki) = 0 (l != k); the entries of a column "
            "are uncorrelated but dependent: Cov(B_li^2, B_ki^2) = 2/r^3."
        ),
        result="E[B_ii]=0, Var[B_ii]=2/r, E[B_ij]=0, Var[B_ij]=1/r, Cov(B_li,B_ki)=0, "
        "Cov(B_li**2,B_ki**2)=2/r**3",
        steps=tuple(steps),
        assumptions=(
            "A is r x m with iid N(0, 1) entries (seed 001 eq. 28 rescaling)",
            "rows of A are iid",
        ),
        source=_SOURCE_LDP,
    )
