"""Shape IO: loading meshes/point clouds, surface sampling, label transfer, labelled export.

See docs/ARCHITECTURE.md ("IO") for the contract.
"""
from __future__ import annotations

from .atomic import atomic_path
from .export import (label_colors, read_labelled_ply, write_labelled, write_labelled_mesh, write_labelled_points,
                     write_part_meshes, write_parts)
from .labels import faces_from_point_labels, points_from_face_labels, vertices_from_point_labels
from .load import MESH_EXTENSIONS, POINT_EXTENSIONS, SUPPORTED_EXTENSIONS, LoadedShape, load_shape, shape_points
from .sample import sample_surface

__all__ = [
    "LoadedShape",
    "MESH_EXTENSIONS",
    "POINT_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "atomic_path",
    "faces_from_point_labels",
    "label_colors",
    "load_shape",
    "points_from_face_labels",
    "read_labelled_ply",
    "sample_surface",
    "shape_points",
    "vertices_from_point_labels",
    "write_labelled",
    "write_labelled_mesh",
    "write_labelled_points",
    "write_part_meshes",
    "write_parts",
]
