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

The inverse transform ``o~ = fl(F* z~) / N`` then differs from ``c~ = F* y^T / N`` at every
position by at most ``E = sum_k |z~_k - y_k^T| / N + rho_N ||z~||_2 / sqrt(N)`` (the first
through ``|F* v|_inf <= ||v||_1``, the second by Theorem 24.2 and ``|.|_inf <= ||.||_2``).

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
    inverse_fft,
    pairwise_levels,
    pairwise_sum,
    real_fft,
    real_stages,
    stages,
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


def _chain_power(base: np.ndarray, exponent: int) -> np.ndarray:
    """``base^exponent`` (real or complex floats, exponent >= 1) by binary powering: an
    unfolded chain of ``exponent - 1`` rounded products (module docstring)."""
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
    :func:`_chain_power`, its ``exponent - 1`` roundings undone by an exact factor, underflow by
    ``_TINY``."""
    with ctx.workprec(64):
        factor = _float_up((1 - arb(UNIT)) ** (-exponent))
    return _chain_power(base, exponent) * factor * _UP + _TINY


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
                moments: tuple[float, float]) -> float:
    """The t minimising ``f(t) = count K(t) - t b`` (K of :func:`_tilted`) over t > 0
    (``high``) or t < 0, in floats: Newton's method on the convex f, kept inside a bracket that
    each iterate's slope shrinks (bisection where Newton leaves it), from the normal
    approximation's root (``moments``: the step's mean and variance in nodes,
    :func:`~certify.accounting.pld_grid.node_moments`); ``|t| (n - 1) <= 600`` keeps r^j
    finite. Only the bound's tightness depends on the result: the iteration stops once a step
    would change the exponent by less than 10^-3."""
    limit = 600.0 / max(xf.size - 1, 1)
    edge = limit if high else -limit
    lo, hi = (0.0, limit) if high else (-limit, 0.0)
    with np.errstate(divide="ignore"):
        log_x = np.log(xf)
    mean, var = moments
    t = (b / count - mean) / var if var > 0 else edge / 2
    if not lo < t < hi:
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
        if abs(step * slope) < 1e-3 or abs(slope) * (hi - lo) < 1e-3:
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
                moments: tuple[float, float]) -> arb:
    """A certified upper bound on the composed mass at indices ``>= b`` (``high``) or ``<= b``:
    Chernoff's bound (module docstring) at a float-chosen r (only its tightness depends on the
    choice; ``moments`` as for :func:`_chernoff_t`); 1 when no useful r is found."""
    r = math.exp(_chernoff_t(xf, count, b, high, moments))
    if r == 1.0 or (r < 1.0) == high:
        return arb(1)
    m = _mgf_up(xf, r)
    if not m.is_finite():
        return arb(1)
    value = (count * m.log() - b * arb(r).log()).exp()
    return value if value < 1 else arb(1)


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
    while size <= MAX_LENGTH:
        start = max(0, min(round(mean - size / 2), last + 1 - size))
        tau_lo = _tail_bound(xf, count, start - 1, False, moments) if start > 0 else arb(0)
        tau_hi = (_tail_bound(xf, count, start + size, True, moments)
                  if start + size <= last else arb(0))
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
        raw = np.nextafter(window + error, np.inf)
        masses = np.ceil(np.maximum(raw, 0.0) * 2.0**bits)
    else:
        raw = np.nextafter(window - np.nextafter(error + tau, np.inf), -np.inf)
        masses = np.floor(np.maximum(raw, 0.0) * 2.0**bits)
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
    error (module docstring); None if a bound is not finite. A frequency whose bound
    ``U_k^T`` on ``|y_k|^T`` is below its error bound is dropped (``z~_k = 0``, error
    ``U_k^T``)."""
    n = xf.size
    padded = np.zeros(size)
    padded[:n] = xf
    y = np.empty(size, dtype=np.complex128)
    half = size // 2
    y[: half + 1] = real_fft(padded, n)
    y[half + 1:] = np.conj(y[1:half][::-1])  # exact: y_(N-k) = conj(y_k) for a real input
    rho_forward = fft_error_factor(real_stages(size, n))
    eps2 = math.sqrt(size) * _norm_up(xf) * (rho_forward + 2 * UNIT) * _UP * _UP
    e_direct = mass * _UP * (TWIDDLE_ERROR + 2 * UNIT + math.sqrt(2) * gamma(pairwise_levels(n)))
    e_direct *= _UP
    with ctx.workprec(64):
        chain = _float_up((1 + arb(math.sqrt(2) * gamma(2) * _UP)) ** (count - 1) - 1)
    bound_u = (_modulus_up(y) + eps2) * _UP
    bound_p = _real_power_up(bound_u, count - 1)
    errors = bound_p * (count * eps2 + chain * bound_u) * _UP
    direct = _direct_set(errors, bound_p, count * e_direct + chain * bound_u, size)
    if direct.size:
        exact = _direct_dft(xf, direct, size)
        y[direct] = exact
        mirror = (size - direct) % size
        y[mirror] = np.conj(exact)
        touched = np.union1d(direct, mirror)
        bound_u[touched] = (_modulus_up(y[touched]) + e_direct) * _UP
        bound_p[touched] = _real_power_up(bound_u[touched], count - 1)
        errors[touched] = bound_p[touched] * (count * e_direct + chain * bound_u[touched]) * _UP
    dropped = bound_p * bound_u * _UP  # >= |y_k|^T, the error of z~_k = 0
    kept = dropped > np.maximum(errors, _NEGLIGIBLE)
    keep = np.flatnonzero(kept)
    errors = np.where(kept, errors, dropped)
    if not (np.all(np.isfinite(errors)) and np.all(np.isfinite(y[keep]))):
        return None
    z = _chain_power(y[keep], count)
    if not np.all(np.isfinite(z)):
        return None
    total_error = float(pairwise_sum(errors)) * (1 + gamma(pairwise_levels(size))) * _UP
    values, inverse_error = _band_inverse(z, keep, size)
    return values, (total_error / size + inverse_error) * _UP + _TINY + count * _TINY


def _band_inverse(z: np.ndarray, ks: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """``(v, e)``: ``v_p ~ Re sum_k z_k w^(-pk) / N`` over the frequencies ``ks`` (the others
    zero), and a bound e on ``|v_p - that|`` for every p. The frequencies lie in a band
    ``[-K, K]`` (mod N); rotated to ``[0, 2K]`` they make a vector whose inverse transform
    only rounds in ``log2(2K + 1)`` stages (:func:`certify.numerics.fft.fft` with a support),
    and the rotation is undone by one product with ``w^(pK)`` per position (error at most
    ``(mu + sqrt(2) gamma_2 (1 + mu)) |.|``). The transform's error is Higham's Theorem 24.2
    (``<= rho ||z||_2 sqrt(N)``, then ``|.|_inf <= ||.||_2``), the product's at most its
    relative error times ``sum |z_k|`` (all over N)."""
    signed = np.where(ks > size // 2, ks - size, ks)
    band = int(np.max(np.abs(signed))) if ks.size else 0
    rotated = np.zeros(size, dtype=np.complex128)
    rotated[(signed + band) % size] = z
    support = min(2 * band + 1, size)
    raw = inverse_fft(rotated, support)
    table = twiddles(size)
    turned = raw * table[(-band * np.arange(size, dtype=np.int64)) % size].conj()
    z_norm = _norm_up(z)
    z_sum = float(pairwise_sum(_modulus_up(z))) * _UP
    rho = fft_error_factor(stages(size, support))
    turn = TWIDDLE_ERROR + math.sqrt(2) * gamma(2) * (1 + TWIDDLE_ERROR)
    error = (rho * z_norm * math.sqrt(size) * (1 + turn) + turn * z_sum * (1 + rho)) / size
    return turned.real / size, error * _UP


def _direct_set(fft_errors: np.ndarray, powers: np.ndarray, direct_factor: np.ndarray,
                size: int) -> np.ndarray:
    """The frequencies ``k <= N/2`` to sum directly: by decreasing FFT error bound (pairs k,
    N - k together) until what is left is below the direct sums' own total, at most
    :data:`MAX_DIRECT` of them (only work and tightness depend on the choice)."""
    half = size // 2
    ks = np.arange(half + 1)
    pair = fft_errors[ks] + np.where((ks > 0) & (ks < half), fft_errors[(size - ks) % size], 0)
    target = float(np.sum(powers * direct_factor))
    remaining = float(pair.sum())
    top = np.argpartition(pair, -MAX_DIRECT)[-MAX_DIRECT:] if pair.size > MAX_DIRECT \
        else np.arange(pair.size)
    order = top[np.argsort(pair[top])[::-1]]
    chosen = []
    for k in order:
        if remaining <= target:
            break
        chosen.append(int(k))
        remaining -= float(pair[k])
    return np.array(sorted(chosen), dtype=np.int64)


def _direct_dft(xf: np.ndarray, ks: np.ndarray, size: int) -> np.ndarray:
    """``sum_j x~_j w~^(jk)`` for each k in ``ks``, by pairwise sums (error: ``e_K`` of the
    module docstring)."""
    table = twiddles(size)
    j = np.arange(xf.size, dtype=np.int64)
    index = np.outer(ks, j) % size
    terms = table[index] * xf[None, :]
    return pairwise_sum(terms.real) + 1j * pairwise_sum(terms.imag)


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


__all__ = ["MAX_DIRECT", "MIN_COUNT", "Powered", "grid_power", "power"]
