"""PartValidator: score parts with a trained validator network; save and load it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ...errors import InputError
from .features import part_features
from .fileformat import load_validator_file, save_validator_file
from .network import PointNetValidator


class PartValidator:
    """A trained validator: ``score(parts)`` -> probability that each part is a good part.

    Attributes:
        model: the :class:`PointNetValidator`.
        threshold: parts scoring below it are "bad" (default 0.5).
        info: training summary (from the file metadata).
    """

    def __init__(self, model: PointNetValidator | None = None, threshold: float = 0.5, info: dict | None = None):
        self.model = model if model is not None else PointNetValidator()
        self.model.eval()
        self.threshold = float(threshold)
        self.info = dict(info or {})

    @torch.no_grad()
    def score(
        self, points_list: Sequence[np.ndarray], object_points: np.ndarray | None = None, seed: int = 0,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Probabilities (K,) float32 that each part is good.

        Args:
            points_list: K arrays (M_i, 3), the parts' points in the object's coordinates.
            object_points: (N, 3) the whole object (gives the context features); None = the union of
                the parts.
            seed: seeds the choice of the 256 points per part (scores are deterministic).
        """
        parts = [np.asarray(p, dtype=np.float32).reshape(-1, 3) for p in points_list]
        if not parts:
            return np.zeros(0, dtype=np.float32)
        if any(len(p) == 0 for p in parts):
            raise InputError("PartValidator.score: a part has no points")
        obj = np.concatenate(parts) if object_points is None else np.asarray(object_points, dtype=np.float32)
        n = len(obj)
        extent = float(np.ptp(obj, axis=0).max()) if n else 1.0
        rng = np.random.default_rng(seed)
        feats = [part_features(p, n, extent if extent > 0 else 1.0, rng) for p in parts]
        pts = torch.from_numpy(np.stack([f[0] for f in feats]))
        ctx = torch.from_numpy(np.stack([f[1] for f in feats]))
        self.model.eval()
        out = [torch.sigmoid(self.model(pts[i:i + batch_size], ctx[i:i + batch_size]))
               for i in range(0, len(pts), batch_size)]
        return torch.cat(out).numpy().astype(np.float32)

    def score_masks(self, points: np.ndarray, masks: Sequence[np.ndarray], seed: int = 0) -> np.ndarray:
        """:meth:`score` for boolean masks (K of (N,)) over one object's points (N, 3)."""
        pts = np.asarray(points, dtype=np.float32)
        return self.score([pts[np.asarray(m, dtype=bool)] for m in masks], object_points=pts, seed=seed)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the weights (safetensors) with JSON metadata, atomically (:mod:`.fileformat`)."""
        return save_validator_file(self.model, self.threshold, self.info, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PartValidator":
        """Read a file written by :meth:`save` (CheckpointError naming the file on any problem)."""
        model, threshold, info = load_validator_file(path)
        return cls(model, threshold=threshold, info=info)
