"""Device selection: CPU by default, CUDA when asked for and present."""
from __future__ import annotations

import torch

from .errors import S2AM3DError


def pick_device(name: str | torch.device | None = None) -> torch.device:
    """Resolve a device name.

    Args:
        name: "cpu", "cuda", "cuda:1", "auto" (CUDA if available else CPU) or None (= "cpu").
    """
    if isinstance(name, torch.device):
        return name
    if name is None or name == "cpu":
        return torch.device("cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise S2AM3DError(f"device {name!r} was requested but no CUDA GPU is available; use --device cpu")
        return torch.device(name)
    raise S2AM3DError(f"unknown device {name!r}; use 'cpu', 'cuda', 'cuda:N' or 'auto'")
