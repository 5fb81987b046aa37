"""URDF robots -> links as parts, kinematic subtrees as coarser levels."""
import numpy as np
import pytest
import trimesh

from s2am3d_core.data.hierarchy import is_nested
from s2am3d_core.data.urdf import load_urdf_parts
from s2am3d_core.errors import InputError

ARM = """<?xml version="1.0"?>
<robot name="arm">
  <link name="base">
    <visual><origin xyz="0 0 0.05"/><geometry><box size="0.4 0.4 0.1"/></geometry></visual>
  </link>
  <link name="upper">
    <visual><origin xyz="0 0 0.25"/><geometry><cylinder radius="0.05" length="0.5"/></geometry></visual>
  </link>
  <link name="hand">
    <visual><geometry><mesh filename="{hand}" scale="0.1 0.1 0.1"/></geometry></visual>
  </link>
  <link name="finger_l">
    <visual><origin xyz="0 0 0.05"/><geometry><box size="0.02 0.02 0.1"/></geometry></visual>
  </link>
  <link name="finger_r">
    <visual><origin xyz="0 0 0.05"/><geometry><box size="0.02 0.02 0.1"/></geometry></visual>
  </link>
  <link name="lamp">
    <visual><geometry><sphere radius="0.05"/></geometry></visual>
  </link>
  <link name="tool0"/>
  <joint name="j1" type="revolute"><parent link="base"/><child link="upper"/>
    <origin xyz="0 0 0.1" rpy="0 0 0"/><axis xyz="0 0 1"/></joint>
  <joint name="j2" type="revolute"><parent link="upper"/><child link="hand"/>
    <origin xyz="0 0 0.5" rpy="0 1.5707963 0"/></joint>
  <joint name="jl" type="prismatic"><parent link="hand"/><child link="finger_l"/><origin xyz="0 0.05 0.1"/></joint>
  <joint name="jr" type="prismatic"><parent link="hand"/><child link="finger_r"/><origin xyz="0 -0.05 0.1"/></joint>
  <joint name="jlamp" type="fixed"><parent link="base"/><child link="lamp"/><origin xyz="0.3 0 0"/></joint>
  <joint name="jt" type="fixed"><parent link="hand"/><child link="tool0"/></joint>
</robot>
"""


@pytest.fixture
def arm(tmp_path):
    (tmp_path / "meshes").mkdir()
    trimesh.creation.box((1, 1, 1)).export(tmp_path / "meshes" / "hand.stl")
    path = tmp_path / "arm.urdf"
    path.write_text(ARM.format(hand="package://arm_description/meshes/hand.stl"))
    return path


def part_vertices(m, level, name):
    pid = [k for k, v in m.part_names[level].items() if v.endswith(name)]
    assert len(pid) == 1, (name, m.part_names[level])
    return m.vertices[np.unique(m.faces[m.face_labels[level] == pid[0]])]


def test_arm_levels_and_poses(arm):
    m = load_urdf_parts(arm)
    assert m.name == "arm" and m.category == "robot"
    assert m.face_labels.shape == (m.num_levels, len(m.faces))
    assert is_nested(m.face_labels)
    counts = [len(np.unique(r)) for r in m.face_labels]
    # links (6 with geometry) / hand subtree merged / upper subtree + lamp + base
    assert counts == [6, 4, 3]
    assert set(m.part_names[2].values()) == {"base", "base/upper", "base/lamp"}
    # base box on the ground
    b = part_vertices(m, 0, "base")
    np.testing.assert_allclose(b.min(0), [-0.2, -0.2, 0.0], atol=1e-6)
    # cylinder from z=0.1 to 0.6
    u = part_vertices(m, 0, "upper")
    np.testing.assert_allclose([u[:, 2].min(), u[:, 2].max()], [0.1, 0.6], atol=1e-6)
    # hand mesh (unit box scaled 0.1) at z=0.6, rotated 90 deg about y
    h = part_vertices(m, 0, "hand")
    np.testing.assert_allclose(h.mean(0), [0, 0, 0.6], atol=1e-6)
    np.testing.assert_allclose(np.ptp(h, axis=0), [0.1, 0.1, 0.1], atol=1e-6)
    # finger_l: joint at hand-frame (0, .05, .1) -> pitch 90deg maps hand z to world x
    f = part_vertices(m, 0, "finger_l")
    np.testing.assert_allclose(f.mean(0), [0.15, 0.05, 0.6], atol=1e-5)
    np.testing.assert_allclose(part_vertices(m, 0, "lamp").mean(0), [0.3, 0, 0], atol=1e-6)


def test_mesh_path_variants(tmp_path):
    trimesh.creation.box((1, 1, 1)).export(tmp_path / "hand.stl")
    for ref in ("hand.stl", "package://pkg/hand.stl", "package://pkg/some/where/hand.stl", f"file://{tmp_path}/hand.stl"):
        p = tmp_path / "r.urdf"
        p.write_text(ARM.format(hand=ref))
        assert load_urdf_parts(p).num_levels == 3


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("text,match", [
    ("<robot><link name='a'/></robot>", "no link has visual geometry"),
    ("<robot/>", "no <link>"),
    ("<notrobot/>", "not a URDF"),
    ("<robot><link name='a'/><joint name='j'><parent link='a'/><child link='zz'/></joint></robot>",
     "unknown link 'zz'"),
    ("<robot><link name='a'><visual><geometry><box size='1 x 1'/></geometry></visual></link></robot>",
     "expected 3 numbers"),
    ("<robot><link name='a'><visual><geometry><mesh filename='missing.stl'/></geometry></visual></link></robot>",
     "missing.stl' not found"),
    ("<robot><link name='a'><visual><geometry><capsule radius='1'/></geometry></visual></link></robot>",
     "unsupported geometry"),
    ("<robot><link name='a'/><link name='b'/>"
     "<joint name='j1'><parent link='a'/><child link='b'/></joint>"
     "<joint name='j2'><parent link='b'/><child link='a'/></joint></robot>", "cycle"),
    ("<robot", "could not parse"),
])
def test_errors(tmp_path, text, match):
    p = tmp_path / "bad.urdf"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as e:
        load_urdf_parts(p)
    assert "bad.urdf" in str(e.value)


def test_collada_link_mesh(tmp_path):
    """Most ROS robot descriptions give their links COLLADA (.dae) visual meshes: they load like STL."""
    (tmp_path / "meshes").mkdir()
    box = trimesh.creation.box((1, 1, 1))
    (tmp_path / "meshes" / "hand.dae").write_bytes(trimesh.exchange.dae.export_collada(box))
    box.export(tmp_path / "meshes" / "hand.stl")
    for ext in ("dae", "stl"):
        (tmp_path / f"arm_{ext}.urdf").write_text(ARM.format(hand=f"package://arm_description/meshes/hand.{ext}"))
    dae, stl = load_urdf_parts(tmp_path / "arm_dae.urdf"), load_urdf_parts(tmp_path / "arm_stl.urdf")
    assert np.allclose(part_vertices(dae, 0, "hand").min(0), part_vertices(stl, 0, "hand").min(0), atol=1e-6)
    assert np.allclose(part_vertices(dae, 0, "hand").max(0), part_vertices(stl, 0, "hand").max(0), atol=1e-6)
    assert len(np.unique(dae.face_labels[0])) == len(np.unique(stl.face_labels[0]))


def test_xacro_files_get_a_hint_to_expand_them(tmp_path):
    """ROS packages often ship only .xacro macros: say how to get a URDF, not just 'unsupported'."""
    from s2am3d_core.data.user import load_labelled_file
    from s2am3d_core.io import load_shape

    macros = ('<?xml version="1.0"?>\n<robot name="arm" xmlns:xacro="http://wiki.ros.org/xacro">\n'
              '  <xacro:include filename="$(find arm_support)/urdf/arm_macro.xacro"/>\n  <xacro:arm prefix=""/>\n'
              '</robot>\n')
    for name in ("arm.xacro", "arm.urdf.xacro", "arm.urdf"):
        path = tmp_path / name
        path.write_text(macros)
        for load in (load_shape, load_labelled_file):
            with pytest.raises(InputError, match=r"expand it to a URDF first \(ROS: `xacro"):
                load(path)
