"""Load meshes and point clouds from disk into one flat array representation.

Meshes (``.glb .gltf .obj .ply .stl .off .dae``) are read with trimesh (COLLADA through pycollada); a scene is flattened into
one triangle mesh with every node transform applied. URDF robots (``.urdf``) become one mesh with
every link placed by its joint origins (geometry only: link ids never reach the model). Point
clouds are ``.ply`` files without faces, ``.npy`` arrays and ``.xyz``/``.txt`` text files.

Every shape is returned Z-up: the file's up axis (``up``, default its convention, see
:mod:`.up`: glTF is Y-up) is rotated onto +z. Every problem a user can cause is raised as
:class:`~s2am3d_core.errors.InputError` with the file name in the message.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry import check_points
from .sample import check_surface, sample_surface, subset_indices
from .mesh_file import check_faces, read_mesh_file
from .up import check_up, file_up, to_z_up

MESH_EXTENSIONS: tuple[str, ...] = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off", ".dae", ".urdf")
POINT_EXTENSIONS: tuple[str, ...] = (".npy", ".xyz", ".txt")
SUPPORTED_EXTENSIONS: tuple[str, ...] = MESH_EXTENSIONS + POINT_EXTENSIONS


@dataclass
class LoadedShape:
    """A shape read from ``path``.

    Attributes:
        path: the file it was read from.
        vertices: (V, 3) float32 coordinates, Z-up (mesh vertices, or the points of a point cloud).
        faces: (F, 3) int64 vertex indices, or None for a point cloud.
        up: the file's up axis; ``io.up.from_z_up(vertices, up)`` gives the file's own coordinates.
        face_groups: (F,) int64 the file's own grouping of the faces, or None: for a URDF, the link
            owning each face. A hint a user may turn into parts (the viewer's *Links as parts*);
            segmentation never reads it.
        group_names: a name per group (a URDF link's chain of link names from the root, joined by "/").
        colors: (V, 3) float32 colours in [0, 1] of a point cloud's points (a PLY scan with vertex
            colours), or None (meshes, uncoloured clouds). Shown by the viewer; never segmented.
    """

    path: Path
    vertices: np.ndarray
    faces: np.ndarray | None
    up: str = "z"
    face_groups: np.ndarray | None = None
    group_names: tuple[str, ...] = ()
    colors: np.ndarray | None = None

    @property
    def is_mesh(self) -> bool:
        """True when the shape has triangles (``faces`` is not None)."""
        return self.faces is not None


def load_shape(path: str | os.PathLike, up: str | None = None) -> LoadedShape:
    """Read a mesh or point cloud file, Z-up.

    Face order is kept as trimesh reads it (per-face labels depend on it); duplicate
    vertices are not merged.

    Args:
        path: the file.
        up: the file's up axis ("x", "y", "z", "-x", "-y", "-z"); None = its convention
            (:func:`s2am3d_core.io.up.file_up`: "y" for glTF, else "z").

    Raises:
        InputError: missing file, unsupported extension, unreadable/corrupt file, no
            triangles or points, NaN/inf coordinates, face indices out of range, bad ``up``.
    """
    p = Path(path)
    up = check_up(up) if up is not None else None
    if not p.exists():
        raise InputError(f"{p}: file not found")
    if not p.is_file():
        raise InputError(f"{p}: not a file")
    ext = p.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        from .urdf import reject_xacro

        reject_xacro(p)
        raise InputError(
            f"{p}: unsupported file extension {ext or '(none)'!r}; supported: "
            f"meshes {' '.join(MESH_EXTENSIONS)}, point clouds .ply (no faces) {' '.join(POINT_EXTENSIONS)}"
        )
    if up is None:
        up = file_up(p)
    groups, group_names, colors = None, (), None
    if ext == ".urdf":
        from .urdf import load_urdf_geometry  # link ids travel only as a user-facing hint
        geo = load_urdf_geometry(p)
        vertices, faces = geo.vertices, geo.faces
        groups, group_names = np.asarray(geo.face_link, np.int64), tuple("/".join(c) for c in geo.link_paths)
    elif ext == ".npy":
        vertices, faces = _load_npy(p), None
    elif ext in (".xyz", ".txt"):
        vertices, faces = _load_text_points(p), None
    else:
        vertices, faces, colors = read_mesh_file(p)
    vertices = check_points(vertices, name=str(p))
    if faces is not None:
        faces = check_faces(faces, len(vertices), p)
        check_surface(vertices, faces, p)
    return LoadedShape(path=p, vertices=to_z_up(vertices, up), faces=faces, up=up, face_groups=groups,
                       group_names=group_names, colors=colors)


def shape_points(shape: LoadedShape, n: int, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Points representing ``shape``.

    A mesh is sampled area-weighted (:func:`sample_surface`); a point cloud is randomly
    subsampled without replacement to ``n`` points (kept in file order), or returned whole
    when it has ``n`` points or fewer.

    Returns:
        (points (n, 3) float32 — fewer for a small point cloud —,
         face_index (n,) int64 for a mesh, else None).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise InputError(f"shape_points: n must be a positive integer, got {n!r}")
    n = int(n)
    if shape.faces is not None:
        try:
            return sample_surface(shape.vertices, shape.faces, n, seed=seed)
        except InputError as e:
            raise InputError(f"{shape.path}: {e}") from e
    pts = np.asarray(shape.vertices, dtype=np.float32)
    return pts[subset_indices(len(pts), n, np.random.default_rng(seed))], None


def _load_npy(path: Path) -> np.ndarray:
    """Read an (N, C>=3) .npy array; the first three columns are XYZ."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:
        raise InputError(f"{path}: could not read .npy file ({type(e).__name__}: {e})") from e
    if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[1] < 3:
        shape = getattr(arr, "shape", None)
        raise InputError(f"{path}: expected an (N, 3) array of XYZ coordinates, got shape {shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"{path}: coordinates must be real numbers, got dtype {arr.dtype}")
    if len(arr) == 0:
        raise InputError(f"{path}: the file contains no points")
    return arr[:, :3]


def _load_text_points(path: Path) -> np.ndarray:
    """Read XYZ rows from a text file (whitespace- or comma-separated, extra columns ignored).

    Blank lines and ``#``/``//`` comments are skipped; one non-numeric header line is allowed.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: could not read text point file ({type(e).__name__}: {e})") from e
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("#", "//"))]
    if not lines:
        raise InputError(f"{path}: the file contains no points")
    delimiter = "," if "," in lines[0] or (len(lines) > 1 and "," in lines[1]) else None
    if not _is_numeric_row(lines[0], delimiter):
        lines = lines[1:]  # a header such as "x y z"
        if not lines:
            raise InputError(f"{path}: the file contains no points")
    try:
        arr = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=delimiter, usecols=(0, 1, 2), ndmin=2)
    except Exception as e:
        raise InputError(
            f"{path}: could not parse XYZ rows (need at least 3 numeric columns per line, "
            f"separated by whitespace or commas): {e}"
        ) from e
    return arr


def _is_numeric_row(line: str, delimiter: str | None) -> bool:
    """True when every field of ``line`` parses as a number (False for a header like ``x y z``)."""
    fields = [f for f in (line.split(delimiter) if delimiter else line.split()) if f.strip()]
    try:
        [float(f) for f in fields]
    except ValueError:
        return False
    return True
