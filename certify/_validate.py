"""Validators used at every public entry point (``check_*``, in the Hypothesis style).

Numbers typed by users are converted to *exact* rationals: a ``str``, ``Decimal`` or
``Fraction`` means exactly that number (``"0.1"`` is 1/10); a ``float`` means its exact binary
value; an ``int`` is itself. NaN, infinities, booleans and non-numbers are rejected with an
:class:`~certify.errors.InvalidArgument` that names the parameter and its value.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Union

from certify.errors import InvalidArgument

ExactInput = Union[int, float, str, Decimal, Fraction]

_RATIONAL = re.compile(r"^\s*([+-]?\d+)\s*/\s*(\d+)\s*$")


def _shown(value: object) -> str:
    return value if isinstance(value, str) else repr(value) if not isinstance(
        value, (int, float, Decimal, Fraction)
    ) or isinstance(value, bool) else str(value)


def to_exact(name: str, value: object) -> Fraction:
    """Return ``value`` as an exact ``Fraction``; reject anything that is not a finite number."""
    if isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be a number, not a boolean.")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{name}={value} must be a finite number.")
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidArgument(f"{name}={value} must be a finite number.")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        match = _RATIONAL.match(text)
        if match:
            if int(match.group(2)) == 0:
                raise InvalidArgument(f"{name}={value} has a zero denominator.")
            return Fraction(int(match.group(1)), int(match.group(2)))
        try:
            dec = Decimal(text)
        except InvalidOperation:
            raise InvalidArgument(f"{name}={value!r} is not a number.") from None
        if not dec.is_finite():
            raise InvalidArgument(f"{name}={value} must be a finite number.")
        return Fraction(dec)
    raise InvalidArgument(f"{name}={value!r} is not a number.")


def check_positive(name: str, value: object) -> Fraction:
    """``value`` > 0, exactly."""
    x = to_exact(name, value)
    if x <= 0:
        raise InvalidArgument(f"{name}={_shown(value)} must be positive.")
    return x


def check_nonnegative(name: str, value: object) -> Fraction:
    """``value`` >= 0, exactly."""
    x = to_exact(name, value)
    if x < 0:
        raise InvalidArgument(f"{name}={_shown(value)} must be non-negative.")
    return x


def check_probability(
    name: str, value: object, *, open_low: bool = False, open_high: bool = False
) -> Fraction:
    """``value`` in [0, 1], with either end excluded on request."""
    x = to_exact(name, value)
    low_bad = x <= 0 if open_low else x < 0
    high_bad = x >= 1 if open_high else x > 1
    if low_bad or high_bad:
        interval = ("(" if open_low else "[") + "0, 1" + (")" if open_high else "]")
        raise InvalidArgument(f"{name}={_shown(value)} must be in {interval}.")
    return x


def check_positive_int(name: str, value: object) -> int:
    """A positive integer (a string of digits is accepted; ``2.0`` and ``True`` are not)."""
    if isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be a positive integer.")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\+?\d+\s*", value):
        n = int(value)
    else:
        raise InvalidArgument(f"{name}={_shown(value)} must be a positive integer.")
    if n <= 0:
        raise InvalidArgument(f"{name}={_shown(value)} must be a positive integer.")
    return n


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgument(f"{name}={_shown(value)} must be one of: {', '.join(choices)}.")
    return value
