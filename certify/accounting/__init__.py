"""certify.accounting: composition and accountants' building blocks.

``rdp``: certified Renyi DP of the Poisson-subsampled Gaussian and the RDP -> (eps, delta)
conversions (claims ACC-3, ACC-4). ``pld``: certified two-sided privacy-loss-distribution
composition of subsampled Gaussians, homogeneous or in phases, add/remove (either direction or
both) or replace-one, any sensitivity (claim ACC-2). ``peers``: a peer accountant's reported
numbers checked against a certified enclosure.
"""

from certify.accounting.peers import Finding, peer_findings
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
    cks_epsilon,
    epsilon_from_rdp,
    kl_epsilon,
    mironov_epsilon,
    rdp,
    rdp_epsilon,
    renyi_divergence,
)

__all__ = [
    "CONVERSIONS",
    "Finding",
    "PLD_DELTA_TARGET",
    "PLD_EPSILON_TARGET",
    "Phase",
    "balle_epsilon",
    "cks_epsilon",
    "composed_delta",
    "composed_epsilon",
    "epsilon_from_rdp",
    "kl_epsilon",
    "mironov_epsilon",
    "peer_findings",
    "rdp",
    "rdp_epsilon",
    "renyi_divergence",
]
