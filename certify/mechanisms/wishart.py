"""The Wishart projection mechanism (seed 000, arXiv 2601.21719; claims WPM-1 to WPM-9).

Setting (CLAIMS.md, WPM): ``M ~ W_d(I_d / r, r)``, i.e. ``M = A^T A`` with ``A`` an ``r x d``
matrix of iid ``N(0, 1/r)`` entries; the mechanism releases ``M f(S)``.

* :class:`WishartVectorMechanism` ``(d, r, rho)``: vector queries ``V -> MV`` with ``||V|| = 1``;
  the neighbouring pair is ``V, V'`` with alignment ``rho = V^T V'``. Its exact privacy profile
  (``delta(eps)``, ``eps(delta)``, the floor ``delta(inf)``) is computed by
  :mod:`certify.wishart.profile` from the exact law of ``MV`` (``proofs/wishart_law.py``).
* :class:`WishartMatrixMechanism` ``(d, r)``: matrix queries ``F -> MF`` (the same ``M`` for every
  column; neighbours differ in one column). It is not DP without noise (WPM-5); the value object
  only carries validated parameters and a sampler.

Samplers (numpy, or torch on ``device``: CUDA when requested or, by default, when available):

* :func:`sample_wishart` draws ``M = A^T A`` itself.
* :func:`sample_vector_output` draws ``MV`` for a fixed ``V``. The default ``method="law"`` uses the
  exact representation (``proofs/wishart_law.py``, ``proof_mv_representation``)::

      MV = ||V|| (s e + sqrt(s / r) Z_perp),   e = V / ||V||,  s ~ chi2_r / r,
      Z_perp ~ N(0, I - e e^T)  independent of s,

  which costs ``O(d)`` per sample; ``method="direct"`` draws ``A`` and forms ``A^T (A V)``
  (``O(r d)`` per sample), an independent route used by the tests.

Parameter domain of the vector mechanism (decided here, documented for WPM-2..4):
``d >= 2`` (for ``d = 1`` unit vectors are ``+-1`` and ``rho`` is ``+-1``), ``1 <= r <= d``
(``r`` is the sketch rank), ``-1 < rho < 1`` exactly. ``rho = 1`` means ``V = V'`` (``delta = 0``
for every ``eps``); ``rho = -1`` means ``V' = -V``, disjoint supports (``delta = 1`` for every
``eps``): both are excluded rather than special-cased. Negative ``rho`` is allowed: the law is
the same formula, only the support floor ``P[V'^T MV <= 0]`` exceeds 1/2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from certify._backend import BACKENDS, NormalSource, batches
from certify._validate import check_choice, check_positive_int, to_exact
from certify.errors import InvalidArgument
from certify.mechanisms._common import brief, exact_text
from certify.mechanisms.base import MechanismEntry, register_mechanism
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

__all__ = [
    "BACKENDS",
    "WishartMatrixMechanism",
    "WishartVectorMechanism",
    "check_d_r",
    "check_rho",
    "sample_vector_output",
    "sample_wishart",
]

#: sampling backends
#: sampling methods of :func:`sample_vector_output`
METHODS: tuple[str, ...] = ("law", "direct")
#: cap on float64 numbers held by one batch's intermediates (32 MiB)

FloatArray = NDArray[np.float64]


# ------------------------------------------------------------------------------------------------
# validation


def check_d_r(d: object, r: object, *, min_d: int = 2) -> tuple[int, int]:
    """``d >= min_d`` and ``1 <= r <= d``, integers (InvalidArgument naming the bad one)."""
    d_ = check_positive_int("d", d)
    if d_ < min_d:
        raise InvalidArgument(f"d={d} must be at least {min_d}.")
    r_ = check_positive_int("r", r)
    if r_ > d_:
        raise InvalidArgument(f"r={r} must be at most d={d_}.")
    return d_, r_


def check_rho(rho: object) -> Fraction:
    """The alignment ``rho = V^T V'``, exactly, with ``-1 < rho < 1``."""
    x = to_exact("rho", rho)
    if not -1 < x < 1:
        shown = rho if isinstance(rho, str) else brief(x)
        raise InvalidArgument(f"rho={shown} must be in (-1, 1).")
    return x


# ------------------------------------------------------------------------------------------------
# the mechanisms


@dataclass(frozen=True)
class WishartVectorMechanism:
    """``V -> MV``, ``M ~ W_d(I_d/r, r)``, for unit vectors with alignment ``rho = V^T V'``.

    Parameters are exact (``rho`` a str/Decimal/Fraction means that number, a float its binary
    value). The privacy profile is that of the pair ``(MV, MV')``; it is symmetric in the pair
    (a reflection exchanging ``V`` and ``V'`` preserves the law of ``M``: ``proofs/wishart_law.py``,
    ``proof_pair_symmetry``), so ``delta`` is the same in both directions.
    """

    d: int
    r: int
    rho: Fraction
    name: str = "wishart-vector"

    def __init__(self, d: object, r: object, rho: object) -> None:
        d_, r_ = check_d_r(d, r)
        object.__setattr__(self, "d", d_)
        object.__setattr__(self, "r", r_)
        object.__setattr__(self, "rho", check_rho(rho))
        object.__setattr__(self, "name", "wishart-vector")

    def params(self) -> dict[str, str]:
        return {"d": str(self.d), "r": str(self.r), "rho": exact_text(self.rho)}

    # -- privacy profile (certify.wishart.profile) ---------------------------------------------
    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """Certified ``delta(eps) = sup_{pair order} E_V[(1 - e^{eps - L})_+]`` (exact law)."""
        from certify.wishart.profile import wishart_delta

        return wishart_delta(self.d, self.r, self.rho, epsilon, target)

    def epsilon(self, delta: object, target: Target | None = None) -> Bound:
        """Certified ``eps(delta) = min{eps >= 0 : delta(eps) <= delta}``; ``delta`` must exceed
        the floor :meth:`floor` (else no finite eps exists: InvalidArgument says so)."""
        from certify.wishart.profile import wishart_epsilon

        return wishart_epsilon(self.d, self.r, self.rho, delta, target)

    def floor(self, target: Target | None = None) -> Bound:
        """``lim_{eps -> inf} delta(eps) = P_V[V'^T MV <= 0] = F_{t_r}(-rho sqrt(r/(1-rho^2)))``
        (WPM-3/WPM-4): the mass of ``MV`` outside the support of ``MV'``."""
        from certify.wishart.profile import wishart_floor

        return wishart_floor(self.r, self.rho, target)

    # -- sampling ----------------------------------------------------------------------------
    def pair(self) -> tuple[FloatArray, FloatArray]:
        """The canonical pair ``V = e_1``, ``V' = rho e_1 + sqrt(1 - rho^2) e_2`` (float64)."""
        v = np.zeros(self.d)
        v[0] = 1.0
        w = np.zeros(self.d)
        w[0] = float(self.rho)
        w[1] = math.sqrt(max(0.0, 1.0 - float(self.rho) ** 2))
        return v, w

    def sample(
        self,
        n: object,
        *,
        neighbour: int = 0,
        seed: object = 0,
        backend: str = "numpy",
        device: object = None,
        method: str = "law",
    ) -> FloatArray:
        """``n`` draws of ``MV`` (``neighbour=0``) or ``MV'`` (``neighbour=1``) for the canonical
        pair, shape ``(n, d)``."""
        if neighbour not in (0, 1) or isinstance(neighbour, bool):
            raise InvalidArgument(f"neighbour={neighbour!r} must be 0 or 1.")
        vec = self.pair()[neighbour]
        return sample_vector_output(vec, self.r, n, seed=seed, backend=backend, device=device,
                                    method=method)


@dataclass(frozen=True)
class WishartMatrixMechanism:
    """``F -> MF`` for ``d x m`` queries ``F``, one ``M ~ W_d(I_d/r, r)`` for all columns
    (seed 000's matrix mechanism; WPM-5: not DP without additive noise)."""

    d: int
    r: int
    name: str = "wishart-matrix"

    def __init__(self, d: object, r: object) -> None:
        d_, r_ = check_d_r(d, r, min_d=1)
        object.__setattr__(self, "d", d_)
        object.__setattr__(self, "r", r_)
        object.__setattr__(self, "name", "wishart-matrix")

    def params(self) -> dict[str, str]:
        return {"d": str(self.d), "r": str(self.r)}

    def sample(
        self,
        F: object,
        n: object,
        *,
        seed: object = 0,
        backend: str = "numpy",
        device: object = None,
    ) -> FloatArray:
        """``n`` draws of ``MF`` (one fresh ``M`` per draw), shape ``(n, d, m)``; ``F`` is a real
        ``d x m`` array (a 1-D array is one column)."""
        f = _real_array("F", F)
        if f.ndim == 1:
            f = f.reshape(-1, 1)
        if f.ndim != 2 or f.shape[0] != self.d or f.shape[1] < 1:
            raise InvalidArgument(f"F has shape {f.shape}; it must be ({self.d}, m) with m >= 1.")
        size = check_positive_int("n", n)
        src = NormalSource(backend, device, seed)
        out = np.empty((size, self.d, f.shape[1]), dtype=np.float64)
        ft = src.tensor(f)
        scale = 1.0 / math.sqrt(self.r)
        for start, stop in batches(size, self.r * (self.d + f.shape[1])):
            a = src.normal((stop - start, self.r, self.d)) * scale
            out[start:stop] = src.numpy(src.transpose(a) @ (a @ ft))
        return out


# ------------------------------------------------------------------------------------------------
# samplers


def sample_wishart(
    d: object,
    r: object,
    size: object,
    *,
    seed: object = 0,
    backend: str = "numpy",
    device: object = None,
) -> FloatArray:
    """``size`` iid draws of ``M = A^T A``, ``A`` ``r x d`` iid ``N(0, 1/r)``; shape
    ``(size, d, d)``, float64 numpy. ``seed``: a non-negative int, or a ``numpy.random.Generator``
    (numpy backend) / ``torch.Generator`` (torch backend) to draw from."""
    d_, r_ = check_d_r(d, r, min_d=1)
    n = check_positive_int("size", size)
    src = NormalSource(backend, device, seed)
    out = np.empty((n, d_, d_), dtype=np.float64)
    scale = 1.0 / math.sqrt(r_)
    for start, stop in batches(n, r_ * d_ + d_ * d_):
        a = src.normal((stop - start, r_, d_)) * scale
        out[start:stop] = src.numpy(src.transpose(a) @ a)
    return out


def sample_vector_output(
    V: object,
    r: object,
    size: object,
    *,
    seed: object = 0,
    backend: str = "numpy",
    device: object = None,
    method: str = "law",
) -> FloatArray:
    """``size`` iid draws of ``MV`` for a fixed nonzero real vector ``V`` (length ``d``,
    ``1 <= r <= d``), shape ``(size, d)``, float64 numpy.

    ``method="law"`` (default): ``MV = ||V|| (s e + sqrt(s/r) (Z - (e^T Z) e))`` with
    ``s = chi2_r / r`` and ``Z ~ N(0, I_d)`` (``proofs/wishart_law.py``); ``method="direct"``:
    draw ``A`` and form ``A^T (A V)``.
    """
    v = _real_array("V", V)
    if v.ndim != 1 or v.size < 1:
        raise InvalidArgument(f"V has shape {v.shape}; it must be a non-empty 1-D vector.")
    norm = float(np.linalg.norm(v))
    if not norm > 0:
        raise InvalidArgument("V=0 must be a nonzero vector.")
    d_, r_ = check_d_r(v.size, r, min_d=1)
    n = check_positive_int("size", size)
    how = check_choice("method", method, METHODS)
    src = NormalSource(backend, device, seed)
    out = np.empty((n, d_), dtype=np.float64)
    vt = src.tensor(v)
    if how == "direct":
        scale = 1.0 / math.sqrt(r_)
        for start, stop in batches(n, r_ * d_ + d_):
            a = src.normal((stop - start, r_, d_)) * scale  # (b, r, d)
            g = a @ vt  # (b, r)
            out[start:stop] = src.numpy((src.transpose(a) @ g[..., None])[..., 0])
        return out
    e = vt / norm
    for start, stop in batches(n, d_ + r_):
        b = stop - start
        s = (src.normal((b, r_)) ** 2).sum(-1) / r_  # chi2_r / r, exact in law
        z = src.normal((b, d_))
        z = z - (z @ e)[:, None] * e[None, :]
        y = norm * (s[:, None] * e[None, :] + (s / r_)[:, None] ** 0.5 * z)
        out[start:stop] = src.numpy(y)
    return out


# ------------------------------------------------------------------------------------------------
# input arrays


def _real_array(name: str, value: object) -> FloatArray:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidArgument(f"{name}={value!r} is not a real array.") from None
    if arr.dtype.kind not in "iuf":
        raise InvalidArgument(f"{name} must hold real numbers (got dtype {arr.dtype}).")
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise InvalidArgument(f"{name} must have finite entries.")
    return out


# ------------------------------------------------------------------------------------------------
# CLI registration


def _build(params: Mapping[str, str]) -> WishartVectorMechanism:
    missing = [k for k in ("d", "r", "rho") if k not in params]
    if missing:
        raise InvalidArgument(
            f"{missing[0]} is required for wishart-vector (e.g. d=64 r=8 rho=0.9)."
        )
    return WishartVectorMechanism(params["d"], params["r"], params["rho"])


register_mechanism(
    MechanismEntry(
        name="wishart-vector",
        build=_build,
        parameters=("d", "r", "rho"),
        summary="Wishart projection V -> MV, unit V, alignment rho (exact law; seed 000 WPM-4)",
    )
)
