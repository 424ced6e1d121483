"""certify.accounting: composition and accountants' building blocks.

``rdp``: certified Renyi DP of the Poisson-subsampled Gaussian and the RDP -> (eps, delta)
conversions (claims ACC-3, ACC-4). The certified PLD composition (``pld``) comes later.
"""

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
    "balle_epsilon",
    "epsilon_from_rdp",
    "mironov_epsilon",
    "rdp",
    "rdp_epsilon",
    "renyi_divergence",
]
