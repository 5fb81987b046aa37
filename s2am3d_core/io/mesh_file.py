"""Read a triangle mesh, scene or PLY point cloud file with trimesh into flat arrays, with checks.

The lowest layer of :mod:`s2am3d_core.io`: :func:`~s2am3d_core.io.load.load_shape` and the URDF
reader (:mod:`.urdf`, for the meshes a robot's links refer to) both read files through it.
"""
from __future__ import annotations

import importlib.util
import io
import json
import struct
from pathlib import Path

import numpy as np
import trimesh

from ..errors import InputError
from .gltf_rewrite import needs_rewrite, rewrite_gltf


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
    """Read a mesh/scene/point-cloud file with trimesh and flatten it. Materials and textures are
    not read (an OBJ scan with an 8192-pixel texture: 2.67 -> 1.54 s, peak 897 -> 327 MiB); the
    faces and their order are the same either way (checked on OBJ files with several materials and
    on 90 DAE/STL robot meshes), so saved sessions and caches of such files stay valid.

    Returns (vertices (V, 3), faces (F, 3) or None when the file holds only points, colours (V, 3)
    float32 in [0, 1] of a point cloud whose points all carry one (a coloured scan), else None).
    """
    ext = path.suffix.lower()
    try:
        scene = (load_gltf_scene(path) if ext in (".gltf", ".glb")
                 else trimesh.load_scene(str(path), process=False, skip_materials=True))
    except InputError:
        raise
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


#: glTF extensions that compress mesh data, and the package that decodes each (None: no decoder).
#: Without its decoder trimesh fills the geometry with zeros and only logs a warning.
MESH_COMPRESSION = {"KHR_draco_mesh_compression": "DracoPy", "EXT_meshopt_compression": None}


def load_gltf_scene(path: Path) -> trimesh.Scene:
    """trimesh's scene of a .gltf / .glb after :func:`check_gltf`, with what trimesh alone reads wrongly
    (GPU instancing, quantized or sparse positions, triangle fans, percent-encoded buffer URIs)
    rewritten first by :mod:`.gltf_rewrite`. Materials and textures are not read (s2am3d draws
    parts, not materials; vertex colours still are); decoding large textures was most of the load.

    Raises:
        InputError: from the checks; trimesh's own exceptions on a file it cannot read.
    """
    doc = check_gltf(path)
    if doc is None or not needs_rewrite(doc):
        return trimesh.load_scene(str(path), process=False, skip_materials=True)
    binary = _glb_chunks(path, binary=True)[1] if path.suffix.lower() == ".glb" else None
    doc = rewrite_gltf(doc, path, binary)
    text = pack_glb(doc, binary) if path.suffix.lower() == ".glb" else json.dumps(doc).encode("utf-8")
    return trimesh.load_scene(io.BytesIO(text), file_type=path.suffix.lower()[1:], process=False, skip_materials=True,
                              resolver=trimesh.resolvers.FilePathResolver(str(path.parent)))


def check_gltf(path: Path) -> dict | None:
    """Fail early with a clear message on a .gltf that is not JSON (trimesh's error is cryptic) and on
    a .gltf / .glb whose meshes need a decoder that is not there (:data:`MESH_COMPRESSION`).

    Returns:
        the glTF JSON document; None for a .glb whose header is not a GLB's (trimesh then says what
        is wrong).
    """
    if path.suffix.lower() == ".gltf":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise InputError(f"{path}: not a valid glTF file (the .gltf must be JSON: {type(e).__name__}: {e})") from None
        if not isinstance(doc, dict) or "asset" not in doc:
            raise InputError(f"{path}: not a valid glTF file (no 'asset' object)")
    else:
        doc = _glb_chunks(path)[0]
    required = doc.get("extensionsRequired") if isinstance(doc, dict) else None
    for ext in required if isinstance(required, list) else ():
        if ext not in MESH_COMPRESSION:
            continue
        decoder = MESH_COMPRESSION[ext]
        if decoder is None:
            raise InputError(f"{path}: its meshes are compressed with {ext}, which s2am3d cannot decode; "
                             "export the file again without mesh compression")
        if importlib.util.find_spec(decoder) is None:
            raise InputError(f"{path}: its meshes are compressed with {ext}; reading them needs the "
                             f"{decoder} package, a dependency of s2am3d: pip install {decoder}")
    return doc


def pack_glb(doc: dict, binary: bytes | None = None) -> bytes:
    """A binary glTF: the 12-byte header, the JSON chunk, then the BIN chunk when ``binary`` is given."""
    text = json.dumps(doc).encode("utf-8")
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I", len(text)) + b"JSON" + text
    if binary is not None:
        binary += b"\0" * (-len(binary) % 4)
        body += struct.pack("<I", len(binary)) + b"BIN\0" + binary
    return b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body


def unpack_glb(data: bytes) -> tuple[dict | None, bytes | None]:
    """(the JSON document, the BIN chunk or None when there is none) of a binary glTF's bytes, or
    (None, None) when they do not start like one (header: magic, version, length; then the JSON
    chunk's length and type)."""
    if len(data) < 20 or data[:4] != b"glTF" or data[16:20] != b"JSON":
        return None, None
    size = struct.unpack("<I", data[12:16])[0]
    try:
        doc = json.loads(data[20:20 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None, None
    start = 20 + size  # the BIN chunk's header, if any (one copy of its data, however large)
    binary = None
    if len(data) >= start + 8 and data[start + 4:start + 8] == b"BIN\0":
        length = struct.unpack("<I", data[start:start + 4])[0]
        binary = bytes(memoryview(data)[start + 8:start + 8 + length])
    return (doc, binary) if isinstance(doc, dict) else (None, None)


def _glb_chunks(path: Path, binary: bool = False) -> tuple[dict | None, bytes | None]:
    """:func:`unpack_glb` of a .glb file; without ``binary`` only its header and JSON chunk are read."""
    try:
        with open(path, "rb") as f:
            if binary:
                data = f.read()
            else:
                data = f.read(20)
                if len(data) == 20 and data[:4] == b"glTF":
                    data += f.read(struct.unpack("<I", data[12:16])[0])
    except (OSError, MemoryError, OverflowError):
        return None, None
    return unpack_glb(data)
