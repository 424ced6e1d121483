"""What the numpy/torch samplers share: seed checking, the optional torch import and the choice
of a torch device (CUDA when present, else CPU; an unavailable device is refused, never
silently replaced)."""

from __future__ import annotations

from typing import Any

import numpy as np

from certify.errors import InvalidArgument


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
