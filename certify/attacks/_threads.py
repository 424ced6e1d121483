"""One BLAS thread for the attack experiments: their matrices are tiny, and a multi-threaded
OpenBLAS on a busy machine is 10-30x slower on them (threadpoolctl ships with scikit-learn)."""

from __future__ import annotations

import contextlib
from typing import cast


def single_threaded_blas() -> contextlib.AbstractContextManager[object]:
    """A context limiting BLAS to one thread (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - present whenever scikit-learn is
        return contextlib.nullcontext()
    return cast(contextlib.AbstractContextManager[object], threadpool_limits(limits=1))
