"""Transfer part labels between sampled points, mesh faces and mesh vertices.

Labels are int64 with ``-1`` = unlabelled; unlabelled points never vote and are never
used as a nearest neighbour.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..errors import InputError


def faces_from_point_labels(
    num_faces: int,
    face_index: np.ndarray,
    point_labels: np.ndarray,
    points: np.ndarray | None = None,
    face_centers: np.ndarray | None = None,
) -> np.ndarray:
    """Label every face by majority vote of the labelled sample points lying on it.

    Args:
        num_faces: F, the number of faces of the mesh.
        face_index: (N,) int, the face each sample point lies on.
        point_labels: (N,) int labels of the sample points (-1 = unlabelled, does not vote).
        points: optional (N, 3) sample coordinates, and
        face_centers: optional (F, 3) face centroids: when both are given, a face without a
            labelled sample gets the label of the labelled point nearest to its centre.

    Returns:
        (F,) int64 face labels; ties go to the smallest label; -1 where no label could be given.
    """
    num_faces = int(num_faces)
    if num_faces < 0:
        raise InputError(f"num_faces must be >= 0, got {num_faces}")
    fi = _as_index_array(face_index, "face_index")
    lab = _as_label_array(point_labels, "point_labels")
    if len(fi) != len(lab):
        raise InputError(f"face_index has {len(fi)} entries but point_labels has {len(lab)}")
    if len(fi) and (fi.min() < 0 or fi.max() >= num_faces):
        raise InputError(f"face_index values must lie in [0, {num_faces}), got [{fi.min()}, {fi.max()}]")
    out = np.full(num_faces, -1, dtype=np.int64)
    valid = lab >= 0
    if valid.any():
        f, l = fi[valid], lab[valid]
        pairs, counts = np.unique(np.stack([f, l], axis=1), axis=0, return_counts=True)
        # sort by face, then count descending, then label ascending; first row per face wins
        order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))
        pairs = pairs[order]
        first = np.ones(len(pairs), dtype=bool)
        first[1:] = pairs[1:, 0] != pairs[:-1, 0]
        out[pairs[first, 0]] = pairs[first, 1]
    if points is not None and face_centers is not None and valid.any():
        pts = _as_points(points, "points", len(lab))
        centers = _as_points(face_centers, "face_centers", num_faces)
        missing = np.flatnonzero(out < 0)
        if len(missing):
            _, nn = cKDTree(pts[valid]).query(centers[missing])
            out[missing] = lab[valid][nn]
    return out


def vertices_from_point_labels(vertices: np.ndarray, points: np.ndarray, point_labels: np.ndarray) -> np.ndarray:
    """Give each vertex the label of its nearest labelled point.

    Args:
        vertices: (V, 3) coordinates.
        points: (N, 3) labelled point coordinates.
        point_labels: (N,) int labels (-1 = unlabelled, ignored).

    Returns:
        (V,) int64 vertex labels (all -1 when no point is labelled).
    """
    verts = _as_points(vertices, "vertices")
    lab = _as_label_array(point_labels, "point_labels")
    pts = _as_points(points, "points", len(lab))
    out = np.full(len(verts), -1, dtype=np.int64)
    valid = lab >= 0
    if valid.any() and len(verts):
        _, nn = cKDTree(pts[valid]).query(verts)
        out[:] = lab[valid][nn]
    return out


def points_from_face_labels(face_labels: np.ndarray, face_index: np.ndarray) -> np.ndarray:
    """Label sample points with the label of the face they lie on.

    Args:
        face_labels: (F,) int face labels.
        face_index: (N,) int, the face each point lies on.

    Returns:
        (N,) int64 point labels.
    """
    fl = _as_label_array(face_labels, "face_labels")
    fi = _as_index_array(face_index, "face_index")
    if len(fi) and (fi.min() < 0 or fi.max() >= len(fl)):
        raise InputError(f"face_index values must lie in [0, {len(fl)}), got [{fi.min()}, {fi.max()}]")
    return fl[fi]


# ----------------------------------------------------------------------------- helpers


def _as_index_array(a: np.ndarray, name: str) -> np.ndarray:
    """(N,) integer array as int64."""
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{name}: expected integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _as_label_array(a: np.ndarray, name: str) -> np.ndarray:
    """(N,) integer labels as int64 (floats are accepted when they hold whole numbers)."""
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array of labels, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InputError(f"{name}: labels must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _as_points(a: np.ndarray, name: str, n: int | None = None) -> np.ndarray:
    """(N, 3) float array, optionally checked to have ``n`` rows."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(f"{name}: expected an (N, 3) array, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise InputError(f"{name} has {len(arr)} rows, expected {n}")
    return arr
