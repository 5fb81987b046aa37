"""Area-weighted surface sampling of triangle meshes, and the one "bring to n points" helper."""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError

#: points sampled from a shape for the model by default (viewer, s2am3d-segment, ShapeSegmenter)
DEFAULT_POINTS = 20000


def subset_indices(m: int, n: int, rng: np.random.Generator, repeat: bool = False, sort: bool = True) -> np.ndarray:
    """Indices that bring ``m`` points to ``n`` (every tool's point subsampling goes through here).

    More than ``n`` points: a random subset of ``n`` without replacement (in index order when
    ``sort``). At most ``n``: all ``m`` (``repeat=False``), or with ``repeat=True`` all ``m`` followed
    by ``n - m`` random repeats, so that there are exactly ``n``.

    Returns:
        (n,) or (m,) int64 indices into the ``m`` points.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"number of points must be a positive integer, got {n!r}")
    if m > n:
        idx = rng.choice(m, size=int(n), replace=False)
        return np.sort(idx) if sort else idx
    if repeat and m < n:
        return np.concatenate([np.arange(m), rng.choice(m, size=int(n) - m, replace=True)])
    return np.arange(m)


ZERO_AREA = "the mesh has zero surface area (all triangles are degenerate)"
_CHUNK = 65536  # triangles per step of check_surface


def triangle_areas(tri: np.ndarray) -> np.ndarray:
    """(F,) float64 area of each triangle of ``tri`` (F, 3, 3) (0 where it is not finite)."""
    tri = np.asarray(tri, dtype=np.float64)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    return np.where(np.isfinite(area), area, 0.0)


def check_surface(vertices: np.ndarray, faces: np.ndarray, name: str | os.PathLike) -> None:
    """InputError ``<name>: the mesh has zero surface area ...`` when a mesh has triangles but every
    one is degenerate: there is no surface to sample (the file is named where it is read). Looks at
    the triangles in chunks and stops at the first with area, so an ordinary mesh pays for one chunk."""
    v, f = np.asarray(vertices), np.asarray(faces, dtype=np.int64)
    for start in range(0, len(f), _CHUNK):
        if triangle_areas(v[f[start:start + _CHUNK]]).sum() > 0:
            return
    if len(f):
        raise InputError(f"{name}: {ZERO_AREA}")


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, n: int, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``n`` points uniformly by area on a triangle mesh.

    Args:
        vertices: (V, 3) coordinates.
        faces: (F, 3) vertex indices.
        n: number of points.
        seed: RNG seed (None for nondeterministic).

    Returns:
        (points (n, 3) float32, face_index (n,) int64: the face each point lies on).
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if f.ndim != 2 or f.shape[1] != 3 or len(f) == 0:
        raise InputError("cannot sample the surface of a mesh with no triangles")
    tri = v[f]  # (F, 3, 3)
    area = triangle_areas(tri)
    total = area.sum()
    if total <= 0:
        raise InputError(ZERO_AREA)
    rng = np.random.default_rng(seed)
    face_index = rng.choice(len(f), size=n, p=area / total)
    r1, r2 = rng.random(n), rng.random(n)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    t = tri[face_index]
    pts = t[:, 0] + r1[:, None] * (t[:, 1] - t[:, 0]) + r2[:, None] * (t[:, 2] - t[:, 0])
    return pts.astype(np.float32), face_index.astype(np.int64)
