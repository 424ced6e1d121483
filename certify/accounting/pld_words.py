"""Exact convolution of fixed-point measures packed as machine words, for the composition loop.

The grid measures of :mod:`certify.accounting.pld_grid` have non-negative integer masses in units
``2^-bits``. When ``bits <= 64`` and every mass is below ``2^64`` they fit in ``uint64`` words,
and a convolution can be done as *one* exact multiplication of two big integers (Kronecker
substitution: ``A(X) B(X)`` at ``X = 2^128``), provided no coefficient of the product reaches
``2^128``, so that the slots do not overlap. That is where the measures' structure enters: every
product coefficient is ``c_k = sum_i a_i b_(k-i) <= max_j b_j * sum_i a_i``, and the check
``sum(a) max(b) <= (2^64 - 1) 2^bits`` (exact integers, made before every product) gives
``c_k < 2^128`` and ``ceil(c_k / 2^bits) < 2^64``: the slots are exact and the rescaled masses
are words again. (A generic integer-polynomial product cannot assume this and packs
``2 bits + log2(n)`` bits per slot.) The big-integer product is GMP's, through FLINT's ``fmpz``;
packing and unpacking are byte copies (little-endian words), and the return to units ``2^-bits``
reads the two words of each slot: floor ``c >> bits``, ceiling ``floor + (c mod 2^bits != 0)``.

Every other step is the one of :mod:`certify.accounting.pld_grid` on the same integers -- the
directed rounding, the tail cuts (with exact prefix sums: 32-bit halves summed separately, so no
word overflows), the mass at +infinity, the partial last product -- so the results are *the same
integers* as the ``fmpz_poly`` path's (tested coefficient by coefficient); a product that fails
the check returns None and the caller uses that path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import fmpz

from certify.accounting.pld_cuts import cut_points

#: the largest unit exponent the packed form handles
MAX_BITS = 64
_WORD = 1 << 64
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


@dataclass(frozen=True)
class Words:
    """A grid measure inside the composition loop: the mass at node ``offset + i`` is ``w[i]``
    (``uint64``, units 2^-bits) and ``infinity`` the mass at +infinity (exact int)."""

    offset: int
    w: np.ndarray
    infinity: int

    @property
    def length(self) -> int:
        return int(self.w.size)


def exact_sum(w: np.ndarray) -> int:
    """The exact sum of ``uint64`` words (halves summed apart: ``n 2^32 < 2^64`` for any n
    numpy can hold)."""
    if w.size == 0:
        return 0
    low = int(np.sum(w & _LOW32, dtype=np.uint64))
    high = int(np.sum(w >> _SHIFT32, dtype=np.uint64))
    return low + (high << 32)


class _Prefix:
    """Exact prefix sums of a word array: ``at(k)`` is the sum of ``w[:k]``."""

    def __init__(self, w: np.ndarray) -> None:
        self._low = np.cumsum(w & _LOW32, dtype=np.uint64)
        self._high = np.cumsum(w >> _SHIFT32, dtype=np.uint64)
        self.n = int(w.size)
        self.total = self.at(self.n)

    def at(self, k: int) -> int:
        if k <= 0:
            return 0
        return int(self._low[k - 1]) + (int(self._high[k - 1]) << 32)


def _slots(w: np.ndarray) -> fmpz:
    """``sum_i w_i 2^(128 i)`` as an fmpz (each word in the low half of a 128-bit slot)."""
    packed = np.zeros((w.size, 2), dtype="<u8")
    packed[:, 0] = w
    return fmpz(int.from_bytes(packed.tobytes(), "little"))


def _unpack(value: fmpz, n: int) -> np.ndarray:
    """The n 128-bit slots of a product as an (n, 2) array of (low, high) words."""
    raw = int(value).to_bytes(16 * n, "little")
    return np.frombuffer(raw, dtype="<u8").reshape(n, 2)


def _rescale(slots: np.ndarray, bits: int, up: bool) -> np.ndarray:
    """``floor`` (or ``ceil`` when ``up``) of each slot over 2^bits, as words (the caller's check
    guarantees they fit)."""
    low, high = slots[:, 0], slots[:, 1]
    if bits == MAX_BITS:
        out = high.copy()
        rest = low != 0
    else:
        b = np.uint64(bits)
        out = (high << np.uint64(64 - bits)) | (low >> b)
        rest = (low & np.uint64((1 << bits) - 1)) != 0
    if up:
        out += rest.astype(np.uint64)
    return out


def _ceil_or_floor(value: int, bits: int, up: bool) -> int:
    return -((-value) >> bits) if up else value >> bits


def fits(a: np.ndarray, b: np.ndarray, bits: int) -> bool:
    """The slot check of the module docstring (exact integers)."""
    return _fits(a, b, bits, exact_sum(a), exact_sum(b))


def _fits(a: np.ndarray, b: np.ndarray, bits: int, sum_a: int, sum_b: int) -> bool:
    if a.size == 0 or b.size == 0:
        return True
    bound = (_WORD - 1) << bits
    return min(sum_a * int(b.max()), sum_b * int(a.max())) <= bound


def multiply(u: Words, v: Words, eta: int, bits: int, up: bool, cut: int = 0
             ) -> Words | None:
    """The convolution of :func:`certify.accounting.pld_grid.multiply` (rounded in the
    pipeline's direction, tails of mass ``eta`` cut), resolved from relative index ``cut`` up
    (``cut > 0``: the partial last product, lower mass lumped or dropped); None when the slot
    check fails."""
    a, b = u.w, v.w
    if not 1 <= bits <= MAX_BITS:
        return None
    sum_a = exact_sum(a)
    sum_b = sum_a if b is a else exact_sum(b)
    if not _fits(a, b, bits, sum_a, sum_b):
        return None
    na, nb = a.size, b.size
    inf2 = u.infinity * (sum_b + v.infinity) + sum_a * v.infinity
    infinity = _ceil_or_floor(inf2, bits, up)
    offset = u.offset + v.offset
    if na == 0 or nb == 0:
        return truncate(Words(offset, np.zeros(0, dtype=np.uint64), infinity), eta, up)
    if cut > 0:
        a0, b0 = max(0, cut - (nb - 1)), max(0, cut - (na - 1))
        ta, tb = a[a0:], b[b0:]
        pa = _slots(ta)
        square = a is b and a0 == b0
        slots = _unpack(pa * pa if square else pa * _slots(tb), ta.size + tb.size - 1)
        slots = slots[cut - a0 - b0:]
        words = _rescale(slots, bits, up)
        # the first slot, with the exact mass below it in an upper pipeline (module docstring
        # of pld_grid); handled as an int: with the lumped mass it may exceed one slot
        first = int(slots[0, 0]) + (int(slots[0, 1]) << 64)
        if up:
            high_sum = exact_sum(slots[:, 0]) + (exact_sum(slots[:, 1]) << 64)
            first += sum_a * sum_b - high_sum
        head = _ceil_or_floor(first, bits, up)
        if head >= _WORD:
            return None
        words = words.copy()
        words[0] = head
        return truncate(Words(offset + cut, words, infinity), eta, up)
    pa = _slots(a)
    product = pa * pa if a is b else pa * _slots(b)
    words = _rescale(_unpack(product, na + nb - 1), bits, up)
    return truncate(Words(offset, words, infinity), eta, up)


def truncate(x: Words, eta: int, up: bool) -> Words | None:
    """:func:`certify.accounting.pld_grid.truncate` on words: the largest ``a`` with
    ``prefix(a) <= eta`` and the smallest ``b`` with ``suffix(b) <= eta`` (exact sums), the low
    tail moved up to the first kept node and the high tail to +infinity (upper), or the low tail
    dropped and the high tail moved down to the last kept node (lower). None if a moved mass
    would not fit its word (far from any real measure; the caller then uses fmpz)."""
    w = _trim(x.w)
    n = int(w.size)
    if n == 0:
        return Words(x.offset, w, x.infinity)
    prefix = _Prefix(w)
    total = prefix.total
    a, b = cut_points(prefix.at, lambda k: total - prefix.at(k), n, eta)
    low, high = prefix.at(a), total - prefix.at(b)
    kept = w[a:b].copy()
    infinity = x.infinity
    if up:
        if low:
            if int(kept[0]) + low >= _WORD:
                return None
            kept[0] += np.uint64(low)
        infinity += high
    elif high:
        if int(kept[-1]) + high >= _WORD:
            return None
        kept[-1] += np.uint64(high)
    return Words(x.offset + a, _trim(kept), infinity)


def _trim(w: np.ndarray) -> np.ndarray:
    """Without trailing zero words (an ``fmpz_poly`` has no trailing zeros either)."""
    nz = np.flatnonzero(w)
    return w[: int(nz[-1]) + 1] if nz.size else w[:0]


__all__ = ["MAX_BITS", "Words", "exact_sum", "fits", "multiply", "truncate"]
