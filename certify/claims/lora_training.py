"""LDP-1, LDP-6 (+ LDP-6.c), LDP-7 and LDP-8 (+ LDP-8.c): LoRA's training dynamics, the JL
clipping step and the privacy of a LoRA update (seed 001, appendix B and section 5)."""

from __future__ import annotations

import functools
import time
from fractions import Fraction
from typing import cast

from certify.claims._evidence import jsonable
from certify.claims.model import Claim, ClaimInfo, Evidence, Outcome, Value, Verdict
from certify.claims.registry import register

SOURCE = "seed 001 (LoRA as implicit DP-SGD)"

# -- LDP-1 -----------------------------------------------------------------------------------------

LDP1 = ClaimInfo(
    id="LDP-1", title="Frozen-A LoRA update (eq. 27) and Theorem B.1's negligible Delta B Delta A",
    source=SOURCE,
    statement="With A frozen at A0, LoRA's update after T SGD steps is W - eta sum_t grad_W L^t "
              "A0^T A0 (eq. 27); Theorem B.1 bounds ||f_A(t)||_2 <= eta L^2 (1 - (eta^2 L^2)^t) / "
              "(1 - eta^2 L^2) when ||sum_{t<=T} grad_W L^t||_F <= L for all T, so the Delta B "
              "Delta A term of eq. 25 is negligible when eta L << 1.",
    domain="any gradient sequence meeting the assumption; eta L < 1",
)


def check_ldp1() -> Outcome:
    from certify.experiments import lora_dynamics as dyn

    start = time.perf_counter()
    g = [[Fraction(3, 5), Fraction(0)], [Fraction(4, 5), Fraction(0)]]  # ||g||_F = 1 = L
    a0 = [[Fraction(63, 500), Fraction(-33, 250)]]
    cases = {
        "eta_L=1/10,T=4": dyn.oscillating_counterexample(Fraction(1, 10), g, 4),
        "eta_L=1/10,T=201": dyn.oscillating_counterexample(Fraction(1, 10), g, 201, A0=a0),
        "eta_L=9/10,amplitude=2,T=2": dyn.oscillating_counterexample(Fraction(9, 10), g, 2,
                                                                      amplitude=2),
    }
    certified = Evidence(
        "certified",
        "exact rational recursion of f_A, f_B (eq. 23) for oscillating gradients G_t = +-g "
        "(linear losses <C_t, W> realise any gradient sequence); ||f_A(T)||_2 enclosed by an "
        "exact Rayleigh quotient and a trace-power upper bound; the assumption checked exactly",
        {"cases": cast(Value, jsonable(cases))}, 128, time.perf_counter() - start)
    start = time.perf_counter()
    rows = dyn.least_squares_experiment([0.01, 0.1, 0.3, 1.0])
    experiment = Evidence(
        "statistical",
        "experiment (float64, seed 0): synthetic least squares, LoRA with A and B trained vs "
        "frozen A; the eq. 25 term ratio and the eq. 27 identity residual as eta L varies",
        {"rows": cast(Value, jsonable(rows))}, 0, time.perf_counter() - start)
    key = "eta_L=1/10,T=4"
    violated = cases[key]["violated"] is True
    identity_ok = all(float(row.get("eq27_residual", 0.0)) < 1e-12 for row in rows)
    if violated and identity_ok:
        return Outcome((certified, experiment), Verdict(
            "refuted",
            "eq. 27 is an exact identity for frozen A, but Theorem B.1's bound is false: with "
            "gradients +g, -g, +g, -g (partial sums <= L) ||f_A(4)||_2 ~ 0.199 > bound 0.101 at "
            "eta L = 1/10, and at T = 201 the eq. 25 ratio ||Delta B Delta A||/||Delta B A0|| is "
            "0.44, not <= (eta L)^2/(1 - (eta L)^2) ~ 0.01; the assumption bounds partial sums, "
            "not sum_t ||G_t||",
            counterexample=cast(dict[str, Value], jsonable({key: cases[key]}))))
    return Outcome((certified, experiment), Verdict(
        "inconclusive", "not settled", reason=f"violated={violated}, identity_ok={identity_ok}"))


# -- LDP-6, LDP-6.c, LDP-7 -------------------------------------------------------------------------

LDP6 = ClaimInfo(
    id="LDP-6", title="Theorem 5.1 (JL) with r = Delta^-2 log(2/p)", source=SOURCE,
    statement="With r = Delta^-2 log(2/p) (read as its ceiling; printed log(p/2)) and T(x)_i = "
              "r^-1/2 sum_j R_ij x_j, P[(1-Delta)||x|| <= ||T x|| <= (1+Delta)||x||] >= 1 - p.",
    domain="Delta in (0, 1/2], p in (0, 1)",
)

GRID_DELTAS = ("1/2", "0.45", "0.4", "0.3", "0.2", "0.1")
GRID_PS = ("0.5", "0.01", "1e-6", "1e-10", "1e-15", "1e-20", "1e-30")


def check_ldp6() -> Outcome:
    from certify.lora.jl import jl_check

    start = time.perf_counter()
    grid = {f"Delta={d},p={p}": jl_check(d, p) for d in GRID_DELTAS for p in GRID_PS}
    ev = Evidence("certified",
                  "exact failure probability 1 - P[(1-D)^2 r <= chi2_r <= (1+D)^2 r] (certified "
                  "chi-square tails) against p, r = ceil(D^-2 log(2/p)) certified",
                  {"grid": cast(Value, jsonable(grid))}, 128, time.perf_counter() - start)
    fails = {k: v for k, v in grid.items() if v["decision"] == "fails"}
    undecided = [k for k, v in grid.items() if v["decision"] == "undecided"]
    if fails:
        first = "Delta=1/2,p=1e-20" if "Delta=1/2,p=1e-20" in fails else next(iter(fails))
        return Outcome((ev,), Verdict(
            "refuted",
            f"the bound fails at {len(fails)} of {len(grid)} grid points (small p, Delta near "
            "1/2): e.g. Delta = 1/2, p = 1e-20, r = 187 has failure probability ~4.8 p. It holds "
            "for p above ~1e-14 at every Delta on the grid",
            counterexample=cast(dict[str, Value], jsonable({first: fails[first]}))))
    if undecided:
        return Outcome((ev,), Verdict("inconclusive", "undecided points",
                                      reason=", ".join(undecided)))
    return Outcome((ev,), Verdict("confirmed", "holds at every grid point"))


LDP6C = ClaimInfo(
    id="LDP-6.c", title="Corrected JL rank: r = ceil(2 log(2/p) / (2D + D^2 - 2 log(1+D)))",
    source=SOURCE, derived_from="LDP-6",
    statement="With r >= 2 log(2/p) / (2 Delta + Delta^2 - 2 log(1 + Delta)), "
              "P[(1-Delta)||x|| <= ||T x|| <= (1+Delta)||x||] >= 1 - p (Chernoff bounds for "
              "chi2_r on both sides; the lower-tail exponent dominates the upper by "
              "4 (artanh Delta - Delta) >= 0).",
    domain="Delta in (0, 1), p in (0, 1); certified on the LDP-6 grid",
)


def check_ldp6c() -> Outcome:
    from certify.lora.jl import jl_check_corrected

    start = time.perf_counter()
    grid = {f"Delta={d},p={p}": jl_check_corrected(d, p) for d in GRID_DELTAS for p in GRID_PS}
    ev = Evidence("certified", "exact failure probability at the corrected rank, and the "
                               "Chernoff bound, both certified against p",
                  {"grid": cast(Value, jsonable(grid))}, 128, time.perf_counter() - start)
    bad = [k for k, v in grid.items()
           if not (v["decision"] == v["chernoff_le_p"] == v["failure_le_chernoff"] == "holds")]
    if not bad:
        return Outcome((ev,), Verdict("confirmed", "the corrected rank meets 1 - p at every grid "
                                                   "point (and is a theorem by Chernoff)"))
    return Outcome((ev,), Verdict("inconclusive", "not all points certain",
                                  reason=", ".join(bad)))


LDP7 = ClaimInfo(
    id="LDP-7", title="Eqs. 10-11: clipping B-gradient rows bounds the W-gradient w.p. >= 1 - nbp",
    source=SOURCE,
    statement="Clipping every row of the per-example B-gradient to norm (1-Delta) sqrt(r) c "
              "bounds every per-example W-gradient in Frobenius norm by sqrt(n r) c with "
              "probability >= 1 - n b p, at r = Delta^-2 log(2/p).",
    domain="Delta in (0, 1/2], p in (0, 1), n, b >= 1",
)


def check_ldp7() -> Outcome:
    from certify.lora.jl import clipping_implication

    start = time.perf_counter()
    exact_case = clipping_implication("1/2", "1e-20", 1, 1)
    typical = clipping_implication("0.3", "1e-6", 768, 64)
    ev = Evidence("certified",
                  "per-row failure = exact JL failure probability (certified chi-square tails); "
                  "union bound 1 - n b p_row (exact at n = b = 1)",
                  {"n=b=1,Delta=1/2,p=1e-20": cast(Value, jsonable(exact_case)),
                   "n=768,b=64,Delta=0.3,p=1e-6": cast(Value, jsonable(typical))},
                  128, time.perf_counter() - start)
    failure = exact_case["row_failure"]
    if failure.gt(Fraction(1, 10**20)) is True:
        return Outcome((ev,), Verdict(
            "refuted",
            "the implication inherits LDP-6's failure: at n = b = 1, Delta = 1/2, p = 1e-20 "
            "(r = 187) the probability is exactly 1 - F with F ~ 4.8e-20 > p. Where JL holds "
            "(e.g. Delta = 0.3, p = 1e-6, n = 768, b = 64) the union bound does imply eq. 11",
            counterexample=cast(dict[str, Value], jsonable(exact_case))))
    return Outcome((ev,), Verdict("inconclusive", "not settled", reason="failure not > p"))


# -- LDP-8, LDP-8.c --------------------------------------------------------------------------------

LDP8 = ClaimInfo(
    id="LDP-8",
    title="Section 5.1: LoRA with JL clipping is DP-SGD with z >= (1-D)/(1+D) sqrt(b/(nr))",
    source=SOURCE,
    statement="LoRA with that clipping behaves like DP-SGD with noise multiplier "
              "z >= (1-Delta)/(1+Delta) sqrt(b/(n r)), so low-rank adaptation implicitly provides "
              "privacy.",
    domain="one LoRA step with A frozen, no added noise",
)


@functools.lru_cache(maxsize=1)
def _event_and_claimed() -> tuple[Evidence, Evidence, dict[str, object], dict[str, object]]:
    """The sampled event test and the implied DP-SGD delta, computed once per run (LDP-8 and
    LDP-8.c share them)."""
    from certify.lora.update_privacy import claimed_dpsgd_delta, lora_step_event_test

    start = time.perf_counter()
    event = lora_step_event_test(64, 64, 8, 20_000, seed=7)
    stat = Evidence("statistical",
                    "frozen-A LoRA step G -> G A^T A sampled on neighbours D (two equal gradient "
                    "rows) and D' (one example changes row 2): the event 'rows 1 and 2 of the "
                    "output are equal', counts with Clopper-Pearson bounds (joint 99.9%) and "
                    "the implied lower confidence bound on delta(eps)",
                    cast(dict[str, Value], jsonable(event)), 0, time.perf_counter() - start)
    start = time.perf_counter()
    claimed = claimed_dpsgd_delta("1/2", 768, 8, 64, 1)
    cert = Evidence("certified",
                    "the delta(eps = 1) that the paper's noise multiplier z implies (Gaussian "
                    "mechanism, Balle-Wang Thm 8, n = 768, r = 8, b = 64, Delta = 1/2), with "
                    "1 - delta enclosed to relative accuracy",
                    cast(dict[str, Value], jsonable(claimed)), 128, time.perf_counter() - start)
    return stat, cert, event, claimed


def check_ldp8() -> Outcome:
    stat, cert, event, claimed = _event_and_claimed()
    if claimed["contradiction"] is True and event["count_D_prime"] == 0:
        return Outcome((stat, cert), Verdict(
            "refuted",
            "one noise-free LoRA step is not (eps, delta)-DP for any delta < 1 (the event "
            "'two output rows equal' has probability 1 under D and 0 under D', cf. WPM-5), "
            "while the implied DP-SGD guarantee gives delta(1) < 1; besides, the implied "
            "z = 0.034 would be nearly vacuous even if the noise were Gaussian",
            counterexample=cast(dict[str, Value], jsonable({
                "event_counts": {"D": event["count_D"], "D_prime": event["count_D_prime"],
                                 "trials": event["trials"]},
                "exact_delta_every_eps": event["exact_delta"],
                "implied_delta_eps=1": claimed["implied_delta"],
                "implied_gap_1_minus_delta": claimed["implied_gap"],
            }))))
    return Outcome((stat, cert), Verdict("inconclusive", "not settled",
                                         reason="the event test or the implied guarantee"))


LDP8C = ClaimInfo(
    id="LDP-8.c", title="A noise-free LoRA step is not differentially private", source=SOURCE,
    derived_from="LDP-8",
    statement="For n >= 2 gradient rows, m >= 1, r >= 1, the frozen-A LoRA update G -> G A^T A "
              "(A iid Gaussian) is not (eps, delta)-DP for any eps and any delta < 1: with two "
              "equal rows in G and a neighbour changing one of them by y != 0, the event "
              "'those output rows are equal' has probability 1 vs P(A y = 0) = 0.",
    domain="n >= 2, any m, r",
)


def check_ldp8c() -> Outcome:
    stat, _cert, event, _claimed = _event_and_claimed()
    lower = event["delta_lower"]
    assert isinstance(lower, dict)
    at_zero = lower[Fraction(0)]
    if event["count_D"] == event["trials"] and event["count_D_prime"] == 0:
        return Outcome((stat,), Verdict(
            "confirmed",
            "the exact argument (y A^T A = 0 iff A y = 0, probability 0) and the sampled "
            f"event agree: delta(0) >= {float(at_zero.lower):.4f} at "
            f"{float(cast(Fraction, event['confidence'])):.1%} confidence; exactly 1"))
    return Outcome((stat,), Verdict("inconclusive", "event counts disagree",
                                    reason="sampled event frequencies"))


register(Claim(LDP1, check_ldp1))
register(Claim(LDP6, check_ldp6))
register(Claim(LDP6C, check_ldp6c))
register(Claim(LDP7, check_ldp7))
register(Claim(LDP8, check_ldp8))
register(Claim(LDP8C, check_ldp8c))
