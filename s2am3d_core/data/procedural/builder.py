"""PartBuilder: collect primitive meshes tagged with a part path; derive nested label levels.

A part path is a tuple of names from coarse to fine, e.g. ("chassis", "wheel_fl", "bolt_3").
Level k (finest first) groups faces by the path prefix of length depth - k, so nesting holds by
construction. Short paths are padded by repeating their last name: a part with a short path is
its own group at every coarser level.
"""
from __future__ import annotations

import numpy as np
import trimesh

from ..types import PartMesh


def rot(axis: str | np.ndarray, angle: float) -> np.ndarray:
    """4x4 rotation about 'x'/'y'/'z' or a 3-vector."""
    vec = {"x": [1, 0, 0], "y": [0, 1, 0], "z": [0, 0, 1]}[axis] if isinstance(axis, str) else axis
    return trimesh.transformations.rotation_matrix(angle, vec)


def box(extents, center=(0, 0, 0), transform=None) -> trimesh.Trimesh:
    m = trimesh.creation.box(extents=extents)
    m.apply_translation(center)
    return m if transform is None else m.apply_transform(transform)


def cylinder(radius, height, center=(0, 0, 0), axis="z", sections=16) -> trimesh.Trimesh:
    """Cylinder whose axis is 'x', 'y', 'z' (centred at center)."""
    m = trimesh.creation.cylinder(radius=radius, height=height, sections=sections)
    if axis == "x":
        m.apply_transform(rot("y", np.pi / 2))
    elif axis == "y":
        m.apply_transform(rot("x", np.pi / 2))
    m.apply_translation(center)
    return m


def segment(a, b, radius, sections=10) -> trimesh.Trimesh:
    """Cylinder from point a to point b."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return trimesh.creation.cylinder(radius=radius, segment=np.stack([a, b]), sections=sections)


def sphere(radius, center=(0, 0, 0), subdivisions=2) -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    m.apply_translation(center)
    return m


def cone(radius, height, center=(0, 0, 0), flip=False, sections=16) -> trimesh.Trimesh:
    m = trimesh.creation.cone(radius=radius, height=height, sections=sections)
    if flip:
        m.apply_transform(rot("x", np.pi))
    m.apply_translation(center)
    return m


def torus(major, minor, center=(0, 0, 0), axis="z", sections=20) -> trimesh.Trimesh:
    m = trimesh.creation.torus(major_radius=major, minor_radius=minor, major_sections=sections, minor_sections=8)
    if axis == "x":
        m.apply_transform(rot("y", np.pi / 2))
    elif axis == "y":
        m.apply_transform(rot("x", np.pi / 2))
    m.apply_translation(center)
    return m


class PartBuilder:
    """Accumulates (mesh, path) pairs and builds a PartMesh with nested levels."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.items: list[tuple[trimesh.Trimesh, tuple[str, ...]]] = []

    def add(self, mesh: trimesh.Trimesh, *path: str) -> None:
        if not path:
            raise ValueError("a part needs a path")
        self.items.append((mesh, tuple(path)))

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def integer(self, lo: int, hi: int) -> int:
        """Random int in [lo, hi] inclusive."""
        return int(self.rng.integers(lo, hi + 1))

    def build(self, name: str, category: str, noise: float = 0.0) -> PartMesh:
        depth = max(len(p) for _, p in self.items)
        paths = [p + (p[-1],) * (depth - len(p)) for _, p in self.items]
        verts, faces, owner = [], [], []
        offset = 0
        for i, (mesh, _) in enumerate(self.items):
            verts.append(np.asarray(mesh.vertices, np.float64))
            faces.append(np.asarray(mesh.faces, np.int64) + offset)
            owner.append(np.full(len(mesh.faces), i))
            offset += len(mesh.vertices)
        v = np.concatenate(verts)
        f = np.concatenate(faces)
        owner = np.concatenate(owner)
        levels, names = [], []
        for k in range(depth):
            keys = [p[: depth - k] for p in paths]
            uniq = {key: j for j, key in enumerate(dict.fromkeys(keys))}
            item_label = np.array([uniq[key] for key in keys])
            lab = item_label[owner]
            if levels and np.array_equal(_canon(lab), _canon(levels[-1])):
                continue
            if len(uniq) == 1:  # whole object: not stored
                continue
            levels.append(lab)
            names.append({j: "/".join(key) for key, j in uniq.items()})
        # random pose about the up axis (z), random overall scale
        t = rot("z", self.uniform(0, 2 * np.pi))
        v = trimesh.transform_points(v, t) * self.uniform(0.5, 2.0)
        if noise > 0:
            v = v + self.rng.normal(0, noise, v.shape)
        return PartMesh(vertices=v.astype(np.float32), faces=f, face_labels=np.stack(levels).astype(np.int64),
                        name=name, category=category, part_names=names)


def _canon(lab: np.ndarray) -> np.ndarray:
    """Relabel by order of first appearance, so equal partitions compare equal."""
    _, first_idx, inv = np.unique(lab, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first_idx))[inv]
