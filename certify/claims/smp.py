"""SMP-1 and SMP-2: what membership-inference results prove about MP-LoRA / SMP-LoRA (seed 004),
and an audit of LoRA, SMP-LoRA and DP-LoRA on a small model.

SMP-1 evidence:

- symbolic (:mod:`proofs.attack_region`): the largest accuracy and AUC an (eps, delta)-DP pair
  allows, and their inversions;
- certified: the paper's reported attack success rate (ASR 51.97% for SMP-LoRA on Pokemon, as
  quoted from the paper's text; the seed's abstract says "near-random") turned into a certified
  eps lower bound (:mod:`certify.audit.reported`) at the sample sizes of the reference
  implementation (``SMP-LoRA-Pokemon.py``: 833 images, 400 held out; the proxy attacker trains
  on 200 + 200 and the ASR is measured on the remaining 233 members and 200 non-members), and as
  a function of a balanced sample size ``n`` (its limit as ``n`` grows certified);
- certified: two mechanisms that allow that same ASR, one with small eps (the Gaussian
  mechanism) and one that is not (eps, delta)-DP for any eps (reveals membership with
  probability p): an attack result cannot bound eps from above;
- statistical: on the small model of SMP-2, SMP-LoRA's black-box loss attack is near chance
  while the white-box replay attack certifies a large eps lower bound.

SMP-2 evidence: :func:`certify.experiments.smp_lora.run_smp_experiment` (its docstring states
the setting, the threat models and the attacks), each row's audit and, for DP-LoRA, the
certified PLD upper bound with the consistency check lower <= upper.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, cast

import numpy as np

from certify.claims._evidence import bounds_back, jsonable, symbolic_evidence
from certify.claims._figures import pyplot
from certify.claims.model import Claim, ClaimInfo, Evidence, Outcome, Value, Verdict
from certify.claims.registry import register

SOURCE = "seed 004 (arXiv 2402.11989: MP-LoRA / SMP-LoRA)"
DELTA = "1e-5"
CONFIDENCE = "0.95"

# -- SMP-1 ----------------------------------------------------------------------------------------

SMP1 = ClaimInfo(
    id="SMP-1",
    title="Attack results prove only a confidence-bounded eps lower bound; SMP-LoRA has no DP "
          "guarantee",
    source=SOURCE,
    statement="These defences carry no formal DP guarantee; what an attack result (accuracy, "
              "AUC, TPR at a fixed FPR, with its sample sizes) does prove: a confidence-bounded "
              "empirical lower bound on eps.",
    domain="delta = 1e-5, 95% confidence; the paper's ASR 51.97% (SMP-LoRA, Pokemon) at the "
           "reference implementation's test split (233 members, 200 non-members) and at "
           "balanced sizes n per side; member/non-member outcomes as independent trials",
)

#: the reported figure: SMP-LoRA's attack success rate on Pokemon, 51.97% (two decimals in %)
PAPER_ASR = Fraction("0.5197")
PAPER_RESOLUTION = Fraction("0.00005")
PAPER_SPLIT = (233, 200)
#: balanced sample sizes (per side) and accuracies of the bound-versus-n curves; the accuracies
#: other than the paper's are illustrative
N_GRID: tuple[int, ...] = (100, 300, 1000, 2000, 3000, 5000, 10**4, 3 * 10**4, 10**5, 10**6)
ACCURACY_GRID: tuple[str, ...] = ("0.5197", "0.55", "0.6", "0.75", "0.9")
#: the Gaussian mechanism that allows the paper's ASR: noise sd 10, sensitivity 1 (mu = 1/10)
GAUSSIAN_SIGMA = 10


def leak_mechanism(accuracy: Fraction) -> dict[str, Fraction]:
    """The pair "reveal the membership bit with probability p, else output a constant":
    P = {in: p, nothing: 1 - p}, Q = {out: p, nothing: 1 - p}, p = 2 (accuracy - 1/2).
    Exact: its best balanced accuracy is 1/2 + TV/2 = 1/2 + p/2 = ``accuracy`` (TV = p), and
    delta(eps) = sup_S P(S) - e^eps Q(S) = p for every eps (S = {in}), so it is not
    (eps, delta)-DP for any eps when delta < p."""
    p = 2 * (accuracy - Fraction(1, 2))
    if not 0 < p <= 1:
        raise ValueError(f"accuracy={accuracy} must be in (1/2, 1].")
    return {"p": p, "best_accuracy": Fraction(1, 2) + p / 2, "delta_at_every_eps": p}


@functools.lru_cache(maxsize=1)
def _smp1_data() -> dict[str, Any]:
    from certify.audit.reported import epsilon_from_accuracy, max_accuracy
    from certify.mechanisms.gaussian import GaussianMechanism
    from certify.numerics.precision import Target, escalate
    from certify.numerics.roots import exact_ball
    from certify.numerics.special import normal_cdf_bound

    start = time.perf_counter()
    dlt = Fraction(DELTA)
    reference = epsilon_from_accuracy(PAPER_ASR, *PAPER_SPLIT, DELTA, confidence=CONFIDENCE,
                                      resolution=PAPER_RESOLUTION)
    curves = {a: [epsilon_from_accuracy(a, n, n, DELTA, confidence=CONFIDENCE).epsilon
                  for n in N_GRID] for a in ACCURACY_GRID}
    balanced = {n: epsilon_from_accuracy(PAPER_ASR, n, n, DELTA, confidence=CONFIDENCE,
                                         resolution=PAPER_RESOLUTION) for n in N_GRID}
    top = PAPER_ASR + PAPER_RESOLUTION  # the largest accuracy consistent with the figure
    # n -> infinity: the confidence limit tends to the accuracy itself, at most top
    asymptote = escalate(lambda _p: ((exact_ball(top) - exact_ball(dlt))
                                     / (1 - exact_ball(top))).log(),
                         Target(rel=1e-12), what="ln((a - delta)/(1 - a))")
    leak = leak_mechanism(top)
    mech = GaussianMechanism(GAUSSIAN_SIGMA)
    gauss_acc = normal_cdf_bound(Fraction(1, 2 * GAUSSIAN_SIGMA))  # Phi(mu/2): Neyman-Pearson
    gauss_eps = mech.epsilon(DELTA)
    gauss_allowed = max_accuracy(gauss_eps.upper, DELTA)
    return {
        "reference": reference, "curves": curves, "balanced": balanced,
        "asymptote": asymptote, "leak": leak, "gauss_accuracy": gauss_acc,
        "gauss_epsilon": gauss_eps, "gauss_allowed": gauss_allowed,
        "seconds": time.perf_counter() - start,
    }


def _smp_attack_rows() -> dict[str, Any]:
    from certify.experiments.smp_lora import cached_experiment

    result = cached_experiment()
    black = result.row("black-box", "smp-lora", "loss")
    white = result.row("white-box", "smp-lora", "replay-asymmetry")
    return {"black": black, "white": white, "seconds": result.seconds,
            "config": result.config.to_json()}


def decide_smp1(
    reference_eps: object, reference_chance: Fraction, asymptote_upper: object,
    leak: Mapping[str, Fraction], reported: Fraction, delta: Fraction, smp_black_eps: object,
    smp_white_eps: object,
) -> Verdict:
    """The SMP-1 verdict from the certified numbers (exposed so that tests can feed others).

    Confirmed when (i) the reported figure, at its sample sizes, yields a certified lower bound
    (a value >= 0: all it can prove), (ii) a mechanism allowing the same figure is not
    (eps, delta)-DP for any eps (so no upper bound follows), and (iii) on our small model the
    defence that defeats the black-box attack still leaks to a white-box attack (its certified
    eps lower bound is positive and above the black-box one: no guarantee)."""
    ref, top = Fraction(str(reference_eps)), Fraction(str(asymptote_upper))
    black, white = Fraction(str(smp_black_eps)), Fraction(str(smp_white_eps))
    no_upper = leak["best_accuracy"] >= reported and leak["delta_at_every_eps"] > delta
    leaks = white > 0 and white > black
    if ref >= 0 and no_upper and leaks:
        proves = (f"nothing (eps >= 0): a data-independent guess scores up to "
                  f"{float(reference_chance):.1%} there" if ref == 0
                  else f"eps >= {float(ref):.4g}")
        return Verdict(
            "confirmed",
            f"the paper's ASR {float(reported):.2%} at the reference split (233 members, 200 "
            f"non-members) proves {proves} (95%, delta = 1e-5); even with unlimited samples "
            f"it would show at most eps >= {float(top):.4f}. It bounds nothing from above: "
            f"revealing membership with probability {float(leak['p']):.4f} allows the same ASR "
            f"and is not (eps, {float(delta):g})-DP for any eps. On our small model SMP-LoRA's "
            f"loss attack "
            f"shows eps >= {float(black):.3g} while a white-box replay attack certifies eps >= "
            f"{float(white):.3f}: no formal guarantee")
    reasons = []
    if not no_upper:
        reasons.append("the leak mechanism does not reproduce the reported figure")
    if not leaks:
        reasons.append(f"the white-box audit of SMP-LoRA (eps >= {float(white):.3g}) does not "
                       f"exceed the black-box one (eps >= {float(black):.3g})")
    if ref < 0:
        reasons.append(f"negative lower bound {ref}")
    return Verdict("inconclusive", "the certified numbers do not settle SMP-1",
                   reason="; ".join(reasons))


def check_smp1() -> Outcome:
    from proofs.attack_region import ATTACK_REGION_PROOFS

    symbolic, proved = symbolic_evidence(
        "sympy: the corner of the (eps, delta) privacy region, the largest weighted accuracy "
        "(at a vertex) and the largest AUC (integral of the upper boundary), with inversions",
        ATTACK_REGION_PROOFS)
    d = _smp1_data()
    ref = d["reference"]
    conv = Evidence(
        "certified",
        "certify.audit.reported.epsilon_from_accuracy: the fewest correct answers consistent "
        "with the reported ASR (+- 0.005%), a one-sided Chernoff-Hoeffding lower limit on the "
        "accuracy (k = n + m independent trials), inverted through the privacy region; at the "
        "reference implementation's split and at balanced sizes n per side; as n grows the bound "
        "tends to at most ln((a - delta)/(1 - a)) at the largest consistent accuracy a",
        cast(dict[str, Value], jsonable({
            "reported_asr": PAPER_ASR, "resolution": PAPER_RESOLUTION,
            "source_of_figure": "paper text (AAAI 2025 version, discussion of Fig. 1d): SMP-LoRA "
                                "on Pokemon, FID 0.32, ASR 51.97%; seed 004 itself (abstract) "
                                "says 'near-random MI attack performance'",
            "sample_sizes": "reference implementation SMP-LoRA-Pokemon.py: 833 images, 400 "
                            "held out; attacker trained on 200 members + 200 non-members; ASR "
                            "on the remaining 233 members + 200 non-members (assumed to be the "
                            "reported one)",
            "reference_split": ref.to_json(),
            "balanced": {str(n): b.to_json() for n, b in d["balanced"].items()},
            "limit_as_n_grows": d["asymptote"],
            "curves_epsilon_lower": {a: [str(e) for e in v] for a, v in d["curves"].items()},
            "n_grid": list(N_GRID),
        })), 0, d["seconds"])
    leak = d["leak"]
    upper = Evidence(
        "certified",
        "two mechanisms that allow the same ASR: (a) reveal membership with probability p = "
        "2 (a - 1/2) (exact: best balanced accuracy 1/2 + p/2 = a, delta(eps) = p for every "
        "eps); (b) the Gaussian mechanism with sd 10 (mu = 1/10): best balanced accuracy "
        "Phi(mu/2) (Neyman-Pearson, threshold mu/2), certified eps(1e-5), and the largest "
        "accuracy that eps allows",
        cast(dict[str, Value], jsonable({
            "leak_p": leak["p"], "leak_best_accuracy": leak["best_accuracy"],
            "leak_delta_at_every_eps": leak["delta_at_every_eps"],
            "leak_epsilon_at_delta_1e-5": "none: delta(eps) = p > 1e-5 for every eps",
            "gaussian_sigma": GAUSSIAN_SIGMA, "gaussian_best_accuracy": d["gauss_accuracy"],
            "gaussian_epsilon": d["gauss_epsilon"],
            "max_accuracy_at_gaussian_epsilon": d["gauss_allowed"],
        })), 0, 0.0)
    sm = _smp_attack_rows()
    black, white = sm["black"], sm["white"]
    stat = Evidence(
        "statistical",
        "SMP-2's small model (certify.experiments.smp_lora): SMP-LoRA audited by the black-box "
        "loss attack (multi-step training) and by the white-box one-step replay attack, "
        "certified eps lower bounds at delta = 1e-5, 95%",
        cast(dict[str, Value], jsonable({
            "black_box_loss": _row_values(black), "white_box_replay": _row_values(white),
            "config": sm["config"],
        })), 0, sm["seconds"])
    verdict = decide_smp1(ref.epsilon, ref.chance, d["asymptote"].upper, leak, PAPER_ASR,
                          Fraction(DELTA), black.audit.epsilon.epsilon,
                          white.audit.epsilon.epsilon)
    if not proved:
        verdict = Verdict("inconclusive", "a symbolic step failed",
                          reason="proofs.attack_region did not check out")
    return Outcome((symbolic, conv, upper, stat), verdict)


def figure_smp1(outcome: Outcome, path: str) -> None:
    """Left: certified eps lower bound versus n per side for the paper's ASR and illustrative
    accuracies. Right: ROC of the two mechanisms that allow the paper's ASR."""
    plt = pyplot()

    conv = _values(outcome, "certified", 0)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    n = np.asarray(conv["n_grid"], dtype=float)
    for a, eps in cast(Mapping[str, Sequence[str]], conv["curves_epsilon_lower"]).items():
        label = f"accuracy {float(a):.2%}" + (" (paper, SMP-LoRA)" if a == "0.5197" else "")
        ax.plot(n, [float(e) for e in eps], marker="o", ms=3, label=label)
    sup = conv["limit_as_n_grows"]
    ax.axhline(float(sup.upper), color="C0", ls=":", lw=0.8,
               label=f"51.97% at n = infinity: eps >= {float(sup.upper):.4f} at most")
    ref = conv["reference_split"]
    ax.plot([233], [float(ref["epsilon_lower"])], "k*", ms=9,
            label="paper's split (233 + 200): eps >= 0")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=0.05)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("members = non-members = n")
    ax.set_ylabel("certified eps lower bound (delta 1e-5, 95%)")
    ax.set_title("SMP-1: what an attack accuracy proves")
    ax.legend(fontsize=7)
    up = _values(outcome, "certified", 1)
    p = float(Fraction(str(up["leak_p"])))
    x = np.geomspace(1e-6, 1, 200)
    bx.plot(x, p + (1 - p) * x, label=f"reveal w.p. p = {p:.4f}: not DP for any eps")
    from scipy.stats import norm

    mu = 1 / GAUSSIAN_SIGMA
    gauss_eps = float(up["gaussian_epsilon"].upper)
    bx.plot(x, norm.sf(norm.isf(np.clip(x, 1e-12, 1 - 1e-12)) - mu),
            label=f"Gaussian mu = {mu}: eps(1e-5) = {gauss_eps:.3f}")
    bx.plot(x, x, color="grey", lw=0.6, ls=":")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("false-positive rate")
    bx.set_ylabel("true-positive rate")
    bx.set_title("both allow the reported ASR of 51.97%")
    bx.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


# -- SMP-2 ----------------------------------------------------------------------------------------

SMP2 = ClaimInfo(
    id="SMP-2",
    title="LoRA, SMP-LoRA and DP-LoRA audited: empirical eps lower bounds beside certified upper "
          "bounds",
    source=SOURCE,
    statement="On a small model: train LoRA, SMP-LoRA and DP-LoRA, audit each with the "
              "membership attacks, and report their empirical eps lower bounds next to each "
              "one's certified upper bound (if any).",
    domain="scikit-learn digits, a 64-32-10 tanh network, rank-8 frozen-A LoRA on the first "
           "layer, 16 private training examples; the DP distinguishing game (add/remove one "
           "target, the adversary knows the rest); delta = 1e-5, 95% confidence",
)


def _row_values(row: Any) -> dict[str, Any]:
    out = row.to_json()
    out["epsilon_upper"] = row.upper  # a Bound (or None), kept typed
    out["epsilon_lower"] = bounds_back(out["epsilon_lower"])
    return cast(dict[str, Any], out)


def decide_smp2(rows: Sequence[Mapping[str, Any]]) -> Verdict:
    """The SMP-2 verdict from the audited rows (``method``, ``setting``, ``attack``,
    ``epsilon_lower`` as a decimal string, ``epsilon_upper`` a Bound or None): refuted when a
    certified upper bound is certainly below its empirical lower bound (a bug), confirmed when
    every method was audited and every certified bound is consistent."""
    methods = {r["method"] for r in rows}
    bad = [r for r in rows if r["epsilon_upper"] is not None
           and Fraction(str(r["epsilon_lower"])) > Fraction(r["epsilon_upper"].upper)]
    if bad:
        r = bad[0]
        return Verdict(
            "refuted",
            f"{r['method']} ({r['setting']}, {r['attack']}): empirical eps >= "
            f"{r['epsilon_lower']} exceeds the certified upper bound {r['epsilon_upper'].upper}",
            counterexample=cast(dict[str, Value], jsonable(
                {k: r[k] for k in ("method", "setting", "attack", "epsilon_lower",
                                   "epsilon_upper")})))
    missing = [m for m in ("lora", "smp-lora", "dp-lora") if m not in methods]
    if missing or not any(r["epsilon_upper"] is not None for r in rows):
        return Verdict("inconclusive", "not every method was audited",
                       reason=f"missing methods: {missing or 'none'}; certified rows: "
                              f"{sum(r['epsilon_upper'] is not None for r in rows)}")

    def best(method: str, setting: str) -> Mapping[str, Any]:
        cand = [r for r in rows if r["method"] == method and r["setting"] == setting]
        return max(cand, key=lambda r: Fraction(str(r["epsilon_lower"])))

    parts = []
    for setting in ("black-box", "white-box"):
        items = []
        for m in ("lora", "smp-lora", "dp-lora"):
            if not any(r["method"] == m and r["setting"] == setting for r in rows):
                continue
            r = best(m, setting)
            up = r["epsilon_upper"]
            shown = "no formal guarantee" if up is None else f"certified <= {float(up.upper):.3f}"
            items.append(f"{m} eps >= {float(Fraction(str(r['epsilon_lower']))):.3f} "
                         f"({r['attack']}; {shown})")
        if items:
            parts.append(f"{setting}: " + ", ".join(items))
    return Verdict("confirmed", "; ".join(parts) + ". Every certified upper bound is above its "
                   "empirical lower bound (delta = 1e-5, 95%)")


def check_smp2() -> Outcome:
    from certify.experiments.smp_lora import cached_experiment

    result = cached_experiment()
    rows = [_row_values(r) | {"epsilon_lower": str(r.audit.epsilon.epsilon),
                              "epsilon_lower_detail": bounds_back(r.audit.epsilon.to_json())}
            for r in result.rows]
    stat = Evidence(
        "statistical",
        "certify.experiments.smp_lora.run_smp_experiment: the DP distinguishing game on "
        "scikit-learn digits (add/remove one target; the adversary knows D_-, the target, the "
        "base model and the hyper-parameters). black-box setting: multi-step LoRA, SMP-LoRA "
        "(ratio objective, proxy loss attacker trained alternately on a public auxiliary set) "
        "and DP-LoRA (Poisson sampling, per-example clipping, Gaussian noise), audited by the "
        "loss and calibrated-loss attacks; white-box setting: one full-batch step, the replay "
        "asymmetry attack, and for DP-LoRA the canary attack given A and B. Audit per row: AUC "
        "(Chernoff-Hoeffding U-statistic interval), TPR at FPR 1e-2 / 1e-1 (Clopper-Pearson), "
        "balanced accuracy (DKW), the certified eps lower bound at delta = 1e-5 (95%)",
        cast(dict[str, Value], jsonable({
            "config": result.config.to_json(), "base_accuracy": result.base_accuracy,
            "rows": rows,
        })), 0, result.seconds)
    start = time.perf_counter()
    certified = Evidence(
        "certified",
        "DP-LoRA's certified upper bounds: certify.accounting.pld.composed_epsilon of the "
        "T-fold Poisson-subsampled Gaussian (noise multiplier sigma, exact sampling rate of "
        "numpy's uniform, add/remove neighbours) at delta = 1e-5; LoRA and SMP-LoRA add no "
        "noise and have none",
        cast(dict[str, Value], jsonable({
            f"{r['setting']}/dp-lora": r["epsilon_upper"] for r in rows
            if r["method"] == "dp-lora" and r["attack"] in ("loss", "replay-asymmetry")})),
        0, time.perf_counter() - start)
    return Outcome((stat, certified), decide_smp2(rows))


def figure_smp2(outcome: Outcome, path: str) -> None:
    """Left: the best certified eps lower bound per (setting, method) with DP-LoRA's certified
    upper bound. Right: empirical ROC curves (log-log) of every row."""
    plt = pyplot()

    rows = cast(list[Mapping[str, Any]], _values(outcome, "statistical", 0)["rows"])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.5, 4.5))
    labels, lows, ups = [], [], []
    for setting in ("black-box", "white-box"):
        for m in ("lora", "smp-lora", "dp-lora"):
            cand = [r for r in rows if r["method"] == m and r["setting"] == setting]
            if not cand:
                continue
            best = max(cand, key=lambda r: float(r["epsilon_lower"]))
            labels.append(f"{m}\n{setting}")
            lows.append(float(best["epsilon_lower"]))
            up = best["epsilon_upper"]
            ups.append(None if up is None else float(up.upper))
    xs = np.arange(len(labels))
    ax.bar(xs, lows, color=["C0" if "dp" not in lab else "C2" for lab in labels],
           label="empirical eps lower bound (95%)")
    for x, u in zip(range(len(labels)), ups, strict=True):
        if u is None:
            ax.text(x, lows[x] + 0.1, "no formal\nguarantee", ha="center", va="bottom",
                    fontsize=6)
        else:
            ax.plot([x - 0.4, x + 0.4], [u, u], color="C3", lw=2)
    ax.plot([], [], color="C3", lw=2, label="certified eps upper bound (PLD)")
    ax.set_ylim(0, 1.25 * max([*lows, *(u for u in ups if u is not None), 0.1]))
    ax.set_xticks(xs, labels, fontsize=7)
    ax.set_ylabel("eps at delta = 1e-5")
    ax.set_title("SMP-2: lower bounds (attacks) vs upper bounds (proofs)")
    ax.legend(fontsize=7)
    for r in rows:
        pts = np.asarray(r["roc"], dtype=float)
        style = "-" if r["setting"] == "black-box" else "--"
        bx.plot(np.maximum(pts[:, 0], 1e-3), np.maximum(pts[:, 1], 1e-3), style, lw=1,
                label=f"{r['method']} / {r['attack']}")
    grid = np.geomspace(1e-3, 1, 30)
    bx.plot(grid, grid, color="grey", lw=0.6, ls=":")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("false-positive rate (floored at 1e-3)")
    bx.set_ylabel("true-positive rate")
    bx.set_title("ROC (solid: black-box, dashed: white-box)")
    bx.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


def _values(outcome: Outcome, kind: str, index: int) -> Mapping[str, Any]:
    found = [ev for ev in outcome.evidence if ev.kind == kind]
    return found[index].values


register(Claim(SMP1, check_smp1, figure_smp1))
register(Claim(SMP2, check_smp2, figure_smp2))
