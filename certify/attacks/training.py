"""Fine-tuning the first layer of a :class:`~certify.attacks.model.TinyMLP` with an adapter,
selected by *kind* (a registry, so that other adapters plug in: SMP-LoRA, DP-LoRA, ...).

Built-in kinds (full-batch gradient descent on the mean cross-entropy, no clipping, no noise):

* ``"lora"``: ``W1 = W1_0 + B A`` with ``A`` (``r x m``) iid ``N(0, 1/r)``, drawn once from the
  trial's generator and **frozen**, and ``B`` (``h x r``) starting at 0 and trained
  (seed 000 / seed 001 setting): ``B <- B - lr grad_W1 L(W1_0 + B A) A^T``. After ``T`` steps
  the update is ``B_T A = -lr (sum_t G_t) A^T A``, ``G_t`` the first-layer gradient at step
  ``t``: for ``T = 1`` exactly the Wishart matrix mechanism ``G -> G M`` with ``M = A^T A``
  (a sum of per-example rank-one gradients multiplied by the same ``M``: WPM-9).
* ``"full"``: ``W1 <- W1 - lr grad_W1 L`` (full fine-tuning of the layer; ``M = I``).

The released object (:class:`AdaptedModel`) is the *merged* update ``delta_W1`` of the layer:
``W1 = W1_0 + delta_W1`` is what a model file holds after merging the adapter. The adapter's
random factor is kept in ``secret`` (not released; attacks in :mod:`certify.attacks.scorers`
never read it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from certify._validate import check_choice, check_positive_int
from certify.attacks.data import Dataset, FloatArray
from certify.attacks.model import TinyMLP
from certify.errors import InvalidArgument

__all__ = [
    "AdaptedModel",
    "TRAINERS",
    "TrainConfig",
    "Trainer",
    "register_trainer",
    "train",
]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters (public: the adversary knows them). ``extra`` carries what other
    trainers need (a clipping norm, a noise multiplier, an attacker weight ...)."""

    rank: int = 4
    steps: int = 1
    lr: float = 0.5
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_positive_int("rank", self.rank)
        check_positive_int("steps", self.steps)
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not (
            np.isfinite(self.lr) and self.lr > 0
        ):
            raise InvalidArgument(f"lr={self.lr!r} must be a positive finite number.")


@dataclass(frozen=True, eq=False)
class AdaptedModel:
    """A fine-tuned model as released: the public base model, the merged first-layer update
    ``delta_W1``, the kind and configuration; ``secret`` holds training randomness that is not
    released (LoRA's frozen ``A``)."""

    base: TinyMLP
    delta_W1: FloatArray
    kind: str
    config: TrainConfig
    secret: Mapping[str, FloatArray] = field(default_factory=dict)

    def losses(self, X: FloatArray, y: object) -> FloatArray:
        return self.base.losses(X, y, self.delta_W1)

    def probabilities(self, X: FloatArray) -> FloatArray:
        return self.base.probabilities(X, self.delta_W1)


Trainer = Callable[[TinyMLP, Dataset, TrainConfig, np.random.Generator], AdaptedModel]

TRAINERS: dict[str, Trainer] = {}


def register_trainer(kind: str, trainer: Trainer) -> Trainer:
    """Add an adapter kind (a second, different trainer under the same name is an error)."""
    if not isinstance(kind, str) or not kind:
        raise InvalidArgument(f"kind={kind!r} must be a non-empty string.")
    existing = TRAINERS.get(kind)
    if existing is not None and existing is not trainer:
        raise InvalidArgument(f"kind={kind!r} is already registered.")
    TRAINERS[kind] = trainer
    return trainer


def train(
    kind: str, base: TinyMLP, data: Dataset, config: TrainConfig, rng: np.random.Generator
) -> AdaptedModel:
    """Fine-tune ``base`` on ``data`` with the adapter ``kind``."""
    check_choice("kind", kind, tuple(sorted(TRAINERS)))
    if len(data) == 0:
        raise InvalidArgument("data must hold at least one example.")
    if not isinstance(rng, np.random.Generator):
        raise InvalidArgument(f"rng={rng!r} must be a numpy Generator.")
    return TRAINERS[kind](base, data, config, rng)


def _train_lora(
    base: TinyMLP, data: Dataset, config: TrainConfig, rng: np.random.Generator
) -> AdaptedModel:
    h, m = base.W1.shape
    r = config.rank
    A = rng.standard_normal((r, m)) / np.sqrt(r)  # frozen random factor, iid N(0, 1/r)
    B = np.zeros((h, r))
    for _ in range(config.steps):
        B = B - config.lr * (base.grad_W1(data, B @ A) @ A.T)
    return AdaptedModel(base, B @ A, "lora", config, {"A": A})


def _train_full(
    base: TinyMLP, data: Dataset, config: TrainConfig, rng: np.random.Generator
) -> AdaptedModel:
    delta = np.zeros_like(base.W1)
    for _ in range(config.steps):
        delta = delta - config.lr * base.grad_W1(data, delta)
    return AdaptedModel(base, delta, "full", config)


register_trainer("lora", _train_lora)
register_trainer("full", _train_full)
