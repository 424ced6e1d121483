"""Symbolic derivations (sympy only). Each public function returns a ``ProofRecord``.

``ALL_PROOFS`` lists the derivation functions that ``certify proofs`` runs.
"""

from proofs.record import ProofRecord, ProofStep

__all__ = ["ProofRecord", "ProofStep"]
