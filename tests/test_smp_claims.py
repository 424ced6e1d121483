"""SMP-1 and SMP-2 end to end: the experiment's attacks and consistency check, the verdicts
(computed from the numbers: the decision functions are also fed numbers that must flip them),
figures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import pytest

from certify.attacks import load_digits_split, pretrain_mlp, run_membership_game, train
from certify.attacks.dp_lora import dp_config, dp_lora_epsilon
from certify.audit import audit_scores
from certify.claims.smp import (
    PAPER_ASR,
    check_smp1,
    check_smp2,
    decide_smp1,
    decide_smp2,
    figure_smp1,
    figure_smp2,
    leak_mechanism,
)
from certify.errors import InvalidArgument
from certify.experiments.smp_lora import (
    SmpExperimentConfig,
    cached_experiment,
    dp_canary_score,
    replay_asymmetry_score,
    run_smp_experiment,
)
from certify.numerics.bound import Bound


def test_experiment_attacks_behave_as_derived() -> None:
    """White-box: the replay attack separates members perfectly for the noise-free methods
    (rounding-level asymmetry when the target is out) and the canary scores of DP-LoRA follow
    N(0, 1) / N(1/sigma, 1) (every gradient clipped): Kolmogorov-Smirnov at 99.9%."""
    from scipy.stats import kstest

    result = cached_experiment()
    for method in ("lora", "smp-lora"):
        row = result.row("white-box", method, "replay-asymmetry")
        assert row.nonmembers.max() < 1e-12 < 1e-7 < row.members.min()
    canary = result.row("white-box", "dp-lora", "dp-canary")
    mu = 1 / result.config.whitebox_noise
    assert kstest(canary.nonmembers, "norm").pvalue > 1e-3
    assert kstest(canary.members - mu, "norm").pvalue > 1e-3
    dp_replay = result.row("white-box", "dp-lora", "replay-asymmetry")
    assert float(dp_replay.audit.auc.upper) < 0.6  # the noise defeats the replay attack


def test_experiment_consistency_and_defence_effect() -> None:
    result = cached_experiment()
    for row in result.rows:
        if row.method == "dp-lora":
            assert row.upper is not None and row.consistent is True
        else:
            assert row.upper is None and row.consistent is None
    lora = result.row("black-box", "lora", "loss").audit
    smp = result.row("black-box", "smp-lora", "loss").audit
    assert smp.auc.estimate < lora.auc.estimate  # the defence blunts the loss attack
    assert smp.epsilon.epsilon == 0 < lora.epsilon.epsilon
    canary = result.row("white-box", "dp-lora", "dp-canary")
    assert canary.upper is not None
    assert 0.5 < canary.audit.epsilon.epsilon <= canary.upper.upper


def test_consistency_check_catches_a_miscalibrated_dp_lora() -> None:
    """A DP-LoRA that trains with noise multiplier 0.05 but is *certified* at 2: the canary
    audit's lower bound must exceed the (wrong) certified bound and SMP-2's decision must say
    refuted: the check can fail."""
    public, private = load_digits_split(597, seed=3)
    base = pretrain_mlp(public, hidden=32, steps=100, seed=3)
    trained = dp_config(8, 1, 1.0, clip=1e-4, noise_multiplier=0.05, sample_rate=1.0,
                        expected_batch=16.0)
    claimed = dp_config(8, 1, 1.0, clip=1e-4, noise_multiplier=2.0, sample_rate=1.0,
                        expected_batch=16.0)
    scores = run_membership_game(lambda d, rng: train("dp-lora", base, d, trained, rng),
                                 {"dp-canary": dp_canary_score}, private, trials=300,
                                 dataset_size=16, seed=5)["dp-canary"]
    lower = audit_scores(scores.members, scores.nonmembers, "1e-5").epsilon.epsilon
    upper = dp_lora_epsilon(claimed, "1e-5")
    assert lower > upper.upper
    verdict = decide_smp2([
        {"method": "lora", "setting": "white-box", "attack": "a", "epsilon_lower": "3",
         "epsilon_upper": None},
        {"method": "smp-lora", "setting": "white-box", "attack": "a", "epsilon_lower": "3",
         "epsilon_upper": None},
        {"method": "dp-lora", "setting": "white-box", "attack": "dp-canary",
         "epsilon_lower": str(lower), "epsilon_upper": upper},
    ])
    assert verdict.status == "refuted" and verdict.counterexample


def test_decide_smp2_inconclusive_without_every_method() -> None:
    rows: list[dict[str, Any]] = [{"method": "lora", "setting": "black-box", "attack": "loss",
                                   "epsilon_lower": "1", "epsilon_upper": None}]
    assert decide_smp2(rows).status == "inconclusive"
    rows.append({"method": "smp-lora", "setting": "black-box", "attack": "loss",
                 "epsilon_lower": "0", "epsilon_upper": None})
    rows.append({"method": "dp-lora", "setting": "black-box", "attack": "loss",
                 "epsilon_lower": "0.5", "epsilon_upper": Bound.from_strings("4", "4.1")})
    verdict = decide_smp2(rows)
    assert verdict.status == "confirmed" and "certified <= 4.100" in verdict.summary


def test_decide_smp1_flips_with_its_inputs() -> None:
    leak = leak_mechanism(Fraction("0.51975"))
    args = dict(reference_eps="0", reference_chance=Fraction(233, 433), asymptote_upper="0.079",
                leak=leak, reported=PAPER_ASR, delta=Fraction(1, 10**5), smp_black_eps="0",
                smp_white_eps="4.9")
    assert decide_smp1(**args).status == "confirmed"  # type: ignore[arg-type]
    weak = leak_mechanism(Fraction("0.50001"))  # allows a lower accuracy than reported
    assert decide_smp1(**(args | {"leak": weak})).status == "inconclusive"  # type: ignore[arg-type]
    tiny = args | {"delta": Fraction(1, 10)}  # delta above p: the leak pair is (0, delta)-DP
    assert decide_smp1(**tiny).status == "inconclusive"  # type: ignore[arg-type]
    no_leak = args | {"smp_white_eps": "0"}
    assert decide_smp1(**no_leak).status == "inconclusive"  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        leak_mechanism(Fraction(1, 2))


def test_smp1_confirmed_with_its_numbers(tmp_path: Path) -> None:
    outcome = check_smp1()
    assert outcome.verdict.status == "confirmed"
    kinds = [e.kind for e in outcome.evidence]
    assert kinds == ["symbolic", "certified", "certified", "statistical"]
    conv: Any = outcome.evidence[1].values
    assert conv["reference_split"]["epsilon_lower"] == "0"
    sup = conv["limit_as_n_grows"]
    assert isinstance(sup, Bound)
    mpmath.mp.dps = 40
    exact = mpmath.log((mpmath.mpf("0.51975") - mpmath.mpf("1e-5")) / mpmath.mpf("0.48025"))
    assert mpmath.mpf(str(sup.lower)) <= exact <= mpmath.mpf(str(sup.upper))
    # the bound grows with n towards (never above) its limit
    curve = [Fraction(e) for e in conv["curves_epsilon_lower"]["0.5197"]]
    assert curve == sorted(curve) and curve[-1] <= Fraction(sup.upper)
    up: Any = outcome.evidence[2].values
    assert up["leak_p"] == "0.0395"
    assert Fraction(up["gaussian_best_accuracy"].lower) >= Fraction("0.51975")
    assert 0.3 < float(up["gaussian_epsilon"].upper) < 0.4
    pytest.importorskip("matplotlib")
    figure_smp1(outcome, str(tmp_path / "smp1.svg"))
    assert (tmp_path / "smp1.svg").stat().st_size > 1000


def test_smp2_confirmed_and_figure(tmp_path: Path) -> None:
    outcome = check_smp2()
    assert outcome.verdict.status == "confirmed"
    rows: Any = outcome.evidence[0].values["rows"]
    assert {(r["setting"], r["method"]) for r in rows} == {
        (s, m) for s in ("black-box", "white-box") for m in ("lora", "smp-lora", "dp-lora")}
    for r in rows:
        assert (r["epsilon_upper"] is None) == (r["method"] != "dp-lora")
        assert r["guarantee"] == ("no formal guarantee" if r["method"] != "dp-lora"
                                  else "certified (PLD, Poisson-subsampled Gaussian, add/remove)")
    pytest.importorskip("matplotlib")
    figure_smp2(outcome, str(tmp_path / "smp2.svg"))
    assert (tmp_path / "smp2.svg").stat().st_size > 1000


def test_experiment_bad_input() -> None:
    for kwargs, name in (({"trials": 0}, "trials"), ({"dataset_size": 1}, "dataset_size"),
                         ({"dp_rate": 1.5}, "sample_rate"), ({"alpha": -1.0}, "alpha"),
                         ({"delta": "1"}, "delta"), ({"confidence": "0"}, "confidence"),
                         ({"seed": -1}, "seed"), ({"dp_noise": 0.0}, "noise_multiplier")):
        with pytest.raises(InvalidArgument, match=name):
            SmpExperimentConfig(**kwargs)
    with pytest.raises(InvalidArgument, match="exceeds"):
        run_smp_experiment(SmpExperimentConfig(aux_size=1000, eval_size=500))
    result = cached_experiment()
    with pytest.raises(InvalidArgument):
        result.row("white-box", "lora", "dp-canary")
    lora_row = result.row("white-box", "lora", "replay-asymmetry")
    with pytest.raises(InvalidArgument, match="dp-lora"):
        dp_canary_score(object(), None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="AdaptedModel"):
        replay_asymmetry_score(lora_row, None)  # type: ignore[arg-type]


@pytest.mark.large
def test_larger_experiment_stays_consistent() -> None:
    cfg = SmpExperimentConfig(trials=1000, whitebox_trials=3000, seed=11)
    result = run_smp_experiment(cfg)
    assert all(r.consistent is not False for r in result.rows)
    canary = result.row("white-box", "dp-lora", "dp-canary")
    assert canary.upper is not None
    assert 1.0 < canary.audit.epsilon.epsilon <= canary.upper.upper
