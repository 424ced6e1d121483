"""Small real data sets that ship with a package (no download): scikit-learn's ``load_digits``.

``load_digits`` (the UCI optical-recognition digits, 1797 images of 8 x 8 pixels with values
0..16, ten classes) is bundled inside scikit-learn's wheel. Pixels are scaled to [0, 1].
The split into a *public* part (pre-training) and a *private* pool (fine-tuning data, from which
the membership trials draw) is a fixed seeded permutation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from certify._validate import check_positive_int
from certify.errors import Inconclusive, InvalidArgument

__all__ = ["Dataset", "load_digits_split"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features ``X`` (``N x m`` float64) and integer labels ``y`` in ``[0, classes)``."""

    X: FloatArray
    y: IntArray
    classes: int

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.y.ndim != 1 or self.X.shape[0] != self.y.shape[0]:
            raise InvalidArgument(f"X (shape {self.X.shape}) and y (shape {self.y.shape}) must "
                                  "be N x m and N.")
        if self.y.size and (self.y.min() < 0 or self.y.max() >= self.classes):
            raise InvalidArgument(f"y must hold labels in [0, {self.classes}).")

    def __len__(self) -> int:
        return int(self.y.size)

    def subset(self, idx: Any) -> Dataset:
        return Dataset(self.X[idx], self.y[idx], self.classes)


def _sklearn_digits() -> tuple[FloatArray, IntArray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise Inconclusive("the digits data set needs scikit-learn, which is not installed "
                           "(pip install 'certify-dp[report]' or scikit-learn)") from None
    bunch = load_digits()
    return (np.asarray(bunch.data, dtype=np.float64) / 16.0,
            np.asarray(bunch.target, dtype=np.int64))


def load_digits_split(public_size: int = 597, seed: int = 0) -> tuple[Dataset, Dataset]:
    """``(public, private)``: a seeded permutation of the 1797 digits, the first
    ``public_size`` for pre-training, the rest as the private pool."""
    size = check_positive_int("public_size", public_size)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed={seed!r} must be a non-negative integer.")
    X, y = _sklearn_digits()
    if size >= len(y) - 1:
        raise InvalidArgument(f"public_size={size} must leave at least 2 private examples "
                              f"(there are {len(y)}).")
    perm = np.random.default_rng(seed).permutation(len(y))
    full = Dataset(X, y, 10)
    return full.subset(perm[:size]), full.subset(perm[size:])
