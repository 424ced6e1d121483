"""DP-LoRA: DP-SGD on the LoRA factor ``B`` (frozen random ``A``), with its certified eps.

**Algorithm** (Abadi et al. 2016, "Deep learning with differential privacy", CCS, Algorithm 1,
applied to the adapter only). ``W1 = W1_0 + B A``, ``A`` (``r x m``) iid ``N(0, 1/r)`` drawn
once, frozen and independent of the data; ``B = 0``. Each of ``T = steps`` iterations:

1. **Poisson sampling**: every example of ``D`` enters the lot independently with probability
   ``q`` (``sample_rate``);
2. **per-example gradients** of the loss in ``B``: ``g_i = a_i (A x_i)^T`` (rank one, norm
   ``||a_i|| ||A x_i||``; :mod:`certify.attacks.per_example`), **clipped** to Frobenius norm
   ``C``: ``g_i min(1, C / ||g_i||)``;
3. **Gaussian noise**: ``S = sum_{lot} clip(g_i) + N(0, sigma^2 C^2 I)`` (``sigma`` =
   ``noise_multiplier``);
4. ``B <- B - lr S / E`` with ``E = expected_batch``, a *public constant* (not the lot size,
   and not ``q |D|``, which would depend on the data).

The released model is ``W1_0 + B_T A``.

**Privacy (what is certified).** Under add/remove-one neighbours each iteration is the
Poisson-subsampled Gaussian mechanism with sensitivity ``C`` and noise ``sigma C`` applied to
the clipped sum (adaptively composed: the gradients depend on earlier outputs, and ``A`` is
data-independent randomness, so conditioning on it changes nothing); ``B_T`` and ``B_T A`` are
post-processing. Hence the mechanism is (eps, delta)-DP for every eps >= the certified
``eps(delta)`` of the ``T``-fold Poisson-subsampled Gaussian with noise ratio ``sigma``
(:func:`certify.accounting.pld.composed_epsilon`, ``neighbours="add-remove"``), evaluated at the
*exact* sampling probability of the sampler: numpy's ``Generator.random`` returns multiples of
``2^-53``, so ``P(U < q) = ceil(q 2^53) / 2^53 >= q`` (equal to ``q`` for dyadic ``q`` such as
1/2 or 1/4), and that number is what is accounted (eps(delta) increases with the sampling rate).

Caveats stated, not hidden: the bound is for the idealised mechanism with exact Gaussian noise
and exact clipping; float64 sampling and rounding are the usual approximation (Mironov 2012,
"On significance of the least significant bits for differential privacy", CCS), and a clipped
norm may exceed ``C`` by a relative rounding error (~1e-16).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from certify._validate import check_probability
from certify.accounting.pld import Phase, composed_epsilon
from certify.attacks.data import Dataset, FloatArray
from certify.attacks.model import TinyMLP
from certify.attacks.per_example import per_example_factors
from certify.attacks.training import AdaptedModel, TrainConfig, register_trainer
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

__all__ = [
    "DpSettings",
    "clipped_factors",
    "dp_config",
    "dp_lora_epsilon",
    "effective_sample_rate",
    "train_dp_lora",
]


def _positive_finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{name}={value!r} must be a positive finite number.")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise InvalidArgument(f"{name}={value!r} must be a positive finite number.")
    return v


@dataclass(frozen=True)
class DpSettings:
    """DP-SGD's hyper-parameters (public): clipping norm ``clip`` (C), ``noise_multiplier``
    (sigma: noise sd sigma C), Poisson ``sample_rate`` (q) and the public normaliser
    ``expected_batch`` (E)."""

    clip: float
    noise_multiplier: float
    sample_rate: float
    expected_batch: float

    def __post_init__(self) -> None:
        _positive_finite("clip", self.clip)
        _positive_finite("noise_multiplier", self.noise_multiplier)
        if isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, (int, float)):
            raise InvalidArgument(f"sample_rate={self.sample_rate!r} must be in (0, 1].")
        check_probability("sample_rate", self.sample_rate, open_low=True)
        _positive_finite("expected_batch", self.expected_batch)

    def to_json(self) -> dict[str, object]:
        return {"clip": self.clip, "noise_multiplier": self.noise_multiplier,
                "sample_rate": self.sample_rate, "expected_batch": self.expected_batch,
                "sampling": "Poisson (each example independently with probability q)"}


def dp_config(
    rank: int, steps: int, lr: float, *, clip: float, noise_multiplier: float,
    sample_rate: float, expected_batch: float,
) -> TrainConfig:
    """A :class:`TrainConfig` for the ``dp-lora`` trainer (settings validated here)."""
    return TrainConfig(rank=rank, steps=steps, lr=lr, extra={"dp": DpSettings(
        clip, noise_multiplier, sample_rate, expected_batch)})


def _settings(config: TrainConfig) -> DpSettings:
    s = config.extra.get("dp")
    if not isinstance(s, DpSettings):
        raise InvalidArgument("config.extra['dp'] must hold DpSettings (use dp_config).")
    return s


def effective_sample_rate(sample_rate: float) -> Fraction:
    """``P(U < q)`` for numpy's uniform ``U`` on ``{k 2^-53}``: ``ceil(q 2^53) / 2^53``."""
    q = check_probability("sample_rate", sample_rate, open_low=True)
    scaled = q * 2**53
    return Fraction(-((-scaled.numerator) // scaled.denominator), 2**53)


def clipped_factors(
    base: TinyMLP, data: Dataset, delta_W1: FloatArray | None, A: FloatArray, clip: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(u, v, norms)`` with clipped per-example gradients in ``B`` equal to ``u_i v_i^T``
    (``u_i = a_i min(1, C/||g_i||)``, ``v_i = A x_i``) and ``norms`` the unclipped
    ``||g_i||_F = ||a_i|| ||A x_i||``."""
    c = _positive_finite("clip", clip)
    a = per_example_factors(base, data, delta_W1)[0]
    v: FloatArray = data.X @ A.T
    norms: FloatArray = np.linalg.norm(a, axis=1) * np.linalg.norm(v, axis=1)
    with np.errstate(divide="ignore"):
        scale = np.where(norms > c, c / np.where(norms > 0, norms, 1.0), 1.0)
    u: FloatArray = a * scale[:, None]
    return u, v, norms


def train_dp_lora(
    base: TinyMLP, data: Dataset, config: TrainConfig, rng: np.random.Generator
) -> AdaptedModel:
    """DP-SGD on ``B`` (module docstring); randomness (``A``, lots, noise) from ``rng``."""
    s = _settings(config)
    h, m = base.W1.shape
    r = config.rank
    A = rng.standard_normal((r, m)) / np.sqrt(r)
    B = np.zeros((h, r))
    q = float(s.sample_rate)
    for _ in range(config.steps):
        lot = rng.random(len(data)) < q
        u, v, _ = clipped_factors(base, data, B @ A, A, s.clip)
        total = u[lot].T @ v[lot] + rng.standard_normal((h, r)) * (s.noise_multiplier * s.clip)
        B = B - config.lr * total / s.expected_batch
    return AdaptedModel(base, B @ A, "dp-lora", config, {"A": A, "B": B})


def dp_lora_epsilon(config: TrainConfig, delta: object, target: Target | None = None) -> Bound:
    """Certified eps(delta) of the ``dp-lora`` trainer under ``config`` (module docstring):
    ``composed_epsilon([(sigma, q_eff, T)], delta, neighbours="add-remove")``."""
    s = _settings(config)
    phase = Phase(Fraction(s.noise_multiplier), effective_sample_rate(s.sample_rate),
                  config.steps)
    return composed_epsilon([phase], delta, neighbours="add-remove", target=target)


register_trainer("dp-lora", train_dp_lora)
