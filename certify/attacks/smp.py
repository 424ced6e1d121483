"""SMP-LoRA (seed 004): LoRA trained against a proxy membership attacker with the ratio objective.

Seed 004 (Luo, Xu, Liu, Koh, Wang, Zhang, "Privacy-preserving low-rank adaptation against
membership inference attacks for latent diffusion models", arXiv 2402.11989, AAAI 2025) adapts
a model by minimising the *ratio* of the adaptation loss to the proxy attacker's term, with the
proxy attacker trained alternately (its Algorithm 1). Its reference implementation
(github.com/WilliamLUO0/StablePrivateLoRA, ``SMP-LoRA-Pokemon.py``) computes
``loss_lora / (param_beta + param_alpha * loss_adversarial + 1e-5)`` where
``loss_adversarial`` is the proxy attacker's cross-entropy on the *member* batch: the model
is pushed to make the attacker's loss on members large (the attacker fooled). Here, on the tiny
model of :mod:`certify.attacks.model` with frozen-A LoRA on the first layer (``W1 = W1_0 + B A``):

* **adaptation loss** ``L(B) = (1/n) sum_{i in D} l_i`` (mean cross-entropy on the private
  training set ``D``);
* **proxy attacker** ``h_w(l) = sigmoid(w l + c)``, the probability it assigns to "member" for
  an example of loss ``l`` (the paper's attack model reads per-pixel losses; on a classifier
  the loss itself is the classic membership signal, Yeom et al. 2018); its *member loss* is
  ``G(B, w) = (1/n) sum_{i in D} softplus(-(w l_i + c))`` (cross-entropy with label "member");
* **SMP objective** (the brief's "adaptation loss / (1 + attacker's gain)", with the gain read
  as the reference code's ``loss_adversarial``; ``beta = 1`` gives the brief's form)::

      J(B; w) = L(B) / (beta + alpha G(B, w));

* **alternation** (per iteration): ``attacker_steps`` gradient steps on the attacker's balanced
  cross-entropy ``(1/2)[(1/n) sum_D softplus(-z_i) + (1/m) sum_aux softplus(z_j)]``
  (``z = w l + c``; members ``D`` against a fixed public auxiliary set of non-members), then one
  gradient step of ``B`` on ``J``. The reference code steps the model first and the attacker
  second; stepping the attacker first makes the very first model step see a trained attacker
  (from ``w = c = 0`` the attacker term has zero gradient), a shift of one iteration.

**Gradient (our derivation; checked by finite differences in tests/test_smp_objectives.py).**
With ``D(B) = beta + alpha G`` and ``grad_W1 l_i = a_i x_i^T``
(:mod:`certify.attacks.per_example`), ``d softplus(-z)/dz = -sigmoid(-z)``, so

    grad_W1 J = sum_{i in D} c_i a_i x_i^T,
    c_i = (1/n) [1/D + alpha L w sigmoid(-z_i) / D^2],

and ``grad_B J = grad_W1 J A^T``. Like every full-batch method here, one step releases
``Delta W1 = -lr (grad_W1 J) A^T A``: the matrix structure that the replay attack of
:mod:`certify.experiments.smp_lora` exploits. No noise is added anywhere: SMP-LoRA carries no
formal DP guarantee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from certify._validate import check_positive_int
from certify.attacks.data import Dataset, FloatArray
from certify.attacks.model import TinyMLP
from certify.attacks.per_example import per_example_factors
from certify.attacks.training import AdaptedModel, TrainConfig, register_trainer
from certify.errors import InvalidArgument

__all__ = [
    "ProxyAttacker",
    "SmpSettings",
    "attacker_member_loss",
    "attacker_objective",
    "attacker_step",
    "smp_config",
    "smp_first_gradient",
    "smp_gradient_W1",
    "smp_objective",
    "train_smp_lora",
]


def _sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free
    return out


def _softplus(z: FloatArray) -> FloatArray:
    out: FloatArray = np.logaddexp(0.0, z)
    return out


def _finite(name: str, value: object, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{name}={value!r} must be a real number.")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0) or (not positive and v < 0):
        kind = "positive" if positive else "non-negative"
        raise InvalidArgument(f"{name}={value!r} must be a {kind} finite number.")
    return v


@dataclass(frozen=True)
class ProxyAttacker:
    """``h(l) = sigmoid(w l + c)``: probability of "member" for an example of loss ``l``."""

    w: float = 0.0
    c: float = 0.0

    def logits(self, losses: FloatArray) -> FloatArray:
        out: FloatArray = self.w * np.asarray(losses, dtype=np.float64) + self.c
        return out


def attacker_member_loss(attacker: ProxyAttacker, member_losses: FloatArray) -> float:
    """``G = (1/n) sum softplus(-(w l_i + c))``: the attacker's cross-entropy on members."""
    return float(np.mean(_softplus(-attacker.logits(member_losses))))


def attacker_objective(
    attacker: ProxyAttacker, member_losses: FloatArray, aux_losses: FloatArray
) -> float:
    """The attacker's balanced cross-entropy (what its steps minimise)."""
    z_in, z_out = attacker.logits(member_losses), attacker.logits(aux_losses)
    return 0.5 * float(np.mean(_softplus(-z_in)) + np.mean(_softplus(z_out)))


def attacker_step(
    attacker: ProxyAttacker, member_losses: FloatArray, aux_losses: FloatArray, lr: float
) -> ProxyAttacker:
    """One gradient step on :func:`attacker_objective` (``d softplus(+-z)/dz = +-sigmoid(+-z)``)."""
    li, lo = np.asarray(member_losses), np.asarray(aux_losses)
    s_in = -_sigmoid(-attacker.logits(li))  # d softplus(-z)/dz
    s_out = _sigmoid(attacker.logits(lo))  # d softplus(z)/dz
    gw = 0.5 * (float(np.mean(s_in * li)) + float(np.mean(s_out * lo)))
    gc = 0.5 * (float(np.mean(s_in)) + float(np.mean(s_out)))
    return ProxyAttacker(attacker.w - lr * gw, attacker.c - lr * gc)


def smp_objective(
    base: TinyMLP, data: Dataset, delta_W1: FloatArray | None, attacker: ProxyAttacker,
    alpha: float, beta: float,
) -> tuple[float, float, float]:
    """``(J, L, G)``: the ratio objective, the adaptation loss and the attacker's member loss."""
    losses = per_example_factors(base, data, delta_W1)[1]
    adapt = float(np.mean(losses))
    gain = attacker_member_loss(attacker, losses)
    return adapt / (beta + alpha * gain), adapt, gain


def smp_gradient_W1(
    base: TinyMLP, data: Dataset, delta_W1: FloatArray | None, attacker: ProxyAttacker,
    alpha: float, beta: float,
) -> FloatArray:
    """``grad_W1 J = sum_i c_i a_i x_i^T`` (module docstring)."""
    a, losses = per_example_factors(base, data, delta_W1)
    return _gradient(a, losses, data.X, attacker, alpha, beta)


def _gradient(a: FloatArray, losses: FloatArray, X: FloatArray, attacker: ProxyAttacker,
              alpha: float, beta: float) -> FloatArray:
    adapt = float(np.mean(losses))
    denom = beta + alpha * attacker_member_loss(attacker, losses)
    coef = (1.0 / denom + alpha * adapt * attacker.w * _sigmoid(-attacker.logits(losses))
            / denom**2) / losses.size
    out: FloatArray = (a * coef[:, None]).T @ X
    return out


@dataclass(frozen=True, eq=False)
class SmpSettings:
    """SMP-LoRA's own hyper-parameters (public). ``aux``: the attacker's non-member examples."""

    alpha: float
    beta: float
    attacker_steps: int
    attacker_lr: float
    aux: Dataset

    def __post_init__(self) -> None:
        _finite("alpha", self.alpha)
        _finite("beta", self.beta, positive=True)
        check_positive_int("attacker_steps", self.attacker_steps)
        _finite("attacker_lr", self.attacker_lr, positive=True)
        if not isinstance(self.aux, Dataset) or len(self.aux) == 0:
            raise InvalidArgument(f"aux={self.aux!r} must be a non-empty Dataset.")

    def aux_losses(self, base: TinyMLP, delta_W1: FloatArray | None) -> FloatArray:
        """Per-example losses of the auxiliary non-members under ``W1 + delta_W1``."""
        return base.losses(self.aux.X, self.aux.y, delta_W1)

    def to_json(self) -> dict[str, object]:
        return {"alpha": self.alpha, "beta": self.beta, "attacker_steps": self.attacker_steps,
                "attacker_lr": self.attacker_lr, "aux_size": len(self.aux)}


def smp_config(
    rank: int, steps: int, lr: float, *, alpha: float, beta: float = 1.0,
    attacker_steps: int = 5, attacker_lr: float = 5.0, aux: Dataset,
) -> TrainConfig:
    """A :class:`TrainConfig` for the ``smp-lora`` trainer (settings validated here)."""
    return TrainConfig(rank=rank, steps=steps, lr=lr, extra={"smp": SmpSettings(
        alpha, beta, attacker_steps, attacker_lr, aux)})


def _settings(config: TrainConfig) -> SmpSettings:
    s = config.extra.get("smp")
    if not isinstance(s, SmpSettings):
        raise InvalidArgument("config.extra['smp'] must hold SmpSettings (use smp_config).")
    return s


def _iteration(
    base: TinyMLP, data: Dataset, delta_W1: FloatArray | None, attacker: ProxyAttacker,
    s: SmpSettings,
) -> tuple[ProxyAttacker, FloatArray]:
    """One alternation: the attacker's steps, then ``grad_W1 J`` at the updated attacker."""
    a, member = per_example_factors(base, data, delta_W1)
    aux = s.aux_losses(base, delta_W1)
    for _ in range(s.attacker_steps):
        attacker = attacker_step(attacker, member, aux, s.attacker_lr)
    return attacker, _gradient(a, member, data.X, attacker, s.alpha, s.beta)


def smp_first_gradient(base: TinyMLP, data: Dataset, config: TrainConfig) -> FloatArray:
    """``grad_W1 J`` of the first iteration (attacker trained from zero at the base model, then
    the model's gradient at ``B = 0``): deterministic given ``data`` and the public settings."""
    return _iteration(base, data, None, ProxyAttacker(), _settings(config))[1]


def train_smp_lora(
    base: TinyMLP, data: Dataset, config: TrainConfig, rng: np.random.Generator
) -> AdaptedModel:
    """SMP-LoRA by full-batch alternating gradient steps (module docstring). ``A`` is drawn
    from ``rng`` (iid ``N(0, 1/r)``, frozen, secret), ``B = 0``, attacker ``w = c = 0``."""
    s = _settings(config)
    h, m = base.W1.shape
    r = config.rank
    A = rng.standard_normal((r, m)) / np.sqrt(r)
    B = np.zeros((h, r))
    attacker = ProxyAttacker()
    for t in range(config.steps):
        attacker, grad = _iteration(base, data, None if t == 0 else B @ A, attacker, s)
        B = B - config.lr * (grad @ A.T)
    return AdaptedModel(base, B @ A, "smp-lora", config,
                        {"A": A, "B": B, "attacker": np.array([attacker.w, attacker.c])})


register_trainer("smp-lora", train_smp_lora)
