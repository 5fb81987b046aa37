"""glTF that trimesh alone reads into wrong geometry: GPU-instanced meshes (EXT_mesh_gpu_instancing)
load at every instance (trimesh drew one copy at the instanced node's origin, so eight bolts became one
bolt in the wrong place); quantized (normalized int16) and sparse positions load where the file puts
them (trimesh read the first 32767 times too large, and ignored the second's substitutions)."""
import json

import numpy as np
import pytest
import trimesh

from s2am3d_core.cli import segment as segment_cli
from s2am3d_core.data.gltf import load_gltf_parts
from s2am3d_core.errors import InputError
from s2am3d_core.io import load_shape
from s2am3d_core.io.mesh_file import pack_glb, unpack_glb

SHIFTS = np.array([[0.3, 0.1, 0.3], [-0.3, 0.1, 0.3], [0.3, 0.1, -0.3]])
# a quarter turn about y for the second instance, none for the others (x, y, z, w)
TURNS = np.array([[0, 0, 0, 1], [0, np.sqrt(0.5), 0, np.sqrt(0.5)], [0, 0, 0, 1]])
SIZES = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [0.5, 0.5, 0.5]])
BOLT = (0.1, 0.1, 0.2)


def _scene(instances: bool, turns: np.ndarray = TURNS, sizes: np.ndarray = SIZES) -> trimesh.Scene:
    """A plate and a bolt; with ``instances`` False the bolt is placed three times as plain nodes
    (at SHIFTS, turned and scaled by ``turns`` and ``sizes``)."""
    s = trimesh.Scene()
    s.add_geometry(trimesh.creation.box((1.0, 0.05, 1.0)), node_name="plate", geom_name="plate")
    bolt = trimesh.creation.box(BOLT)
    if instances:
        s.add_geometry(bolt, node_name="bolt", geom_name="bolt")
        return s
    for k, (t, q, z) in enumerate(zip(SHIFTS, turns, sizes)):
        m = trimesh.transformations.quaternion_matrix([q[3], q[0], q[1], q[2]])
        m[:3, :3] = m[:3, :3] @ np.diag(z)
        m[:3, 3] = t
        s.add_geometry(bolt, node_name=f"bolt{k}", geom_name="bolt", transform=m)
    return s


def _instanced(doc: dict, data: bytes, attributes: dict[str, tuple[np.ndarray, int, bool]]) -> tuple[dict, bytes]:
    """Add the instance attributes {name: (values, componentType, normalized)} to node "bolt"."""
    ext = {}
    for name, (values, ctype, normalized) in attributes.items():
        raw = values.astype({5126: np.float32, 5122: np.int16}[ctype]).tobytes()
        raw += b"\0" * (-len(raw) % 4)
        doc["bufferViews"].append({"buffer": 0, "byteOffset": len(data), "byteLength": len(raw)})
        acc = {"bufferView": len(doc["bufferViews"]) - 1, "componentType": ctype, "count": len(values),
               "type": "VEC4" if values.shape[1] == 4 else "VEC3"}
        if normalized:
            acc["normalized"] = True
        doc["accessors"].append(acc)
        ext[name] = len(doc["accessors"]) - 1
        data += raw
    doc["buffers"][0]["byteLength"] = len(data)
    node = next(n for n in doc["nodes"] if n.get("name") == "bolt")
    node["extensions"] = {"EXT_mesh_gpu_instancing": {"attributes": ext}}
    doc["extensionsUsed"] = doc.get("extensionsUsed", []) + ["EXT_mesh_gpu_instancing"]
    return doc, data


def _glb(path, doc: dict, data: bytes):
    path.write_bytes(pack_glb(doc, data))
    return path


def _rows(v: np.ndarray) -> np.ndarray:
    v = np.round(np.asarray(v, dtype=np.float64), 5)
    return v[np.lexsort(v.T[::-1])]


def test_instances_are_drawn_where_the_file_puts_them(tmp_path):
    doc, data = unpack_glb(_scene(instances=True).export(file_type="glb"))
    path = _glb(tmp_path / "bolts.glb", *_instanced(doc, data, {"TRANSLATION": (SHIFTS, 5126, False)}))
    shape = load_shape(path)
    assert len(shape.faces) == 12 * 4  # the plate and three bolts, not one bolt at the origin
    plain = tmp_path / "plain.glb"
    plain.write_bytes(_scene(instances=False, turns=np.tile([0, 0, 0, 1], (3, 1)), sizes=np.ones((3, 3))).export(
        file_type="glb"))
    assert np.allclose(_rows(shape.vertices), _rows(load_shape(plain).vertices), atol=1e-6)
    parts = load_gltf_parts(path)
    # finest level: each bolt and the plate; above it the instanced node groups its bolts
    assert [len(np.unique(level)) for level in parts.face_labels] == [4, 2]
    assert sorted(parts.part_names[0].values()) == ["bolt/bolt#0", "bolt/bolt#1", "bolt/bolt#2", "plate"]


def test_gltf_with_rotation_and_scale_matches_plain_nodes(tmp_path):
    files = _scene(instances=True).export(file_type="gltf")
    doc = json.loads(files["model.gltf"])
    data = files[doc["buffers"][0]["uri"]]
    quantised = np.round(TURNS * 32767)  # KHR_mesh_quantization: normalized int16 rotations
    doc, data = _instanced(doc, data, {"TRANSLATION": (SHIFTS, 5126, False), "ROTATION": (quantised, 5122, True),
                                       "SCALE": (SIZES, 5126, False)})
    doc["buffers"][0]["uri"] = "instances.bin"
    (tmp_path / "instances.bin").write_bytes(data)
    for name, blob in files.items():  # the export's other buffers
        if name != "model.gltf":
            (tmp_path / name).write_bytes(blob)
    gltf = tmp_path / "bolts.gltf"
    gltf.write_text(json.dumps(doc))
    plain = tmp_path / "plain.glb"
    plain.write_bytes(_scene(instances=False).export(file_type="glb"))
    a, b = load_shape(gltf), load_shape(plain)
    assert np.allclose(_rows(a.vertices), _rows(b.vertices), atol=1e-4)
    assert len(np.unique(load_gltf_parts(gltf).face_labels[0])) == 4


def test_unreadable_instances_are_a_clear_error(tmp_path, capsys):
    doc, data = unpack_glb(_scene(instances=True).export(file_type="glb"))
    doc, data = _instanced(doc, data, {"TRANSLATION": (SHIFTS, 5126, False), "SCALE": (SIZES[:2], 5126, False)})
    bad = _glb(tmp_path / "bad.glb", doc, data)
    for load in (load_shape, load_gltf_parts):
        with pytest.raises(InputError, match=r"bad\.glb: node \d+ \(EXT_mesh_gpu_instancing\): .*different counts"):
            load(bad)
    doc["accessors"][-1]["bufferView"] = 99
    missing = _glb(tmp_path / "missing.glb", doc, data)
    with pytest.raises(InputError, match=r"missing\.glb: node \d+ .*cannot read accessor"):
        load_shape(missing)
    assert segment_cli.main([str(bad), "-o", str(tmp_path / "out.ply"), "--auto", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: node") and "Traceback" not in err
    assert not (tmp_path / "out.ply").exists()


def _positions(doc: dict, node_name: str) -> dict:
    node = next(n for n in doc["nodes"] if n.get("name") == node_name)
    return doc["meshes"][node["mesh"]]["primitives"][0]["attributes"]


def _add_view(doc: dict, data: bytes, raw: bytes, **extra) -> tuple[int, bytes]:
    raw += b"\0" * (-len(raw) % 4)
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(data), "byteLength": len(raw), **extra})
    doc["buffers"][0]["byteLength"] = len(data) + len(raw)
    return len(doc["bufferViews"]) - 1, data + raw


def test_quantized_and_sparse_positions_load_where_the_file_puts_them(tmp_path):
    """A bolt quantized as gltf-transform does (normalized int16, the node's scale undoes it) and a
    plate whose positions are a sparse accessor over a moved copy: both as in the plain file."""
    plain = trimesh.Scene()
    plain.add_geometry(trimesh.creation.box((1.0, 0.05, 1.0)), node_name="plate", geom_name="plate")
    plain.add_geometry(trimesh.creation.box(BOLT), node_name="bolt", geom_name="bolt",
                       transform=trimesh.transformations.translation_matrix(SHIFTS[0]))
    doc, data = unpack_glb(plain.export(file_type="glb"))
    bolt = _positions(doc, "bolt")
    acc = doc["accessors"][bolt["POSITION"]]
    view = doc["bufferViews"][acc["bufferView"]]
    v = np.frombuffer(data, np.float32, acc["count"] * 3, view.get("byteOffset", 0)).reshape(-1, 3)
    half = np.abs(v).max()
    q = np.round(v / half * 32767).astype(np.int16)
    rows = np.concatenate([q, np.zeros((len(q), 1), np.int16)], 1).tobytes()  # 8-byte rows
    index, data = _add_view(doc, data, rows, byteStride=8)
    doc["accessors"].append({"bufferView": index, "componentType": 5122, "normalized": True, "count": len(q),
                             "type": "VEC3", "min": q.min(0).tolist(), "max": q.max(0).tolist()})
    bolt["POSITION"] = len(doc["accessors"]) - 1
    node = next(n for n in doc["nodes"] if n.get("name") == "bolt")
    node["scale"] = [float(half)] * 3
    plate = _positions(doc, "plate")
    acc = doc["accessors"][plate["POSITION"]]
    view = doc["bufferViews"][acc["bufferView"]]
    true = np.frombuffer(data, np.float32, acc["count"] * 3, view.get("byteOffset", 0)).reshape(-1, 3)
    moved = true.copy()
    moved[::2] += 5.0  # every other vertex wrong in the base data; the sparse values put them back
    base, data = _add_view(doc, data, moved.tobytes())
    rows = np.arange(0, len(true), 2, dtype=np.uint16)
    at, data = _add_view(doc, data, rows.tobytes())
    new, data = _add_view(doc, data, true[::2].tobytes())
    doc["accessors"].append({"bufferView": base, "componentType": 5126, "count": len(true), "type": "VEC3",
                             "sparse": {"count": len(rows), "indices": {"bufferView": at, "componentType": 5123},
                                        "values": {"bufferView": new}}})
    plate["POSITION"] = len(doc["accessors"]) - 1
    doc["extensionsUsed"] = doc["extensionsRequired"] = ["KHR_mesh_quantization"]
    packed = _glb(tmp_path / "packed.glb", doc, data)
    reference = tmp_path / "plain.glb"
    reference.write_bytes(plain.export(file_type="glb"))
    a, b = load_shape(packed), load_shape(reference)
    assert np.allclose(_rows(a.vertices), _rows(b.vertices), atol=1e-4)
    assert np.array_equal(load_gltf_parts(packed).face_labels, load_gltf_parts(reference).face_labels)


def test_percent_encoded_buffer_uri(tmp_path):
    """A .gltf named with a space, as Blender writes it: "my%20part.bin" for the file my part.bin."""
    files = _scene(instances=False).export(file_type="gltf")
    doc = json.loads(files["model.gltf"])
    for k, buffer in enumerate(doc["buffers"]):
        (tmp_path / f"my part {k}.bin").write_bytes(files[buffer["uri"]])
        buffer["uri"] = f"my%20part%20{k}.bin"
    gltf = tmp_path / "my part.gltf"
    gltf.write_text(json.dumps(doc))
    plain = tmp_path / "plain.glb"
    plain.write_bytes(_scene(instances=False).export(file_type="glb"))
    assert np.allclose(_rows(load_shape(gltf).vertices), _rows(load_shape(plain).vertices))
    assert len(np.unique(load_gltf_parts(gltf).face_labels[0])) == 4
    (tmp_path / "my part 0.bin").unlink()  # a buffer that is not there is still named in the error
    with pytest.raises(InputError, match=r"my part\.gltf: could not read .* my%20part%200\.bin"):
        load_shape(gltf)


def test_triangle_fans_are_read(tmp_path):
    """A plate whose two faces are triangle fans (mode 6), with and without an index accessor."""
    plain = trimesh.Scene()
    plain.add_geometry(trimesh.creation.box((1.0, 0.05, 1.0)), node_name="plate", geom_name="plate")
    doc, data = unpack_glb(plain.export(file_type="glb"))
    corners = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]], np.float32)
    doc["meshes"][0]["primitives"] = []
    bottom, data = _add_view(doc, data, corners.tobytes())
    both, data = _add_view(doc, data, np.concatenate([corners, corners + [0, 1, 0]]).astype(np.float32).tobytes())
    fan, data = _add_view(doc, data, np.array([4, 5, 6, 7], np.uint16).tobytes())
    doc["accessors"] += [
        {"bufferView": bottom, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [1, 0, 1]},
        {"bufferView": both, "componentType": 5126, "count": 8, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 1]},
        {"bufferView": fan, "componentType": 5123, "count": 4, "type": "SCALAR"}]
    n = len(doc["accessors"])
    doc["meshes"][0]["primitives"] = [
        {"attributes": {"POSITION": n - 3}, "mode": 6},  # the four corners in order, no indices
        {"attributes": {"POSITION": n - 2}, "indices": n - 1, "mode": 6}]  # the top square by index
    shape = load_shape(_glb(tmp_path / "fans.glb", doc, data))
    assert len(shape.faces) == 4
    assert np.isclose(trimesh.Trimesh(shape.vertices, shape.faces, process=False).area, 2.0)  # two unit squares
