"""Membership-inference attacks on small fine-tuned models (claims WPM-6, SMP-2).

* :mod:`~certify.attacks.data`: bundled data sets (scikit-learn's digits);
* :mod:`~certify.attacks.model`: a tiny numpy network;
* :mod:`~certify.attacks.training`: adapters by kind (``lora``: frozen random A, only B trained;
  ``full``), a registry for more (:func:`register_trainer`);
* :mod:`~certify.attacks.game`: the membership game and the generic runner producing
  independent member / non-member scores;
* :mod:`~certify.attacks.scorers`: the attacks;
* :mod:`~certify.attacks.lora_mia`: the WPM-6 experiment.

Scores go to :mod:`certify.audit` for AUC, TPR at fixed FPR and eps lower bounds.
"""

# the dp-lora and smp-lora trainers register themselves on import
from certify.attacks import dp_lora as dp_lora
from certify.attacks import smp as smp
from certify.attacks.data import Dataset, load_digits_split
from certify.attacks.game import GameScores, Trial, run_membership_game
from certify.attacks.lora_mia import LoraMiaConfig, LoraMiaResult, lora_membership_experiment
from certify.attacks.model import TinyMLP, pretrain_mlp
from certify.attacks.scorers import (
    SCORERS,
    calibrated_loss_score,
    gram_asymmetry_score,
    loss_score,
    refit_residual_score,
)
from certify.attacks.training import (
    TRAINERS,
    AdaptedModel,
    TrainConfig,
    Trainer,
    register_trainer,
    train,
)

__all__ = [
    "SCORERS",
    "TRAINERS",
    "AdaptedModel",
    "Dataset",
    "GameScores",
    "LoraMiaConfig",
    "LoraMiaResult",
    "TinyMLP",
    "TrainConfig",
    "Trainer",
    "Trial",
    "calibrated_loss_score",
    "gram_asymmetry_score",
    "load_digits_split",
    "lora_membership_experiment",
    "loss_score",
    "pretrain_mlp",
    "refit_residual_score",
    "register_trainer",
    "run_membership_game",
    "train",
]
