"""A radix-2 FFT in IEEE double precision with a rigorous a-priori error bound.

Every operation here is a numpy elementwise IEEE-754 operation on float64 (or complex128)
arrays in round-to-nearest, so each real result carries one rounding of relative size at most
``u = 2^-53`` (numpy's ufuncs are correctly rounded for ``+ - * /`` and ``sqrt``; a complex
product is formed from real products and sums, with or without a fused multiply-add, and then
satisfies ``|fl(a b) - a b| <= sqrt(2) gamma_2 |a| |b|``, Higham 2002, "Accuracy and Stability of
Numerical Algorithms", Lemma 3.5, ``gamma_k = k u / (1 - k u)``). Underflow adds an absolute error
of at most ``2^-1022`` per operation (also with flush-to-zero), which callers add as an absolute
term. Nothing here relies on the accuracy of a library's ``exp``, ``sin`` or FFT: twiddle
factors come from Arb, and the transform is our own.

* :func:`twiddles` -- ``w_m = exp(-2 pi i m / N)``, ``0 <= m < N``, with ``|w~_m - w_m| <=``
  :data:`TWIDDLE_ERROR`: two tables of ``sqrt(N)`` values each rounded to nearest from Arb
  balls (error ``<= u + 2^-119`` in modulus), multiplied once in floats (``w_(aB + b) =
  w_(aB) w_b``; error ``<= 2 (u + 2^-119) + sqrt(2) gamma_2 (1 + u)^2 < 5 u``).
* :func:`fft` -- the radix-2 decimation-in-time transform ``y_k = sum_j x_j w^(jk)`` (the
  vectorised Stockham ordering: log2 N stages, each a set of butterflies ``a +- w~ b``). By
  Higham 2002, Theorem 24.2, whose argument is stage by stage and holds for any ordering of
  radix-2 butterflies, the computed ``y~`` satisfies ``||y~ - y||_2 <= rho_N ||y||_2`` with
  ``rho_N = t eta / (1 - t eta)``, ``t = log2 N``, ``eta = mu + gamma_4 (sqrt(2) + mu)``, ``mu``
  the twiddle error (:func:`fft_error_factor`); and ``||y||_2 = sqrt(N) ||x||_2`` (Parseval).
* :func:`pairwise_sum` -- a pairwise (tree) sum whose error is at most ``gamma_L sum |a_i|``,
  ``L = ceil(log2 n)`` (Higham 2002, eq. (4.6)).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from flint import arb, ctx

from certify.errors import InvalidArgument

#: the unit roundoff of IEEE double precision
UNIT = 2.0**-53
#: a bound on ``|w~_m - w_m|`` for the tables of :func:`twiddles` (module docstring)
TWIDDLE_ERROR = 5 * UNIT
#: the largest transform length served (tables of this many complex values are cached)
MAX_LENGTH = 1 << 22


def gamma(k: int) -> float:
    """``gamma_k = k u / (1 - k u)`` (Higham 2002, Lemma 3.1), rounded up generously (a float
    computation of it is within a few ulps; the factor 1 + 2^-40 covers them)."""
    if k * UNIT >= 0.5:
        raise InvalidArgument(f"k={k} is too large for gamma_k.")
    return k * UNIT / (1 - k * UNIT) * (1 + 2.0**-40)


def _check_length(n: int) -> int:
    if n < 1 or n & (n - 1) or n > MAX_LENGTH:
        raise InvalidArgument(f"n={n} must be a power of two in [1, {MAX_LENGTH}].")
    return n.bit_length() - 1


def _nearest(x: arb) -> float:
    """The float nearest to the midpoint of ``x`` (Python's int -> float is correctly rounded;
    ``ldexp`` is exact in the normal range these values live in)."""
    man, exp = x.mid().man_exp()
    return math.ldexp(float(int(man)), int(exp))


def _unit_roots(n: int, step: int, count: int) -> np.ndarray:
    """``exp(-2 pi i step m / n)`` for ``m < count``, each component rounded to nearest from a
    128-bit Arb ball (``n`` a power of two: the angles are exact dyadic rationals)."""
    out = np.empty(count, dtype=np.complex128)
    with ctx.workprec(128):
        for m in range(count):
            sin, cos = (arb(2 * step * m) / n).sin_cos_pi()
            out[m] = complex(_nearest(cos), -_nearest(sin))
    return out


@lru_cache(maxsize=8)
def twiddles(n: int) -> np.ndarray:
    """The table ``w~_m ~ exp(-2 pi i m / n)``, ``0 <= m < n``, with error at most
    :data:`TWIDDLE_ERROR` (module docstring). Read-only; cached per length."""
    t = _check_length(n)
    block = 1 << ((t + 1) // 2)
    low = _unit_roots(n, 1, block)
    high = _unit_roots(n, block, n // block)
    table = (high[:, None] * low[None, :]).ravel()
    table.setflags(write=False)
    return table


def fft(x: np.ndarray, support: int | None = None) -> np.ndarray:
    """The unnormalised DFT ``y_k = sum_j x_j exp(-2 pi i jk / N)`` of a complex vector whose
    length N is a power of two, by radix-2 butterflies with the twiddles of :func:`twiddles`;
    its error obeys :func:`fft_error_factor` with ``stages(N, support)`` stages.

    ``support``: the entries from ``support`` on are zero. The first stages then only copy
    (a butterfly ``a +- w 0`` is exact): after the stage that makes DFTs of length ``m``, entry
    ``(r, c)`` holds the length-m DFT of ``x[c::N/m]`` at r, which is ``x[c]`` for every r while
    ``N/m`` is at least the support rounded up to a power of two -- so the transform starts
    there, and only the remaining stages round."""
    x = np.asarray(x, dtype=np.complex128)
    n = x.size
    table = twiddles(n)
    width = 1 << stages(n, support)
    m = n // width
    # entry (c, r) of the current (N/m, m) array: the length-m DFT of x[c::N/m] at r; two
    # buffers in turn and the products written in place (fresh arrays of N entries per stage
    # measured about twice as slow, from allocation)
    current = np.empty(n, dtype=np.complex128)
    spare = np.empty(n, dtype=np.complex128)
    turned_buffer = np.empty(n // 2, dtype=np.complex128)
    current.reshape(width, m)[...] = x[:width, None]
    while m < n:
        half = n // (2 * m)
        source = current.reshape(2 * half, m)
        even, odd = source[:half], source[half:]
        turned = turned_buffer.reshape(half, m)
        np.multiply(odd, table[: n // 2: half][None, :], out=turned)  # exp(-i pi r / m), r < m
        target = spare.reshape(half, 2 * m)
        np.add(even, turned, out=target[:, :m])
        np.subtract(even, turned, out=target[:, m:])
        current, spare = spare, current
        m *= 2
    return current


def real_fft(x: np.ndarray, support: int | None = None) -> np.ndarray:
    """``y_k`` of :func:`fft` for ``0 <= k <= N/2`` of a real vector of length N >= 2 (the rest
    are ``conj(y_(N-k))``), by one complex transform of length M = N/2 and a split stage; its
    error obeys :func:`fft_error_factor` with ``real_stages(N, support)`` stages.

    The packing ``z_j = x_(2j) + i x_(2j+1)`` is exact; with ``Z = fft(z)``, ``E_k = (Z_k +
    conj(Z_(M-k))) / 2`` and ``O_k = -i (Z_k - conj(Z_(M-k))) / 2`` are the DFTs of the even and
    odd samples, and ``y_k = E_k + w^k O_k``, ``y_(k+M) = E_k - w^k O_k`` is the last radix-2
    stage (``w = exp(-2 pi i / N)``). Error (our derivation, in Higham's norms): ``Z -> (E, O)``
    is a real-linear isometry and its computed form adds one rounding per component (relative
    error <= u in modulus; halving and multiplying by -i are exact, underflow aside); the last
    stage is one butterfly stage of Theorem 24.2 (``||B||_2 = sqrt(2)``, error ``eta ||B||_2``). So
    ``||y~ - y||_2 <= ((1 + rho_t) (1 + u) (1 + eta) - 1) ||y||_2`` for the t stages of the
    half-length transform, and ``(1 + t eta / (1 - t eta)) (1 + eta)^2 <= 1 / (1 - (t + 2) eta)``
    makes that at most ``rho_(t+2)``; the half spectrum's error is part of the full one's."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    _check_length(n)
    if n < 2:
        raise InvalidArgument(f"n={n} must be at least 2 for a real transform.")
    m = n // 2
    z = np.empty(m, dtype=np.complex128)
    z.real, z.imag = x[0::2], x[1::2]
    half = fft(z, None if support is None else (support + 1) // 2)
    mirrored = np.conj(np.roll(half[::-1], 1))  # conj(Z_((M-k) mod M))
    even = (half + mirrored) * 0.5
    diff = half - mirrored
    odd = np.empty(m, dtype=np.complex128)
    odd.real, odd.imag = diff.imag * 0.5, diff.real * -0.5  # -i diff / 2, exactly
    turned = odd * twiddles(n)[:m]
    out = np.empty(m + 1, dtype=np.complex128)
    np.add(even, turned, out=out[:m])
    out[m] = even[0] - turned[0]
    return out


def real_stages(n: int, support: int | None = None) -> int:
    """The stage count for :func:`real_fft`'s error bound: the half-length transform's
    :func:`stages` plus the split and the last butterfly stage."""
    _check_length(n)
    return stages(n // 2, None if support is None else (support + 1) // 2) + 2


def stages(n: int, support: int | None = None) -> int:
    """The rounding stages of :func:`fft` on length n with the given support: ``log2 n``, less
    the copying stages (``support`` rounded up to a power of two, at most n)."""
    t = _check_length(n)
    if support is None or support >= n:
        return t
    return min(t, max(support - 1, 0).bit_length())


def inverse_fft(z: np.ndarray, support: int | None = None) -> np.ndarray:
    """``sum_k z_k exp(+2 pi i jk / N)`` (unnormalised) as ``conj(fft(conj(z)))``: conjugation
    is exact, so the bound of :func:`fft_error_factor` holds as for :func:`fft`."""
    return np.conj(fft(np.conj(np.asarray(z, dtype=np.complex128)), support))


def fft_error_factor(t: int, twiddle_error: float = TWIDDLE_ERROR) -> float:
    """``rho`` of Higham 2002, Theorem 24.2, for ``t`` rounding stages (:func:`stages`):
    ``||fft(x) - F x||_2 <= rho ||F x||_2`` (and ``||F x||_2 = sqrt(N) ||x||_2``), rounded up."""
    if t < 0:
        raise InvalidArgument(f"t={t} must be a non-negative number of stages.")
    if t == 0:
        return 0.0
    eta = (twiddle_error + gamma(4) * (math.sqrt(2) + twiddle_error)) * (1 + 2.0**-40)
    if t * eta >= 0.5:
        raise InvalidArgument(f"t={t} is too many stages for the error bound.")
    return t * eta / (1 - t * eta) * (1 + 2.0**-40)


def pairwise_sum(a: np.ndarray) -> np.ndarray:
    """Sums along the last axis by a balanced tree (zero-padded to a power of two): the error
    of each sum is at most ``gamma_L sum |a_i|`` with ``L = ceil(log2 n)``
    (:func:`pairwise_levels`)."""
    a = np.asarray(a)
    n = a.shape[-1]
    if n == 0:
        return np.zeros(a.shape[:-1], dtype=a.dtype)
    size = 1 << (n - 1).bit_length()
    if size != n:
        padded = np.zeros(a.shape[:-1] + (size,), dtype=a.dtype)
        padded[..., :n] = a
        a = padded
    while a.shape[-1] > 1:
        a = a[..., 0::2] + a[..., 1::2]
    return a[..., 0]


def pairwise_levels(n: int) -> int:
    """``L = ceil(log2 n)``: the depth of :func:`pairwise_sum`'s tree on n terms."""
    return max(n - 1, 0).bit_length()


__all__ = ["MAX_LENGTH", "TWIDDLE_ERROR", "UNIT", "fft", "fft_error_factor", "gamma",
           "inverse_fft", "pairwise_levels", "pairwise_sum", "real_fft", "real_stages", "stages",
           "twiddles"]
