"""Parameter initialisation shared by the modules."""
from __future__ import annotations

import torch


def small_normal(*shape: int, std: float = 0.02) -> torch.Tensor:
    """``torch.randn(*shape) * std`` (learned embeddings and tokens).

    Under ``torch.device("meta")`` (the shape-only skeleton that :func:`s2am3d_core.checkpoint.load_model`
    checks a file against) it returns an empty tensor instead: random fills on the meta device run
    through torch's Python reference kernels, whose first use imports sympy (seconds of start-up).
    """
    probe = torch.empty(0)
    if probe.device.type == "meta":
        return torch.empty(*shape)
    return torch.randn(*shape) * std
