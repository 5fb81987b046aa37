"""Viewer logic over the core API: load, encode once, click, scale, accept, export. No polyscope.

Everything the window can do goes through this class, so it is scriptable and testable headless.
"""
from __future__ import annotations

import colorsys
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.spatial import cKDTree

from s2am3d_core.errors import PromptError
from s2am3d_core.io import (faces_from_point_labels, load_shape, shape_points, write_labelled_mesh,
                            write_labelled_points, write_part_meshes)
from s2am3d_core.io.load import LoadedShape
from s2am3d_core.predictor import PartPredictor

from .state import SessionState

ProgressFn = Callable[[float, str], None]


def part_color(i: int) -> tuple[float, float, float]:
    """Distinct, deterministic colours (golden-ratio hue steps)."""
    return colorsys.hsv_to_rgb((0.13 + 0.618034 * i) % 1.0, 0.65, 0.95)


class Controller:
    """One shape in the viewer.

    Args:
        predictor: a PartPredictor (its encoder runs once, in ``__init__``).
        shape: the loaded shape (mesh or point cloud).
        num_points: points the model sees (sampled on a mesh, subsampled from a cloud).
    """

    def __init__(self, predictor: PartPredictor, shape: LoadedShape, num_points: int = 20000,
                 progress: ProgressFn | None = None):
        self.predictor = predictor
        self.shape = shape
        self.points, self.point_face = shape_points(shape, num_points, seed=0)
        t = time.perf_counter()
        predictor.set_shape(self.points, progress=progress)
        self.encode_seconds = time.perf_counter() - t
        self.decode_seconds = 0.0
        self.tree = cKDTree(self.points)
        if shape.is_mesh:
            centers = shape.vertices[shape.faces].mean(axis=1)
            self.face_centers = centers
            self.face_to_point = self.tree.query(centers)[1]  # (F,) nearest model point of each face
        else:
            self.face_to_point = None
        self.state = SessionState(len(self.points))
        self.probs: np.ndarray | None = None  # (N,) current mask probabilities

    @classmethod
    def open(cls, path: str | os.PathLike, predictor: PartPredictor, num_points: int = 20000,
             progress: ProgressFn | None = None) -> "Controller":
        return cls(predictor, load_shape(path), num_points, progress)

    # ------------------------------------------------------------------ prompts
    @property
    def mask(self) -> np.ndarray:
        """(N,) bool current mask (empty without clicks)."""
        if self.probs is None:
            return np.zeros(len(self.points), bool)
        return self.probs > self.state.threshold

    def nearest_point(self, xyz) -> int:
        return int(self.tree.query(np.asarray(xyz, np.float64).reshape(3))[1])

    def click(self, index: int, negative: bool = False) -> np.ndarray:
        """Add a click on model point ``index`` and re-run the decoder. Returns the mask."""
        if not 0 <= int(index) < len(self.points):
            raise PromptError(f"click index {index} is out of range for {len(self.points)} points")
        self.state.add_click(int(index), not negative)
        return self.update()

    def click_xyz(self, xyz, negative: bool = False) -> np.ndarray:
        return self.click(self.nearest_point(xyz), negative)

    def click_face(self, face: int, negative: bool = False) -> np.ndarray:
        return self.click(int(self.face_to_point[face]), negative)

    def set_scale(self, scale: float | None) -> np.ndarray:
        """Set the scale (None = no scale) and re-run only the decoder."""
        if scale is None:
            self.state.use_scale = False
        else:
            self.state.use_scale = True
            self.state.scale = float(np.clip(scale, 0.0, 1.0))
        return self.update()

    def set_threshold(self, threshold: float) -> np.ndarray:
        self.state.threshold = float(np.clip(threshold, 0.01, 0.99))
        return self.mask

    def update(self) -> np.ndarray:
        """Decode the current clicks (decoder only); no positive click -> empty mask."""
        pos = [i for i, p in self.state.clicks if p]
        neg = [i for i, p in self.state.clicks if not p]
        if not pos:
            self.probs = None
            return self.mask
        t = time.perf_counter()
        self.probs = self.predictor.predict(pos, neg, self.state.scale if self.state.use_scale else None)
        self.decode_seconds = time.perf_counter() - t
        return self.mask

    # ------------------------------------------------------------------ parts
    def accept(self, name: str | None = None, color=None) -> bool:
        """Accept the current mask as a part. Returns False when there is nothing to accept."""
        mask = self.mask
        if not mask.any():
            return False
        n = len(self.state.parts)
        self.state.accept(mask, name or f"part_{n}", color or part_color(n))
        self.probs = None
        return True

    def undo(self) -> None:
        self.state.undo()
        self.update()

    def redo(self) -> None:
        self.state.redo()
        self.update()

    def clear(self) -> None:
        self.state.clear_clicks()
        self.probs = None

    def segment_all(self, scale: float | None, num_prompts: int = 48, progress: ProgressFn | None = None) -> int:
        """Label every point at the granularity ``scale``; returns the number of parts."""
        from s2am3d_core.eval.autoseg import segment_all
        labels = segment_all(self.predictor, scale, num_prompts=num_prompts, progress=progress)
        k = int(labels.max()) + 1
        self.state.set_all(labels, [f"part_{i}" for i in range(k)], [part_color(i) for i in range(k)])
        self.probs = None
        return k

    # ------------------------------------------------------------------ display
    def point_colors(self) -> np.ndarray:
        """(N, 3) colours: accepted parts, grey elsewhere, the live mask highlighted."""
        col = np.full((len(self.points), 3), 0.78)
        for p in self.state.parts:
            col[self.state.labels == p.label] = p.color
        m = self.mask
        col[m] = 0.35 * col[m] + 0.65 * np.array([1.0, 0.25, 0.1])
        return col

    def face_colors(self) -> np.ndarray:
        """(F, 3) colours for a mesh (each face shows its nearest model point)."""
        return self.point_colors()[self.face_to_point]

    # ------------------------------------------------------------------ files
    def face_labels(self) -> np.ndarray:
        """(F,) labels of the mesh's faces from the accepted point labels."""
        return faces_from_point_labels(len(self.shape.faces), self.point_face, self.state.labels,
                                       points=self.points, face_centers=self.face_centers)

    def export(self, path: str | os.PathLike) -> Path:
        """Write a labelled PLY: per-face labels on a mesh, per-point labels on a cloud (-1 = unlabelled)."""
        if self.shape.is_mesh:
            return write_labelled_mesh(path, self.shape.vertices, self.shape.faces, self.face_labels())
        return write_labelled_points(path, self.points, self.state.labels)

    def export_parts(self, out_dir: str | os.PathLike, fmt: str = "ply") -> list[Path]:
        if not self.shape.is_mesh:
            raise PromptError("per-part meshes need a mesh; this shape is a point cloud (use export)")
        return write_part_meshes(out_dir, self.shape.vertices, self.shape.faces, self.face_labels(), fmt=fmt)

    def save_session(self, path: str | os.PathLike) -> Path:
        return self.state.save(path, str(self.shape.path), len(self.points))

    def load_session(self, path: str | os.PathLike) -> None:
        self.state.load_dict(SessionState.read(path), str(path))
        self.update()
