"""Part hierarchies from URDF robot descriptions.

The geometry (links placed by their joint origins in the zero configuration, mesh references
resolved beside the URDF) is read by :func:`s2am3d_core.io.urdf.load_urdf_geometry`; this module
turns the links into part labels.

Levels: level 0 = one part per link (links without visual geometry own no faces); coarser levels
= kinematic subtrees rooted at the links of decreasing depth (a finger ⊂ the hand ⊂ the arm), see
:func:`s2am3d_core.data.hierarchy.levels_from_paths`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io.urdf import URDF_EXTENSIONS, load_urdf_geometry
from .hierarchy import DEFAULT_MAX_LEVELS, levels_from_paths
from .types import PartMesh

__all__ = ["URDF_EXTENSIONS", "load_urdf_parts"]


def load_urdf_parts(path: str | os.PathLike, max_levels: int = DEFAULT_MAX_LEVELS) -> PartMesh:
    """Load a URDF file as a :class:`PartMesh` (zero joint configuration, links as finest parts).

    Args:
        path: ``.urdf`` file.
        max_levels: cap on the number of levels kept.

    Returns:
        PartMesh: vertices (V, 3) float32, faces (F, 3) int64, face_labels (L, F) int64 finest
        first; ``name`` = file stem, ``category`` = "robot", ``part_names[l]`` = ``{id: "root/link/..."}``.

    Raises:
        InputError: see :func:`s2am3d_core.io.urdf.load_urdf_geometry`.
    """
    p = Path(path)
    geo = load_urdf_geometry(p)
    item_labels, names = levels_from_paths(geo.link_paths, max_levels=max_levels)
    face_labels = (item_labels[:, geo.face_link] if len(item_labels)
                   else np.zeros((0, len(geo.faces)), np.int64))
    return PartMesh(vertices=geo.vertices, faces=geo.faces, face_labels=face_labels.astype(np.int64),
                    name=p.stem, category="robot", part_names=names)
