"""Validation and exact bookkeeping shared by the audit modules (private).

Scores are read as IEEE doubles and compared exactly as such. Rounding a decimal score to the
nearest double is monotone, so it can create ties but never reverse an order.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from certify._validate import check_probability
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound

FloatArray = NDArray[np.float64]


def check_scores(name: str, values: object) -> FloatArray:
    """A non-empty 1-D array of finite real scores, as float64 (booleans and complex refused)."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}={values!r} is not an array of scores.") from None
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{name}={values!r} must hold real numbers.") from None
    if arr.dtype.kind not in "iuf":
        raise InvalidArgument(f"{name}={values!r} must hold real numbers (dtype {arr.dtype}).")
    if arr.ndim != 1:
        raise InvalidArgument(f"{name} must be one-dimensional (got shape {arr.shape}).")
    if arr.size == 0:
        raise InvalidArgument(f"{name}=[] must hold at least one score.")
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise InvalidArgument(f"{name} must hold finite scores (found NaN or infinity).")
    return out


def check_pair(members: object, nonmembers: object) -> tuple[FloatArray, FloatArray]:
    return check_scores("members", members), check_scores("nonmembers", nonmembers)


def check_confidence(confidence: object) -> Fraction:
    return check_probability("confidence", confidence, open_low=True, open_high=True)


def exact_text(q: Fraction) -> str:
    """A terminating decimal when ``q`` has one, else ``p/q`` (exact either way)."""
    b = Bound.exact(q)
    return str(b.lower) if b.lower == b.upper else f"{q.numerator}/{q.denominator}"


def dec_text(d: Decimal) -> str:
    """A Decimal as plain text (no exponent for ordinary magnitudes)."""
    return Bound(d, d).to_json()["lower"]


def count_above(sorted_values: FloatArray, threshold: float) -> int:
    """``#{v > threshold}`` in an ascending array."""
    return int(sorted_values.size - np.searchsorted(sorted_values, threshold, side="right"))


def count_below(sorted_values: FloatArray, threshold: float) -> int:
    """``#{v < threshold}`` in an ascending array."""
    return int(np.searchsorted(sorted_values, threshold, side="left"))
