"""Certified composition of Poisson-subsampled Gaussian steps by privacy-loss distributions (PLD).

``composed_delta(phases, epsilon)`` and ``composed_epsilon(phases, delta)`` return rigorous
two-sided enclosures of the privacy profile of a composition of ``phases`` = ``[(sigma, q, steps),
...]`` (or ``(sigma, q, steps, sensitivity)``): ``steps`` Poisson-subsampled Gaussian steps
(sampling probability q, noise sd sigma, per-record L2 bound ``sensitivity``, default 1) per phase,
phases composed in sequence (heterogeneous DP-SGD). Only the noise ratio ``s = sigma /
sensitivity`` enters (the pair of a step, scaled by 1/sensitivity, is the pair below with noise
s: a bijection preserves every hockey-stick divergence). ``neighbours`` is

* ``remove`` (P = (1-q) N(0, s^2) + q N(1, s^2) against Q = N(0, s^2) per step), ``add`` (the
  reverse pair) or ``add-remove``: the maximum over the two directions of the *composed* delta
  (the record is added, or removed, in every step; Zhu, Dong, Wang 2022 on Poisson subsampling,
  and dp-accounting's ADD_OR_REMOVE_ONE), whose eps(delta) is the maximum of the two eps(delta);
* ``replace-one``: per step the pair (1-q) N(0, s^2) + q N(1, s^2) against
  (1-q) N(0, s^2) + q N(-1, s^2) of :mod:`certify.mechanisms.subsampled` (the replaced record's
  contribution v against v' = -v, |v| = C; symmetric, so one direction).

The mathematics (each part proved in its module):

* delta of the T-fold product pair is ``E[(1 - e^{eps - (L_1 + ... + L_T)})_+]`` (plus the mass at
  +infinity) for independent one-step losses L_t ~ w under P (Dwork-Rothblum 2016; Koskela,
  Jalko, Honkela 2020), i.e. a functional of the convolution of the one-step PLDs w.
* Upper bound: each step's w is replaced by the connect-the-dots measure of Doroshenko, Ghazi,
  Kamath, Kumar, Manurangsi 2022 on the grid ``h Z`` (:mod:`certify.accounting.pld_step`), which
  dominates w for every hockey-stick order, hence its composition dominates the composition
  (the composition theorem of dominating pairs, Zhu, Dong, Wang 2022; proved in PLD form there).
* Lower bound: each step's w is replaced by Jensen barycentres of adaptive intervals moved down
  onto grid nodes (:mod:`certify.accounting.pld_lower`), which every hockey-stick order sees as
  smaller, hence so does the composition.
* Masses are Arb enclosures from certified normal CDFs rounded to integers in units 2^-bits in
  each bound's direction; convolutions are exact integer polynomial products (FLINT) rounded
  again in that direction, and truncated tails go to +infinity / the lowest node (upper) or are
  dropped / moved to the highest node (lower) (:mod:`certify.accounting.pld_grid`). Where a
  step's long tail is rare, a power squares only the step's core and brings the tail in with one
  last product, the mass of two or more tail events (bounded exactly) going to +infinity or
  dropped (:mod:`certify.accounting.pld_rare`).
* A phase of at least :data:`~certify.accounting.pld_fft.MIN_COUNT` steps is powered instead by
  one FFT, a pointwise power and one inverse FFT in IEEE double precision, every error bounded a
  priori (Higham 2002, Thm 24.2 for the transforms; aliasing by Chernoff tails from the exact
  moment generating function; :mod:`certify.accounting.pld_fft`): the integer measure it returns
  lies pointwise above (upper) or below (lower) the exact power, so the bound keeps its
  direction; it is used only where that slack fits the level's rounding and truncation budget,
  else the exact loop runs. This is the one place where floating-point arithmetic enters a bound
  (under the IEEE-754 round-to-nearest model, :mod:`certify.numerics.fft`); elsewhere floats only
  choose grids and boundaries.
* eps(delta) is inverted from each bound's profile with certified comparisons and the closed-form
  root on a segment (:mod:`certify.accounting.pld_invert`).
* For add/remove neighbours a direction that trails may be bounded from the other direction's
  upper measure: the reverse pair's delta(eps) is ``e^eps D(-eps) - e^eps + 1`` in the pair's own
  profile (:func:`~certify.accounting.pld_invert.reflected_upper_delta`), and the upper
  pipelines bound D at negative orders too.
* ``method="auto"`` answers a single phase with ``steps = 1`` by the one-step closed forms
  (:class:`certify.mechanisms.subsampled.SubsampledGaussian`) and a single phase with ``q = 1`` by
  the Gaussian mechanism with noise sigma / sqrt(T) (Balle and Wang 2018, Thm 8;
  :class:`certify.mechanisms.gaussian.GaussianMechanism`): both are exact, and far cheaper than a
  grid. ``method="grid"`` always composes on grids (the tests compare the two).

The grid spacing h shrinks (the errors of both discretisations are O(h^2) per step) until the
requested width (:class:`~certify.numerics.precision.Target`) is met, or the node budget
``max_nodes`` would be exceeded: then :class:`~certify.errors.Inconclusive` carries the best
enclosure (:mod:`certify.accounting.pld_refine`; one level's composition is
:mod:`certify.accounting.pld_compose`).
"""

from __future__ import annotations

import math
from fractions import Fraction

from flint import arb, ctx

from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive_int,
    check_probability,
)
from certify.accounting.pld_compose import Composer, Phase, Plan, check_phases
from certify.accounting.pld_grid import GridPLD
from certify.accounting.pld_invert import (
    lower_delta,
    lower_epsilon,
    reflected_upper_delta,
    to_fraction,
    upper_delta,
    upper_epsilon,
)
from certify.accounting.pld_refine import EPSILON_SHARE, PILOT_MIN_DELTA, Reflect, refine
from certify.accounting.pld_step import DIRECTIONS
from certify.mechanisms.gaussian import GaussianMechanism
from certify.mechanisms.subsampled import SubsampledGaussian
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

NEIGHBOURS = ("add-remove", "remove", "add", "replace-one")
METHODS = ("auto", "grid")
#: default widths: eps(delta) to 1e-3 relative (issue 5's target), delta(eps) likewise
PLD_EPSILON_TARGET = Target(rel=1e-3, absolute=1e-9)
PLD_DELTA_TARGET = Target(rel=1e-3, absolute=1e-18)
#: default budget: the composed grid may hold at most this many nodes
DEFAULT_MAX_NODES = 2**19
#: the width asked of the closed forms (method "auto"), unless the caller asks for less
_CLOSED_REL = 1e-10


# -- the public API -------------------------------------------------------------------------------
def composed_delta(phases: object, epsilon: object, *, neighbours: object = "add-remove",
                   target: Target | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                   method: object = "auto") -> Bound:
    """Certified delta(epsilon) of the composition (module docstring), epsilon >= 0."""
    ph = check_phases(phases)
    eps = check_nonnegative("epsilon", epsilon)
    n = check_choice("neighbours", neighbours, NEIGHBOURS)
    dirs = _directions(n)
    check_positive_int("max_nodes", max_nodes)
    how = check_choice("method", method, METHODS)
    goal = target or PLD_DELTA_TARGET
    composer = Composer(ph)
    if not composer.phases:
        return Bound.exact(0)  # every step has P = Q: delta(eps) = 0 for eps >= 0
    exact = _closed_form(composer.phases, n) if how == "auto" else None
    if exact is not None:
        return exact.delta(eps, _closed_target(goal))

    fixed = {}
    if "add" in dirs and _add_loss_bounded_by(composer.phases, eps):
        fixed["add"] = (arb(0), arb(0))  # the composed add loss never exceeds eps: delta = 0
        if dirs == ("add",):
            return Bound.exact(0)

    def evaluate(u: GridPLD, lo: GridPLD | None) -> tuple[arb, arb | None]:
        return (arb(0) if lo is None else lower_delta(lo, eps)), upper_delta(u, eps)

    e_float = float(eps)
    return refine(composer, dirs, goal, max_nodes, evaluate, lambda b: max(b, 1e-300),
                   f"composed delta(epsilon={e_float:g})", unit_range=True, fixed=fixed,
                   epsilon=e_float, read_from=lambda _previous, _h: eps,
                   pilot=lambda c: c.delta(e_float),
                   reflect=Reflect(lambda _previous, h: -eps - 4 * h,
                                   lambda up, mirror: _reflected_delta(up, mirror, eps)))


def _add_loss_bounded_by(phases: tuple[Phase, ...], eps: Fraction) -> bool:
    """Is ``sum_p steps_p (-log(1 - q_p)) <= eps`` certainly? The add loss of one step is
    ``-log(1 - q + q e^u) < -log(1 - q)``, so then the composed add loss is below eps surely and
    the add direction's delta(eps) = P(L > eps) - e^eps Q(L > eps) is exactly 0."""
    if any(p.q == 1 for p in phases):
        return False
    with ctx.workprec(128):
        total = arb(0)
        for p in phases:
            total += p.steps * -(-(arb(p.q.numerator) / p.q.denominator)).log1p()
        return bool(total <= arb(eps.numerator) / eps.denominator)


def composed_epsilon(phases: object, delta: object, *, neighbours: object = "add-remove",
                     target: Target | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                     method: object = "auto") -> Bound:
    """Certified eps(delta) = inf{eps >= 0 : delta(eps) <= delta} of the composition, delta in
    (0, 1] (module docstring)."""
    ph = check_phases(phases)
    dlt = check_probability("delta", delta, open_low=True)
    n = check_choice("neighbours", neighbours, NEIGHBOURS)
    dirs = _directions(n)
    check_positive_int("max_nodes", max_nodes)
    how = check_choice("method", method, METHODS)
    goal = target or PLD_EPSILON_TARGET
    composer = Composer(ph)
    if not composer.phases:
        return Bound.exact(0)
    exact = _closed_form(composer.phases, n) if how == "auto" else None
    if exact is not None:
        return exact.epsilon(dlt, _closed_target(goal))

    def evaluate(u: GridPLD, lo: GridPLD | None) -> tuple[arb, arb | None]:
        return (arb(0) if lo is None else lower_epsilon(lo, dlt)), upper_epsilon(u, dlt)

    d_float = float(dlt)
    return refine(composer, dirs, goal, max_nodes, evaluate, lambda _b: d_float,
                   f"composed epsilon(delta={d_float:g})", unit_range=False,
                   share=EPSILON_SHARE, read_from=_epsilon_read_from,
                   pilot=lambda c: c.epsilon(d_float) if d_float >= PILOT_MIN_DELTA else math.nan,
                   reflect=Reflect(_reflected_low,
                                   lambda up, mirror: _reflected_epsilon(up, mirror, dlt)))


def _epsilon_read_from(previous: Bound | None, h: Fraction) -> Fraction | None:
    """The loss from which an eps(delta) level's composed measures are read (their last product
    resolves only losses above it; :func:`~certify.accounting.pld_grid.multiply`): the previous
    level's lower end less its width and 4 h, where the new level's roots are expected (each
    level's bounds enclose the truth, and a finer level's are narrower). Only work depends on
    it: a root below it still gives valid, if looser, bounds (the lumped or dropped mass moves
    each bound in its own direction). None (resolve everything) without a previous level."""
    if previous is None or not (previous.lower.is_finite() and previous.upper.is_finite()):
        return None
    lower, upper = Fraction(previous.lower), Fraction(previous.upper)
    low = lower - (upper - lower) - 4 * h
    return low if low > 0 else None


def _reflected_delta(up: GridPLD, mirror: tuple[arb, arb | None], eps: Fraction
                     ) -> tuple[arb, arb] | None:
    """A trailing direction's delta(eps) from its mirror's upper measure
    (:func:`~certify.accounting.pld_invert.reflected_upper_delta`), when it is certified not to
    exceed the mirror's lower end (then the maximum over the directions is the mirror's)."""
    value = reflected_upper_delta(up, eps)
    return (arb(0), value) if bool(value <= mirror[0]) else None


def _reflected_low(previous: Bound | None, h: Fraction) -> Fraction | None:
    """Where a mirror's upper measure must be resolved from for :func:`_reflected_epsilon`: the
    trailing answer lies below the previous level's upper end (the pilot's estimate at the
    first level), and is read at minus it. Only work depends on it."""
    if previous is None or not previous.upper.is_finite():
        return None
    return -Fraction(previous.upper) - 4 * h


def _reflected_epsilon(up: GridPLD, mirror: tuple[arb, arb | None], delta: Fraction
                       ) -> tuple[arb, arb] | None:
    """A trailing direction's eps(delta) bounded by its mirror's lower end ``L``: certified
    when the reverse profile from the mirror's upper measure is <= delta at ``L``
    (:func:`~certify.accounting.pld_invert.reflected_upper_delta`; delta(.) is non-increasing,
    so the trailing eps(delta) <= L). None when that is not certified."""
    low = mirror[0]
    if not (low.is_finite() and low > 0):
        return None
    end = low.lower()  # exact
    bound = reflected_upper_delta(up, to_fraction(end))
    certified = bool(bound <= arb(delta.numerator) / delta.denominator)
    return (arb(0), end) if certified else None


def _closed_form(phases: tuple[Phase, ...], neighbours: str
                 ) -> GaussianMechanism | SubsampledGaussian | None:
    """The exact mechanism of a single phase with q = 1 (the Gaussian mechanism with T
    compositions; its remove and add pairs have one profile) or with one step (the one-step
    closed forms), else None."""
    if len(phases) != 1:
        return None
    p = phases[0]
    if p.q == 1:
        relation = "replace-one" if neighbours == "replace-one" else "add-remove"
        return GaussianMechanism(p.sigma, p.sensitivity, p.steps, relation)
    if p.steps == 1:
        return SubsampledGaussian(p.sigma, p.q, p.sensitivity, neighbours)
    return None


def _closed_target(goal: Target) -> Target:
    """The closed forms cost milliseconds at any width: at least relative width 1e-10."""
    rel = _CLOSED_REL if goal.rel is None else min(goal.rel, _CLOSED_REL)
    return Target(rel=rel, absolute=goal.absolute, max_prec=goal.max_prec)


def _directions(neighbours: str) -> tuple[str, ...]:
    if neighbours == "add-remove":
        return DIRECTIONS
    return ("replace",) if neighbours == "replace-one" else (neighbours,)


__all__ = ["DEFAULT_MAX_NODES", "METHODS", "NEIGHBOURS", "PLD_DELTA_TARGET", "PLD_EPSILON_TARGET",
           "Phase", "Plan", "check_phases", "composed_delta", "composed_epsilon"]
