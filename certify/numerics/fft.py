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


@lru_cache(maxsize=64)
def _stage_twiddles(n: int, m: int) -> np.ndarray:
    """The twiddles ``w~_(r N / 2m)``, ``r < m``, of the stage of :func:`fft` that makes DFTs of
    length 2m, as a contiguous ``(1, m)`` row (the table's values; a product with it broadcast
    measured about 7% faster over whole :func:`certify.accounting.pld_fft.power` calls than
    with the strided slice of the table). Read-only; cached."""
    row = np.ascontiguousarray(twiddles(n)[: n // 2: n // (2 * m)])[None, :]
    row.setflags(write=False)
    return row


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
    _check_length(n)
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
        np.multiply(odd, _stage_twiddles(n, m), out=turned)  # exp(-i pi r / m), r < m
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
    makes that at most ``rho_(t+2)``; the half spectrum's error is part of the full one's.

    As computed: ``S = Z + conj(Z_(M-k))`` (= 2E), ``D = Z - conj(Z_(M-k))`` (= 2i O), and
    ``y_k = (S_k + c~_k D_k) / 2``, ``y_M = (S_0 - c~_0 D_0) / 2`` with ``c~_k = -i w~^k``
    (:func:`_split_twiddles`: the table's components swapped, one negated -- exact, so ``|c~_k -
    (-i w^k)| <= mu``): the roundings are those above -- one per component of the sum and the
    difference, one complex product with a unit twiddle of error ``mu``, one sum -- scaled by
    exact powers of two (underflow aside)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = x.size
    _check_length(n)
    if n < 2:
        raise InvalidArgument(f"n={n} must be at least 2 for a real transform.")
    m = n // 2
    half = fft(x.view(np.complex128), None if support is None else (support + 1) // 2)
    mirrored = np.empty(m, dtype=np.complex128)  # conj(Z_((M-k) mod M))
    mirrored[0] = half[0]
    mirrored[1:] = half[:0:-1]
    np.conjugate(mirrored, out=mirrored)
    total = half + mirrored
    diff = np.subtract(half, mirrored, out=half)
    turned = np.multiply(diff, _split_twiddles(n), out=mirrored)
    out = np.empty(m + 1, dtype=np.complex128)
    np.add(total, turned, out=out[:m])
    out[m] = total[0] - turned[0]
    out *= 0.5
    return out


@lru_cache(maxsize=8)
def _split_twiddles(n: int) -> np.ndarray:
    """``c~_k = -i w~^k``, ``k < N/2``, for :func:`real_fft`: ``(Im w~^k, -Re w~^k)``, exactly.
    Read-only; cached per length."""
    table = twiddles(n)[: n // 2]
    out = np.empty(n // 2, dtype=np.complex128)
    out.real = table.imag
    out.imag = -table.real
    out.setflags(write=False)
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


def real_inverse_fft(half: np.ndarray, n: int) -> np.ndarray:
    """The real vector ``x_j = sum_k X_k exp(+2 pi i jk / N)`` (unnormalised), ``N = n >= 2`` a
    power of two, of the Hermitian spectrum given by its half ``h = half`` of length K + 1 <=
    N/2 + 1: ``X_k = h_k`` and ``X_(N-k) = conj(h_k)`` for ``0 < k <= K`` (k < N/2),
    ``X_0 = Re h_0``, ``X_(N/2) = Re h_(N/2)`` (when given), zero elsewhere. One complex inverse
    transform of length M = N/2; its error obeys :func:`fft_error_factor` with
    ``real_inverse_stages(N, K)`` stages: ``||x~ - x||_2 <= rho ||x||_2``, ``||x||_2 = sqrt(N)
    ||X||_2`` (so also ``|x~_j - x_j| <= rho sqrt(N) ||X||_2`` for every j).

    The inverse of :func:`real_fft`'s split (our derivation): with ``E_k = X_k + X_(k+M)`` and
    ``O_k = (X_k - X_(k+M)) t_k``, ``t_k = exp(+2 pi i k / N)``, ``k < M``, the length-M inverse
    transform u of ``Z = E + i O`` is ``u_j = x_(2j) + i x_(2j+1)`` (E and O are the inverse
    DFTs' inputs for the even and the odd samples, both real). Hermitian X makes
    ``||Z||_2 = sqrt(2) ||X||_2`` (Parseval: ``M ||Z||_2^2 = ||u||_2^2 = ||x||_2^2 = N
    ||X||_2^2``), and the interleaving is an isometry, so ``||x~ - x||_2 = ||u~ - u||_2 <=
    sqrt(M) (||Z~ - Z||_2 + rho_t ||Z~||_2)`` (Theorem 24.2 for the t stages of the transform
    of the computed Z~). What remains is ``||Z~ - Z||_2 <= ((1 + eta)^2 - 1) ||Z||_2``: then the
    error is at most ``((1 + rho_t) (1 + eta)^2 - 1) ||x||_2 <= rho_(t+2) ||x||_2``, because
    ``(1 + eta)^2 (1 - (t + 2) eta) <= 1 - t eta``. ``mu`` is the twiddle error, ``tau = mu +
    sqrt(2) gamma_2 (1 + mu)`` a product's with a table twiddle; ``tau <= eta`` (``gamma_4 >=
    2 gamma_2``).

    * ``2K + 1 <= M`` (a narrow band, the usual case): ``X_k`` and ``X_(k+M)`` are never both
      non-zero, and in signed frequencies ``Z_s = V_s (1 + i t_s)`` for ``|s| <= K`` (``V_s =
      X_(s mod N)``; ``t_(s-M) = -t_s`` turns the minus of O into a plus), zero elsewhere, so Z
      has the band ``[-K, K]`` (mod M). ``O~_s = fl(V_s t~_s)`` errs by at most ``tau |V_s|``
      and ``Z~_s = fl(V_s + i O~_s)`` (one rounding per component, relative ``u`` in modulus)
      by at most ``u (2 + tau) |V_s|`` more (``|1 + i t_s| <= 2``): ``|Z~_s - Z_s| <= zeta
      |V_s|``, ``zeta = tau + u (2 + tau)``, so ``||Z~ - Z||_2 <= zeta ||V||_2 = (zeta /
      sqrt(2)) ||Z||_2``. The band rotated to ``R_r = Z~_(r-K)``, ``r <= 2K``, has the support
      2K + 1 (:func:`fft` rounds in ``stages(M, 2K + 1)`` stages); ``q = fft(conj(R))`` and
      ``conj(u_j) = w_M^(-jK) F(conj R)_j``, formed as ``p~_j = fl(q~_j c~_j)`` with the
      table's ``c~_j ~ w_M^(-jK)``: error ``<= tau |q~_j|``, in 2-norm ``<= tau (1 + rho_t)
      sqrt(M) ||Z~||_2``. With ``a = zeta / sqrt(2)`` the total is at most ``sqrt(M) ||Z||_2
      ((1 + a) (1 + tau) (1 + rho_t) - 1)``, and ``a <= (eta + 3u) / sqrt(2) <= eta`` (eta >=
      10u), so ``(1 + a) (1 + tau) <= (1 + eta)^2``. Then ``x_(2j) = Re p~_j``, ``x_(2j+1) =
      -Im p~_j`` exactly. Pointwise, a tighter bound when ``||X||_1`` is well below ``sqrt(N)
      ||X||_2``: ``|p~_j - conj(u_j)| <= tau |q~_j| + |q~_j - F(conj R~)_j| + |F(conj (R~ -
      R))_j| <= tau ||Z~||_1 + (1 + tau) rho_t sqrt(M) ||Z~||_2 + ||Z~ - Z||_1``, and with
      ``||Z~||_1 <= (2 + zeta) ||X||_1``, ``||Z~ - Z||_1 <= zeta ||X||_1``, ``sqrt(M) ||Z~||_2
      <= (1 + a) sqrt(N) ||X||_2``: ``|x~_j - x_j| <= (1 + eta)^2 rho_t sqrt(N) ||X||_2 + 3 eta
      ||X||_1`` (``tau (2 + zeta) + zeta <= 2 eta + zeta (1 + tau) <= 3 eta``, as ``eta - tau
      >= 2 sqrt(2) u``); :func:`real_inverse_error` takes the smaller.
    * otherwise: E, ``D = X_k - X_(k+M)`` and ``O = D t`` on all k < M. ``|E~ - E| <= u |E|``,
      ``|O~ - O| <= (u + (1 + u) tau) |D| <= eta |D|`` (``eta - tau >= sqrt(2) gamma_2 >= u
      (1 + tau)``), and ``||(E, D)||_2^2 = 2 ||X||_2^2 = ||Z||_2^2``; ``Z~ = fl(E~ + i O~)``
      then errs by at most ``sqrt(2) eta ||Z||_2 + u (1 + sqrt(2) eta) ||Z||_2`` (``||a + i
      b||_2 <= sqrt(2) ||(a, b)||_2``), i.e. ``((1 + sqrt(2) eta) (1 + u) - 1) ||Z||_2 <= ((1 +
      eta)^2 - 1) ||Z||_2``; the transform has ``log2 M`` stages."""
    h = np.asarray(half, dtype=np.complex128)
    _check_length(n)
    m = n // 2
    k = h.size - 1
    if n < 2 or not 0 <= k <= m:
        raise InvalidArgument(f"n={n} must be at least 2 and the half spectrum's length "
                              f"{k + 1} at most n/2 + 1.")
    table = twiddles(n)
    x = np.empty(n)
    if 2 * k + 1 <= m:
        band = np.empty(2 * k + 1, dtype=np.complex128)  # V_s at s + K, |s| <= K
        band[k + 1:] = h[1:]
        band[k] = h[0].real
        band[:k] = np.conj(h[:0:-1])
        turn = table[np.arange(k, -k - 1, -1) % n]  # t~_s ~ exp(+2 pi i s / N) = w^(-s)
        odd = band * turn
        rotated = np.zeros(m, dtype=np.complex128)  # conj(R), R_r = Z~_(r-K)
        rotated.real[: 2 * k + 1] = band.real - odd.imag
        rotated.imag[: 2 * k + 1] = -(band.imag + odd.real)
        q = fft(rotated, 2 * k + 1)
        index = np.arange(m, dtype=np.int64)
        index *= -k
        index &= m - 1
        np.multiply(q, twiddles(m)[index], out=q)  # c~_j ~ w_M^(-jK)
        x[0::2] = q.real
        np.negative(q.imag, out=x[1::2])
        return x
    full = np.zeros(m + 1, dtype=np.complex128)
    full[: k + 1] = h
    low = full[:m].copy()
    low[0] = low[0].real
    high = np.conj(full[m:0:-1])  # X_(k+M) = conj(X_(M-k))
    high[0] = high[0].real
    even = low + high
    odd = (low - high) * np.conj(table[:m])
    z = np.empty(m, dtype=np.complex128)
    z.real = even.real - odd.imag
    z.imag = even.imag + odd.real
    u = inverse_fft(z)
    x[0::2] = u.real
    x[1::2] = u.imag
    return x


def real_inverse_stages(n: int, band: int) -> int:
    """The stage count for :func:`real_inverse_fft`'s error bound with a half spectrum of
    length ``band + 1``: the half-length transform's :func:`stages` (support 2 band + 1 after
    the rotation; all ``log2(N/2)`` when the band is too wide for it) plus the split and the
    rotation or the first butterfly stage."""
    _check_length(n)
    if n < 2:
        raise InvalidArgument(f"n={n} must be at least 2 for a real transform.")
    return stages(n // 2, 2 * band + 1) + 2


def real_inverse_error(n: int, band: int, norm2: float, norm1: float) -> float:
    """An upper bound on ``max_j |x~_j - x_j|`` for :func:`real_inverse_fft` on length n with a
    half spectrum of length ``band + 1``, given ``norm2 >= ||X||_2`` and ``norm1 >= ||X||_1`` of
    the full (Hermitian) spectrum: ``rho_(t+2) sqrt(N) norm2``, and for a narrow band (2 band
    + 1 <= N/2) the smaller of that and ``(1 + eta)^2 rho_t sqrt(N) norm2 + 3 eta norm1``
    (derivations in :func:`real_inverse_fft`); the handful of roundings of this evaluation (of
    non-negative terms) covered by a factor ``1 + 2^-40``."""
    t = real_inverse_stages(n, band)
    root = math.sqrt(n)
    bound = fft_error_factor(t) * root * norm2
    if 2 * band + 1 <= n // 2:
        eta = stage_error()
        narrow = (1 + eta) * (1 + eta) * fft_error_factor(t - 2) * root * norm2 + 3 * eta * norm1
        bound = min(bound, narrow)
    return bound * (1 + 2.0**-40)


def stage_error(twiddle_error: float = TWIDDLE_ERROR) -> float:
    """``eta = mu + gamma_4 (sqrt(2) + mu)`` of Higham 2002, Theorem 24.2 (``mu`` the twiddle
    error): the relative error of one butterfly stage, rounded up."""
    return (twiddle_error + gamma(4) * (math.sqrt(2) + twiddle_error)) * (1 + 2.0**-40)


def fft_error_factor(t: int, twiddle_error: float = TWIDDLE_ERROR) -> float:
    """``rho`` of Higham 2002, Theorem 24.2, for ``t`` rounding stages (:func:`stages`):
    ``||fft(x) - F x||_2 <= rho ||F x||_2`` (and ``||F x||_2 = sqrt(N) ||x||_2``), rounded up."""
    if t < 0:
        raise InvalidArgument(f"t={t} must be a non-negative number of stages.")
    if t == 0:
        return 0.0
    eta = stage_error(twiddle_error)
    if t * eta >= 0.5:
        raise InvalidArgument(f"t={t} is too many stages for the error bound.")
    return t * eta / (1 - t * eta) * (1 + 2.0**-40)


def pairwise_sum(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sums along ``axis`` (the last by default) by a balanced tree: the error of each sum is at
    most ``gamma_L sum |a_i|`` with ``L = ceil(log2 n)`` (:func:`pairwise_levels`; Higham 2002,
    eq. (4.6): the computed sum is ``sum a_i (1 + theta_i)`` with ``|theta_i| <= gamma_(d_i)``,
    ``d_i <= L`` the additions that term ``i`` passes through). The tree adds ``a_i`` and
    ``a_(i+h)`` for the largest power of two ``h < n`` (the terms without a partner pass
    alone), then halves the h partial sums, contiguous halves each level (no zero padding; the
    summed axis is made the leading one, so a C-ordered array summed along axis 0 adds whole
    blocks)."""
    a = np.asarray(a)
    if a.ndim > 1:
        a = np.moveaxis(a, axis, 0)
    n = a.shape[0]
    if n <= 1:
        return a[0].copy() if n else np.zeros(a.shape[1:], dtype=a.dtype)
    h = 1 << ((n - 1).bit_length() - 1)
    top = a[:h].copy()
    np.add(top[: n - h], a[h:], out=top[: n - h])
    while h > 1:
        h //= 2
        top = top[:h] + top[h: 2 * h]
    return top[0]


def pairwise_levels(n: int) -> int:
    """``L = ceil(log2 n)``: the depth of :func:`pairwise_sum`'s tree on n terms."""
    return max(n - 1, 0).bit_length()


__all__ = ["MAX_LENGTH", "TWIDDLE_ERROR", "UNIT", "fft", "fft_error_factor", "gamma",
           "inverse_fft", "pairwise_levels", "pairwise_sum", "real_fft", "real_inverse_error",
           "real_inverse_fft", "real_inverse_stages", "real_stages", "stage_error", "stages",
           "twiddles"]
