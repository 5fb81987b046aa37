"""Rewrite the parts of a glTF document that trimesh reads wrongly, before it reads the file.

trimesh 5.2 reads these legal glTF constructs into wrong geometry (or none) without a word, or
fails on them; web-optimised and exporter-written files (``gltf-transform optimize``, gltfpack,
Blender) use them:

* **GPU instancing** (``EXT_mesh_gpu_instancing``): a node draws its mesh once per instance, at the
  instance's translation, rotation and scale (per-instance accessors) inside the node's frame, and
  not at the node itself. trimesh ignores the extension and draws one copy at the node, so eight
  bolts become one bolt in the wrong place. Here every instance becomes a child node
  ``"<node>#<k>"`` holding the mesh with that transform: a file's repeated parts are parts of their
  own, grouped by their node.
* **Normalized integer positions** (``KHR_mesh_quantization``): trimesh ignores ``normalized`` and
  reads int16 positions 32767 times too large, while the node transforms that undo the
  quantisation assume the normalized values, so the meshes land far apart, each blown up.
* **Sparse position accessors**: trimesh ignores the sparse substitutions (and reads zeros where an
  accessor has no buffer view).
* **Triangle fans** (primitive mode 6): trimesh skips such a primitive with a debug message, so the
  mesh is missing. Its triangles are written out as a plain triangle list (mode 4).
* **Percent-encoded buffer URIs** (``"my%20part.bin"`` for ``my part.bin``, as the spec asks and
  Blender writes): trimesh looks for the file under the encoded name and fails. Such a URI is
  decoded when the decoded file exists.

Such positions (decoded to float32) and the fans' triangles go to a new buffer (a base64 data URI)
that new or rewritten accessors point to. The rest of the document, and every file it refers to,
stays as it is.
"""
from __future__ import annotations

import base64
import copy
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from ..errors import InputError

INSTANCING = "EXT_mesh_gpu_instancing"

_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
_NORMALIZED_MAX = {np.int8: 127.0, np.uint8: 255.0, np.int16: 32767.0, np.uint16: 65535.0}
_INSTANCE_ATTRIBUTES = {"TRANSLATION": ("translation", "VEC3"), "ROTATION": ("rotation", "VEC4"),
                        "SCALE": ("scale", "VEC3")}


def needs_rewrite(doc: dict) -> bool:
    """Whether ``doc`` (a glTF JSON document) holds anything of the module docstring's list."""
    return bool(_instanced_nodes(doc) or _misread_positions(doc) or _fans(doc) or _escaped_buffers(doc))


def rewrite_gltf(doc: dict, path: Path, glb_binary: bytes | None) -> dict:
    """A copy of ``doc`` that trimesh reads as the file is drawn (module docstring).

    Args:
        doc: the glTF JSON document.
        path: the file (named in errors; its folder holds the external buffers of a .gltf).
        glb_binary: the BIN chunk of a .glb (its buffer without a ``uri``), else None.

    Raises:
        InputError: naming ``path``, for accessor data that cannot be read.
    """
    out = copy.deepcopy(doc)
    for buffer in _escaped_buffers(out):
        if (path.parent / unquote(buffer["uri"])).is_file():
            buffer["uri"] = unquote(buffer["uri"])
    reader = _Accessors(out, path, glb_binary)
    added = bytearray()

    def add_view(values: np.ndarray) -> int:
        out["bufferViews"].append({"buffer": len(out["buffers"]), "byteOffset": len(added), "byteLength": values.nbytes})
        added.extend(values.tobytes())
        return len(out["bufferViews"]) - 1

    for index in _misread_positions(out):
        values = reader.read(index, "VEC3", f"{path}: POSITION accessor {index}").astype(np.float32)
        acc = out["accessors"][index]
        for key in ("normalized", "sparse", "byteOffset"):
            acc.pop(key, None)
        acc.update(bufferView=add_view(values), componentType=5126)
        if len(values):
            acc.update(min=values.min(0).tolist(), max=values.max(0).tolist())
    for prim in _fans(out):
        where = f"{path}: a triangle-fan primitive"
        if "indices" in prim:
            order = reader.read(prim["indices"], "SCALAR", where)[:, 0].astype(np.uint32)
        else:
            order = np.arange(int(out["accessors"][prim["attributes"]["POSITION"]]["count"]), dtype=np.uint32)
        k = np.arange(1, max(len(order) - 1, 1))  # triangle k: the first vertex, vertex k, vertex k + 1
        tris = np.stack([np.full(len(k), order[0]), order[k], order[k + 1]], 1) if len(order) >= 3 else np.zeros((0, 3))
        out["accessors"].append({"bufferView": add_view(tris.astype(np.uint32).reshape(-1)), "componentType": 5125,
                                 "count": int(tris.size), "type": "SCALAR"})
        prim.update(indices=len(out["accessors"]) - 1, mode=4)
    if added:
        out["buffers"].append({"byteLength": len(added),
                               "uri": "data:application/octet-stream;base64," + base64.b64encode(bytes(added)).decode()})
    for index in _instanced_nodes(out):
        _expand_instances(out, index, reader, f"{path}: node {index} ({INSTANCING})")
    for key in ("extensionsUsed", "extensionsRequired"):
        if isinstance(out.get(key), list):
            out[key] = [e for e in out[key] if e != INSTANCING]
    return out


def _instanced_nodes(doc: dict) -> list[int]:
    nodes = doc.get("nodes")
    return [i for i, n in enumerate(nodes if isinstance(nodes, list) else ())
            if isinstance(n, dict) and isinstance(n.get("extensions"), dict) and INSTANCING in n["extensions"]]


def _escaped_buffers(doc: dict) -> list[dict]:
    """The buffers whose URI names a file with percent-escapes."""
    buffers = doc.get("buffers")
    return [b for b in buffers if isinstance(b, dict) and isinstance(b.get("uri"), str)
            and not b["uri"].startswith("data:") and "%" in b["uri"]] if isinstance(buffers, list) else []


def _primitives(doc: dict) -> list[dict]:
    meshes = doc.get("meshes")
    return [p for m in (meshes if isinstance(meshes, list) else ()) if isinstance(m, dict)
            for p in (m.get("primitives") or []) if isinstance(p, dict)]


def _fans(doc: dict) -> list[dict]:
    """The triangle-fan primitives (mode 6) that have positions."""
    return [p for p in _primitives(doc) if p.get("mode") == 6 and isinstance(p.get("attributes"), dict)
            and isinstance(p["attributes"].get("POSITION"), int)]


def _misread_positions(doc: dict) -> list[int]:
    """Indices of the POSITION accessors that are sparse or normalized integers."""
    accessors = doc.get("accessors")
    if not isinstance(accessors, list):
        return []
    found = set()
    for prim in _primitives(doc):
        a = prim.get("attributes", {}).get("POSITION") if isinstance(prim.get("attributes"), dict) else None
        if isinstance(a, int) and 0 <= a < len(accessors) and isinstance(accessors[a], dict):
            acc = accessors[a]
            if "sparse" in acc or (acc.get("normalized") and acc.get("componentType") != 5126):
                found.add(a)
    return sorted(found)


def _expand_instances(doc: dict, index: int, reader: "_Accessors", where: str) -> None:
    """In place: node ``index``'s instances become child nodes holding its mesh."""
    nodes = doc["nodes"]
    node = nodes[index]
    attributes = node["extensions"].pop(INSTANCING)
    attributes = attributes.get("attributes") if isinstance(attributes, dict) else None
    if not isinstance(attributes, dict) or not attributes or "mesh" not in node:
        return  # nothing to draw: the node stays as it is
    values = {name: reader.read(a, _INSTANCE_ATTRIBUTES[name][1], where)
              for name, a in attributes.items() if name in _INSTANCE_ATTRIBUTES}
    counts = {len(v) for v in values.values()}
    if len(counts) > 1:
        raise InputError(f"{where}: its instance attributes have different counts {sorted(counts)}")
    mesh = node.pop("mesh")
    base = node.get("name") or f"node{index}"
    children = node.setdefault("children", [])
    for k in range(counts.pop() if counts else 0):
        child = {"name": f"{base}#{k}", "mesh": mesh}
        for name, v in values.items():
            child[_INSTANCE_ATTRIBUTES[name][0]] = [float(x) for x in v[k]]
        children.append(len(nodes))
        nodes.append(child)


class _Accessors:
    """Reads accessors of one document as float64 arrays (dequantised, sparse values applied)."""

    def __init__(self, doc: dict, path: Path, glb_binary: bytes | None):
        self.doc, self.path, self.glb_binary = doc, path, glb_binary
        self.buffers: dict[int, bytes] = {}

    def read(self, index, kind: str, where: str) -> np.ndarray:
        """(count, width) values of accessor ``index``, which must be of type ``kind``."""
        try:
            acc = self.doc["accessors"][index]
            if acc.get("type") != kind:
                raise ValueError(f"expected a {kind} accessor, got {acc.get('type')!r}")
            dtype = np.dtype(_COMPONENTS[acc["componentType"]])
            count, width = int(acc["count"]), _WIDTH[kind]
            if "bufferView" in acc:
                values = self._view(acc["bufferView"], int(acc.get("byteOffset", 0)), dtype, count, width)
            else:
                values = np.zeros((count, width))
            sparse = acc.get("sparse")
            if sparse:
                at = sparse["indices"]
                rows = self._view(at["bufferView"], int(at.get("byteOffset", 0)),
                                  np.dtype(_COMPONENTS[at["componentType"]]), int(sparse["count"]), 1)[:, 0]
                new = sparse["values"]
                values[rows.astype(np.int64)] = self._view(new["bufferView"], int(new.get("byteOffset", 0)),
                                                           dtype, int(sparse["count"]), width)
        except InputError:
            raise
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise InputError(f"{where}: cannot read accessor {index!r} ({type(e).__name__}: {e})") from None
        if acc.get("normalized") and dtype.type in _NORMALIZED_MAX:
            values = np.maximum(values / _NORMALIZED_MAX[dtype.type], -1.0)
        if not np.isfinite(values).all():
            raise InputError(f"{where}: accessor {index} holds NaN or infinite values")
        return values

    def _view(self, view_index, offset: int, dtype: np.dtype, count: int, width: int) -> np.ndarray:
        """(count, width) float64 of a buffer view, from ``offset`` bytes in, honouring its stride."""
        view = self.doc["bufferViews"][view_index]
        data = self._buffer(int(view["buffer"]))
        start = int(view.get("byteOffset", 0)) + offset
        row = width * dtype.itemsize
        stride = int(view.get("byteStride", 0)) or row
        if count == 0:
            return np.zeros((0, width))
        if start < 0 or start + (count - 1) * stride + row > min(len(data), int(view.get("byteOffset", 0)) + int(view["byteLength"])):
            raise ValueError(f"{count} values of {row} bytes do not fit in buffer view {view_index}")
        raw = np.lib.stride_tricks.as_strided(np.frombuffer(data, np.uint8, offset=start), shape=(count, row),
                                              strides=(stride, 1))
        return np.ascontiguousarray(raw).view(dtype).reshape(count, width).astype(np.float64)

    def _buffer(self, index: int) -> bytes:
        """The bytes of buffer ``index``: the GLB's BIN chunk, a base64 data URI or a file beside the file."""
        if index not in self.buffers:
            uri = self.doc["buffers"][index].get("uri")
            if uri is None:
                if self.glb_binary is None:
                    raise ValueError(f"buffer {index} has no uri and the file has no binary chunk")
                self.buffers[index] = self.glb_binary
            elif uri.startswith("data:"):
                self.buffers[index] = base64.b64decode(uri.split(",", 1)[1])
            else:
                try:
                    self.buffers[index] = (self.path.parent / uri).read_bytes()
                except OSError as e:
                    raise InputError(f"{self.path}: cannot read its buffer {uri!r} ({e.strerror or e})") from None
        return self.buffers[index]
