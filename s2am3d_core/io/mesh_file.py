"""Read a triangle mesh, scene or PLY point cloud file with trimesh into flat arrays, with checks.

The lowest layer of :mod:`s2am3d_core.io`: :func:`~s2am3d_core.io.load.load_shape` and the URDF
reader (:mod:`.urdf`, for the meshes a robot's links refer to) both read files through it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import trimesh

from ..errors import InputError


def check_faces(faces: np.ndarray, num_vertices: int, path: Path) -> np.ndarray:
    """Validate (F, 3) integer faces against ``num_vertices``; return them as int64.

    Raises:
        InputError: naming ``path`` for a wrong shape, non-integer or out-of-range indices.
    """
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3:
        raise InputError(f"{path}: expected (F, 3) triangle faces, got shape {f.shape}")
    if f.size and not np.issubdtype(f.dtype, np.integer):
        raise InputError(f"{path}: face indices must be integers, got dtype {f.dtype}")
    f = f.astype(np.int64, copy=False)
    if len(f) and (f.min() < 0 or f.max() >= num_vertices):
        bad = int(((f < 0) | (f >= num_vertices)).any(axis=1).sum())
        raise InputError(
            f"{path}: {bad} face(s) reference vertex indices outside [0, {num_vertices}) "
            f"(min {int(f.min())}, max {int(f.max())})"
        )
    return f


# ----------------------------------------------------------------------------- internals


def read_mesh_file(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Read a mesh/scene/point-cloud file with trimesh and flatten it.

    Returns (vertices (V, 3), faces (F, 3) or None when the file holds only points, colours (V, 3)
    float32 in [0, 1] of a point cloud whose points all carry one (a coloured scan), else None).
    """
    ext = path.suffix.lower()
    if ext == ".gltf":
        check_gltf_json(path)
    try:
        scene = trimesh.load_scene(str(path), process=False)
    except Exception as e:  # trimesh raises many exception types on bad input
        hint = " - does a face refer to a vertex that does not exist?" if isinstance(e, IndexError) else ""
        raise InputError(f"{path}: could not read {ext} file ({type(e).__name__}: {e}){hint}") from e
    # Validate raw face indices before transforming anything (dump() may index vertices).
    for geom in scene.geometry.values():
        if isinstance(geom, trimesh.Trimesh) and len(geom.faces):
            check_faces(geom.faces, len(geom.vertices), path)
    try:
        parts = scene.dump()  # copies of every node's geometry with its world transform applied
    except Exception as e:
        raise InputError(f"{path}: could not flatten the scene ({type(e).__name__}: {e})") from e
    meshes = [g for g in parts if isinstance(g, trimesh.Trimesh) and len(g.faces)]
    if meshes:
        # Stack raw arrays rather than trimesh.util.concatenate: the latter also merges
        # textures/materials, which is slow (~1 s for a small textured GLB) and unneeded.
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
        vertices = np.concatenate([np.asarray(m.vertices, dtype=np.float64) for m in meshes])
        faces = np.concatenate([np.asarray(m.faces, dtype=np.int64) + o for m, o in zip(meshes, offsets)])
        return vertices, faces, None
    clouds = [g for g in parts if isinstance(g, (trimesh.PointCloud, trimesh.Trimesh)) and len(g.vertices)]
    if clouds:
        vertices = np.concatenate([np.asarray(g.vertices, dtype=np.float64) for g in clouds])
        return vertices, None, _cloud_colors(clouds)
    raise InputError(f"{path}: the file contains no triangles and no points")


def _cloud_colors(clouds: list) -> np.ndarray | None:
    """(V, 3) float32 colours in [0, 1] of the clouds' points when every point has one, else None."""
    colors = [np.asarray(getattr(g, "colors", ()), dtype=np.float64) for g in clouds]
    if any(c.ndim != 2 or c.shape[0] != len(g.vertices) or c.shape[1] < 3 for c, g in zip(colors, clouds)):
        return None
    return (np.concatenate([c[:, :3] for c in colors]) / 255.0).astype(np.float32)


def check_gltf_json(path: Path) -> None:
    """Fail early with a clear message when a .gltf file is not JSON (trimesh's error is cryptic)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InputError(f"{path}: not a valid glTF file (the .gltf must be JSON: {type(e).__name__}: {e})") from None
    if not isinstance(doc, dict) or "asset" not in doc:
        raise InputError(f"{path}: not a valid glTF file (no 'asset' object)")
