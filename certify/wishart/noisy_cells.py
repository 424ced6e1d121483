"""Shared numerics of the noisy Wishart variants (claims WPM-7, WPM-8, WPM-9): the normal CDF
and the Gaussian privacy profile on complex balls, and certified *cell sums* of expectations.

Cell sums (our construction, used where an exact low-dimensional integral is out of reach):
for independent scalar variables ``X_1, ..., X_k`` and ``f`` non-decreasing in every variable,

    E f(X) = sum_cells P(cell) E[f(X) | X in cell]  <=  sum_cells P(cell) f(upper corner),

where ``P(cell)`` is the product of certified one-dimensional masses (differences of certified
CDFs at exact rational edges; :class:`Axis`) and unbounded cells are charged the supremum of
``f`` (:func:`monotone_upper_sum`). The cell masses are also used by the one-variable cell sums
of :mod:`certify.wishart.noisy_hidden`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from flint import acb, arb, ctx

from certify.errors import InvalidArgument
from certify.numerics.roots import exact_ball
from certify.numerics.special import chi2_cdf, chi2_sf

__all__ = [
    "Axis",
    "chi2_axis",
    "gauss_delta_acb",
    "monotone_upper_sum",
    "noncentral_chi2_axis",
    "phi_acb",
]

#: bits kept of a float edge when it is rounded to an exact dyadic rational
_EDGE_BITS = 24


# -- the Gaussian pieces on complex balls (for acb.integral integrands) -----------------------


def phi_acb(z: acb) -> acb:
    """``Phi(z) = erfc(-z / sqrt 2) / 2`` (DLMF 7.2.2, A&S 26.2.29), entire in ``z``: safe as
    an ``acb.integral`` integrand with ``analytic=True``."""
    return (-z / arb(2).sqrt()).erfc() / 2


def gauss_delta_acb(mu: acb, eps: arb) -> acb:
    """Balle and Wang (2018) Theorem 8, ``Phi(mu/2 - eps/mu) - e^eps Phi(-mu/2 - eps/mu)``,
    extended analytically to complex ``mu != 0``; at ``eps = 0`` it is ``erf(mu / (2 sqrt 2))``
    (entire). The hockey-stick divergence of ``N(mu, 1)`` from ``N(0, 1)``."""
    if eps.is_zero():
        return (mu / (2 * arb(2).sqrt())).erf()
    return phi_acb(mu / 2 - eps / mu) - eps.exp() * phi_acb(-mu / 2 - eps / mu)


# -- axes: partitions of one variable's support with certified cell masses -------------------


@dataclass(frozen=True)
class Axis:
    """A partition of a scalar variable's support into cells with certified masses.

    ``edges`` are exact rationals ``e_0 < ... < e_K``; the cells are ``(low, e_0]``,
    ``(e_0, e_1]``, ..., ``(e_K, +inf)`` where ``low`` is the support's lower end (``None``:
    ``-inf``). ``masses[i]`` is an Arb ball containing the probability of cell ``i``;
    ``boxes[i]`` is an Arb ball containing the cell (``None`` for an unbounded cell).
    """

    edges: tuple[Fraction, ...]
    masses: tuple[arb, ...]
    boxes: tuple[arb | None, ...]

    def __post_init__(self) -> None:
        if len(self.masses) != len(self.boxes):
            raise InvalidArgument("masses and boxes must have the same length.")


def _dyadic(x: float) -> Fraction:
    """An exact dyadic rational near the float ``x`` (``_EDGE_BITS`` significant bits)."""
    if x == 0:
        return Fraction(0)
    exponent = math.frexp(x)[1] - _EDGE_BITS
    return Fraction(round(x / 2.0**exponent)) * Fraction(2) ** exponent


def _clean_edges(values: Sequence[float]) -> tuple[Fraction, ...]:
    out = sorted({_dyadic(v) for v in values if math.isfinite(v)})
    return tuple(out)


def chi2_axis(k: int, scale: Fraction, points: Sequence[float]) -> Axis:
    """Cells of ``X = scale * chi2_k`` (``scale > 0``) with edges at the given float points
    (rounded to exact dyadics; non-positive ones dropped). Masses are certified differences of
    ``chi2_cdf`` (left of the median) or of ``chi2_sf`` (right of it), so neither tail loses
    relative accuracy. The first cell is ``(0, e_0]``, the last ``(e_K, inf)``."""
    if k < 1:
        raise InvalidArgument(f"k={k} must be a positive integer.")
    edges = tuple(e for e in _clean_edges(points) if e > 0)
    if not edges:
        raise InvalidArgument("points must contain a positive edge.")
    median = Fraction(k)  # any split point works; near the median keeps both sides accurate
    s = exact_ball(scale)

    def cdf(e: Fraction) -> arb:
        return chi2_cdf(exact_ball(e) / s, k)

    def sf(e: Fraction) -> arb:
        return chi2_sf(exact_ball(e) / s, k)

    masses: list[arb] = []
    boxes: list[arb | None] = []
    previous: Fraction = Fraction(0)
    for e in edges:
        if e / scale <= median:
            m = cdf(e) - (cdf(previous) if previous > 0 else arb(0))
        else:
            m = (sf(previous) if previous > 0 else arb(1)) - sf(e)
        masses.append(_nonneg(m))
        boxes.append(exact_ball(previous).union(exact_ball(e)))
        previous = e
    masses.append(_nonneg(sf(previous)))
    boxes.append(None)
    return Axis(edges, tuple(masses), tuple(boxes))


def _nonneg(m: arb) -> arb:
    """A mass ball intersected with ``[0, 1]`` (a probability; the intersection keeps the truth)."""
    lo = max(m.lower(), arb(0))
    hi = min(m.upper(), arb(1))
    if lo > hi:  # pragma: no cover - would mean a wrong CDF enclosure
        raise InvalidArgument(f"mass enclosure {m} is not a probability.")
    return lo.union(hi)


def _ncx2_pair(x: Fraction, k: int, half_lam: arb) -> tuple[arb, arb]:
    """Balls containing ``P[X <= x]`` and ``P[X > x]`` for ``X ~ chi'^2_k(lambda)``,
    ``half_lam = lambda / 2``, by the Poisson mixture (DLMF 8.7 / Johnson-Kotz-Balakrishnan
    29.2): ``sum_j e^{-lambda/2} (lambda/2)^j / j! F_{chi2_{k+2j}}(x)``. The orders are
    stepped by ``P(a+1, z) = P(a, z) - z^a e^{-z} / Gamma(a+1)`` and ``Q(a+1, z) = Q(a, z) +
    z^a e^{-z} / Gamma(a+1)`` (DLMF 8.8.5, 8.8.6; ``z = x/2``); the Poisson weights left out
    after the last term (``1 - sum``) are added as ``[0, rest]`` to both."""
    if x <= 0:
        return arb(0), arb(1)
    xb = exact_ball(x)
    p, q = chi2_cdf(xb, k), chi2_sf(xb, k)
    a = arb(k) / 2
    z = xb / 2
    step = (a * z.log() - z - (a + 1).lgamma()).exp()  # z^a e^-z / Gamma(a+1)
    weight = (-half_lam).exp()
    cdf, sf, used = weight * p, weight * q, weight
    tiny = arb(2) ** (-(ctx.prec + 10))
    j = 0
    while j < 100_000:
        j += 1
        p, q = p - step, q + step
        step = step * z / (a + 1)
        a += 1
        weight = weight * half_lam / j
        cdf += weight * _unit(p)
        sf += weight * _unit(q)
        used += weight
        if j > 2 * half_lam.upper() + 10 and weight < tiny:
            break
    rest = _unit(1 - used)
    return cdf + arb(0).union(rest.upper()), sf + arb(0).union(rest.upper())


def _unit(x: arb) -> arb:
    """``x`` intersected with [0, 1] (a probability)."""
    return _nonneg(x)


def noncentral_chi2_axis(k: int, lam: Fraction, scale: Fraction,
                         points: Sequence[float]) -> Axis:
    """Cells of ``H = scale * chi'^2_k(lam)`` (non-central chi-square, ``k`` degrees of
    freedom, non-centrality ``lam``), edges at the given float points rounded to dyadics.
    Masses: differences of the certified Poisson-mixture CDF (left half) or survival function
    (right half)."""
    if k < 1 or lam < 0 or scale <= 0:
        raise InvalidArgument(f"k={k}, lam={lam}, scale={scale}: need k >= 1, lam >= 0, "
                              "scale > 0.")
    edges = tuple(e for e in _clean_edges(points) if e > 0)
    if not edges:
        raise InvalidArgument("points must contain a positive edge.")
    half_lam = exact_ball(lam) / 2
    pairs = [_ncx2_pair(e / scale, k, half_lam) for e in edges]
    split = Fraction(k) + lam  # the mean
    masses: list[arb] = []
    boxes: list[arb | None] = []
    previous: tuple[arb, arb] = (arb(0), arb(1))
    prev_edge = Fraction(0)
    for e, pair in zip(edges, pairs, strict=True):
        m = pair[0] - previous[0] if e / scale <= split else previous[1] - pair[1]
        masses.append(_nonneg(m))
        boxes.append(exact_ball(prev_edge).union(exact_ball(e)))
        previous, prev_edge = pair, e
    masses.append(_nonneg(previous[1]))
    boxes.append(None)
    return Axis(edges, tuple(masses), tuple(boxes))


# -- expectations by cells ---------------------------------------------------------------------


def monotone_upper_sum(
    axes: Sequence[Axis], f_corner: Callable[[tuple[Fraction, ...]], arb], f_max: arb
) -> arb:
    """An upper bound on ``E f(X)`` for ``f`` non-decreasing in every variable: each bounded
    cell is charged ``f`` at its upper corner (an exact point), each unbounded one ``f_max``.
    Returns a ball whose upper endpoint is the certified bound."""
    total = arb(0)
    for index in itertools.product(*(range(len(a.masses)) for a in axes)):
        mass = arb(1)
        corner: list[Fraction] = []
        bounded = True
        for axis, i in zip(axes, index, strict=True):
            mass *= axis.masses[i]
            if axis.boxes[i] is None:
                bounded = False
            elif i < len(axis.edges):
                corner.append(axis.edges[i])
            else:  # a bounded last cell only occurs on a point axis
                corner.append(axis.edges[-1])
        total += mass * (f_corner(tuple(corner)) if bounded else f_max)
    return total
