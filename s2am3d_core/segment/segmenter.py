"""ShapeSegmenter: the one path from a shape and clicks to part masks on its faces or points.

Used by the Python API, ``s2am3d-segment``, the viewer and ``s2am3d-eval``::

    seg = ShapeSegmenter(PartPredictor.from_pretrained())
    seg.set_shape(vertices, faces)                 # sample, encode once, atoms (cached)
    mask = seg.predict([seg.nearest_point(xyz)], scale=0.05)
    mask.faces                                     # (F,) bool, follows atom boundaries exactly

``set_shape`` samples points on the surface, runs the encoder once (``PartPredictor``, cached in
memory and on disk) and computes the atoms (:mod:`.atoms`, cached in memory per shape). Every
``predict`` re-runs only the decoder and the atom selection (:mod:`.select`). With
``mesh_aware=False`` (``--points-only``) masks are the decoder's thresholded point probabilities,
mapped to faces by the nearest sampled point.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.spatial import cKDTree

from ..errors import InputError, PromptError
from ..io.labels import faces_from_point_labels
from ..io.sample import DEFAULT_POINTS, sample_surface, subset_indices
from .atom_cache import ATOMS_FORMAT, AtomCache
from .atoms import DEFAULT_CREASE_DEG, DEFAULT_MIN_ATOM_AREA, Atoms, cloud_atoms, mesh_atoms
from .autoseg import relabel_by_size, segment_all as segment_points, tree_from_levels
from .everything import atom_cover
from .geodesic import SurfaceDistance
from ..scale import check_scale
from .select import atom_scores, select_with_scale, select_without_scale

CLICKED_REGION_NOTE = 1.5  # tools say so when the clicked region alone is this many times the scale

ProgressFn = Callable[[float, str], None]


@dataclass
class Segmentation:
    """A full labelling of the shape at one granularity.

    Attributes:
        points: (N,) int64 part label of every sampled point, 0..K-1 (0 = largest part).
        faces: (F,) int64 part label of every face, or None for a point cloud.
        scale: the granularity asked for (None = no scale).
    """

    points: np.ndarray
    faces: np.ndarray | None
    scale: float | None

    @property
    def num_parts(self) -> int:
        return int(self.points.max()) + 1 if len(self.points) else 0


@dataclass
class Mask:
    """One part mask.

    Attributes:
        points: (N,) bool over the sampled points.
        faces: (F,) bool over the mesh faces, or None for a point cloud.
        probs: (N,) float32 decoder probabilities the mask was made from.
        atoms: (A,) bool selected atoms (mesh-aware mode), or None (points-only).
        fraction: the mask's size as a fraction of the shape (surface area for meshes in
            mesh-aware mode, points otherwise) — compare with the requested scale.
    """

    points: np.ndarray
    faces: np.ndarray | None
    probs: np.ndarray
    atoms: np.ndarray | None
    fraction: float


class ShapeSegmenter:
    """Interactive and automatic part segmentation of one shape at a time.

    Args:
        predictor: a :class:`~s2am3d_core.predictor.PartPredictor`.
        mesh_aware: build masks from atoms (default); False = points-only masks.
        crease_deg: dihedral angle that separates atoms on meshes (and normals on point clouds).
        min_atom_area: atoms below this fraction of the surface merge into a touching neighbour.
        memory_slots: shapes whose atoms are kept in memory.
        atom_cache: an :class:`~.atom_cache.AtomCache` for mesh atoms on disk, or None (default:
            beside the predictor's feature cache, none when the predictor has none).
    """

    def __init__(self, predictor, mesh_aware: bool = True, crease_deg: float = DEFAULT_CREASE_DEG,
                 min_atom_area: float = DEFAULT_MIN_ATOM_AREA, memory_slots: int = 4,
                 atom_cache: AtomCache | None | bool = True):
        self.predictor = predictor
        if atom_cache is True:
            atom_cache = AtomCache.beside(predictor.cache) if predictor.cache is not None else None
        self.atom_cache: AtomCache | None = atom_cache or None
        self.mesh_aware = bool(mesh_aware)
        self.crease_deg = float(crease_deg)
        self.min_atom_area = float(min_atom_area)
        self._memory: OrderedDict[str, tuple[Atoms, SurfaceDistance]] = OrderedDict()
        self._memory_slots = memory_slots
        self.vertices: np.ndarray | None = None
        self.faces: np.ndarray | None = None
        self.points: np.ndarray | None = None
        self.face_index: np.ndarray | None = None
        self.atoms: Atoms | None = None
        self.distance: SurfaceDistance | None = None
        self._tree: cKDTree | None = None
        self._representative: np.ndarray | None = None
        self._source: np.ndarray | None = None  # Atoms.label_sources of the current shape
        self._distance_cache: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None
        self._face_centers: np.ndarray | None = None

    # ------------------------------------------------------------------ shape
    @property
    def is_shape_set(self) -> bool:
        return self.points is not None and self.predictor.is_shape_set

    @property
    def is_mesh(self) -> bool:
        return self.faces is not None

    @property
    def num_points(self) -> int:
        return 0 if self.points is None else len(self.points)

    def set_shape(self, vertices: np.ndarray, faces: np.ndarray | None = None, num_points: int = DEFAULT_POINTS,
                  seed: int = 0, points: np.ndarray | None = None, face_index: np.ndarray | None = None,
                  progress: ProgressFn | None = None) -> None:
        """Sample, encode and compute atoms for a mesh (vertices (V,3), faces (F,3)) or a point
        cloud (``faces`` None; vertices are the points).

        Args:
            num_points: points sampled on a mesh (a larger cloud is subsampled to it).
            points, face_index: already sampled points (N, 3) and, for meshes, their faces (N,);
                when given, no sampling is done (evaluation uses this).
        """
        report = progress or (lambda frac, msg: None)
        verts = np.asarray(vertices, dtype=np.float32)
        if faces is not None:
            faces = np.asarray(faces, dtype=np.int64)
            if len(faces) == 0:
                faces = None  # a mesh without faces is a point cloud
        if points is None:
            report(0.0, "sampling points")
            if faces is not None:
                points, face_index = sample_surface(verts, faces, int(num_points), seed=seed)
            else:
                points, face_index = _subsample(verts, int(num_points), seed), None
        points = np.asarray(points, dtype=np.float32)
        if faces is not None and face_index is None:
            raise InputError("set_shape: face_index is required with sampled points of a mesh")
        self.predictor.set_shape(points, progress=lambda f, m: report(0.05 + 0.6 * f, m))
        self.vertices, self.faces = verts, faces
        self.points = points
        self.face_index = None if face_index is None else np.asarray(face_index, dtype=np.int64)
        self._tree = cKDTree(points)
        self._distance_cache = None
        self._face_centers = None
        self.atoms = self.distance = None
        if self.mesh_aware:
            report(0.7, "computing atoms and surface distance")
            self.atoms, self.distance = self._atoms_for(verts, faces, points, self.face_index)
            gap, representative = self._tree.query(self.atoms.centroid)
            self._representative = np.asarray(representative, dtype=np.int64)
            self._source = self.atoms.label_sources(gap, self._representative)
        report(1.0, "ready")

    def _atoms_for(self, verts, faces, points, face_index) -> tuple[Atoms, SurfaceDistance]:
        h = hashlib.blake2b(digest_size=16)
        for arr in (verts, faces if faces is not None else np.zeros(0), points,
                    face_index if face_index is not None else np.zeros(0)):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(f"{ATOMS_FORMAT}:{self.crease_deg}:{self.min_atom_area}".encode())
        key = h.hexdigest()
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        if faces is not None:
            atoms = None if self.atom_cache is None else self.atom_cache.get(key, len(points), len(faces), len(verts))
            if atoms is None:
                atoms = mesh_atoms(verts, faces, face_index, points, self.crease_deg, self.min_atom_area)
                if self.atom_cache is not None:
                    self.atom_cache.put(key, atoms)
        else:
            atoms = cloud_atoms(points, crease_deg=self.crease_deg, min_area=self.min_atom_area)
        distance = SurfaceDistance(atoms, points, verts if faces is not None else None, faces)
        distance.prepare()
        entry = (atoms, distance)
        self._memory[key] = entry
        while len(self._memory) > self._memory_slots:
            self._memory.popitem(last=False)
        return entry

    def _require_shape(self) -> None:
        if not self.is_shape_set:
            raise PromptError("no shape is set: call set_shape(...) before predict(...)")

    def nearest_point(self, xyz: Sequence[float]) -> int:
        """Index of the sampled point nearest to ``xyz`` (the shape's coordinates)."""
        self._require_shape()
        return int(self._tree.query(np.asarray(xyz, dtype=np.float64))[1])

    # ---------------------------------------------------------------- prompts
    def distances_from(self, index: int) -> np.ndarray:
        """(A,) surface distance of every atom from sampled point ``index`` (cached per click)."""
        return self._spans_from(index)[0]

    def reach_from(self, index: int) -> np.ndarray:
        """(A,) how far every atom reaches from sampled point ``index``
        (:meth:`.SurfaceDistance.near_and_reach`; cached per click, with :meth:`distances_from`)."""
        return self._spans_from(index)[1]

    def _spans_from(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self._distance_cache is None or self._distance_cache[0] != int(index):
            self._distance_cache = (int(index), self.distance.near_and_reach(int(index)))
        return self._distance_cache[1]

    def predict(self, positive: Sequence[int] | int, negative: Sequence[int] = (), scale: float | None = None,
                threshold: float = 0.5) -> Mask:
        """The part under the clicks.

        Args:
            positive: sampled-point index (or indices) inside the wanted part.
            negative: sampled-point indices that must stay outside it.
            scale: the part's fraction of the shape in [0, 1]; None = no scale.
            threshold: probability threshold (points-only masks; atom scores without a scale).
        """
        self._require_shape()
        pos = [positive] if isinstance(positive, (int, np.integer)) else list(positive)
        neg = list(negative)
        scale = check_scale(scale)
        probs = self.predictor.predict(pos, neg, scale=scale)
        return self.mask_from_probs(probs, pos, neg, scale, threshold)

    def mask_from_probs(self, probs: np.ndarray, positive: Sequence[int], negative: Sequence[int] = (),
                        scale: float | None = None, threshold: float = 0.5) -> Mask:
        """A :class:`Mask` from decoder probabilities (N,) and the prompt that produced them."""
        probs = np.asarray(probs, dtype=np.float32)
        if not self.mesh_aware:
            pts = (probs > threshold) & ~self.negative_region(positive, negative)
            return Mask(points=pts, faces=self._faces_from_points(pts), probs=probs, atoms=None,
                        fraction=float(pts.mean()))
        a = self.atoms
        clicked = np.asarray(list(dict.fromkeys(a.point_atom[np.asarray(positive, dtype=np.int64)].tolist())),
                             dtype=np.int64)  # in click order: the growth starts from the first click
        blocked = negative_atoms(a, clicked, a.point_atom[np.asarray(negative, dtype=np.int64)])
        clicked = clicked[~blocked[clicked]]
        score = self.atom_scores(probs)
        if scale is None:
            sel = select_without_scale(a, clicked, blocked, score, threshold)
        else:
            dist, reach = self._spans_from(int(positive[0]))
            if blocked.any():  # a negative click removes its region from the mask at this scale
                before = select_with_scale(a, clicked, np.zeros_like(blocked), score, dist, scale, reach=reach)
                scale = max(0.0, scale - float(a.area[before & blocked].sum()))
            sel = select_with_scale(a, clicked, blocked, score, dist, scale, reach=reach)
        return self._mask_from_atoms(sel, probs)

    def clicked_fraction(self, positive: Sequence[int]) -> float | None:
        """Share of the shape of the atoms under the ``positive`` clicks, which every mask with a
        scale holds: the smallest mask the scale slider can give there (the viewer and
        ``s2am3d-segment`` say so above ``CLICKED_REGION_NOTE`` times the scale). None in
        points-only mode or without a click."""
        self._require_shape()
        if not self.mesh_aware or self.atoms is None or not len(positive):
            return None
        a = self.atoms
        return float(a.area[np.unique(a.point_atom[np.asarray(list(positive), dtype=np.int64)])].sum())

    def clicked_region_note(self, positive: Sequence[int], scale: float | None) -> float | None:
        """:meth:`clicked_fraction` when it is more than ``CLICKED_REGION_NOTE`` times ``scale`` (a
        mask at this scale cannot be as small as asked: the viewer's scale line and
        ``s2am3d-segment``'s summary say so), else None (also without a scale)."""
        floor = None if scale is None else self.clicked_fraction(positive)
        return floor if floor is not None and floor > CLICKED_REGION_NOTE * scale else None

    def atom_scores(self, probs: np.ndarray) -> np.ndarray:
        """(A,) decoder score of every atom: the mean probability of its sampled points (an atom
        without points takes its representative point's, the sampled point nearest its centroid)."""
        self._require_shape()
        if self.atoms is None:
            raise PromptError("atom_scores: this segmenter is points-only (mesh_aware=False): it has no atoms")
        return atom_scores(self.atoms, probs, self._representative)

    def negative_region(self, positive: Sequence[int], negative: Sequence[int]) -> np.ndarray:
        """(N,) bool points a points-only mask excludes: those nearer to a negative click than to
        every positive click (a hard exclusion around each negative click, on top of the decoder)."""
        out = np.zeros(self.num_points, dtype=bool)
        if len(negative) == 0:
            return out
        pts = self.points
        d_pos = np.min([np.linalg.norm(pts - pts[int(i)], axis=1) for i in positive], axis=0)
        d_neg = np.min([np.linalg.norm(pts - pts[int(j)], axis=1) for j in negative], axis=0)
        return d_neg < d_pos

    def _mask_from_atoms(self, sel: np.ndarray, probs: np.ndarray) -> Mask:
        a = self.atoms
        sel = sel[self._source]  # atoms without points follow their source, as accepted labels will
        faces = None if a.face_atom is None else sel[a.face_atom]
        return Mask(points=sel[a.point_atom], faces=faces, probs=probs, atoms=sel,
                    fraction=float(a.area[sel].sum()))

    def _faces_from_points(self, point_mask: np.ndarray) -> np.ndarray | None:
        if self.faces is None:
            return None
        return self._faces_by_nearest_point(point_mask.astype(np.int64)) > 0

    def _faces_by_nearest_point(self, point_labels: np.ndarray) -> np.ndarray:
        """(F,) labels of the points on each face (majority), else of the point nearest its centre."""
        if self._face_centers is None:  # once per shape, not on every slider move
            self._face_centers = self.vertices[self.faces].mean(axis=1)
        return faces_from_point_labels(len(self.faces), self.face_index, point_labels, self.points,
                                       self._face_centers)

    # ------------------------------------------------------ segment everything
    def own_points(self) -> np.ndarray:
        """(A,) for every atom its sampled point nearest its centroid, or -1 when it has none."""
        a = self.atoms
        d = np.linalg.norm(self.points - a.centroid[a.point_atom], axis=1)
        order = np.lexsort((d, a.point_atom))
        first = np.r_[True, a.point_atom[order][1:] != a.point_atom[order][:-1]]
        own = np.full(a.num_atoms, -1, dtype=np.int64)
        own[a.point_atom[order][first]] = order[first]
        return own

    def segment_all(self, scale: float | None, threshold: float = 0.5, num_prompts: int = 64, seed: int = 0,
                    progress: ProgressFn | None = None) -> Segmentation:
        """Label the whole shape at the granularity ``scale`` (a part's fraction of the shape).

        Mesh-aware on a mesh: :func:`.everything.atom_cover` (every face gets exactly one label).
        Points-only: :func:`.autoseg.segment_all` with ``num_prompts`` FPS prompts; mesh-aware on a
        point cloud: the same, each atom then taking the majority label of its points (covering a
        cloud's small atoms as a mesh's pieces are covered made thousands of parts: on 40
        procedural objects sampled as clouds 13.1 mIoU against 34.2 for the point-level labels).
        """
        self._require_shape()
        scale = check_scale(scale)
        a = self.atoms
        if self.mesh_aware and a.face_atom is not None:
            atom_lab = atom_cover(self, scale, threshold, num_prompts, progress=progress)
            return Segmentation(points=atom_lab[a.point_atom], faces=atom_lab[a.face_atom], scale=scale)
        lab = segment_points(self.predictor, scale, num_prompts=num_prompts, threshold=threshold, seed=seed,
                             progress=progress)
        if self.mesh_aware:  # a label outvoted in every atom it touches is gone: numbered 0..K-1 again
            lab = relabel_by_size(self.atom_labels(lab)[a.point_atom])
        return Segmentation(points=lab, faces=self.face_labels(lab), scale=scale)

    def part_tree(self, scales=(0.02, 0.08, 0.25, 0.6), threshold: float = 0.5, num_prompts: int = 64,
                  seed: int = 0, progress: ProgressFn | None = None) -> dict:
        """A hierarchical part tree: one :meth:`segment_all` per scale, finer parts nested in coarser
        ones (see :func:`.autoseg.tree_from_levels`; ``num_points`` counts sampled points)."""
        self._require_shape()
        scales = sorted(check_scale(s) for s in scales)
        if not scales:
            raise PromptError("part_tree needs at least one scale")
        report = progress or (lambda frac, msg: None)
        levels = []
        for li, s in enumerate(scales):
            def sub(frac, msg, li=li, s=s):
                report((li + frac) / len(scales), f"scale {s:g}: {msg}")
            levels.append(self.segment_all(s, threshold, num_prompts, seed, progress=sub).points)
        return tree_from_levels(levels, scales)

    # --------------------------------------------------------- labels to geometry
    def face_labels(self, point_labels: np.ndarray) -> np.ndarray | None:
        """(F,) face labels from per-point labels: through atoms (mesh-aware; each atom takes the
        majority label of its points) or the nearest sampled point (points-only)."""
        if self.faces is None:
            return None
        if self.mesh_aware:
            return self.atom_labels(point_labels)[self.atoms.face_atom]
        return self._faces_by_nearest_point(point_labels)

    @property
    def label_source(self) -> np.ndarray:
        """(A,) the atom whose label each atom takes (:meth:`.Atoms.label_sources`): itself when it
        holds sampled points. Masks and segmentations obey it, so point labels give back their faces."""
        self._require_shape()
        if self._source is None:
            raise PromptError("label_source: this segmenter is points-only (mesh_aware=False): it has no atoms")
        return self._source

    def atom_labels(self, point_labels: np.ndarray) -> np.ndarray:
        """(A,) majority label of each atom's points; an atom without points takes the label of its
        :attr:`label_source` (a touching atom's, or for a piece without points the atom of the
        sampled point nearest to it). A mask or segmentation, kept as point labels, gives back
        exactly its faces (``scripts/viewer_fidelity.py``: on the engine an accepted mask changed 245
        of its 6820 faces, mean of 30 clicks, when every atom without points took the label of the
        sampled point nearest its centroid; 0 now)."""
        lab = np.asarray(point_labels, dtype=np.int64)
        a = self.atoms
        base = lab.min() if len(lab) else 0
        k = int(lab.max() - base + 1) if len(lab) else 1
        counts = np.zeros((a.num_atoms, k))
        np.add.at(counts, (a.point_atom, lab - base), 1.0)
        out = counts.argmax(1) + base
        return out[self._source].astype(np.int64)


def negative_atoms(atoms: Atoms, clicked: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """(A,) bool atoms a negative click removes: its own atom, and its whole connected piece when no
    positive click lies on that piece (other pieces join a mask as whole units)."""
    blocked = np.zeros(atoms.num_atoms, dtype=bool)
    if len(negative) == 0:
        return blocked
    blocked[negative] = True
    positive_pieces = atoms.piece[np.asarray(clicked, dtype=np.int64)]
    other = atoms.piece[negative][~np.isin(atoms.piece[negative], positive_pieces)]
    blocked |= np.isin(atoms.piece, other)
    return blocked


def _subsample(points: np.ndarray, n: int, seed: int) -> np.ndarray:
    return points[subset_indices(len(points), n, np.random.default_rng(seed))]
