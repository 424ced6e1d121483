"""Every derivation that ``certify proofs`` runs, in a fixed order.

Each entry is a zero-argument function returning a ``ProofRecord`` (cached: a second call is free).
"""

from __future__ import annotations

from collections.abc import Callable

from proofs.attack_region import ATTACK_REGION_PROOFS
from proofs.expmech import EXPMECH_PROOFS
from proofs.gaussian import (
    proof_gaussian_composition,
    proof_gaussian_hockey_stick,
    proof_gaussian_privacy_loss,
    proof_gaussian_scaling,
)
from proofs.hypernet import HYPERNET_PROOFS
from proofs.lora_u import (
    proof_u_berry_esseen,
    proof_u_characteristic_function,
    proof_u_law,
    proof_u_limit_m_infinity,
    proof_u_limit_r_infinity,
    proof_u_moments,
)
from proofs.record import ProofRecord
from proofs.wishart import (
    proof_ldp3_moments,
    proof_wishart_covariance,
    proof_wishart_higher_moments,
    proof_wishart_mean,
)
from proofs.wishart_law import (
    proof_mv_density,
    proof_mv_representation,
    proof_pair_symmetry,
    proof_privacy_loss,
    proof_profile_reduction,
    proof_reduced_law,
    proof_support_mass,
    proof_theorem1,
)
from proofs.wishart_matrix import proof_matrix_mechanism_not_dp
from proofs.wishart_noisy import WISHART_NOISY_PROOFS

__all__ = ["ALL_PROOFS", "run_all"]

ALL_PROOFS: tuple[Callable[[], ProofRecord], ...] = (
    proof_wishart_mean,
    proof_wishart_covariance,
    proof_wishart_higher_moments,
    proof_ldp3_moments,
    proof_mv_representation,
    proof_mv_density,
    proof_privacy_loss,
    proof_reduced_law,
    proof_pair_symmetry,
    proof_profile_reduction,
    proof_support_mass,
    proof_theorem1,
    proof_u_moments,
    proof_u_characteristic_function,
    proof_u_law,
    proof_u_limit_m_infinity,
    proof_u_limit_r_infinity,
    proof_u_berry_esseen,
    proof_gaussian_privacy_loss,
    proof_gaussian_hockey_stick,
    proof_gaussian_composition,
    proof_gaussian_scaling,
    *EXPMECH_PROOFS,
    *HYPERNET_PROOFS,
    proof_matrix_mechanism_not_dp,
    *WISHART_NOISY_PROOFS,
    *ATTACK_REGION_PROOFS,
)


def run_all() -> list[ProofRecord]:
    """Run every derivation in ``ALL_PROOFS`` and return the records (in order)."""
    return [proof() for proof in ALL_PROOFS]
