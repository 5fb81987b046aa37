"""Data types shared by the dataset generators, loaders, pipeline and training code.

A *part hierarchy* is stored as a stack of label maps, finest level first. Levels are nested:
every part at level ``l + 1`` is a union of parts at level ``l``. A label of ``-1`` means
"unlabelled" (ignored by losses and metrics). The trivial "whole object" level is NOT stored;
code that wants it can add ``np.zeros``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PartMesh:
    """A triangle mesh with a multi-level part labelling of its faces.

    Attributes:
        vertices: (V, 3) float32 coordinates.
        faces: (F, 3) int64 vertex indices.
        face_labels: (L, F) int64 part id of each face at each level, finest level first, -1 = unlabelled.
        name: identifier of the object (file stem or generated id), used to keep splits apart by object.
        category: object category ("chair", "engine", ...) or "" when unknown.
        part_names: optional per-level dict {part id: human-readable name}.
    """

    vertices: np.ndarray
    faces: np.ndarray
    face_labels: np.ndarray
    name: str = ""
    category: str = ""
    part_names: list[dict[int, str]] = field(default_factory=list)

    @property
    def num_levels(self) -> int:
        return int(self.face_labels.shape[0])


@dataclass
class PartPoints:
    """A point cloud sampled from a shape with per-point part labels at every level.

    Attributes:
        points: (N, 3) float32 coordinates (normalised: bbox centred, largest half-extent 1).
        labels: (L, N) int64 part id of each point per level, finest first, -1 = unlabelled.
        name: object identifier.
        category: object category or "".
    """

    points: np.ndarray
    labels: np.ndarray
    name: str = ""
    category: str = ""
