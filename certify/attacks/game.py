"""The membership game and a generic runner that turns any trainer and any attacks into
independent member / non-member scores (input of :mod:`certify.audit`).

**Threat model (the distinguishing game of differential privacy; Nasr et al. 2021,
"Adversary instantiation", the strongest adversary).** In trial ``i`` a dataset ``D_-`` of
``dataset_size - 1`` examples and a target ``z`` (distinct) are drawn uniformly from a fixed
private pool; in *member* trials the model is trained on ``D_- + {z}``, in *non-member* trials
on ``D_-`` (add/remove neighbours), with fresh training randomness. The adversary receives the
released model and a :class:`Trial`: the target, ``D_-`` itself and the membership of nothing
else; the public base model and hyper-parameters are known to it through the model object.
An attack (a *scorer*) may use all of that or only part of it (a black-box loss attack uses
the target alone). Trials alternate member / non-member and use the generator
``default_rng([seed, i])``, so the ``trials`` member scores are iid, the ``trials``
non-member scores are iid and the two samples are independent: exactly what the intervals
and the eps bound of :mod:`certify.audit` assume.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from certify._validate import check_positive_int
from certify.attacks.data import Dataset, FloatArray
from certify.errors import InvalidArgument

__all__ = ["GameScores", "Trial", "run_membership_game"]

ModelT = TypeVar("ModelT")


@dataclass(frozen=True, eq=False)
class Trial:
    """What the adversary knows about one trial besides the released model."""

    index: int
    member: bool
    known: Dataset
    target_x: FloatArray
    target_y: int


@dataclass(frozen=True, eq=False)
class GameScores(Generic[ModelT]):
    """Scores of one attack: ``members`` and ``nonmembers`` (one per trial), with the wall time
    of training (shared by all attacks) and of this attack."""

    members: FloatArray
    nonmembers: FloatArray
    train_seconds: float
    score_seconds: float


def run_membership_game(
    train_fn: Callable[[Dataset, np.random.Generator], ModelT],
    scorers: Mapping[str, Callable[[ModelT, Trial], float]],
    pool: Dataset,
    *,
    trials: int,
    dataset_size: int,
    seed: int,
) -> dict[str, GameScores[ModelT]]:
    """Play ``trials`` member and ``trials`` non-member rounds (module docstring).

    ``train_fn(data, rng)`` trains one model (its randomness from ``rng``); every scorer is
    evaluated on every trained model, so all attacks see the same trials.
    """
    t = check_positive_int("trials", trials)
    size = check_positive_int("dataset_size", dataset_size)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed={seed!r} must be a non-negative integer.")
    if size < 2:
        raise InvalidArgument(f"dataset_size={size} must be at least 2.")
    if size > len(pool):
        raise InvalidArgument(f"dataset_size={size} exceeds the pool of {len(pool)} examples.")
    if not scorers:
        raise InvalidArgument("scorers={} must name at least one attack.")
    names = list(scorers)
    scores = {name: ([], []) for name in names}  # type: dict[str, tuple[list[float], list[float]]]
    train_seconds = 0.0
    score_seconds = dict.fromkeys(names, 0.0)
    for i in range(2 * t):
        member = i % 2 == 0
        rng = np.random.default_rng([seed, i])
        idx = rng.choice(len(pool), size=size, replace=False)
        known = pool.subset(idx[:-1])
        z = int(idx[-1])
        data = pool.subset(idx) if member else known
        start = time.perf_counter()
        model = train_fn(data, rng)
        train_seconds += time.perf_counter() - start
        trial = Trial(i, member, known, pool.X[z], int(pool.y[z]))
        for name in names:
            start = time.perf_counter()
            value = float(scorers[name](model, trial))
            score_seconds[name] += time.perf_counter() - start
            if not np.isfinite(value):
                raise InvalidArgument(f"scorer {name!r} returned {value} in trial {i}.")
            scores[name][0 if member else 1].append(value)
    return {
        name: GameScores(np.asarray(scores[name][0]), np.asarray(scores[name][1]),
                         train_seconds, score_seconds[name])
        for name in names
    }
