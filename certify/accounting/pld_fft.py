"""The T-fold convolution power of a one-step grid measure by one FFT, with a rigorous bound.

The composition loop of :mod:`certify.accounting.pld_grid` squares exact integer measures about
``2 log2 T`` times. This module computes the same power ``c = x^{*T}`` of the one-step measure
``x`` (non-negative masses ``x_j``, ``j < n``, units of 1 here) as dp-accounting does -- one
forward transform, a pointwise power, one inverse transform -- and bounds every error of the
floating-point work a priori, so that the integer measure it returns is *pointwise* above ``c``
(an upper pipeline) or below it (a lower one). Pointwise order is all the pipelines need: the
privacy profile ``D`` is non-decreasing in every mass (:mod:`certify.accounting.pld_grid`).
The floating-point model is the one of :mod:`certify.numerics.fft` (IEEE round-to-nearest,
relative error ``u = 2^-53`` per operation, an absolute ``2^-1022`` per operation for underflow).

*The window and aliasing* (our derivation). The transform has length N (a power of two) and
computes the cyclic power ``c~_p = sum_m c_{p + mN}``. The composed masses are read on the window
``[A, A + N)`` of composed indices (position ``p = i mod N``), so ``c~`` exceeds ``c`` there by
the mass of ``c`` outside the window, at most ``tau = tau_lo + tau_hi`` in all. The tails are
bounded by Chernoff's inequality with the exact moment generating function: for ``r > 1``,
``c([b, inf)) <= r^-b M(r)^T``, for ``r < 1``, ``c([0, b]) <= r^-b M(r)^T``, ``M(r) = sum_j x_j
r^j`` (the mass of ``{S >= b}`` under the product measure is at most ``E r^(S - b)``). ``M`` is
bounded above in floats: ``r^j`` by a running product (``j - 1`` roundings), the terms and a
pairwise sum (:func:`certify.numerics.fft.pairwise_sum`), each rounding undone by its factor.

*The error of the power* (our derivation, from Higham 2002, Theorem 24.2, for the transforms).
Write ``y = F x`` (exact) and ``y~`` for what is used: the FFT of the float masses ``x~``
(``|x~_j - x_j| <= u x_j``) -- the real-input transform of :func:`certify.numerics.fft.real_fft`
(a half-length complex FFT and a split stage; ``y~_(N-k) = conj(y~_k)`` exactly) -- whose error
obeys ``||y~ - y||_2 <= eps2 = sqrt(N) ||x~||_2 (rho + 2 u)`` (Theorem 24.2 with the split's
two extra stages, plus the conversion); hence ``|y~_k - y_k| <= eps2`` for every k.
Where ``eps2`` matters -- the few low frequencies at which ``|y_k|^T`` is not negligible --
``y_k`` is instead summed directly, ``sum_j x~_j w~^(jk)``, with error at most ``e_K = |x|
(mu + 2 u + sqrt(2) gamma_L)`` (twiddle error ``mu``, the products, a pairwise sum of depth L).
With ``U_k >= max(|y~_k|, |y_k|)`` (the computed modulus plus the error) and the power formed by
any multiplication chain (relative error ``(1 + sqrt(2) gamma_2)^(T-1) - 1 =: C_T`` on
``y~_k^T``: an unfolded chain has T - 1 products),

    |z~_k - y_k^T| <= T e_k U_k^(T-1) + C_T U_k^T   (|a^T - b^T| <= T |a - b| max(|a|,|b|)^(T-1)).

A frequency is dropped (``z~_k = 0``, error ``U_k^T``) where that is below its error bound,
and unexamined where the computed ``|y~_k|`` shows ``U_k <= theta`` (``N theta^T <= 2^-300``:
error ``theta^T`` each). Only the half spectrum ``k <= N/2`` is formed: ``y_(N-k) =
conj(y_k)``, every bound is the same at ``N - k``, and the inverse reads the Hermitian ``z~``
(``z~_(N-k) = conj(z~_k)``; at 0 and N/2, where ``y_k^T`` is real, the real part, no farther
from it), so the errors of ``0 < k < N/2`` count twice. The inverse transform ``o~ = fl(F* z~)
/ N`` (:func:`certify.numerics.fft.real_inverse_fft`: one complex transform of length N/2 and
a split) then differs from ``c~ = F* y^T / N`` at every position by at most ``E = sum_k |z~_k -
y_k^T| / N + e_inv / N``: the first term through ``|F* v|_inf <= ||v||_1``, ``e_inv`` the
pointwise bound of :func:`certify.numerics.fft.real_inverse_error` from ``||z~||_2`` and
``||z~||_1`` (Theorem 24.2 for the half-length transform, and the split's own roundings).

*The returned measure*: upper, ``ceil((o~_p + E) 2^bits)`` at window node i (>= ``c~_i >=
c_i``), the mass below the window (``<= tau_lo``) added to the first node (moved up) and the
mass above it (``<= tau_hi``) to +infinity; lower, ``floor((o~_p - E - tau) 2^bits)`` clipped
at 0 (``<= c~_i - tau <= c_i``), nothing outside. The mass at +infinity of the power is
``(|x| + x_inf)^T - |x|^T``, from Arb, rounded in the pipeline's direction. Every float bound
above is computed with its own rounding undone by a factor ``1 + 2^-40`` (or an exact power
from Arb), so the whole is a certificate under the IEEE model.

*When it is used* (:func:`power`): the caller gives a budget -- what the exact loop's
truncations and roundings may cost (units 2^-bits) -- and the FFT result is returned only if
its pointwise slack summed over the window, ``N (E + tau + 2^-bits) + tau``, fits in it; else
None, and the caller runs the exact loop. Only work depends on that choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, ctx

from certify.accounting.pld_grid import GridPLD, from_words, node_moments, to_fixed, to_words
from certify.accounting.pld_words import MAX_BITS, Words, exact_sum, truncate
from certify.numerics.fft import (
    MAX_LENGTH,
    TWIDDLE_ERROR,
    UNIT,
    fft_error_factor,
    gamma,
    pairwise_levels,
    pairwise_sum,
    real_fft,
    real_inverse_error,
    real_inverse_fft,
    real_stages,
    twiddles,
)

#: a factor that covers a handful of roundings of a non-negative float bound
_UP = 1 + 2.0**-40
#: absolute slack for underflow (per quantity; far above every 2^-1022 term it covers)
_TINY = 2.0**-900
#: a frequency whose power is bounded below this is dropped (it costs at most this over N)
_NEGLIGIBLE = 2.0**-200
#: the most low frequencies summed directly (each costs n multiply-adds)
MAX_DIRECT = 256
#: fewer steps than this are composed by the exact loop: over issue 5's (q, sigma) grid, where
#: the FFT's window is taken, whole requests measured 1-12% slower with it at T = 20, 1-7%
#: faster at T = 50, 10-19% faster at T = 100-200 and 10-35% from T = 300 on
MIN_COUNT = 64
#: the Chernoff parameter's search stops once a step would lower the bound's exponent by less
#: than this (a bound at most ~1% above the optimum's: the tails it bounds are below 2^-40 of
#: the window's budget anyway; 10^-3 took up to 7 evaluations per cut, 10^-2 about 4)
_CHERNOFF_SLACK = 1e-2
#: Newton steps choosing a Chernoff parameter (:func:`_chernoff_t`)
_NEWTON_STEPS = 40
#: the shortest window tried, in composed standard deviations
_SPAN = 12.0


def _floats(w: np.ndarray, bits: int) -> np.ndarray:
    """The words as floats in units of 1: one rounding (the sum of the exact halves)."""
    high = (w >> np.uint64(32)).astype(np.float64)
    low = (w & np.uint64(0xFFFFFFFF)).astype(np.float64)
    return (high * 2.0**32 + low) * 2.0**-bits


def _float_up(value: arb) -> float:
    """A float >= every point of the ball (finite balls only)."""
    up = float(value.upper())
    return float(np.nextafter(up, np.inf))


def chain_power(base: np.ndarray, exponent: int) -> np.ndarray:
    """``base^exponent`` (real or complex floats, exponent >= 1) by binary powering: an
    unfolded chain of ``exponent - 1`` rounded products (module docstring; the pilot's powers,
    :mod:`certify.accounting.pld_pilot`, use it too)."""
    result, square, e = np.ones_like(base), base.copy(), exponent
    while True:
        if e & 1:
            result = result * square
        e >>= 1
        if not e:
            return result
        square = square * square


def _real_power_up(base: np.ndarray, exponent: int) -> np.ndarray:
    """An upper bound on ``base^exponent`` (non-negative floats, exponent >= 1):
    :func:`chain_power`, its ``exponent - 1`` roundings undone by an exact factor, underflow by
    ``_TINY``."""
    with ctx.workprec(64):
        factor = _float_up((1 - arb(UNIT)) ** (-exponent))
    return chain_power(base, exponent) * factor * _UP + _TINY


def _modulus_up(v: np.ndarray) -> np.ndarray:
    """Upper bounds on ``|v_k|``: ``sqrt(re^2 + im^2)`` (three roundings) times ``1 + 2^-40``."""
    return np.sqrt(v.real * v.real + v.imag * v.imag) * _UP


def _norm_up(v: np.ndarray) -> float:
    """An upper bound on ``||v||_2`` (real or complex): the squares, a pairwise sum and a square
    root, their roundings covered by ``(1 + 2^-40)^2``."""
    squares = v.real * v.real + v.imag * v.imag if np.iscomplexobj(v) else v * v
    return math.sqrt(float(pairwise_sum(squares))) * _UP * _UP


def _mgf_up(xf: np.ndarray, r: float) -> arb:
    """An upper bound (a ball whose upper end is one) on ``M(r) = sum_j x_j r^j`` from the float
    masses (module docstring)."""
    n = xf.size
    powers = np.empty(n)
    powers[0] = 1.0
    if n > 1:
        powers[1:] = np.cumprod(np.full(n - 1, r))
    total = float(pairwise_sum(xf * powers))
    if not math.isfinite(total):
        return arb("inf")
    levels = pairwise_levels(n)
    return ((arb(total) / (1 - arb(gamma(levels))) + n * _TINY)
            * (1 - arb(UNIT)) ** (-(n + 1)))


def _tilted(log_x: np.ndarray, t: float) -> tuple[float, float, float]:
    """``(K(t), K'(t), K''(t))`` for ``K(t) = log sum_j x~_j e^(t j)`` from ``log x~_j``, in
    floats: the log-MGF and the mean and variance of the tilted measure (only chooses the
    Chernoff parameter)."""
    j = np.arange(log_x.size, dtype=np.float64)
    logs = log_x + t * j
    top = float(np.max(logs))
    e = np.exp(logs - top)
    total = float(np.sum(e))
    mean = float(e @ j) / total
    second = float(e @ (j * j)) / total
    return top + math.log(total), mean, max(second - mean * mean, 0.0)


def _chernoff_t(xf: np.ndarray, count: int, b: int, high: bool,
                moments: tuple[float, float], start: float | None = None) -> float:
    """The t minimising ``f(t) = count K(t) - t b`` (K of :func:`_tilted`) over t > 0
    (``high``) or t < 0, in floats: Newton's method on the convex f, kept inside a bracket that
    each iterate's slope shrinks (bisection where Newton leaves it), from the normal
    approximation's root (``moments``: the step's mean and variance in nodes,
    :func:`~certify.accounting.pld_grid.node_moments`); ``|t| (n - 1) <= 600`` keeps r^j
    finite; ``start``, when given and inside the range, replaces that first point (the
    parameter of a nearby cut, :func:`_window`). Only the bound's tightness depends on the
    result: the iteration stops once a step would change the exponent by less than
    :data:`_CHERNOFF_SLACK`."""
    limit = 600.0 / max(xf.size - 1, 1)
    edge = limit if high else -limit
    lo, hi = (0.0, limit) if high else (-limit, 0.0)
    with np.errstate(divide="ignore"):
        log_x = np.log(xf)
    mean, var = moments
    t = (b / count - mean) / var if var > 0 else edge / 2
    if start is not None and lo < start < hi:
        t = start
    elif not lo < t < hi:
        t = edge / 2
    for _ in range(_NEWTON_STEPS):
        _, slope1, curve1 = _tilted(log_x, t)
        slope, curve = count * slope1 - b, count * curve1
        if slope > 0:
            hi = t
        else:
            lo = t
        if t == edge and (slope < 0) == high:
            break  # f still falls at the edge: the minimum over the range is there
        step = -slope / curve if curve > 0 else math.nan
        # convexity: no t in the bracket lowers f by more than |slope| (hi - lo)
        if abs(step * slope) < _CHERNOFF_SLACK or abs(slope) * (hi - lo) < _CHERNOFF_SLACK:
            break
        nxt = t + step
        if lo < nxt < hi:
            t = nxt
        elif (nxt >= hi) == high and (hi if high else lo) == edge:
            t = edge  # Newton points past the edge: try the edge itself
        else:
            t = (lo + hi) / 2
    return t


def _tail_bound(xf: np.ndarray, count: int, b: int, high: bool,
                moments: tuple[float, float], start: float | None = None
                ) -> tuple[arb, float]:
    """A certified upper bound on the composed mass at indices ``>= b`` (``high``) or ``<= b``:
    Chernoff's bound (module docstring) at a float-chosen r (only its tightness depends on the
    choice; ``moments`` and ``start`` as for :func:`_chernoff_t`), 1 when no useful r is found;
    and the parameter t = log r chosen."""
    t = _chernoff_t(xf, count, b, high, moments, start)
    r = math.exp(t)
    if r == 1.0 or (r < 1.0) == high:
        return arb(1), t
    m = _mgf_up(xf, r)
    if not m.is_finite():
        return arb(1), t
    value = (count * m.log() - b * arb(r).log()).exp()
    return (value if value < 1 else arb(1)), t


def _window(xf: np.ndarray, count: int, limit: float) -> tuple[int, int, arb, arb] | None:
    """``(A, N, tau_lo, tau_hi)``: a window of N (a power of two, at least the step's length
    and :data:`_SPAN` composed standard deviations) composed indices from A, centred on the
    mean, whose tail bounds sum to at most ``limit / (16 N)``, doubling N until they do;
    None past :data:`certify.numerics.fft.MAX_LENGTH`, or when the step is longer than
    :data:`_SPAN` composed deviations (a long, mostly negligible one-step tail: there the exact
    loop squares only the step's core, :mod:`certify.accounting.pld_rare`, and measured faster
    -- e.g. (q, sigma, T) = (0.001, 0.5, 300) 43 ms exact against 65 ms by FFT)."""
    n = xf.size
    moments = node_moments(xf)
    if moments is None:
        return None
    mean1, var1 = moments[0], max(moments[1], 1e-12)
    mean, sd, last = count * mean1, math.sqrt(count * var1), count * (n - 1)
    if n > _SPAN * sd:
        return None  # the step's length, not the composition's spread, would set N
    size = 1 << max(math.ceil(_SPAN * sd), n - 1, 1).bit_length()
    t_lo: float | None = None  # each tail's parameter at the last size: the next one's start
    t_hi: float | None = None
    while size <= MAX_LENGTH:
        start = max(0, min(round(mean - size / 2), last + 1 - size))
        tau_lo, tau_hi = arb(0), arb(0)
        if start > 0:
            tau_lo, t_lo = _tail_bound(xf, count, start - 1, False, moments, t_lo)
        if start + size <= last:
            tau_hi, t_hi = _tail_bound(xf, count, start + size, True, moments, t_hi)
        if tau_lo + tau_hi <= limit / (16 * size):
            return start, size, tau_lo, tau_hi
        size *= 2
    return None


@dataclass(frozen=True)
class Powered:
    """What :func:`power` returns: the bounding measure ``words``, and the float estimate of
    the power on the whole window from node ``first`` (units of 1; it only steers the merging
    rule, :func:`certify.accounting.pld_step.rest_density`)."""

    words: Words
    estimate: np.ndarray
    first: int


def power(step: Words, count: int, bits: int, up: bool, budget: int, eta: int,
          low: int | None = None) -> Powered | None:
    """The ``count``-fold convolution of ``step`` (masses in units 2^-bits) as a measure that is
    pointwise above (``up``) or below the exact power, tails of mass ``eta`` then truncated as
    in the exact loop (:func:`certify.accounting.pld_words.truncate`); None when the bound's
    total slack exceeds ``budget`` (units 2^-bits) or the transform would be too long.
    ``low``: the result is read at nodes >= low only; the mass below that node is lumped on it
    (upper: moved up) or dropped (lower), the monotone couplings of
    :mod:`certify.accounting.pld_grid`."""
    w = step.w
    n = int(w.size)
    if count < 2 or n == 0 or not 1 <= bits <= MAX_BITS:
        return None
    unit = 2.0**-bits
    xf = _floats(w, bits)
    limit = budget * unit
    found = _window(xf, count, limit)
    if found is None:
        return None
    start, size, tau_lo, tau_hi = found
    tau = _float_up(tau_lo + tau_hi)
    finite = exact_sum(w)
    slack = _slack(xf, finite * unit, count, size)
    if slack is None:
        return None
    values, error = slack
    cost = size * (error + tau + unit) + tau
    if not cost <= limit:
        return None
    window = np.roll(values, -(start % size))
    if up:
        masses = _step_up(window + error)
        np.ceil(masses * 2.0**bits, out=masses)
    else:
        masses = _step_down(window - float(np.nextafter(error + tau, np.inf)))
        np.floor(masses * 2.0**bits, out=masses)
    if not masses.max() < 2.0**64:
        return None
    words = masses.astype(np.uint64)
    infinity = _infinity(finite, step.infinity, count, bits, up)
    if up:
        low_mass = to_fixed(tau_lo, bits, True)
        if int(words[0]) + low_mass >= 1 << 64:
            return None
        words[0] += np.uint64(low_mass)
        infinity += to_fixed(tau_hi, bits, True)
    first = count * step.offset + start
    cut = 0 if low is None else min(max(low - first, 0), size - 1)
    if cut and up:
        head = exact_sum(words[:cut]) + int(words[cut])
        if head >= 1 << 64:
            return None
        words = words[cut:].copy()
        words[0] = np.uint64(head)
    elif cut:
        words = words[cut:]
    out = truncate(Words(first + cut, words, infinity), eta, up)
    return None if out is None else Powered(out, window, first)


def _step_up(raw: np.ndarray) -> np.ndarray:
    """``max(nextafter(raw, +inf), 0)`` elementwise (in place; covers the rounding of the sum
    that made ``raw``): on a non-negative float the next one up is its bit pattern plus one
    (+0 to the least subnormal, the largest finite to +inf; +inf to NaN and NaN stays NaN,
    both refused by the caller), and a negative ``raw`` has a negative exact sum (rounding to
    nearest keeps the sign), so 0. Measured 20 times faster than ``np.nextafter``."""
    above = raw >= 0
    np.maximum(raw, 0.0, out=raw)
    bits = raw.view(np.int64)
    bits += above
    return raw


def _step_down(raw: np.ndarray) -> np.ndarray:
    """``max(nextafter(raw, -inf), 0)`` elementwise (in place): on a positive float the bit
    pattern minus one (the least subnormal to +0, +inf to the largest finite, NaN stays NaN),
    and 0 on the rest."""
    np.maximum(raw, 0.0, out=raw)
    bits = raw.view(np.int64)
    bits -= 1
    np.maximum(bits, 0, out=bits)
    return raw


def _infinity(finite: int, infinity: int, count: int, bits: int, up: bool) -> int:
    """The mass at +infinity of the power, ``(|x| + x_inf)^T - |x|^T`` (units 2^-bits)."""
    if infinity == 0:
        return 0
    with ctx.workprec(bits + 64):
        scale = arb(2) ** -bits
        value = (arb(finite + infinity) * scale) ** count - (arb(finite) * scale) ** count
        return to_fixed(value, bits, up)


def _slack(xf: np.ndarray, mass: float, count: int, size: int
           ) -> tuple[np.ndarray, float] | None:
    """``(o~, E)``: the cyclic power's float values on the N positions and the bound E on their
    error (module docstring); None if a bound is not finite. Only the half spectrum ``k <=
    N/2`` is formed: every bound at ``N - k`` equals the one at k (``y_(N-k) = conj(y_k)``, and
    the inverse reads ``z~_(N-k) = conj(z~_k)``), so the errors of ``0 < k < N/2`` count twice
    (an exact doubling). A frequency whose bound ``U_k^T`` on ``|y_k|^T`` is below its error
    bound is dropped (``z~_k = 0``, error ``U_k^T``); so is every k whose computed ``|y~_k|^2``
    shows ``|y_k| <= |y~_k| + eps2 <= theta`` (:func:`_threshold`), at once: their errors sum to
    at most ``N theta^T`` (from Arb, <= 2^-300), and only the few others are worked on. The
    candidates' error sum is a pairwise sum (its ``gamma_L`` covered by the factor ``1 +
    gamma_L``), plus that term."""
    n = xf.size
    half = size // 2
    padded = np.zeros(size)
    padded[:n] = xf
    y = real_fft(padded, n)
    rho_forward = fft_error_factor(real_stages(size, n))
    eps2 = math.sqrt(size) * _norm_up(xf) * (rho_forward + 2 * UNIT) * _UP * _UP
    e_direct = mass * _UP * (TWIDDLE_ERROR + 2 * UNIT + math.sqrt(2) * gamma(pairwise_levels(n)))
    e_direct *= _UP
    with ctx.workprec(64):
        chain = _float_up((1 + arb(math.sqrt(2) * gamma(2) * _UP)) ** (count - 1) - 1)
    theta, rest_power = _threshold(count, size)
    # a computed |y~_k|^2 <= lim2 means |y~_k| <= lim: its three roundings (and underflow, at
    # most 2^-1073 in all, far below 2^-41 lim^2 as lim >= 2^-400) inside the factors
    # 1 - 2^-40 of lim2; lim < theta - eps2, so |y_k| <= |y~_k| + eps2 < theta
    lim = (theta - eps2) * (1 - 2.0**-40)
    lim2 = lim * lim * (1 - 2.0**-40) if lim >= 2.0**-400 else -1.0
    ks = np.flatnonzero(~(y.real * y.real + y.imag * y.imag <= lim2))  # NaN is a candidate
    weights = np.full(ks.size, 2.0)  # k and N - k
    weights[(ks == 0) | (ks == half)] = 1.0
    rest_error = (size - float(np.sum(weights))) * rest_power * _UP  # exact count, one rounding
    y = y[ks]
    bound_u = (_modulus_up(y) + eps2) * _UP
    bound_p = _real_power_up(bound_u, count - 1)
    errors = bound_p * (count * eps2 + chain * bound_u) * _UP
    direct = _direct_set(errors * weights, bound_p * (count * e_direct + chain * bound_u),
                         weights)
    if direct.size:
        exact = _direct_dft(xf, ks[direct], size)
        y[direct] = exact
        bound_u[direct] = (_modulus_up(exact) + e_direct) * _UP
        bound_p[direct] = _real_power_up(bound_u[direct], count - 1)
        errors[direct] = bound_p[direct] * (count * e_direct + chain * bound_u[direct]) * _UP
    dropped = bound_p * bound_u * _UP  # >= |y_k|^T, the error of z~_k = 0
    kept = dropped > np.maximum(errors, _NEGLIGIBLE)
    errors = np.where(kept, errors, dropped) * weights
    if not (np.all(np.isfinite(errors)) and np.all(np.isfinite(y[kept]))):
        return None
    z = chain_power(y[kept], count)
    if not np.all(np.isfinite(z)):
        return None
    total_error = (float(pairwise_sum(errors)) * (1 + gamma(pairwise_levels(ks.size)))
                   + rest_error) * _UP * _UP
    values, inverse_error = _band_inverse(z, ks[kept], size)
    return values, (total_error / size + inverse_error) * _UP + _TINY + count * _TINY


def _threshold(count: int, size: int) -> tuple[float, float]:
    """``(theta, P)``: the modulus bound below which :func:`_slack` drops a frequency
    unexamined, ``theta = 2^(-(300 + log2 N) / T)`` in floats (any value is sound), and ``P >=
    theta^T`` from Arb."""
    theta = 2.0 ** (-(300 + math.log2(size)) / count)
    with ctx.workprec(64):
        return theta, _float_up(arb(theta) ** count)


def _band_inverse(z: np.ndarray, ks: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """``(v, e)``: ``v_p ~ sum_k V_k w^(-pk) / N`` for the Hermitian V with ``V_k = z_i`` at the
    frequencies ``k = ks_i <= N/2`` (increasing), ``V_(N-k) = conj(V_k)`` (real parts at 0 and
    N/2), zero elsewhere, and a bound e on ``|v_p - that|`` for every p: by
    :func:`certify.numerics.fft.real_inverse_fft` (one complex transform of length N/2 over the
    band ``[-K, K]``, ``K = max ks``, when it is narrow) with the pointwise error bound of
    :func:`certify.numerics.fft.real_inverse_error` from ``||V||_2`` and ``||V||_1``
    (:func:`_half_norms_up`), over N (division by N is exact, underflow aside)."""
    band = int(ks[-1]) if ks.size else 0
    half = np.zeros(band + 1, dtype=np.complex128)
    half[ks] = z
    values = real_inverse_fft(half, size)
    values *= 1.0 / size
    norm2, norm1 = _half_norms_up(half, size)
    return values, real_inverse_error(size, band, norm2, norm1) / size * _UP


def _half_norms_up(half: np.ndarray, size: int) -> tuple[float, float]:
    """Upper bounds on ``||V||_2`` and ``||V||_1`` for the Hermitian V of length N = size given
    by ``half`` (``V_k``, ``k <= K <= N/2``; :func:`_band_inverse`): ``Re V_0``, each ``0 < k <
    N/2`` twice (``V_k`` and ``V_(N-k)``: an exact doubling), ``Re V_(N/2)``; the roundings of
    the squares, the moduli, the pairwise sums (``gamma_L < 2^-48``) and the square root
    covered by ``(1 + 2^-40)^2`` as in :func:`_norm_up`."""
    squares = half.real * half.real + half.imag * half.imag
    squares[0] = half[0].real * half[0].real
    middle = size // 2
    if half.size > middle:
        squares[middle] = half[middle].real * half[middle].real
    moduli = np.sqrt(squares)
    squares[1:middle] *= 2
    moduli[1:middle] *= 2
    norm2 = math.sqrt(float(pairwise_sum(squares))) * _UP * _UP
    norm1 = float(pairwise_sum(moduli)) * _UP * _UP
    return norm2, norm1


def _direct_set(fft_errors: np.ndarray, direct_errors: np.ndarray, weights: np.ndarray
                ) -> np.ndarray:
    """The positions (in the arguments) of the frequencies to sum directly, by decreasing FFT
    error bound ``fft_errors`` until what is left is below the direct sums' own total
    (``direct_errors`` weighted by ``weights``), at most :data:`MAX_DIRECT` of them (only work
    and tightness depend on the choice)."""
    target = float(direct_errors @ weights)
    remaining = float(fft_errors.sum())
    top = np.argpartition(fft_errors, -MAX_DIRECT)[-MAX_DIRECT:] \
        if fft_errors.size > MAX_DIRECT else np.arange(fft_errors.size)
    order = top[np.argsort(fft_errors[top])[::-1]]
    chosen = []
    for k in order:
        if remaining <= target:
            break
        chosen.append(int(k))
        remaining -= float(fft_errors[k])
    return np.array(sorted(chosen), dtype=np.int64)


def _direct_dft(xf: np.ndarray, ks: np.ndarray, size: int) -> np.ndarray:
    """``sum_j x~_j w~^(jk)`` for each k in ``ks``, by pairwise sums (error: ``e_K`` of the
    module docstring; a complex sum is the two real sums, each within ``gamma_L sum |a_j|``)."""
    table = twiddles(size)
    j = np.arange(xf.size, dtype=np.int64)
    index = np.outer(j, ks)
    index &= size - 1  # mod N, a power of two
    terms = table[index]
    terms *= xf[:, None]
    return pairwise_sum(terms, axis=0)


def grid_power(step: GridPLD, count: int, budget: int, eta: int, low: Fraction | None = None
               ) -> GridPLD | None:
    """:func:`power` on a grid measure (None where its masses do not fit words or the bound
    does not fit ``budget``). With ``low`` (a loss), the result is resolved from the node at or
    below it and records its float estimate as the factors of a partial product (the power
    times the unit atom at 0) for the merging rule."""
    if count < MIN_COUNT:
        return None
    words = to_words(step)
    if words is None:
        return None
    shift = count * step.shift
    node = None if low is None else math.floor((low - shift) / step.h)
    out = power(words, count, step.bits, step.upper, budget, eta, node)
    if out is None:
        return None
    if node is None:
        return from_words(out.words, step, shift)
    factors = ((out.first, out.estimate), (0, np.ones(1)))
    span = out.words.offset - out.first + out.words.length
    return from_words(out.words, step, shift, factors, span)


__all__ = ["MAX_DIRECT", "MIN_COUNT", "Powered", "chain_power", "grid_power", "power"]
