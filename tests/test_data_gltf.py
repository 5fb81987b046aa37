"""glTF/GLB scene graphs -> nested part levels."""
from pathlib import Path

import numpy as np
import pytest
import trimesh

from s2am3d_core.data.gltf import load_gltf_parts
from s2am3d_core.data.hierarchy import is_nested
from s2am3d_core.errors import InputError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GLBS = ["2CylinderEngine", "ReciprocatingSaw", "BrainStem", "CesiumMilkTruck", "VC"]
T = trimesh.transformations.translation_matrix


def check_levels(m):
    assert m.face_labels.shape == (m.num_levels, len(m.faces))
    assert is_nested(m.face_labels)
    counts = [len(np.unique(row)) for row in m.face_labels]
    assert all(c >= 2 for c in counts)  # no whole-object level
    assert counts == sorted(counts, reverse=True) and len(set(counts)) == len(counts)
    for row in m.face_labels:
        ids = np.unique(row)
        assert ids.min() == 0 and ids.max() == len(ids) - 1
    assert len(m.part_names) == m.num_levels
    return counts


@pytest.fixture
def robot_glb(tmp_path):
    s = trimesh.Scene()
    s.graph.update(frame_from="world", frame_to="robot", matrix=T((10, 0, 0)))
    s.graph.update(frame_from="robot", frame_to="arm", matrix=T((0, 5, 0)))
    s.add_geometry(trimesh.creation.box((1, 1, 1)), node_name="base", parent_node_name="robot", geom_name="basebox")
    s.add_geometry(trimesh.creation.box((1, 1, 1)), node_name="upper", parent_node_name="arm", geom_name="ub",
                   transform=T((0, 0, 2)))
    s.graph.update(frame_from="arm", frame_to="hand", matrix=T((0, 0, 4)))
    finger = trimesh.creation.box((0.2, 0.2, 0.5))
    s.add_geometry(finger, node_name="finger0", parent_node_name="hand", geom_name="f", transform=T((0.3, 0, 0)))
    s.add_geometry(finger, node_name="finger1", parent_node_name="hand", geom_name="f", transform=T((-0.3, 0, 0)))
    path = tmp_path / "robot.glb"
    s.export(path)
    return path


def test_synthetic_scene_levels_and_world_coordinates(robot_glb):
    m = load_gltf_parts(robot_glb)
    assert m.name == "robot" and m.vertices.dtype == np.float32 and m.faces.dtype == np.int64
    assert check_levels(m) == [4, 3, 2]  # fingers+upper+base / hand+upper+base / arm+base
    names = m.part_names
    assert set(names[1].values()) == {"robot/base", "robot/arm/hand", "robot/arm/upper"}
    assert set(names[2].values()) == {"robot/base", "robot/arm"}
    # transforms applied: base at x=10, fingers at y=5, z=4 (+-0.25), the instanced geometry twice
    np.testing.assert_allclose(m.vertices.min(0), [9.5, -0.5, -0.5], atol=1e-5)
    np.testing.assert_allclose(m.vertices.max(0), [10.5, 5.5, 4.25], atol=1e-5)
    for pid, name in names[0].items():
        v = m.vertices[np.unique(m.faces[m.face_labels[0] == pid])]
        if name.endswith("finger0"):
            np.testing.assert_allclose(v.mean(0), [10.3, 5, 4], atol=1e-5)
        if name.endswith("finger1"):
            np.testing.assert_allclose(v.mean(0), [9.7, 5, 4], atol=1e-5)


def test_max_levels_cap(robot_glb):
    m = load_gltf_parts(robot_glb, max_levels=2)
    assert check_levels(m) == [4, 2]  # finest and coarsest are kept


def test_single_mesh_has_no_levels(tmp_path):
    p = tmp_path / "one.glb"
    trimesh.creation.icosphere().export(p)
    m = load_gltf_parts(p)
    assert m.num_levels == 0 and m.face_labels.shape == (0, len(m.faces))


def test_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_gltf_parts(tmp_path / "nope.glb")
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"glTF garbage")
    with pytest.raises(InputError, match="bad.glb"):
        load_gltf_parts(bad)
    bad2 = tmp_path / "bad.gltf"
    bad2.write_text("{not json")
    with pytest.raises(InputError, match="not a valid glTF"):
        load_gltf_parts(bad2)


@pytest.mark.parametrize("name", GLBS)
def test_real_glb(name):
    path = SHARED / f"{name}.glb"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    m = load_gltf_parts(path)
    assert np.isfinite(m.vertices).all() and len(m.faces) > 1000
    counts = check_levels(m)
    assert 1 <= m.num_levels <= 5
    print(f"{name}: {len(m.faces)} faces, parts per level {counts}")
    if name == "CesiumMilkTruck":
        # 3 primitives of the body mesh + 2 wheel nodes; then body, front wheels, rear wheels
        assert counts == [5, 3]
        assert all(":primitive" not in n or n.startswith("0/0:mesh/") for n in m.part_names[0].values())
