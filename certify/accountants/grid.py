"""Conformance grids: the (noise multiplier, sampling rate, steps, delta) cells an accountant is
checked on, and the Renyi orders of its RDP-level checks.

A cell is what an accountant receives: floats (and an int number of steps), because accountants
take floats. The certified references are computed for the *exact binary values* of those floats
(a float means its exact binary value, DESIGN.md "Names"), so nothing is lost between what the
accountant answered and what it is judged against.

Built-in grids (``quick`` for CI, ``default`` for the report table, ``full`` for a release):

* ``quick``: 8 cells chosen to exercise every regime in seconds -- a one-step cell (closed form),
  a pure Gaussian composition (q = 1, closed form), eps from 0.17 to 36 (above 20, where an
  accountant with a bounded loss domain caps it), delta 1e-5 to 1e-8, T up to 10^4.
* ``default``: the grid of issue 5 (q in {1e-3, 1e-2, 1e-1}, sigma in {0.5, 1, 2},
  T in {1, 100, 10^4}, delta = 1e-5) plus q = 1 cells (sigma in {0.5, 1, 2}, T in {1, 100});
  it holds (q = 0.1, sigma = 1, T = 10^4), where prv-accountant 0.2.0's lower bound is above
  the true epsilon.
* ``full``: q in {1e-3, 1e-2, 0.05, 0.1, 0.3, 1}, sigma in {0.5, 0.8, 1, 2, 5},
  T in {1, 10, 100, 1000, 10^4}, delta in {1e-5, 1e-8} (300 cells; minutes).

A grid FILE is JSON: a list of cells ``{"noise_multiplier", "sample_rate", "steps", "delta"}``
(optionally ``"epsilon"``: the epsilon at which a ``delta_for_epsilon`` form is asked), or an
object ``{"cells": [...], "rdp_orders": [...], "max_level": 0|1|2}`` (defaults: the quick
grid's orders, level 1).

Refinement: ``quick`` stops at level 0 (one certified delta at the reported epsilon for answers
inside the certified interval), ``default`` at level 1, ``full`` at level 2.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from certify.errors import InvalidArgument

GRID_NAMES = ("quick", "default", "full")
CELL_KEYS = ("noise_multiplier", "sample_rate", "steps", "delta")


@dataclass(frozen=True)
class Cell:
    """One conformance cell: ``steps`` Poisson-subsampled Gaussian steps (noise multiplier
    ``noise_multiplier``, sampling rate ``sample_rate``, sensitivity 1, add/remove neighbours),
    checked at ``delta``. ``epsilon``, when given, is where a ``delta_for_epsilon`` form is asked
    (otherwise near the cell's true epsilon at ``delta``)."""

    noise_multiplier: float
    sample_rate: float
    steps: int
    delta: float
    epsilon: float | None = None

    def __post_init__(self) -> None:
        _check_float("noise_multiplier", self.noise_multiplier, low=0.0, open_low=True)
        _check_float("sample_rate", self.sample_rate, low=0.0, high=1.0)
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise InvalidArgument(f"steps={self.steps!r} must be a positive integer.")
        _check_float("delta", self.delta, low=0.0, high=1.0, open_low=True, open_high=True)
        if self.epsilon is not None:
            _check_float("epsilon", self.epsilon, low=0.0)

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of an epsilon-form accountant."""
        return {"noise_multiplier": self.noise_multiplier, "sample_rate": self.sample_rate,
                "steps": self.steps, "delta": self.delta}

    @property
    def exact(self) -> tuple[Fraction, Fraction, int, Fraction]:
        """(sigma, q, steps, delta) as the exact values of the floats."""
        return (Fraction(self.noise_multiplier), Fraction(self.sample_rate), self.steps,
                Fraction(self.delta))

    def label(self) -> str:
        """A short name: ``sigma=1 q=0.01 T=1000 delta=1e-05``."""
        return (f"sigma={self.noise_multiplier:g} q={self.sample_rate:g} T={self.steps} "
                f"delta={self.delta:g}")

    def to_json(self) -> dict[str, Any]:
        """The cell as JSON data (floats as their shortest round-trip text)."""
        out: dict[str, Any] = {"noise_multiplier": repr(self.noise_multiplier),
                               "sample_rate": repr(self.sample_rate), "steps": self.steps,
                               "delta": repr(self.delta)}
        if self.epsilon is not None:
            out["epsilon"] = repr(self.epsilon)
        return out


@dataclass(frozen=True)
class Grid:
    """A named list of cells, the Renyi orders of the RDP-level checks, and ``max_level``: how
    far an answer inside the certified interval is refined (0 to 2, see
    :mod:`certify.accountants.reference`; each level costs several times the one before)."""

    name: str
    cells: tuple[Cell, ...]
    rdp_orders: tuple[float, ...]
    max_level: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.max_level, bool) or self.max_level not in (0, 1, 2):
            raise InvalidArgument(f"max_level={self.max_level!r} must be 0, 1 or 2.")

    def rdp_pairs(self) -> list[tuple[float, float]]:
        """The distinct (noise multiplier, sampling rate) pairs of the cells, in order."""
        seen: list[tuple[float, float]] = []
        for c in self.cells:
            pair = (c.noise_multiplier, c.sample_rate)
            if pair not in seen:
                seen.append(pair)
        return seen


def _check_float(name: str, value: object, *, low: float | None = None,
                 high: float | None = None, open_low: bool = False,
                 open_high: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{name}={value!r} must be a number.")
    x = float(value)
    if not math.isfinite(x):
        raise InvalidArgument(f"{name}={value!r} must be finite.")
    if low is not None and (x <= low if open_low else x < low):
        raise InvalidArgument(f"{name}={value!r} must be {'>' if open_low else '>='} {low:g}.")
    if high is not None and (x >= high if open_high else x > high):
        raise InvalidArgument(f"{name}={value!r} must be {'<' if open_high else '<='} {high:g}.")
    return x


def cell(noise_multiplier: object, sample_rate: object, steps: object, delta: object,
         epsilon: object = None) -> Cell:
    """A validated :class:`Cell` from numbers or numeric strings (read as floats)."""
    def as_float(name: str, v: object) -> float:
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                raise InvalidArgument(f"{name}={v!r} is not a number.") from None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InvalidArgument(f"{name}={v!r} must be a number.")
        return float(v)

    if isinstance(steps, str) and steps.strip().isdigit():
        steps = int(steps)
    if isinstance(steps, float) and steps.is_integer():
        steps = int(steps)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise InvalidArgument(f"steps={steps!r} must be a positive integer.")
    return Cell(as_float("noise_multiplier", noise_multiplier),
                as_float("sample_rate", sample_rate), steps, as_float("delta", delta),
                None if epsilon is None else as_float("epsilon", epsilon))


def _product(sigmas: Iterable[str], qs: Iterable[str], steps: Iterable[int],
             deltas: Iterable[str]) -> list[Cell]:
    qs, steps, deltas = list(qs), list(steps), list(deltas)
    return [cell(s, q, t, d) for d in deltas for q in qs for s in sigmas for t in steps]


_QUICK = (
    cell("1.0", "0.01", 1000, "1e-5"),
    cell("0.8", "0.1", 100, "1e-5"),
    cell("2.0", "0.001", 10000, "1e-5"),
    cell("1.0", "1.0", 10, "1e-6"),
    cell("0.5", "0.05", 1, "1e-5"),
    cell("1.0", "0.1", 1000, "1e-5"),
    cell("0.6", "0.2", 50, "1e-8"),
    cell("1.5", "0.02", 2000, "1e-6"),
)
_DEFAULT = tuple(
    _product(("0.5", "1", "2"), ("0.001", "0.01", "0.1"), (1, 100, 10000), ("1e-5",))
    + _product(("0.5", "1", "2"), ("1",), (1, 100), ("1e-5",))
)
_FULL = tuple(_product(("0.5", "0.8", "1", "2", "5"), ("0.001", "0.01", "0.05", "0.1", "0.3", "1"),
                       (1, 10, 100, 1000, 10000), ("1e-5", "1e-8")))

QUICK_RDP_ORDERS = (1.5, 2.0, 3.0, 4.5, 8.0, 16.0, 32.0, 64.0)
DEFAULT_RDP_ORDERS = (1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0,
                      48.0, 64.0, 128.0, 256.0)

GRIDS: dict[str, Grid] = {
    "quick": Grid("quick", _QUICK, QUICK_RDP_ORDERS, max_level=0),
    "default": Grid("default", _DEFAULT, DEFAULT_RDP_ORDERS, max_level=1),
    "full": Grid("full", _FULL, DEFAULT_RDP_ORDERS, max_level=2),
}


def load_grid(spec: str | os.PathLike[str] | Grid) -> Grid:
    """A built-in grid by name (``quick``, ``default``, ``full``), a :class:`Grid`, or a JSON
    grid file (module docstring)."""
    if isinstance(spec, Grid):
        return spec
    if isinstance(spec, str) and spec in GRIDS:
        return GRIDS[spec]
    path = Path(spec)
    if not path.is_file():
        raise InvalidArgument(
            f"grid={str(spec)!r} is neither a built-in grid ({', '.join(GRID_NAMES)}) "
            "nor a readable JSON file."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgument(f"grid={str(spec)!r} is not valid JSON: {exc}") from None
    return grid_from_json(data, name=path.stem)


def grid_from_json(data: object, name: str = "custom") -> Grid:
    """A grid from JSON data: a list of cells or ``{"cells": [...], "rdp_orders": [...]}``."""
    orders: tuple[float, ...] = QUICK_RDP_ORDERS
    max_level: Any = 1
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"cells", "rdp_orders", "name", "max_level"})
        if unknown:
            raise InvalidArgument(f"grid has unknown keys {', '.join(unknown)}.")
        if "rdp_orders" in data:
            raw = data["rdp_orders"]
            if not isinstance(raw, list) or not raw:
                raise InvalidArgument(f"rdp_orders={raw!r} must be a non-empty list of numbers.")
            orders = tuple(_check_float(f"rdp_orders[{i}]", a, low=1.0, open_low=True)
                           for i, a in enumerate(raw))
        name = str(data.get("name", name))
        max_level = data.get("max_level", 1)
        data = data.get("cells")
    if not isinstance(data, list) or not data:
        raise InvalidArgument("grid must be a non-empty list of cells.")
    cells = []
    for i, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise InvalidArgument(f"cells[{i}]={item!r} must be an object.")
        missing = [k for k in CELL_KEYS if k not in item]
        extra = sorted(set(item) - set(CELL_KEYS) - {"epsilon"})
        if missing:
            raise InvalidArgument(f"cells[{i}] lacks {', '.join(missing)}.")
        if extra:
            raise InvalidArgument(f"cells[{i}] has unknown keys {', '.join(extra)}.")
        try:
            cells.append(cell(item["noise_multiplier"], item["sample_rate"], item["steps"],
                              item["delta"], item.get("epsilon")))
        except InvalidArgument as exc:
            raise InvalidArgument(f"cells[{i}]: {exc}") from None
    return Grid(name, tuple(cells), orders, max_level)


__all__ = ["CELL_KEYS", "DEFAULT_RDP_ORDERS", "GRIDS", "GRID_NAMES", "QUICK_RDP_ORDERS", "Cell",
           "Grid", "cell", "grid_from_json", "load_grid"]
