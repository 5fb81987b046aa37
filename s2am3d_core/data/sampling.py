"""Turn labelled meshes into labelled point clouds (the form the model and the shards use)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..geometry import normalize_points
from ..io.sample import sample_surface, subset_indices
from .types import PartMesh, PartPoints


def mesh_to_points(part_mesh: PartMesh, n: int, seed: int | None = 0) -> PartPoints:
    """Area-weighted surface sampling of a :class:`PartMesh` with per-point labels at every level.

    Args:
        part_mesh: the labelled mesh.
        n: number of points (> 0).
        seed: RNG seed (None = nondeterministic).

    Returns:
        PartPoints with points (n, 3) float32 normalised by
        :func:`s2am3d_core.geometry.normalize_points`, labels (L, n) int64 = ``face_labels`` of
        each point's face, same name and category.

    Raises:
        InputError: n < 1, no faces / zero area, or face_labels not (L, F).
    """
    if int(n) < 1:
        raise InputError(f"{part_mesh.name or 'mesh'}: number of points must be >= 1, got {n}")
    fl = np.asarray(part_mesh.face_labels, dtype=np.int64)
    faces = np.asarray(part_mesh.faces)
    if fl.ndim != 2 or fl.shape[1] != len(faces):
        raise InputError(
            f"{part_mesh.name or 'mesh'}: face_labels must be (L, {len(faces)}), got shape {fl.shape}"
        )
    try:
        pts, face_index = sample_surface(part_mesh.vertices, faces, int(n), seed=seed)
    except InputError as e:
        raise InputError(f"{part_mesh.name or 'mesh'}: {e}") from e
    norm, _, _ = normalize_points(pts)
    return PartPoints(points=norm, labels=fl[:, face_index], name=part_mesh.name, category=part_mesh.category)


def resample_points(item: PartPoints, n: int, seed: int | None = 0) -> PartPoints:
    """Bring a labelled point cloud to exactly ``n`` points (random subset, or repeats when it has fewer)
    and normalise it.

    Returns:
        PartPoints with points (n, 3) float32 normalised and labels (L, n) int64.
    """
    pts = np.asarray(item.points, dtype=np.float32)
    lab = np.asarray(item.labels, dtype=np.int64)
    if int(n) < 1:
        raise InputError(f"{item.name or 'points'}: number of points must be >= 1, got {n}")
    if len(pts) == 0:
        raise InputError(f"{item.name or 'points'}: the point cloud is empty")
    if lab.ndim != 2 or lab.shape[1] != len(pts):
        raise InputError(f"{item.name or 'points'}: labels must be (L, {len(pts)}), got shape {lab.shape}")
    idx = subset_indices(len(pts), int(n), np.random.default_rng(seed), repeat=True)
    norm, _, _ = normalize_points(pts[idx])
    return PartPoints(points=norm, labels=lab[:, idx], name=item.name, category=item.category)


def to_points(item: PartMesh | PartPoints, n: int, seed: int | None = 0) -> PartPoints:
    """:func:`mesh_to_points` for meshes, :func:`resample_points` for point clouds."""
    if isinstance(item, PartMesh):
        return mesh_to_points(item, n, seed=seed)
    if isinstance(item, PartPoints):
        return resample_points(item, n, seed=seed)
    raise TypeError(f"expected PartMesh or PartPoints, got {type(item).__name__}")
