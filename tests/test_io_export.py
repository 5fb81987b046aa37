"""Labelled PLY export/import, per-part export and atomic writes (s2am3d_core.io.export)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from s2am3d_core.errors import InputError
from s2am3d_core.io import (
    atomic_path,
    label_colors,
    load_shape,
    read_labelled_ply,
    write_labelled_mesh,
    write_labelled_points,
    write_part_meshes,
)


def _header(path: Path) -> tuple[list[str], bytes]:
    """(header lines, binary body) of a PLY file."""
    raw = path.read_bytes()
    end = raw.index(b"end_header\n") + len(b"end_header\n")
    return raw[:end].decode("ascii").splitlines(), raw[end:]


def _element_props(lines: list[str]) -> dict[str, list[str]]:
    """{element name: ["<type> <name>", ...]} from PLY header lines."""
    out: dict[str, list[str]] = {}
    current = None
    for ln in lines:
        parts = ln.split()
        if parts[0] == "element":
            current = parts[1]
            out[current] = []
        elif parts[0] == "property":
            out[current].append(" ".join(parts[1:]))
    return out


def _labelled_mesh():
    a = trimesh.creation.box()
    b = trimesh.creation.icosphere(subdivisions=1, radius=0.4)
    b.apply_translation([2.0, 0, 0])
    mesh = trimesh.util.concatenate([a, b])
    labels = np.concatenate([np.zeros(12, np.int64), np.full(len(b.faces), 3)])
    labels[5] = -1
    return mesh.vertices.astype(np.float32), mesh.faces.astype(np.int64), labels


# ----------------------------------------------------------------------------- labelled PLY


def test_labelled_points_round_trip_exact(tmp_path):
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(257, 3)).astype(np.float32)
    labels = rng.integers(-1, 40, size=257)
    path = write_labelled_points(tmp_path / "pts.ply", pts, labels)
    assert path == tmp_path / "pts.ply"
    v, f, lab = read_labelled_ply(path)
    assert f is None
    assert v.dtype == np.float32 and lab.dtype == np.int64
    np.testing.assert_array_equal(v, pts)
    np.testing.assert_array_equal(lab, labels)
    # the file is also a plain point cloud for load_shape
    shape = load_shape(path)
    assert not shape.is_mesh
    np.testing.assert_array_equal(shape.vertices, pts)


def test_labelled_points_header_and_binary_layout(tmp_path):
    pts = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], np.float32)
    path = write_labelled_points(tmp_path / "p.ply", pts, np.array([7, -1]))
    lines, body = _header(path)
    assert lines[0] == "ply" and lines[1] == "format binary_little_endian 1.0"
    props = _element_props(lines)
    assert list(props) == ["vertex"]
    assert props["vertex"] == ["float x", "float y", "float z", "int label",
                               "uchar red", "uchar green", "uchar blue"]
    rec = np.frombuffer(body, dtype=[("xyz", "<f4", 3), ("label", "<i4"), ("rgb", "u1", 3)])
    np.testing.assert_array_equal(rec["xyz"], pts)
    np.testing.assert_array_equal(rec["label"], [7, -1])
    np.testing.assert_array_equal(rec["rgb"], label_colors(np.array([7, -1])))


def test_labelled_mesh_round_trip_exact(tmp_path):
    verts, faces, labels = _labelled_mesh()
    path = write_labelled_mesh(tmp_path / "mesh.ply", verts, faces, labels)
    v, f, lab = read_labelled_ply(path)
    np.testing.assert_array_equal(v, verts)
    np.testing.assert_array_equal(f, faces)
    np.testing.assert_array_equal(lab, labels)
    assert f.dtype == np.int64 and lab.dtype == np.int64
    shape = load_shape(path)  # still an ordinary mesh with the same face order
    np.testing.assert_array_equal(shape.faces, faces)


def test_labelled_mesh_header_types_and_colours(tmp_path):
    verts, faces, labels = _labelled_mesh()
    path = write_labelled_mesh(tmp_path / "mesh.ply", verts, faces, labels)
    lines, body = _header(path)
    props = _element_props(lines)
    assert props["vertex"][:3] == ["float x", "float y", "float z"]
    assert {"uchar red", "uchar green", "uchar blue"} <= set(props["vertex"])
    assert props["face"] == ["list uchar int vertex_indices", "int label",
                             "uchar red", "uchar green", "uchar blue"]
    nv = len(verts)
    vrec = np.frombuffer(body[: nv * 15], dtype=[("xyz", "<f4", 3), ("rgb", "u1", 3)])
    frec = np.frombuffer(body[nv * 15:], dtype=[("n", "u1"), ("idx", "<i4", 3), ("label", "<i4"), ("rgb", "u1", 3)])
    assert (frec["n"] == 3).all()
    np.testing.assert_array_equal(frec["idx"], faces)
    np.testing.assert_array_equal(frec["label"], labels)
    np.testing.assert_array_equal(frec["rgb"], label_colors(labels))
    # vertices of the sphere (all faces labelled 3) carry part 3's colour
    sphere_v = np.unique(faces[labels == 3])
    sphere_only = np.setdiff1d(sphere_v, faces[labels != 3])
    assert (vrec["rgb"][sphere_only] == label_colors(np.array([3]))[0]).all()
    # trimesh sees the colours too
    m = trimesh.load(path, process=False)
    assert m.visual.kind in ("vertex", "face")


def test_label_colors_deterministic_and_distinct():
    c = label_colors(np.arange(-1, 20))
    assert c.dtype == np.uint8 and c.shape == (21, 3)
    np.testing.assert_array_equal(c, label_colors(np.arange(-1, 20)))
    np.testing.assert_array_equal(c[0], [160, 160, 160])
    assert len({tuple(x) for x in c.tolist()}) == 21


def test_read_accepts_ascii_resave(tmp_path):
    text = (
        "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
        "element face 2\nproperty list uchar int vertex_indices\nproperty int label\nend_header\n"
        "0 0 0\n1 0 0\n0 1 0\n1 1 0\n3 0 1 2 4\n3 1 3 2 -1\n"
    )
    (tmp_path / "a.ply").write_text(text)
    v, f, lab = read_labelled_ply(tmp_path / "a.ply")
    assert v.shape == (4, 3)
    np.testing.assert_array_equal(f, [[0, 1, 2], [1, 3, 2]])
    np.testing.assert_array_equal(lab, [4, -1])


def test_read_mesh_with_vertex_labels_only_votes_per_face(tmp_path):
    text = (
        "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
        "property int label\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n"
        "0 0 0 1\n1 0 0 1\n0 1 0 2\n1 1 0 2\n3 0 1 2\n3 1 3 2\n"
    )
    (tmp_path / "v.ply").write_text(text)
    _, f, lab = read_labelled_ply(tmp_path / "v.ply")
    assert f.shape == (2, 3)
    np.testing.assert_array_equal(lab, [1, 2])


def test_read_errors(tmp_path):
    plain = tmp_path / "plain.ply"
    plain.write_bytes(trimesh.creation.box().export(file_type="ply"))
    with pytest.raises(InputError, match="PLY has no 'label' vertex or face property") as info:
        read_labelled_ply(plain)
    assert "plain.ply" in str(info.value) and "s2am3d-segment / s2am3d-gui" in str(info.value)

    head = ("ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
            "element face {}\nproperty list uchar int vertex_indices\nproperty int label\nend_header\n"
            "0 0 0\n1 0 0\n1 1 0\n0 1 0\n")
    quad = tmp_path / "quad.ply"
    quad.write_text(head.format(1) + "4 0 1 2 3 5\n")
    with pytest.raises(InputError, match="quad.ply.*must be triangles"):
        read_labelled_ply(quad)
    mixed = tmp_path / "mixed.ply"  # trimesh splits the quad: 3 triangles but 2 labels
    mixed.write_text(head.format(2) + "4 0 1 2 3 5\n3 0 1 2 6\n")
    with pytest.raises(InputError, match="mixed.ply.*2 face labels for 3 triangles"):
        read_labelled_ply(mixed)

    with pytest.raises(InputError, match="missing.ply"):
        read_labelled_ply(tmp_path / "missing.ply")
    junk = tmp_path / "junk.ply"
    junk.write_bytes(b"\x00\x01 not a ply")
    with pytest.raises(InputError, match="junk.ply"):
        read_labelled_ply(junk)
    floats = tmp_path / "floats.ply"
    floats.write_text("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
                      "property float z\nproperty float label\nend_header\n0 0 0 0.5\n1 1 1 2\n")
    with pytest.raises(InputError, match="floats.ply.*non-integer"):
        read_labelled_ply(floats)


@pytest.mark.parametrize(
    "call",
    [
        lambda p: write_labelled_points(p, np.zeros((3, 3)), np.zeros(2, np.int64)),
        lambda p: write_labelled_points(p, np.zeros((3, 3)), np.zeros((3, 1), np.int64)),
        lambda p: write_labelled_points(p, np.zeros((3, 3)), np.array([0.5, 1, 2])),
        lambda p: write_labelled_points(p, np.zeros((3, 3)), np.array([0, 1, 2**40])),
        lambda p: write_labelled_points(p, np.full((3, 3), np.nan), np.zeros(3, np.int64)),
        lambda p: write_labelled_mesh(p, np.zeros((3, 3)), np.array([[0, 1, 2]]), np.zeros(2, np.int64)),
        lambda p: write_labelled_mesh(p, np.zeros((3, 3)), np.array([[0, 1, 3]]), np.zeros(1, np.int64)),
        lambda p: write_labelled_mesh(p, np.zeros((3, 3)), np.array([[0, 1]]), np.zeros(1, np.int64)),
    ],
)
def test_writer_validation_leaves_no_file(tmp_path, call):
    path = tmp_path / "out.ply"
    with pytest.raises(InputError, match="out.ply"):
        call(path)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- parts


@pytest.mark.parametrize("fmt", ["ply", "obj", "glb", "stl"])
def test_write_part_meshes(tmp_path, fmt):
    verts, faces, labels = _labelled_mesh()
    out = tmp_path / "parts"
    paths = write_part_meshes(out, verts, faces, labels, fmt=fmt)
    assert [p.name for p in paths] == [f"part_000.{fmt}", f"part_003.{fmt}", f"unlabelled.{fmt}"]
    index = json.loads((out / "parts.json").read_text())
    assert index["format"] == fmt
    entries = {e["label"]: e for e in index["parts"]}
    assert set(entries) == {0, 3, -1}
    assert entries[0]["n_faces"] == 11 and entries[-1]["n_faces"] == 1
    assert entries[3]["n_faces"] == int((labels == 3).sum())
    full = trimesh.Trimesh(verts, faces, process=False)
    assert sum(e["area"] for e in index["parts"]) == pytest.approx(full.area, rel=1e-5)
    for p in paths:
        shape = load_shape(p)
        entry = next(e for e in index["parts"] if e["file"] == p.name)
        assert len(shape.faces) == entry["n_faces"]
        if fmt != "stl":  # STL stores 3 separate vertices per triangle
            # only the vertices used by the part are kept
            assert len(shape.vertices) == len(np.unique(shape.faces))
    sphere = load_shape(out / f"part_003.{fmt}")
    assert sphere.vertices[:, 0].min() > 1.5  # no box vertex leaked in
    assert not any(x.name.endswith(".tmp") or ".tmp." in x.name for x in out.iterdir())


def test_write_part_meshes_no_unlabelled_file_when_all_labelled(tmp_path):
    verts, faces, labels = _labelled_mesh()
    labels[5] = 0
    paths = write_part_meshes(tmp_path, verts, faces, labels)
    assert [p.name for p in paths] == ["part_000.ply", "part_003.ply"]
    assert (tmp_path / "parts.json").is_file()


def test_write_part_meshes_errors(tmp_path):
    verts, faces, labels = _labelled_mesh()
    with pytest.raises(InputError, match="fbx"):
        write_part_meshes(tmp_path, verts, faces, labels, fmt="fbx")
    with pytest.raises(InputError, match=r"labels of shape \(3,\)"):
        write_part_meshes(tmp_path, verts, faces, labels[:3])
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- atomic writes


def test_atomic_path_leaves_nothing_when_writer_raises(tmp_path):
    target = tmp_path / "out.ply"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half written")
            raise RuntimeError("writer crashed")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_previous_file_when_writer_raises(tmp_path):
    target = write_labelled_points(tmp_path / "out.ply", np.zeros((2, 3)), np.array([1, 2]))
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"garbage")
            raise RuntimeError("writer crashed")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.ply"]


def test_write_parts_one_rule_for_meshes_and_clouds(tmp_path):
    """write_parts (used by s2am3d-segment --parts-dir and the viewer): per-label files, unlabelled last,
    one parts.json with the up axis and, when given, names and colours; clouds reopen with their labels."""
    from s2am3d_core.io import write_parts
    from s2am3d_core.io.parts import load_labelled

    rng = np.random.default_rng(0)
    pts = rng.random((60, 3)).astype(np.float32)
    lab = np.repeat([1, 0, -1], 20)
    files = write_parts(tmp_path / "cloud", pts, None, lab, fmt="obj", up="y", names=[("seat", (1, 0, 0)),
                                                                                       ("leg", (0, 0.5, 1))])
    assert [f.name for f in files] == ["part_000.ply", "part_001.ply", "unlabelled.ply"]
    index = json.loads((tmp_path / "cloud" / "parts.json").read_text())
    assert index["up"] == "y" and index["format"] == "ply"
    assert [(e["label"], e["n_points"], e.get("name")) for e in index["parts"]] == [(0, 20, "seat"), (1, 20, "leg"),
                                                                                     (-1, 20, None)]
    back = load_labelled(tmp_path / "cloud")
    assert sorted(np.bincount(back.labels + 1).tolist()) == [20, 20, 20]
    assert [p["name"] for p in back.parts] == ["seat", "leg"]
    np.testing.assert_allclose(np.sort(back.shape.vertices, axis=0), np.sort(pts, axis=0), atol=1e-6)
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    f = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3]])
    files = write_parts(tmp_path / "mesh", v, f, np.array([0, 0, -1]), names=[("a", (1, 1, 1))])
    index = json.loads((tmp_path / "mesh" / "parts.json").read_text())
    assert [f.name for f in files] == ["part_000.ply", "unlabelled.ply"]
    assert index["parts"][0]["name"] == "a" and index["parts"][0]["n_faces"] == 2 and "name" not in index["parts"][1]
