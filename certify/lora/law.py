"""The exact law of the LoRA noise entry u_i and its certified distance to normal laws.

Setting (seed 001, Lemma 3.1): ``A`` is ``r x m`` with iid ``N(0, 1/r)`` entries, ``q`` a fixed row
vector, ``u = q (A^T A - I)``. Conditioning on column ``i`` of ``A``
(``proofs.lora_u.proof_u_law``):

    u_i + q_i = q_i V + s sqrt(V) Z,   V ~ chi2_r / r,  Z ~ N(0, 1) independent,
    s^2 = (||q||^2 - q_i^2) / r,

a normal variance-mean mixture with gamma mixing (a variance-gamma law). Everything here is in the
*standardised* variable ``X = u_i sqrt(r) / ||q||`` (the paper's variance ``||q||^2/r`` becomes 1),
whose law depends only on ``r`` and ``rho^2 = q_i^2 / ||q||^2``:

    X = -a + a V + b sqrt(V) Z,   a = rho sqrt(r),  b^2 = 1 - rho^2,     Var X = 1 + rho^2.

For a flat profile ``|q_j| = c`` one has ``rho^2 = 1/m``; ``m -> infinity`` is ``rho = 0`` (the
symmetric limit law ``sqrt(V) Z``: Laplace at ``r = 2``, the product of two independent standard
normals, density ``K_0(|x|)/pi``, at ``r = 1``); a spiked profile (``|q_i| = C``, the other
``m - 1`` entries ``c``) has ``rho^2 = C^2 / (C^2 + (m-1) c^2)``. The sign of ``q_i`` mirrors the
law and changes no distance to a centred normal, so only ``rho^2`` is a parameter.

Density (the gamma-mixing integral ``int v^(nu-1) e^(-alpha v - gamma/v) dv = 2 (gamma/alpha)^(nu/2)
K_nu(2 sqrt(alpha gamma))``, DLMF 10.32.10; with ``mu = -a``, ``y = x - mu``, ``nu = (r-1)/2``):

    f(x) = C e^(a y / b^2) |y|^nu K_nu(kappa |y|),
    C = 2 (r/2)^(r/2) r^(-nu/2) / (Gamma(r/2) sqrt(2 pi) b),   kappa = sqrt(r) / b^2,

a formula that ``proofs.lora_u.proof_u_law`` derives symbolically and the tests check against
mpmath quadrature of the mixture. ``e^z K_nu(z)`` comes from :mod:`certify.lora.bessel`
(half-integer ``nu``: a terminating sum; integer ``nu``: Hankel's expansion with DLMF's remainder
bound, or Arb at the ball's midpoint plus a mean-value term), whose output radius follows the
input's, so that certified integration works for odd and even ``r`` alike. ``f`` is analytic
off ``x = mu`` (a logarithmic singularity there at ``r = 1``), so everything is parametrised by
the side of ``mu`` and the distance ``y = |x - mu| > 0``: masses are integrals in ``y`` away
from the kink with a Chernoff tail (:func:`_far_tail`), and the neighbourhood of the kink enters
only through the rigorous :func:`_excision_bound`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

from flint import acb, arb, ctx, fmpq

from certify._validate import check_positive, check_positive_int, to_exact
from certify.errors import InvalidArgument
from certify.lora.bessel import scaled_bessel_k
from certify.numerics.bound import Bound
from certify.numerics.integrate import TailBound, integrate
from certify.numerics.precision import Target
from certify.numerics.special import normal_cdf, normal_sf


@dataclass(frozen=True)
class NoiseLaw:
    """The standardised law of ``u_i sqrt(r) / ||q||``: rank ``r`` and ``rho2 = q_i^2/||q||^2``
    (exact, in ``[0, 1)``; ``rho2 = 1`` would mean ``q = q_i e_i``, a scaled chi-square with no
    density on half the line, outside Lemma 4.1's ``c <= |q_j|`` family for ``m >= 2``)."""

    r: int
    rho2: Fraction

    def __post_init__(self) -> None:
        check_positive_int("r", self.r)
        if not isinstance(self.rho2, Fraction) or not (0 <= self.rho2 < 1):
            raise InvalidArgument(f"rho2={self.rho2} must be an exact fraction in [0, 1).")

    @classmethod
    def from_q(cls, q: Sequence[object], i: int, r: int) -> NoiseLaw:
        """The law of entry ``i`` (0-based) of ``q (A^T A - I)`` for an exact vector ``q``."""
        if isinstance(q, (str, bytes)) or not isinstance(q, Sequence) or len(q) < 2:
            raise InvalidArgument(f"q={q!r} must be a sequence of at least 2 numbers.")
        values = [to_exact(f"q[{j}]", v) for j, v in enumerate(q)]
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(values):
            raise InvalidArgument(f"i={i} must be an index in [0, {len(values)}).")
        norm2 = sum(v * v for v in values)
        if norm2 == values[i] ** 2:
            raise InvalidArgument(
                f"q={q!r} has no nonzero entry besides q[{i}]: u_i is then a scaled chi-square "
                "without a density on both sides, outside this law's family."
            )
        return cls(check_positive_int("r", r), values[i] ** 2 / norm2)

    @classmethod
    def flat(cls, m: int | None, r: int) -> NoiseLaw:
        """A flat profile ``|q_j| = c`` of length ``m`` (``rho^2 = 1/m``); ``m=None`` is the
        ``m -> infinity`` limit ``rho = 0``."""
        if m is None:
            return cls(check_positive_int("r", r), Fraction(0))
        m = check_positive_int("m", m)
        if m < 2:
            raise InvalidArgument(f"m={m} must be at least 2.")
        return cls(check_positive_int("r", r), Fraction(1, m))

    @classmethod
    def spiked(cls, m: int, r: int, ratio: object = 10) -> NoiseLaw:
        """A spiked profile of length ``m``: ``|q_i| = C`` at the entry itself and ``|q_j| = c``
        at the ``m - 1`` others, ``C / c = ratio`` (Lemma 4.1's ``c <= |q_j| <= C`` with the
        spike where it weighs most): ``rho^2 = ratio^2 / (ratio^2 + m - 1)``."""
        m = check_positive_int("m", m)
        if m < 2:
            raise InvalidArgument(f"m={m} must be at least 2.")
        k = check_positive("ratio", ratio)
        return cls(check_positive_int("r", r), k * k / (k * k + m - 1))

    @property
    def variance(self) -> Fraction:
        """``Var X = 1 + rho^2`` (``Var u_i = (||q||^2 + q_i^2)/r``, proofs.lora_u)."""
        return 1 + self.rho2

    # -- constants at the ambient precision ------------------------------------------------------

    def _a(self) -> arb:
        return (arb(_q(self.rho2)) * self.r).sqrt()

    def _b2(self) -> arb:
        return 1 - arb(_q(self.rho2))

    def _order(self) -> arb:
        return arb(fmpq(self.r - 1, 2))

    def _log_prefactor(self) -> arb:
        """``log C`` (module docstring)."""
        half_r = arb(fmpq(self.r, 2))
        return (
            arb(2).log() + half_r * half_r.log() - self._order() / 2 * arb(self.r).log()
            - half_r.lgamma() - (2 * arb.pi()).log() / 2 - self._b2().log() / 2
        )

    def density_at(self, y: acb, side: int, analytic: bool = False) -> acb:
        """``f(mu + side * y)`` for ``y > 0`` (the distance from the kink ``mu = -a``), as an
        ``acb.integral``-style function of ``y``: non-finite when ``analytic`` and ``y``'s ball
        reaches the branch cut ``Re y <= 0`` of ``y^nu`` and ``K_nu``. The exponentially scaled
        ``e^z K_nu(z)`` of :mod:`certify.lora.bessel` (output radius following the input's, for
        odd and even ``r``) keeps the large-order, small-argument products in range."""
        if not y.real > 0:
            # on or across the branch cut: no enclosure is claimed (acb.integral subdivides)
            return acb(arb("nan"))
        e, power, k = self.factors(y, side)
        return e * power * k

    def factors(self, y: acb, side: int) -> tuple[acb, acb, acb]:
        """``(C e^(c y), y^nu, e^z K_nu(z))`` with ``z = kappa y`` and ``c = (side a - sqrt r) /
        b^2 < 0`` (``e^(a side y / b^2) e^(-kappa y)``): the three factors of ``f(mu + side y)``.
        For real ``y > 0`` the first decreases, the second increases and the third decreases
        (``e^z K_nu(z) = int_0^inf e^(-z (cosh t - 1)) cosh(nu t) dt``)."""
        a, b2, root_r, nu, log_c = _constants(self.r, self.rho2, ctx.prec)
        e = (y * ((a * side - root_r) / b2) + log_c).exp()
        return e, y ** acb(nu), _scaled_bessel_k(self.r, y * (root_r / b2))

    def point(self, side: int, y: arb | acb) -> acb:
        """The point ``x = mu + side * y``."""
        return acb(-self._a()) + side * acb(y)


@functools.lru_cache(maxsize=64)
def _constants(r: int, rho2: Fraction, prec: int) -> tuple[arb, arb, arb, arb, arb]:
    """``(a, b^2, sqrt r, nu, log C)`` of the law at ``prec`` bits (the integrands' hot path
    would otherwise recompute ``lgamma`` and square roots at every evaluation)."""
    law = NoiseLaw(r, rho2)
    with ctx.workprec(prec):
        return law._a(), law._b2(), arb(r).sqrt(), law._order(), law._log_prefactor()


def _scaled_bessel_k(r: int, z: acb) -> acb:
    """``e^z K_nu(z)`` with ``nu = (r - 1)/2``, for ``Re z > 0`` (:mod:`certify.lora.bessel`:
    the terminating sum for even ``r``, Hankel's expansion with DLMF's remainder bound or Arb at
    the ball's midpoint plus a mean-value term for odd ``r``; the output radius follows the
    input's)."""
    return scaled_bessel_k(r - 1, z)


def _q(x: Fraction) -> fmpq:
    return fmpq(x.numerator, x.denominator)


# -- rigorous tail bounds -------------------------------------------------------------------------


def _chernoff_rates(law: NoiseLaw) -> tuple[arb, arb]:
    """Exponents ``t_R, t_L > 0`` with ``a t + b^2 t^2 / 2 = r/4`` (right) and
    ``-a t + b^2 t^2 / 2 = r/4`` (left). Then ``E e^(+-t X) = e^(-+a t) (1 - 1/2)^(-r/2)``
    (the gamma mgf ``E e^(sV) = (1 - 2s/r)^(-r/2)`` at ``s = r/4``), so Chernoff gives
    ``P(X > mu + y) <= 2^(r/2) e^(-t_R y)`` and ``P(X < mu - y) <= 2^(r/2) e^(-t_L y)``
    (``mu + a = 0``)."""
    a, b2 = law._a(), law._b2()
    root = (a * a + b2 * law.r / 2).sqrt()
    return (root - a) / b2, (root + a) / b2


def _far_tail(law: NoiseLaw, side: int, variance: Fraction | None) -> TailBound:
    """Mass at ``y > Y``: the law's Chernoff tail plus the comparator normal's tail."""

    def tail(y: arb) -> arb:
        t_right, t_left = _chernoff_rates(law)
        rate = t_right if side > 0 else t_left
        bound = arb(2) ** (arb(law.r) / 2) * (-rate * y).exp()
        if variance is not None:
            x = -law._a() + side * y
            sd = arb(_q(variance)).sqrt()
            bound += normal_sf(x / sd) if side > 0 else normal_cdf(x / sd)
        return bound

    return tail


def _excision_bound(law: NoiseLaw, w: arb, variance: Fraction | None) -> arb:
    """An upper bound on ``P(|X - mu| <= w)`` plus, with a comparator, ``2 w max phi_v``.

    ``X - mu = a V + b sqrt(V) Z``; splitting on ``V <= w``: ``P(V <= w) <= (r w / 2)^(r/2) /
    Gamma(r/2 + 1)`` (the chi2_r density is at most ``x^(r/2-1) / (2^(r/2) Gamma(r/2))``), and for
    ``V = v >= w`` the normal ``N(a v, b^2 v)`` puts at most ``2 w / (b sqrt(2 pi v)) <=
    2 sqrt(w) / (b sqrt(2 pi))`` on an interval of length ``2w``."""
    half_r = arb(fmpq(law.r, 2))
    small_v = (law.r * w / 2) ** half_r / (half_r + 1).gamma()
    spread = 2 * w.sqrt() / (law._b2().sqrt() * (2 * arb.pi()).sqrt())
    bound = small_v + spread
    if variance is not None:
        bound += 2 * w / (2 * arb.pi() * arb(_q(variance))).sqrt()
    return bound


# -- certified quantities ------------------------------------------------------------------------


def _check_variance(variance: object) -> Fraction:
    return check_positive("variance", variance)


def _check_target(target: Target | None, default: Target) -> Target:
    if target is None:
        return default
    if not isinstance(target, Target):
        raise InvalidArgument(f"target={target!r} must be a certify.numerics.precision.Target.")
    return target


def _check_side(side: object) -> int:
    if side not in (-1, 1) or isinstance(side, bool):
        raise InvalidArgument(f"side={side} must be -1 or +1.")
    return int(cast(int, side))


def _phi(x: acb, variance: Fraction) -> acb:
    v = arb(_q(variance))
    return (-(x * x) / (2 * v)).exp() / (2 * arb.pi() * v).sqrt()


def side_mass(law: NoiseLaw, side: int, y_point: object,
              target: Target | None = None) -> Bound:
    """``P(side (X - mu) >= y)`` for an exact ``y > 0``: the law's mass beyond the point
    ``mu + side y`` (for ``side = -1`` this is ``F`` there; for ``+1`` it is ``1 - F``), by
    certified integration of the exact density with the Chernoff tail."""
    side = _check_side(side)
    y_q = check_positive("y", y_point)
    goal = _check_target(target, Target(rel=None, absolute=1e-12, max_prec=512))
    widths = [w for w in (goal.absolute, goal.rel) if w is not None]
    bits = max(64, 8 + int(-math.log2(min(widths)))) if widths else 64
    cut = max(_far_cut(law, side, None, bits), y_q)
    inner = integrate(lambda y, analytic: law.density_at(y, side, analytic), y_q, cut,
                      target=goal, max_prec=goal.max_prec, what="tail mass of the noise law")
    with ctx.workprec(128):
        beyond = _far_tail(law, side, None)(arb(_q(cut)))
        return Bound.from_arb(inner.to_arb() + arb(0).union(beyond), 128)


def _far_cut(law: NoiseLaw, side: int, variance: Fraction | None, bits: int = 64) -> Fraction:
    """An integer ``Y`` beyond which the Chernoff tail (and the comparator's) is below
    ``2^-bits``."""
    with ctx.workprec(64):
        t_right, t_left = _chernoff_rates(law)
        rate = float((t_right if side > 0 else t_left).lower().mid())
    spread = 0.0 if variance is None else 40 * math.sqrt(float(variance))
    return Fraction(math.ceil((law.r / 2 + bits) * math.log(2) / rate + spread + 1))


def crossing_points(law: NoiseLaw, variance: object, span: float = 12.0,
                    cells: int = 1200) -> list[tuple[int, Fraction]]:
    """Approximate sign changes of ``f - phi_v`` within ``span`` sd of 0, as ``(side, y)`` for
    the point ``mu + side y``, in increasing ``x`` (64-bit ball midpoints on a grid uniform in
    ``log y`` from ``e^-40``, then bisection). Only *where* ``F - Phi`` is evaluated depends on
    these; the distances stay rigorous if one is missed (:func:`distances_to_normal`)."""
    v = _check_variance(variance)
    reach = span * math.sqrt(float(v)) + math.sqrt(float(law.rho2) * law.r)
    found: list[tuple[int, Fraction]] = []
    for side in (-1, 1):
        s_lo, s_hi = -math.log(reach), 40.0
        grid = [s_lo + (s_hi - s_lo) * k / cells for k in range(cells + 1)]
        values = [_g_float(law, v, side, math.exp(-s)) for s in grid]
        for s0, s1, g0, g1 in zip(grid, grid[1:], values, values[1:], strict=False):
            if not g0 * g1 < 0:
                continue
            a, b, ga = s0, s1, g0
            for _ in range(50):
                mid = (a + b) / 2
                gm = _g_float(law, v, side, math.exp(-mid))
                if gm == 0:
                    a = b = mid
                    break
                if (gm < 0) == (ga < 0):
                    a, ga = mid, gm
                else:
                    b = mid
            found.append((side, Fraction(math.exp(-(a + b) / 2))))
    left = sorted((p for p in found if p[0] < 0), key=lambda p: -p[1])
    right = sorted((p for p in found if p[0] > 0), key=lambda p: p[1])
    return left + right


def _g_float(law: NoiseLaw, variance: Fraction, side: int, y: float) -> float:
    """``f - phi_v`` at ``mu + side y``, as a float (the midpoint of a 64-bit ball)."""
    with ctx.workprec(64):
        yb = acb(arb(y))
        return float((law.density_at(yb, side) - _phi(law.point(side, yb), variance)).real.mid())


@dataclass(frozen=True)
class Distances:
    """Certified distances between the noise law and ``N(0, variance)``.

    ``total_variation`` and ``kolmogorov`` are Bounds; ``points`` the float-located crossings
    ``(side, y)`` of the two densities (the point ``mu + side y``) where ``F - Phi`` was
    certified; ``at`` the point attaining the Kolmogorov lower end."""

    total_variation: Bound
    kolmogorov: Bound
    points: tuple[tuple[int, Fraction], ...]
    at: tuple[int, Fraction] | None

    def x_values(self, law: NoiseLaw) -> list[float]:
        with ctx.workprec(64):
            return [float(law.point(side, arb(_q(y))).real.mid()) for side, y in self.points]


#: y below 2^-_NEAR_BITS is handled by the excision bound; cells narrower than 2^-_CELL_BITS
#: with an uncertain sign are charged width * sup|f - phi|
_NEAR_BITS = 120
_CELL_BITS = 40


@dataclass(frozen=True)
class _Endpoint:
    """Real balls at an exact ``y > 0`` on one side: ``x = mu + side y``, ``phi_v(x)``, the
    factors ``e = C e^(c y)``, ``p = y^nu``, ``k = e^z K_nu(z)`` of :meth:`NoiseLaw.factors`
    (``f = e p k``), and ``h = C e^(side a y / b^2)``, ``g = y^nu K_nu(kappa y)`` (``f = h g``),
    ``q = y^(nu-1) K_(nu-1)(kappa y)`` (``g' = -kappa y q``)."""

    x: arb
    phi: arb
    e: arb
    p: arb
    k: arb
    h: arb
    g: arb
    q: arb


def _endpoint(law: NoiseLaw, v: Fraction, side: int, y: Fraction) -> _Endpoint:
    yb = arb(_q(y))
    e, power, k = (t.real for t in law.factors(acb(yb), side))
    a, b2, root_r, nu, log_c = _constants(law.r, law.rho2, ctx.prec)
    z = yb * (root_r / b2)
    decay = (-z).exp()
    h = (yb * (side * a / b2) + log_c).exp()
    k_below = scaled_bessel_k(abs(law.r - 3), acb(z)).real  # e^z K_|nu-1|(z)
    x = law.point(side, yb).real
    return _Endpoint(x, _phi(acb(x), v).real, e, power, k, h, power * k * decay,
                     power / yb * k_below * decay)


def _range_on_cell(law: NoiseLaw, v: Fraction, side: int, lo: Fraction, hi: Fraction,
                   cache: dict[Fraction, _Endpoint]) -> tuple[arb, arb]:
    """Certain lower and upper bounds (exact balls) of ``D(y) = f - phi_v`` at ``mu + side y``
    on the cell ``y in [lo, hi]``, from values at the two ends only; the tightest of:

    * zeroth order, from monotone factors: ``f = h g`` with ``g = y^nu K_nu(kappa y)``
      decreasing (``g' = -kappa y^nu K_(nu-1) < 0``, DLMF 10.29.4) and ``h = C e^(side a y/b^2)``
      monotone; ``f = e (p k)`` with ``e`` decreasing and, for even ``r``, ``p k`` a polynomial in
      ``y`` with positive coefficients (DLMF 10.49.12), for odd ``r`` ``p`` increasing and ``k``
      decreasing (``e^z K_nu(z) = int e^(-z (cosh t - 1)) cosh(nu t) dt``); ``phi_v`` decreasing
      in ``|x|``;
    * first order: ``D(y) in D(lo) + [0, w] D'(cell)`` and ``D(hi) - [0, w] D'(cell)``
      (``w = hi - lo``), with ``D' = h (side a g / b^2 - kappa y q) + side x phi_v / v``
      enclosed from the same monotone ranges (``q = y^(nu-1) K_(nu-1)(kappa y)`` decreasing).

    The first order makes cells of width ``~ sqrt(|f - phi| / f)`` enough where the zeroth
    order needs ``~ |f - phi| / f``: far fewer cells when the law is close to the normal."""
    for y in (lo, hi):
        if y not in cache:
            cache[y] = _endpoint(law, v, side, y)
    at_lo, at_hi = cache[lo], cache[hi]
    h = at_lo.h.union(at_hi.h)
    g = at_lo.g.union(at_hi.g)
    by_hg = h * g
    if law.r % 2 == 0:
        by_epk = at_lo.e.union(at_hi.e) * (at_lo.p * at_lo.k).union(at_hi.p * at_hi.k)
    else:
        by_epk = (at_lo.e.union(at_hi.e) * at_lo.p.union(at_hi.p)
                  * at_lo.k.union(at_hi.k))
    if (at_lo.x * at_hi.x) > 0:  # |x| monotone on the cell
        phi = at_lo.phi.union(at_hi.phi)
    else:
        phi = at_lo.phi.union(at_hi.phi).union(1 / (2 * arb.pi() * arb(_q(v))).sqrt())
    a, b2, root_r, _, _ = _constants(law.r, law.rho2, ctx.prec)
    y_cell = arb(_q(lo)).union(arb(_q(hi)))
    slope = (h * (g * (side * a / b2) - (root_r / b2) * y_cell * at_lo.q.union(at_hi.q))
             + side * at_lo.x.union(at_hi.x) * phi / arb(_q(v)))
    step = arb(0).union(arb(_q(hi - lo))) * slope
    d_lo, d_hi = at_lo.g * at_lo.h - at_lo.phi, at_hi.g * at_hi.h - at_hi.phi
    candidates = (by_hg - phi, by_epk - phi, d_lo + step, d_hi - step)
    lower = functools.reduce(_larger, (c.lower() for c in candidates))
    upper = functools.reduce(_smaller, (c.upper() for c in candidates))
    return lower, upper


def _larger(x: arb, y: arb) -> arb:
    """The larger of two exact balls (either one if undecided: both are valid bounds)."""
    return y if y > x else x


def _smaller(x: arb, y: arb) -> arb:
    return y if y < x else x


def _sign_defect(law: NoiseLaw, v: Fraction, side: int, cuts: list[Fraction],
                 signs: list[int]) -> arb:
    """An upper bound on ``int (-sigma (f - phi_v))_+`` over ``y in [cuts[0], cuts[-1]]`` on one
    side, where ``sigma = signs[j]`` between ``cuts[j]`` and ``cuts[j+1]``: cells where
    ``sigma (f - phi)`` is certainly positive (:func:`_range_on_cell`) contribute 0; others are
    bisected, and a cell narrower than ``2^-_CELL_BITS`` (relative to its position) contributes
    ``width * sup |f - phi|``."""
    total = arb(0)
    cache: dict[Fraction, _Endpoint] = {}
    stack: list[tuple[Fraction, Fraction, int]] = []
    for lo, hi, sg in zip(cuts, cuts[1:], signs, strict=False):
        # log-spaced start cells near the kink, so that e.g. a log singularity is bracketed
        edge = lo
        while edge * 2 < hi:
            stack.append((edge, edge * 2, sg))
            edge *= 2
        stack.append((edge, hi, sg))
    while stack:
        lo, hi, sg = stack.pop()
        g_min, g_max = _range_on_cell(law, v, side, lo, hi, cache)
        if (sg > 0 and g_min > 0) or (sg < 0 and g_max < 0):
            continue
        wrong = (sg > 0 and g_max < 0) or (sg < 0 and g_min > 0)  # a missed crossing: charge it
        if wrong or hi - lo <= max(hi, Fraction(1)) * Fraction(1, 2**_CELL_BITS):
            worst = abs(g_min).union(abs(g_max))
            total += arb(_q(hi - lo)) * arb(worst.mid() + worst.rad())
            continue
        mid = (lo + hi) / 2
        mid = Fraction(round(mid * 2**80), 2**80) if mid.denominator > 2**80 else mid
        stack.append((lo, mid, sg))
        stack.append((mid, hi, sg))
    return total


def distances_to_normal(law: NoiseLaw, variance: object,
                        target: Target | None = None) -> Distances:
    """Certified total-variation and Kolmogorov distances between the noise law and
    ``N(0, variance)``.

    Let ``c_1 < ... < c_k`` be the located crossings of ``f`` and ``phi_v``, ``Delta = F - Phi_v``
    (``Delta(+-inf) = 0``; ``F(c)`` by :func:`side_mass`, certified to ``target``), and
    ``sigma_j`` the sign of ``f - phi_v`` between ``c_j`` and ``c_(j+1)``. Then, exactly,

    * ``V = int |f - phi_v| >= S = sum_j |Delta(c_(j+1)) - Delta(c_j)|`` (triangle inequality),
    * ``V = sum_j sigma_j (Delta(c_(j+1)) - Delta(c_j)) + 2 int (-sigma (f - phi_v))_+``, where
      the last integral (zero when the crossings are exact and complete) is bounded by
      :func:`_sign_defect` on ``[2^-120, Y]`` and by the masses of ``f`` and ``phi_v`` near the
      kink (:func:`_excision_bound`) and beyond ``Y`` (:func:`_far_tail`),

    so ``TV = V/2`` is enclosed. For Kolmogorov: on a cell ``[c_j, c_(j+1)]`` with variation
    ``V_j``, ``|Delta(x)| <= max(|Delta(c_j)|, |Delta(c_(j+1))|) + (V_j - |Delta(c_(j+1)) -
    Delta(c_j)|)/2``; summing the excesses, ``max_j |Delta(c_j)| <= D <= max_j |Delta(c_j)| +
    (V - S)/2``. A missed crossing widens both enclosures, never falsifies them.
    """
    v = _check_variance(variance)
    goal = _check_target(target, Target(rel=None, absolute=1e-12, max_prec=512))
    points = crossing_points(law, v)
    deltas: list[tuple[Fraction, Fraction]] = []
    for side, y in points:
        mass = side_mass(law, side, y, goal)
        f_lo, f_hi = ((Fraction(mass.lower), Fraction(mass.upper)) if side < 0
                      else (1 - Fraction(mass.upper), 1 - Fraction(mass.lower)))
        with ctx.workprec(128):
            x = law.point(side, arb(_q(y))).real
            phi_c = Bound.from_arb(normal_cdf(x / arb(_q(v)).sqrt()), 128)
        deltas.append((f_lo - Fraction(phi_c.upper), f_hi - Fraction(phi_c.lower)))
    ends = [(Fraction(0), Fraction(0)), *deltas, (Fraction(0), Fraction(0))]
    # sigma_j: the sign of f - phi between consecutive points (at a float midpoint)
    signs = _cell_signs(law, v, points)
    s_lower, signed_upper = Fraction(0), Fraction(0)
    for (lo0, hi0), (lo1, hi1), sg in zip(ends, ends[1:], signs, strict=False):
        s_lower += max(Fraction(0), lo1 - hi0, lo0 - hi1)
        signed_upper += (hi1 - lo0) if sg > 0 else (hi0 - lo1)
    defect = _defect_bound(law, v, points, signs)
    v_upper = signed_upper + defect
    lower, at = Fraction(0), None
    upper_max = Fraction(0)
    for point, (dlo, dhi) in zip(points, deltas, strict=False):
        certain = max(Fraction(0), dlo, -dhi)
        if certain > lower:
            lower, at = certain, point
        upper_max = max(upper_max, abs(dlo), abs(dhi))
    kolmogorov = Bound.from_fractions(lower, upper_max + max(Fraction(0), v_upper - s_lower) / 2,
                                      128)
    tv = Bound.from_fractions(s_lower / 2, v_upper / 2, 128)
    return Distances(tv, kolmogorov, tuple(points), at)


def _cell_signs(law: NoiseLaw, v: Fraction, points: list[tuple[int, Fraction]]) -> list[int]:
    """The sign of ``f - phi_v`` in each of the ``k + 1`` cells cut by the ``k`` points (at a
    representative float point; a wrong sign is never unsound, only wider, via the defect)."""
    with ctx.workprec(64):
        xs = [float(law.point(side, arb(_q(y))).real.mid()) for side, y in points]
        mu = float(-law._a().mid())
    reps: list[float] = []
    bounds = [xs[0] - 1.0 if xs else mu - 1.0, *xs, xs[-1] + 1.0 if xs else mu + 1.0]
    for x0, x1 in zip(bounds, bounds[1:], strict=False):
        reps.append((x0 + x1) / 2)
    signs = []
    for x in reps:
        side = 1 if x > mu else -1
        y = abs(x - mu) or 1e-3
        signs.append(1 if _g_float(law, v, side, y) > 0 else -1)
    return signs


def _defect_bound(law: NoiseLaw, v: Fraction, points: list[tuple[int, Fraction]],
                  signs: list[int]) -> Fraction:
    """``2 int (-sigma (f - phi_v))_+`` over R, bounded above (exact rational)."""
    near = Fraction(1, 2**_NEAR_BITS)
    with ctx.workprec(128):
        total = 2 * _excision_bound(law, arb(_q(near)), v)
        for side in (-1, 1):
            far_y = _far_cut(law, side, v)
            total += 2 * _far_tail(law, side, v)(arb(_q(far_y)))
            # the cells on this side, ordered by y, with the sign of each
            idx = [j for j, p in enumerate(points) if p[0] == side]
            ys = [points[j][1] for j in idx]
            # cells of x between points; on the left side y decreases as x increases
            if side < 0:
                cell_signs = [signs[j] for j in range(len(idx) + 1)]
                # x-order cells: (-inf, c1), ..., (c_last_left, mu): y-order is reversed
                y_cuts = [near, *sorted(ys), far_y]
                y_signs = list(reversed(cell_signs))
            else:
                first = len(points) - len(idx)  # cell index of (mu side, first right point)
                y_cuts = [near, *sorted(ys), far_y]
                y_signs = [signs[first + j] for j in range(len(idx) + 1)]
            if not all(near < c < far_y for c in ys):  # pragma: no cover - guard
                raise InvalidArgument("a crossing point lies outside the checked range")
            total += 2 * _sign_defect(law, v, side, y_cuts, y_signs)
        return Fraction(Bound.from_arb(total, 128).upper)
