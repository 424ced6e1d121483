"""What the numpy/torch samplers share: seed checking, the optional torch import, the choice
of a torch device (CUDA when present, else CPU; an unavailable device is refused, never
silently replaced), one seeded stream of standard normals per backend, and batching."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from certify._validate import check_choice
from certify.errors import InvalidArgument

FloatArray = NDArray[np.float64]

#: the sampling backends (torch is an optional extra)
BACKENDS: tuple[str, ...] = ("numpy", "torch")

#: at most this many float64 numbers per batch (32 MiB), whatever the sample size
MAX_BATCH_ELEMENTS = 1 << 22


def check_seed(seed: object) -> int:
    """A non-negative integer seed (a bool is refused: ``True`` is not a seed)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise InvalidArgument(f"seed={seed!r} must be a non-negative integer.")
    return int(seed)


def import_torch() -> Any:
    """``torch``, or InvalidArgument saying how to get it (torch is an optional extra)."""
    try:
        import torch
    except ImportError:
        raise InvalidArgument(
            "backend='torch' needs PyTorch, which is not installed (pip install torch), "
            "or use backend='numpy'."
        ) from None
    return torch


def torch_device(torch: Any, device: object) -> Any:
    """``None``: cuda when available, else cpu; otherwise a valid and available cpu/cuda
    device, or InvalidArgument naming it."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise InvalidArgument(f"device={device!r} must be a str or torch.device.")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InvalidArgument(f"device={device!r} is not a torch device.") from None
    if dev.type not in ("cpu", "cuda"):
        raise InvalidArgument(f"device={device!r} must be a cpu or cuda device.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidArgument(
            f"device={device!r} requested but torch.cuda.is_available() is False."
        )
    return dev


def batches(size: int, per_sample: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` slices of ``range(size)`` whose batches hold at most
    ``MAX_BATCH_ELEMENTS`` numbers when each sample needs ``per_sample`` (at least one sample)."""
    step = max(1, MAX_BATCH_ELEMENTS // max(1, per_sample))
    for start in range(0, size, step):
        yield start, min(size, start + step)


def to_numpy(x: Any) -> FloatArray:
    """A float64 numpy array from a numpy array or a torch tensor (on any device)."""
    if isinstance(x, np.ndarray):
        return x.astype(np.float64, copy=False)
    return np.asarray(x.detach().cpu().numpy(), dtype=np.float64)


class NormalSource:
    """One seeded stream of standard normals on a backend (numpy ``default_rng`` or a seeded
    ``torch.Generator``, float64), plus the few array operations the samplers need, so that the
    numpy and torch paths share one code path. ``seed`` is a non-negative integer or a generator
    of the backend (a torch generator fixes the device)."""

    def __init__(self, backend: object, device: object, seed: object) -> None:
        self.backend = check_choice("backend", backend, BACKENDS)
        self.normal: Callable[[tuple[int, ...]], Any]
        if self.backend == "numpy":
            if not (device is None or device == "cpu"):
                raise InvalidArgument(f"device={device!r} must be None or 'cpu' with numpy.")
            if isinstance(seed, np.random.Generator):
                rng = seed
            else:
                rng = np.random.default_rng(check_seed(seed))
            self.normal = lambda shape: rng.standard_normal(shape)
            self.device = None
            return
        torch = import_torch()
        self.torch = torch
        if isinstance(seed, torch.Generator):
            gen = seed
            dev = gen.device if device is None else torch_device(torch, device)
            if dev != gen.device:
                raise InvalidArgument(f"device={device!r} differs from the generator's device.")
        else:
            dev = torch_device(torch, device)
            gen = torch.Generator(device=dev)
            gen.manual_seed(check_seed(seed))
        self.device = dev
        self.normal = lambda shape: torch.randn(shape, generator=gen, dtype=torch.float64,
                                                device=dev)

    def tensor(self, x: FloatArray) -> Any:
        if self.backend == "numpy":
            return x
        return self.torch.as_tensor(x, dtype=self.torch.float64, device=self.device)

    def transpose(self, a: Any) -> Any:
        return np.swapaxes(a, -1, -2) if self.backend == "numpy" else a.transpose(-1, -2)

    def norm(self, x: Any) -> Any:
        return np.linalg.norm(x, axis=-1) if self.backend == "numpy" else x.norm(dim=-1)

    numpy = staticmethod(to_numpy)
