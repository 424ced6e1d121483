"""The FFT convolution power against exact integer powers (``fmpz_poly``), and end to end."""

from __future__ import annotations

from fractions import Fraction
from itertools import accumulate

import numpy as np
import pytest
from flint import arb, ctx, fmpz_poly
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.accounting import pld, pld_fft
from certify.accounting.pld_compose import Composer, Phase, Plan
from certify.accounting.pld_grid import node_moments
from certify.accounting.pld_words import Words
from certify.numerics.precision import Target

BITS = 64


def _step(seed: int, n: int, spread: float, tail: float) -> Words:
    """A one-step-like measure: a bump of ``spread`` nodes and a geometric right tail."""
    rng = np.random.default_rng(seed)
    j = np.arange(n)
    w = np.exp(-0.5 * ((j - n / 4) / spread) ** 2) + tail * np.exp(-j / (n / 6))
    w *= 1 + 0.1 * rng.random(n)
    w /= w.sum() * (1 + 1e-9)
    return Words(int(rng.integers(-50, 50)), np.floor(w * 2.0**BITS).astype(np.uint64),
                 int(rng.integers(0, 2**20)))


def _exact_suffixes(step: Words, count: int) -> tuple[int, list[int], int]:
    """(offset, suffix masses from each node, mass at +infinity) of the exact power, in units
    2^(-BITS count)."""
    masses = [int(v) for v in step.w]
    finite = sum(masses)
    poly = fmpz_poly(masses) ** count
    coeffs = [int(c) for c in poly.coeffs()]
    suffix = list(accumulate(reversed(coeffs)))[::-1] + [0]
    infinity = (finite + step.infinity) ** count - finite**count
    return count * step.offset, suffix, infinity


def _check_dominance(out: Words, step: Words, count: int, up: bool) -> None:
    """The mass at nodes >= b (with +infinity) of the FFT result is >= (upper) or <= (lower)
    the exact power's, at every node b: the stochastic order that makes D(eps) an upper or
    lower bound for every eps."""
    offset, suffix, infinity = _exact_suffixes(step, count)
    scale = 1 << (BITS * (count - 1))
    ours = [int(v) for v in out.w]
    ours_suffix = list(accumulate(reversed(ours)))[::-1] + [0]
    lo = min(offset, out.offset)
    hi = max(offset + len(suffix), out.offset + len(ours_suffix))
    for b in range(lo, hi + 1):
        i, k = b - offset, b - out.offset
        exact = (suffix[min(max(i, 0), len(suffix) - 1)] + infinity)
        mine = (ours_suffix[min(max(k, 0), len(ours_suffix) - 1)] + out.infinity) * scale
        if up:
            assert mine >= exact, b
        else:
            assert mine <= exact, b
    if not up:  # pointwise too, but for the last node (the truncated high tail moves there)
        coeffs = [suffix[i] - suffix[i + 1] for i in range(len(suffix) - 1)]
        for k, v in enumerate(ours[:-1]):
            i = out.offset + k - offset
            assert v * scale <= (coeffs[i] if 0 <= i < len(coeffs) else 0)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(8, 60), st.sampled_from([16, 23, 64, 100]),
       st.sampled_from([0.0, 1e-3, 0.2]), st.booleans())
def test_power_bounds_the_exact_power(seed: int, n: int, count: int, tail: float,
                                      up: bool) -> None:
    step = _step(seed, n, max(n / 12, 1.0), tail)
    out = pld_fft.power(step, count, BITS, up, budget=2**40, eta=2**20)
    assert out is not None
    _check_dominance(out.words, step, count, up)


@pytest.mark.parametrize(("n", "count"), [(12, 300), (10, 1000)])
def test_long_powers_bound_the_exact_power(n: int, count: int) -> None:
    """Long compositions: most of the half spectrum is dropped unexamined (U_k <= theta), the
    kept band is narrow (the rotated half-length inverse); still pointwise on the right side."""
    step = _step(5, n, max(n / 12, 1.0), 1e-3)
    for up in (True, False):
        out = pld_fft.power(step, count, BITS, up, budget=2**40, eta=2**20)
        assert out is not None
        _check_dominance(out.words, step, count, up)


def _exact_inverse(half: np.ndarray, size: int) -> list[arb]:
    """sum_k V_k exp(2 pi i pk / N) / N for the Hermitian V of a half spectrum (real parts at 0
    and N/2), in Arb at 200 bits."""
    out = []
    with ctx.workprec(200):
        for p in range(size):
            total = arb(0)
            for k, v in enumerate(half):
                if v == 0:
                    continue
                s, c = (arb(2 * ((p * k) % size)) / size).sin_cos_pi()
                term = arb(float(v.real)) * c - arb(float(v.imag)) * s  # Re(v e^(i theta))
                total += term if k == 0 or 2 * k == size else 2 * term
            out.append(total / size)
    return out


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 6), st.floats(0, 1), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_band_inverse_within_its_bound(log_n: int, width: float, density: float,
                                       seed: int) -> None:
    """The real inverse of a kept set of frequencies k <= N/2 (narrow and wide bands) within
    the pointwise bound it reports, against an exact inverse DFT."""
    size = 1 << log_n
    rng = np.random.default_rng(seed)
    band = round(width * (size // 2))
    ks = np.flatnonzero(rng.random(band + 1) < max(density, 0.05))
    if ks.size == 0:
        ks = np.array([band])
    z = (rng.standard_normal(ks.size) + 1j * rng.standard_normal(ks.size)) * 10.0 ** rng.integers(
        -5, 2, ks.size)
    values, error = pld_fft._band_inverse(z, ks, size)
    half = np.zeros(int(ks[-1]) + 1, dtype=np.complex128)
    half[ks] = z
    exact = _exact_inverse(half, size)
    with ctx.workprec(200):
        assert all(abs(arb(float(v)) - e) <= error for v, e in zip(values, exact, strict=True))


@pytest.mark.parametrize(("count", "size"),
                         [(2, 4), (64, 1024), (10**4, 1 << 15), (10**6, 1 << 22)])
def test_threshold_drops_only_negligible_frequencies(count: int, size: int) -> None:
    theta, power = pld_fft._threshold(count, size)
    assert 0 < theta < 1
    with ctx.workprec(200):
        assert arb(power) >= arb(theta) ** count
        assert arb(power) * size <= arb(2) ** -299


def test_power_is_close_to_the_exact_power() -> None:
    """Not only sound but tight: the suffix masses agree with the exact power's to ~1e-12."""
    step = _step(7, 40, 4.0, 1e-3)
    count = 50
    offset, suffix, infinity = _exact_suffixes(step, count)
    for up in (True, False):
        out = pld_fft.power(step, count, BITS, up, budget=2**40, eta=1).words
        ours = np.array([int(v) for v in out.w], dtype=float) * 2.0**-BITS
        tail = np.cumsum(ours[::-1])[::-1] + out.infinity * 2.0**-BITS
        for k in range(0, len(ours), 37):
            i = out.offset + k - offset
            exact = float(Fraction(suffix[i] + infinity, 1 << (BITS * count)))
            assert abs(tail[k] - exact) < 1e-11


def test_tail_bound_covers_the_exact_tails() -> None:
    step = _step(3, 30, 3.0, 0.2)
    count = 40
    offset, suffix, _ = _exact_suffixes(step, count)
    total = suffix[0]
    xf = pld_fft._floats(step.w, BITS)
    moments = node_moments(xf)
    assert moments is not None
    for b in (200, 400, 600, 800):
        i = b  # composed index relative to count * offset
        high = Fraction(suffix[i], 1 << (BITS * count))
        low = Fraction(total - suffix[i + 1], 1 << (BITS * count))
        for bound, exact in ((pld_fft._tail_bound(xf, count, b, True, moments)[0], high),
                             (pld_fft._tail_bound(xf, count, b, False, moments)[0], low)):
            with ctx.workprec(300):
                assert arb(bound.upper()) >= arb(exact.numerator) / exact.denominator
            assert float(bound.upper()) < max(1e3 * float(exact), 1e-300) or exact == 0


@pytest.mark.parametrize("b, high", [(200, True), (400, True), (800, True), (1100, True),
                                     (10, False), (100, False), (150, False)])
def test_chernoff_parameter_is_near_the_best(b: int, high: bool) -> None:
    """Newton's t gives an exponent within 1e-2 of the best over a fine grid of t in the
    allowed range (edge optima included: b = 1100 lies near the top of the support, b = 10 near
    the bottom), computed independently with exact-enough mpmath sums."""
    import mpmath

    step = _step(3, 30, 3.0, 0.2)
    count = 40
    xf = pld_fft._floats(step.w, BITS)
    limit = 600.0 / (xf.size - 1)

    def exponent(t: float) -> float:
        m = mpmath.fsum(mpmath.mpf(float(x)) * mpmath.exp(t * j) for j, x in enumerate(xf))
        return float(count * mpmath.log(m) - t * b)

    grid = np.linspace(0, limit, 401) if high else np.linspace(-limit, 0, 401)
    best = min(exponent(float(t)) for t in grid)
    moments = node_moments(xf)
    assert moments is not None
    t = pld_fft._chernoff_t(xf, count, b, high, moments)
    assert (t >= 0) if high else (t <= 0)
    assert abs(t) <= limit * (1 + 1e-12)
    assert exponent(t) <= best + 1e-2
    for start in (0.7 * t, 1.3 * t, 0.05 * t):  # from another cut's parameter (_window)
        warm = pld_fft._chernoff_t(xf, count, b, high, moments, start)
        assert exponent(warm) <= best + 1e-2


def test_budget_gate_refuses() -> None:
    step = _step(1, 40, 4.0, 1e-3)
    assert pld_fft.power(step, 100, BITS, True, budget=10, eta=1) is None
    assert pld_fft.power(step, 100, BITS, True, budget=2**40, eta=1) is not None


def test_read_from_low_lumps_or_drops() -> None:
    step = _step(5, 40, 4.0, 1e-3)
    count = 64
    full = pld_fft.power(step, count, BITS, True, 2**40, 1)
    assert full is not None
    low = full.words.offset + full.words.length // 2
    cut_low = pld_fft.power(step, count, BITS, False, 2**40, 1, low)
    assert cut_low is not None and cut_low.words.offset >= low
    _check_dominance(cut_low.words, step, count, False)
    cut_up = pld_fft.power(step, count, BITS, True, 2**40, 1, low)
    assert cut_up is not None and cut_up.words.offset >= low
    # the lumped node carries all the mass below it: totals agree with the uncut measure
    total_cut = sum(int(v) for v in cut_up.words.w) + cut_up.words.infinity
    total_full = sum(int(v) for v in full.words.w) + full.words.infinity
    assert total_cut == total_full


@pytest.mark.parametrize(("sigma", "q", "steps"), [("2", "0.001", 1000), ("1", "0.01", 400)])
def test_composition_matches_the_exact_loop(sigma: str, q: str, steps: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The certified eps(delta) through the FFT power and through the exact squarings: the
    two intervals overlap and have about the same width (and the FFT path was taken)."""
    phases = [(sigma, q, steps)]
    target = Target(rel=1e-3)
    used = []
    power = pld_fft.power

    def counting(*args: object, **kwargs: object) -> pld_fft.Powered | None:
        out = power(*args, **kwargs)  # type: ignore[arg-type]
        used.append(out is not None)
        return out

    monkeypatch.setattr(pld_fft, "power", counting)
    with_fft = pld.composed_epsilon(phases, "1e-5", target=target)
    assert any(used)
    monkeypatch.setattr(pld_fft, "MIN_COUNT", 10**9)
    exact = pld.composed_epsilon(phases, "1e-5", target=target)
    assert with_fft.lower <= exact.upper and exact.lower <= with_fft.upper
    width = float(with_fft.upper - with_fft.lower)
    assert width <= 1.2 * float(exact.upper - exact.lower)


def test_composer_uses_the_fft_power() -> None:
    """At a long composition the Composer's result comes from the FFT path (its float
    estimate is recorded as the partial product's factors)."""
    composer = Composer((Phase(Fraction(2), Fraction(1, 1000), 1000),))
    plan = Plan(Fraction(1, 2**14), 64, 2**24, 1e-14, 96, 0)
    out = composer.composed(plan, "remove", True, Fraction(0))
    assert out.factors is not None and out.factors[1][1].tolist() == [1.0]
