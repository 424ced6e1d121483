"""The composition of one refinement level: the phases of a request, a level's plan, and the
composed grid measures of each direction and pipeline.

:class:`Composer` composes the phases of one request (:func:`check_phases`) at a :class:`Plan`
-- grid spacing, fixed-point unit, truncation and rare-event budgets, Arb precision
(:func:`level_plan`) -- from the certified one-step discretisations
(:mod:`certify.accounting.pld_step` for the upper bound, :mod:`certify.accounting.pld_lower`
for the lower one), cached per request, by exact convolution powers
(:mod:`certify.accounting.pld_grid`). The mathematics is in :mod:`certify.accounting.pld`;
floats here (:func:`loss_moments`, :func:`initial_h`) only size grids.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
from flint import ctx

from certify._validate import check_positive, check_positive_int, check_probability
from certify.accounting.pld_fft import grid_power
from certify.accounting.pld_grid import GridPLD, multiply, power
from certify.accounting.pld_lower import lower_discretisation
from certify.accounting.pld_step import (
    Coarsening,
    UpperSteps,
    loss_range,
    upper_discretisations,
)
from certify.errors import InvalidArgument


@dataclass(frozen=True)
class Phase:
    """``steps`` Poisson-subsampled Gaussian steps: noise sd ``sigma``, sampling probability
    ``q``, per-record L2 bound ``sensitivity``. Exact rationals (a float means its exact binary
    value)."""

    sigma: Fraction
    q: Fraction
    steps: int
    sensitivity: Fraction = Fraction(1)

    @property
    def noise_ratio(self) -> Fraction:
        """s = sigma / sensitivity: the only parameter of the pair besides q."""
        return self.sigma / self.sensitivity


def _is_phase_tuple(p: object) -> bool:
    return (isinstance(p, tuple) and len(p) in (3, 4)
            and not any(isinstance(x, (tuple, list, Mapping, Phase)) for x in p))


def check_phases(phases: object) -> tuple[Phase, ...]:
    """Validate ``phases``: a non-empty sequence of ``(sigma, q, steps)`` or ``(sigma, q, steps,
    sensitivity)`` (tuples, mappings with those keys -- ``sensitivity`` optional -- or
    :class:`Phase`); a single such tuple is accepted too."""
    if isinstance(phases, Phase) or _is_phase_tuple(phases):
        phases = [phases]
    if isinstance(phases, (str, bytes, Mapping)) or not isinstance(phases, Iterable):
        raise InvalidArgument(f"phases={phases!r} must be a sequence of (sigma, q, steps).")
    out = []
    for i, ph in enumerate(phases):
        sens: object = 1
        if isinstance(ph, Phase):
            sigma, q, steps, sens = ph.sigma, ph.q, ph.steps, ph.sensitivity
        elif isinstance(ph, Mapping):
            try:
                sigma, q, steps = ph["sigma"], ph["q"], ph["steps"]
            except KeyError as err:
                raise InvalidArgument(f"phases[{i}]={ph!r} lacks the key {err}.") from None
            sens = ph.get("sensitivity", 1)
        elif isinstance(ph, (tuple, list)) and len(ph) in (3, 4):
            sigma, q, steps = ph[0], ph[1], ph[2]
            if len(ph) == 4:
                sens = ph[3]
        else:
            raise InvalidArgument(f"phases[{i}]={ph!r} must be (sigma, q, steps).")
        out.append(Phase(check_positive(f"phases[{i}].sigma", sigma),
                         check_probability(f"phases[{i}].q", q),
                         check_positive_int(f"phases[{i}].steps", steps),
                         check_positive(f"phases[{i}].sensitivity", sens)))
    if not out:
        raise InvalidArgument("phases=[] must not be empty.")
    return tuple(out)


@dataclass(frozen=True)
class Plan:
    """One discretisation: spacing ``h`` (exact dyadic), fixed-point ``bits``, truncation mass
    ``cut`` per product, ``rare``: what tail events in two or more steps may cost (both per
    step, units 2^-bits; :mod:`certify.accounting.pld_rare`), one-step ``tail`` mass, Arb
    precision ``prec``."""

    h: Fraction
    bits: int
    cut: int
    tail: float
    prec: int
    rare: int = 0


class Composer:
    """Composes the phases of one request at a Plan, caching one-step discretisations.

    ``coarsening`` (per direction, set by the refinement between levels) lets the one-step grids
    merge intervals where the previous level's composition says they hardly matter
    (:class:`~certify.accounting.pld_step.Coarsening`); it changes the work, never soundness.
    """

    def __init__(self, phases: tuple[Phase, ...]) -> None:
        self.phases = tuple(p for p in phases if p.q != 0)  # q = 0: the identity (P = Q)
        self.coarsening: dict[str, Coarsening] = {}
        self._upper: dict[tuple[Fraction, Fraction, Plan], UpperSteps] = {}
        self._lower: dict[tuple[Fraction, Fraction, Plan, str], GridPLD] = {}

    def step(self, ph: Phase, plan: Plan, direction: str, upper: bool) -> GridPLD:
        """The one-step grid PLD (computed at ``plan.prec``) of ``direction`` (``remove``,
        ``add`` or ``replace``)."""
        s = ph.noise_ratio
        with ctx.workprec(plan.prec):
            if upper:
                key = (s, ph.q, plan)
                if key not in self._upper:
                    self._upper[key] = upper_discretisations(s, ph.q, plan.h, plan.bits,
                                                             plan.tail, plan.prec,
                                                             self.coarsening)
                return self._upper[key][direction]
            lkey = (s, ph.q, plan, direction)
            if lkey not in self._lower:
                self._lower[lkey] = lower_discretisation(s, ph.q, plan.h, direction, plan.bits,
                                                         plan.tail,
                                                         self.coarsening.get(direction))
            return self._lower[lkey]

    def composed(self, plan: Plan, direction: str, upper: bool,
                 low: Fraction | None = None) -> GridPLD:
        """The composition of every phase; ``low``: it is read at losses >= low only, so its
        last product resolves only that part (:func:`~certify.accounting.pld_grid.multiply`)."""
        result: GridPLD | None = None
        done = 0
        last = len(self.phases) - 1
        for i, ph in enumerate(self.phases):
            alone = last == 0
            step = self.step(ph, plan, direction, upper)
            part = grid_power(step, ph.steps, 2 * plan.cut * self.products * ph.steps,
                              plan.cut * ph.steps, low if alone else None)
            if part is None:
                part = power(step, ph.steps, plan.cut, low if alone else None,
                             rare=plan.rare * ph.steps)
            done += ph.steps
            result = part if result is None else multiply(result, part, plan.cut * done,
                                                          low if i == last else None)
        assert result is not None
        return result

    @property
    def products(self) -> int:
        return sum(2 * max(p.steps.bit_length(), 1) for p in self.phases) + len(self.phases)

    @property
    def total_steps(self) -> int:
        return sum(p.steps for p in self.phases)


@lru_cache(maxsize=64)
def loss_moments(s: float, q: float, direction: str) -> tuple[float, float]:
    """Float mean and variance of the loss under P (trapezoid rule; only sizes grids). Cached:
    the first spacing and the pilot ask for the same phases."""
    if direction == "replace":
        lo, hi = -1 - 12 * s, 1 + 12 * s
    else:
        lo, hi = -12 * s, 1 + 12 * s
    x = np.linspace(lo, hi, 24001)
    dens = ((1 - q) * np.exp(-0.5 * (x / s) ** 2)
            + q * np.exp(-0.5 * ((x - 1) / s) ** 2)) / (s * math.sqrt(2 * math.pi))
    if direction == "replace":
        if q >= 1:
            loss = 2 * x / (s * s)
        else:
            a, c = math.log1p(-q), math.log(q) - 1 / (2 * s * s)
            loss = np.logaddexp(a, c + x / (s * s)) - np.logaddexp(a, c - x / (s * s))
    else:
        u = (2 * x - 1) / (2 * s * s)
        loss = u if q >= 1 else np.logaddexp(math.log1p(-q), math.log(q) + u)
    w = dens / np.trapezoid(dens, x)
    mean = float(np.trapezoid(w * loss, x))
    return mean, float(np.trapezoid(w * (loss - mean) ** 2, x))


def dyadic(h: float) -> Fraction:
    """h rounded down to 6 significant bits (an exact dyadic rational; within 3% of h)."""
    e = math.floor(math.log2(h))
    return Fraction(math.floor(h / 2.0**e * 32), 32) * Fraction(2) ** e


def initial_h(phases: tuple[Phase, ...], dirs: tuple[str, ...]) -> float:
    """A cheap first spacing: about 512 one-step nodes or 4096 composed nodes (20 standard
    deviations of the composed loss), whichever is coarser, but at most 1/4 deviation."""
    total, one_step = 0.0, 0.0
    kind = "replace" if "replace" in dirs else "remove"
    for p in phases:
        s, q = float(p.noise_ratio), float(p.q)
        _, var = loss_moments(s, q, kind)
        total += p.steps * var
        lo, hi = loss_range(s, q, 1e-12, kind)
        one_step = max(one_step, hi - lo)
    spread = math.sqrt(total)
    return min(max(one_step / 128, 20 * spread / 4096), spread / 4)


def level_plan(h: Fraction, tolerance: float, nodes: int, composer: Composer, prec: int) -> Plan:
    """Bits, truncation and tails so that their total effect on delta stays below ``tolerance``
    (a small fraction of the requested width), leaving the width to the grid spacing. ``cut`` is
    per step: a product making an m-fold composition cuts tails of mass ``m cut``
    (:func:`certify.accounting.pld_grid.power`); so is ``rare``, the budget of a phase's
    multiple tail events (``steps rare``, :mod:`certify.accounting.pld_rare`). Rounding, cuts,
    one-step tails and rare events get about an eighth of the tolerance each. Arb works at
    ``bits + 32`` bits at least: a one-step mass loses about log2(1/h) bits to the cancellation
    of connect-the-dots (or of an interval's CDF difference) and is then rounded to 2^-bits, so
    the balls stay far narrower than a unit; only their width, never soundness, depends on it
    (an undecided sign doubles the precision)."""
    products, steps = composer.products, composer.total_steps
    bits = max(64, math.ceil(math.log2(8 * max(nodes, 1024) * products * steps / tolerance)))
    cut = max(1, math.floor(tolerance / (8 * products * steps) * 2.0**bits))
    rare = math.floor(tolerance / (8 * steps) * 2.0**bits)
    tail = tolerance / (8 * steps)
    return Plan(h, bits, cut, tail, max(prec, bits + 32), rare)


__all__ = ["Composer", "Phase", "Plan", "check_phases", "dyadic", "initial_h", "level_plan",
           "loss_moments"]
