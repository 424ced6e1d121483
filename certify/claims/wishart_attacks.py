"""WPM-5 and WPM-6: the noise-free matrix Wishart mechanism is not DP, and a membership attack
on noise-free LoRA with a frozen random A (seed 000, Theorem 2 and its attack).

WPM-5 evidence:

- symbolic (``proofs.wishart_matrix``): the explicit neighbours ``F = [v, v]``, ``F' = [v, w]``
  and the event "the two output columns are equal", with ``P_F = 1`` and ``P_F' = 0``;
- certified: those exact probabilities and the hockey-stick divergence ``delta(eps) = 1``;
- statistical: the sampler :meth:`certify.mechanisms.wishart.WishartMatrixMechanism.sample`
  (numpy, and torch when installed) on that pair, event counts with Clopper-Pearson limits and
  the implied lower confidence bound on ``delta(eps)``. In floating point the event is
  ``||c1 - c2|| <= 1e-9 (||c1|| + ||c2||)`` (rounding is ~1e-16 relative; under ``F'`` the ratio
  is of order one). Any event's counts give a valid lower confidence bound on ``delta(eps)``.

WPM-6 evidence: the experiment of :mod:`certify.attacks.lora_mia` audited with
:mod:`certify.audit` (AUC with the Chernoff-Hoeffding U-statistic interval, TPR at FPR 1e-3 and
1e-2 with Clopper-Pearson limits, the certified eps lower bound at delta = 1e-5, 95%).
Seed 000 as available here is the abstract only: it states the AUC > 0.99 result without its
threat model. The one its Theorem 2 is about is the DP distinguishing game (neighbouring
datasets, the adversary knows the rest of the data), which is the threat model tested; a
black-box loss attack and a calibrated loss attack are reported beside it for contrast.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, cast

import numpy as np

from certify.audit.metrics import roc_points
from certify.claims._evidence import bounds_back, jsonable, symbolic_evidence
from certify.claims._figures import pyplot
from certify.claims.model import Claim, ClaimInfo, Evidence, Outcome, Value, Verdict
from certify.claims.registry import register
from certify.numerics.bound import Bound

SOURCE = "seed 000 (arXiv 2601.21719)"

# -- WPM-5 ----------------------------------------------------------------------------------------

WPM5 = ClaimInfo(
    id="WPM-5",
    title="Theorem 2: the noise-free matrix Wishart mechanism is not DP",
    source=SOURCE,
    statement="For matrix queries F -> M F (M ~ W_d(I_d/r, r), the same M for every column, "
              "neighbours differ in one column) there are neighbours and an event with "
              "probability 1 under one and 0 under the other, so the mechanism is not "
              "(eps, delta)-DP for any eps and any delta < 1.",
    domain="every d >= 1, 1 <= r <= d, m >= 2 columns",
)

#: (d, r) cases of the sampled check: r = 1, 1 < r < d, r = d
WPM5_CASES: tuple[tuple[int, int], ...] = ((16, 1), (16, 4), (16, 16))
WPM5_TRIALS = 2000
WPM5_CONFIDENCE = Fraction(999, 1000)
WPM5_EPSILONS: tuple[int, ...] = (0, 1, 2, 5)
EVENT_TOLERANCE = 1e-9
#: histogram bins of log10 of the relative column difference (for the figure)
_BINS = np.arange(-18.0, 1.5, 0.5)


def _neighbours(d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """F = [v, v] and F' = [v, w] with seeded unit vectors v != w."""
    rng = np.random.default_rng(seed)
    v, w = rng.standard_normal(d), rng.standard_normal(d)
    v, w = v / np.linalg.norm(v), w / np.linalg.norm(w)
    return np.column_stack([v, v]), np.column_stack([v, w])


def _relative_difference(out: np.ndarray) -> np.ndarray:
    """||c1 - c2|| / (||c1|| + ||c2||) per draw of a (n, d, 2) output."""
    c1, c2 = out[:, :, 0], out[:, :, 1]
    scale = np.linalg.norm(c1, axis=1) + np.linalg.norm(c2, axis=1)
    ratio: np.ndarray = np.linalg.norm(c1 - c2, axis=1) / scale
    return ratio


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def matrix_event_test(
    d: int, r: int, trials: int, seed: int, backend: str = "numpy",
    confidence: Fraction = WPM5_CONFIDENCE, epsilons: tuple[int, ...] = WPM5_EPSILONS,
    pair: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Sample ``M F`` and ``M F'`` ``trials`` times each (fresh ``M`` per draw) with the
    project's sampler, count the event, and bound ``P_F`` from below and ``P_F'`` from above
    (one-sided Clopper-Pearson at ``(1 - confidence)/2`` each, so both hold together with
    probability >= ``confidence``); ``delta_lower[eps]`` encloses ``P_F_lower - e^eps
    P_F'_upper``, a lower confidence bound on ``delta(eps)`` (report its ``.lower``).
    ``pair`` overrides the neighbours ``([v, v], [v, w])`` (two ``d x 2`` arrays)."""
    from flint import arb

    from certify.audit.metrics import cp_lower, cp_upper
    from certify.mechanisms.wishart import WishartMatrixMechanism
    from certify.numerics.precision import Target, escalate
    from certify.numerics.roots import exact_ball

    mech = WishartMatrixMechanism(d, r)
    f, f2 = _neighbours(d, seed) if pair is None else pair
    start = time.perf_counter()
    ratio_f = _relative_difference(mech.sample(f, trials, seed=2 * seed + 1, backend=backend))
    ratio_f2 = _relative_difference(mech.sample(f2, trials, seed=2 * seed + 2, backend=backend))
    seconds = time.perf_counter() - start
    count_f = int(np.sum(ratio_f <= EVENT_TOLERANCE))
    count_f2 = int(np.sum(ratio_f2 <= EVENT_TOLERANCE))
    half = (1 - confidence) / 2
    p_lo, q_hi = cp_lower(count_f, trials, half), cp_upper(count_f2, trials, half)

    def delta_lower(eps: int) -> Bound:
        return escalate(
            lambda _p: exact_ball(Fraction(p_lo)) - arb(eps).exp() * exact_ball(Fraction(q_hi)),
            Target(rel=1e-9, absolute=1e-15), what="delta lower confidence bound")

    def hist(ratio: np.ndarray) -> list[int]:  # exact zeros (bitwise-equal columns) go left
        logs = np.log10(np.maximum(ratio, 10.0 ** _BINS[0]))
        return [int(c) for c in np.histogram(np.clip(logs, _BINS[0], _BINS[-1] - 1e-9), _BINS)[0]]

    return {
        "d": d, "r": r, "trials": trials, "backend": backend, "confidence": confidence,
        "event": f"||c1 - c2|| <= {EVENT_TOLERANCE:g} (||c1|| + ||c2||)",
        "count_F": count_f, "count_F_prime": count_f2,
        "P_F_lower": str(p_lo), "P_F_prime_upper": str(q_hi),
        "max_ratio_F": float(ratio_f.max()), "min_ratio_F_prime": float(ratio_f2.min()),
        "delta_lower": {f"eps={e}": delta_lower(e) for e in epsilons},
        "hist_F": hist(ratio_f), "hist_F_prime": hist(ratio_f2),
        "seconds": seconds,
    }


@functools.lru_cache(maxsize=1)
def _wpm5_runs() -> tuple[tuple[dict[str, Any], ...], float]:
    start = time.perf_counter()
    backends = ("numpy", "torch") if _torch_available() else ("numpy",)
    runs = tuple(matrix_event_test(d, r, WPM5_TRIALS, seed=10 * i + j, backend=b)
                 for i, (d, r) in enumerate(WPM5_CASES) for j, b in enumerate(backends))
    return runs, time.perf_counter() - start


def check_wpm5() -> Outcome:
    from proofs.wishart_matrix import proof_matrix_mechanism_not_dp

    symbolic, proved = symbolic_evidence(
        "sympy: explicit neighbours F = [v, v], F' = [v, w]; the event 'output columns equal' "
        "has probability 1 under F (identity for every A) and P(A(v - w) = 0) = 0 under F' "
        "(y^T M y = ||Ay||^2, (Ay)_k ~ N(0, ||y||^2/r) non-degenerate)",
        [proof_matrix_mechanism_not_dp])
    start = time.perf_counter()
    exact = Evidence(
        "certified",
        "exact probabilities from the derivation (no numerics needed): P_F(S) = 1 surely, "
        "P_F'(S) = 0, hence the hockey-stick divergence sup_E P_F(E) - e^eps P_F'(E) = 1 "
        "(it is at most 1) for every eps >= 0",
        {"P_F(S)": Bound.exact(1), "P_F_prime(S)": Bound.exact(0),
         "delta(eps) for every eps": Bound.exact(1)},
        0, time.perf_counter() - start)
    runs, seconds = _wpm5_runs()
    stat = Evidence(
        "statistical",
        "WishartMatrixMechanism.sample on F and F' (fresh M per draw), cases (d, r) = "
        f"{list(WPM5_CASES)}, backends {sorted({r['backend'] for r in runs})}, "
        f"{WPM5_TRIALS} draws per neighbour; one-sided Clopper-Pearson limits (joint "
        f"{float(WPM5_CONFIDENCE):.1%}) and the implied lower confidence bound on delta(eps)",
        {"runs": cast(Value, jsonable([{k: v for k, v in r.items() if k != "seconds"}
                                        for r in runs]))},
        0, seconds)
    clean = all(r["count_F"] == r["trials"] and r["count_F_prime"] == 0 for r in runs)
    if proved and clean:
        worst = min((r["delta_lower"]["eps=1"] for r in runs), key=lambda b: b.lower)
        return Outcome((symbolic, exact, stat), Verdict(
            "confirmed",
            "Theorem 2 holds: with F = (v, v), F' = (v, w) the event 'output columns equal' has "
            "probability exactly 1 vs 0 (M(v - w) = 0 iff A(v - w) = 0, a non-degenerate "
            "Gaussian vector hitting 0), so delta(eps) = 1 for every eps; the sampler agrees "
            f"on every case and backend ({WPM5_TRIALS}/{WPM5_TRIALS} vs 0/{WPM5_TRIALS}; "
            f"sampled lower bound delta(1) >= {float(worst.lower):.4f} at "
            f"{float(WPM5_CONFIDENCE):.1%} confidence)"))
    return Outcome((symbolic, exact, stat), Verdict(
        "inconclusive", "the derivation or the sampled event disagrees",
        reason=f"proof ok: {proved}; sampled counts clean: {clean}"))


def figure_wpm5(outcome: Outcome, path: str) -> None:
    """Histograms of log10 ||c1 - c2|| / (||c1|| + ||c2||) under F and F' (numpy backend)."""
    plt = pyplot()

    runs = _evidence_values(outcome, "statistical")["runs"]
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    centres = (_BINS[:-1] + _BINS[1:]) / 2
    for run in cast(list[Mapping[str, Any]], runs):
        if run["backend"] != "numpy":
            continue
        label = f"d={run['d']}, r={run['r']}"
        ax.step(centres, run["hist_F"], where="mid", lw=1, label=f"F = [v, v], {label}")
        ax.step(centres, run["hist_F_prime"], where="mid", lw=1, ls="--",
                label=f"F' = [v, w], {label}")
    ax.axvline(np.log10(EVENT_TOLERANCE), color="k", lw=0.8, ls=":")
    ax.set_xlabel("log10 ||c1 - c2|| / (||c1|| + ||c2||), 0 counted at -18 "
                  "(event: left of the dotted line)")
    ax.set_ylabel("draws")
    ax.set_title("WPM-5: output columns equal under F (rounding only), never under F'")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


def _evidence_values(outcome: Outcome, kind: str) -> Mapping[str, Any]:
    for ev in outcome.evidence:
        if ev.kind == kind:
            return ev.values
    raise KeyError(kind)


# -- WPM-6 ----------------------------------------------------------------------------------------

WPM6 = ClaimInfo(
    id="WPM-6",
    title="Membership inference on noise-free LoRA with a frozen random A reaches AUC > 0.99",
    source=SOURCE,
    statement="A membership-inference attack on noise-free LoRA with a frozen random A (only B "
              "trained) reaches AUC > 0.99.",
    domain="threat model of Theorem 2 (the DP distinguishing game: neighbouring training sets "
           "D_- and D_- + {z}, the adversary knows D_-, z, the public base model and the "
           "hyper-parameters, not A, and sees the merged weights); scikit-learn digits, a "
           "64-32-10 tanh network, rank-4 LoRA on the first layer, one full-batch step",
)

WPM6_DELTA = "1e-5"
WPM6_CONFIDENCE = "0.95"
WPM6_FPRS: tuple[str, ...] = ("0.001", "0.01")
WPM6_PRIMARY = "gram-asymmetry"
#: log-spaced FPRs at which the empirical ROC is stored for the figure
_ROC_FPRS = tuple(float(x) for x in np.geomspace(1e-3, 1, 31))

THREAT_MODEL = (
    "DP distinguishing game (Nasr et al. 2021): per trial a private training set D_- of 63 "
    "digits and a target z are drawn from the private pool; member trials train on D_- + {z}, "
    "non-member trials on D_-; LoRA's A (rank 4, iid N(0, 1/4)) is fresh, frozen and secret; B "
    "starts at 0; one full-batch gradient step (lr 0.5) on the mean cross-entropy, no clipping, "
    "no noise; the merged first-layer weights are released. The adversary knows D_-, z, the "
    "pre-trained base model and the hyper-parameters. Attacks: gram-asymmetry (Theorem-2 "
    "structure: S = delta_W1 G_-^T is symmetric iff z is out), calibrated-loss and loss "
    "(black box) for contrast."
)


@functools.lru_cache(maxsize=1)
def wpm6_audit() -> tuple[dict[str, Any], float]:
    """Run the experiment once per process and audit every attack."""
    from certify.attacks.lora_mia import LoraMiaConfig, lora_membership_experiment
    from certify.audit import audit_scores

    start = time.perf_counter()
    result = lora_membership_experiment(LoraMiaConfig())
    attacks: dict[str, Any] = {}
    for name, sc in result.scores.items():
        summary = audit_scores(sc.members, sc.nonmembers, WPM6_DELTA,
                               confidence=WPM6_CONFIDENCE, fprs=WPM6_FPRS)
        attacks[name] = {
            "auc": summary.auc.to_json(),
            "tpr_at_fpr": [t.to_json() for t in summary.tpr_at_fpr],
            "balanced_accuracy": summary.accuracy.to_json(),
            "epsilon_lower": bounds_back(summary.epsilon.to_json()),
            "member_score_min": float(sc.members.min()),
            "nonmember_score_max": float(sc.nonmembers.max()),
            "roc": roc_points(sc.members, sc.nonmembers, _ROC_FPRS),
            "_auc": summary.auc,
        }
    info = {
        "config": result.config.to_json(),
        "base_accuracy_public": result.base_accuracy_public,
        "base_accuracy_private": result.base_accuracy_private,
        "attacks": attacks,
    }
    return info, time.perf_counter() - start


def check_wpm6() -> Outcome:
    info, seconds = wpm6_audit()
    attacks = info["attacks"]
    shown = {name: {k: v for k, v in a.items() if not k.startswith("_")}
             for name, a in attacks.items()}
    stat = Evidence(
        "statistical",
        f"threat model: {THREAT_MODEL} Metrics per attack ({info['config']['trials']} member and "
        f"{info['config']['trials']} non-member trials, independent): AUC = U/(nm) with the "
        "Chernoff-Hoeffding two-sample U-statistic interval (Hoeffding 1963), TPR at FPR "
        "1e-3 / 1e-2 with two-sided Clopper-Pearson limits and a Clopper-Pearson upper limit "
        "on the threshold's true FPR, balanced accuracy with a DKW band, and the certified "
        f"eps lower bound at delta = {WPM6_DELTA} (union bound over its thresholds); each at "
        f"{float(Fraction(WPM6_CONFIDENCE)):.0%} confidence",
        cast(dict[str, Value], jsonable({
            "config": info["config"], "threat_model": THREAT_MODEL,
            "base_accuracy_public": info["base_accuracy_public"],
            "base_accuracy_private": info["base_accuracy_private"], "attacks": shown,
        })),
        0, seconds)
    primary = attacks[WPM6_PRIMARY]["_auc"]
    eps = attacks[WPM6_PRIMARY]["epsilon_lower"]["epsilon_lower"]
    others = ", ".join(f"{n}: AUC {float(a['_auc'].estimate):.3f} "
                       f"[{float(a['_auc'].lower):.3f}, {float(a['_auc'].upper):.3f}]"
                       for n, a in attacks.items() if n != WPM6_PRIMARY)
    tpr = attacks[WPM6_PRIMARY]["tpr_at_fpr"][0]["tpr"]
    threshold = Fraction(99, 100)
    if Fraction(primary.lower) > threshold:
        return Outcome((stat,), Verdict(
            "confirmed",
            f"under Theorem 2's threat model (the adversary knows D_-, not A) the gram-asymmetry "
            f"attack separates members perfectly: AUC {float(primary.estimate):.4f}, 95% lower "
            f"limit {float(primary.lower):.4f} > 0.99; TPR at FPR 1e-3 = "
            f"{float(Fraction(tpr['estimate'])):.3f} (lower {float(Fraction(tpr['lower'])):.4f})"
            f"; certified eps >= {float(Fraction(eps)):.2f} at delta = 1e-5 (95%), the most "
            f"{info['config']['trials']} trials per side can show. Black-box contrast: {others}"))
    if Fraction(primary.upper) < threshold:
        return Outcome((stat,), Verdict(
            "refuted",
            f"the AUC's 95% upper limit {float(primary.upper):.4f} is below 0.99",
            counterexample=cast(dict[str, Value], jsonable({
                "config": info["config"], "auc": shown[WPM6_PRIMARY]["auc"]}))))
    return Outcome((stat,), Verdict(
        "inconclusive", "the AUC interval contains 0.99",
        reason=f"AUC interval [{primary.lower}, {primary.upper}] contains 0.99"))


def figure_wpm6(outcome: Outcome, path: str) -> None:
    """Empirical ROC curves (log-log) of the three attacks."""
    plt = pyplot()

    attacks = cast(Mapping[str, Any], _evidence_values(outcome, "statistical")["attacks"])
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, a in attacks.items():
        pts = np.asarray(a["roc"], dtype=float)
        auc = a["auc"]
        ax.plot(np.maximum(pts[:, 0], 1e-4), np.maximum(pts[:, 1], 1e-4), marker="o", ms=2,
                label=f"{name}: AUC {float(auc['estimate_float']):.3f} "
                      f"(95% >= {float(auc['lower']):.3f})")
    grid = np.geomspace(1e-4, 1, 50)
    ax.plot(grid, grid, color="grey", lw=0.7, ls=":", label="chance")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false-positive rate (floored at 1e-4)")
    ax.set_ylabel("true-positive rate")
    ax.set_title("WPM-6: membership inference, noise-free frozen-A LoRA")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


register(Claim(WPM5, check_wpm5, figure_wpm5))
register(Claim(WPM6, check_wpm6, figure_wpm6))
