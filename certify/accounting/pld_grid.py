"""Fixed-point privacy-loss distributions on a grid, composed with exact integer arithmetic.

A :class:`GridPLD` is a measure on a privacy-loss grid plus an atom at ``+infinity``: the
coefficient of ``x^i`` of ``poly`` is the mass at loss ``shift + (offset + i) h``, in units of
``2^-bits``; ``infinity`` is the mass at ``+infinity`` in the same unit. Every mass is a
non-negative integer, so the convolution of two such measures is the exact product of two integer
polynomials (FLINT's ``fmpz_poly`` multiplication is exact). The only rounding is the return to
``2^-bits`` units after each product, and it is *directed*: up (ceiling) in a pipeline that bounds
delta from above, down (floor) in one that bounds it from below.

Why directed rounding of masses is sound. For a measure ``w`` on the grid and ``+infinity``,
``D_w(eps) = w({+inf}) + sum_j w_j (1 - e^{eps - l_j})_+`` is non-decreasing in every mass,
and the masses of a convolution are polynomials with non-negative coefficients in the masses of
the factors (the mass at +infinity of ``u * v`` is ``u_inf v(all) + u(finite) v_inf``). So a
pipeline whose every mass is rounded up (down) computes a value >= (<=) the one exact arithmetic
would give on the same discretisation. The T-fold composition's delta is ``D`` of the T-fold
convolution of the one-step privacy-loss distribution (Dwork-Rothblum 2016, "Concentrated
differential privacy"; Koskela, Jalko, Honkela 2020, "Computing tight differential privacy
guarantees using FFT": the privacy loss of a product pair is the sum of independent losses).

Truncation after each product keeps the support short. The dropped mass is never lost silently:
in an upper pipeline the mass above the window goes to ``+infinity`` (where ``D`` counts it in
full) and the mass below it moves *up* to the lowest kept node (its loss is increased, and
``(1 - e^{eps - l})_+`` is non-decreasing in ``l``); in a lower pipeline the mass below the
window is dropped (equivalently moved to loss ``-infinity``, where it contributes 0) and the mass
above it moves *down* to the highest kept node. Both are monotone couplings (each loss moved in
the bound's direction, as in the rounding of losses of Meiser and Mohammadi 2018, "Tight on
budget? Tight bounds for r-fold approximate differential privacy"), so every stage keeps the
bound's direction, and convolution preserves it (the order argument of
:mod:`certify.accounting.pld_step`).

*The last product of a composition* is only ever read through ``D(eps)`` at the losses
``eps >= low`` of the query (:func:`multiply` with ``low``): there its coefficients at losses
``<= low`` are not needed one by one. The product is then computed from the node ``k`` at or
just below ``low`` upwards only (the coefficients ``c_j = sum_{i+l=j} a_i b_l``, ``j >= k``,
involve only ``a_i`` with ``i >= k - deg b`` and ``b_l`` with ``l >= k - deg a``: the product of
the two shifted tails, whose low part is discarded), and the exact mass below node k --
``u(all) v(all)`` less the computed part -- goes to node k in an upper pipeline (a move *up*) or
is dropped in a lower one: the same monotone couplings as truncation, so the result bounds
delta(eps) in its direction for *every* eps, and equals the full product's ``D(eps)`` for
``eps >= l_k`` (``(1 - e^{eps - l})_+ = 0`` for the lumped ``l_k <= eps``). Only work -- one
product over the kept tail instead of the whole support -- depends on ``low``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
from flint import arb, ctx, fmpz, fmpz_poly

from certify.accounting import pld_rare, pld_words
from certify.accounting.pld_cuts import cut_points
from certify.accounting.pld_words import Words
from certify.errors import InvalidArgument

#: a factor of a partial product, for the merging rule: (offset, float masses in units of 1)
Factor = tuple[int, np.ndarray]


@dataclass(frozen=True)
class GridPLD:
    """A non-negative measure on the losses ``shift + (offset + i) h`` and ``+infinity``, in units
    of ``2^-bits`` (``h`` and ``shift`` exact).

    ``upper`` says which pipeline it belongs to: True rounds every mass up (it bounds delta from
    above), False rounds down (from below).
    """

    offset: int
    poly: fmpz_poly
    infinity: fmpz
    bits: int
    upper: bool
    h: Fraction
    shift: Fraction = Fraction(0)
    #: set by :func:`multiply` with ``low``: coefficient 0 holds the lumped (upper) or the
    #: cut-off (lower) mass below it, and the measure below its first node is not resolved;
    #: ``factors`` are the two measures it is the (partial) product of (as floats: they only
    #: steer the merging rule), ``span`` the number of nodes the product spans without that cut
    factors: tuple[Factor, Factor] | None = field(default=None, compare=False)
    span: int = 0
    #: the coefficients, exactly, as ``uint64`` words when they were at hand (the composition
    #: loop's products, :func:`measure`): read by :func:`to_words` and :func:`power` instead of
    #: converting the polynomial, and by float steering (:meth:`float_masses`, the inversions'
    #: first guesses)
    words: np.ndarray | None = field(default=None, compare=False, repr=False)
    #: :func:`_tail_sums` already computed, by (index, precision): an inversion asks for the
    #: same and neighbouring indices several times
    sums: dict[tuple[int, int], tuple[fmpz, arb]] = field(default_factory=dict, compare=False,
                                                          repr=False, init=False)

    @property
    def lumped(self) -> bool:
        return self.factors is not None

    def loss(self, i: int) -> Fraction:
        """The exact loss of coefficient ``i``."""
        return self.shift + (self.offset + i) * self.h

    @property
    def length(self) -> int:
        return int(self.poly.length())

    @property
    def nodes(self) -> int:
        """The number of grid nodes the measure spans (including a cut-off low part)."""
        return max(self.length, self.span)

    def total_finite(self) -> fmpz:
        """The exact finite mass (units of 2^-bits): the polynomial at 1."""
        return fmpz(self.poly(1))

    @property
    def exact_words(self) -> np.ndarray | None:
        """:attr:`words` where they cover the polynomial's whole length (its coefficients,
        exactly, then), else None: what the exact computations may read instead of it."""
        words = self.words
        return words if words is not None and words.size == self.length else None

    def float_masses(self) -> np.ndarray:
        """The masses as floats in units of 1 (only for steering grids)."""
        if self.words is not None:
            return self.words.astype(float) * 2.0 ** (-self.bits)
        return np.array([float(c) for c in self.poly.coeffs()]) * 2.0 ** (-self.bits)


def to_fixed(value: arb, bits: int, up: bool) -> int:
    """``ceil(upper(value) 2^bits)`` (``up``) or ``max(0, floor(lower(value) 2^bits))``: a
    non-negative integer that bounds the true value (contained in the ball) from the side asked."""
    if not value.is_finite():
        raise InvalidArgument(f"value={value} is not a finite enclosure of a mass.")
    end = value.upper() if up else value.lower()
    man, exp = end.man_exp()
    m, e = int(man), int(exp) + bits
    scaled = m << e if e >= 0 else (-((-m) >> -e) if up else m >> -e)
    return max(scaled, 0)


def _rescale(poly: fmpz_poly, bits: int, up: bool) -> fmpz_poly:
    """From units 2^-2bits back to 2^-bits, rounding every coefficient in the pipeline's direction.
    Only non-negative coefficients are divided (``fmpz_poly // c`` of python-flint 0.9 rounds a
    negative coefficient of absolute value below c to 0, not to -1, so a ceiling must not be
    taken as ``-((-p) // c)``): the ceiling is ``(c_i + unit - 1) // unit``."""
    unit = fmpz(2) ** bits
    if up and poly.length():
        poly = poly + fmpz_poly([unit - 1] * int(poly.length()))
    return poly // unit


def _rescale_int(value: fmpz, bits: int, up: bool) -> fmpz:
    unit = fmpz(2) ** bits
    return -((-value) // unit) if up else value // unit


def _prefix_mass(poly: fmpz_poly, n: int) -> fmpz:
    """Sum of the coefficients of x^0 .. x^(n-1), exactly."""
    return fmpz(poly.truncate(n)(1)) if n > 0 else fmpz(0)


def _suffix_mass(poly: fmpz_poly, k: int, n: int) -> fmpz:
    """Sum of the coefficients of x^k .. x^(n-1), exactly (O(n - k) work)."""
    if k >= n:
        return fmpz(0)
    return fmpz(poly.right_shift(k)(1)) if k > 0 else fmpz(poly(1))


def truncate(pld: GridPLD, eta: int) -> GridPLD:
    """Cut both tails of mass at most ``eta`` (units 2^-bits) each, in the pipeline's direction
    (module docstring): upper -- low tail up to the lowest kept node, high tail to +infinity;
    lower -- low tail dropped, high tail down to the highest kept node."""
    poly, n = pld.poly, pld.length
    if n == 0:
        return pld
    bound = fmpz(eta)
    # keep [a, b): prefix sums by truncation, suffix sums by shifting (O(cut) each probe)
    a, b = cut_points(lambda k: _prefix_mass(poly, k), lambda k: _suffix_mass(poly, k, n), n,
                      bound)
    low = _prefix_mass(poly, a)
    high = _suffix_mass(poly, b, n)
    kept = poly.truncate(b).right_shift(a) if a > 0 else poly.truncate(b)
    infinity = pld.infinity
    if pld.upper:
        if low:
            kept = kept + fmpz_poly([low])
        infinity = infinity + high
    elif high:
        kept = kept + fmpz_poly([high]).left_shift(b - a - 1)
    return GridPLD(pld.offset + a, kept, infinity, pld.bits, pld.upper, pld.h, pld.shift,
                   pld.factors, max(pld.span - a, 0))


def multiply(u: GridPLD, v: GridPLD, eta: int, low: Fraction | None = None) -> GridPLD:
    """The convolution ``u * v`` (the composition of the two losses), rounded in the pipeline's
    direction and truncated to tails of mass ``eta`` (units 2^-bits). With ``low``: only the
    part at losses above the node at or below ``low`` is resolved, the rest lumped there (upper)
    or dropped (lower) -- for a last product read at eps >= low (module docstring)."""
    if u.bits != v.bits or u.upper != v.upper or u.h != v.h:
        raise InvalidArgument("u and v must share bits, rounding direction and spacing.")
    bits, up = u.bits, u.upper
    offset, shift = u.offset + v.offset, u.shift + v.shift
    cut = _cut_index(low, shift, offset, u.h, u.length, v.length)
    product = _high_product(u, v, cut) if cut > 0 else u.poly * v.poly
    poly = _rescale(product, bits, up)
    # +infinity absorbs: mass pairs with either loss infinite
    inf2 = u.infinity * (v.total_finite() + v.infinity) + u.total_finite() * v.infinity
    infinity = _rescale_int(fmpz(inf2), bits, up)
    out = GridPLD(offset + cut, poly, infinity, bits, up, u.h, shift)
    out = truncate(out, eta)
    if cut > 0:
        factors = ((u.offset, u.float_masses()), (v.offset, v.float_masses()))
        out = GridPLD(out.offset, out.poly, out.infinity, bits, up, u.h, shift, factors,
                      out.offset - offset + out.length)
    return out


def _cut_index(low: Fraction | None, shift: Fraction, offset: int, h: Fraction, na: int,
               nb: int) -> int:
    """The index, relative to a product's first coefficient, of the node at or below ``low``
    (0: resolve everything)."""
    if low is None or not na or not nb:
        return 0
    return min(max(int((low - shift) // h) - offset, 0), na + nb - 2)


def _high_product(u: GridPLD, v: GridPLD, cut: int) -> fmpz_poly:
    """The coefficients ``c_j``, ``j >= cut``, of ``u.poly * v.poly`` (as ``x^(j - cut)``), the
    exact mass of ``c_0 .. c_(cut-1)`` added to the first in an upper pipeline, dropped in a
    lower one (module docstring). Exact integers (units 2^-2bits)."""
    na, nb = u.length, v.length
    a0, b0 = max(0, cut - (nb - 1)), max(0, cut - (na - 1))
    tails = u.poly.right_shift(a0) * v.poly.right_shift(b0) if a0 or b0 else u.poly * v.poly
    high = tails.right_shift(cut - a0 - b0) if cut > a0 + b0 else tails
    if u.upper:
        below = u.total_finite() * v.total_finite() - fmpz(high(1))
        if below:
            high = high + fmpz_poly([below])
    return high


def power(step: GridPLD, count: int, cut: int, low: Fraction | None = None,
          packed: bool = True, rare: int = 0) -> GridPLD:
    """The ``count``-fold convolution by repeated squaring. A product that makes an m-fold
    composition is truncated to tails of mass ``m * cut`` (units 2^-bits): mass cut there is
    carried, roughly m-fold diluted, into the count-fold result, so every product contributes
    about ``count * cut`` to the final tails. ``low``: the result is read at losses >= low only
    (:func:`multiply`; applied to the last product). ``packed``: multiply in machine words where
    they are exact (:mod:`certify.accounting.pld_words`: the same integers as the ``fmpz_poly``
    products, faster); False uses :func:`multiply` throughout. ``rare``: the mass (units
    2^-bits) that tail events in two or more steps may cost -- with it the squarings run on the
    step's core and one last product brings in its tail (:mod:`certify.accounting.pld_rare`);
    0 composes the step as it is."""
    if count < 1:
        raise InvalidArgument(f"count={count} must be a positive integer.")
    words = step.exact_words
    masses = words.tolist() if words is not None else [int(c) for c in step.poly.coeffs()]
    k = pld_rare.split_node(masses, int(step.infinity), count, rare, step.bits) if rare > 0 \
        else None
    if k is not None and not pld_rare.pays(len(masses), k, count, _sd_nodes(masses)):
        k = None
    if k is None:
        return _as_grid(_power(_term(step, masses, packed), count, cut, low, step), step)
    core = GridPLD(step.offset, fmpz_poly(masses[:k]), fmpz(0), step.bits, step.upper, step.h,
                   step.shift)
    spread_masses = masses[:k] + [count * m for m in masses[k:]]
    spread = GridPLD(step.offset, fmpz_poly(spread_masses), count * step.infinity, step.bits,
                     step.upper, step.h, step.shift)
    # read at losses >= low, the head is needed only where its losses plus the spread's
    # highest one reach low: its last product too can lump the rest (:func:`multiply`)
    reach = None if low is None else low - spread.loss(spread.length - 1)
    head = _power(_term(core, masses[:k], packed), count - 1, cut, reach, step, marked=False)
    out = _as_grid(_product(head, _term(spread, spread_masses, packed), cut * count, low, step),
                   step)
    if not step.upper:
        return out  # R dropped
    tail = sum(masses[k:]) + int(step.infinity)
    bound = pld_rare.remainder_bound(sum(masses[:k]), tail, count, step.bits)
    return replace(out, infinity=out.infinity + to_fixed(bound, step.bits, True))


def node_moments(masses: np.ndarray) -> tuple[float, float] | None:
    """The mean and variance, in nodes from the first, of float masses; None when their total
    is not positive (floats: only work depends on them)."""
    total = float(masses.sum())
    if not total > 0:
        return None
    i = np.arange(masses.size, dtype=np.float64)
    mean = float(masses @ i) / total
    return mean, float(masses @ (i - mean) ** 2) / total


def _sd_nodes(masses: list[int]) -> float:
    """The standard deviation, in nodes, of the finite masses (:func:`node_moments`)."""
    moments = node_moments(np.array(masses, dtype=float))
    return 0.0 if moments is None else math.sqrt(max(moments[1], 0.0))


def _power(start: _Term, count: int, cut: int, low: Fraction | None, like: GridPLD,
           marked: bool = True) -> _Term:
    """The loop of :func:`power` on a loop operand (``marked``: see :func:`_product`): binary
    powering from the leading bit down -- square, then multiply by the step where the bit is
    set -- so every product other than a squaring has the (short) step as a factor, instead of
    the long partial results that powering from the lowest bit multiplies together. The same
    number of products (bit length - 1 squarings, one product per further set bit)."""
    result, m = start, 1
    digits = bin(count)[3:]  # the bits below the leading one
    for i, bit in enumerate(digits):
        final = i == len(digits) - 1
        m *= 2
        result = _product(result, result, cut * m, low if final and bit == "0" else None, like,
                          marked)
        if bit == "1":
            m += 1
            result = _product(result, start, cut * m, low if final else None, like, marked)
    return result


#: an operand of the composition loop: a grid measure, or its packed words, with its shift
_Term = tuple["GridPLD | Words", Fraction]


def _product(x: _Term, y: _Term, eta: int, low: Fraction | None, like: GridPLD,
             marked: bool = True) -> _Term:
    """:func:`multiply` of two loop operands, in words when both are and the product fits
    (:mod:`certify.accounting.pld_words`), else with ``fmpz_poly``. ``marked``: a partial
    product (``low``) becomes a grid measure that records its factors for the merging rule
    (:class:`GridPLD`); unmarked, it stays in words (an operand of a further product)."""
    (a, sa), (b, sb) = x, y
    shift = sa + sb
    if isinstance(a, Words) and isinstance(b, Words):
        offset = a.offset + b.offset
        cut = _cut_index(low, shift, offset, like.h, a.length, b.length)
        out = pld_words.multiply(a, b, eta, like.bits, like.upper, cut)
        if out is not None:
            if cut <= 0 or not marked:
                return out, shift
            scale = 2.0 ** (-like.bits)
            factors = ((a.offset, a.w.astype(float) * scale),
                       (b.offset, b.w.astype(float) * scale))
            return from_words(out, like, shift, factors, out.offset - offset + out.length), shift
    return multiply(_as_grid(x, like), _as_grid(y, like), eta, low), shift


def _term(pld: GridPLD, masses: list[int], packed: bool) -> _Term:
    """A loop operand: the packed form of a grid measure (``masses``: its coefficients) when
    ``packed`` and it fits words (:func:`to_words`), else the measure itself."""
    words = to_words(pld, masses) if packed else None
    return (pld if words is None else words), pld.shift


def measure(offset: int, masses: list[int], infinity: int, bits: int, upper: bool, h: Fraction,
            shift: Fraction = Fraction(0)) -> GridPLD:
    """The grid measure with these integer masses (a discretisation's output), carrying its
    words too when they fit (:func:`to_words` and :func:`power` then read them instead of
    converting the polynomial's coefficients again)."""
    end = len(masses)
    while end and not masses[end - 1]:
        end -= 1  # an fmpz_poly has no trailing zeros: the words match its length
    masses = masses[:end]
    words = None
    if 1 <= bits <= pld_words.MAX_BITS and (not masses or max(masses) < 1 << 64):
        words = np.array(masses, dtype=np.uint64)
        words.setflags(write=False)
    return GridPLD(offset, fmpz_poly(masses), fmpz(infinity), bits, upper, h, shift,
                   words=words)


def to_words(pld: GridPLD, masses: list[int] | None = None) -> Words | None:
    """The packed form of a grid measure, or None when its unit or a mass exceeds a word."""
    if not 1 <= pld.bits <= pld_words.MAX_BITS:
        return None
    words = pld.exact_words if masses is None else None
    if words is not None:
        return Words(pld.offset, words, int(pld.infinity))
    if masses is None:
        masses = [int(c) for c in pld.poly.coeffs()]
    if masses and max(masses) >= 1 << 64:
        return None
    return Words(pld.offset, np.array(masses, dtype=np.uint64), int(pld.infinity))


def from_words(x: Words, like: GridPLD, shift: Fraction,
               factors: tuple[Factor, Factor] | None = None, span: int = 0) -> GridPLD:
    """A grid measure with the words' masses and ``like``'s unit, direction and spacing."""
    return GridPLD(x.offset, fmpz_poly(x.w.tolist()), fmpz(x.infinity), like.bits, like.upper,
                   like.h, shift, factors, span, x.w)


def _as_grid(term: _Term, like: GridPLD) -> GridPLD:
    value, shift = term
    return from_words(value, like, shift) if isinstance(value, Words) else value


# -- the privacy profile of a grid PLD -----------------------------------------------------------
def delta_ball(pld: GridPLD, eps: Fraction) -> arb:
    """A ball containing ``D(eps) = 2^-bits [inf + sum_{l_i > eps} M_i (1 - e^{eps - l_i})]`` at the
    ambient precision (exact masses; only the exponentials are rounded, inside the ball)."""
    s1, s2 = _tail_sums(pld, first_above(pld, eps))
    value = arb(pld.infinity) + s1 - _ball(eps).exp() * s2
    return value * arb(2) ** (-pld.bits)


def _ball(x: Fraction) -> arb:
    return arb(x.numerator) / x.denominator


def first_above(pld: GridPLD, eps: Fraction) -> int:
    """Index of the first coefficient whose loss is strictly above ``eps`` (clamped to
    ``[0, length]``)."""
    j = ((eps - pld.shift) // pld.h) + 1  # the smallest integer j with shift + j h > eps
    return int(min(max(j - pld.offset, 0), pld.length))


def _tail_sums(pld: GridPLD, k: int) -> tuple[fmpz, arb]:
    """(sum_{i>=k} M_i exactly, ball of sum_{i>=k} M_i e^{-l_i}); remembered on the measure
    (:attr:`GridPLD.sums`), and from a remembered index within :data:`_NEAR_SUMS` by the sums
    over the indices between (both are sums of the same terms: ``S_k = S_k' + sum_{k <= i <
    k'} ...`` for k < k', minus for k > k'; ball arithmetic either way)."""
    if k >= pld.length:
        return fmpz(0), arb(0)
    prec = ctx.prec
    known = pld.sums.get((k, prec))
    if known is not None:
        return known
    near = [j for j, p in pld.sums if p == prec and abs(j - k) <= _NEAR_SUMS]
    if near:
        j = min(near, key=lambda i: abs(i - k))
        s1, s2 = pld.sums[j, prec]
        a, b = min(j, k), max(j, k)
        block = pld.poly.right_shift(a).truncate(b - a)
        b1 = fmpz(block(1))
        b2 = block((-_ball(pld.h)).exp()) * (-_ball(pld.loss(a))).exp()
        found = (s1 + b1, s2 + b2) if k < j else (s1 - b1, s2 - b2)
    else:
        found = _tail_sums_from(pld, k)
    pld.sums[k, prec] = found
    return found


#: how far (in indices) :func:`_tail_sums` reaches from a remembered index instead of summing
#: the whole tail again
_NEAR_SUMS = 64


def _tail_sums_from(pld: GridPLD, k: int) -> tuple[fmpz, arb]:
    """:func:`_tail_sums` over the whole tail."""
    poly = pld.poly
    words = pld.exact_words
    if words is not None:
        s1 = fmpz(pld_words.exact_sum(words[k:]))  # the same integer, without the poly
    else:
        s1 = pld.total_finite() - _prefix_mass(poly, k)
    tail = poly.right_shift(k) if k > 0 else poly
    s2 = tail((-_ball(pld.h)).exp()) * (-_ball(pld.loss(k))).exp()
    return s1, s2


def segment_root_ball(pld: GridPLD, k: int, delta: Fraction) -> arb:
    """For eps in ``[l_{k-1}, l_k)`` the profile is ``2^-bits (inf + S1 - e^eps S2)`` with the sums
    over indices >= k, so ``D(eps) = delta`` there at ``eps = log((inf + S1 - delta 2^bits)/S2)``.
    Returns that ball (NaN when the logarithm's argument is not certainly positive)."""
    s1, s2 = _tail_sums(pld, k)
    num = arb(pld.infinity) + s1 - _ball(delta) * arb(2) ** pld.bits
    if not (num > 0 and s2 > 0):
        return arb.nan()
    return (num / s2).log()


__all__ = ["GridPLD", "delta_ball", "first_above", "from_words", "measure", "multiply",
           "node_moments", "power", "segment_root_ball", "to_fixed", "to_words", "truncate"]
