"""Precision escalation: recompute at doubling precision until a requested width is met.

The contract (DESIGN.md, "never a false certificate"): every attempt yields a valid enclosure;
only its width depends on the precision. When the budget (``max_prec``) is exhausted the caller
receives :class:`~certify.errors.Inconclusive` carrying the reason and the narrowest enclosure
reached, never a wide ball reported as an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flint import arb, ctx

from certify.errors import Inconclusive, InvalidArgument
from certify.numerics.bound import Bound

DEFAULT_START_PREC = 64
DEFAULT_MAX_PREC = 8192


@dataclass(frozen=True)
class Target:
    """A requested width: met when *either* the relative or the absolute width is reached,
    and the precision budget (bits) allowed for reaching it.

    ``rel=1e-10`` asks for ``(upper - lower) / min(|lower|, |upper|) <= 1e-10``.
    """

    rel: float | None = 1e-10
    absolute: float | None = None
    max_prec: int = DEFAULT_MAX_PREC

    def __post_init__(self) -> None:
        if not isinstance(self.max_prec, int) or self.max_prec < DEFAULT_START_PREC:
            raise InvalidArgument(
                f"max_prec={self.max_prec} must be an integer >= {DEFAULT_START_PREC}."
            )
        for name, v in (("rel", self.rel), ("absolute", self.absolute)):
            if v is not None and not (v > 0):
                raise InvalidArgument(f"{name}={v} must be positive.")
        if self.rel is None and self.absolute is None:
            raise InvalidArgument("rel=None and absolute=None: give at least one width target.")

    def met_by(self, b: Bound) -> bool:
        return b.meets(rel=self.rel, absolute=self.absolute)

    def describe(self) -> str:
        parts = []
        if self.rel is not None:
            parts.append(f"relative width <= {self.rel:g}")
        if self.absolute is not None:
            parts.append(f"absolute width <= {self.absolute:g}")
        return " or ".join(parts)


def precisions(start: int = DEFAULT_START_PREC, maximum: int = DEFAULT_MAX_PREC) -> list[int]:
    """The escalation ladder: start, 2*start, ... up to and including ``maximum``."""
    if start < 2 or maximum < start:
        raise InvalidArgument(f"start={start}, maximum={maximum}: need 2 <= start <= maximum.")
    out = []
    p = start
    while p < maximum:
        out.append(p)
        p *= 2
    out.append(maximum)
    return out


def escalate(
    compute: Callable[[int], arb],
    target: Target | None = None,
    *,
    what: str = "value",
    start_prec: int = DEFAULT_START_PREC,
    max_prec: int | None = None,
    within: tuple[object, object] | None = None,
) -> Bound:
    """Evaluate ``compute(prec)`` (under ``ctx.workprec(prec)``) at rising precision.

    ``compute`` must return an Arb ball that contains the true value at any precision.
    A non-finite ball (NaN, an infinite radius) counts as "not yet" and escalates too.
    ``within`` is a range proven to contain the value (a probability's [0, 1]); each enclosure
    is intersected with it (:meth:`Bound.within`).
    Raises :class:`Inconclusive` when ``max_prec`` is reached without meeting ``target``.
    """
    goal = target or Target()
    if max_prec is None:
        max_prec = goal.max_prec
    best: Bound | None = None
    last_problem = "no attempt"
    for prec in precisions(start_prec, max_prec):
        with ctx.workprec(prec):
            value = compute(prec)
        if not isinstance(value, arb):
            raise TypeError(f"compute returned {type(value).__name__}, expected arb")
        if value.is_nan() or not value.is_finite():
            last_problem = f"the enclosure at {prec} bits was not finite"
            continue
        bound = Bound.from_arb(value, prec)
        if within is not None:
            bound = bound.within(*within)
        if best is None or bound.width < best.width:
            best = bound
        if goal.met_by(bound):
            return bound
        last_problem = f"width {float(bound.width):.3g} at {prec} bits"
    raise Inconclusive(
        f"{what}: {goal.describe()} not reached by {max_prec} bits ({last_problem})", best
    )
