"""Tiny labelled objects built from trimesh primitives (tests, and a fallback training set).

Much simpler than :mod:`s2am3d_core.data.procedural` (4 categories, a few parts each) but with
real nested levels; used where the procedural generator is not wanted or not available.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import trimesh

from .hierarchy import levels_from_paths
from .types import PartMesh

TOY_CATEGORIES: tuple[str, ...] = ("table", "snowman", "lamp", "cart")


def assemble(pieces: list[tuple[trimesh.Trimesh, tuple[str, ...]]], name: str, category: str) -> PartMesh:
    """PartMesh from (mesh, path) pairs; levels follow the paths (see ``levels_from_paths``)."""
    labels, names = levels_from_paths([p for _, p in pieces], max_levels=None)
    verts, faces, owner = [], [], []
    off = 0
    for i, (m, _) in enumerate(pieces):
        verts.append(np.asarray(m.vertices))
        faces.append(np.asarray(m.faces) + off)
        owner.append(np.full(len(m.faces), i))
        off += len(m.vertices)
    owner = np.concatenate(owner)
    return PartMesh(vertices=np.concatenate(verts).astype(np.float32), faces=np.concatenate(faces).astype(np.int64),
                    face_labels=labels[:, owner].astype(np.int64), name=name, category=category, part_names=names)


def _box(ext, at) -> trimesh.Trimesh:
    return trimesh.creation.box(extents=ext, transform=trimesh.transformations.translation_matrix(at))


def _cyl(r, h, at, sections=16) -> trimesh.Trimesh:
    return trimesh.creation.cylinder(radius=r, height=h, sections=sections,
                                     transform=trimesh.transformations.translation_matrix(at))


def _sphere(r, at) -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(subdivisions=2, radius=r)
    m.apply_translation(at)
    return m


def toy_object(category: str, seed: int = 0) -> PartMesh:
    """One toy object; proportions vary with ``seed``. Categories: :data:`TOY_CATEGORIES`."""
    rng = np.random.default_rng([seed, TOY_CATEGORIES.index(category) if category in TOY_CATEGORIES else -1])
    u = rng.uniform
    if category == "table":
        w, d, h, t, r = u(1.0, 2.0), u(0.6, 1.2), u(0.6, 1.0), u(0.04, 0.1), u(0.03, 0.07)
        pieces = [(_box((w, d, t), (0, 0, h)), ("top",))]
        for i, (sx, sy) in enumerate([(-1, -1), (1, -1), (1, 1), (-1, 1)]):
            pieces.append((_box((2 * r, 2 * r, h), (sx * (w / 2 - 2 * r), sy * (d / 2 - 2 * r), h / 2 - t / 2)),
                           ("legs", f"leg{i}")))
    elif category == "snowman":
        r0, r1, r2 = u(0.5, 0.7), u(0.35, 0.45), u(0.2, 0.3)
        z1, z2 = r0 + r1 * 0.9, r0 + 1.8 * r1 + r2 * 0.9
        pieces = [(_sphere(r0, (0, 0, r0)), ("body", "bottom")), (_sphere(r1, (0, 0, z1)), ("body", "middle")),
                  (_sphere(r2, (0, 0, z2)), ("head", "skull"))]
        for i, s in enumerate((-1, 1)):
            pieces.append((_sphere(0.04, (s * r2 * 0.4, -r2 * 0.95, z2 + r2 * 0.2)), ("head", "eyes", f"eye{i}")))
        pieces.append((_cyl(r2 * 0.9, u(0.2, 0.35), (0, 0, z2 + r2 * 1.1)), ("hat",)))
    elif category == "lamp":
        h = u(1.0, 1.6)
        pieces = [(_cyl(u(0.25, 0.4), 0.06, (0, 0, 0.03)), ("stand", "base")),
                  (_cyl(0.03, h, (0, 0, h / 2)), ("stand", "pole")),
                  (trimesh.creation.cone(radius=u(0.3, 0.5), height=u(0.3, 0.5), sections=16,
                                         transform=trimesh.transformations.translation_matrix((0, 0, h))),
                   ("shade",))]
    elif category == "cart":
        L, W = u(1.2, 2.0), u(0.6, 1.0)
        pieces = [(_box((L, W, 0.3), (0, 0, 0.45)), ("body", "tub")), (_box((0.05, 0.05, 0.6), (L / 2 + 0.2, 0, 0.8)),
                                                                      ("body", "handle"))]
        for i, (sx, sy) in enumerate([(-1, -1), (1, -1), (1, 1), (-1, 1)]):
            wheel = trimesh.creation.cylinder(radius=0.18, height=0.08, sections=16)
            wheel.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (1, 0, 0)))
            wheel.apply_translation((sx * L * 0.35, sy * (W / 2 + 0.06), 0.18))
            pieces.append((wheel, ("wheels", f"axle{int(sx > 0)}", f"wheel{i}")))
    else:
        raise ValueError(f"unknown toy category {category!r}; valid: {', '.join(TOY_CATEGORIES)}")
    return assemble(pieces, name=f"toy_{category}_{seed:06d}", category=category)


def toy_many(n: int, seed: int = 0) -> Iterator[PartMesh]:
    """``n`` toy objects cycling through the categories; object ``i`` uses seed ``seed + i``."""
    for i in range(n):
        yield toy_object(TOY_CATEGORIES[i % len(TOY_CATEGORIES)], seed + i)
