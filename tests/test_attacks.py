"""certify.attacks: the tiny model's gradients (finite differences), the adapters (the exact
one-step identity -lr G A^T A of frozen-A LoRA), the membership game's bookkeeping, and the
attacks on small games (the Theorem-2 attack separates members exactly after one step)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from certify.attacks import (
    SCORERS,
    AdaptedModel,
    Dataset,
    LoraMiaConfig,
    TinyMLP,
    TrainConfig,
    Trial,
    calibrated_loss_score,
    gram_asymmetry_score,
    load_digits_split,
    lora_membership_experiment,
    loss_score,
    refit_residual_score,
    register_trainer,
    run_membership_game,
    train,
)
from certify.audit import auc
from certify.errors import InvalidArgument


def _toy(seed: int = 0, n: int = 12, m: int = 6, h: int = 5, c: int = 3) -> tuple[TinyMLP,
                                                                                 Dataset]:
    rng = np.random.default_rng(seed)
    model = TinyMLP(rng.standard_normal((h, m)) / 2, rng.standard_normal(h) / 3,
                    rng.standard_normal((c, h)), rng.standard_normal(c) / 3)
    data = Dataset(rng.standard_normal((n, m)), rng.integers(0, c, n).astype(np.int64), c)
    return model, data


def test_gradients_match_central_differences() -> None:
    model, data = _toy()
    grads = model.gradients(data)
    params = [model.W1, model.b1, model.W2, model.b2]
    step = 1e-6
    for which, grad in enumerate(grads):
        for idx in [(0,) * params[which].ndim, tuple(s - 1 for s in params[which].shape)]:
            up = [p.copy() for p in params]
            down = [p.copy() for p in params]
            up[which][idx] += step
            down[which][idx] -= step
            fd = (TinyMLP(*up).losses(data.X, data.y).mean()
                  - TinyMLP(*down).losses(data.X, data.y).mean()) / (2 * step)
            assert abs(fd - grad[idx]) < 1e-7 * (1 + abs(fd))


def test_grad_w1_is_a_sum_of_rank_one_terms() -> None:
    model, data = _toy(1)
    per_example = [model.grad_W1(data.subset([i])) for i in range(len(data))]
    assert all(np.linalg.matrix_rank(g) <= 1 for g in per_example)
    assert np.allclose(sum(per_example) / len(data), model.grad_W1(data), rtol=0, atol=1e-13)


def test_one_lora_step_is_the_matrix_mechanism() -> None:
    model, data = _toy(2)
    cfg = TrainConfig(rank=2, steps=1, lr=0.3)
    out = train("lora", model, data, cfg, np.random.default_rng(5))
    a = out.secret["A"]
    assert a.shape == (2, model.W1.shape[1])
    expected = -0.3 * model.grad_W1(data) @ a.T @ a  # -lr G A^T A
    assert np.allclose(out.delta_W1, expected, rtol=1e-12, atol=1e-15)
    assert np.linalg.matrix_rank(out.delta_W1) <= 2
    several = train("lora", model, data, TrainConfig(rank=2, steps=4, lr=0.3),
                    np.random.default_rng(5))
    assert np.linalg.matrix_rank(several.delta_W1) <= 2  # rows stay in the row space of A
    full = train("full", model, data, cfg, np.random.default_rng(5))
    assert np.allclose(full.delta_W1, -0.3 * model.grad_W1(data), rtol=1e-13, atol=1e-15)
    assert full.secret == {}


def test_trainer_registry_and_config_validation() -> None:
    model, data = _toy()
    with pytest.raises(InvalidArgument, match="kind=nope"):
        train("nope", model, data, TrainConfig(), np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match="already registered"):
        register_trainer("lora", lambda *a: None)  # type: ignore[arg-type]
    for kwargs, frag in (({"rank": 0}, "rank=0"), ({"steps": 0}, "steps=0"),
                         ({"lr": -1.0}, "lr=-1.0"), ({"lr": float("nan")}, "lr=nan")):
        with pytest.raises(InvalidArgument, match=frag):
            TrainConfig(**kwargs)
    with pytest.raises(InvalidArgument, match="rng="):
        train("lora", model, data, TrainConfig(), 0)  # type: ignore[arg-type]


def test_digits_split() -> None:
    public, private = load_digits_split(597, seed=0)
    assert len(public) == 597 and len(private) == 1797 - 597
    assert public.X.shape[1] == 64 and public.X.min() >= 0 and public.X.max() <= 1
    again, _ = load_digits_split(597, seed=0)
    assert np.array_equal(public.X, again.X)
    with pytest.raises(InvalidArgument, match="public_size=1796"):
        load_digits_split(1796)


def test_game_bookkeeping_and_determinism() -> None:
    model, pool = _toy(3, n=40)
    seen: list[tuple[int, bool]] = []

    def train_fn(data: Dataset, rng: np.random.Generator) -> AdaptedModel:
        return train("lora", model, data, TrainConfig(rank=2), rng)

    def spy(m: AdaptedModel, t: Trial) -> float:
        seen.append((len(t.known), t.member))
        assert not any(np.array_equal(t.target_x, row) for row in t.known.X)
        return gram_asymmetry_score(m, t)

    scorers: dict[str, Callable[[AdaptedModel, Trial], float]] = {"spy": spy, "loss": loss_score}
    first = run_membership_game(train_fn, scorers, pool, trials=6, dataset_size=8, seed=4)
    assert [s[1] for s in seen] == [True, False] * 6 and all(s[0] == 7 for s in seen)
    only_loss: dict[str, Callable[[AdaptedModel, Trial], float]] = {"loss": loss_score}
    second = run_membership_game(train_fn, only_loss, pool, trials=6, dataset_size=8, seed=4)
    assert np.array_equal(first["loss"].members, second["loss"].members)
    assert first["spy"].members.size == first["spy"].nonmembers.size == 6
    for kwargs, frag in (({"trials": 0}, "trials=0"), ({"dataset_size": 1}, "dataset_size=1"),
                         ({"dataset_size": 41}, "dataset_size=41"), ({"seed": -1}, "seed=-1")):
        args = {"trials": 2, "dataset_size": 4, "seed": 0} | kwargs
        with pytest.raises(InvalidArgument, match=frag):
            run_membership_game(train_fn, only_loss, pool, **args)
    with pytest.raises(InvalidArgument, match="scorers"):
        run_membership_game(train_fn, {}, pool, trials=1, dataset_size=4, seed=0)


def test_theorem2_attack_separates_exactly_after_one_step() -> None:
    res = lora_membership_experiment(LoraMiaConfig(
        trials=40, pretrain_steps=60, attacks=("gram-asymmetry", "refit-residual", "loss",
                                               "calibrated-loss")))
    for name in ("gram-asymmetry", "refit-residual"):
        sc = res.scores[name]
        assert sc.nonmembers.max() < 1e-12 < 1e-8 < sc.members.min(), name
        assert auc(sc.members, sc.nonmembers).estimate == 1
    loss = res.scores["loss"]
    assert 0.2 < float(auc(loss.members, loss.nonmembers).estimate) < 0.8  # no magic there


def test_full_fine_tuning_is_attacked_the_same_way() -> None:
    res = lora_membership_experiment(LoraMiaConfig(
        trials=20, pretrain_steps=60, kind="full", attacks=("gram-asymmetry",)))
    sc = res.scores["gram-asymmetry"]
    assert sc.nonmembers.max() < 1e-12 < 1e-8 < sc.members.min()


def test_scorer_definitions_and_inputs() -> None:
    model, pool = _toy(4, n=10)
    adapted = train("lora", model, pool.subset(range(9)), TrainConfig(rank=2),
                    np.random.default_rng(0))
    trial = Trial(0, True, pool.subset(range(9)), pool.X[9], int(pool.y[9]))
    assert loss_score(adapted, trial) == -adapted.losses(pool.X[9], pool.y[9])[0]
    assert calibrated_loss_score(adapted, trial) == pytest.approx(
        model.losses(pool.X[9], pool.y[9])[0] - adapted.losses(pool.X[9], pool.y[9])[0])
    full = train("full", model, pool, TrainConfig(), np.random.default_rng(0))
    with pytest.raises(InvalidArgument, match="kind lora"):
        refit_residual_score(full, trial)
    assert set(SCORERS) == {"gram-asymmetry", "refit-residual", "loss", "calibrated-loss"}
    with pytest.raises(InvalidArgument, match="attacks="):
        LoraMiaConfig(attacks=("nope",))


def test_refit_attack_after_several_steps() -> None:
    res = lora_membership_experiment(LoraMiaConfig(
        trials=8, steps=3, pretrain_steps=60, attacks=("refit-residual",)))
    sc = res.scores["refit-residual"]
    assert sc.nonmembers.max() < 1e-9 < sc.members.min()


@pytest.mark.large
def test_wpm6_multi_step_large() -> None:
    """Five LoRA steps, 500 + 500 trials, the refit attack: AUC's 95% lower limit > 0.99
    (perfect separation gives 0.025^(1/500) = 0.9927)."""
    res = lora_membership_experiment(LoraMiaConfig(trials=500, steps=5,
                                                   attacks=("refit-residual",)))
    sc = res.scores["refit-residual"]
    assert auc(sc.members, sc.nonmembers, "0.95").lower > 0.99
