"""Theorem 1 of seed 000 (WPM-2) as printed and corrected (certify.wishart.theorem1), and the
symbolic derivations behind the exact law (proofs.wishart_law)."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from scipy import stats

import proofs.wishart_law as wl
from certify.errors import InvalidArgument
from certify.wishart.law import float_profile
from certify.wishart.theorem1 import check_point, float_quantities, float_screen, theorem1_bound


@pytest.mark.parametrize("name", wl.__all__)
def test_every_derivation_checks_out(name: str) -> None:
    record = getattr(wl, name)()
    assert record.ok, [s.claim for s in record.steps if not s.ok]


def test_a_wrong_loss_fails_the_symbolic_check() -> None:
    """The machinery can fail: the printed coefficient (d+r-1)/2 in place of c = (d+1-r)/2 is
    not the privacy loss of the density."""
    from proofs._check import is_zero

    u, w, d, r = sp.symbols("u W d r", positive=True)
    good = (d + 1 - r) / 2 * sp.log(u) + w * (1 - u) / (2 * u)
    bad = (d + r - 1) / 2 * sp.log(u) + w * (1 - u) / (2 * u)
    assert is_zero(good - good)
    assert not is_zero(good - bad)


def test_quantities_match_scipy() -> None:
    d, r, rho, dp = 64, 8, "0.9", "0.01"
    b = theorem1_bound(d, r, rho, dp)
    assert b.admissible
    assert b.t.contains(stats.t.isf(0.01, r)) or abs(b.t.mid - stats.t.isf(0.01, r)) < 1e-9
    assert abs(b.kappa.mid - stats.chi2.isf(0.01, d + r - 1)) < 1e-8
    eps_p, eps_c, delta_p = float_quantities(d, r, 0.9, 0.01)  # type: ignore[misc]
    assert b.eps_printed is not None and b.eps_corrected is not None
    assert abs(b.eps_printed.mid - eps_p) < 1e-9 * eps_p
    assert abs(b.eps_corrected.mid - eps_c) < 1e-9 * eps_c
    assert abs(b.delta_printed.mid - delta_p) < 1e-12
    # printed - corrected = (r - 1) log(rho + K)
    k = math.sqrt((1 - 0.81) / r) * stats.t.isf(0.01, r)
    assert abs((eps_p - eps_c) - (r - 1) * math.log(0.9 + k)) < 1e-9


def test_hypothesis_of_the_theorem() -> None:
    with pytest.raises(InvalidArgument, match="t/sqrt"):
        check_point(16, 1, "0.5", "0.01")  # Cauchy quantile 31.8: rho_min ~ 0.9995
    assert not theorem1_bound(16, 1, "0.5", "0.01").admissible
    with pytest.raises(InvalidArgument, match="delta_prime"):
        theorem1_bound(16, 4, "0.9", "0.5")


def test_certified_counterexample() -> None:
    """d = r = 128, rho = 0.78, delta' = 0.2: the printed eps 25.53 leaves an exact delta of
    0.791 > 0.6 = the printed delta; the corrected eps 49.69 gives 0.129 <= 3 delta'."""
    pc = check_point(128, 128, "0.78", "0.2")
    assert pc.status == "fails"
    assert pc.delta_at_printed is not None and pc.delta_at_printed.gt("0.79") is True
    assert pc.bound.delta_printed.lt("0.6001") is True
    assert pc.corrected_holds is True
    # independent float evaluation of the same point
    eps_p = pc.bound.eps_printed
    assert eps_p is not None
    est = float_profile(128, 128, 0.78, eps_p.mid)[0]
    assert abs(est - pc.delta_at_printed.mid) < 1e-6


def test_printed_bound_holds_where_it_is_not_below_the_corrected_one() -> None:
    """r = 1: printed eps = corrected eps, and the bound holds (certified)."""
    pc = check_point(16, 1, "0.99999", "0.1")
    assert pc.bound.eps_printed is not None and pc.bound.eps_corrected is not None
    assert pc.bound.eps_printed.overlaps(pc.bound.eps_corrected)
    assert pc.status == "holds" and pc.corrected_holds is True


def test_screen_finds_failures_only_where_predicted() -> None:
    rows, total = float_screen((8, 256), 8, (0.2, 0.01), (0.5, 0.01))
    assert total > len(rows) > 0
    for s in rows:
        assert s.eps_printed < s.eps_corrected  # the only points evaluated
        assert s.delta_exact_corrected <= 3 * s.delta_prime * (1 + 1e-6)
    assert any(s.ratio > 1 for s in rows if s.d == 256)
    assert not any(s.ratio > 1 for s in rows if s.d == 8)
