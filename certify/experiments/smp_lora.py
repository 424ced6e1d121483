"""The SMP-2 experiment: LoRA, SMP-LoRA and DP-LoRA on a small model, audited by membership
attacks, each empirical eps lower bound beside the method's certified upper bound (if any).

Setting (every choice public and seeded; CPU, numpy only):

* data: scikit-learn's bundled digits (:func:`certify.attacks.data.load_digits_split`); the
  private part is split once (seeded) into the SMP attacker's auxiliary non-members
  (``aux_size``), a held-out evaluation set (``eval_size``, utility only) and the pool from
  which the membership trials draw;
* model: the pre-trained 64-32-10 tanh network of :func:`certify.attacks.model.pretrain_mlp`;
  all three methods adapt its first layer with a rank-``r`` LoRA (frozen random ``A``, trained
  ``B``): ``lora`` (:mod:`certify.attacks.training`), ``smp-lora``
  (:mod:`certify.attacks.smp`), ``dp-lora`` (:mod:`certify.attacks.dp_lora`);
* game: :func:`certify.attacks.game.run_membership_game` (the DP distinguishing game: the
  target is added to or left out of a training set ``D_-`` known to the adversary), the same
  trials for every method;
* two settings:

  - ``black-box`` (multi-step training, the defences' own setting): attacks ``loss`` (Yeom et
    al. 2018) and ``calibrated-loss`` (Watson et al. 2022) from :mod:`certify.attacks.scorers`;
  - ``white-box`` (one full-batch step, the strongest adversary of the DP game):
    :func:`replay_asymmetry_score` for every method and, for DP-LoRA, :func:`dp_canary_score`
    (the adversary is also given ``A`` and ``B``, which DP-SGD's guarantee covers since ``A`` is
    data-independent);

* audit: :func:`certify.audit.audit_scores` (AUC, TPR at fixed FPR, balanced accuracy, the
  certified eps lower bound at ``delta`` and ``confidence``);
* certified upper bounds: DP-LoRA's :func:`certify.attacks.dp_lora.dp_lora_epsilon` (PLD,
  Poisson sampling, add/remove); LoRA and SMP-LoRA have none (no noise: no formal guarantee).

The consistency check that must hold: DP-LoRA's empirical lower bound <= its certified upper
bound (a violation is a bug in the sampler, the clipping, the noise or the accountant).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from certify._validate import check_positive_int, check_probability
from certify.attacks._threads import single_threaded_blas as _single_threaded_blas
from certify.attacks.data import Dataset, FloatArray, load_digits_split
from certify.attacks.dp_lora import DpSettings, clipped_factors, dp_config, dp_lora_epsilon
from certify.attacks.game import Trial, run_membership_game
from certify.attacks.model import TinyMLP, pretrain_mlp
from certify.attacks.scorers import SCORERS, gram_asymmetry_score
from certify.attacks.smp import smp_config, smp_first_gradient
from certify.attacks.training import AdaptedModel, TrainConfig, train
from certify.audit.metrics import roc_points
from certify.audit.summary import AuditSummary, audit_scores
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound

__all__ = [
    "METHODS",
    "SETTINGS",
    "AuditRow",
    "SmpExperimentConfig",
    "SmpExperimentResult",
    "cached_experiment",
    "certified_upper",
    "dp_canary_score",
    "method_configs",
    "replay_asymmetry_score",
    "roc_points",
    "run_smp_experiment",
]

METHODS: tuple[str, ...] = ("lora", "smp-lora", "dp-lora")
SETTINGS: tuple[str, ...] = ("black-box", "white-box")
#: log-spaced false-positive rates at which the empirical ROC is stored (figures)
ROC_FPRS: tuple[float, ...] = tuple(float(x) for x in np.geomspace(1e-3, 1, 25))


@dataclass(frozen=True)
class SmpExperimentConfig:
    """The experiment's parameters (defaults: the SMP-2 claim's CPU-sized run).

    Shared: ``dataset_size`` (|D| of a member trial), LoRA ``rank``. Black-box setting:
    ``trials`` per side, ``steps`` and ``lr`` for LoRA and SMP-LoRA; SMP's ``alpha``, ``beta``,
    ``attacker_steps``, ``attacker_lr``, ``aux_size``; DP-LoRA's ``dp_clip`` (C),
    ``dp_noise`` (sigma), ``dp_rate`` (Poisson q), ``dp_steps``, ``dp_lr`` (its normaliser is
    ``q * dataset_size``, a public constant). White-box setting: ``whitebox_trials`` per side,
    one step at ``lr``; DP-LoRA with ``q = 1``, noise ``whitebox_noise`` and clipping
    ``whitebox_clip`` (small enough that every per-example gradient is clipped, so the canary
    attack meets the worst case)."""

    trials: int = 200
    whitebox_trials: int = 1000
    dataset_size: int = 16
    rank: int = 8
    steps: int = 100
    lr: float = 1.0
    alpha: float = 100.0
    beta: float = 1.0
    attacker_steps: int = 5
    attacker_lr: float = 5.0
    aux_size: int = 64
    eval_size: int = 200
    dp_clip: float = 1.0
    dp_noise: float = 2.0
    dp_rate: float = 0.25
    dp_steps: int = 50
    dp_lr: float = 0.05
    whitebox_noise: float = 1.0
    whitebox_clip: float = 1e-4
    utility_models: int = 10
    hidden: int = 32
    pretrain_steps: int = 300
    public_size: int = 597
    delta: str = "1e-5"
    confidence: str = "0.95"
    fprs: tuple[str, ...] = ("0.01", "0.1")
    seed: int = 20260129

    def __post_init__(self) -> None:
        for name in ("trials", "whitebox_trials", "dataset_size", "rank", "steps",
                     "attacker_steps", "aux_size", "eval_size", "dp_steps", "utility_models",
                     "hidden", "pretrain_steps", "public_size"):
            check_positive_int(name, getattr(self, name))
        if self.dataset_size < 2:
            raise InvalidArgument(f"dataset_size={self.dataset_size} must be at least 2.")
        method_configs(self, _dummy_aux())  # the trainers' validators name a bad parameter
        check_probability("delta", self.delta, open_low=True, open_high=True)
        check_probability("confidence", self.confidence, open_low=True, open_high=True)
        for f in self.fprs:
            check_probability("fprs", f, open_low=True, open_high=True)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidArgument(f"seed={self.seed!r} must be a non-negative integer.")

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        out["fprs"] = list(self.fprs)
        return out


def _dummy_aux() -> Dataset:
    return Dataset(np.zeros((1, 64)), np.zeros(1, dtype=np.int64), 10)


def method_configs(
    cfg: SmpExperimentConfig, aux: Dataset
) -> dict[str, dict[str, tuple[str, TrainConfig]]]:
    """``{setting: {method: (trainer kind, TrainConfig)}}`` for every (setting, method)."""
    def smp(steps: int) -> TrainConfig:
        return smp_config(cfg.rank, steps, cfg.lr, alpha=cfg.alpha, beta=cfg.beta,
                          attacker_steps=cfg.attacker_steps, attacker_lr=cfg.attacker_lr,
                          aux=aux)

    return {
        "black-box": {
            "lora": ("lora", TrainConfig(rank=cfg.rank, steps=cfg.steps, lr=cfg.lr)),
            "smp-lora": ("smp-lora", smp(cfg.steps)),
            "dp-lora": ("dp-lora", dp_config(
                cfg.rank, cfg.dp_steps, cfg.dp_lr, clip=cfg.dp_clip,
                noise_multiplier=cfg.dp_noise, sample_rate=cfg.dp_rate,
                expected_batch=cfg.dp_rate * cfg.dataset_size)),
        },
        "white-box": {
            "lora": ("lora", TrainConfig(rank=cfg.rank, steps=1, lr=cfg.lr)),
            "smp-lora": ("smp-lora", smp(1)),
            "dp-lora": ("dp-lora", dp_config(
                cfg.rank, 1, cfg.lr, clip=cfg.whitebox_clip, noise_multiplier=cfg.whitebox_noise,
                sample_rate=1.0, expected_batch=float(cfg.dataset_size))),
        },
    }


# -- white-box attacks ------------------------------------------------------------------------


def _asymmetry(delta_W1: FloatArray, gamma: FloatArray) -> float:
    s = delta_W1 @ gamma.T
    norm = float(np.linalg.norm(s))
    return 0.0 if norm == 0.0 else float(np.linalg.norm(s - s.T)) / norm


def replay_asymmetry_score(model: AdaptedModel, trial: Trial) -> float:
    """The one-step replay attack: the adversary recomputes the method's deterministic first
    gradient ``Gamma_-`` on ``D_-`` (the non-member hypothesis) and scores the asymmetry
    ``||S - S^T||_F / ||S||_F`` of ``S = Delta W1 Gamma_-^T``. One full-batch step from
    ``B = 0`` releases ``Delta W1 = -lr Gamma A^T A``, so ``S = -lr Gamma_- A^T A Gamma_-^T``
    is symmetric (up to rounding) exactly when the target is out; with the target in,
    ``Gamma != Gamma_-`` and ``S`` is asymmetric with probability one. For ``lora`` this is
    :func:`certify.attacks.scorers.gram_asymmetry_score` (seed 000's Theorem-2 attack); for
    ``smp-lora`` ``Gamma_-`` is :func:`certify.attacks.smp.smp_first_gradient` (proxy attacker
    trained on ``D_-`` against the public auxiliary set, all deterministic); for ``dp-lora`` the
    noise-free LoRA gradient is replayed (the noise breaks the symmetry: the attack fails, as DP
    says it must). Exact for one step; a valid (weaker) score for more."""
    if not isinstance(model, AdaptedModel):
        raise InvalidArgument(f"model={model!r} must be an AdaptedModel.")
    if model.kind == "lora":
        return gram_asymmetry_score(model, trial)
    if model.kind == "smp-lora":
        return _asymmetry(model.delta_W1, smp_first_gradient(model.base, trial.known,
                                                             model.config))
    if model.kind == "dp-lora":
        return _asymmetry(model.delta_W1, model.base.grad_W1(trial.known))
    raise InvalidArgument(f"model.kind={model.kind!r} must be lora, smp-lora or dp-lora.")


def dp_canary_score(model: AdaptedModel, trial: Trial) -> float:
    """White-box audit of one DP-SGD step with ``q = 1`` (the adversary also holds ``A`` and
    ``B``, and knows ``D_-``): it recovers the noisy clipped sum ``S + N = -B E / lr``, removes
    the known examples' clipped gradients and projects the residual on the target's clipped
    gradient ``c_z``: ``<R, c_z> / (||c_z|| sigma C)``. Non-members: exactly ``N(0, 1)``;
    members: ``N(||c_z|| / (sigma C), 1)``, at most the Gaussian mechanism with ``mu = 1/sigma``
    that the accountant certifies (equal when ``c_z`` is clipped)."""
    if not isinstance(model, AdaptedModel) or model.kind != "dp-lora":
        raise InvalidArgument(f"model={model!r} must be an AdaptedModel of kind dp-lora.")
    s = model.config.extra["dp"]
    assert isinstance(s, DpSettings)
    if model.config.steps != 1 or float(s.sample_rate) != 1.0:
        raise InvalidArgument(f"dp_canary_score needs steps=1 and sample_rate=1 (got "
                              f"steps={model.config.steps}, sample_rate={s.sample_rate}).")
    A, B = model.secret["A"], model.secret["B"]
    noisy_sum = -B * (s.expected_batch / model.config.lr)
    u, v, _ = clipped_factors(model.base, trial.known, None, A, s.clip)
    target = Dataset(np.atleast_2d(trial.target_x), np.array([trial.target_y]),
                     model.base.W2.shape[0])
    uz, vz, _ = clipped_factors(model.base, target, None, A, s.clip)
    cz = uz.T @ vz
    norm = float(np.linalg.norm(cz))
    if norm == 0.0:
        return 0.0
    residual = noisy_sum - u.T @ v
    return float(np.sum(residual * cz)) / (norm * s.noise_multiplier * s.clip)


#: the attacks by setting (names of :data:`certify.attacks.scorers.SCORERS` or local)
def _attacks(setting: str, method: str) -> dict[str, Callable[..., float]]:
    if setting == "black-box":
        return {"loss": SCORERS["loss"], "calibrated-loss": SCORERS["calibrated-loss"]}
    out: dict[str, Callable[..., float]] = {"replay-asymmetry": replay_asymmetry_score}
    if method == "dp-lora":
        out["dp-canary"] = dp_canary_score
    return out


# -- the run ----------------------------------------------------------------------------------


def certified_upper(kind: str, config: TrainConfig, delta: object) -> Bound | None:
    """The certified eps(delta) of a method, or None when it has no formal guarantee."""
    return dp_lora_epsilon(config, delta) if kind == "dp-lora" else None


@dataclass(frozen=True, eq=False)
class AuditRow:
    """One (setting, method, attack): the scores, their audit, the certified upper bound."""

    setting: str
    method: str
    attack: str
    members: FloatArray
    nonmembers: FloatArray
    audit: AuditSummary
    upper: Bound | None
    utility: float
    train_config: dict[str, object]

    @property
    def consistent(self) -> bool | None:
        """Empirical lower <= certified upper (None: no upper bound to compare with)."""
        if self.upper is None:
            return None
        return bool(self.audit.epsilon.epsilon <= self.upper.upper)

    def to_json(self) -> dict[str, object]:
        return {
            "setting": self.setting, "method": self.method, "attack": self.attack,
            "auc": self.audit.auc.to_json(),
            "tpr_at_fpr": [t.to_json() for t in self.audit.tpr_at_fpr],
            "balanced_accuracy": self.audit.accuracy.to_json(),
            "epsilon_lower": self.audit.epsilon.to_json(),
            "epsilon_upper": None if self.upper is None else self.upper.to_json(),
            "guarantee": "certified (PLD, Poisson-subsampled Gaussian, add/remove)"
            if self.upper is not None else "no formal guarantee",
            "consistent": self.consistent,
            "utility_accuracy": self.utility,
            "train_config": self.train_config,
            "roc": roc_points(self.members, self.nonmembers, ROC_FPRS),
        }


@dataclass(frozen=True, eq=False)
class SmpExperimentResult:
    config: SmpExperimentConfig
    base_accuracy: float
    rows: tuple[AuditRow, ...]
    seconds: float

    def row(self, setting: str, method: str, attack: str) -> AuditRow:
        for r in self.rows:
            if (r.setting, r.method, r.attack) == (setting, method, attack):
                return r
        raise InvalidArgument(f"no row ({setting}, {method}, {attack}).")


def _train_config_json(kind: str, config: TrainConfig) -> dict[str, object]:
    out: dict[str, object] = {"kind": kind, "rank": config.rank, "steps": config.steps,
                              "lr": config.lr}
    for key, value in config.extra.items():
        out[key] = value.to_json() if hasattr(value, "to_json") else str(value)
    return out


def _split(cfg: SmpExperimentConfig) -> tuple[TinyMLP, Dataset, Dataset, Dataset]:
    public, private = load_digits_split(cfg.public_size, seed=cfg.seed % (2**32))
    need = cfg.aux_size + cfg.eval_size + cfg.dataset_size
    if need > len(private):
        raise InvalidArgument(f"aux_size + eval_size + dataset_size = {need} exceeds the "
                              f"{len(private)} private examples.")
    base = pretrain_mlp(public, hidden=cfg.hidden, steps=cfg.pretrain_steps, seed=cfg.seed)
    aux = private.subset(np.arange(cfg.aux_size))
    held_out = private.subset(np.arange(cfg.aux_size, cfg.aux_size + cfg.eval_size))
    pool = private.subset(np.arange(cfg.aux_size + cfg.eval_size, len(private)))
    return base, aux, held_out, pool


def run_smp_experiment(config: SmpExperimentConfig | None = None) -> SmpExperimentResult:
    """Train, attack and audit every (setting, method) of :func:`method_configs`."""
    cfg = config or SmpExperimentConfig()
    with _single_threaded_blas():
        return _run(cfg)


def _run(cfg: SmpExperimentConfig) -> SmpExperimentResult:
    start = time.perf_counter()
    base, aux, held_out, pool = _split(cfg)
    rows = []
    for setting, methods in method_configs(cfg, aux).items():
        trials = cfg.trials if setting == "black-box" else cfg.whitebox_trials
        for method, (kind, tc) in methods.items():
            accuracies: list[float] = []

            def train_fn(data: Dataset, rng: np.random.Generator, kind: str = kind,
                         tc: TrainConfig = tc, accuracies: list[float] = accuracies
                         ) -> AdaptedModel:
                model = train(kind, base, data, tc, rng)
                if len(accuracies) < cfg.utility_models:
                    accuracies.append(base.accuracy(held_out, model.delta_W1))
                return model

            scores = run_membership_game(train_fn, _attacks(setting, method), pool,
                                         trials=trials, dataset_size=cfg.dataset_size,
                                         seed=cfg.seed)
            upper = certified_upper(kind, tc, cfg.delta)
            for attack, sc in scores.items():
                summary = audit_scores(sc.members, sc.nonmembers, cfg.delta,
                                       confidence=cfg.confidence, fprs=cfg.fprs)
                rows.append(AuditRow(setting, method, attack, sc.members, sc.nonmembers,
                                     summary, upper, float(np.mean(accuracies)),
                                     _train_config_json(kind, tc)))
    return SmpExperimentResult(cfg, base.accuracy(held_out), tuple(rows),
                               time.perf_counter() - start)


@functools.lru_cache(maxsize=4)
def cached_experiment(config: SmpExperimentConfig | None = None) -> SmpExperimentResult:
    """:func:`run_smp_experiment`, once per process and configuration (claims share it)."""
    return run_smp_experiment(config)
