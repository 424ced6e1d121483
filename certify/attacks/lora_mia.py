"""The WPM-6 experiment: membership inference against noise-free LoRA with a frozen random A.

Setting (every choice public and seeded; nothing is cached between runs):

* data: scikit-learn's bundled ``load_digits``, split by a seeded permutation into a public
  part (pre-training) and a private pool (:func:`certify.attacks.data.load_digits_split`);
* model: a 64-32-10 tanh network pre-trained on the public part
  (:func:`certify.attacks.model.pretrain_mlp`);
* fine-tuning: a rank-``r`` LoRA adapter on the first layer, ``A`` iid ``N(0, 1/r)`` frozen and
  secret, ``B = 0`` trained by full-batch gradient descent on the mean cross-entropy of the
  private training set, no clipping, no noise (:mod:`certify.attacks.training`); the merged
  weights are released;
* game: :func:`certify.attacks.game.run_membership_game` (the DP distinguishing game: the
  adversary knows ``D_-``, the target, the base model and the hyper-parameters, not ``A``);
* attacks: :mod:`certify.attacks.scorers`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from certify._validate import check_positive_int
from certify.attacks._threads import single_threaded_blas as _single_threaded_blas
from certify.attacks.data import Dataset, load_digits_split
from certify.attacks.game import GameScores, run_membership_game
from certify.attacks.model import TinyMLP, pretrain_mlp
from certify.attacks.scorers import SCORERS
from certify.attacks.training import AdaptedModel, TrainConfig, train
from certify.errors import InvalidArgument

__all__ = ["LoraMiaConfig", "LoraMiaResult", "lora_membership_experiment"]


@dataclass(frozen=True)
class LoraMiaConfig:
    """The experiment's parameters (defaults: the WPM-6 claim's run)."""

    trials: int = 1000
    dataset_size: int = 64
    rank: int = 4
    steps: int = 1
    lr: float = 0.5
    hidden: int = 32
    pretrain_steps: int = 300
    public_size: int = 597
    kind: str = "lora"
    seed: int = 20260129
    attacks: tuple[str, ...] = ("gram-asymmetry", "calibrated-loss", "loss")

    def __post_init__(self) -> None:
        for name in ("trials", "dataset_size", "rank", "steps", "hidden", "pretrain_steps",
                     "public_size"):
            check_positive_int(name, getattr(self, name))
        unknown = [a for a in self.attacks if a not in SCORERS]
        if not self.attacks or unknown:
            raise InvalidArgument(f"attacks={self.attacks!r} must be among "
                                  f"{', '.join(sorted(SCORERS))}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidArgument(f"seed={self.seed!r} must be a non-negative integer.")

    def to_json(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class LoraMiaResult:
    config: LoraMiaConfig
    base: TinyMLP
    base_accuracy_public: float
    base_accuracy_private: float
    scores: dict[str, GameScores[AdaptedModel]]
    seconds: float


def lora_membership_experiment(config: LoraMiaConfig | None = None) -> LoraMiaResult:
    """Pre-train, then play the membership game with every attack in ``config.attacks``."""
    cfg = config or LoraMiaConfig()
    with _single_threaded_blas():
        return _experiment(cfg)


def _experiment(cfg: LoraMiaConfig) -> LoraMiaResult:
    start = time.perf_counter()
    public, private = load_digits_split(cfg.public_size, seed=cfg.seed % (2**32))
    base = pretrain_mlp(public, hidden=cfg.hidden, steps=cfg.pretrain_steps, seed=cfg.seed)
    tc = TrainConfig(rank=cfg.rank, steps=cfg.steps, lr=cfg.lr)

    def train_fn(data: Dataset, rng: np.random.Generator) -> AdaptedModel:
        return train(cfg.kind, base, data, tc, rng)

    scores = run_membership_game(
        train_fn, {a: SCORERS[a] for a in cfg.attacks}, private,
        trials=cfg.trials, dataset_size=cfg.dataset_size, seed=cfg.seed)
    return LoraMiaResult(cfg, base, base.accuracy(public), base.accuracy(private), scores,
                         time.perf_counter() - start)
