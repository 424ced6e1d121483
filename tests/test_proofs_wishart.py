"""Tests for proofs/wishart.py, proofs/moments.py and proofs/registry.py.

Oracles: Monte Carlo with numpy (fixed seeds; each sample mean is required within z = 5 standard
errors, the standard error computed from the *exact* second moment of the product, itself from
``wishart_moment`` on the doubled pattern), and the literal term-by-term expansion of the row
sums for concrete ``r``. A false alarm at z = 5 has probability about 6e-7 per comparison
(normal approximation, N >= 2e5).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import proofs
from proofs import registry
from proofs._check import equal, is_zero
from proofs.moments import (
    brute_force_row_sums,
    expect_normal,
    expect_row_sums,
    normal_moment,
    set_partitions,
)
from proofs.record import ProofRecord
from proofs.wishart import (
    _HIGHER,
    proof_ldp3_moments,
    proof_wishart_covariance,
    proof_wishart_higher_moments,
    proof_wishart_mean,
    r,
    wishart_moment,
)

RECORDS = (
    proof_wishart_mean,
    proof_wishart_covariance,
    proof_wishart_higher_moments,
    proof_ldp3_moments,
)
Z = 5.0


# ---------------------------------------------------------------------------- the records


@pytest.mark.parametrize("make", RECORDS, ids=lambda f: f.__name__)
def test_record_ok(make):
    rec = make()
    assert isinstance(rec, ProofRecord)
    assert rec.steps and rec.ok, [s.claim for s in rec.steps if not s.ok]
    js = rec.to_json()
    steps = js["steps"]
    assert js["ok"] is True and isinstance(steps, list) and len(steps) == len(rec.steps)
    assert rec.source and rec.statement and rec.assumptions


def test_a_wrong_claim_fails():
    """The step machinery can fail: the paper-independent but wrong value 1/r for Var M_ii."""
    assert not equal("Var M_ii = 1/r", wishart_moment(((0, 0), (0, 0))), 1 / r).ok
    assert not is_zero(r - 1)
    assert is_zero((r + 1) ** 2 - r**2 - 2 * r - 1)


def test_closed_forms():
    assert wishart_moment(((0, 0), (0, 0))) == 2 / r
    assert sp.simplify(wishart_moment(((0, 1), (0, 1))) - 1 / r) == 0
    assert sp.simplify(wishart_moment(((0, 0),) * 4) - 12 * (r + 4) / r**3) == 0
    # 8th central moment of chi2_1 (r = 1): sum_k C(8,k) (-1)^k (2k-1)!! = 1190672
    assert wishart_moment(((0, 0),) * 8).subs(r, 1) == 1190672


# ---------------------------------------------------------------------------- moment helpers


def test_normal_moment_rule():
    s2 = sp.Symbol("s2", positive=True)
    assert normal_moment(2, s2) == s2
    assert normal_moment(4, s2) == 3 * s2**2
    assert normal_moment(5, s2) == 0
    with pytest.raises(ValueError, match="n=-1"):
        normal_moment(-1, s2)


def test_set_partitions_are_bell_numbers():
    assert [len(set_partitions(p)) for p in range(7)] == [1, 1, 2, 5, 15, 52, 203]


@settings(max_examples=25, deadline=None)
@given(
    exps=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(-2, 2)), min_size=1, max_size=3
    ),
    count=st.integers(1, 3),
)
def test_row_sum_formula_matches_brute_force(exps, count):
    """The set-partition formula equals the literal expansion for random polynomial summands."""
    g, h = sp.symbols("g h")
    var = {g: sp.Rational(1, 2), h: sp.Integer(3)}
    factors = [g**a * h**b + c for a, b, c in exps]
    symbolic = expect_row_sums(factors, var, r).subs(r, count)
    assert sp.simplify(symbolic - brute_force_row_sums(factors, var, count)) == 0


def test_expect_normal_against_numpy():
    """E[(g^2 - 1)^2 h^2 + g h^3] for g ~ N(0, 1), h ~ N(0, 4) = 2 * 4 = 8, by Monte Carlo."""
    g, h = sp.symbols("g h")
    val = expect_normal((g**2 - 1) ** 2 * h**2 + g * h**3, {g: 1, h: 4})
    assert val == 8
    rng = np.random.default_rng(1)
    n = 400_000
    gs, hs = rng.standard_normal(n), 2 * rng.standard_normal(n)
    x = (gs**2 - 1) ** 2 * hs**2 + gs * hs**3
    assert abs(x.mean() - 8) < Z * x.std() / np.sqrt(n)


# ---------------------------------------------------------------------------- Monte Carlo


@pytest.fixture(scope="module")
def wishart_samples():
    """M = A^T A, A 3 x 4 with iid N(0, 1/3) entries, 300 000 draws (fixed seed)."""
    rng = np.random.default_rng(20240601)
    n_rows, d, n = 3, 4, 300_000
    a = rng.standard_normal((n, n_rows, d)) / np.sqrt(n_rows)
    return n_rows, np.einsum("nki,nkj->nij", a, a)


def _mc_check(samples, n_rows, pattern):
    centred = [samples[:, i, j] - (1.0 if i == j else 0.0) for i, j in pattern]
    prod = np.prod(centred, axis=0)
    exact = float(wishart_moment(pattern).subs(r, n_rows))
    second = float(wishart_moment(pattern * 2).subs(r, n_rows))  # exact E[prod^2]
    se = np.sqrt((second - exact**2) / len(prod))
    return abs(prod.mean() - exact), Z * se


@pytest.mark.parametrize(
    "pattern",
    [((0, 0),), ((0, 1),), ((0, 0), (0, 0)), ((0, 1), (0, 1)), ((0, 0), (0, 1)), ((0, 1), (2, 1))]
    + [p for p, _, _ in _HIGHER],
    ids=str,
)
def test_moments_monte_carlo(wishart_samples, pattern):
    n_rows, samples = wishart_samples
    err, tol = _mc_check(samples, n_rows, pattern)
    assert err < tol, (pattern, err, tol)


def test_monte_carlo_rejects_a_wrong_variance(wishart_samples):
    """Power check: the sample variance of M_ii separates 2/r from 1/r by far more than 5 s.e."""
    n_rows, samples = wishart_samples
    diag = samples[:, 0, 0] - 1
    mu4 = float(wishart_moment(((0, 0),) * 4).subs(r, n_rows))
    var = 2 / n_rows
    se = np.sqrt((mu4 - var**2) / len(diag))
    assert abs(np.mean(diag**2) - var) < Z * se
    assert abs(np.mean(diag**2) - 1 / n_rows) > 20 * se


def test_ldp3_standard_normal_monte_carlo():
    """B = A^T A / r - I with standard normal A (r = 4): Var B_ii = 2/r, Var B_ij = 1/r, and
    Cov(B_li^2, B_ki^2) = 2/r^3 > 0 (dependence), by Monte Carlo."""
    rng = np.random.default_rng(7)
    n_rows, n = 4, 400_000
    a = rng.standard_normal((n, n_rows, 3))
    b = np.einsum("nki,nkj->nij", a, a) / n_rows - np.eye(3)
    for pattern in (((0, 0), (0, 0)), ((0, 1), (0, 1)), ((1, 0), (1, 0), (2, 0), (2, 0))):
        prod = np.prod([b[:, i, j] for i, j in pattern], axis=0)
        exact = float(wishart_moment(pattern).subs(r, n_rows))
        second = float(wishart_moment(pattern * 2).subs(r, n_rows))
        assert abs(prod.mean() - exact) < Z * np.sqrt((second - exact**2) / n)
    # E[B_li^2] = 1/r exactly, so the mean of x is Cov(B_li^2, B_ki^2); s.e. from the sample sd
    x = (b[:, 1, 0] ** 2 - 1 / n_rows) * (b[:, 2, 0] ** 2 - 1 / n_rows)
    se = x.std() / np.sqrt(n)
    assert abs(x.mean() - 2 / n_rows**3) < Z * se
    assert x.mean() > Z * se  # dependent: the covariance of the squares is detectably > 0


# ---------------------------------------------------------------------------- registry


def test_registry_lists_every_derivation():
    from proofs import gaussian, lora_u

    assert len(set(registry.ALL_PROOFS)) == len(registry.ALL_PROOFS)
    assert proofs.ALL_PROOFS is registry.ALL_PROOFS
    public = [
        getattr(mod, name)
        for mod in (gaussian, lora_u)
        for name in mod.__all__
        if name.startswith("proof_")
    ]
    for make in (*RECORDS, *public):
        assert make in registry.ALL_PROOFS, make.__name__
    assert all(callable(f) for f in registry.ALL_PROOFS)


def test_run_all_runs_the_registry(monkeypatch):
    monkeypatch.setattr(registry, "ALL_PROOFS", RECORDS)
    out = registry.run_all()
    assert [rec.name for rec in out] == [f().name for f in RECORDS]
    assert all(rec.ok for rec in out)
