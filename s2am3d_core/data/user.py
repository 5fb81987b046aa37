"""Load a user's own labelled files (for fine-tuning on their data).

Supported files:

* ``.ply`` written by ``s2am3d-segment`` / ``s2am3d-gui`` (see
  :func:`s2am3d_core.io.read_labelled_ply`): a mesh with a per-face ``label`` becomes a
  :class:`PartMesh`, a point cloud with a per-vertex ``label`` a :class:`PartPoints`;
* ``.glb`` / ``.gltf`` scene graphs via :func:`s2am3d_core.data.gltf.load_gltf_parts`;
* ``.urdf`` robots via :func:`s2am3d_core.data.urdf.load_urdf_parts`.

A labelled PLY holds one level (``L = 1``). With ``split=True`` (the default) parts made of
disconnected pieces are split (face connectivity for meshes, DBSCAN for point clouds) and the split
is added as a finer level 0 when it differs from the user's labelling, so the result has ``L = 2``.
A labelling with a single part and no unlabelled elements carries no information and gives ``L = 0``
(unless the split finds several pieces).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import InputError
from ..geometry import normalize_points
from ..io import read_labelled_ply
from ..io.sample import check_surface
from ..io.urdf import reject_xacro
from .dbscan import split_disconnected, split_mesh_disconnected
from .gltf import GLTF_EXTENSIONS, load_gltf_parts
from .hierarchy import clean_levels
from .types import PartMesh, PartPoints
from .urdf import URDF_EXTENSIONS, load_urdf_parts

USER_EXTENSIONS: tuple[str, ...] = (".ply",) + GLTF_EXTENSIONS + URDF_EXTENSIONS
# files that accompany supported ones (glTF buffers/textures, URDF meshes, materials): skipped silently
COMPANION_EXTENSIONS: tuple[str, ...] = (
    ".bin", ".png", ".jpg", ".jpeg", ".ktx2", ".webp", ".mtl", ".stl", ".obj", ".dae", ".json", ".md", ".txt",
)


def load_labelled_points(path: str | os.PathLike, split: bool = True) -> PartPoints:
    """Read a labelled point-cloud PLY (per-vertex ``label``) as :class:`PartPoints`.

    Points are normalised (:func:`s2am3d_core.geometry.normalize_points`); labels (L, N) int64 with
    L = 1 (2 with ``split`` when a part is disconnected, 0 for a single-part labelling).

    Raises:
        InputError: unreadable file, no ``label`` property, or a file that is a mesh.
    """
    p = Path(path)
    verts, faces, labels = read_labelled_ply(p)
    if faces is not None:
        raise InputError(f"{p}: this labelled PLY is a mesh; use load_labelled_file()")
    norm, _, _ = normalize_points(verts)
    levels = [labels.astype(np.int64)]
    if split:
        levels.insert(0, split_disconnected(norm, labels))
    return PartPoints(points=norm, labels=clean_levels(np.stack(levels)), name=p.stem, category="")


def load_labelled_file(path: str | os.PathLike, split: bool = True) -> PartMesh | PartPoints:
    """Read one supported user file (see the module docstring).

    Returns:
        PartMesh for meshes (labelled PLY, GLB/glTF, URDF), PartPoints for labelled point clouds.

    Raises:
        InputError: naming the file, for missing, unsupported or broken files.
    """
    p = Path(path)
    item = _read_labelled(p, split)
    if isinstance(item, PartMesh):
        check_surface(item.vertices, item.faces, p)
    return item


def _read_labelled(p: Path, split: bool) -> PartMesh | PartPoints:
    ext = p.suffix.lower()
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    if ext in GLTF_EXTENSIONS:
        return load_gltf_parts(p)
    if ext in URDF_EXTENSIONS:
        return load_urdf_parts(p)
    if ext != ".ply":
        reject_xacro(p)
        raise InputError(
            f"{p}: unsupported file type {ext or '(none)'}; supported: {', '.join(USER_EXTENSIONS)}"
        )
    verts, faces, labels = read_labelled_ply(p)
    if faces is None:
        return load_labelled_points(p, split=split)
    labels = labels.astype(np.int64)
    levels = [labels]
    names = [{}]
    if split:
        levels.insert(0, split_mesh_disconnected(verts, faces, labels))
        names.insert(0, {})
    fl, names = clean_levels(np.stack(levels), names)
    return PartMesh(vertices=verts.astype(np.float32), faces=faces.astype(np.int64), face_labels=fl,
                    name=p.stem, category="", part_names=names)


def labelled_files(directory: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """The supported files of a folder, sorted by path (hidden files ignored).

    Unsupported extensions are skipped with a warning that names the file; companion files (glTF
    ``.bin`` buffers, textures, URDF meshes) silently.

    Raises:
        InputError: the folder does not exist.
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"{d}: folder not found")
    files = sorted(x for x in (d.rglob("*") if recursive else d.iterdir())
                   if x.is_file() and not x.name.startswith("."))
    chosen = []
    for f in files:
        ext = f.suffix.lower()
        if ext in USER_EXTENSIONS:
            chosen.append(f)
        elif ext not in COMPANION_EXTENSIONS:
            warnings.warn(f"{f}: skipping unsupported file type {ext or '(none)'} "
                          f"(supported: {', '.join(USER_EXTENSIONS)})", stacklevel=3)
    return chosen


def load_folder(
    directory: str | os.PathLike, recursive: bool = False, split: bool = True, progress: bool = True
) -> list[PartMesh | PartPoints]:
    """Load every supported file of a folder (sorted by path).

    Unsupported extensions are skipped with a warning (companion files such as glTF ``.bin`` buffers,
    textures and URDF meshes silently); hidden files are ignored.

    Args:
        directory: the folder.
        recursive: also look in sub-folders.
        split: see :func:`load_labelled_file`.
        progress: show a tqdm progress bar.

    Raises:
        InputError: the folder does not exist, or a supported file is broken (the message names it).
    """
    d = Path(directory)
    chosen = labelled_files(d, recursive=recursive)
    out: list[PartMesh | PartPoints] = []
    for f in tqdm(chosen, desc=f"loading {d.name or d}", unit="file", disable=not progress, leave=False):
        try:
            out.append(load_labelled_file(f, split=split))
        except InputError as e:
            msg = str(e)
            raise InputError(msg if str(f) in msg else f"{f}: {msg}") from e
        except Exception as e:  # anything unexpected from a parser: still name the file
            raise InputError(f"{f}: could not load ({type(e).__name__}: {e})") from e
    return out


def load_labelled_folder(folder: str | os.PathLike, flag: str = "--user-dir",
                         progress: bool = False) -> list[PartMesh | PartPoints]:
    """:func:`load_folder`, but a folder without any labelled file is an InputError that names the
    files it skipped (or says it is empty), prefixed with ``flag``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{flag} {folder}: not a folder")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = load_folder(folder, progress=progress)
    if not items:
        skipped = sorted(x.name for x in folder.iterdir() if x.is_file() and not x.name.startswith("."))
        why = (f"; skipped {', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''} "
               f"(supported: {', '.join(USER_EXTENSIONS)})" if skipped else " (the folder is empty)")
        raise InputError(f"{flag} {folder}: no labelled files found{why}")
    for w in caught:  # the skipped files of a folder that has labelled ones: still say so
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return items
