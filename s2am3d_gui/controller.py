"""Viewer logic over the core API: load, encode once, click, scale, accept, segment all, export.

No polyscope import: everything the window can do is a method here, so it is scriptable and tested
without a window. The encoder runs once (in ``__init__``, through ``PartPredictor.set_shape``); every
click or scale change re-runs only the decoder (``PartPredictor.predict``).

Masks come from :class:`s2am3d_core.segment.segmenter.ShapeSegmenter` (the one path from clicks to
masks, shared with ``s2am3d-segment``): mesh-aware by default, a mask is a set of atoms (welded
pieces split at creases), a negative click removes its atom; ``mesh_aware=False`` (points-only)
thresholds the decoder's point probabilities.

Display: a mesh is shown with per-face colours (the mask's faces; accepted labels go to faces
through the atoms, or by majority vote of the samples in points-only mode, as in the export); a
point cloud is shown as its own points, each coloured like its nearest model point.
"""
from __future__ import annotations

import colorsys
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import expit

from s2am3d_core.errors import InputError, PromptError
from s2am3d_core.io import (faces_from_point_labels, load_shape, shape_points, write_labelled, write_parts)
from s2am3d_core.io.atomic import atomic_path
from s2am3d_core.io.outputs import OutDir, OutFile, check_outputs
from s2am3d_core.io.load import LoadedShape
from s2am3d_core.io.parts import scan_colors
from s2am3d_core.io.sample import DEFAULT_POINTS, triangle_areas
from s2am3d_core.predictor import PartPredictor
from s2am3d_core.scale import check_scale
from s2am3d_core.segment.segmenter import Mask, ShapeSegmenter

from .state import Color, Part, SessionState, ShapeData

ProgressFn = Callable[[float, str], None]

DISPLAY_LIMIT = 1_000_000            # a larger point cloud is shown subsampled (export keeps every point)
UNLABELLED_COLOR = (0.78, 0.78, 0.76)
MASK_COLOR = (0.95, 0.12, 0.05)      # the live mask is blended towards this saturated red
MASK_BLEND = 0.8
SWEEP_SCALES = tuple(float(v) for v in np.geomspace(0.004, 0.8, 12))  # scale grid of the slider preview


def part_color(i: int) -> Color:
    """Distinct, deterministic pastel part colours (golden-ratio hue steps), never the mask's red."""
    hue = 0.1 + 0.8 * ((0.6 + 0.618034 * i) % 1.0)  # hues in [0.1, 0.9]: away from red
    r, g, b = colorsys.hsv_to_rgb(hue, 0.45, 0.93)
    return (r, g, b)


@dataclass(frozen=True)
class Prompt:
    """What one decode depends on."""

    positive: tuple[int, ...]
    negative: tuple[int, ...]
    scale: float | None


class Controller:
    """One shape in the viewer.

    Args:
        predictor: a PartPredictor; its encoder runs once, here.
        shape: the loaded shape (mesh or point cloud).
        num_points: points the model sees (sampled on a mesh; a larger cloud is subsampled).
        progress: ``fn(fraction, message)`` called while encoding.
        warmup: run one throw-away decode so the first click is as fast as the next ones.
        mesh_aware: masks on atoms (default); False = points-only masks (``--points-only``).
    """

    def __init__(self, predictor: PartPredictor, shape: LoadedShape, num_points: int = DEFAULT_POINTS,
                 progress: ProgressFn | None = None, warmup: bool = True, mesh_aware: bool = True):
        if isinstance(num_points, bool) or not isinstance(num_points, (int, np.integer)) or num_points < 16:
            raise InputError(f"num_points must be an integer >= 16, got {num_points!r}")
        self.predictor = predictor
        self.segmenter = ShapeSegmenter(predictor, mesh_aware=mesh_aware)
        self._mask_key: tuple | None = None
        self._mask_obj: Mask | None = None
        points, point_face = shape_points(shape, int(num_points), seed=0)
        self.shape = ShapeData(Path(shape.path), points, point_face, shape.vertices, shape.faces, up=shape.up,
                               colors=scan_colors(shape.path, shape))  # not a labelled file's: its parts'
        # the file's own face grouping (URDF links): offered as parts on request, never used to segment
        self.face_groups, self.group_names = shape.face_groups, tuple(shape.group_names)
        self.state = SessionState(self.shape)
        self._encode(progress)
        if warmup:  # torch's first decoder call pays a one-off setup cost: not on the first click
            predictor.predict([0], [], None)
        self.decode_seconds = 0.0   # last decoder call
        self.color_seconds = 0.0    # last display-colour update
        self._index_display()
        self._base_key: int | None = None
        self._base_colors: np.ndarray | None = None
        self._base_shares: dict[int, float] = {}  # part_shares(), made with the base colours
        self._base_index: np.ndarray | None = None    # palette row of each displayed element
        self._base_palette: np.ndarray | None = None  # (2R, 3): the part colours (and a scan's unlabelled points'), then blended towards the mask
        self._sweep_clicks: tuple | None = None      # (positive, negative) the sweep below belongs to
        self._sweep: dict[float, np.ndarray] = {}    # grid scale -> (N,) float32 logits

    def _encode(self, progress: ProgressFn | None = None) -> None:
        """Encode the model points (or read their features from the cache) and find the atoms."""
        t = time.perf_counter()
        sh = self.shape
        self.segmenter.set_shape(sh.vertices, sh.faces, points=sh.points, face_index=sh.point_face,
                                 progress=progress)
        self.encode_seconds = time.perf_counter() - t
        self.encode_source = getattr(self.predictor, "last_encode_source", "encoder")
        self._mask_key = None

    @property
    def mesh_aware(self) -> bool:
        return self.segmenter.mesh_aware

    def set_mesh_aware(self, on: bool, progress: ProgressFn | None = None) -> None:
        """Switch between masks on atoms (True) and points-only masks; finds the atoms the first
        time (features come from memory: no re-encoding)."""
        on = bool(on)
        if on == self.segmenter.mesh_aware:
            return
        if on and self.segmenter.atoms is None:
            # a new segmenter, swapped in once its atoms exist (the window may draw meanwhile)
            seg, t = ShapeSegmenter(self.predictor, mesh_aware=True), time.perf_counter()
            sh = self.shape
            seg.set_shape(sh.vertices, sh.faces, points=sh.points, face_index=sh.point_face, progress=progress)
            self.encode_seconds = time.perf_counter() - t
            self.encode_source = getattr(self.predictor, "last_encode_source", "encoder")
            self.segmenter = seg
        else:
            self.segmenter.mesh_aware = on
        self._mask_key = None
        self._base_key = None

    @property
    def features_text(self) -> str:
        """How the point features were obtained, e.g. "encoded 20000 points in 3.10 s"."""
        n = self.shape.num_points
        atoms = self.segmenter.atoms
        extra = f", {atoms.num_atoms} atoms" if self.segmenter.mesh_aware and atoms is not None else ""
        if self.encode_source in ("disk", "memory"):
            where = "the feature cache" if self.encode_source == "disk" else "memory"
            return f"features of {n} points read from {where} (no encoding){extra}: ready in {self.encode_seconds:.2f} s"
        return f"encoded {n} points{extra} in {self.encode_seconds:.2f} s"

    def _index_display(self) -> None:
        """Lookup tables between the model points and the displayed faces / points."""
        points, point_face = self.shape.points, self.shape.point_face
        self.tree = cKDTree(points)
        if self.shape.is_mesh:
            faces = self.shape.faces
            self.face_centers = self.shape.vertices[faces].mean(axis=1)
            self.face_to_point = self.tree.query(self.face_centers)[1].astype(np.int64)  # (F,) nearest model point
            self.face_counts = np.bincount(point_face, minlength=len(faces)).astype(np.float32)  # samples per face
            self.face_areas = triangle_areas(self.shape.vertices[faces])
            self.display_points = self.display_index = self.display_to_point = self.file_to_point = None
            self.display_file_colors = None
        else:
            cloud = self.shape.vertices
            same = len(cloud) == len(points) and np.array_equal(cloud, points)
            self.file_to_point = (np.arange(len(points)) if same
                                  else self.tree.query(cloud)[1].astype(np.int64))  # nearest model point of each
            self.display_index = (np.arange(len(cloud)) if len(cloud) <= DISPLAY_LIMIT else  # the points drawn
                                  np.sort(np.random.default_rng(0).choice(len(cloud), DISPLAY_LIMIT, replace=False)))
            self.display_points = cloud[self.display_index]
            self.display_to_point = self.file_to_point[self.display_index]
            colors = self.shape.colors  # a coloured scan: its unlabelled points keep the file's colours
            self.display_file_colors = None if colors is None else np.asarray(colors, np.float32)[self.display_index]

    def reorient(self, up: str, progress: ProgressFn | None = None) -> bool:
        """Treat ``up`` as the file's up axis: rotate the shape, re-encode (the model sees the new
        pose). Clicks and parts stay (the model points are the same, rotated). False if unchanged.

        The caller re-uploads the geometry (``Scene.update_geometry``)."""
        from s2am3d_core.io.up import check_up, rotation_to_z_up
        up = check_up(up)
        old = self.shape
        if up == old.up:
            return False
        rot = (rotation_to_z_up(up) @ rotation_to_z_up(old.up).T).T.astype(np.float32)  # row vectors: v @ rot
        self.shape = ShapeData(old.path, old.points @ rot, old.point_face, old.vertices @ rot, old.faces, up=up,
                               colors=old.colors)
        self.state.shape = self.shape
        self._encode(progress)
        self._index_display()
        self.state.probs = None
        self._base_key = None
        return True

    def links_as_parts(self) -> int:
        """Replace the parts by the file's own groups (a URDF's links), named after them; one undo
        step. Returns the number of parts; InputError when the file has no such grouping."""
        if self.face_groups is None or not self.shape.is_mesh:
            raise InputError(f"{self.shape.path}: the file has no link structure to use as parts")
        parts = [{"label": i, "name": n} for i, n in enumerate(self.group_names)]
        return self.import_labels(self.face_groups, parts, undoable=True)

    def import_labels(self, element_labels: np.ndarray, parts: Sequence[dict] = (), undoable: bool = False) -> int:
        """Start from existing labels (an opened labelled PLY / part folder): ``element_labels`` per
        face (mesh) or per file point (point cloud), -1 = unlabelled; ``parts`` optional
        ``{"label", "name", "color"}`` entries. Becomes the starting state (no undo step).
        Returns the number of parts. ``undoable``: one undo step instead of a new starting state."""
        lab = np.asarray(element_labels, np.int64)
        n = len(self.shape.faces) if self.shape.is_mesh else len(self.shape.vertices)
        if lab.shape != (n,):
            raise InputError(f"{self.shape.path}: {lab.shape[0] if lab.ndim else 0} labels for {n} "
                             f"{'faces' if self.shape.is_mesh else 'points'}")
        if self.shape.is_mesh:
            point_labels = lab[self.shape.point_face]
        else:
            point_labels = lab[cKDTree(self.shape.vertices).query(self.points)[1]]
        ids = [int(k) for k in np.unique(lab) if k >= 0]  # a part too small to be sampled stays a part too
        info = {int(p["label"]): p for p in parts if isinstance(p, dict) and "label" in p}
        lut = np.full(max(ids, default=-1) + 2, -1, np.int64)
        lut[np.asarray(ids, np.int64) + 1] = np.arange(len(ids))
        names = [str(info.get(k, {}).get("name") or f"part_{k}") for k in ids]
        colors = [tuple(info[k]["color"]) if "color" in info.get(k, {}) else part_color(i) for i, k in enumerate(ids)]
        self.state.set_all(lut[point_labels + 1], names, colors, imported=lut[lab + 1])  # the file's own labels
        if not undoable:
            self.state.forget_history()
        self.state.probs = None
        return len(ids)

    @classmethod
    def open(cls, path: str | os.PathLike, predictor: PartPredictor, num_points: int = DEFAULT_POINTS,
             progress: ProgressFn | None = None) -> "Controller":
        """Load a mesh/point cloud file (InputError if it cannot be used) and encode it."""
        return cls(predictor, load_shape(path), num_points, progress)

    # ------------------------------------------------------------------ clicks
    @property
    def points(self) -> np.ndarray:
        """(N, 3) model points, in the shape file's coordinates."""
        return self.shape.points

    @property
    def mask(self) -> np.ndarray:
        """(N,) bool current mask of the model points."""
        m = self.current_mask()
        return np.zeros(self.shape.num_points, bool) if m is None else m.points

    def current_mask(self) -> Mask | None:
        """The mask of the current clicks and decoder probabilities (atoms in mesh-aware mode),
        None without one. Cached until the probabilities, threshold, clicks or mode change."""
        st, prompt = self.state, self.prompt()
        if st.probs is None or prompt is None:
            return None
        key = (st.probs_revision, st.threshold, self.segmenter.mesh_aware, prompt)
        if key != self._mask_key:
            self._mask_obj = self.segmenter.mask_from_probs(st.probs, prompt.positive, prompt.negative,
                                                            prompt.scale, st.threshold)
            self._mask_key = key
        return self._mask_obj

    @property
    def probs(self) -> np.ndarray | None:
        return self.state.probs

    @property
    def mask_fraction(self) -> float:
        """The mask's share of the shape (surface area on atoms, else points): what the scale asks for."""
        m = self.current_mask()
        return 0.0 if m is None else float(m.fraction)

    @property
    def clicked_region_fraction(self) -> float | None:
        """Share of the shape of the atoms under the positive clicks, which every mask holds (the
        smallest mask a scale can give), or None (points-only, no positive click)."""
        return self.segmenter.clicked_fraction(self.state.positive)

    @property
    def clicked_region_note(self) -> float | None:
        """:attr:`clicked_region_fraction` when a mask at the current scale cannot be as small as
        asked (:meth:`~s2am3d_core.segment.ShapeSegmenter.clicked_region_note`), else None."""
        return self.segmenter.clicked_region_note(self.state.positive, self.state.effective_scale)

    def nearest_point(self, xyz: Sequence[float]) -> int:
        """Index of the model point nearest a 3D position."""
        p = np.asarray(xyz, dtype=np.float64).reshape(-1)
        if p.shape != (3,) or not np.isfinite(p).all():
            raise PromptError(f"click position {xyz!r} is not a finite (x, y, z)")
        return int(self.tree.query(p)[1])

    def resolve(self, target) -> int:
        """A click target -> model point index: an int is an index, a 3-vector a position."""
        if isinstance(target, (bool, np.bool_)):
            raise PromptError(f"click target {target!r} is neither a point index nor an (x, y, z) position")
        if isinstance(target, (int, np.integer)):
            if not 0 <= int(target) < self.shape.num_points:
                raise PromptError(f"click index {int(target)} is out of range for {self.shape.num_points} points")
            return int(target)
        return self.nearest_point(target)

    def point_from_pick(self, position=None, element: str | None = None, index: int | None = None) -> int:
        """Model point for a pick on the displayed shape.

        ``position`` (the picked surface point) is used when finite; otherwise the picked mesh
        face / vertex (``element`` "face"/"vertex" and its ``index``) or display point (``index``).
        """
        if position is not None and np.isfinite(np.asarray(position, dtype=np.float64)).all():
            return self.nearest_point(position)
        if index is None:
            raise PromptError("the pick has neither a position nor an element index")
        index = int(index)
        if self.shape.is_mesh:
            if element == "face" and 0 <= index < len(self.shape.faces):
                return self.nearest_point(self.face_centers[index])
            if element == "vertex" and 0 <= index < len(self.shape.vertices):
                return self.nearest_point(self.shape.vertices[index])
            raise PromptError(f"cannot click mesh element {element!r} {index}")
        if not 0 <= index < len(self.display_to_point):
            raise PromptError(f"picked point {index} is out of range")
        return int(self.display_to_point[index])

    def click(self, target, negative: bool = False, decode: bool = True) -> np.ndarray:
        """Add a click (point index or xyz position) and re-run the decoder. Returns the mask (N,).

        With ``decode=False`` the caller decodes later (the window does it on its worker thread).
        """
        self.state.add_click(self.resolve(target), not negative)
        return self.update() if decode else self.mask

    def click_face(self, face: int, negative: bool = False, decode: bool = True) -> np.ndarray:
        return self.click(self.point_from_pick(element="face", index=face), negative, decode)

    def click_vertex(self, vertex: int, negative: bool = False, decode: bool = True) -> np.ndarray:
        return self.click(self.point_from_pick(element="vertex", index=vertex), negative, decode)

    def set_scale(self, scale: float | None, decode: bool = True) -> np.ndarray:
        """Set the scale in [0, 1] (None = auto / no scale) and re-run only the decoder."""
        s = check_scale(scale)
        if s is None:
            self.state.use_scale = False
        else:
            self.state.use_scale, self.state.scale = True, s
        return self.update() if decode else self.mask

    def set_threshold(self, threshold: float) -> np.ndarray:
        """Probability threshold of the mask (no decode needed)."""
        t = float(threshold)
        if not 0.0 < t < 1.0:
            raise PromptError(f"threshold {t} must be in (0, 1)")
        self.state.threshold = t
        return self.mask

    # ------------------------------------------------------------------ decoding
    def prompt(self) -> Prompt | None:
        """The current prompt, or None without a positive click."""
        st = self.state
        pos = tuple(st.positive)
        return Prompt(pos, tuple(st.negative), st.effective_scale) if pos else None

    def decode(self, prompt: Prompt) -> tuple[Prompt, np.ndarray, float]:
        """Run the decoder for ``prompt`` (touches no state: safe on a worker thread).

        Returns (prompt, probabilities (N,) float32, seconds).
        """
        t = time.perf_counter()
        probs = self.predictor.predict(list(prompt.positive), list(prompt.negative), prompt.scale)
        if self.segmenter.mesh_aware and prompt.scale is not None:  # the click's surface distances, cached
            self.segmenter.distances_from(int(prompt.positive[0]))
        return prompt, probs, time.perf_counter() - t

    def apply_decoded(self, prompt: Prompt, probs: np.ndarray, seconds: float) -> bool:
        """Show a decode result unless the clicks changed meanwhile. True if it was applied."""
        now = self.prompt()
        if now is None or (now.positive, now.negative) != (prompt.positive, prompt.negative):
            return False
        self.state.probs = probs
        self.decode_seconds = seconds
        return True

    # ------------------------------------------------------------------ slider preview
    def sweep_next(self) -> float | None:
        """The next grid scale (``SWEEP_SCALES``) to decode for the current clicks, nearest the
        slider first; None when the sweep is complete or there is no prompt."""
        prompt = self.prompt()
        if prompt is None:
            return None
        key = (prompt.positive, prompt.negative)
        if key != self._sweep_clicks:
            self._sweep_clicks, self._sweep = key, {}
        todo = [g for g in SWEEP_SCALES if g not in self._sweep]
        if not todo:
            return None
        s = self.state.scale
        return min(todo, key=lambda g: abs(np.log(g) - np.log(max(s, 1e-4))))

    def decode_sweep(self, prompt: Prompt, scale: float) -> tuple[Prompt, float, np.ndarray]:
        """Logits (N,) of ``prompt``'s clicks at grid ``scale`` (touches no state: worker thread)."""
        return prompt, scale, self.predictor.predict_logits(list(prompt.positive), list(prompt.negative), scale)

    def add_sweep(self, prompt: Prompt, scale: float, logits: np.ndarray) -> bool:
        """Keep a grid decode for the preview (dropped if the clicks changed meanwhile)."""
        if (prompt.positive, prompt.negative) != self._sweep_clicks:
            return False
        self._sweep[float(scale)] = np.asarray(logits, np.float32)
        return True

    def preview(self, scale: float) -> np.ndarray | None:
        """Mask probabilities (N,) at ``scale`` interpolated (in log scale, on logits) between the two
        decoded grid scales around it; None when they are not both decoded yet. The exact decode
        replaces it as soon as the decoder is done."""
        prompt = self.prompt()
        if prompt is None or (prompt.positive, prompt.negative) != self._sweep_clicks:
            return None
        grid = sorted(self._sweep)
        s = float(scale)
        lo = [g for g in grid if g <= s]
        hi = [g for g in grid if g >= s]
        if not lo or not hi:
            return None
        a, b = lo[-1], hi[0]  # grid scales (the sweep holds nothing else)
        if b != a and SWEEP_SCALES.index(b) - SWEEP_SCALES.index(a) != 1:  # only between grid neighbours
            return None
        w = 0.0 if b == a else (np.log(s) - np.log(a)) / (np.log(b) - np.log(a))
        logits = (1.0 - w) * self._sweep[a] + w * self._sweep[b]
        return expit(logits).astype(np.float32)

    def update(self) -> np.ndarray:
        """Decode the current clicks now (decoder only). Returns the mask (N,)."""
        prompt = self.prompt()
        if prompt is None:
            self.state.probs = None
        else:
            self.apply_decoded(*self.decode(prompt))
        return self.mask

    def _after_history_change(self, decode: bool) -> None:
        if self.prompt() is None:
            self.state.probs = None
        elif decode:
            self.update()

    # ------------------------------------------------------------------ parts
    def accept_part(self, name: str | None = None, colour: Color | None = None) -> Part | None:
        """Accept the current mask as a part (clears the clicks). None when the mask is empty."""
        mask = self.mask
        if not mask.any():
            return None
        label = self.state.next_label()
        part = self.state.accept(mask, (name or "").strip() or f"part_{label}",
                                 colour if colour is not None else part_color(label))
        self.state.probs = None
        return part

    def delete_part(self, label: int) -> None:
        self.state.delete_part(label)

    def rename_part(self, label: int, name: str) -> Part:
        return self.state.update_part(label, name=name)

    def recolor_part(self, label: int, colour: Color, merge: bool = False) -> Part:
        """Change a part's colour; ``merge`` folds consecutive changes into one undo step."""
        return self.state.update_part(label, color=colour, merge=merge)

    def undo(self, decode: bool = True) -> bool:
        ok = self.state.undo()
        self._after_history_change(decode)
        return ok

    def redo(self, decode: bool = True) -> bool:
        ok = self.state.redo()
        self._after_history_change(decode)
        return ok

    def clear(self) -> bool:
        """Remove the clicks (and so the current mask). False when there were none."""
        ok = self.state.clear_clicks()
        self.state.probs = None
        return ok

    def reset(self) -> None:
        """Remove every part and click (undoable)."""
        self.state.reset()
        self.state.probs = None

    def compute_segment_all(self, scale: float | None, num_prompts: int = 64,
                            progress: ProgressFn | None = None) -> np.ndarray:
        """Labels (N,) of an automatic full segmentation at ``scale`` (touches no viewer state).

        The one call into ``ShapeSegmenter.segment_all`` (atoms, or points-only autoseg).
        """
        seg = self.segmenter.segment_all(scale, threshold=self.state.threshold, num_prompts=num_prompts,
                                         progress=progress)
        return np.asarray(seg.points)

    def apply_segment_all(self, labels: np.ndarray, keep_parts: bool = True) -> int:
        """Label the shape with ``labels`` (N,) in 0..K-1 (one undo step). Returns the number of new parts.

        With ``keep_parts`` (the default) the accepted parts stay as they are and only the
        unlabelled points are labelled: each automatic segment keeps its unlabelled points, and
        leftovers too small to be a part (fewer than ``default_min_points``) join the nearest new
        part. Without it every part is replaced."""
        labels = np.asarray(labels, np.int64)
        st = self.state
        if labels.shape != (st.num_points,):
            raise InputError(f"labels have shape {labels.shape}, expected ({st.num_points},)")
        free = st.labels < 0
        if not keep_parts or not st.parts:
            k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
            st.set_all(labels, [f"part_{i}" for i in range(k)], [part_color(i) for i in range(k)])
            st.probs = None
            return k
        if not free.any():
            return 0
        new = np.where(free, labels, -1)
        if free.any():
            from s2am3d_core.segment.autoseg import default_min_points
            ids, counts = np.unique(new[free], return_counts=True)
            small = ids[(counts < default_min_points(int(free.sum()), None)) | (ids < 0)]
            drop = free & np.isin(new, small)
            keep = free & ~drop
            if drop.any() and keep.any():  # leftovers join the nearest kept new part
                near = cKDTree(self.points[keep]).query(self.points[drop])[1]
                new[drop] = new[keep][near]
            elif drop.any():
                new[drop] = -1
        ids = [int(k) for k in np.unique(new) if k >= 0]
        lut = np.full(int(new.max()) + 2 if new.size else 1, -1, np.int64)
        # renumber by decreasing size among the new parts
        order = sorted(ids, key=lambda k: -int((new == k).sum()))
        lut[np.asarray(order, np.int64) + 1] = np.arange(len(order))
        first = st.next_label()
        st.add_parts(lut[new + 1], [f"part_{first + i}" for i in range(len(order))],
                     [part_color(first + i) for i in range(len(order))])
        st.probs = None
        return len(order)

    def segment_all(self, scale: float | None, num_prompts: int = 64, progress: ProgressFn | None = None,
                    keep_parts: bool = True) -> int:
        """Label the unlabelled points at the granularity ``scale`` (``keep_parts=False``: replace
        every part). Undoable. Returns the number of new parts."""
        return self.apply_segment_all(self.compute_segment_all(scale, num_prompts, progress), keep_parts)

    # ------------------------------------------------------------------ display
    def _palette(self) -> np.ndarray:
        """(max label + 2, 3) colours; row 0 is "unlabelled", row l + 1 part l."""
        parts = self.state.parts
        table = np.tile(np.asarray(UNLABELLED_COLOR, np.float32), (max((p.label for p in parts), default=-1) + 2, 1))
        for p in parts:
            table[p.label + 1] = p.color
        return table

    def faces_from_points(self, point_labels: np.ndarray) -> np.ndarray:
        """(F,) face labels from (N,) model point labels: majority vote of the samples on each face,
        the nearest sample for a face without any. "Unlabelled" (-1) votes like a part, so a partial
        labelling stays partial (the core's transfer fills every face from the labelled points)."""
        if not self.shape.is_mesh:
            raise PromptError("face labels need a mesh; this shape is a point cloud")
        if self.segmenter.mesh_aware and self.segmenter.atoms is not None:  # atoms: majority of their points
            return self.segmenter.face_labels(np.asarray(point_labels, np.int64))
        return faces_from_point_labels(len(self.shape.faces), self.shape.point_face,
                                       np.asarray(point_labels, np.int64) + 1, points=self.points,
                                       face_centers=self.face_centers) - 1

    def cloud_from_points(self, point_labels: np.ndarray) -> np.ndarray:
        """(M,) labels of every point of a point-cloud file: those of the nearest model point
        (unlabelled included, so a partial labelling stays partial)."""
        return np.asarray(point_labels, np.int64)[self.file_to_point]

    def face_labels(self) -> np.ndarray:
        """(F,) labels of the mesh faces from the accepted parts (:meth:`element_labels`)."""
        if not self.shape.is_mesh:
            raise PromptError("face labels need a mesh; this shape is a point cloud")
        return self.element_labels()

    def element_labels(self) -> np.ndarray:
        """Part label of every face (mesh) or of every point of the file (point cloud), -1 =
        unlabelled, from the model points' labels. An opened labelled file keeps its own labels
        where the user's edits do not reach: an element of a part left untouched (no point changed
        to or from it) keeps its label; one of a changed part follows the point labels where they
        now give another part than when the file was opened, and else keeps its label (unlabelled
        when its part was deleted). The points alone cannot say exactly which faces a part made by
        another tool, or by points-only masks, holds: opening such a file and exporting it again
        moved a quarter of the saw's faces to another part."""
        derived = self._shape_labels(self.state.labels)
        if self.state.current.imported is None:
            return derived
        elements, opened = self.state.current.imported
        now = self.state.labels
        if elements.shape != derived.shape or opened.shape != now.shape:
            return derived
        moved = now != opened
        touched = np.union1d(now[moved], opened[moved])
        alive = np.isin(elements, np.r_[-1, [p.label for p in self.state.parts]])  # its part still exists
        out = np.where(derived != self._shape_labels(opened), derived, np.where(alive, elements, -1))
        return np.where(alive & ~np.isin(elements, touched), elements, out)

    def base_colors(self) -> np.ndarray:
        """(M, 3) float32 colours of the displayed elements (faces or points) from the accepted parts
        (and, with them, :meth:`part_shares`). Cached until the parts change."""
        if self._base_key != self.state.revision or self._base_colors is None:
            palette = self._palette()
            if self.shape.is_mesh:
                index = self.face_labels() + 1
            else:
                index = self.element_labels()[self.display_index] + 1
            rows, table = index, palette
            if self.display_file_colors is not None:  # unlabelled points: a row of their own, their colour
                rows = np.where(index == 0, len(palette) + np.arange(len(index)), index)
                table = np.concatenate([palette, self.display_file_colors])
            highlight = (1.0 - MASK_BLEND) * table + MASK_BLEND * np.asarray(MASK_COLOR, np.float32)
            self._base_index = rows  # palette row of every displayed element
            self._base_palette = np.concatenate([table, highlight])  # then the rows blended towards the mask
            self._base_colors = table[rows]
            total = np.bincount(index, weights=self.face_areas if self.shape.is_mesh else None, minlength=len(palette))
            share = total / max(float(total.sum()), 1e-300)
            self._base_shares = {p.label: float(share[p.label + 1]) for p in self.state.parts}
            self._base_key = self.state.revision
        return self._base_colors

    def part_shares(self) -> dict[int, float]:
        """{label: share of the shape} of every accepted part, as the scale counts it: of the
        surface area on a mesh (the part's faces, as exported), of the file's points on a cloud."""
        self.base_colors()  # computes them when the parts changed, not on every frame
        return self._base_shares

    def display_probs(self) -> np.ndarray | None:
        """(M,) mask probability of each displayed element, or None without a mask."""
        probs = self.state.probs
        if probs is None:
            return None
        if not self.shape.is_mesh:
            return probs[self.display_to_point]
        sums = np.bincount(self.shape.point_face, weights=probs, minlength=len(self.face_counts))
        out = probs[self.face_to_point].astype(np.float32)
        has = self.face_counts > 0
        out[has] = sums[has] / self.face_counts[has]
        return out

    def display_mask(self) -> np.ndarray:
        """(M,) bool: displayed elements (faces, or points of a cloud) in the current mask."""
        n = len(self.shape.faces) if self.shape.is_mesh else len(self.display_points)
        m = self.current_mask()
        if m is None:
            return np.zeros(n, bool)
        if self.shape.is_mesh:
            return np.asarray(m.faces, bool)
        return m.points[self.display_to_point]

    def display_colors(self) -> np.ndarray:
        """(M, 3) float32 colours of the displayed elements: parts, with the live mask highlighted."""
        t = time.perf_counter()
        colors = self.base_colors()
        m = self.display_mask()
        if m.any():  # one gather from the small palette table (its second half is the highlight)
            colors = np.take(self._base_palette, self._base_index + (len(self._base_palette) // 2) * m, axis=0)
        self.color_seconds = time.perf_counter() - t
        return colors

    # ------------------------------------------------------------------ files
    def export_labels(self) -> tuple[np.ndarray, list[Part]]:
        """:meth:`element_labels` renumbered 0..K-1 in part-list order (-1 = unlabelled), and the parts."""
        parts = self.state.parts
        lut = np.full(max((p.label for p in parts), default=-1) + 2, -1, np.int64)
        for i, p in enumerate(parts):
            lut[p.label + 1] = i
        return lut[self.element_labels() + 1], parts

    def _parts_index(self, labels: np.ndarray, parts: list[Part], what: str) -> list[dict]:
        counts = np.bincount(labels[labels >= 0], minlength=len(parts))
        return [{"label": i, "name": p.name, "color": [round(c, 4) for c in p.color], f"n_{what}": int(counts[i])}
                for i, p in enumerate(parts)]

    def check_output(self, target: str | os.PathLike, folder: bool = False) -> Path:
        """The absolute path of an output, after checking it never touches the input.

        Raises:
            InputError: ``target`` is the opened file, lies inside an opened part folder, or (for
                an output ``folder``) is the input's own folder or a folder that is a file.
        """
        out = Path(target).expanduser().resolve()
        src = Path(self.shape.path).expanduser().resolve()
        if out == src:
            raise InputError(f"{out}: is the input file; outputs never replace the input, choose another name")
        if src.is_dir() and (src in out.parents):
            raise InputError(f"{out}: lies in the opened part folder {src}; write to another folder")
        if folder:
            if out.exists() and not out.is_dir():
                raise InputError(f"{out}: exists and is not a folder")
            if src.is_file() and out == src.parent:
                raise InputError(f"{out}: is the input's folder; write the parts into a folder of their own")
            if src.is_dir() and (out == src or out in src.parents):
                raise InputError(f"{out}: would mix with the opened part folder {src}")
        elif out.is_dir():
            raise InputError(f"{out}: is a folder; give a file name")
        else:  # also a hard link or symbolic link to the input, a device, an unwritable folder
            check_outputs({"input": self.shape.path}, files=[OutFile("output", out)])
        return out

    def export(self, out_path: str | os.PathLike) -> Path:
        """Write a labelled PLY of the accepted parts: per-face labels on a mesh, per-point labels on a
        point cloud (all of its points; -1 = unlabelled), in the input's own coordinates (up axis
        recorded). Part names and colours go to ``<out>.parts.json`` beside it. Never writes over the
        input (InputError). Returns the absolute PLY path."""
        out = self.check_output(out_path)
        self.check_output(out.with_suffix(".parts.json"))
        shape_labels, parts = self.export_labels()
        up = self.shape.up
        write_labelled(out, self.shape.vertices, self.shape.faces, shape_labels, up=up)
        index = self._parts_index(shape_labels, parts, "faces" if self.shape.is_mesh else "points")
        self._write_json(out.with_suffix(".parts.json"), {"source": str(self.shape.path), "file": out.name,
                                                          "up": up, "parts": index})
        return out

    def export_parts(self, out_dir: str | os.PathLike, fmt: str = "ply") -> list[Path]:
        """Write one file per accepted part into ``out_dir`` (meshes; labelled point PLYs for a point
        cloud) plus ``parts.json`` with names and colours. Never into the input's folder
        (InputError). Returns the absolute part file paths."""
        out = self.check_output(out_dir, folder=True)
        labels, parts = self.export_labels()
        if not parts:
            raise PromptError("no parts to export yet: accept a part (A) or segment all (S) first")
        # a re-export replaces the folder as a whole (only if it holds nothing but our part files)
        check_outputs({"shape": self.shape.path}, dirs=[OutDir("export parts", out)], overwrite=True)
        return write_parts(out, self.shape.vertices, self.shape.faces, labels, fmt=fmt,
                           up=self.shape.up, names=[(p.name, p.color) for p in parts], overwrite=True,
                           colors=self.shape.colors)

    def _shape_labels(self, labels: np.ndarray) -> np.ndarray:
        """Model point labels -> the exported labels: per face of a mesh, per point of a cloud."""
        return self.faces_from_points(labels) if self.shape.is_mesh else self.cloud_from_points(labels)

    @staticmethod
    def _write_json(path: Path, data: dict) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def save_session(self, path: str | os.PathLike) -> Path:
        """Save shape path, up axis, clicks, scale, threshold and parts (JSON, atomic). Returns the absolute path."""
        return self.state.save(self.check_output(path))

    def load_session(self, path: str | os.PathLike, decode: bool = True) -> None:
        """Restore a saved session (undoable). InputError for a bad or mismatched file."""
        self.state.load(path)
        self._after_history_change(decode)
