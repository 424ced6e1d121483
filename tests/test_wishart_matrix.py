"""WPM-5 (Theorem 2 of seed 000): the symbolic derivation, the sampled event on the project's
matrix-mechanism sampler (numpy and torch), a negative control, and the claim's verdict."""

from __future__ import annotations

import numpy as np
import pytest

from certify.claims.wishart_attacks import (
    WPM5_CONFIDENCE,
    _neighbours,
    check_wpm5,
    matrix_event_test,
)
from proofs.wishart_matrix import proof_matrix_mechanism_not_dp


def test_derivation_checks_every_step() -> None:
    record = proof_matrix_mechanism_not_dp()
    assert record.ok and len(record.steps) >= 10
    claims = " ".join(s.claim for s in record.steps)
    for needed in ("M (v - w)", "||A y||^2", "||y||^2 / r", "probability 0", "delta >= 1"):
        assert needed in claims


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize(("d", "r"), [(8, 1), (8, 3), (8, 8)])
def test_sampled_event_has_probability_one_vs_zero(backend: str, d: int, r: int) -> None:
    if backend == "torch":
        pytest.importorskip("torch")
    run = matrix_event_test(d, r, 1000, seed=d + r, backend=backend)
    assert run["count_F"] == 1000 and run["count_F_prime"] == 0
    assert run["max_ratio_F"] < 1e-13 and run["min_ratio_F_prime"] > 1e-6
    alpha = (1 - float(WPM5_CONFIDENCE)) / 2  # one-sided Clopper-Pearson, closed forms at 0 / n
    p_lower, q_upper = alpha ** (1 / 1000), 1 - alpha ** (1 / 1000)
    assert abs(float(run["P_F_lower"]) - p_lower) < 1e-9
    assert abs(float(run["P_F_prime_upper"]) - q_upper) < 1e-9
    delta0 = run["delta_lower"]["eps=0"]
    assert abs(float(delta0.lower) - (p_lower - q_upper)) < 1e-9
    assert float(delta0.lower) > 0.98


def test_negative_control_identical_queries_give_no_evidence() -> None:
    f, _ = _neighbours(8, 0)
    run = matrix_event_test(8, 3, 500, seed=1, pair=(f, f.copy()))
    assert run["count_F"] == run["count_F_prime"] == 500
    assert float(run["delta_lower"]["eps=0"].upper) < 0.05  # P_L - P_U: no gap to show


def test_unequal_first_columns_break_the_event() -> None:
    rng = np.random.default_rng(2)
    g = rng.standard_normal((8, 2))
    run = matrix_event_test(8, 3, 300, seed=2, pair=(g, g))
    assert run["count_F"] == 0


def test_wpm5_verdict_confirmed() -> None:
    outcome = check_wpm5()
    assert outcome.verdict.status == "confirmed"
    kinds = [e.kind for e in outcome.evidence]
    assert kinds == ["symbolic", "certified", "statistical"]
    runs = outcome.evidence[2].values["runs"]
    assert isinstance(runs, list) and len(runs) >= 3
