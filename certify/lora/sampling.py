"""Samplers for LoRA's implicit noise (claims LDP-2, LDP-4, LDP-5, LDP-8; seed 001).

Setting (seed 001, Section 3): ``A`` is ``r x m`` with iid ``N(0, 1/r)`` entries, ``q`` a fixed
row vector in ``R^m`` and ``u = q (A^T A - I_m)``; one step of LoRA with ``A`` frozen at its
initialisation moves the adapter by ``G A^T A`` for a gradient ``G`` (eq. 2 / 27).

Three samplers, each returning float64 numpy arrays:

* :func:`sample_u` draws ``u_i`` the *direct* way: it draws ``A``, forms the whole row
  ``q A^T A - q`` and keeps entry ``i``.
* :func:`sample_u_mixture` draws ``u_i`` from the variance-gamma mixture derived in
  ``proofs/lora_u.py`` (``proof_u_law``): ``u_i = q_i (V - 1) + s sqrt(V) Z`` with
  ``V ~ chi2_r / r``, ``Z ~ N(0, 1)`` independent and ``s^2 = (||q||^2 - q_i^2)/r`` (note:
  ``proofs/lora_u.py``'s symbol ``s`` is ``sqrt(||q||^2 - q_i^2)``, without the ``1/r``). It never
  forms ``A``, so it is an independent route to the same law; the tests compare the two.
* :func:`sample_lora_update` draws ``G A^T A`` (the frozen-A LoRA step), used by the LDP-8
  exact-equality event (equal rows of ``G`` give equal rows of the update, WPM-5).

Backends: ``"numpy"`` (``numpy.random.default_rng(seed)``, PCG64) and ``"torch"`` (a
``torch.Generator`` seeded with ``seed``, float64, on ``device``: ``"cuda"`` when requested, or by
default when ``torch.cuda.is_available()``; otherwise ``"cpu"``). Draws are batched so that no
intermediate array holds more than about ``2**22`` float64 numbers (beyond the returned samples),
except that one sample's ``A`` (``r * m`` numbers) is always held whole.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from certify._backend import BACKENDS, NormalSource, batches, to_numpy, torch_device
from certify._backend import check_seed as _check_seed
from certify._backend import import_torch as _import_torch
from certify._validate import check_choice, check_positive_int
from certify.errors import InvalidArgument

__all__ = ["BACKENDS", "sample_lora_update", "sample_u", "sample_u_mixture"]

#: the sampling backends

#: cap on the number of float64 entries of one batch's intermediate arrays (32 MiB)

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# validation


def _check_real_array(name: str, value: object, ndim: int) -> FloatArray:
    """A finite real array of ``ndim`` dimensions, as float64 (bool and complex refused)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidArgument(f"{name}={value!r} is not a real array.") from None
    if arr.dtype.kind not in "iuf":
        raise InvalidArgument(f"{name}={value!r} must hold real numbers (got dtype {arr.dtype}).")
    if arr.ndim != ndim:
        raise InvalidArgument(
            f"{name}={value!r} must be {ndim}-dimensional (got shape {arr.shape})."
        )
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise InvalidArgument(f"{name}={value!r} must have finite entries.")
    return out


def _check_q(q: object) -> FloatArray:
    """``q``: a finite, nonzero real vector with at least 2 entries (seed 001's row vector)."""
    arr = _check_real_array("q", q, 1)
    if arr.size < 2:
        raise InvalidArgument(f"q={q!r} must have at least 2 entries.")
    if not np.any(arr != 0):
        raise InvalidArgument(f"q={q!r} must be nonzero.")
    return arr


def _check_index(i: object, m: int) -> int:
    """``i``: an integer coordinate in ``[0, m)`` (negative indices refused: say what you mean)."""
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
        raise InvalidArgument(f"i={i!r} must be an integer index.")
    idx = int(i)
    if not 0 <= idx < m:
        raise InvalidArgument(f"i={idx} must be in [0, {m}) (q has {m} entries).")
    return idx


def _resolve_device(backend: str, device: object) -> Any:
    """``None`` for numpy (only ``device=None`` or ``"cpu"`` accepted); a ``torch.device`` for
    torch (``None`` means cuda when available, else cpu; cuda requested but absent is refused)."""
    if backend == "numpy":
        if device is None or (isinstance(device, str) and device == "cpu"):
            return None
        raise InvalidArgument(f"device={device!r} must be None or 'cpu' with backend='numpy'.")
    return torch_device(_import_torch(), device)


def _common(
    r: object, size: object, backend: object, device: object, seed: object
) -> tuple[int, int, str, Any, int]:
    r_ = check_positive_int("r", r)
    size_ = check_positive_int("size", size)
    backend_ = check_choice("backend", backend, BACKENDS)
    seed_ = _check_seed(seed)
    dev = _resolve_device(backend_, device)
    return r_, size_, backend_, dev, seed_


# --------------------------------------------------------------------------------------------
# public samplers


def sample_u(
    q: object,
    i: object,
    r: object,
    size: object,
    *,
    backend: str = "numpy",
    device: object = None,
    seed: int = 0,
) -> FloatArray:
    """``size`` iid draws of ``u_i = (q (A^T A - I_m))_i``, ``A`` an ``r x m`` matrix of iid
    ``N(0, 1/r)`` entries (seed 001, Lemma 3.1's setting), drawn directly: each sample draws its
    own ``A`` (``A = Z / sqrt(r)``, ``Z`` standard normal), forms the row ``(q A^T) A - q`` and
    keeps entry ``i`` (0-based). Returns a float64 numpy array of shape ``(size,)``.

    Exact law (``proofs/lora_u.py``): mean 0, variance ``(||q||^2 + q_i^2)/r``, variance-gamma.
    """
    qv = _check_q(q)
    m = qv.size
    idx = _check_index(i, m)
    r_, size_, backend_, dev, seed_ = _common(r, size, backend, device, seed)
    normal = NormalSource(backend_, dev, seed_).normal
    scale = 1.0 / math.sqrt(r_)
    out = np.empty(size_, dtype=np.float64)
    if backend_ == "numpy":
        q_row = qv.reshape(1, m)
    else:
        torch = _import_torch()
        q_row = torch.as_tensor(qv, dtype=torch.float64, device=dev).reshape(1, m)
    for start, stop in batches(size_, r_ * m):
        a = normal((stop - start, r_, m)) * scale  # (b, r, m)
        qa = q_row @ a.transpose(-1, -2) if backend_ != "numpy" else q_row @ a.transpose(0, 2, 1)
        row = (qa @ a)[:, 0, :] - q_row  # (b, m): the whole row q A^T A - q
        out[start:stop] = to_numpy(row[:, idx])
    return out


def sample_u_mixture(
    q: object,
    i: object,
    r: object,
    size: object,
    *,
    backend: str = "numpy",
    device: object = None,
    seed: int = 0,
) -> FloatArray:
    """``size`` iid draws of ``u_i`` from its normal variance-mean mixture (``proofs/lora_u.py``,
    ``proof_u_law``: conditioning on column ``i`` of ``A``)::

        u_i = q_i (V - 1) + s sqrt(V) Z,   V ~ chi2_r / r,  Z ~ N(0, 1) independent,
        s^2 = (||q||^2 - q_i^2) / r.

    ``A`` is never formed. numpy draws ``V`` as ``2 Gamma(r/2, 1) / r`` (``standard_gamma``);
    torch as ``(sum of r squared standard normals) / r``; both exact in law. Returns a float64
    numpy array of shape ``(size,)``.
    """
    qv = _check_q(q)
    idx = _check_index(i, qv.size)
    r_, size_, backend_, dev, seed_ = _common(r, size, backend, device, seed)
    qi = float(qv[idx])
    rest = np.delete(qv, idx)
    s = math.sqrt(math.fsum(float(x) * float(x) for x in rest) / r_)
    out = np.empty(size_, dtype=np.float64)
    if backend_ == "numpy":
        rng = np.random.default_rng(seed_)
        v = rng.standard_gamma(r_ / 2.0, size_) * (2.0 / r_)
        z = rng.standard_normal(size_)
        out[:] = qi * (v - 1.0) + s * np.sqrt(v) * z
        return out
    torch = _import_torch()
    normal = NormalSource(backend_, dev, seed_).normal
    for start, stop in batches(size_, r_ + 1):
        b = stop - start
        v = (normal((b, r_)) ** 2).sum(dim=1) / r_
        z = normal((b,))
        out[start:stop] = to_numpy(qi * (v - 1.0) + s * torch.sqrt(v) * z)
    return out


def sample_lora_update(
    G: object,
    r: object,
    size: object,
    *,
    backend: str = "numpy",
    device: object = None,
    seed: int = 0,
) -> FloatArray:
    """``size`` iid draws of ``G A^T A`` (seed 001, eq. 2 / 27: the LoRA step with ``A`` frozen),
    ``G`` an ``n x m`` real matrix, ``A`` an ``r x m`` matrix of iid ``N(0, 1/r)`` entries drawn
    afresh for each sample. Returns a float64 numpy array of shape ``(size, n, m)``.

    ``E[G A^T A] = G`` (``E[A^T A] = I_m``, WPM-1). Rows of ``G`` that are bitwise equal give
    bitwise-equal rows in every sample, as in exact arithmetic (WPM-5's event): the product is
    computed once per distinct row of ``G`` and copied, so no BLAS blocking can break the tie.
    """
    g = _check_real_array("G", G, 2)
    if g.shape[0] < 1 or g.shape[1] < 1:
        raise InvalidArgument(f"G={G!r} must have at least one row and one column.")
    r_, size_, backend_, dev, seed_ = _common(r, size, backend, device, seed)
    n, m = g.shape
    # np.unique compares values: 0.0 and -0.0 are one row, whose products are equal anyway
    uniq, inverse = np.unique(g, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(n)
    k = uniq.shape[0]
    normal = NormalSource(backend_, dev, seed_).normal
    scale = 1.0 / math.sqrt(r_)
    out = np.empty((size_, n, m), dtype=np.float64)
    if backend_ == "numpy":
        g_u: Any = uniq
    else:
        torch = _import_torch()
        g_u = torch.as_tensor(uniq, dtype=torch.float64, device=dev)
    for start, stop in batches(size_, r_ * m + k * (r_ + m)):
        a = normal((stop - start, r_, m)) * scale
        at = a.transpose(0, 2, 1) if backend_ == "numpy" else a.transpose(-1, -2)
        prod = to_numpy((g_u @ at) @ a)  # (b, k, m)
        out[start:stop] = prod[:, inverse, :]
    return out
