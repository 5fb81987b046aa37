"""Scan-like versions of labelled meshes: one welded outer surface, the labels carried over.

A CAD assembly or a robot description is made of separate pieces, and s2am3d's mesh-aware masks
follow them. A scan (or a model merged and remeshed for printing, games or the web) has none: one
surface where parts touch, no creases where the scanner smoothed them. :func:`remesh_part_mesh`
turns a labelled mesh into such a surface, so the same labelled files measure how the masks hold up
on scans (``s2am3d-eval --remesh RES``):

1. the surface is sampled densely and every voxel of a grid with ``resolution`` cells along the
   shape's longest side that holds a sample is set; the enclosed space is filled
   (``scipy.ndimage.binary_fill_holes``), so touching parts become one solid;
2. the solid's boundary becomes one surface (marching cubes, ``skimage.measure.marching_cubes``),
   smoothed (Taubin, ``trimesh.smoothing.filter_taubin``) as a scanner's reconstruction is;
3. every new face takes, at every level, the label of the original surface sample nearest its
   centre. Inner parts that the solid swallows have no face any more and are not prompted.

scikit-image is needed for step 2 only (``pip install scikit-image``); :func:`check_remesh_available`
says so before a run starts.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..io.sample import sample_surface
from .types import PartMesh

SAMPLES_PER_CELL = 4.0  # surface samples per voxel face's area, so no surface voxel is missed
MAX_SAMPLES = 4_000_000
LABEL_SAMPLES = 300_000  # original surface samples that carry the labels over
SMOOTH_ITERATIONS = 10
MIN_RESOLUTION = 8
MAX_RESOLUTION = 384  # the engine at 384 cells: 3.2 M faces, 9 s and 1.3 GB peak; memory grows as the cube


def check_remesh_available() -> str | None:
    """None when :func:`remesh_part_mesh` can run, else why not (scikit-image is missing)."""
    try:
        import skimage.measure  # noqa: F401
    except ImportError:
        return "needs scikit-image for marching cubes (pip install scikit-image)"
    return None


def remesh_part_mesh(part_mesh: PartMesh, resolution: int = 128, seed: int = 0) -> PartMesh:
    """A scan-like :class:`PartMesh` of ``part_mesh`` (module docstring): one welded surface from a
    ``resolution``-cell voxel grid, the same levels of labels.

    Raises:
        InputError: a resolution outside 8-384 cells, a mesh without extent, or nothing left after remeshing.
    """
    import trimesh
    from scipy import ndimage
    from scipy.spatial import cKDTree
    from skimage.measure import marching_cubes

    name = part_mesh.name or "mesh"
    if not MIN_RESOLUTION <= int(resolution) <= MAX_RESOLUTION:
        raise InputError(f"{name}: remesh resolution must be {MIN_RESOLUTION}-{MAX_RESOLUTION} cells, got {resolution}")
    vertices = np.asarray(part_mesh.vertices, dtype=np.float64)
    faces = np.asarray(part_mesh.faces, dtype=np.int64)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    pitch = float((hi - lo).max()) / int(resolution)
    if not pitch > 0:
        raise InputError(f"{name}: cannot remesh a shape without extent")
    area = float(trimesh.Trimesh(vertices, faces, process=False).area)
    count = int(min(MAX_SAMPLES, max(LABEL_SAMPLES, SAMPLES_PER_CELL * area / pitch ** 2)))
    pts, _ = sample_surface(vertices, faces, count, seed=seed)
    cell = np.floor((pts - lo) / pitch).astype(np.int64) + 1  # one empty cell of margin on each side
    grid = np.zeros(tuple(cell.max(axis=0) + 2), dtype=bool)
    grid[cell[:, 0], cell[:, 1], cell[:, 2]] = True
    solid = ndimage.binary_fill_holes(grid)
    verts, tris, _, _ = marching_cubes(solid.astype(np.float32), level=0.5)
    if not len(tris):
        raise InputError(f"{name}: nothing left after remeshing at {resolution} cells")
    mesh = trimesh.Trimesh(verts * pitch + lo - pitch * 0.5, tris, process=True)
    trimesh.smoothing.filter_taubin(mesh, iterations=SMOOTH_ITERATIONS)
    carriers, carrier_face = sample_surface(vertices, faces, LABEL_SAMPLES, seed=seed + 1)
    _, nearest = cKDTree(carriers).query(mesh.triangles_center)
    labels = np.asarray(part_mesh.face_labels, dtype=np.int64)[:, carrier_face[nearest]]
    return PartMesh(np.asarray(mesh.vertices, dtype=np.float32), np.asarray(mesh.faces, dtype=np.int64), labels,
                    name=part_mesh.name, category=part_mesh.category, part_names=part_mesh.part_names)
