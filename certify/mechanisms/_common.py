"""Helpers shared by the mechanism modules: exact parameters as balls and as text, and the
default widths of privacy-profile answers."""

from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from fractions import Fraction

from certify.numerics.bound import Bound
from certify.numerics.precision import Target
from certify.numerics.roots import exact_ball as ball

#: default widths: delta to 1e-10 relative; eps to 1e-10 relative or 1e-15 absolute (eps near 0)
DELTA_TARGET = Target(rel=1e-10)
EPSILON_TARGET = Target(rel=1e-10, absolute=1e-15)

__all__ = ["DELTA_TARGET", "EPSILON_TARGET", "ball", "brief", "exact_text"]


def exact_text(x: Fraction) -> str:
    """Exact decimal text of a parameter (when it terminates), else ``p/q``."""
    b = Bound.exact(x)
    return str(b.lower) if b.lower == b.upper else f"{x.numerator}/{x.denominator}"


def brief(x: Fraction) -> str:
    """About 17 significant digits, for messages only (cheap even for 1e-18000)."""
    with localcontext() as c:
        c.prec = 17
        c.Emin, c.Emax = MIN_EMIN, MAX_EMAX
        return str(Decimal(x.numerator) / Decimal(x.denominator))
