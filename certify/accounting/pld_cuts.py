"""Where a grid measure's tails are cut: one rule for every representation of the masses.

A truncation to tails of mass at most ``eta`` (units 2^-bits) keeps the nodes ``[a, b)``: ``a``
is the largest index in ``[0, n]`` whose prefix mass (of the nodes below it) is at most eta, ``b``
the smallest whose suffix mass (of the nodes from it up) is at most eta, clamped so that at
least one node stays (``a <= n - 1``, ``b >= a + 1``). Where the cut mass goes is the caller's
(:func:`certify.accounting.pld_grid.truncate` on ``fmpz_poly`` masses,
:func:`certify.accounting.pld_words.truncate` on machine words); both find the same ``a`` and
``b`` here, so the two representations truncate to the same integers.
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
    return _clamp(_low_cut(prefix, n, eta), _high_cut(suffix, n, eta), n)


def _low_cut(prefix: Callable[[int], Mass], n: int, eta: Mass) -> int:
    """The largest a in [0, n] with prefix(a) <= eta (prefix(0) = 0)."""
    lo, hi, k = 0, n + 1, 1
    while True:
        k = min(k, n)
        if prefix(k) <= eta:
            lo = k
            if k == n:
                return n
            k *= 2
        else:
            hi = k
            break
    while hi - lo > 1:  # prefix(lo) <= eta < prefix(hi)
        mid = (lo + hi) // 2
        if prefix(mid) <= eta:
            lo = mid
        else:
            hi = mid
    return lo


def _high_cut(suffix: Callable[[int], Mass], n: int, eta: Mass) -> int:
    """The smallest b in [0, n] with suffix(b) <= eta (suffix(n) = 0)."""
    lo, hi, step = -1, n, 1
    while True:
        k = max(n - step, 0)
        if suffix(k) <= eta:
            hi = k
            if k == 0:
                return 0
            step *= 2
        else:
            lo = k
            break
    while hi - lo > 1:  # suffix(lo) > eta >= suffix(hi)
        mid = (lo + hi) // 2
        if suffix(mid) <= eta:
            hi = mid
        else:
            lo = mid
    return hi


def _clamp(a: int, b: int, n: int) -> tuple[int, int]:
    a = max(0, min(a, n - 1))
    return a, max(a + 1, min(b, n))


__all__ = ["cut_points"]
