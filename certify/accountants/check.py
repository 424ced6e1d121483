"""Per-cell verdicts: an accountant's answers against the certified references.

For each cell of a grid (:mod:`certify.accountants.grid`) and each form of the accountant
(:mod:`certify.accountants.adapters`):

* **epsilon form** (an upper bound): the reported epsilon ``e`` claims that the composition is
  ``(e, delta)``-DP, i.e. ``delta_true(e) <= delta``. The cell is ``unsound`` when the certified
  ``delta_true`` at ``e`` (widened by the tolerance below) exceeds ``delta``; equivalently ``e`` is
  provably below the true epsilon ``eps(delta) = inf{eps : delta_true(eps) <= delta}``
  (``delta_true`` is non-increasing, so ``delta_true(e) > delta`` iff ``e < eps(delta)``). The
  certified interval of the true epsilon (shared by every accountant checked on the cell) decides
  most cells at once and is refined up to the grid's ``max_level``; a reported value still inside
  it is decided by the certified delta at the judged epsilon
  (:class:`~certify.accountants.reference.References`). An unsound answer always carries the
  certified delta at its judged epsilon as evidence.
* **epsilon form, lower bound** (``bound="lower"``): ``e`` claims ``e <= eps(delta)``; ``unsound``
  when ``e`` is provably above the true epsilon (``delta_true(e) <= delta``, or ``e`` above the
  certified interval).
* **delta form**: the reported delta ``d`` at an epsilon ``eps0`` claims ``delta_true(eps0) <= d``;
  ``eps0`` is the cell's ``epsilon`` or the certified upper end of its true epsilon at ``delta``,
  rounded up to 4 significant digits (so that ``d`` lands near the cell's delta).
* **rdp form**: the reported one-step RDP ``r`` at order alpha claims ``RDP_true(alpha) <= r``,
  the true value being the larger of the two add/remove directions
  (:func:`certify.accounting.rdp.rdp`).

Verdicts: ``unsound`` (provably violates its claim), ``loose`` (sound, and provably conservative
by more than :data:`LOOSE_THRESHOLD`, reported as the excess in percent), ``tight`` (not provably
unsound and not provably loose: this includes answers inside the certified interval that no
refinement could separate from the truth -- their ``proof`` is ``undecided``), ``error`` (the
accountant raised, or returned NaN, an infinity or a negative number) and, only if our own
reference failed without any enclosure, ``inconclusive``.

**Tolerance policy** (:data:`TOLERANCE`): accountants invert delta(eps) with float root finders
(``brentq(xtol=1e-12)`` in dp-accounting's analytic Gaussian, for example), so a correct
accountant can land a few 1e-12 below the true epsilon. Every claim is therefore judged at the
reported value moved by the tolerance in the accountant's favour: an upper bound ``e`` at
``e (1 + 1e-12) + 1e-12``, a lower bound at ``e (1 - 1e-12) - 1e-12``, a delta ``d`` at
``d (1 + 1e-12)`` (no absolute part: deltas are tiny) and a one-step RDP value ``r`` at
``r (1 + 1e-9)``: RDP values come from float series with cancellation (log-space sums of terms
of both signs), whose rounding reaches 1e-11 relative in opacus 1.6.0 and dp-accounting 0.6.0 at
fractional orders, and 1e-9 is still far below any effect on epsilon. Each is then rounded to 20
significant digits in the same favourable direction; the certified computation is made at that
exact value (``judged_at`` in the results). ``unsound`` therefore means: wrong by more than the
tolerance. The policy is part of every report and certificate.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Any

from certify.accountants.adapters import Adapter, load_target
from certify.accountants.grid import Cell, Grid, load_grid
from certify.accountants.reference import LEVELS, RDP_LEVELS, References, method
from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound

VERDICTS = ("unsound", "error", "inconclusive", "loose", "tight")
#: a sound answer that exceeds the truth by more than this (relative, certified) is ``loose``
LOOSE_THRESHOLD = 0.01
_JUDGE_DIGITS = 20
_EXCESS_DIGITS = 12


@dataclass(frozen=True)
class Tolerance:
    """The slack given to a reported value before it is judged (module docstring)."""

    rel: float = 1e-12
    absolute: float = 1e-12
    rdp_rel: float = 1e-9

    def __post_init__(self) -> None:
        for name, v in (("rel", self.rel), ("absolute", self.absolute),
                        ("rdp_rel", self.rdp_rel)):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v < 1):
                raise InvalidArgument(f"tolerance.{name}={v!r} must be in [0, 1).")

    def describe(self) -> str:
        return (f"reported values are judged after a slack in the accountant's favour: "
                f"epsilon upper bounds at e(1+{self.rel:g})+{self.absolute:g}, lower bounds at "
                f"e(1-{self.rel:g})-{self.absolute:g}, deltas at d(1+{self.rel:g}), RDP values "
                f"at r(1+{self.rdp_rel:g}); float noise below that is never called unsound")

    def to_json(self) -> dict[str, Any]:
        return {"rel": repr(self.rel), "absolute": repr(self.absolute),
                "rdp_rel": repr(self.rdp_rel), "policy": self.describe()}


TOLERANCE = Tolerance()


def _rounded(x: Fraction, up: bool) -> Fraction:
    """x rounded to 20 significant digits, up or down (exactly)."""
    if x == 0:
        return x
    with localcontext() as c:
        c.prec = _JUDGE_DIGITS
        c.rounding = ROUND_CEILING if up else ROUND_FLOOR
        d = Decimal(x.numerator) / Decimal(x.denominator)
    out = Fraction(d)
    assert (out >= x) if up else (out <= x)
    return out


def judged_value(reported: float, kind: str, tol: Tolerance = TOLERANCE) -> Fraction:
    """The exact value a reported number is judged at (module docstring). ``kind``:
    ``upper`` (an epsilon upper bound), ``lower`` (an epsilon lower bound), ``delta`` or
    ``rdp``."""
    r = Fraction(reported)
    # the tolerance's decimal values (1e-12 means 10^-12, not the nearest double)
    rel, absolute = Fraction(repr(tol.rel)), Fraction(repr(tol.absolute))
    if kind == "upper":
        return _rounded(r * (1 + rel) + absolute, up=True)
    if kind == "lower":
        return _rounded(r * (1 - rel) - absolute, up=False)
    if kind == "delta":
        return _rounded(r * (1 + rel), up=True)
    if kind == "rdp":
        return _rounded(r * (1 + Fraction(repr(tol.rdp_rel))), up=True)
    raise InvalidArgument(f"kind={kind!r} must be one of: upper, lower, delta, rdp.")


# -- results -------------------------------------------------------------------------------------
@dataclass
class CellResult:
    """The verdict on one answer. ``truth`` encloses the true value of what was reported (eps,
    delta at ``at_epsilon``, or RDP at ``order``); ``excess`` encloses the relative margin
    (reported - true) / true for upper bounds, (true - reported) / true for a lower bound, so a
    negative excess is a violation; ``delta_at_reported`` (epsilon form) encloses the true delta at
    ``judged_at``."""

    form: str
    bound: str
    noise_multiplier: float
    sample_rate: float
    steps: int | None
    delta: float | None
    order: float | None = None
    at_epsilon: float | None = None
    reported: float | None = None
    verdict: str = "tight"
    proof: str | None = None
    judged_at: Fraction | None = None
    truth: Bound | None = None
    delta_at_reported: Bound | None = None
    excess: Bound | None = None
    reference: str = ""
    level: int = 0
    delta_level: int | None = None
    decided_by: str | None = None
    note: str = ""
    seconds: float = 0.0
    certified_seconds: float = 0.0

    def label(self) -> str:
        parts = [f"sigma={self.noise_multiplier:g}", f"q={self.sample_rate:g}"]
        if self.form == "rdp":
            parts.append(f"alpha={self.order:g}")
        else:
            parts += [f"T={self.steps}", f"delta={self.delta:g}"]
        if self.form == "delta":
            parts.append(f"eps={self.at_epsilon:g}")
        return " ".join(parts)

    def name(self) -> str:
        """``form[bound]: label``, unique within a report."""
        kind = self.form + ("(lower)" if self.bound == "lower" else "")
        return f"{kind} {self.label()}"

    @property
    def excess_percent(self) -> tuple[float, float] | None:
        """The certified excess interval in percent (floats, display only)."""
        if self.excess is None:
            return None
        return float(self.excess.lower) * 100, float(self.excess.upper) * 100

    def to_json(self) -> dict[str, Any]:
        """JSON data (Bounds as their JSON form, floats as shortest round-trip text)."""
        data = self.values()
        return {k: (v.to_json() if isinstance(v, Bound) else v) for k, v in data.items()}

    def values(self) -> dict[str, Any]:
        """Certificate evidence values: Bounds kept as Bounds; floats as exact text."""
        out: dict[str, Any] = {
            "form": self.form, "bound": self.bound,
            "noise_multiplier": repr(self.noise_multiplier),
            "sample_rate": repr(self.sample_rate),
            "verdict": self.verdict, "proof": self.proof, "reference": self.reference,
            "level": self.level, "delta_level": self.delta_level,
            "decided_by": self.decided_by, "note": self.note,
            "reported": None if self.reported is None else repr(self.reported),
            "judged_at": None if self.judged_at is None else _exact_text(self.judged_at),
        }
        if self.form == "rdp":
            out["order"] = repr(self.order)
        else:
            out["steps"] = self.steps
            out["delta"] = repr(self.delta)
        if self.form == "delta":
            out["epsilon"] = repr(self.at_epsilon)
        for key in ("truth", "delta_at_reported", "excess"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _exact_text(x: Fraction) -> str:
    b = Bound.exact(x)
    if b.lower != b.upper:  # pragma: no cover - judged values are 20-digit decimals
        raise InvalidArgument(f"judged value {x} is not a terminating decimal.")
    return str(b.lower)


@dataclass
class AccountantReport:
    """All verdicts of one accountant on one grid, with timings and the policy used."""

    target: str
    description: str
    library: str | None
    version: str | None
    pinned: str | None
    grid: str
    tolerance: Tolerance
    loose_threshold: float
    results: list[CellResult] = field(default_factory=list)
    seconds: float = 0.0
    accountant_seconds: float = 0.0
    certified_seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {v: sum(1 for r in self.results if r.verdict == v) for v in VERDICTS}

    @property
    def unsound(self) -> list[CellResult]:
        return [r for r in self.results if r.verdict == "unsound"]

    @property
    def ok(self) -> bool:
        """No cell is unsound."""
        return not self.unsound

    @property
    def exit_code(self) -> int:
        return 1 if self.unsound else 0

    def worst_unsound(self) -> CellResult | None:
        """The unsound cell with the largest certified violation (relative)."""
        return max(self.unsound, key=_severity, default=None)

    def looseness(self) -> tuple[float, float] | None:
        """(median, max) of the certified lower ends of the excess, in percent, over the
        answers of the main form (epsilon if present, else delta, else RDP) that are not
        unsound (None when there are none)."""
        forms = [r.form for r in self.results]
        main = next((f for f in ("epsilon", "delta", "rdp") if f in forms), None)
        values = [r.excess_percent[0] for r in self.results
                  if r.form == main and r.verdict in ("tight", "loose")
                  and r.excess_percent is not None and math.isfinite(r.excess_percent[0])]
        if not values:
            return None
        return statistics.median(values), max(values)

    def to_json(self) -> dict[str, Any]:
        worst = self.worst_unsound()
        loose = self.looseness()
        return {
            "target": self.target, "description": self.description, "library": self.library,
            "version": self.version, "pinned": self.pinned, "grid": self.grid,
            "tolerance": self.tolerance.to_json(), "loose_threshold": repr(self.loose_threshold),
            "counts": self.counts(), "ok": self.ok,
            "worst_unsound": None if worst is None else worst.to_json(),
            "looseness_percent": None if loose is None else {"median": loose[0],
                                                              "max": loose[1]},
            "seconds": round(self.seconds, 3),
            "accountant_seconds": round(self.accountant_seconds, 3),
            "certified_seconds": round(self.certified_seconds, 3),
            "cells": [r.to_json() for r in self.results],
        }


def _severity(r: CellResult) -> tuple[float, float]:
    """How badly a cell violates its claim: the certified minimum relative violation, then the
    ratio of the certified delta to the claimed one."""
    by_excess = -float(r.excess.upper) if r.excess is not None else 0.0
    by_delta = 0.0
    if r.delta_at_reported is not None and r.delta is not None and r.bound == "upper":
        by_delta = float(r.delta_at_reported.lower) / r.delta
    return (max(by_excess, 0.0), by_delta)


# -- the checks ----------------------------------------------------------------------------------
def _as_number(value: object) -> tuple[float | None, str]:
    """(float, "") for a finite non-negative real number, else (None, the reason)."""
    if isinstance(value, bool):
        return None, f"returned a boolean {value!r}"
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, f"returned {value!r}, not a number"
    if math.isnan(x):
        return None, "returned nan"
    if math.isinf(x):
        return None, f"returned {x}"
    if x < 0:
        return None, f"returned a negative number {x!r}"
    return x, ""


def _call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any, str, float]:
    start = time.perf_counter()
    try:
        value = fn(**kwargs)
    except Exception as exc:  # the accountant's failure is a verdict, not ours
        return None, f"raised {type(exc).__name__}: {exc}"[:300], time.perf_counter() - start
    return value, "", time.perf_counter() - start


def _record_answer(r: CellResult, fn: Callable[..., Any], kwargs: dict[str, Any]) -> bool:
    """Call the accountant, store its time and number in ``r``; False (with ``r`` an ``error``
    cell saying why) when it raised or did not return a finite non-negative number."""
    value, problem, r.seconds = _call(fn, kwargs)
    if not problem:
        r.reported, problem = _as_number(value)
    if problem:
        r.verdict, r.note = "error", problem
        return False
    return True


def _excess(reported: Fraction, truth: Bound, upper: bool) -> Bound:
    """Enclose (r - t)/t (upper) or (t - r)/t (lower) over t in ``truth`` (t >= 0)."""
    lo_t, hi_t = Fraction(truth.lower), Fraction(truth.upper)
    inf = Decimal("Infinity")

    def ratio(t: Fraction) -> Fraction | None:  # r / t, None when t = 0
        return None if t <= 0 else reported / t

    at_hi, at_lo = ratio(hi_t), ratio(lo_t)  # r/t is decreasing in t
    if upper:  # r/t - 1
        low = at_hi - 1 if at_hi is not None else None
        high = at_lo - 1 if at_lo is not None else None
        if low is None:  # t can only be 0: any r > 0 is infinitely conservative
            return Bound(inf if reported > 0 else Decimal(0), inf if reported > 0 else Decimal(0))
        b = Bound.from_fractions(low, high if high is not None else low, 0, _EXCESS_DIGITS)
        return b if high is not None else Bound(b.lower, inf)
    # 1 - r/t, increasing in t
    high = 1 - at_hi if at_hi is not None else None
    low = 1 - at_lo if at_lo is not None else None
    if high is None:
        return Bound(-inf if reported > 0 else Decimal(0), Decimal(0))
    b = Bound.from_fractions(low if low is not None else high, high, 0, _EXCESS_DIGITS)
    return b if low is not None else Bound(-inf, b.upper)


def _finish(r: CellResult, threshold: float) -> None:
    """Set the verdict from the proof and the excess."""
    if r.proof == "unsound":
        r.verdict = "unsound"
    elif r.excess is not None and r.excess.gt(Fraction(threshold)) is True:
        r.verdict = "loose"
    else:
        r.verdict = "tight"


def decide_by_epsilon(truth: Bound, judged: Fraction, upper: bool) -> str | None:
    """``sound`` / ``unsound`` / None from an enclosure of the true eps(delta) and the judged
    epsilon of an upper (or lower) bound claim."""
    if upper:
        if truth.le(judged) is True:
            return "sound"
        if truth.gt(judged) is True:
            return "unsound"
        return None
    if judged < 0 or truth.ge(judged) is True:
        return "sound"
    if truth.lt(judged) is True:
        return "unsound"
    return None


def decide_by_delta(at_judged: Bound, delta: Fraction, upper: bool) -> str | None:
    """From an enclosure of the true delta at the judged epsilon: ``delta_true(e) > delta`` iff
    ``e < eps(delta)`` (delta_true is non-increasing and continuous)."""
    if at_judged.gt(delta) is True:
        return "unsound" if upper else "sound"
    if at_judged.le(delta) is True:
        return "sound" if upper else "unsound"
    return None


def decide_by_value(truth: Bound, judged: Fraction) -> str | None:
    """For a claim ``true value <= reported`` (a delta or an RDP value)."""
    if truth.le(judged) is True:
        return "sound"
    if truth.gt(judged) is True:
        return "unsound"
    return None


class Checker:
    """Runs the checks of accountants on grids, sharing one cache of certified references."""

    def __init__(self, references: References | None = None, tolerance: Tolerance = TOLERANCE,
                 loose_threshold: float = LOOSE_THRESHOLD) -> None:
        self.refs = references or References()
        self.tol = tolerance
        if not (isinstance(loose_threshold, (int, float)) and loose_threshold >= 0):
            raise InvalidArgument(f"loose_threshold={loose_threshold!r} must be >= 0.")
        self.threshold = float(loose_threshold)
        self.levels = LEVELS

    def _levels(self, reference: str) -> int:
        """How many refinement levels a reference gets: every level for the cheap closed forms,
        the grid's ``max_level + 1`` for the PLD composition."""
        return self.levels if reference == "pld" else LEVELS

    # public ------------------------------------------------------------------------------------
    def check(self, target: object, grid: object = "quick",
              progress: Callable[[str], None] | None = None) -> AccountantReport:
        """Check every form of ``target`` (:func:`~certify.accountants.adapters.load_target`)
        on every cell of ``grid`` (:func:`~certify.accountants.grid.load_grid`)."""
        adapter = load_target(target)
        if not isinstance(grid, (str, os.PathLike, Grid)):
            raise InvalidArgument(f"grid={grid!r} must be a grid name, a JSON file or a Grid.")
        g = load_grid(grid)
        self.levels = g.max_level + 1
        report = AccountantReport(adapter.name, adapter.description, adapter.library,
                                  adapter.version, adapter.pinned, g.name, self.tol,
                                  self.threshold)
        start = time.perf_counter()
        for c in g.cells:
            if adapter.epsilon is not None:
                if progress:
                    progress(f"{adapter.name}: epsilon {c.label()}")
                report.results.append(self.check_epsilon(adapter, c))
            if adapter.delta_for_epsilon is not None:
                if progress:
                    progress(f"{adapter.name}: delta {c.label()}")
                report.results.append(self.check_delta(adapter, c))
        if adapter.rdp is not None:
            for sigma, q in g.rdp_pairs():
                if progress:
                    progress(f"{adapter.name}: rdp sigma={sigma:g} q={q:g}")
                report.results.extend(self.check_rdp(adapter, sigma, q, g.rdp_orders))
        report.seconds = time.perf_counter() - start
        report.accountant_seconds = sum(r.seconds for r in report.results)
        report.certified_seconds = sum(r.certified_seconds for r in report.results)
        return report

    # epsilon form ------------------------------------------------------------------------------
    def check_epsilon(self, adapter: Adapter, c: Cell) -> CellResult:
        assert adapter.epsilon is not None
        r = CellResult("epsilon", adapter.bound, c.noise_multiplier, c.sample_rate, c.steps,
                       c.delta)
        if not _record_answer(r, adapter.epsilon, c.kwargs()):
            return r
        assert r.reported is not None
        started = time.perf_counter()
        try:
            self._decide_epsilon(r, c)
        except Inconclusive as exc:
            r.verdict, r.proof, r.note = "inconclusive", None, f"reference: {exc.reason}"
        r.certified_seconds = time.perf_counter() - started
        return r

    def _decide_epsilon(self, r: CellResult, c: Cell) -> None:
        """Interval first (shared by every accountant on this cell, refined up to the level
        budget), then the certified delta at the judged epsilon; an unsound answer always gets
        the certified delta at its judged epsilon as evidence."""
        sigma, q, steps, delta = c.exact
        params = (sigma, q, steps)
        r.reference = method(sigma, q, steps)
        upper = r.bound == "upper"
        assert r.reported is not None
        e = judged_value(r.reported, "upper" if upper else "lower", self.tol)
        r.judged_at = e
        top = self._levels(r.reference) - 1
        level = 0
        truth = self.refs.epsilon(params, delta, level)
        proof = decide_by_epsilon(truth, e, upper)
        while proof is None and level < top:
            level += 1
            truth = self.refs.epsilon(params, delta, level)
            proof = decide_by_epsilon(truth, e, upper)
        r.truth, r.level = truth, level
        r.decided_by = "epsilon interval" if proof is not None else None
        if proof is None:  # inside the certified interval: the certified delta at e decides
            d = self.refs.delta(params, e, level)
            r.delta_at_reported, r.delta_level = d, level
            proof = decide_by_delta(d, delta, upper)
            r.decided_by = "delta at judged epsilon" if proof is not None else None
        if proof is None:
            r.proof = "undecided"
            r.note = ("inside the certified interval of the true epsilon, and the certified "
                      "delta at the judged value straddles the target delta")
        else:
            r.proof = proof
        if r.proof == "unsound" and r.delta_at_reported is None:
            try:
                r.delta_at_reported = self.refs.delta(params, e, 0)
                r.delta_level = 0
            except Inconclusive:
                pass
        r.excess = _excess(Fraction(r.reported), truth, upper)
        _finish(r, self.threshold)

    # delta form --------------------------------------------------------------------------------
    def probe_epsilon(self, c: Cell) -> float:
        """Where a delta form is asked: the cell's ``epsilon``, else the certified upper end of
        its true epsilon at its delta rounded up to 4 significant digits (as a float)."""
        if c.epsilon is not None:
            return c.epsilon
        sigma, q, steps, delta = c.exact
        truth = self.refs.epsilon((sigma, q, steps), delta, 0)
        with localcontext() as ctx:
            ctx.prec = 4
            ctx.rounding = ROUND_CEILING
            up = +truth.upper
        return float(up) if up > 0 else 0.0

    def check_delta(self, adapter: Adapter, c: Cell) -> CellResult:
        assert adapter.delta_for_epsilon is not None
        r = CellResult("delta", "upper", c.noise_multiplier, c.sample_rate, c.steps, c.delta)
        started = time.perf_counter()
        try:
            r.at_epsilon = self.probe_epsilon(c)
        except Inconclusive as exc:
            r.verdict, r.note = "inconclusive", f"reference: {exc.reason}"
            return r
        r.certified_seconds = time.perf_counter() - started
        kwargs = {"noise_multiplier": c.noise_multiplier, "sample_rate": c.sample_rate,
                  "steps": c.steps, "epsilon": r.at_epsilon}
        if not _record_answer(r, adapter.delta_for_epsilon, kwargs):
            return r
        assert r.reported is not None
        started = time.perf_counter()
        sigma, q, steps, _ = c.exact
        params = (sigma, q, steps)
        r.reference = method(sigma, q, steps)
        d = judged_value(r.reported, "delta", self.tol)
        r.judged_at = d
        eps0 = Fraction(r.at_epsilon)
        r.proof = "undecided"
        try:
            for level in range(self._levels(r.reference)):
                r.level = level
                truth = self.refs.delta(params, eps0, level)
                r.truth = truth
                proof = decide_by_value(truth, d)
                if proof is not None:
                    r.proof, r.decided_by = proof, "delta interval"
                    break
        except Inconclusive as exc:
            r.verdict, r.proof, r.note = "inconclusive", None, f"reference: {exc.reason}"
            r.certified_seconds += time.perf_counter() - started
            return r
        assert r.truth is not None
        if r.proof == "undecided":
            r.note = "the certified delta straddles the reported delta at every level"
        r.excess = _excess(Fraction(r.reported), r.truth, True)
        _finish(r, self.threshold)
        r.certified_seconds += time.perf_counter() - started
        return r

    # rdp form ----------------------------------------------------------------------------------
    def check_rdp(self, adapter: Adapter, sigma: float, q: float,
                  orders: Sequence[float]) -> list[CellResult]:
        assert adapter.rdp is not None
        results = [CellResult("rdp", "upper", sigma, q, None, None, order=a) for a in orders]
        value, problem, seconds = _call(adapter.rdp, {"noise_multiplier": sigma,
                                                      "sample_rate": q, "orders": list(orders)})
        values: list[Any] = []
        if not problem:
            try:
                values = list(value)
            except TypeError:
                problem = f"returned {value!r}, not a sequence"
            else:
                if len(values) != len(orders):
                    problem = f"returned {len(values)} values for {len(orders)} orders"
        for i, r in enumerate(results):
            r.seconds = seconds / len(results)
            if problem:
                r.verdict, r.note = "error", problem
                continue
            r.reported, why = _as_number(values[i])
            if why:
                r.verdict, r.note = "error", why
                continue
            started = time.perf_counter()
            try:
                self._decide_rdp(r)
            except Inconclusive as exc:
                r.verdict, r.proof, r.note = "inconclusive", None, f"reference: {exc.reason}"
            r.certified_seconds = time.perf_counter() - started
        return results

    def _decide_rdp(self, r: CellResult) -> None:
        assert r.reported is not None and r.order is not None
        sigma, q, order = Fraction(r.noise_multiplier), Fraction(r.sample_rate), Fraction(r.order)
        r.reference = "rdp" if 0 < q < 1 else "gaussian-rdp" if q == 1 else "trivial"
        x = judged_value(r.reported, "rdp", self.tol)
        r.judged_at = x
        r.proof = "undecided"
        for level in range(len(RDP_LEVELS)):  # cheap: always every level
            r.level = level
            truth = self.refs.rdp(sigma, q, order, level)
            r.truth = truth
            proof = decide_by_value(truth, x)
            if proof is not None:
                r.proof, r.decided_by = proof, "rdp interval"
                break
        assert r.truth is not None
        if r.proof == "undecided":
            r.note = "the certified RDP straddles the reported value at every level"
        r.excess = _excess(Fraction(r.reported), r.truth, True)
        _finish(r, self.threshold)


def check_accountant(target: object, grid: object = "quick", *,
                     references: References | None = None,
                     tolerance: Tolerance = TOLERANCE,
                     loose_threshold: float = LOOSE_THRESHOLD,
                     progress: Callable[[str], None] | None = None) -> AccountantReport:
    """Check an accountant on a grid (module docstring): one :class:`CellResult` per cell and
    form. Pass one :class:`~certify.accountants.reference.References` to several calls to share
    the certified references."""
    return Checker(references, tolerance, loose_threshold).check(target, grid, progress)


__all__ = ["LOOSE_THRESHOLD", "TOLERANCE", "VERDICTS", "AccountantReport", "CellResult",
           "Checker", "Tolerance", "check_accountant", "decide_by_delta", "decide_by_epsilon",
           "decide_by_value", "judged_value"]
