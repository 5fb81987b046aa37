"""The validator's file: safetensors (the state dict) with JSON metadata under ``"s2am3d_validator"``
(format version, :data:`~.features.N_PART_POINTS`, :data:`~.features.CONTEXT_DIM`, threshold, training
summary)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from ...errors import CheckpointError
from ...io.atomic import atomic_path
from .features import CONTEXT_DIM, N_PART_POINTS
from .network import PointNetValidator

METADATA_KEY = "s2am3d_validator"
FORMAT_VERSION = 1


def save_validator_file(model: PointNetValidator, threshold: float, info: dict, path: str | os.PathLike) -> Path:
    """Write the weights (safetensors) with JSON metadata, atomically. Returns the path."""
    from safetensors.torch import save_file

    meta = {"version": FORMAT_VERSION, "n_part_points": N_PART_POINTS, "context_dim": CONTEXT_DIM,
            "threshold": threshold, "info": info}
    target = Path(path)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(target) as tmp:
        save_file(state, str(tmp), metadata={METADATA_KEY: json.dumps(meta)})
    return target


def load_validator_file(path: str | os.PathLike) -> tuple[PointNetValidator, float, dict]:
    """Read a file written by :func:`save_validator_file` -> (network, threshold, info).

    Raises:
        CheckpointError: naming the file, on any problem (missing, unreadable, other format, mismatched weights).
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: validator file not found")
    try:
        with safe_open(str(p), framework="pt") as fh:
            raw = (fh.metadata() or {}).get(METADATA_KEY)
        state = load_file(str(p))
    except Exception as e:
        raise CheckpointError(f"{p}: not a readable safetensors file ({type(e).__name__}: {e})") from e
    if raw is None:
        raise CheckpointError(f"{p}: not a part-validator file (no {METADATA_KEY!r} metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{p}: corrupt validator metadata ({e})") from e
    if meta.get("version") != FORMAT_VERSION or meta.get("n_part_points") != N_PART_POINTS \
            or meta.get("context_dim") != CONTEXT_DIM:
        raise CheckpointError(f"{p}: validator format {meta} is not supported by this version")
    model = PointNetValidator()
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"{p}: weights do not match the validator network ({e})") from e
    return model, float(meta.get("threshold", 0.5)), meta.get("info", {})
