"""Read segmentation results back as a shape with labels: our labelled PLYs and part folders.

Two layouts are recognised (both written by ``s2am3d-segment`` and ``s2am3d-gui``):

* a labelled PLY (a ``label`` property on faces or points, see :mod:`.export`), with the optional
  ``<name>.parts.json`` beside it holding part names and colours;
* a part folder: ``parts.json`` listing ``{"label", "file", ...}`` and one mesh or labelled point
  file per part (``unlabelled.*`` for label -1).

Labels come from the files' structure, so they are ground truth for evaluation and editable parts
in the viewer; they never reach the model.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .export import read_labelled_ply
from .load import LoadedShape, load_shape
from .up import check_up


@dataclass
class LabelledShape:
    """A shape and its labels.

    Attributes:
        shape: the geometry, Z-up (as :func:`load_shape` returns it).
        labels: (F,) int64 per face of a mesh, or (V,) per point of a point cloud; -1 = unlabelled.
        parts: ``{"label": int, "name": str, "color": [r, g, b] in [0, 1]}`` known from a
            ``parts.json`` index (may be empty, or miss some labels).
    """

    shape: LoadedShape
    labels: np.ndarray
    parts: list[dict] = field(default_factory=list)


def is_labelled(path: str | os.PathLike) -> bool:
    """True for a part folder (holds ``parts.json``) or a PLY whose header declares a ``label`` property."""
    p = Path(path)
    if p.is_dir():
        return (p / "parts.json").is_file()
    if p.suffix.lower() != ".ply" or not p.is_file():
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return False
    header = head.split(b"end_header", 1)[0].decode("ascii", "replace")
    return any(line.split()[-1:] == ["label"] and line.startswith("property") for line in header.splitlines())


def scan_colors(path: str | os.PathLike, shape: LoadedShape) -> np.ndarray | None:
    """The shape's own point colours (:attr:`LoadedShape.colors`, a coloured scan), or None, also
    for a labelled file, whose colours show its parts."""
    return None if shape.colors is None or is_labelled(path) else shape.colors


def load_labelled(path: str | os.PathLike, up: str | None = None) -> LabelledShape:
    """Read a labelled PLY or a part folder (see the module docstring).

    Args:
        path: the ``.ply`` file or the folder.
        up: the files' up axis; None = what they record (PLY header, ``parts.json``), else z.

    Raises:
        InputError: not one of the two layouts, unreadable files, mismatched lengths.
    """
    p = Path(path)
    if p.is_dir():
        return _load_folder(p, up)
    shape = load_shape(p, up=up)
    verts, faces, labels = read_labelled_ply(p)
    n = len(shape.faces) if shape.is_mesh else len(shape.vertices)
    if (faces is None) == shape.is_mesh or len(labels) != n:
        raise InputError(f"{p}: the labels ({len(labels)}) do not match the geometry ({n} "
                         f"{'faces' if shape.is_mesh else 'points'})")
    index = p.with_suffix(".parts.json")
    return LabelledShape(shape, labels.astype(np.int64), _parts_from_index(index) if index.is_file() else [])


def _read_index(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable parts index ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), list):
        raise InputError(f"{path}: not a parts index (expected {{\"parts\": [...]}})")
    return data


def _parts_from_index(path: Path) -> list[dict]:
    """Names and colours of the parts of a ``parts.json`` (entries without them are skipped)."""
    out = []
    for entry in _read_index(path)["parts"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), int) or entry["label"] < 0:
            continue
        part = {"label": int(entry["label"]), "name": str(entry.get("name") or f"part_{entry['label']}")}
        color = entry.get("color")
        if (isinstance(color, list) and len(color) == 3
                and all(isinstance(c, (int, float)) and 0.0 <= c <= 1.0 for c in color)):
            part["color"] = [float(c) for c in color]
        out.append(part)
    return out


def _load_folder(folder: Path, up: str | None) -> LabelledShape:
    index_path = folder / "parts.json"
    if not index_path.is_file():
        raise InputError(f"{folder}: a folder opens as parts only when it holds parts.json "
                         "(written by s2am3d-segment --parts-dir or the viewer's Export parts)")
    index = _read_index(index_path)
    if up is None and index.get("up") is not None:
        up = check_up(index["up"])
    verts, faces, labels = [], [], []
    offset, is_mesh = 0, None
    for entry in index["parts"]:
        if not isinstance(entry, dict) or "file" not in entry or not isinstance(entry.get("label"), int):
            raise InputError(f"{index_path}: every part needs an integer 'label' and a 'file'")
        f = folder / str(entry["file"])
        if f.resolve().parent != folder.resolve():
            raise InputError(f"{index_path}: part file {entry['file']!r} is outside the folder")
        shape = load_shape(f, up=up)
        if is_mesh is None:
            is_mesh = shape.is_mesh
        elif is_mesh != shape.is_mesh:
            raise InputError(f"{folder}: mixes meshes and point clouds ({f.name})")
        verts.append(shape.vertices)
        if shape.is_mesh:
            faces.append(shape.faces + offset)
            labels.append(np.full(len(shape.faces), max(int(entry["label"]), -1), np.int64))
        else:
            labels.append(np.full(len(shape.vertices), max(int(entry["label"]), -1), np.int64))
        offset += len(shape.vertices)
    if not verts:
        raise InputError(f"{index_path}: lists no part files")
    shape = LoadedShape(path=folder, vertices=np.concatenate(verts).astype(np.float32),
                        faces=np.concatenate(faces) if is_mesh else None, up=up or "z")
    return LabelledShape(shape, np.concatenate(labels), _parts_from_index(index_path))
