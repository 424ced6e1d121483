"""The rigorous FFT's error bounds against exact transforms (Arb at 200 bits)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from flint import acb, arb, ctx
from hypothesis import given, settings
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
    real_stages,
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


def test_bad_lengths_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="n=12"):
        fft(np.zeros(12))
    with pytest.raises(InvalidArgument, match="t=-1"):
        fft_error_factor(-1)
