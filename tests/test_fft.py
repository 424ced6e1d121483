"""The rigorous FFT's error bounds against exact transforms (Arb at 200 bits)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from flint import acb, arb, ctx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from certify.errors import InvalidArgument
from certify.numerics.fft import (
    TWIDDLE_ERROR,
    UNIT,
    fft,
    fft_error_factor,
    gamma,
    inverse_fft,
    pairwise_levels,
    pairwise_sum,
    real_fft,
    real_inverse_error,
    real_inverse_fft,
    real_inverse_stages,
    real_stages,
    stage_error,
    stages,
    twiddles,
)


def _exact_dft(x: np.ndarray, sign: int = -1) -> list[acb]:
    """sum_j x_j exp(sign 2 pi i jk / N) in Arb at 200 bits (x's float values exactly)."""
    n = x.size
    with ctx.workprec(200):
        out = []
        for k in range(n):
            total = acb(0)
            for j in range(n):
                if x[j] != 0:
                    angle = arb(2 * sign * ((j * k) % n)) / n
                    s, c = angle.sin_cos_pi()
                    total += acb(float(x[j].real), float(x[j].imag)) * acb(c, s)
            out.append(total)
    return out


def _l2(values: list[acb]) -> arb:
    return sum((abs(v) ** 2 for v in values), arb(0)).sqrt()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 7), st.integers(1, 128), st.integers(0, 2**32 - 1))
def test_fft_error_within_bound(log_n: int, support: int, seed: int) -> None:
    n = 1 << log_n
    support = min(support, n)
    rng = np.random.default_rng(seed)
    x = np.zeros(n, dtype=np.complex128)
    x[:support] = rng.random(support) * 10.0 ** rng.integers(-8, 3, support)
    x[:support] += 1j * rng.standard_normal(support) * (seed % 2)
    got = fft(x, support)
    exact = _exact_dft(x)
    with ctx.workprec(200):
        err = _l2([acb(complex(g)) - e for g, e in zip(got, exact, strict=True)])
        assert err <= arb(fft_error_factor(stages(n, support))) * _l2(exact)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 7), st.integers(1, 128), st.integers(0, 2**32 - 1))
def test_real_fft_error_within_bound(log_n: int, support: int, seed: int) -> None:
    """The half spectrum of a real vector (split of a half-length complex transform) within
    rho(real_stages) of the exact DFT, measured against the full spectrum's norm."""
    n = 1 << log_n
    support = min(support, n)
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    x[:support] = rng.random(support) * 10.0 ** rng.integers(-8, 3, support)
    got = real_fft(x, support)
    assert got.size == n // 2 + 1
    exact = _exact_dft(x.astype(np.complex128))
    with ctx.workprec(200):
        err = _l2([acb(complex(g)) - e for g, e in zip(got, exact[: n // 2 + 1], strict=True)])
        assert err <= arb(fft_error_factor(real_stages(n, support))) * _l2(exact)


def _hermitian(half: np.ndarray, n: int) -> np.ndarray:
    """The full spectrum that :func:`real_inverse_fft` reads from a half one (independently:
    conjugate mirror, real parts at 0 and N/2)."""
    full = np.zeros(n, dtype=np.complex128)
    for k, v in enumerate(half):
        if k == 0 or 2 * k == n:
            full[k] = v.real
        else:
            full[k], full[n - k] = v, np.conj(v)
    return full


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.floats(0, 1), st.integers(0, 2**32 - 1))
@example(7, 31 / 64, 1)  # the widest band of the rotated path: 2K + 1 = N/2
@example(7, 32 / 64, 2)  # the narrowest of the split path
@example(7, 1.0, 3)  # the full half spectrum, Nyquist included
@example(1, 1.0, 4)  # N = 2
@example(7, 0.0, 5)  # the mean alone
def test_real_inverse_fft_error_within_bound(log_n: int, width: float, seed: int) -> None:
    """The real inverse of a Hermitian half spectrum (narrow bands by the rotated half-length
    transform, wide ones by the split) within rho(real_inverse_stages) of the exact inverse
    DFT of the full spectrum, in 2-norm (and so at every point)."""
    n = 1 << log_n
    band = round(width * (n // 2))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-8, 3, band + 1)
    half = (rng.standard_normal(band + 1) + 1j * rng.standard_normal(band + 1)) * scale
    got = real_inverse_fft(half, n)
    assert got.dtype == np.float64 and got.size == n
    exact = _exact_dft(_hermitian(half, n), sign=1)
    rho = arb(fft_error_factor(real_inverse_stages(n, band)))
    full = _hermitian(half, n)
    with ctx.workprec(200):
        assert all(abs(e.imag) < 1e-50 for e in exact)
        diffs = [acb(float(g)) - e for g, e in zip(got, exact, strict=True)]
        assert _l2(diffs) <= rho * _l2(exact)
        # pointwise, from upper bounds on the full spectrum's norms
        norm2 = _l2([acb(complex(v)) for v in full])
        norm1 = sum((abs(acb(complex(v))) for v in full), arb(0))
        bound = real_inverse_error(n, band, float(norm2.upper()) * (1 + 2.0**-50),
                                   float(norm1.upper()) * (1 + 2.0**-50))
        assert all(abs(d) <= bound for d in diffs)


@pytest.mark.parametrize(("n", "band"), [(2, 0), (2, 1), (8, 1), (8, 2), (64, 15), (64, 16),
                                         (4096, 100), (4096, 1023), (4096, 1024), (4096, 2048)])
def test_real_inverse_fft_matches_numpy(n: int, band: int) -> None:
    rng = np.random.default_rng(n + band)
    half = rng.standard_normal(band + 1) + 1j * rng.standard_normal(band + 1)
    padded = np.zeros(n // 2 + 1, dtype=np.complex128)
    padded[: band + 1] = half
    expected = np.fft.irfft(padded, n) * n
    assert np.allclose(real_inverse_fft(half, n), expected, rtol=0, atol=1e-12 * n)


def test_real_inverse_stages() -> None:
    # a band of K rotated to the support 2K + 1 of the half-length transform, + 2
    assert real_inverse_stages(4096, 0) == 2
    assert real_inverse_stages(4096, 57) == stages(2048, 115) + 2 == 9
    assert real_inverse_stages(4096, 2048) == 11 + 2
    with pytest.raises(InvalidArgument, match="n=1"):
        real_inverse_stages(1, 0)
    with pytest.raises(InvalidArgument, match="at most n/2"):
        real_inverse_fft(np.ones(6), 8)


def test_real_inverse_error_takes_the_narrow_bound() -> None:
    """For a narrow band the pointwise bound with ||X||_1 is the smaller one when ||X||_1 is
    well below sqrt(N) ||X||_2; for a wide band only rho_(t+2) sqrt(N) ||X||_2 applies."""
    rho = fft_error_factor(real_inverse_stages(4096, 57))
    plain = rho * 64 * 1.0
    assert real_inverse_error(4096, 57, 1.0, 10.0) < plain
    assert real_inverse_error(4096, 57, 1.0, 1e6) == pytest.approx(plain, rel=1e-9)
    wide = fft_error_factor(real_inverse_stages(4096, 1500)) * 64
    assert real_inverse_error(4096, 1500, 1.0, 1.0) == pytest.approx(wide, rel=1e-9)
    assert stage_error() <= fft_error_factor(1)


def test_real_fft_needs_two_points() -> None:
    with pytest.raises(InvalidArgument, match="n=1"):
        real_fft(np.ones(1))
    with pytest.raises(InvalidArgument, match="n=6"):
        real_fft(np.ones(6))


@pytest.mark.parametrize("n", [1, 2, 16, 64])
def test_inverse_fft_is_the_conjugate_transform(n: int) -> None:
    rng = np.random.default_rng(n)
    z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    exact = _exact_dft(z, sign=1)
    got = inverse_fft(z)
    with ctx.workprec(200):
        err = _l2([acb(complex(g)) - e for g, e in zip(got, exact, strict=True)])
        assert err <= arb(fft_error_factor(stages(n))) * _l2(exact)


def test_fft_matches_numpy() -> None:
    x = np.random.default_rng(3).random(4096)
    assert np.allclose(real_fft(x), np.fft.rfft(x), rtol=0, atol=1e-11)
    assert np.allclose(fft(x), np.fft.fft(x), rtol=0, atol=1e-11)
    assert np.allclose(fft(np.concatenate([x[:100], np.zeros(3996)]), 100),
                       np.fft.fft(np.concatenate([x[:100], np.zeros(3996)])), rtol=0, atol=1e-11)


@pytest.mark.parametrize("n", [1, 8, 1024, 1 << 15])
def test_twiddle_table_error(n: int) -> None:
    table = twiddles(n)
    picks = range(n) if n <= 1024 else range(0, n, 97)
    with ctx.workprec(200):
        for m in picks:
            s, c = (arb(2 * m) / n).sin_cos_pi()
            assert abs(acb(complex(table[m])) - acb(c, -s)) <= TWIDDLE_ERROR


def test_error_factor_is_small_and_grows_with_stages() -> None:
    assert fft_error_factor(0) == 0.0
    assert 0 < fft_error_factor(10) < fft_error_factor(20) < 1e-13
    # eta = mu + gamma_4 (sqrt 2 + mu) per stage (Higham 2002, Theorem 24.2)
    assert fft_error_factor(1) >= TWIDDLE_ERROR + 4 * UNIT * 2**0.5


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=300))
def test_pairwise_sum_error(values: list[float]) -> None:
    a = np.array(values, dtype=np.float64)
    got = float(pairwise_sum(a)) if a.size else 0.0
    exact = sum((Fraction(v) for v in values), Fraction(0))
    bound = Fraction(gamma(pairwise_levels(len(values)))) * sum(
        (abs(Fraction(v)) for v in values), Fraction(0))
    assert abs(Fraction(got) - exact) <= bound


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (3, 5), (17, 4), (1280, 3)])
def test_pairwise_sum_along_either_axis(rows: int, cols: int) -> None:
    """Each column (axis 0) and row (axis -1) sum within gamma_L of the exact sum."""
    a = np.random.default_rng(rows * cols).standard_normal((rows, cols)) * 1e3
    for axis, lines in ((0, a.T), (-1, a)):
        got = pairwise_sum(a, axis=axis)
        assert got.shape == (lines.shape[0],)
        for value, line in zip(got, lines, strict=True):
            exact = sum((Fraction(v) for v in line), Fraction(0))
            bound = Fraction(gamma(pairwise_levels(line.size))) * sum(
                (abs(Fraction(v)) for v in line), Fraction(0))
            assert abs(Fraction(float(value)) - exact) <= bound


def test_bad_lengths_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="n=12"):
        fft(np.zeros(12))
    with pytest.raises(InvalidArgument, match="t=-1"):
        fft_error_factor(-1)
