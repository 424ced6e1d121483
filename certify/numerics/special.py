"""Certified special functions on Arb balls (evaluated at the ambient ``ctx.prec``).

Each function takes and returns ``arb`` balls: the output contains the function's value at
every point of the input ball. Arb's own functions (erfc, incomplete gamma/beta) are rigorous
for any argument, so tails far beyond float range (Phi(x) ~ 1e-10000 and below) are enclosed,
not underflowed.
"""

from __future__ import annotations

from flint import arb

_SQRT2 = None  # computed per call at the ambient precision


def normal_cdf(x: arb) -> arb:
    """Phi(x) = erfc(-x / sqrt(2)) / 2 (DLMF 7.2.2, 7.18.2 with erfc for accuracy in the tail)."""
    return (-x / arb(2).sqrt()).erfc() / 2


def normal_sf(x: arb) -> arb:
    """1 - Phi(x) = Phi(-x), computed without cancellation."""
    return normal_cdf(-x)


def log_normal_cdf(x: arb) -> arb:
    """log Phi(x): the log of the erfc form for x <= 0; log1p(-Phi(-x)) for x > 0 (no cancellation)."""
    if x > 0:
        return (-normal_cdf(-x)).log1p()
    return normal_cdf(x).log()
