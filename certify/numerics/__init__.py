"""Rigorous numerics on Arb balls: Bound, precision escalation, special functions,
certified integration and certified root bracketing."""

from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate
from certify.numerics.roots import certified_root

__all__ = ["Bound", "Target", "certified_root", "escalate"]
