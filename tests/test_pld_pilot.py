"""The float pilot of the PLD composition (certify.accounting.pld_pilot): its pieces against
independent computations, and its predictions against certified levels. The pilot only steers
work, so these tests check that it steers well; soundness is the certified engine's
(tests/test_pld.py)."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from scipy.stats import norm

from certify.accounting import pld, pld_pilot
from certify.accounting.pld import composed_epsilon
from certify.accounting.pld_compose import Composer, check_phases, loss_moments
from certify.accounting.pld_refine import pilot_start
from certify.mechanisms.gaussian import GaussianMechanism
from certify.numerics.precision import Target


@pytest.mark.parametrize("kind", ["remove", "add", "replace"])
def test_one_step_masses_are_a_probability_measure_with_the_loss_mean(kind: str) -> None:
    """Connect-the-dots keeps each interval's P-mass, so the masses and +infinity sum to 1; the
    finite part's mean is the KL divergence to O(h^2) (quadrature of the loss under P)."""
    s, q, h = 0.8, 0.05, 1e-3
    step = pld_pilot.one_step(kind, s, q, h)
    assert abs(step.masses.sum() + step.infinity - 1) < 1e-12
    mean, var = pld_pilot.moments(step, h)
    x = np.linspace(-12 * s - 1, 12 * s + 1, 200_001)
    p0, p1, pm = norm.pdf(x, 0, s), norm.pdf(x, 1, s), norm.pdf(x, -1, s)
    mix = (1 - q) * p0 + q * p1
    if kind == "remove":
        dens, loss = mix, np.log(mix / p0)
    elif kind == "add":
        dens, loss = p0, np.log(p0 / mix)
    else:
        other = (1 - q) * p0 + q * pm
        dens, loss = mix, np.log(mix / other)
    kl = np.trapezoid(dens * loss, x)
    second = np.trapezoid(dens * (loss - kl) ** 2, x)
    assert mean == pytest.approx(kl, rel=1e-3, abs=1e-6)
    assert var == pytest.approx(second, rel=1e-2)


@pytest.mark.parametrize("kind", ["remove", "add", "replace"])
@pytest.mark.parametrize("h", [1e-3, 7.3e-4])
def test_both_spacings_from_one_set_of_cdfs_match_one_step(kind: str, h: float) -> None:
    """one_step_twice's measures at 2h and h are one_step's at those spacings, on a range that
    may reach one node further at either end (where the tails are below 1e-15)."""
    s, q = 0.8, 0.05
    for got, spacing in zip(pld_pilot.one_step_twice(kind, s, q, h), (2 * h, h), strict=True):
        want = pld_pilot.one_step(kind, s, q, spacing)
        start = want.first - got.first
        assert 0 <= start <= 1 and 0 <= got.masses.size - want.masses.size - start <= 1
        inner = got.masses[start + 1:start + want.masses.size - 1]
        assert np.allclose(inner, want.masses[1:-1], rtol=1e-12, atol=1e-18)
        assert abs(got.masses.sum() + got.infinity - 1) < 1e-12
        assert abs(got.infinity - want.infinity) < 1e-14


def test_fft_power_is_the_repeated_convolution() -> None:
    """compose() (one FFT power on a circular window) against numpy's direct convolutions."""
    h = 0.01
    step = pld_pilot.one_step("remove", 1.0, 0.2, h)
    mean, var = pld_pilot.moments(step, h)
    direct = step.masses
    for _ in range(4):
        direct = np.convolve(direct, step.masses)
    got = pld_pilot.compose([(step, 5)], h, math.sqrt(5 * var), 5 * mean)
    assert got is not None
    first = 5 * step.first
    idx = np.arange(direct.size) + first - got.first
    inside = (idx >= 0) & (idx < got.masses.size)
    assert np.abs(got.masses[idx[inside]] - direct[inside]).max() < 1e-13
    assert direct[~inside].sum() < 1e-11
    assert got.infinity == pytest.approx(1 - (1 - step.infinity) ** 5)


def test_float_profile_inverts() -> None:
    """Composed.epsilon and Composed.delta are inverse to each other, and on the q = 1 step they
    approach the Gaussian mechanism's closed form."""
    h = 2e-3
    step = pld_pilot.one_step("remove", 2.0, 1.0, h)
    mean, var = pld_pilot.moments(step, h)
    comp = pld_pilot.compose([(step, 16)], h, math.sqrt(16 * var), 16 * mean)
    assert comp is not None
    for delta in (1e-2, 1e-5, 1e-8):
        eps = comp.epsilon(delta)
        assert comp.delta(eps) == pytest.approx(delta, rel=1e-9)
        exact = GaussianMechanism("0.5").epsilon(str(delta))  # sigma 2 / sqrt(16)
        assert float(exact.lower) <= eps <= float(exact.upper) * (1 + 1e-3)


@pytest.mark.parametrize("n", [3, 9, 10_000])
def test_polar_power_matches_repeated_multiplication(n: int) -> None:
    """_power (polar form for large n) against binary powering in complex128, on the spectrum
    of a probability measure (|z| <= 1, a zero included)."""
    rng = np.random.default_rng(5)
    m = rng.random(4096)
    z = np.fft.rfft(m / m.sum())
    z[7] = 0
    expect, base, k = np.ones_like(z), z.copy(), n
    while k:
        if k & 1:
            expect = expect * base
        base, k = base * base, k >> 1
    got = pld_pilot._power(z, n)
    assert np.abs(got - expect).max() <= 1e-12 * max(1.0, float(np.abs(expect).max()))
    assert got[7] == 0


@pytest.mark.parametrize("spacing", [1e-4, 0.05])
def test_log_suffix_sums_match_the_logarithmic_recursion(spacing: float) -> None:
    """Both branches of the suffix sums (scaled floats below a loss span of 600, logaddexp
    above; spacing 0.05 over 20000 nodes spans 1000) against the sums taken term by term in
    extended precision (numpy longdouble, each suffix summed in full), zeros included."""
    rng = np.random.default_rng(3)
    m = rng.random(20_000) * 1e-4
    m[:40] = 0.0
    m[-25:] = 0.0
    m[5000:5100] = 0.0
    loss = (np.arange(m.size) - 3000) * spacing
    got = pld_pilot.log_suffix_sums(m, loss)
    for k in (0, 39, 40, 4999, 5050, 12_345, 19_974, 19_975, 19_999):
        terms = m[k:].astype(np.longdouble) * np.exp(-loss[k:].astype(np.longdouble))
        total = terms.sum()
        if total == 0:
            assert got[k] == -math.inf
        else:
            assert got[k] == pytest.approx(float(np.log(total)), abs=1e-10)


@pytest.mark.parametrize(("sigma", "q", "steps"), [("1", "0.01", 2000), ("2", "0.01", 10_000),
                                                   ("0.8", "0.1", 1000), ("0.5", "0.01", 100),
                                                   ("1", "0.001", 100), ("2", "0.001", 100)])
def test_pilot_predicts_the_certified_level(sigma: str, q: str, steps: int,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """The pilot's extrapolated eps lies within the certified interval's width of it, and the
    first certified level it chooses meets the requested width: one level, not a coarse one
    and a fine one, and not far finer than needed (at (0.5, 0.01, 100) the first level is 10
    pilot spacings wide and its width was 2.1 times the error model's until the pilot measured
    the model there; at (1, 0.001, 100) the lower bound's intervals drifted to 2h wide until
    the split groups kept them centred)."""
    composer = Composer(check_phases([(sigma, q, steps)]))
    start = pilot_start(composer, ["remove", "add"], 1e-3,
                         lambda c: c.epsilon(1e-5), 1 << 19, None)
    assert start is not None
    _h, _lagging, coarsening, lead = start
    assert set(coarsening) == {"remove", "add"}
    with caplog.at_level(logging.DEBUG, logger="certify.accounting.pld"):
        bound = composed_epsilon([(sigma, q, steps)], "1e-5", target=Target(rel=1e-3))
    levels = [r for r in caplog.records if "composed epsilon" in r.getMessage()]
    assert len(levels) == 1
    lo, hi = float(bound.lower), float(bound.upper)
    assert lo - (hi - lo) <= lead <= hi + (hi - lo)
    assert 4e-4 <= bound.rel_width <= 1e-3


def test_no_pilot_for_short_or_unsuitable_compositions() -> None:
    """Fewer than 10 steps, or a delta below the float noise, start with the coarse level."""
    composer = Composer(check_phases([("1", "0.01", 9)]))
    assert pilot_start(composer, ["remove"], 1e-3, lambda c: c.epsilon(1e-5), 1 << 19,
                        None) is None
    composer = Composer(check_phases([("1", "0.01", 5000)]))
    assert pilot_start(composer, ["remove"], 1e-3, lambda c: math.nan, 1 << 19, None) is None


@pytest.mark.parametrize("reflect", [True, False])
def test_a_trailing_direction_gets_only_an_upper_bound(monkeypatch: pytest.MonkeyPatch,
                                                       reflect: bool) -> None:
    """With the pilot seeing add trail remove by 2%, the first level bounds add from remove's
    upper measure (the reverse pair's profile, pld_invert.reflected_upper_delta) and composes no
    add pipeline at all; with that shortcut off, it composes add's upper measure only (the
    answer's lower end is remove's). Either way the answer lies within the two directions'
    separate certified intervals' maximum."""
    calls: list[tuple[str, bool]] = []
    original = Composer.composed

    def spy(self: Composer, plan: object, direction: str, upper: bool,
            low: object = None) -> object:
        calls.append((direction, upper))
        return original(self, plan, direction, upper, low)  # type: ignore[arg-type]

    monkeypatch.setattr(Composer, "composed", spy)
    if not reflect:
        monkeypatch.setattr(pld, "_reflected_epsilon", lambda *args: None)
    phases, goal = [("2", "0.001", 10_000)], Target(rel=1e-3)
    both = composed_epsilon(phases, "1e-5", target=goal)
    assert ("add", True) in calls if not reflect else not any(d == "add" for d, _ in calls)
    assert ("add", False) not in calls and ("remove", False) in calls
    monkeypatch.setattr(Composer, "composed", original)
    parts = [composed_epsilon(phases, "1e-5", neighbours=n, target=goal)
             for n in ("remove", "add")]
    assert max(p.lower for p in parts) <= both.upper and both.lower <= max(p.upper for p in parts)
    assert both.rel_width <= 1e-3


def test_mirrored_gaussian_measure_is_its_own_reverse() -> None:
    """For q = 1 the remove and add pairs are the same Gaussian pair, whose loss law w satisfies
    e^{-l} w(l) = w(-l) (closed form: N(mu, 2 mu)); so Composed.mirrored of a composed Gaussian
    measure is that measure again (to the discretisation's O(h^2) and the FFT noise), and its
    noise bound is small on a loss span of a few units (sigma 8, 16 steps: N(1/8, 1/4))."""
    h = 2e-3
    step = pld_pilot.one_step("remove", 8.0, 1.0, h)
    mean, var = pld_pilot.moments(step, h)
    comp = pld_pilot.compose([(step, 16)], h, math.sqrt(16 * var), 16 * mean)
    assert comp is not None
    found = comp.mirrored()
    assert found is not None
    reverse, gain = found
    assert 0 <= gain < 1e-9
    lo, hi = max(comp.first, reverse.first), min(comp.first + comp.masses.size,
                                                 reverse.first + reverse.masses.size)
    a = comp.masses[lo - comp.first: hi - comp.first]
    b = reverse.masses[lo - reverse.first: hi - reverse.first]
    assert np.abs(a - b).max() < 1e-4 * a.max()
    for delta in (1e-3, 1e-6):
        assert reverse.epsilon(delta) == pytest.approx(comp.epsilon(delta), rel=1e-3)


@pytest.mark.parametrize(("s", "q", "steps", "usable"),
                         [(2.0, 0.001, 100, True), (1.0, 0.01, 100, True),
                          (2.0, 0.1, 10_000, False)])
def test_mirrored_pilot_matches_the_direct_one(s: float, q: float, steps: int,
                                               usable: bool) -> None:
    """The add pilot read from remove's composed measures against the add pilot composed on its
    own: the same extrapolated eps and error coefficient where the noise gate lets it through;
    at (0.1, 2, 10^4) (eps ~ 34, a loss span of hundreds weighted by e^{-l}) the gate refuses."""
    phases = [(s, q, steps)]
    scale = math.sqrt(steps * loss_moments(s, q, "remove")[1])

    def query(c: pld_pilot.Composed) -> float:
        return c.epsilon(1e-5)

    remove = pld_pilot.estimate(phases, "remove", scale, query)
    add = pld_pilot.estimate(phases, "add", scale, query)
    assert remove is not None and add is not None
    got = pld_pilot.mirrored(remove[0], remove[1], query, 1e-9)
    if not usable:
        assert got is None
        return
    assert got is not None
    assert got.value == pytest.approx(add[0].value, rel=1e-6)
    assert got.error == pytest.approx(add[0].error, rel=1e-2)


def test_pilot_reads_a_trailing_add_from_remove(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a delta scale, the pilot composes remove only when add trails and the gate passes
    (one FFT estimate, not two), and chooses the same first level as with two."""
    composer = Composer(check_phases([("2", "0.001", 10_000)]))

    def query(c: pld_pilot.Composed) -> float:
        return c.epsilon(1e-5)

    both = pilot_start(composer, ["remove", "add"], 1e-3, query, 1 << 19, None)
    kinds: list[str] = []
    original = pld_pilot.estimate

    def spy(phases: object, kind: str, *args: object) -> object:
        kinds.append(kind)
        return original(phases, kind, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pld_pilot, "estimate", spy)
    one = pilot_start(composer, ["remove", "add"], 1e-3, query, 1 << 19, None,
                      lambda _b: 1e-5)
    assert kinds == ["remove"]
    assert both is not None and one is not None
    assert one[0] == both[0] and one[1] == both[1]
    assert one[3] == pytest.approx(both[3], rel=1e-12)


def test_pilot_starts_a_delta_query_on_a_fine_grid(caplog: pytest.LogCaptureFixture) -> None:
    """A delta(eps) query at T = 10^4 whose first level needs ~80k nodes (about 17 standard
    deviations of the composed loss; 1e-3 of delta is far finer than 1e-3 of eps) is started by
    the pilot -- its node gate counts 20 deviations, not 40 -- and certified in one level."""
    composer = Composer(check_phases([("1", "0.01", 10_000)]))
    eps = 6.164
    start = pilot_start(composer, ["remove", "add"], 1e-3, lambda c: c.delta(eps), 1 << 19, eps,
                        lambda b: max(b, 1e-300))
    assert start is not None
    with caplog.at_level(logging.DEBUG, logger="certify.accounting.pld"):
        bound = pld.composed_delta([("1", "0.01", 10_000)], str(eps), target=Target(rel=1e-3))
    levels = [r for r in caplog.records if "composed delta" in r.getMessage()]
    assert len(levels) == 1
    assert bound.rel_width <= 1e-3


def test_wide_one_step_ranges_get_a_pilot_from_thirty_steps(
        caplog: pytest.LogCaptureFixture) -> None:
    """sigma 0.5, q 0.001: the one-step grid at the pilot's spacing has far more nodes than the
    composition's spread (up to 2^18 composed from 30 steps on). At T = 100 the pilot starts it
    and one certified level meets the target (three levels from the coarse start before); at
    T = 10 (short, step over 2^14 nodes) there is no pilot."""
    phases = [("0.5", "0.001", 100)]
    spacing = math.sqrt(100 * loss_moments(0.5, 0.001, "remove")[1]) * pld_pilot.PILOT_SPACING
    step = pld_pilot.step_nodes("remove", 0.5, 0.001, spacing)
    assert pld_pilot.MAX_STEP_NODES_SHORT < step <= pld_pilot.MAX_STEP_NODES
    start = pilot_start(Composer(check_phases(phases)), ["remove", "add"], 1e-3,
                        lambda c: c.epsilon(1e-5), 1 << 19, None, lambda _b: 1e-5)
    assert start is not None
    with caplog.at_level(logging.DEBUG, logger="certify.accounting.pld"):
        bound = composed_epsilon(phases, "1e-5", target=Target(rel=1e-3))
    levels = [r for r in caplog.records if "composed epsilon" in r.getMessage()]
    assert len(levels) == 1 and bound.rel_width <= 1e-3
    short = Composer(check_phases([("0.5", "0.001", 10)]))
    assert pilot_start(short, ["remove", "add"], 1e-3, lambda c: c.epsilon(1e-5), 1 << 19,
                       None, lambda _b: 1e-5) is None
