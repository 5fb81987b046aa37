"""Write segmentation results: labelled PLY files (points or mesh) and one file per part.

Labelled PLY layout (binary little-endian, read back by :func:`read_labelled_ply`)::

    points:  element vertex N   float x y z, int label, uchar red green blue
    mesh:    element vertex V   float x y z, uchar red green blue
             element face F     list uchar int vertex_indices, int label, uchar red green blue

Coordinates are given Z-up (as :func:`~s2am3d_core.io.load_shape` returns them) with ``up``, the
input's up axis: files are written in the input's own coordinates (rotated back) and a labelled
PLY records the axis in its header (``comment s2am3d up y``) so it reopens upright.

The PLY writer is our own (header + numpy structured array): trimesh 5.x cannot attach
attributes to a ``PointCloud`` nor store vertex and face colours in one mesh. Reading goes
through trimesh's PLY parser so ASCII re-saves (e.g. from MeshLab) load too.
"""
from __future__ import annotations

import colorsys
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import trimesh
from trimesh.exchange.ply import load_ply

from ..errors import InputError
from ..geometry import check_points
from .atomic import atomic_dir, atomic_path
from .mesh_file import check_faces as _check_faces
from .outputs import OutDir, check_output_dir
from .up import check_up, from_z_up, up_comment

PART_FORMATS: tuple[str, ...] = ("ply", "obj", "glb", "stl")
UNLABELLED_COLOR = np.array([160, 160, 160], dtype=np.uint8)
_INT32 = np.iinfo(np.int32)


def label_colors(labels: np.ndarray) -> np.ndarray:
    """Deterministic colour of each label: (N,) int -> (N, 3) uint8 RGB; -1 (or < 0) is grey.

    Hues follow the golden-ratio sequence so consecutive labels are well separated.
    """
    lab = np.asarray(labels, dtype=np.int64).reshape(-1)
    uniq, inv = np.unique(lab, return_inverse=True)
    table = np.empty((len(uniq), 3), dtype=np.uint8)
    for i, k in enumerate(uniq):
        if k < 0:
            table[i] = UNLABELLED_COLOR
            continue
        h = (0.13 + 0.61803398875 * k) % 1.0
        s = 0.55 + 0.35 * ((k * 7) % 3) / 2.0
        v = 0.95 - 0.2 * ((k * 5) % 2)
        table[i] = np.round(np.array(colorsys.hsv_to_rgb(h, s, v)) * 255).astype(np.uint8)
    return table[inv.reshape(-1)]


def write_labelled_points(path: str | os.PathLike, points: np.ndarray, labels: np.ndarray,
                          up: str = "z", colors: np.ndarray | None = None) -> Path:
    """Write a labelled point cloud as binary PLY (vertex x y z float, label int, red green blue uchar).

    Args:
        path: output file (normally ``.ply``).
        points: (N, 3) coordinates, Z-up.
        labels: (N,) int labels, -1 = unlabelled.
        up: up axis of the written file (the input's; points are rotated back from Z-up).
        colors: (N, 3) colours in [0, 1] to write (a scan's own); default each label's colour.
    """
    p = Path(path)
    up = check_up(up)
    pts = from_z_up(check_points(points, name=f"{p}: points"), up)
    lab = _check_labels(labels, len(pts), "points", p)
    if colors is None:
        rgb = label_colors(lab)
    else:
        c = np.asarray(colors, dtype=np.float64)
        if c.shape != (len(pts), 3) or not np.isfinite(c).all():
            raise InputError(f"{p}: colors must be finite ({len(pts)}, 3), got shape {c.shape}")
        rgb = np.round(np.clip(c, 0.0, 1.0) * 255.0).astype(np.uint8)
    vdtype = [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("label", "<i4"),
              ("red", "u1"), ("green", "u1"), ("blue", "u1")]
    vert = np.empty(len(pts), dtype=vdtype)
    vert["x"], vert["y"], vert["z"] = pts[:, 0], pts[:, 1], pts[:, 2]
    vert["label"] = lab
    vert["red"], vert["green"], vert["blue"] = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    _write_ply(p, [("vertex", vert)], up)
    return p


def write_labelled_mesh(
    path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray, face_labels: np.ndarray, up: str = "z"
) -> Path:
    """Write a mesh with per-face labels as binary PLY.

    Faces carry ``label`` (int) and their part colour; vertices carry the colour of one
    adjacent face (for viewers that only show vertex colours, e.g. Blender).

    Args:
        path: output file (normally ``.ply``).
        vertices: (V, 3) coordinates, Z-up.
        faces: (F, 3) vertex indices (order is preserved).
        face_labels: (F,) int labels, -1 = unlabelled.
        up: up axis of the written file (the input's; vertices are rotated back from Z-up).
    """
    p = Path(path)
    up = check_up(up)
    verts = from_z_up(check_points(vertices, name=f"{p}: vertices"), up)
    f = _check_faces(faces, len(verts), p)
    lab = _check_labels(face_labels, len(f), "faces", p)
    vlab = np.full(len(verts), -1, dtype=np.int64)
    vlab[f.reshape(-1)] = np.repeat(lab, 3)
    vrgb, frgb = label_colors(vlab), label_colors(lab)
    vert = np.empty(len(verts), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
                                       ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    vert["x"], vert["y"], vert["z"] = verts[:, 0], verts[:, 1], verts[:, 2]
    vert["red"], vert["green"], vert["blue"] = vrgb[:, 0], vrgb[:, 1], vrgb[:, 2]
    face = np.empty(len(f), dtype=[("n", "u1"), ("vertex_indices", "<i4", (3,)), ("label", "<i4"),
                                   ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    face["n"] = 3
    face["vertex_indices"] = f
    face["label"] = lab
    face["red"], face["green"], face["blue"] = frgb[:, 0], frgb[:, 1], frgb[:, 2]
    _write_ply(p, [("vertex", vert), ("face", face)], up)
    return p


def write_labelled(path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray | None, labels: np.ndarray,
                   up: str = "z") -> Path:
    """The labelled export of a shape (s2am3d-segment's output and the viewer's *Export*): a mesh
    (``faces`` given) gets per-face ``labels`` (F,) (:func:`write_labelled_mesh`), a point cloud
    (``faces`` None) per-point ``labels`` (N,) (:func:`write_labelled_points`)."""
    if faces is None:
        return write_labelled_points(path, vertices, labels, up=up)
    return write_labelled_mesh(path, vertices, faces, labels, up=up)


def write_parts(
    out_dir: str | os.PathLike,
    vertices: np.ndarray,
    faces: np.ndarray | None,
    labels: np.ndarray,
    fmt: str = "ply",
    up: str = "z",
    names: Sequence[tuple[str, Sequence[float]]] | None = None,
    overwrite: bool = False,
    atomic: bool = True,
    colors: np.ndarray | None = None,
) -> list[Path]:
    """The parts export of a shape (s2am3d-segment ``--parts-dir`` and the viewer's *Export parts*):
    one file per label plus one ``parts.json`` index, written once.

    A mesh (``faces`` given, ``labels`` per face) gives one mesh per part in ``fmt``; a point cloud
    (``faces`` None, ``labels`` per point) one labelled point PLY per part. Files are
    ``part_{label:03d}.{ext}`` for every label >= 0 and ``unlabelled.{ext}`` for label -1 (if any).
    ``parts.json`` holds ``{"format", "up", "parts": [{"label", "file", "n_faces" and "area" | "n_points",
    and with ``names`` "name" and "color"}]}`` (read back by :func:`s2am3d_core.io.parts.load_labelled`).

    Args:
        out_dir: folder (created if needed).
        vertices: (V, 3) Z-up; faces: (F, 3) or None; labels: (F,) or (V,) int, -1 = unlabelled.
        fmt: "ply", "obj", "glb" or "stl" (point clouds: always "ply").
        up: up axis of the written files (the input's; coordinates are rotated back from Z-up).
        names: (name, RGB colour in [0, 1]) of labels 0, 1, ... (e.g. the viewer's part list).
        overwrite: replace an existing non-empty ``out_dir`` (only if it holds nothing but part
            files and ``parts.json``); False refuses it with an OutputError.
        atomic: False writes straight into ``out_dir`` (for a caller that already holds a
            temporary folder from ``atomic_dir``).
        colors: (V, 3) in [0, 1], a point cloud's own colours (a scan's): each part file keeps
            its points' colours instead of the part's.

    Returns:
        Paths of the part files, in increasing label order (unlabelled last).
    """
    fmt = "ply" if faces is None else str(fmt).lower().lstrip(".")
    if fmt not in PART_FORMATS:
        raise InputError(f"write_part_meshes: unsupported format {fmt!r}; supported: {', '.join(PART_FORMATS)}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    up = check_up(up)
    verts = check_points(vertices, name=f"{out}: vertices")  # a cloud's stay Z-up: write_labelled_points turns them
    f = None if faces is None else _check_faces(faces, len(verts), out)
    if f is not None:
        verts = from_z_up(verts, up)
    lab = _check_labels(labels, len(verts) if f is None else len(f), "points" if f is None else "faces", out)
    if colors is not None and (f is not None or np.shape(colors) != (len(verts), 3)):
        raise InputError(f"{out}: colors must be ({len(verts)}, 3) for a point cloud, got shape {np.shape(colors)}")
    if not atomic:
        return _write_parts_into(out, out, verts, f, lab, fmt, up, names, colors)
    check_output_dir(OutDir("parts folder", out), overwrite=overwrite)
    with atomic_dir(out, replace=True) as tmp:
        return _write_parts_into(tmp, out, verts, f, lab, fmt, up, names, colors)


def write_part_meshes(
    out_dir: str | os.PathLike,
    vertices: np.ndarray,
    faces: np.ndarray,
    face_labels: np.ndarray,
    fmt: str = "ply",
    up: str = "z",
    overwrite: bool = False,
    atomic: bool = True,
) -> list[Path]:
    """:func:`write_parts` for a mesh (``faces`` required; ``face_labels`` (F,) int): one mesh file per
    part plus ``parts.json``, written all or nothing; the files, arguments and return value are
    those of :func:`write_parts`."""
    if faces is None:
        raise InputError(f"{out_dir}: write_part_meshes needs faces (use write_parts for a point cloud)")
    return write_parts(out_dir, vertices, faces, face_labels, fmt=fmt, up=up, overwrite=overwrite, atomic=atomic)


def _write_parts_into(folder: Path, final: Path, verts: np.ndarray, f: np.ndarray | None, lab: np.ndarray,
                      fmt: str, up: str, names, colors: np.ndarray | None = None) -> list[Path]:
    """Write the part files and parts.json into ``folder``; return their paths under ``final``."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    index = []
    for k in [int(k) for k in np.unique(lab) if k >= 0] + ([-1] if (lab < 0).any() else []):
        mask = lab == k if k >= 0 else lab < 0
        name = f"part_{k:03d}.{fmt}" if k >= 0 else f"unlabelled.{fmt}"
        if f is None:  # a point cloud: the part's points, with their label
            write_labelled_points(folder / name, verts[mask], lab[mask], up=up,
                                  colors=None if colors is None else np.asarray(colors)[mask])
            entry = {"label": k, "file": name, "n_points": int(mask.sum())}
        else:
            part = trimesh.Trimesh(verts, f[mask], process=False)
            part.remove_unreferenced_vertices()
            part.visual.vertex_colors = np.append(label_colors([k])[0], 255)
            with atomic_path(folder / name, fsync=False) as tmp:
                part.export(str(tmp), file_type=fmt)
            entry = {"label": k, "file": name, "n_faces": int(mask.sum()), "area": float(part.area)}
        if names is not None and 0 <= k < len(names):
            entry["name"], entry["color"] = str(names[k][0]), [round(float(c), 4) for c in names[k][1]]
        written.append(final / name)
        index.append(entry)
    with atomic_path(folder / "parts.json", fsync=False) as tmp:
        tmp.write_text(json.dumps({"format": fmt, "up": up, "parts": index}, indent=2) + "\n", encoding="utf-8")
    return written


def read_labelled_ply(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Read a file written by :func:`write_labelled_points` or :func:`write_labelled_mesh`.

    Returns:
        (vertices (V, 3) float32, faces (F, 3) int64 or None, labels int64): labels are per
        face (F,) when the file has faces with a ``label`` property, else per vertex (V,)
        and faces is None. A mesh with only a vertex ``label`` gets per-face labels by
        majority of its three vertices (ties: the first vertex's label).

    Raises:
        InputError: missing/unreadable file, no ``label`` property, wrong lengths.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    try:
        with open(p, "rb") as fh:
            kw = load_ply(fh, fix_texture=False, skip_materials=True)
    except Exception as e:
        raise InputError(f"{p}: could not read PLY file ({type(e).__name__}: {e})") from e
    elements = kw.get("metadata", {}).get("_ply_raw", {})
    if "vertices" not in kw:
        raise InputError(f"{p}: the PLY file has no vertices")
    verts = check_points(kw["vertices"], name=str(p))
    faces = kw.get("faces")
    if faces is not None and len(faces) == 0:
        faces = None
    if faces is not None:
        if np.ndim(faces) == 2 and np.shape(faces)[1] != 3:
            raise InputError(f"{p}: labelled PLY faces must be triangles, got {np.shape(faces)[1]}-sided polygons")
        faces = _check_faces(faces, len(verts), p)
    face_lab = _element_property(elements, "face", "label", p)
    vert_lab = _element_property(elements, "vertex", "label", p)
    if faces is not None and face_lab is not None:
        if len(face_lab) != len(faces):
            raise InputError(
                f"{p}: {len(face_lab)} face labels for {len(faces)} triangles "
                "(polygons other than triangles are not supported in labelled files)"
            )
        return verts, faces, face_lab
    if vert_lab is not None:
        if len(vert_lab) != len(verts):
            raise InputError(f"{p}: {len(vert_lab)} vertex labels for {len(verts)} vertices")
        if faces is None:
            return verts, None, vert_lab
        fl = vert_lab[faces]
        maj = np.where(fl[:, 1] == fl[:, 2], fl[:, 1], fl[:, 0])
        return verts, faces, maj
    raise InputError(
        f"{p}: PLY has no 'label' vertex or face property; expected a file written by "
        "s2am3d-segment / s2am3d-gui"
    )


# ----------------------------------------------------------------------------- helpers


def _write_ply(path: Path, elements: list[tuple[str, np.ndarray]], up: str = "z") -> None:
    """Write binary little-endian PLY from named structured arrays (an ``n`` u1 field followed
    by a ``vertex_indices`` field is declared as one list property); ``up`` goes into a comment."""
    ply_types = {"<f4": "float", "<i4": "int", "|u1": "uchar"}
    lines = ["ply", "format binary_little_endian 1.0", "comment written by s2am3d", f"comment {up_comment(up)}"]
    for name, arr in elements:
        lines.append(f"element {name} {len(arr)}")
        for field in arr.dtype.names:
            sub = arr.dtype.fields[field][0]
            if field == "n":
                continue
            if field == "vertex_indices":
                lines.append("property list uchar int vertex_indices")
            else:
                lines.append(f"property {ply_types[sub.str]} {field}")
    header = ("\n".join(lines) + "\nend_header\n").encode("ascii")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(header)
            for _, arr in elements:
                fh.write(arr.tobytes())


def _element_property(elements: dict, element: str, prop: str, path: Path) -> np.ndarray | None:
    """(N,) int64 values of ``element.prop`` from trimesh's raw PLY elements, or None."""
    el = elements.get(element)
    if not el or prop not in el.get("properties", {}):
        return None
    data = el["data"]
    values = np.asarray(data[prop]).reshape(-1)
    if not np.issubdtype(values.dtype, np.integer):
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise InputError(f"{path}: the {element} 'label' property holds non-integer values")
    return values.astype(np.int64)


def _check_labels(labels: np.ndarray, n: int, what: str, path: Path) -> np.ndarray:
    """(n,) integer labels fitting int32, as int64."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or len(lab) != n:
        raise InputError(f"{path}: got labels of shape {lab.shape} for {n} {what}; expected ({n},)")
    if lab.size and not np.issubdtype(lab.dtype, np.integer):
        if not np.issubdtype(lab.dtype, np.floating) or not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)):
            raise InputError(f"{path}: labels must be integers, got dtype {lab.dtype}")
    lab = lab.astype(np.int64)
    if lab.size and (lab.min() < _INT32.min or lab.max() > _INT32.max):
        raise InputError(f"{path}: labels must fit in a 32-bit int, got range [{lab.min()}, {lab.max()}]")
    return lab
