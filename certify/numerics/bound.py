"""``Bound``: an outward-rounded enclosure ``[lower, upper]`` of a real number.

The endpoints are exact decimals (``decimal.Decimal``), obtained from an Arb ball by rounding
its lower endpoint *down* and its upper endpoint *up*, so the decimal strings themselves are a
valid enclosure: a certificate's JSON can be checked without trusting any binary format.

Comparisons answer ``True``, ``False`` or ``None`` (undecided); Python's ordering operators are
deliberately not defined, so that an undecided comparison can never silently read as ``False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_CEILING, Context, Decimal, localcontext
from fractions import Fraction
from typing import Any, Union

from flint import arb, ctx, fmpq

from certify.errors import Inconclusive, InvalidArgument

#: what ``contains`` and the comparisons accept: exact numbers, floats (their exact binary
#: value), decimal strings, mpmath ``mpf`` values and Arb balls.
Comparable = Union[int, float, Fraction, Decimal, str, arb, Any]

_LOG2_10 = math.log2(10)
_LOG10_2 = math.log10(2)


def digits_for_prec(prec: int) -> int:
    """Significant decimal digits kept for a ball computed at ``prec`` bits (a few guard digits)."""
    return max(17, math.ceil(prec / _LOG2_10) + 3)


def _as_int(value: object) -> int:
    """An fmpz from ``unique_fmpz`` as a Python int (None would mean a non-integer ball)."""
    if value is None:
        raise Inconclusive("an exact integer was expected from an exact endpoint")
    return int(value)  # type: ignore[call-overload]


def _digits_for_ball(x: arb, prec: int) -> int:
    """Digits that keep the decimal rounding well below the ball's own radius (about 1e-4 of it),
    capped by the working precision: no hundred-digit strings for a 1e-10-wide answer."""
    n = digits_for_prec(prec)
    if x.is_exact():
        return n
    acc = x.rel_accuracy_bits()
    if acc <= 0:
        return 17
    return min(n, max(17, math.ceil(acc / _LOG2_10) + 5))


def _directed_decimal(x: arb, up: bool, digits: int) -> Decimal:
    """Round the *exact* dyadic number ``x`` to ``digits`` significant decimals, down or up.

    Works for any exponent (1e-10000 and far below): the decimal exponent comes from a ball
    for log10|x|, and the scaled value is floored (or ceiled) from its enclosing ball, which
    contains the exact scaled value, so the direction of rounding is certain.
    """
    if x.is_zero():
        return Decimal(0)
    man_f, exp_f = x.man_exp()
    man, exp = int(man_f), int(exp_f)
    if 0 <= exp <= 4096 or (exp < 0 and -exp <= 20000):
        return directed_fraction(Fraction(man) * Fraction(2) ** exp, up, digits)
    # huge exponent: use a ball for the scaled value at a precision that resolves its digits
    mbits = man.bit_length()
    with ctx.workprec(mbits + int(digits * _LOG2_10) + 64 + int(math.log2(abs(exp) + 2)) * 2):
        ax = arb((man, exp))
        log10 = ax.abs_lower().log() / arb(10).log()
        k = _as_int(log10.lower().floor().unique_fmpz())
        if not _DECIMAL_EXPONENT_SPAN[0] < k < _DECIMAL_EXPONENT_SPAN[1]:
            raise Inconclusive(
                f"the enclosure's decimal exponent (about 10^{k}) is beyond what a Decimal "
                "endpoint can hold"
            )
        shift = digits - 1 - k
        scaled = ax * arb(10) ** shift
        edge = scaled.upper().ceil() if up else scaled.lower().floor()
        q = _as_int(edge.unique_fmpz())
    return Decimal(q).scaleb(-shift, _WIDE)


def directed_fraction(q: Fraction, up: bool, digits: int) -> Decimal:
    """Round the rational ``q`` to ``digits`` significant decimals, down (floor) or up (ceil)."""
    if q == 0:
        return Decimal(0)
    num, den = q.numerator, q.denominator
    k = _decimal_exponent_exact(abs(num), den)
    shift = digits - 1 - k
    if shift >= 0:
        scaled_num, scaled_den = num * 10**shift, den
    else:
        scaled_num, scaled_den = num, den * 10 ** (-shift)
    r = -((-scaled_num) // scaled_den) if up else scaled_num // scaled_den
    return Decimal(r).scaleb(-shift, _WIDE)


def _decimal_exponent_exact(num: int, den: int) -> int:
    """floor(log10(num/den)) for positive integers, exactly."""
    k = int((num.bit_length() - den.bit_length()) * 0.30102999566398120)  # +-1; no str(): huge ints
    # adjust so that 10**k <= num/den < 10**(k+1)
    while _ge_pow10(num, den, k + 1):
        k += 1
    while not _ge_pow10(num, den, k):
        k -= 1
    return k


def _ge_pow10(num: int, den: int, k: int) -> bool:
    return num >= den * 10**k if k >= 0 else num * 10 ** (-k) >= den


#: a decimal context with the widest exponent range, for exact scaling of endpoints
_WIDE = Context(prec=100_000, Emax=MAX_EMAX, Emin=MIN_EMIN)
#: decimal exponents a Decimal endpoint can carry (with room for the digits of the mantissa)
_DECIMAL_EXPONENT_SPAN = (MIN_EMIN + 200_000, MAX_EMAX - 200_000)


def to_fraction(x: Comparable) -> Fraction:
    """An exact rational for ``x`` (finite values only); decimal strings are read exactly."""
    if isinstance(x, bool):
        raise InvalidArgument(f"value={x!r} is not a number.")
    if isinstance(x, (int, Fraction)):
        return Fraction(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise InvalidArgument(f"value={x} must be finite.")
        return Fraction(x)
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise InvalidArgument(f"value={x} must be finite.")
        return Fraction(x)
    if isinstance(x, str):
        return to_fraction(Decimal(x))
    if isinstance(x, Decimal) and abs(x.adjusted()) > _EXACT_ORDERS:
        raise InvalidArgument(f"value={x} is too large or small for an exact rational.")
    if isinstance(x, arb):
        if not x.is_exact() or not x.is_finite():
            raise InvalidArgument(f"value={x} must be an exact, finite arb.")
        man, exp = x.man_exp()
        return Fraction(int(man)) * (Fraction(2) ** int(exp))
    if hasattr(x, "man_exp"):  # mpmath.mpf
        man, exp = x.man_exp  # mpmath drops the sign here: it is _mpf_[0]
        if man is None or (man == 0 and exp != 0):
            raise InvalidArgument(f"value={x} must be finite.")
        sign = -1 if getattr(x, "_mpf_", (0,))[0] else 1
        return sign * Fraction(int(man)) * (Fraction(2) ** int(exp))
    raise InvalidArgument(f"value={x!r} is not a number.")


@dataclass(frozen=True)
class Bound:
    """A certified enclosure ``lower <= true value <= upper``.

    ``prec`` is the working precision (bits) that produced it; 0 marks an exact input.
    ``upper`` may be ``Decimal('Infinity')`` only where the truth can be infinite (an eps
    that no finite value achieves); ``lower`` may be ``-Infinity`` symmetrically. NaN never.
    """

    lower: Decimal
    upper: Decimal
    prec: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.lower, Decimal) or not isinstance(self.upper, Decimal):
            raise TypeError("Bound endpoints must be Decimal")
        if self.lower.is_nan() or self.upper.is_nan():
            raise InvalidArgument("Bound endpoints must not be NaN.")
        if self.lower > self.upper:
            raise InvalidArgument(f"lower={self.lower} must not exceed upper={self.upper}.")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_arb(cls, x: arb, prec: int | None = None, digits: int | None = None) -> Bound:
        """Outward-round a finite Arb ball. A non-finite ball raises :class:`Inconclusive`."""
        if not isinstance(x, arb):
            raise TypeError("from_arb expects an arb")
        if x.is_nan() or not x.is_finite():
            raise Inconclusive(f"the enclosure is not finite ({x})")
        p = ctx.prec if prec is None else prec
        n = _digits_for_ball(x, p) if digits is None else digits
        # arb.lower()/upper() round outward at the ambient precision: give them enough bits
        with ctx.workprec(max(ctx.prec, p) + 64):
            lo, hi = x.lower(), x.upper()
        return cls(_directed_decimal(lo, False, n), _directed_decimal(hi, True, n), p)

    @classmethod
    def exact(cls, value: Comparable) -> Bound:
        """The degenerate enclosure of an exact number (non-terminating rationals are rounded
        outward to 60 significant digits)."""
        q = to_fraction(value)
        dec = _fraction_to_decimal(q)
        if dec is not None:
            return cls(dec, dec, 0)
        with ctx.workprec(256):
            return cls.from_arb(arb(q.numerator) / q.denominator, 256, 60)

    @classmethod
    def from_fractions(cls, lower: Fraction, upper: Fraction, prec: int = 0,
                       digits: int | None = None) -> Bound:
        """Outward-round an exact rational interval."""
        if digits is None:
            n = digits_for_prec(prec)
            if lower != upper and (lower > 0 or upper < 0):
                rel = (upper - lower) / min(abs(lower), abs(upper))
                n = min(n, max(17, _decimal_exponent_exact(rel.denominator, rel.numerator) + 5))
        else:
            n = digits
        return cls(directed_fraction(lower, False, n), directed_fraction(upper, True, n), prec)

    @classmethod
    def from_strings(cls, lower: str, upper: str, prec: int = 0) -> Bound:
        """Read back the JSON form ``{"lower": ..., "upper": ...}`` exactly."""
        return cls(Decimal(lower), Decimal(upper), prec)

    @classmethod
    def hull(cls, *bounds: Bound) -> Bound:
        """The smallest Bound containing all the given ones."""
        if not bounds:
            raise InvalidArgument("bounds=() must not be empty.")
        return cls(min(b.lower for b in bounds), max(b.upper for b in bounds),
                   max(b.prec for b in bounds))

    # -- conversion ---------------------------------------------------------------------
    def to_arb(self) -> arb:
        """An Arb ball containing ``[lower, upper]`` (at the current precision, outward)."""
        if not (self.lower.is_finite() and self.upper.is_finite()):
            raise InvalidArgument(f"Bound [{self.lower}, {self.upper}] is not finite.")
        lo, hi = arb(str(self.lower)), arb(str(self.upper))
        return lo.union(hi)

    def to_json(self) -> dict[str, str]:
        return {"lower": _dec_str(self.lower), "upper": _dec_str(self.upper)}

    @property
    def mid(self) -> float:
        """A float near the middle, for display and plotting only (never certified)."""
        if self.lower.is_infinite() or self.upper.is_infinite():
            return float(self.lower if self.upper.is_infinite() else self.upper)
        with localcontext(_WIDE):
            return float((self.lower + self.upper) / 2)

    # -- size ---------------------------------------------------------------------------
    @property
    def width(self) -> Decimal:
        """``upper - lower``, rounded up (so it is itself a valid upper bound on the width)."""
        with localcontext(_WIDE) as c:
            c.prec = 50
            c.rounding = ROUND_CEILING
            return self.upper - self.lower

    @property
    def rel_width(self) -> float:
        """``width / min(|lower|, |upper|)``: inf when the interval touches or contains 0."""
        if self.lower <= 0 <= self.upper:
            return 0.0 if self.lower == self.upper else math.inf
        small = min(self.lower.copy_abs(), self.upper.copy_abs())
        with localcontext(_WIDE) as c:
            c.prec = 50
            c.rounding = ROUND_CEILING
            ratio = self.width / small
        return float(ratio) if ratio.is_finite() else math.inf

    def meets(self, *, rel: float | None = None, absolute: float | None = None) -> bool:
        """True when the width satisfies either requested target (an omitted one never does)."""
        ok = False
        if absolute is not None:
            ok = ok or self.width <= Decimal(absolute)
        if rel is not None:
            ok = ok or self.rel_width <= rel
        return ok

    # -- comparisons (True / False / None) ------------------------------------------------
    def contains(self, x: Comparable) -> bool:
        """Whether the exact number ``x`` lies in ``[lower, upper]``; Arb balls must lie inside."""
        if isinstance(x, arb) and not x.is_exact():
            return self.contains(x.lower()) and self.contains(x.upper())
        if isinstance(x, Bound):
            return self.lower <= x.lower and x.upper <= self.upper
        return compare(self.lower, x) <= 0 <= compare(self.upper, x)

    def lt(self, x: Comparable | Bound) -> bool | None:
        """Is every point of self < x? (None when undecided)."""
        lo, hi = _as_interval(x)
        if compare(self.upper, lo) < 0:
            return True
        if compare(self.lower, hi) >= 0:
            return False
        return None

    def gt(self, x: Comparable | Bound) -> bool | None:
        lo, hi = _as_interval(x)
        if compare(self.lower, hi) > 0:
            return True
        if compare(self.upper, lo) <= 0:
            return False
        return None

    def le(self, x: Comparable | Bound) -> bool | None:
        lo, hi = _as_interval(x)
        if compare(self.upper, lo) <= 0:
            return True
        if compare(self.lower, hi) > 0:
            return False
        return None

    def ge(self, x: Comparable | Bound) -> bool | None:
        lo, hi = _as_interval(x)
        if compare(self.lower, hi) >= 0:
            return True
        if compare(self.upper, lo) < 0:
            return False
        return None

    def within(self, lo: Comparable, hi: Comparable) -> Bound:
        """Intersect with a range ``[lo, hi]`` that is *proven* to contain the truth (e.g. a
        probability lies in [0, 1]). Both sets contain the true value, so the intersection does
        too; an empty intersection means a bug and raises."""
        lo_d, hi_d = _exact_decimal(lo), _exact_decimal(hi)
        new_lo, new_hi = max(self.lower, lo_d), min(self.upper, hi_d)
        if new_lo > new_hi:
            raise InvalidArgument(f"Bound {self} is disjoint from the proven range [{lo}, {hi}].")
        return Bound(new_lo, new_hi, self.prec)

    def overlaps(self, other: Bound) -> bool:
        return not (self.upper < other.lower or other.upper < self.lower)

    def __lt__(self, other: object) -> bool:  # pragma: no cover - guard
        raise TypeError("Bound comparisons can be undecided: use .lt/.gt/.le/.ge")

    __gt__ = __le__ = __ge__ = __lt__

    def __str__(self) -> str:
        return f"[{_dec_str(self.lower)}, {_dec_str(self.upper)}]"


def _as_interval(x: Comparable | Bound) -> tuple[Comparable, Comparable]:
    if isinstance(x, Bound):
        return x.lower, x.upper
    if isinstance(x, arb) and not x.is_exact():
        return x.lower(), x.upper()
    return x, x


#: beyond this many decimal orders of magnitude, exact rational comparison would build
#: astronomically large integers (1e-217147240750 has a 7e11-bit denominator)
_EXACT_ORDERS = 20_000


def _orders(x: Comparable) -> int | None:
    """A rough decimal order of magnitude of a number (None for zero/infinite)."""
    if isinstance(x, Decimal):
        return None if (x.is_zero() or not x.is_finite()) else x.adjusted()
    if isinstance(x, arb):
        if x.is_zero() or not x.is_finite():
            return None
        man, exp = x.man_exp()
        return int((int(exp) + int(man).bit_length()) * _LOG10_2)
    if hasattr(x, "man_exp") and not isinstance(x, (int, float, Fraction)):
        man, exp = x.man_exp  # mpmath.mpf
        if not man:
            return None
        return int((int(exp) + int(man).bit_length()) * _LOG10_2)
    q = to_fraction(x)  # int, float, Fraction, str
    if q == 0:
        return None
    return int((abs(q.numerator).bit_length() - q.denominator.bit_length()) * _LOG10_2)


def _sign_of(x: Comparable) -> int:
    if isinstance(x, Decimal):
        return 0 if x.is_zero() else (1 if x > 0 else -1)
    q = x if isinstance(x, arb) else None
    if q is not None:
        return 0 if q.is_zero() else (1 if q > 0 else -1)
    if hasattr(x, "man_exp") and not isinstance(x, (int, float, Fraction)):
        man, _ = getattr(x, "man_exp")  # noqa: B009  (unsigned: the sign is _mpf_[0])
        return 0 if not man else (-1 if getattr(x, "_mpf_", (0,))[0] else 1)
    f = to_fraction(x)
    return 0 if f == 0 else (1 if f > 0 else -1)


def _ball_of(x: Comparable) -> arb:
    """A ball containing x at the ambient precision (exact for dyadic numbers)."""
    if isinstance(x, Decimal):
        return arb(_dec_str(x))
    if isinstance(x, arb):
        return x
    if hasattr(x, "man_exp") and not isinstance(x, (int, float, Fraction)):
        man, exp = x.man_exp  # unsigned: the sign is _mpf_[0]
        return arb((-int(man) if getattr(x, "_mpf_", (0,))[0] else int(man), int(exp)))
    q = to_fraction(x)
    return arb(fmpq(q.numerator, q.denominator))


def compare(x: Comparable, y: Comparable) -> int:
    """Exact three-way comparison of two finite (or infinite Decimal) numbers: -1, 0 or 1.

    Uses exact rationals when both are of moderate magnitude, and otherwise Arb balls at
    rising precision (two distinct numbers are always separated at some precision). Raises
    :class:`Inconclusive` in the practically impossible case that 2^16 bits do not separate them.
    """
    for a, b, s in ((x, y, 1), (y, x, -1)):
        if isinstance(a, Decimal) and a.is_infinite():
            if isinstance(b, Decimal) and b.is_infinite() and (a > 0) == (b > 0):
                return 0
            return s if a > 0 else -s
    sx, sy = _sign_of(x), _sign_of(y)
    if sx != sy:
        return 1 if sx > sy else -1
    if sx == 0:
        return 0
    ox, oy = _orders(x), _orders(y)
    assert ox is not None and oy is not None
    if abs(ox - oy) > 2:
        bigger = 1 if ox > oy else -1
        return bigger * sx
    if abs(ox) < _EXACT_ORDERS and abs(oy) < _EXACT_ORDERS:
        fx, fy = to_fraction(x), to_fraction(y)
        return (fx > fy) - (fx < fy)
    for prec in (128, 512, 2048, 8192, 65536):
        with ctx.workprec(prec):
            bx, by = _ball_of(x), _ball_of(y)
            if bx < by:
                return -1
            if bx > by:
                return 1
            if bx.is_exact() and by.is_exact() and bx == by:
                return 0
    raise Inconclusive(f"could not compare {x} and {y}")


def _exact_decimal(x: Comparable) -> Decimal:
    dec = _fraction_to_decimal(to_fraction(x))
    if dec is None:
        raise InvalidArgument(f"value={x} must be a terminating decimal here.")
    return dec


def _fraction_to_decimal(q: Fraction) -> Decimal | None:
    """The exact decimal of a terminating rational, else None."""
    den = q.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    k = max(twos, fives)
    return Decimal(q.numerator * 10**k // q.denominator).scaleb(-k, _WIDE)


def _dec_str(d: Decimal) -> str:
    """Canonical decimal text: plain notation for moderate exponents, scientific otherwise."""
    if not d.is_finite():
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "0"
    sign, digits, exp = d.normalize(_WIDE).as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    adjusted = exp + len(text) - 1
    neg = "-" if sign else ""
    if -7 <= adjusted <= 20:
        if exp >= 0:
            return neg + text + "0" * exp
        point = len(text) + exp
        if point > 0:
            return neg + text[:point] + "." + text[point:]
        return neg + "0." + "0" * (-point) + text
    mant = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{neg}{mant}e{adjusted}"


__all__ = ["Bound", "compare", "digits_for_prec", "directed_fraction", "to_fraction"]
