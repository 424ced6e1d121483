"""A floating-point pilot of the composition: where to put the first certified grid.

Only work depends on this module -- no bound is derived from it. The certified refinement
(:mod:`certify.accounting.pld_refine`) needs a grid spacing h, the merging rule of the one-step
grids (the density of the rest of the composition, :class:`~certify.accounting.pld_step.Coarsening`)
and, per add/remove direction, how far it must be refined. Without a pilot it learns them from
a first, coarse, certified level. The pilot estimates them in floats instead, in milliseconds:

* the pessimistic connect-the-dots one-step measure (Doroshenko et al. 2022; the construction of
  :mod:`certify.accounting.pld_step`, here with float CDFs and every node kept) at two spacings
  ``h`` and ``h / 2``;
* the composition by one FFT power per phase (the discrete Fourier transform of the one-step
  masses raised to the number of steps, as in Koskela, Jalko, Honkela 2020), on a circular window
  wide enough that the mass near its seam is negligible (checked; the window doubles otherwise);
* the query (eps(delta) or delta(eps)) on each, and Richardson's extrapolation of the O(h^2)
  error: ``C = (a(h) - a(h/2)) / (3 h^2 / 4)``, value ``a(h/2) - C h^2 / 4``;
* the reverse direction (add for remove) can be read from the same composed measures: its loss
  is minus the loss and its law the loss's law under Q, ``e^{-l}`` times that under P
  (:meth:`Composed.mirrored`), where the FFT noise so amplified is measured and small
  (:func:`mirrored`).

The certified lower bound (Jensen barycentres, :mod:`certify.accounting.pld_lower`) is not
modelled: with intervals centred on their nodes its error is about half the upper one's (a
uniform density gives exactly 1/2: ``h^2/24`` against ``h^2/12``), so the pilot predicts the
certified width at spacing H as ``WIDTH_PER_ERROR * C H^2`` -- a calibration, not a theorem
(on issue 5's grid, T = 100 and 10^4, the certified width over ``C H^2`` measured 1.0 to 1.8,
1.53 to 1.55 at sigma = 2; C is measured near H, :mod:`certify.accounting.pld_refine` pilots
again where H is far coarser than the pilot's spacing, and does not use the pilot below 10
steps, where single sampled steps dominate the loss). A wrong prediction costs one more
certified level, never soundness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from certify.accounting.pld_fft import chain_power
from certify.accounting.pld_step import (
    NodeDensity,
    float_cumulative,
    float_x,
    interval_masses,
    node_range,
    smoothed_density,
)

#: predicted certified width over the upper bound's error C h^2 (a calibration: the lower
#: bound's error is about half the upper's, and merged intervals add a little; measured 1.0 to
#: 1.8 on issue 5's grid, module docstring)
WIDTH_PER_ERROR = 1.6
#: the pilot's finer spacing, in standard deviations of the composed loss
PILOT_SPACING = 1.0 / 512
#: the most nodes of a one-step measure the pilot composes: small q with sigma <= 1 has one-step
#: ranges far wider than the composition's spread; from :data:`LONG_STEPS` steps on the pilot
#: still pays there (one certified level instead of two or three: (0.001, 0.5, 100) 80 -> 51 ms,
#: (0.001, 1, 300) 110 -> 58 ms), below it its predictions miss too often for its cost
MAX_STEP_NODES = 1 << 18
#: ... and for fewer steps than :data:`LONG_STEPS`
MAX_STEP_NODES_SHORT = 1 << 14
LONG_STEPS = 30
#: one-step tails beyond the pilot's nodes (floats; they go to +infinity or the first node)
_TAIL = 1e-15
#: the largest mass allowed near the window's seam (the signed sums: FFT noise cancels there)
_SEAM = 1e-11
#: the FFT window's least width, in standard deviations of the composed loss (the seam check
#: doubles it where the tails are heavier than that)
_WINDOW = 24
#: the most FFT bins the pilot may use
_MAX_BINS = 1 << 21
#: below this log-modulus a power is taken as 0 (e^-746 underflows to 0 in floats)
_LOG_TINY = -746.0
#: the largest exponent :meth:`Composed.mirrored` weights a mass by (e^700 < float max)
_MAX_EXP = 700.0


@dataclass(frozen=True)
class Step:
    """A float one-step upper measure: ``masses[j]`` at loss ``(first + j) h``, ``infinity`` at
    +infinity."""

    first: int
    masses: np.ndarray
    infinity: float


@dataclass(frozen=True)
class Composed:
    """A float composed measure: ``masses[j]`` at loss ``(first + j) h``, plus +infinity."""

    first: int
    masses: np.ndarray
    infinity: float
    h: float

    def density(self, window: int = 2) -> NodeDensity:
        """Mass per unit loss, maximised over ``window`` neighbours (as
        :func:`certify.accounting.pld_step.rest_density`)."""
        return smoothed_density(np.maximum(self.masses, 0.0), self.first * self.h, self.h,
                                window)

    def mirrored(self) -> tuple[Composed, float] | None:
        """The composed measure of the reverse pair (P and Q swapped) and a bound on what the
        FFT noise adds to its profile; None when the weights below would overflow.

        The reverse pair's loss is ``-L`` and its law is that of L under Q, ``dQ = e^{-L} dP``
        (for a product of pairs too: losses add, densities multiply), so its mass at loss
        ``-l`` is ``e^{-l} m_l``; the +infinity mass (Q-mass 0) goes to -infinity and drops
        out. The noise of an FFT power is about the same in every bin, so it is measured where
        the true masses are negligible -- the largest ``|m|`` in the outer sixteenths of the
        window, the seam :func:`compose` checked -- and the reverse profile at any eps >= 0
        gains at most that times ``sum_{l < 0} e^{-l}`` (its losses above 0)."""
        loss = (self.first + np.arange(self.masses.size)) * self.h
        if self.masses.size == 0 or -loss[0] > _MAX_EXP:
            return None
        weights = np.exp(-loss)
        seam = max(self.masses.size // 16, 1)
        noise = max(float(np.abs(self.masses[:seam]).max()),
                    float(np.abs(self.masses[-seam:]).max()))
        gain = noise * float(weights[loss < 0].sum())
        reverse = Composed(-(self.first + self.masses.size - 1), (self.masses * weights)[::-1],
                           0.0, self.h)
        return reverse, gain

    def delta(self, eps: float) -> float:
        """``D(eps) = infinity + sum_{l > eps} m_l (1 - e^{eps - l})`` (floats)."""
        loss = (self.first + np.arange(self.masses.size)) * self.h
        above = loss > eps
        m = np.maximum(self.masses[above], 0.0)
        return float(self.infinity + np.sum(m * -np.expm1(eps - loss[above])))

    def epsilon(self, delta: float) -> float:
        """The smallest eps >= 0 with ``D(eps) <= delta`` (floats; inf when the +infinity mass
        alone exceeds delta)."""
        if self.infinity >= delta:
            return math.inf
        if self.delta(0.0) <= delta:
            return 0.0
        # D(0) > delta and D decreases, so the root lies above loss 0: only the nodes from the
        # one just below 0 up enter (the sums below run over higher indices only)
        start = max(0, min(-self.first - 1, self.masses.size - 1))
        m = np.maximum(self.masses[start:], 0.0)
        loss = (self.first + start + np.arange(m.size)) * self.h
        profile, s1, log_s2 = node_profile(m, loss, self.infinity)
        d_nodes = profile[:-1]
        i = int(np.argmax(d_nodes <= delta))  # the first node with D <= delta
        if not d_nodes[i] <= delta:
            return math.inf
        # on [l_{i-1}, l_i) the losses above eps are those of the indices >= i
        rest = self.infinity + s1[i] - delta
        if not rest > 0:
            return math.inf
        eps = math.log(rest) - log_s2[i]
        return max(eps, 0.0)


def node_profile(m: np.ndarray, loss: np.ndarray, infinity: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(D, S1, log S2)`` at every node of float masses ``m`` at ``loss`` (increasing):
    ``S1_k = sum_{j >= k} m_j``, ``S2_k = sum_{j >= k} m_j e^{-l_j}`` and the profile
    ``D(l_i) = infinity + S1_(i+1) - e^{l_i} S2_(i+1)`` (the top node's D is the infinity
    mass); on ``[l_(k-1), l_k)`` D is ``infinity + S1_k - e^eps S2_k``."""
    s1 = np.cumsum(m[::-1])[::-1]
    log_s2 = log_suffix_sums(m, loss)
    profile = np.full(m.size, infinity)
    profile[:-1] = infinity + s1[1:] - np.exp(loss[:-1] + log_s2[1:])
    return profile, s1, log_s2


#: below this loss span the suffix sums of m e^{-l} are taken in floats scaled by e^{l_top}
_LINEAR_SPAN = 600.0


def log_suffix_sums(m: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """``log sum_{j >= k} m_j e^{-l_j}`` for every k (-inf where the sum is 0): scaled by
    ``e^{l_top}`` (every term then lies in [0, m e^600], no overflow) when the losses span less
    than :data:`_LINEAR_SPAN`, in logarithms (``logaddexp``, several times slower) otherwise."""
    with np.errstate(divide="ignore"):
        if m.size and loss[-1] - loss[0] < _LINEAR_SPAN:
            scaled = np.cumsum((m * np.exp(loss[-1] - loss))[::-1])[::-1]
            return np.log(scaled) - loss[-1]
        terms = np.log(m) - loss
    return np.logaddexp.accumulate(terms[::-1])[::-1]


def step_nodes(kind: str, s: float, q: float, h: float) -> int:
    """The number of nodes of :func:`one_step` at spacing h."""
    i_lo, i_hi = node_range("replace" if kind == "replace" else "remove", s, q, h, _TAIL)
    return i_hi - i_lo + 1


def one_step(kind: str, s: float, q: float, h: float) -> Step:
    """The float connect-the-dots measure of one step of ``kind`` (``remove``, ``add``,
    ``replace``) on every node of spacing h (the construction of
    :mod:`certify.accounting.pld_step`, floats)."""
    nodes_kind = "replace" if kind == "replace" else "remove"
    i_lo, i_hi = node_range(nodes_kind, s, q, h, _TAIL)
    return _connected(kind, i_lo, h, *_cumulative(nodes_kind, s, q, h, i_lo, i_hi))


def one_step_twice(kind: str, s: float, q: float, h: float) -> tuple[Step, Step]:
    """:func:`one_step` at spacings 2h and h from one evaluation of the CDFs: the nodes of 2h
    are every other node of h (the range is widened to even ends, by at most one node each:
    both tails stay accounted)."""
    nodes_kind = "replace" if kind == "replace" else "remove"
    i_lo, i_hi = node_range(nodes_kind, s, q, 2 * h, _TAIL)
    cdfs = _cumulative(nodes_kind, s, q, h, 2 * i_lo, 2 * i_hi)
    coarse = _connected(kind, i_lo, 2 * h, *(c[::2] for c in cdfs))
    return coarse, _connected(kind, 2 * i_lo, h, *cdfs)


def _cumulative(nodes_kind: str, s: float, q: float, h: float, i_lo: int, i_hi: int
                ) -> tuple[np.ndarray, ...]:
    """(P below, P above, Q below, Q above) at the losses ``i h``, i from i_lo to i_hi."""
    x = float_x(nodes_kind, np.arange(i_lo, i_hi + 1) * h, s, q)
    return float_cumulative(nodes_kind, x, s, q)


def _connected(kind: str, i_lo: int, h: float, pb: np.ndarray, pa: np.ndarray, qb: np.ndarray,
               qa: np.ndarray) -> Step:
    """The connect-the-dots measure from the cumulative masses at the nodes ``i_lo + j``."""
    lam = (i_lo + np.arange(pb.size)) * h
    i_hi = i_lo + pb.size - 1
    p_int = np.maximum(interval_masses(pb, pa), 0.0)
    q_int = np.maximum(interval_masses(qb, qa), 0.0)
    if kind == "add":  # loss -lambda; the roles of P and Q swap
        lam = -lam[::-1]
        p_int, q_int = q_int[::-1], p_int[::-1]
        below, p_above, q_above = float(qa[-1]), float(qb[0]), float(pb[0])
        first = -i_hi
    else:
        below, p_above, q_above = float(pb[0]), float(pa[-1]), float(qa[-1])
        first = i_lo
    low_factor = 1.0 / math.expm1(h)
    high_factor = 1.0 / -math.expm1(-h)
    masses = np.zeros(lam.size)
    ea, eb = np.exp(lam[:-1]), np.exp(lam[1:])
    masses[:-1] += (eb * q_int - p_int) * low_factor
    masses[1:] += (p_int - ea * q_int) * high_factor
    masses[0] += below  # the mass below the first node, moved up onto it
    top = math.exp(lam[-1]) * q_above
    masses[-1] += top
    return Step(first, np.maximum(masses, 0.0), max(p_above - top, 0.0))


def moments(step: Step, h: float) -> tuple[float, float]:
    """Mean and variance of the finite part of a one-step measure (normalised; elementwise
    sums, not BLAS: a BLAS thread pool would keep the other cores spinning after the call)."""
    loss = (step.first + np.arange(step.masses.size)) * h
    total = float(step.masses.sum())
    mean = float((step.masses * loss).sum()) / total
    return mean, float((step.masses * (loss - mean) ** 2).sum()) / total


def compose(steps: Sequence[tuple[Step, int]], h: float, spread: float, centre: float
            ) -> Composed | None:
    """The composition of ``count`` copies of each step by FFT powers on a circular window about
    ``centre`` (the composed mean), at least :data:`_WINDOW` ``spread`` (its standard
    deviation) wide and doubled while the mass near the seam exceeds :data:`_SEAM`; None beyond
    the bin budget."""
    bins = 1 << max(10, math.ceil(math.log2(max(_WINDOW * spread / h, 1.0) + 1)))
    width = max(st.masses.size for st, _ in steps)
    first = sum(st.first * n for st, n in steps)
    infinity = 1.0 - math.prod((1.0 - st.infinity) ** n for st, n in steps)
    while bins <= _MAX_BINS:
        if width <= bins:
            spectrum = np.ones(bins // 2 + 1, dtype=complex)
            for st, n in steps:
                spectrum *= _power(np.fft.rfft(st.masses, bins), n)
            circ = np.fft.irfft(spectrum, bins)
            # index j stands for first + j' with j' = j mod bins nearest the centre
            c = int(round(centre / h)) - first
            start = c - bins // 2
            order = np.roll(circ, -(start % bins))
            seam = max(bins // 16, 1)
            if abs(order[:seam].sum()) + abs(order[-seam:].sum()) <= _SEAM:
                return Composed(first + start, order, infinity, h)
        bins *= 2
    return None


def _power(z: np.ndarray, n: int) -> np.ndarray:
    """``z ** n`` elementwise: binary powering (:func:`certify.accounting.pld_fft.chain_power`)
    for n below 512, else in polar form, ``|z|^n e^{i n arg z}`` (half the time of numpy's
    complex power for large n; relative error about n ulp, ample for a pilot)."""
    if n < 512:
        return chain_power(z, n)
    with np.errstate(divide="ignore"):
        log_r = n * np.log(np.abs(z))
    # past the last frequency whose power is a normal float every power is 0 (a composed
    # spectrum decays: at T = 10^4 most of the window's frequencies), so the phases stop there
    alive = np.flatnonzero(log_r > _LOG_TINY)
    out = np.zeros_like(z)
    if alive.size:
        end = int(alive[-1]) + 1
        out[:end] = np.exp(log_r[:end] + 1j * (n * np.angle(z[:end])))
    return out


@dataclass(frozen=True)
class Estimate:
    """A direction's pilot: the extrapolated answer, the upper bound's error coefficient C (error
    about C h^2) and the composed measures at the two spacings (the finer one, ``rest``, for
    the merging rule)."""

    value: float
    error: float
    coarse: Composed
    rest: Composed

    def spacing(self, width: float) -> float:
        """The spacing at which the predicted certified width, ``WIDTH_PER_ERROR * C h^2``, is
        ``width``."""
        return math.sqrt(width / (WIDTH_PER_ERROR * self.error))


def estimate(phases: Sequence[tuple[float, float, int]], kind: str, scale: float,
             query: Callable[[Composed], float], spacing: float | None = None
             ) -> tuple[Estimate, float] | None:
    """The pilot of one direction: phases as float ``(noise ratio, q, steps)``, a standard
    deviation ``scale`` of the composed loss (it sets the spacings ``scale * PILOT_SPACING`` and
    twice that, unless ``spacing`` gives the finer one; the composed mean and deviation that
    place the FFT window come from the coarser one-step measures) and the query on a composed
    measure. Returns the estimate and the finer spacing used, or None when it is not usable (a
    one-step range far wider than the composition, a window too large, an answer that is not
    finite, errors that do not fall with h)."""
    h = scale * PILOT_SPACING if spacing is None else spacing
    most = MAX_STEP_NODES if sum(n for _, _, n in phases) >= LONG_STEPS else MAX_STEP_NODES_SHORT
    if not h > 0 or any(step_nodes(kind, s, q, h) > most for s, q, _ in phases):
        return None
    both = [one_step_twice(kind, s, q, h) for s, q, _ in phases]
    coarse_steps = [(coarse, n) for (coarse, _), (_, _, n) in zip(both, phases, strict=True)]
    fine_steps = [(fine, n) for (_, fine), (_, _, n) in zip(both, phases, strict=True)]
    centre = variance = 0.0
    for st, n in coarse_steps:
        mean, var = moments(st, 2 * h)
        centre += n * mean
        variance += n * var
    spread = math.sqrt(variance)
    if not (spread > 0 and math.isfinite(centre)):
        return None
    measures = []
    for spacing in (2 * h, h):
        steps = coarse_steps if spacing > h else fine_steps
        composed = compose(steps, spacing, spread, centre)
        if composed is None:
            return None
        measures.append(composed)
    found = _extrapolated(measures[0], measures[1], h, query)
    return None if found is None else (found, h)


def mirrored(found: Estimate, h: float, query: Callable[[Composed], float], budget: float
             ) -> Estimate | None:
    """The reverse direction's pilot read from ``found``'s composed measures
    (:meth:`Composed.mirrored`) instead of composed anew, or None when the amplified FFT noise
    may add more than ``budget`` to its profile (far negative losses weigh e^{-l}: at a loss
    span of tens the noise would swamp the answer)."""
    coarse, fine = found.coarse.mirrored(), found.rest.mirrored()
    if coarse is None or fine is None or not max(coarse[1], fine[1]) <= budget:
        return None
    return _extrapolated(coarse[0], fine[0], h, query)


def _extrapolated(coarse: Composed, fine: Composed, h: float,
                  query: Callable[[Composed], float]) -> Estimate | None:
    """Richardson's extrapolation of the query on the measures at spacings 2h and h (module
    docstring); None when an answer is not finite or the errors do not fall with h."""
    a_coarse, a_fine = query(coarse), query(fine)
    if not (math.isfinite(a_coarse) and math.isfinite(a_fine)):
        return None
    error = (a_coarse - a_fine) / (3 * h * h)  # a(2h) - a(h) = C (4 - 1) h^2
    if not error > 0:
        return None
    return Estimate(a_fine - error * h * h, error, coarse, fine)


__all__ = ["LONG_STEPS", "MAX_STEP_NODES", "MAX_STEP_NODES_SHORT", "PILOT_SPACING",
           "WIDTH_PER_ERROR", "Composed", "Estimate", "Step", "compose", "estimate",
           "log_suffix_sums", "mirrored", "moments", "node_profile", "one_step", "one_step_twice",
           "step_nodes"]
