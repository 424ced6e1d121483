"""certify.accounting: composition and accountants' building blocks.

``rdp``: certified Renyi DP of the Poisson-subsampled Gaussian and the RDP -> (eps, delta)
conversions (claims ACC-3, ACC-4). ``pld``: certified two-sided privacy-loss-distribution
composition of subsampled Gaussians, homogeneous or in phases (claim ACC-2).
"""

from certify.accounting.pld import (
    PLD_DELTA_TARGET,
    PLD_EPSILON_TARGET,
    Phase,
    composed_delta,
    composed_epsilon,
)
from certify.accounting.rdp import (
    CONVERSIONS,
    balle_epsilon,
    epsilon_from_rdp,
    mironov_epsilon,
    rdp,
    rdp_epsilon,
    renyi_divergence,
)

__all__ = [
    "CONVERSIONS",
    "PLD_DELTA_TARGET",
    "PLD_EPSILON_TARGET",
    "Phase",
    "balle_epsilon",
    "composed_delta",
    "composed_epsilon",
    "epsilon_from_rdp",
    "mironov_epsilon",
    "rdp",
    "rdp_epsilon",
    "renyi_divergence",
]
