"""Where a grid measure's tails are cut: one rule for every representation of the masses.

A truncation to tails of mass at most ``eta`` (units 2^-bits) keeps the nodes ``[a, b)``: ``a``
is the largest index in ``[0, n]`` whose prefix mass (of the nodes below it) is at most eta, ``b``
the smallest whose suffix mass (of the nodes from it up) is at most eta, clamped so that at
least one node stays (``a <= n - 1``, ``b >= a + 1``). Where the cut mass goes is the caller's
(:func:`certify.accounting.pld_grid.truncate` on ``fmpz_poly`` masses,
:func:`certify.accounting.pld_words.truncate` on machine words); both find the same ``a`` and
``b`` here, so the two representations truncate to the same integers. The search both cuts use,
:func:`farthest` (galloping from a known point, then bisection), also serves the profile
inversions of :mod:`certify.accounting.pld_invert`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flint import fmpz

#: exact masses: Python ints (machine-word sums) or FLINT integers (polynomial sums)
Mass = TypeVar("Mass", int, fmpz)


def cut_points(prefix: Callable[[int], Mass], suffix: Callable[[int], Mass], n: int,
               eta: Mass) -> tuple[int, int]:
    """``(a, b)`` of the module docstring for exact, monotone ``prefix(k)`` (mass of nodes
    ``< k``) and ``suffix(k)`` (mass of nodes ``>= k``, ``suffix(n) = 0``). Each search gallops
    from its own end and then bisects, so a probe lies within twice the cut's length of that
    end: with sums that cost O(distance from the end), a short cut is found in O(cut) work."""
    a = farthest(lambda k: prefix(k) <= eta, 0, n)  # prefix(0) = 0 <= eta
    b = farthest(lambda k: suffix(k) <= eta, n, 0)  # suffix(n) = 0 <= eta
    return _clamp(a, b, n)


def farthest(ok: Callable[[int], bool], start: int, stop: int) -> int:
    """The index farthest from ``start`` towards ``stop`` (both included) at which ``ok`` holds,
    for an ``ok`` that holds at ``start`` (taken as given: never evaluated) and, along the way,
    up to some index and not beyond: galloping (steps 1, 2, 4, ... from start), then bisection;
    an answer m steps from start costs about 2 log2(m) + 2 evaluations."""
    if start == stop:
        return start
    sign = 1 if stop >= start else -1
    good, step = start, 1
    while True:
        k = start + sign * step
        if sign * (k - stop) >= 0:
            k = stop
        if not ok(k):
            bad = k
            break
        good = k
        if k == stop:
            return k
        step *= 2
    while abs(bad - good) > 1:  # ok(good), not ok(bad)
        mid = (good + bad) // 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def _clamp(a: int, b: int, n: int) -> tuple[int, int]:
    a = max(0, min(a, n - 1))
    return a, max(a + 1, min(b, n))


__all__ = ["cut_points", "farthest"]
