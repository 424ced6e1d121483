"""The exception hierarchy of certify.

One root, :class:`CertifyError`; bad input is :class:`InvalidArgument` (also a ``ValueError``,
as in Hypothesis); a computation that could not reach a definite answer within its budget is
:class:`Inconclusive`, which carries the reason and, when there is one, the best enclosure found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from certify.numerics.bound import Bound


class CertifyError(Exception):
    """Root of every exception that certify raises on purpose."""


class InvalidArgument(CertifyError, ValueError):
    """A parameter is outside its domain; the message names it and its value."""


class Inconclusive(CertifyError):
    """The requested certainty could not be reached within the budget.

    ``reason`` says why (precision budget, evaluation budget, undecided sign ...);
    ``best`` is the narrowest valid enclosure reached, if any. It is still a correct
    enclosure, just wider than requested.
    """

    def __init__(self, reason: str, best: Bound | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.best = best


class CertificateMismatch(CertifyError):
    """A certificate failed verification (tampered hash, or recomputation disagrees)."""
