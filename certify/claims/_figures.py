"""The figure backend of the claim modules: matplotlib with the non-interactive Agg backend,
imported on first use (matplotlib is an optional dependency: the ``report`` and ``test``
extras)."""

from __future__ import annotations

from types import ModuleType


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` with the Agg backend selected (figures are only written to files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


__all__ = ["pyplot"]
