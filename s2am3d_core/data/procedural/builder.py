"""PartBuilder: collect primitive meshes tagged with a part path; derive nested label levels.

A part path is a tuple of names from coarse to fine, e.g. ``("chassis", "axle_0", "wheel_1", "hub", "bolt_3")``.
With ``D`` the longest path depth, level ``k`` (finest first) groups faces by the path prefix of
length ``D - k``, so every coarser part is a union of finer ones *by construction*. A path shorter
than ``D`` is padded by repeating its last name: such a part (e.g. ``("seat", "board")`` next to
``("base", "legs", "leg_0", "glide")``) stays a single part at all the finer levels and joins its
ancestors' groups at the coarser ones. Several meshes added with the same path form one part.

A level whose partition equals the next finer one is dropped (no duplicate levels), and so is a
level with a single group (the whole object is never stored).

Usage::

    b = PartBuilder(rng)
    with b.group("chassis"), b.group("wheel_0", T=tf(at=(1, 0.8, 0.3), rx=-pi / 2)):
        b.add(torus(0.3, 0.1), "tyre")      # path ("chassis", "wheel_0", "tyre"), placed by the group transforms
    pm = b.build("car_000001", "car")
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..types import PartMesh
from . import geom
from .geom import Mesh


class PartBuilder:
    """Accumulates (mesh, path) pairs under nested named groups with transforms; builds a PartMesh."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.items: list[tuple[np.ndarray, np.ndarray, tuple[str, ...]]] = []
        self._seamed: set[int] = set()  # items cut from one continuous mesh (kept noise-free, welded)
        self._names: list[str] = []
        self._tfs: list[np.ndarray] = [np.eye(4)]

    # ------------------------------------------------------------------ random helpers
    def u(self, lo: float, hi: float) -> float:
        """Uniform float in [lo, hi)."""
        return float(self.rng.uniform(lo, hi))

    def i(self, lo: int, hi: int) -> int:
        """Uniform int in [lo, hi] (inclusive)."""
        return int(self.rng.integers(lo, hi + 1))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def jitter(self, degrees: float = 2.0) -> float:
        """Small random angle in radians, uniform in +-degrees."""
        return float(np.deg2rad(self.rng.uniform(-degrees, degrees)))

    def wobble(self, degrees: float = 2.0, at=(0.0, 0.0, 0.0)) -> np.ndarray:
        """Transform: small random rotation about all three axes, then translation to ``at``."""
        return geom.tf(at, self.jitter(degrees), self.jitter(degrees), self.jitter(degrees))

    # ------------------------------------------------------------------ assembly
    @contextmanager
    def group(self, *names: str, T: np.ndarray | None = None):
        """Nest the following parts under ``names`` (may be empty) and the local transform ``T``."""
        self._names.extend(names)
        self._tfs.append(self._tfs[-1] if T is None else self._tfs[-1] @ T)
        try:
            yield self
        finally:
            del self._names[len(self._names) - len(names):]
            self._tfs.pop()

    def add(self, mesh: Mesh, *names: str) -> None:
        """Add a mesh (in the current group frame) as part ``group path + names``."""
        path = tuple(self._names) + names
        if not path:
            raise ValueError("a part needs a path (add names or open a group)")
        v, f = geom.transform(mesh, self._tfs[-1])
        self.items.append((v, np.asarray(f, np.int64), path))

    def add_split(self, mesh: Mesh, face_part: np.ndarray, names: list[str | tuple[str, ...]]) -> None:
        """Add ONE continuous mesh whose faces belong to several parts: face ``i`` to ``names[face_part[i]]``.

        The parts share the mesh's vertices along their borders (welded in :meth:`build`), so the
        object has one connected piece spanning several parts, as in welded CAD or a scan.
        """
        v, f = mesh
        face_part = np.asarray(face_part)
        for k, nm in enumerate(names):
            sel = face_part == k
            if sel.any():
                self._seamed.add(len(self.items))
                self.add((v, np.asarray(f)[sel]), *((nm,) if isinstance(nm, str) else nm))

    # ------------------------------------------------------------------ output
    def build(self, name: str, category: str, target_faces: int = 2500, max_faces: int = 20000,
              noise: float = 0.0, scale: float = 1.0, yaw: float = 0.0, weld: float = 0.0) -> PartMesh:
        """Concatenate the parts, derive the nested label levels, pose and return a PartMesh.

        Parts whose triangles are much larger than ``total_area / target_faces`` are subdivided
        (1-to-4, at most 3 times, never beyond ``max_faces``) so faces are of comparable size.
        ``noise`` is the std of Gaussian vertex noise relative to each part's bounding-box diagonal
        (not for parts of :meth:`add_split`, whose borders must stay shared). Vertices at the same
        position are merged (parts of one continuous mesh become one connected piece); with ``weld``
        > 0, touching parts are welded too: every vertex closer than ``weld`` x the object's
        diagonal to a vertex of another part is snapped onto it, so pieces != parts.
        ``scale`` and ``yaw`` (rotation about z) are applied last.
        """
        if not self.items:
            raise ValueError("no parts were added")
        meshes = [(v, f) for v, f, _ in self.items]
        meshes = _equalise(meshes, target_faces, max_faces)
        if noise > 0:  # relative to each part's own size, so screws keep their shape
            meshes = [(v + self.rng.normal(0.0, noise * float(np.linalg.norm(v.max(0) - v.min(0))), v.shape), f)
                      if k not in self._seamed else (v, f) for k, (v, f) in enumerate(meshes)]
        paths = [p for _, _, p in self.items]
        v, f = geom.merge(*meshes)
        owner = np.repeat(np.arange(len(meshes)), [len(m[1]) for m in meshes])
        v, f, keep = weld_vertices(v, f, owner, weld)
        f, owner = f[keep], owner[keep]
        labels, names = derive_levels(paths)
        face_labels = labels[:, owner]
        v = geom.transform((v, f), geom.tf(rz=yaw))[0] * scale
        return PartMesh(vertices=v.astype(np.float32), faces=f.astype(np.int64),
                        face_labels=face_labels.astype(np.int64), name=name, category=category,
                        part_names=names)


def weld_vertices(v: np.ndarray, f: np.ndarray, face_owner: np.ndarray,
                  weld: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge vertices at the same position; with ``weld`` > 0 also snap a vertex onto a vertex of
    another part closer than ``weld`` x the bounding-box diagonal and 10 % of the smaller part's
    diagonal, never merging two vertices of one part (no face collapses). Unused vertices are dropped.

    Returns:
        (vertices, faces, keep (F,) bool: False for faces that became degenerate).
    """
    key = np.round(v / max(float(np.abs(v).max()), 1e-12), 9)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    target = first[inv.reshape(-1)]  # every vertex -> the first vertex at its position
    if weld > 0:
        from scipy.spatial import cKDTree

        vowner = np.full(len(v), -1)
        vowner[f.reshape(-1)] = np.repeat(face_owner, 3)
        r = weld * float(np.linalg.norm(v.max(0) - v.min(0)))
        n_own = int(face_owner.max()) + 1
        lo = np.full((n_own, 3), np.inf)
        hi = np.full((n_own, 3), -np.inf)
        ok = vowner >= 0
        np.minimum.at(lo, vowner[ok], v[ok])
        np.maximum.at(hi, vowner[ok], v[ok])
        size = np.linalg.norm(hi - lo, axis=1)
        pairs = cKDTree(v).query_pairs(r, output_type="ndarray")
        pairs = pairs[(vowner[pairs[:, 0]] != vowner[pairs[:, 1]]) & (vowner[pairs] >= 0).all(1)]
        d = np.linalg.norm(v[pairs[:, 0]] - v[pairs[:, 1]], axis=1)
        pairs = pairs[d < 0.1 * np.minimum(size[vowner[pairs[:, 0]]], size[vowner[pairs[:, 1]]])]
        members: dict[int, set[int]] = {}
        for i in np.unique(pairs):
            members.setdefault(int(target[i]), set()).add(int(vowner[i]))
        for a, b in pairs[np.argsort(np.linalg.norm(v[pairs[:, 0]] - v[pairs[:, 1]], axis=1))]:
            ra, rb = int(target[a]), int(target[b])
            while target[ra] != ra:
                ra = int(target[ra])
            while target[rb] != rb:
                rb = int(target[rb])
            # b's cluster joins a's, unless that would merge two vertices of one part (a face could collapse)
            if ra != rb and not (members[ra] & members[rb]):
                target[rb] = ra
                members[ra] |= members.pop(rb)
        for _ in range(8):  # flatten chains
            target = target[target]
    f = target[f]
    keep = (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])
    used = np.unique(f)
    remap = np.full(len(v), -1)
    remap[used] = np.arange(len(used))
    return v[used], remap[f], keep


def derive_levels(paths: list[tuple[str, ...]]) -> tuple[np.ndarray, list[dict[int, str]]]:
    """Per-item label stack (L, n_items), finest first, and per-level {id: name} from part paths.

    Level k groups items by the prefix of length D - k of their padded path (D = longest depth).
    Ids are consecutive in order of first appearance. Duplicate and single-group levels are dropped.
    """
    depth = max(len(p) for p in paths)
    padded = [p + (p[-1],) * (depth - len(p)) for p in paths]
    levels: list[np.ndarray] = []
    names: list[dict[int, str]] = []
    for k in range(depth):
        n = depth - k
        keys = [p[:n] for p in padded]
        ids: dict[tuple[str, ...], int] = {}
        for key in keys:
            ids.setdefault(key, len(ids))
        lab = np.array([ids[key] for key in keys], np.int64)
        if len(ids) < 2 or (levels and _same_partition(lab, levels[-1])):
            continue
        levels.append(lab)
        # readable name: the real (unpadded) path up to this depth
        level_names = {}
        for key, p in zip(keys, paths):
            level_names.setdefault(ids[key], "/".join(p[:n]))
        names.append(level_names)
    if not levels:
        raise ValueError("the parts form a single group; nothing to label")
    return np.stack(levels), names


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when labels a and b (ids by first appearance) describe the same grouping."""
    return len(np.unique(a)) == len(np.unique(b)) == np.unique(np.stack([a, b]), axis=1).shape[1]


def _equalise(meshes: list[Mesh], target_faces: int, max_faces: int) -> list[Mesh]:
    """Subdivide parts with oversized triangles (largest first) within the face budget."""
    areas = [geom.face_areas(m).sum() for m in meshes]
    thresh = 4.0 * sum(areas) / max(target_faces, 1)
    total = sum(len(m[1]) for m in meshes)
    out = list(meshes)
    for _ in range(3):
        order = np.argsort([-a / len(m[1]) for a, m in zip(areas, out)])
        changed = False
        for j in order:
            n = len(out[j][1])
            if areas[j] / n <= thresh or total + 3 * n > max_faces:
                continue
            out[j] = geom.subdivide(out[j])
            total += 3 * n
            changed = True
        if not changed:
            break
    return out
