"""Membership attacks: functions ``(released model, trial) -> score``, higher meaning "member".

* :func:`loss_score` (black box: the target only): ``-loss(target)``, the loss-threshold attack
  of Yeom, Giacomelli, Fredrikson and Jha (2018), "Privacy risk in machine learning", CSF.
* :func:`calibrated_loss_score` (knows the public base model): ``loss_base(target) -
  loss_released(target)``, difficulty calibration as in Watson, Guo, Cormode and Sablayrolles
  (2022), "On the importance of difficulty calibration in membership inference attacks", ICLR.
* :func:`gram_asymmetry_score` (the Theorem-2 attack; knows ``D_-``, the base model and that
  the adapter is frozen-A LoRA or full fine-tuning; **not** ``A``): one step releases
  ``Y = -lr G M`` with ``M = A^T A`` symmetric (``M = I`` for full fine-tuning) and ``G`` the
  first-layer gradient of the training set. With ``G_-`` the gradient of ``D_-`` at the base
  model (computable by the adversary), ``S = Y G_-^T`` is ``-lr G_- M G_-^T``, **symmetric**,
  when the target is out; when it is in, ``G = (|D_-| G_- + g_z) / (|D_-| + 1)`` and the
  antisymmetric part of ``S`` is proportional to ``g_z M G_-^T - G_- M g_z^T``, which is
  non-zero with probability one (``g_z = a_z x_z^T`` is rank one: the part is
  ``a_z u^T - u a_z^T`` with ``u = G_- M x_z``, zero only if ``u`` is parallel to ``a_z``).
  The score is ``||S - S^T||_F / ||S||_F``: rounding-level (~1e-16) for non-members, of order
  ``1/|D|`` for members. Exact for one step; for several steps ``G`` drifts and the statistic
  degrades (use :func:`refit_residual_score`). The same matrix structure is what makes the
  matrix Wishart mechanism non-private (WPM-5): the release multiplies every row by the same
  secret ``M``.
* :func:`refit_residual_score` (same knowledge, any number of steps, LoRA only): the released
  update ``B_T A`` has its rows in the row space of ``A``, an ``r``-dimensional subspace with
  orthonormal basis ``V`` read off the release; then ``A^T A = V K V^T`` with ``K`` (``r x r``,
  symmetric) the only unknown. The adversary replays the training on ``D_-`` (the non-member
  hypothesis) with ``V K V^T`` in place of ``A^T A`` and fits ``K`` by least squares; the
  relative residual is rounding-level when the target is out (the true ``K`` fits) and
  positive when it is in. Slow (a nonlinear least-squares fit per trial). The fit is
  non-convex when the effective step ``lr m / r`` is large (``A A^T`` has eigenvalues near
  ``m / r``): a single Levenberg-Marquardt run from a first-order start missed the true ``K``
  in about 1% of non-member trials at 5 steps, ``lr = 0.5`` (AUC 0.990), hence the several
  starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from certify.attacks.data import Dataset, FloatArray
from certify.attacks.game import Trial
from certify.attacks.model import TinyMLP
from certify.attacks.training import AdaptedModel
from certify.errors import InvalidArgument

__all__ = [
    "SCORERS",
    "calibrated_loss_score",
    "gram_asymmetry_score",
    "loss_score",
    "refit_residual_score",
]


class _LossModel(Protocol):
    @property
    def base(self) -> TinyMLP: ...

    def losses(self, X: FloatArray, y: object) -> FloatArray: ...


def loss_score(model: _LossModel, trial: Trial) -> float:
    """``-loss(target)`` under the released model (black box)."""
    return -float(model.losses(trial.target_x, trial.target_y)[0])


def calibrated_loss_score(model: _LossModel, trial: Trial) -> float:
    """``loss_base(target) - loss_released(target)``: how much fine-tuning helped the target."""
    before = float(model.base.losses(trial.target_x, trial.target_y)[0])
    return before - float(model.losses(trial.target_x, trial.target_y)[0])


def _check_adapted(model: object, kinds: tuple[str, ...]) -> AdaptedModel:
    if not isinstance(model, AdaptedModel) or model.kind not in kinds:
        raise InvalidArgument(f"model={model!r} must be an AdaptedModel of kind "
                              f"{' or '.join(kinds)}.")
    return model


def gram_asymmetry_score(model: AdaptedModel, trial: Trial) -> float:
    """``||S - S^T||_F / ||S||_F`` with ``S = delta_W1 G_-^T`` (module docstring)."""
    m = _check_adapted(model, ("lora", "full"))
    g_known = m.base.grad_W1(trial.known)
    s = m.delta_W1 @ g_known.T
    norm = float(np.linalg.norm(s))
    return 0.0 if norm == 0.0 else float(np.linalg.norm(s - s.T)) / norm


def _replay(base: TinyMLP, known: Dataset, v: FloatArray, k: FloatArray, steps: int, lr: float
            ) -> tuple[FloatArray, FloatArray]:
    """Training on ``known`` with ``V K V^T`` in place of ``A^T A``: the final update and
    ``sum_t G_t V`` (the gradients met on the way, projected)."""
    delta = np.zeros_like(base.W1)
    acc = np.zeros((base.W1.shape[0], v.shape[1]))
    for _ in range(steps):
        gv = base.grad_W1(known, delta) @ v
        acc += gv
        delta = delta - lr * (gv @ k) @ v.T
    return delta, acc


def refit_residual_score(model: AdaptedModel, trial: Trial) -> float:
    """Relative residual of the best non-member replay found (module docstring): the
    fixed-point iteration ``K <- argmin ||-lr (sum_t G_t(K) V) K - Y V||`` (exact after one
    step, where ``G_0`` does not depend on ``K``), then Levenberg-Marquardt from a few starts,
    stopping at the first fit to rounding level."""
    from scipy.optimize import least_squares

    m = _check_adapted(model, ("lora",))
    r, steps, lr = m.config.rank, m.config.steps, float(m.config.lr)
    y = m.delta_W1
    scale = float(np.linalg.norm(y))
    if scale == 0.0:
        return 0.0
    v = np.linalg.svd(y, full_matrices=False)[2][:r].T  # m x r, rows of y lie in its span
    yv = y @ v
    iu = np.triu_indices(r)

    def unpack(theta: FloatArray) -> FloatArray:
        k = np.zeros((r, r))
        k[iu] = theta
        return k + np.triu(k, 1).T

    def residual(theta: FloatArray) -> FloatArray:
        delta = _replay(m.base, trial.known, v, unpack(theta), steps, lr)[0]
        out: FloatArray = ((delta - y) @ v).ravel() / scale
        return out

    k = np.zeros((r, r))
    best = np.inf
    theta = k[iu]
    for _ in range(1 if steps == 1 else 50):  # fixed point; one pass is exact for one step
        acc = _replay(m.base, trial.known, v, k, steps, lr)[1]
        k = np.linalg.lstsq(-lr * acc, yv, rcond=None)[0]
        k = (k + k.T) / 2
        value = float(np.linalg.norm(residual(k[iu])))
        stalled = value > best / 2
        if value < best:
            best, theta = value, k[iu]
        if best < _FIT or stalled:
            break
    if steps == 1 or best < _FIT:
        return best
    # Levenberg-Marquardt from the fixed point and from multiples of E[A A^T] = (m/r) I (the
    # eigenvalues of K are those of A A^T): the replay is non-convex in K when lr m / r is large
    typical = np.eye(r) * (y.shape[1] / r)
    for start in (theta, typical[iu], 1.5 * typical[iu], 0.7 * typical[iu], 2 * typical[iu]):
        fit = least_squares(residual, start, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                            max_nfev=30 * (len(iu[0]) + 1))
        best = min(best, float(np.linalg.norm(fit.fun)))
        if best < _FIT:
            break
    return best


#: a relative residual below this is a fit to rounding level (the non-member hypothesis holds)
_FIT = 1e-12


#: the attacks by name (``certify.attacks.lora_mia`` and SMP-2 select from these)
SCORERS: dict[str, Callable[..., float]] = {
    "gram-asymmetry": gram_asymmetry_score,
    "refit-residual": refit_residual_score,
    "loss": loss_score,
    "calibrated-loss": calibrated_loss_score,
}
