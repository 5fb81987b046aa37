"""On-disk cache of encoder features, so a shape is encoded once across sessions.

Entries are safetensors files under the platformdirs user cache
(``~/.cache/s2am3d/features`` on Linux, overridable with $S2AM3D_CACHE_DIR), keyed by a hash of
the normalised points and a fingerprint of the encoder weights.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from platformdirs import user_cache_dir
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .io.atomic import atomic_path


def default_cache_dir() -> Path:
    env = os.environ.get("S2AM3D_CACHE_DIR")
    return Path(env) if env else Path(user_cache_dir("s2am3d")) / "features"


def points_key(points: np.ndarray) -> str:
    """Content hash of an (N, 3) float32 array."""
    arr = np.ascontiguousarray(points, dtype=np.float32)
    return hashlib.sha256(arr.tobytes() + str(arr.shape).encode()).hexdigest()[:32]


class FeatureCache:
    """get/put of (planes, features) tensors by (points hash, weights fingerprint)."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path_for(self, points_hash: str, weights_id: str) -> Path:
        return self.directory / f"{points_hash}-{weights_id}.safetensors"

    def get(self, points_hash: str, weights_id: str) -> dict[str, torch.Tensor] | None:
        """Return the cached tensors or None (a corrupt entry is deleted and treated as a miss)."""
        path = self.path_for(points_hash, weights_id)
        if not path.is_file():
            return None
        try:
            return {k: v.float() for k, v in load_file(str(path)).items()}
        except (SafetensorError, OSError, RuntimeError):
            path.unlink(missing_ok=True)
            return None

    def put(self, points_hash: str, weights_id: str, tensors: dict[str, torch.Tensor]) -> Path | None:
        """Store tensors as float16 (atomic). Returns the path, or None when the cache is not writable."""
        path = self.path_for(points_hash, weights_id)
        try:
            with atomic_path(path) as tmp:
                save_file({k: v.detach().cpu().half().contiguous() for k, v in tensors.items()}, str(tmp))
        except OSError:
            return None
        return path
