"""Certified references for accountant checks, cached within a run.

For a cell ``(sigma, q, T, delta)`` (exact rationals: the binary values of the floats an
accountant received) the true privacy profile of T Poisson-subsampled Gaussian steps under
add/remove neighbours (the maximum over both directions, :mod:`certify.accounting.pld`) is
enclosed by the cheapest exact method that applies:

* ``q = 0``: P = Q, so eps(delta) = 0 and delta(eps) = 0 (eps >= 0);
* ``q = 1``: the T-fold Gaussian composition is the Gaussian mechanism with mu = sqrt(T)/sigma
  (:class:`certify.mechanisms.gaussian.GaussianMechanism`, Balle and Wang 2018, Thm 8);
* ``T = 1``: the one-step closed forms of :class:`certify.mechanisms.subsampled.SubsampledGaussian`;
* otherwise the certified two-sided PLD composition (:func:`certify.accounting.pld.composed_delta`
  and :func:`~certify.accounting.pld.composed_epsilon`).

Each is asked at a ladder of widths (``level`` 0, 1, 2): a check starts at the cheap level 0 and
refines only the cells it cannot decide. The Renyi references are
:func:`certify.accounting.rdp.rdp` (both directions) and, for q = 1, the exact Gaussian RDP
alpha / (2 sigma^2) (Mironov 2017, "Renyi differential privacy", Prop. 7).

An :class:`~certify.errors.Inconclusive` from a reference with a best enclosure is used as that
(wider, still valid) enclosure; without one it propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from certify.accounting.pld import composed_delta, composed_epsilon
from certify.accounting.rdp import rdp
from certify.errors import Inconclusive
from certify.mechanisms.gaussian import GaussianMechanism
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

Params = tuple[Fraction, Fraction, int]

#: widths of the PLD composition at levels 0, 1, 2 (eps(delta) and delta(eps))
PLD_EPSILON_LEVELS = (Target(rel=1e-3, absolute=1e-9), Target(rel=1e-4, absolute=1e-10),
                      Target(rel=1e-5, absolute=1e-11))
PLD_DELTA_LEVELS = (Target(rel=1e-3, absolute=1e-18), Target(rel=1e-4, absolute=1e-19),
                    Target(rel=1e-5, absolute=1e-20))
#: widths of the closed forms (q = 1 or T = 1) at levels 0, 1, 2
CLOSED_LEVELS = (Target(rel=1e-10, absolute=1e-15), Target(rel=1e-14, absolute=1e-19),
                 Target(rel=1e-18, absolute=1e-23))
#: widths of the RDP references at levels 0, 1
RDP_LEVELS = (Target(rel=1e-10), Target(rel=1e-14))
LEVELS = 3


def method(sigma: Fraction, q: Fraction, steps: int) -> str:
    """Which reference applies (module docstring): ``trivial``, ``gaussian``, ``one-step``,
    ``pld``."""
    if q == 0:
        return "trivial"
    if q == 1:
        return "gaussian"
    if steps == 1:
        return "one-step"
    return "pld"


def _enclosure(compute: Callable[[], Bound]) -> Bound:
    try:
        return compute()
    except Inconclusive as exc:
        if exc.best is None:
            raise
        return exc.best


class References:
    """Certified eps(delta), delta(eps) and RDP enclosures, each computed once per run."""

    def __init__(self) -> None:
        self._eps: dict[tuple[Params, Fraction, int], Bound] = {}
        self._delta: dict[tuple[Params, Fraction, int], Bound] = {}
        self._rdp: dict[tuple[Fraction, Fraction, Fraction, int], Bound] = {}
        self.hits = 0
        self.misses = 0

    def epsilon(self, params: Params, delta: Fraction, level: int = 0) -> Bound:
        """An enclosure of the true eps(delta) of the cell (add/remove, both directions)."""
        return self._profile("epsilon", params, delta, level)

    def delta(self, params: Params, epsilon: Fraction, level: int = 0) -> Bound:
        """An enclosure of the true delta(epsilon) of the cell (add/remove, both directions)."""
        return self._profile("delta", params, epsilon, level)

    def _profile(self, which: str, params: Params, given: Fraction, level: int) -> Bound:
        """``which`` is "epsilon" (given delta) or "delta" (given epsilon): the closed forms
        where they apply (q = 1: the Gaussian with sigma/sqrt(T); T = 1: one step), else the
        certified PLD composition; cached per (cell, given value, level)."""
        cache = self._eps if which == "epsilon" else self._delta
        key = (params, given, level)
        if key in cache:
            self.hits += 1
            return cache[key]
        self.misses += 1
        sigma, q, steps = params
        how = method(sigma, q, steps)
        if how == "trivial":
            out = Bound.exact(0)
        elif how == "gaussian":
            gaussian = GaussianMechanism(sigma, compositions=steps)
            out = _enclosure(lambda: getattr(gaussian, which)(given, CLOSED_LEVELS[level]))
        elif how == "one-step":
            one_step = SubsampledGaussian(sigma, q)
            out = _enclosure(lambda: getattr(one_step, which)(given, CLOSED_LEVELS[level]))
        elif which == "epsilon":
            out = _enclosure(lambda: composed_epsilon([(sigma, q, steps)], given,
                                                      target=PLD_EPSILON_LEVELS[level]))
        else:
            out = _enclosure(lambda: composed_delta([(sigma, q, steps)], given,
                                                    target=PLD_DELTA_LEVELS[level]))
        cache[key] = out
        return out

    def rdp(self, sigma: Fraction, q: Fraction, order: Fraction, level: int = 0) -> Bound:
        """An enclosure of the one-step RDP at ``order``: max(D(P||Q), D(Q||P))."""
        key = (sigma, q, order, level)
        if key in self._rdp:
            self.hits += 1
            return self._rdp[key]
        self.misses += 1
        if q == 0:
            out = Bound.exact(0)
        elif q == 1:
            out = Bound.exact(order / (2 * sigma * sigma))  # Mironov 2017, Prop. 7
        else:
            out = _enclosure(lambda: rdp(SubsampledGaussian(sigma, q), [order],
                                         RDP_LEVELS[level])[0])
        self._rdp[key] = out
        return out


__all__ = ["CLOSED_LEVELS", "LEVELS", "PLD_DELTA_LEVELS", "PLD_EPSILON_LEVELS", "RDP_LEVELS",
           "References", "method"]
