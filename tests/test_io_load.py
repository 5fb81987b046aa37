"""Loading meshes / point clouds (s2am3d_core.io.load) and sampling them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from s2am3d_core.errors import InputError
from s2am3d_core.io.up import from_z_up
from s2am3d_core.io import LoadedShape, load_shape, sample_surface, shape_points

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MESH_EXTS = ["glb", "gltf", "obj", "ply", "stl", "off"]


def _export(geom, path: Path) -> Path:
    """Export a trimesh geometry/scene to ``path``; multi-file formats (gltf) write all parts."""
    data = geom.export(file_type=path.suffix[1:])
    if isinstance(data, dict):  # gltf: {"model.gltf": ..., "gltf_buffer_0.bin": ...}
        for name, blob in data.items():
            (path if name.endswith(".gltf") else path.parent / name).write_bytes(blob)
    else:
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _two_boxes() -> trimesh.Trimesh:
    big = trimesh.creation.box(extents=[2.0, 2.0, 2.0])
    small = trimesh.creation.box(extents=[0.5, 0.5, 0.5])
    small.apply_translation([5.0, 0.0, 0.0])
    return trimesh.util.concatenate([big, small])


# ----------------------------------------------------------------------------- meshes


@pytest.mark.parametrize("ext", MESH_EXTS)
def test_mesh_round_trip(tmp_path, ext):
    box = trimesh.creation.box(extents=[1.0, 2.0, 3.0])
    box.apply_translation([1.0, -2.0, 0.5])
    path = _export(box, tmp_path / f"box.{ext}")
    shape = load_shape(path)
    assert isinstance(shape, LoadedShape)
    assert shape.is_mesh and shape.path == path
    assert shape.vertices.dtype == np.float32 and shape.vertices.shape[1] == 3
    assert shape.faces.dtype == np.int64 and shape.faces.shape == (12, 3)
    assert shape.faces.min() >= 0 and shape.faces.max() < len(shape.vertices)
    assert shape.up == ("y" if ext in ("glb", "gltf") else "z")  # glTF is Y-up: turned Z-up at load
    own = from_z_up(shape.vertices, shape.up)
    np.testing.assert_allclose(own.min(0), box.bounds[0], atol=1e-5)
    np.testing.assert_allclose(own.max(0), box.bounds[1], atol=1e-5)
    # surface area survives (no faces lost or duplicated)
    area = trimesh.Trimesh(shape.vertices, shape.faces, process=False).area
    assert area == pytest.approx(box.area, rel=1e-5)


def test_path_accepts_str_and_uppercase_extension(tmp_path):
    path = _export(trimesh.creation.box(), tmp_path / "BOX.OBJ")
    shape = load_shape(str(path))
    assert shape.is_mesh and len(shape.faces) == 12


def test_ply_face_order_is_preserved(tmp_path):
    mesh = trimesh.creation.icosphere(subdivisions=1)
    rng = np.random.default_rng(0)
    faces = mesh.faces[rng.permutation(len(mesh.faces))]
    m = trimesh.Trimesh(mesh.vertices, faces, process=False)
    shape = load_shape(_export(m, tmp_path / "s.ply"))
    np.testing.assert_array_equal(shape.faces, faces)


@pytest.mark.parametrize("ext", ["glb", "gltf"])
def test_scene_flattened_with_node_transforms(tmp_path, ext):
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(), node_name="a",
                       transform=trimesh.transformations.translation_matrix([10.0, 0.0, 0.0]))
    scene.add_geometry(trimesh.creation.box(extents=[2.0, 2.0, 2.0]), node_name="b",
                       transform=trimesh.transformations.scale_matrix(3.0))
    rot = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1])
    rot[:3, 3] = [0.0, 20.0, 0.0]
    scene.add_geometry(trimesh.creation.box(extents=[4.0, 1.0, 1.0]), node_name="c", transform=rot)
    shape = load_shape(_export(scene, tmp_path / f"scene.{ext}"), up="z")  # raw coordinates
    assert shape.is_mesh and len(shape.faces) == 36 and len(shape.vertices) >= 24
    np.testing.assert_allclose(shape.vertices.min(0), [-3.0, -3.0, -3.0], atol=1e-5)
    np.testing.assert_allclose(shape.vertices.max(0), [10.5, 22.0, 3.0], atol=1e-5)
    # the rotated box now spans 4 along y around (0, 20, 0)
    near_c = shape.vertices[shape.vertices[:, 1] > 10]
    np.testing.assert_allclose(np.ptp(near_c, axis=0), [1.0, 4.0, 1.0], atol=1e-5)


def test_scene_same_geometry_instanced_twice(tmp_path):
    scene = trimesh.Scene()
    box = trimesh.creation.box()
    scene.add_geometry(box, geom_name="box", node_name="n1")
    scene.add_geometry(box, geom_name="box", node_name="n2",
                       transform=trimesh.transformations.translation_matrix([0.0, 0.0, 5.0]))
    shape = load_shape(_export(scene, tmp_path / "inst.glb"), up="z")
    assert len(shape.faces) == 24
    assert shape.vertices[:, 2].max() == pytest.approx(5.5)


def test_scene_skips_non_triangle_geometry(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(), node_name="mesh")
    scene.add_geometry(trimesh.PointCloud(np.array([[100.0, 0.0, 0.0], [0.0, 100.0, 0.0]])), node_name="pts")
    shape = load_shape(_export(scene, tmp_path / "mixed.glb"))
    assert shape.is_mesh and len(shape.faces) == 12
    assert np.abs(shape.vertices).max() == pytest.approx(0.5)


def test_scene_of_points_only_is_a_point_cloud(tmp_path):
    pts = np.random.default_rng(0).random((20, 3))
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.PointCloud(pts), transform=trimesh.transformations.translation_matrix([5.0, 0, 0]))
    shape = load_shape(_export(scene, tmp_path / "pts.glb"))
    assert not shape.is_mesh and shape.faces is None
    np.testing.assert_allclose(np.sort(shape.vertices[:, 0]), np.sort(pts[:, 0] + 5.0), atol=1e-5)


def test_shared_truck_glb():
    path = SHARED_DATA / "CesiumMilkTruck.glb"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    shape = load_shape(path)
    assert shape.is_mesh
    assert shape.vertices.shape == (3564, 3) and shape.faces.shape == (3624, 3)
    extent = shape.vertices.max(0) - shape.vertices.min(0)
    assert extent.max() == pytest.approx(4.87, abs=0.05)  # the truck is ~4.9 units long
    pts, fi = shape_points(shape, 1000, seed=1)
    assert pts.shape == (1000, 3) and fi.max() < len(shape.faces)


# ----------------------------------------------------------------------------- point clouds


def test_ply_point_cloud(tmp_path):
    pts = np.random.default_rng(0).random((50, 3)).astype(np.float32)
    shape = load_shape(_export(trimesh.PointCloud(pts), tmp_path / "pc.ply"))
    assert not shape.is_mesh
    np.testing.assert_array_equal(shape.vertices, pts)


@pytest.mark.parametrize("cols", [3, 6])
def test_npy_point_cloud(tmp_path, cols):
    arr = np.random.default_rng(0).random((40, cols))
    np.save(tmp_path / "pc.npy", arr)
    shape = load_shape(tmp_path / "pc.npy")
    assert not shape.is_mesh and shape.vertices.dtype == np.float32
    np.testing.assert_allclose(shape.vertices, arr[:, :3], rtol=1e-6)


@pytest.mark.parametrize(
    "name,text",
    [
        ("a.xyz", "0 0 0\n1 2 3\n4 5 6\n"),
        ("b.txt", "0,0,0\n1,2,3\n4,5,6\n"),
        ("c.txt", "0, 0, 0, 255, 0, 0\n1, 2, 3, 0, 255, 0\n4, 5, 6, 0, 0, 255\n"),
        ("d.xyz", "# comment\nx y z\n\n0\t0\t0\t0.1\n1 2 3 0.2\n4 5 6 0.3\n"),
    ],
)
def test_text_point_cloud(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    shape = load_shape(tmp_path / name)
    assert not shape.is_mesh
    np.testing.assert_array_equal(shape.vertices, [[0, 0, 0], [1, 2, 3], [4, 5, 6]])


def test_single_point_text_file(tmp_path):
    (tmp_path / "one.xyz").write_text("1 2 3\n")
    assert load_shape(tmp_path / "one.xyz").vertices.shape == (1, 3)


# ----------------------------------------------------------------------------- errors


def _write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _bad_files(tmp: Path) -> dict[str, Path]:
    nan_obj = "v 0 0 nan\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
    oor_ply = trimesh.exchange.ply.export_ply(trimesh.Trimesh(np.eye(3), [[0, 1, 5]], process=False))
    np.save(tmp / "wrong_shape.npy", np.zeros((4, 2)))
    np.save(tmp / "empty.npy", np.zeros((0, 3)))
    np.save(tmp / "nan.npy", np.array([[0.0, 0.0, np.inf]]))
    (tmp / "folder.obj").mkdir()
    return {
        "missing": tmp / "does_not_exist.obj",
        "folder": tmp / "folder.obj",
        "unknown_ext": _write(tmp / "model.fbx", b"xx"),
        "no_ext": _write(tmp / "model", b"xx"),
        "corrupt_glb": _write(tmp / "corrupt.glb", b"this is not a glb" * 10),
        "corrupt_gltf": _write(tmp / "corrupt.gltf", "{ not json"),
        "gltf_missing_buffer": _write(
            tmp / "nobuf.gltf",
            '{"asset": {"version": "2.0"}, "buffers": [{"uri": "missing.bin", "byteLength": 36}],'
            ' "bufferViews": [{"buffer": 0, "byteLength": 36}],'
            ' "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],'
            ' "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],'
            ' "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0}',
        ),
        "corrupt_ply": _write(tmp / "corrupt.ply", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nend_header\n1\n"),
        "corrupt_npy": _write(tmp / "corrupt.npy", b"\x93NUMPY garbage"),
        "corrupt_off": _write(tmp / "corrupt.off", ""),
        "empty_obj": _write(tmp / "empty.obj", "# nothing here\n"),
        "empty_ply": _write(tmp / "empty.ply", "ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\n"
                            "property float y\nproperty float z\nend_header\n"),
        "empty_npy": tmp / "empty.npy",
        "empty_xyz": _write(tmp / "empty.xyz", "# only a comment\n\n"),
        "wrong_shape_npy": tmp / "wrong_shape.npy",
        "two_column_txt": _write(tmp / "two.txt", "1 2\n3 4\n"),
        "ragged_xyz": _write(tmp / "ragged.xyz", "1 2 3\n4 5\n"),
        "binary_txt": _write(tmp / "binary.txt", b"\xff\xfe\x00\x01" * 8),
        "nan_obj": _write(tmp / "nan.obj", nan_obj),
        "nan_npy": tmp / "nan.npy",
        "nan_xyz": _write(tmp / "nan.xyz", "0 0 0\nnan 1 1\n"),
        "face_out_of_range_ply": _write(tmp / "oor.ply", oor_ply),
        "face_out_of_range_off": _write(tmp / "oor.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n"),
        "face_out_of_range_obj": _write(tmp / "oor.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n"),
    }


BAD_KEYS = [
    "missing", "folder", "unknown_ext", "no_ext", "corrupt_glb", "corrupt_gltf", "gltf_missing_buffer",
    "corrupt_ply", "corrupt_npy", "corrupt_off", "empty_obj", "empty_ply", "empty_npy", "empty_xyz",
    "wrong_shape_npy", "two_column_txt", "ragged_xyz", "binary_txt", "nan_obj", "nan_npy", "nan_xyz",
    "face_out_of_range_ply", "face_out_of_range_off", "face_out_of_range_obj",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_file_raises_input_error_naming_file(tmp_path, key):
    path = _bad_files(tmp_path)[key]
    with pytest.raises(InputError) as info:
        load_shape(path)
    assert isinstance(info.value, ValueError)
    assert path.name in str(info.value)


def test_error_messages_are_specific(tmp_path):
    files = _bad_files(tmp_path)
    checks = {
        "missing": "not found",
        "unknown_ext": ".glb .gltf .obj .ply .stl .off",
        "nan_obj": "NaN",
        "nan_npy": "NaN",
        "face_out_of_range_ply": "outside [0, 3)",
        "empty_obj": "no triangles and no points",
        "wrong_shape_npy": "(N, 3)",
    }
    for key, fragment in checks.items():
        with pytest.raises(InputError) as info:
            load_shape(files[key])
        assert fragment in str(info.value), (key, str(info.value))


# ----------------------------------------------------------------------------- sampling


def test_shape_points_mesh(tmp_path):
    shape = load_shape(_export(trimesh.creation.box(), tmp_path / "b.ply"))
    pts, fi = shape_points(shape, 500, seed=3)
    assert pts.shape == (500, 3) and pts.dtype == np.float32
    assert fi.shape == (500,) and fi.dtype == np.int64 and fi.max() < 12
    assert np.abs(pts).max() <= 0.5 + 1e-6
    pts2, fi2 = shape_points(shape, 500, seed=3)
    np.testing.assert_array_equal(pts, pts2)
    np.testing.assert_array_equal(fi, fi2)
    # every point lies on the face it is attributed to (its plane contains the point)
    m = trimesh.Trimesh(shape.vertices, shape.faces, process=False)
    d = np.einsum("ij,ij->i", pts - m.triangles[fi, 0], m.face_normals[fi])
    assert np.abs(d).max() < 1e-5


def test_shape_points_point_cloud_subsample_and_keep_all():
    pts = np.random.default_rng(0).random((100, 3)).astype(np.float32)
    shape = LoadedShape(Path("cloud.npy"), pts, None)
    sub, fi = shape_points(shape, 30, seed=0)
    assert fi is None and sub.shape == (30, 3)
    rows = {tuple(r) for r in pts.tolist()}
    assert all(tuple(r) in rows for r in sub.tolist())
    assert len({tuple(r) for r in sub.tolist()}) == 30  # without replacement
    whole, fi = shape_points(shape, 500)
    assert fi is None and whole.shape == (100, 3)
    np.testing.assert_array_equal(whole, pts)


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_shape_points_bad_n(n):
    shape = LoadedShape(Path("x.npy"), np.zeros((4, 3), np.float32), None)
    with pytest.raises(InputError):
        shape_points(shape, n)


def test_area_weighted_sampling_proportional(tmp_path):
    mesh = _two_boxes()
    shape = load_shape(_export(mesh, tmp_path / "two.ply"))
    n = 20000
    pts, fi = shape_points(shape, n, seed=0)
    frac_small = float((pts[:, 0] > 2.5).mean())
    expected = (6 * 0.5**2) / (6 * 0.5**2 + 6 * 2.0**2)  # 1.5 / 25.5 ≈ 0.0588
    assert frac_small == pytest.approx(expected, abs=0.01)
    # the same through sample_surface directly
    p2, _ = sample_surface(shape.vertices, shape.faces, n, seed=1)
    assert float((p2[:, 0] > 2.5).mean()) == pytest.approx(expected, abs=0.01)


def test_collada_opens_with_the_up_axis_it_declares(tmp_path):
    """A .dae (the visual meshes of most robot descriptions) opens directly, turned Z-up from the
    axis its <up_axis> names (Y_UP when it names none, as COLLADA says)."""
    import trimesh

    text = trimesh.exchange.dae.export_collada(trimesh.creation.box(extents=(1, 3, 1))).decode()
    assert "<up_axis>Y_UP</up_axis>" in text
    tall_along = {}
    for name, body in (("y_up", text), ("z_up", text.replace("Y_UP", "Z_UP")),
                       ("none", text.replace("<up_axis>Y_UP</up_axis>", ""))):
        path = tmp_path / f"{name}.dae"
        path.write_text(body)
        shape = load_shape(path)
        assert shape.faces is not None and len(shape.faces) == 12
        tall_along[name] = (shape.up, int(np.argmax(np.ptp(shape.vertices, axis=0))))
    assert tall_along == {"y_up": ("y", 2), "z_up": ("z", 1), "none": ("y", 2)}


def test_malformed_collada_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.dae"
    path.write_text('<?xml version="1.0"?><COLLADA><asset><up_axis>Z_UP</up_axis></asset><library_geometries>')
    with pytest.raises(InputError, match=r"broken\.dae: could not read \.dae file"):
        load_shape(path)


def test_textures_of_obj_files_are_not_decoded(tmp_path, monkeypatch):
    """A photogrammetry scan comes as an OBJ with an .mtl and a large texture: s2am3d draws parts,
    not materials, so the texture is never opened (an 8192-pixel one was most of the load time and
    memory), and the faces are the same as when materials are read."""
    import PIL.Image

    (tmp_path / "scan.mtl").write_text("newmtl skin\nKd 1 1 1\nmap_Kd skin.png\n")
    PIL.Image.new("RGB", (8, 8)).save(tmp_path / "skin.png")
    lines = ["mtllib scan.mtl", "v 0 0 0", "v 1 0 0", "v 0 1 0", "v 0 0 1", "vt 0 0", "vt 1 0", "vt 0 1",
             "usemtl skin", "f 1/1 2/2 3/3", "f 1/1 3/3 4/2", "usemtl other", "f 1/1 4/2 2/3"]
    (tmp_path / "scan.obj").write_text("\n".join(lines) + "\n")
    with_materials = trimesh.load_scene(str(tmp_path / "scan.obj"), process=False).dump()
    expected = np.concatenate([np.asarray(g.vertices)[g.faces] for g in with_materials])

    opened = []  # trimesh swallows a loader's exceptions while reading materials: record, don't raise
    real_open = PIL.Image.open
    monkeypatch.setattr(PIL.Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    shape = load_shape(tmp_path / "scan.obj", up="z")
    assert np.allclose(shape.vertices[shape.faces], expected)
    assert opened == []
