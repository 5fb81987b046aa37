"""Expand glTF GPU instancing (``EXT_mesh_gpu_instancing``) into plain nodes before trimesh reads a file.

A node with this extension draws its mesh once per instance, at the instance's translation,
rotation and scale (per-instance accessors) inside the node's own frame, and not at the node
itself. trimesh ignores the extension: it would load one copy at the node's origin, so eight bolts
would become one bolt in the wrong place, without a word. Here every instance becomes a child node
``"<node>#<k>"`` holding the mesh with that transform, so the scene trimesh loads is the scene the
file draws, and a file's repeated parts are parts of their own (the node groups them).
"""
from __future__ import annotations

import base64
import copy
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from ..errors import InputError

EXTENSION = "EXT_mesh_gpu_instancing"

_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"VEC3": 3, "VEC4": 4}
_NORMALIZED_MAX = {np.int8: 127.0, np.uint8: 255.0, np.int16: 32767.0, np.uint16: 65535.0}
_ATTRIBUTES = {"TRANSLATION": ("translation", "VEC3"), "ROTATION": ("rotation", "VEC4"), "SCALE": ("scale", "VEC3")}


def uses_instancing(doc: dict) -> bool:
    """Whether any node of the glTF document ``doc`` draws its mesh through GPU instancing."""
    nodes = doc.get("nodes")
    return isinstance(nodes, list) and any(
        isinstance(n, dict) and isinstance(n.get("extensions"), dict) and EXTENSION in n["extensions"] for n in nodes)


def expand_instancing(doc: dict, path: Path, glb_binary: bytes | None) -> dict:
    """A copy of ``doc`` with every instanced node's instances as child nodes (module docstring).

    Args:
        doc: the glTF JSON document.
        path: the file (named in errors; its folder holds the external buffers of a .gltf).
        glb_binary: the BIN chunk of a .glb (its buffer without a ``uri``), else None.

    Raises:
        InputError: naming ``path``, for instance data that cannot be read.
    """
    out = copy.deepcopy(doc)
    nodes = out["nodes"]
    buffers: dict[int, bytes] = {}
    for index in range(len(nodes)):
        node = nodes[index]
        extensions = node.get("extensions") if isinstance(node, dict) else None
        ext = extensions.pop(EXTENSION, None) if isinstance(extensions, dict) else None
        if ext is None:
            continue
        where = f"{path}: node {index} ({EXTENSION})"
        attributes = ext.get("attributes") if isinstance(ext, dict) else None
        if not isinstance(attributes, dict) or not attributes or "mesh" not in node:
            continue  # nothing to draw: the node stays as it is
        values = {}
        for name, accessor in attributes.items():
            if name in _ATTRIBUTES:
                values[name] = _read_accessor(out, accessor, _ATTRIBUTES[name][1], path, glb_binary, buffers, where)
        counts = {len(v) for v in values.values()}
        if len(counts) > 1:
            raise InputError(f"{where}: its instance attributes have different counts {sorted(counts)}")
        count = counts.pop() if counts else 0
        mesh = node.pop("mesh")
        base = node.get("name") or f"node{index}"
        children = node.setdefault("children", [])
        for k in range(count):
            child = {"name": f"{base}#{k}", "mesh": mesh}
            for name, v in values.items():
                child[_ATTRIBUTES[name][0]] = [float(x) for x in v[k]]
            children.append(len(nodes))
            nodes.append(child)
    for key in ("extensionsUsed", "extensionsRequired"):
        if isinstance(out.get(key), list):
            out[key] = [e for e in out[key] if e != EXTENSION]
    return out


def _read_accessor(doc: dict, index, kind: str, path: Path, glb_binary: bytes | None,
                   buffers: dict[int, bytes], where: str) -> np.ndarray:
    """(count, width) float64 values of accessor ``index`` (dequantised when normalized)."""
    try:
        acc = doc["accessors"][index]
        dtype = np.dtype(_COMPONENTS[acc["componentType"]])
        width, count = _WIDTH[kind], int(acc["count"])
        if acc.get("type") != kind or "sparse" in acc:
            raise ValueError(f"expected a dense {kind} accessor, got {acc.get('type')!r}"
                             + (" with sparse values" if "sparse" in acc else ""))
        view = doc["bufferViews"][acc["bufferView"]]
        data = _buffer(doc, int(view["buffer"]), path, glb_binary, buffers)
        start = int(view.get("byteOffset", 0)) + int(acc.get("byteOffset", 0))
        stride = int(view.get("byteStride", 0)) or width * dtype.itemsize
        rows = np.lib.stride_tricks.as_strided(
            np.frombuffer(data, dtype=np.uint8, count=(count - 1) * stride + width * dtype.itemsize, offset=start),
            shape=(count, width * dtype.itemsize), strides=(stride, 1)) if count else np.zeros((0, width * dtype.itemsize), np.uint8)
        values = np.ascontiguousarray(rows).view(dtype).reshape(count, width).astype(np.float64)
    except InputError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise InputError(f"{where}: cannot read its instance accessor {index!r} ({type(e).__name__}: {e})") from None
    if acc.get("normalized") and dtype.type in _NORMALIZED_MAX:
        values = np.maximum(values / _NORMALIZED_MAX[dtype.type], -1.0)
    if not np.isfinite(values).all():
        raise InputError(f"{where}: its instance accessor {index} holds NaN or infinite values")
    return values


def _buffer(doc: dict, index: int, path: Path, glb_binary: bytes | None, cache: dict[int, bytes]) -> bytes:
    """The bytes of buffer ``index``: the GLB's BIN chunk, a base64 data URI or a file beside ``path``."""
    if index not in cache:
        uri = doc["buffers"][index].get("uri")
        if uri is None:
            if glb_binary is None:
                raise ValueError(f"buffer {index} has no uri and the file has no binary chunk")
            cache[index] = glb_binary
        elif uri.startswith("data:"):
            cache[index] = base64.b64decode(uri.split(",", 1)[1])
        else:
            try:
                cache[index] = (path.parent / unquote(uri)).read_bytes()
            except OSError as e:
                raise InputError(f"{path}: cannot read its buffer {uri!r} ({e.strerror or e})") from None
    return cache[index]
