"""Symbolic derivations (sympy only). Each public function returns a ``ProofRecord``.

``ALL_PROOFS`` lists the derivation functions that ``certify proofs`` runs.
"""

from proofs.record import ProofRecord, ProofStep
from proofs.registry import ALL_PROOFS, run_all

__all__ = ["ALL_PROOFS", "ProofRecord", "ProofStep", "run_all"]
