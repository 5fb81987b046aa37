"""Up-axis conventions: every shape is turned Z-up at load, and back when written.

glTF files are Y-up by specification, COLLADA files name their axis (``<up_axis>``); most
CAD/robotics formats (STL, OBJ from CAD, URDF, our own PLYs) are Z-up. :func:`load_shape` applies :func:`to_z_up` so the viewer and the model always
see Z-up; exports apply :func:`from_z_up` so written files keep the input's own coordinates (and
face order), and our labelled PLYs record the axis in a header comment (:func:`up_comment`) so
they reopen upright.

The rotations are signed axis permutations (exact in floating point, determinant +1: no mirroring).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import InputError

UP_AXES: tuple[str, ...] = ("z", "y", "x", "-z", "-y", "-x")
Y_UP_EXTENSIONS: tuple[str, ...] = (".glb", ".gltf")
PLY_UP_COMMENT = "s2am3d up"   # PLY header line "comment s2am3d up <axis>"

# rows: new (x, y, z) as signed old axes; each maps the named axis onto +z
_ROTATIONS: dict[str, np.ndarray] = {
    "z": np.eye(3),
    "y": np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]]),    # (x, y, z) -> (x, -z, y): glTF -> Z-up
    "x": np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]),     # (x, y, z) -> (y, z, x)
    "-z": np.array([[1, 0, 0], [0, -1, 0], [0, 0, -1]]),
    "-y": np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]),
    "-x": np.array([[0, -1, 0], [0, 0, 1], [-1, 0, 0]]),
}


def check_up(up: str) -> str:
    """Normalise an up-axis name ("z", "Y", "+x", "-y", ...); InputError for anything else."""
    u = str(up).strip().lower()
    u = u[1:] if u.startswith("+") else u
    if u not in _ROTATIONS:
        raise InputError(f"up axis {up!r}: expected one of {', '.join(UP_AXES)}")
    return u


def rotation_to_z_up(up: str) -> np.ndarray:
    """(3, 3) rotation taking the ``up`` axis to +z (column vectors: ``z_up = R @ v``)."""
    return _ROTATIONS[check_up(up)].astype(np.float64)


def to_z_up(xyz: np.ndarray, up: str) -> np.ndarray:
    """(..., 3) coordinates with ``up`` as up -> the same shape Z-up (dtype kept)."""
    a = np.asarray(xyz)
    u = check_up(up)
    if u == "z":
        return a
    return (a @ _ROTATIONS[u].T.astype(a.dtype if a.dtype.kind == "f" else np.float64)).astype(a.dtype, copy=False)


def from_z_up(xyz: np.ndarray, up: str) -> np.ndarray:
    """Inverse of :func:`to_z_up`: Z-up coordinates back to a frame where ``up`` is up."""
    a = np.asarray(xyz)
    u = check_up(up)
    if u == "z":
        return a
    return (a @ _ROTATIONS[u].astype(a.dtype if a.dtype.kind == "f" else np.float64)).astype(a.dtype, copy=False)


def up_comment(up: str) -> str:
    """PLY header comment recording the file's up axis (read back by :func:`file_up`)."""
    return f"{PLY_UP_COMMENT} {check_up(up)}"


COLLADA_UP = {"X_UP": "x", "Y_UP": "y", "Z_UP": "z"}


def file_up(path: str | os.PathLike) -> str:
    """The up axis a file declares by convention: "y" for glTF, the ``<up_axis>`` of a COLLADA
    file (Y_UP when it has none, as the format says), the ``comment s2am3d up`` line of a PLY
    written by s2am3d, else "z"."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in Y_UP_EXTENSIONS:
        return "y"
    if ext == ".dae":
        try:
            with open(p, "rb") as fh:
                head = fh.read(65536).decode("utf-8", "replace")
        except OSError:
            return "y"
        found = re.search(r"<up_axis>\s*([XYZ]_UP)\s*</up_axis>", head)
        return COLLADA_UP[found.group(1)] if found else "y"
    if ext == ".ply":
        try:
            with open(p, "rb") as fh:
                head = fh.read(4096)
        except OSError:
            return "z"
        for line in head.split(b"end_header", 1)[0].decode("ascii", "replace").splitlines():
            words = line.split()
            if words[:3] == ["comment", "s2am3d", "up"] and len(words) == 4:
                try:
                    return check_up(words[3])
                except InputError:
                    return "z"
    return "z"
