"""Up axis: glTF opens Z-up, --up overrides, exports keep the input's coordinates and reopen upright;
URDF robots open as plain meshes."""
import numpy as np
import pytest
import trimesh

from s2am3d_core.errors import InputError
from s2am3d_core.io import load_shape, read_labelled_ply, write_labelled_mesh, write_labelled_points
from s2am3d_core.io.up import UP_AXES, check_up, file_up, from_z_up, rotation_to_z_up, to_z_up


def _tall_box_y_up(tmp_path, ext="glb"):
    box = trimesh.creation.box(extents=[1.0, 4.0, 0.5])   # tall along y, the glTF up axis
    box.apply_translation([0.0, 2.0, 0.0])                # standing on the y = 0 ground
    path = tmp_path / f"tower.{ext}"
    box.export(path)
    return path


@pytest.mark.parametrize("up", UP_AXES)
def test_rotations_are_proper_and_invert(up):
    r = rotation_to_z_up(up)
    assert np.linalg.det(r) == pytest.approx(1.0) and np.allclose(r @ r.T, np.eye(3))
    axis = {"x": 0, "y": 1, "z": 2}[up.lstrip("-")]
    v = np.zeros(3)
    v[axis] = -1.0 if up.startswith("-") else 1.0
    assert np.allclose(to_z_up(v, up), [0, 0, 1])
    pts = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    back = from_z_up(to_z_up(pts, up), up)
    assert back.dtype == np.float32 and np.array_equal(back, pts)  # exact: signed permutations


def test_check_up_names():
    assert check_up("+Y") == "y" and check_up(" -x ") == "-x"
    with pytest.raises(InputError, match="up axis"):
        check_up("w")


def test_gltf_opens_z_up_and_up_overrides(tmp_path):
    path = _tall_box_y_up(tmp_path)
    assert file_up(path) == "y"
    shape = load_shape(path)
    assert shape.up == "y"
    ext = np.ptp(shape.vertices, axis=0)
    assert ext[2] == pytest.approx(4.0) and shape.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-6)
    raw = load_shape(path, up="z")
    assert raw.up == "z" and np.ptp(raw.vertices, axis=0)[1] == pytest.approx(4.0)
    with pytest.raises(InputError, match="up axis"):
        load_shape(path, up="sideways")


def test_labelled_ply_keeps_the_input_coordinates_and_reopens_upright(tmp_path):
    shape = load_shape(_tall_box_y_up(tmp_path))
    labels = np.arange(len(shape.faces)) % 3
    out = write_labelled_mesh(tmp_path / "tower_labelled.ply", shape.vertices, shape.faces, labels, up=shape.up)
    v, f, lab = read_labelled_ply(out)               # the file holds the input's own (Y-up) coordinates
    assert np.ptp(v, axis=0)[1] == pytest.approx(4.0) and np.array_equal(lab, labels)
    assert file_up(out) == "y"
    again = load_shape(out)                           # ... and says so: it reopens Z-up like the input
    assert again.up == "y" and np.allclose(again.vertices, shape.vertices) and np.array_equal(again.faces, f)
    pts = write_labelled_points(tmp_path / "pts.ply", shape.vertices[:5], np.zeros(5, int), up="-x")
    assert file_up(pts) == "-x" and np.allclose(load_shape(pts).vertices, shape.vertices[:5])


URDF = """<?xml version="1.0"?>
<robot name="r">
  <link name="base"><visual><origin xyz="0 0 0.05"/><geometry><box size="0.4 0.4 0.1"/></geometry></visual></link>
  <link name="arm"><visual><origin xyz="0 0 0.25"/><geometry><cylinder radius="0.05" length="0.5"/></geometry></visual></link>
  <joint name="j" type="revolute"><parent link="base"/><child link="arm"/><origin xyz="0 0 0.1"/></joint>
</robot>
"""


def test_urdf_opens_as_one_mesh_without_link_ids(tmp_path):
    path = tmp_path / "r.urdf"
    path.write_text(URDF)
    shape = load_shape(path)
    assert shape.is_mesh and shape.up == "z" and not hasattr(shape, "face_labels")
    assert shape.vertices[:, 2].max() == pytest.approx(0.6, abs=1e-6)   # arm placed on its joint
    assert len(shape.faces) == 12 + len(trimesh.creation.cylinder(radius=0.05, height=0.5, sections=24).faces)
    bad = tmp_path / "bad.urdf"
    bad.write_text("<robot><link name='a'/></robot>")
    with pytest.raises(InputError, match="bad.urdf"):
        load_shape(bad)


def test_segment_cli_takes_points_in_the_input_coordinates(tmp_path, capsys):
    from s2am3d_core.checkpoint import default_weights_path
    from s2am3d_core.cli.segment import main
    if not default_weights_path().is_file():
        pytest.skip("needs the shipped weights")
    path = _tall_box_y_up(tmp_path)
    out = tmp_path / "top.ply"
    # (0, 4, 0) is the top of the tower in the file's own (Y-up) coordinates: no "far away" warning
    assert main([str(path), "-o", str(out), "--point", "0", "4", "0", "--scale", "0.2", "--points", "2000",
                 "--threads", "1", "-q", "--no-cache"]) == 0
    assert "warning" not in capsys.readouterr().err
    v, f, lab = read_labelled_ply(out)
    assert np.ptp(v, axis=0)[1] == pytest.approx(4.0) and file_up(out) == "y"   # written as the input
    assert main([str(path), "-o", str(tmp_path / "z.ply"), "--up", "z", "--point", "0", "0", "4",
                 "--points", "2000", "--threads", "1", "-q", "--no-cache"]) == 0
    assert "warning" in capsys.readouterr().err    # with --up z, z = 4 is far above the 0.5-deep box


def test_urdf_links_are_a_hint_the_viewer_can_turn_into_parts(tmp_path):
    """The link of each face travels beside the geometry (never into segmentation); the viewer's
    *Links as parts* makes one named part per link, undoable."""
    import torch

    from s2am3d_core.config import get_config
    from s2am3d_core.modeling import S2AM3D
    from s2am3d_core.predictor import PartPredictor
    from s2am3d_gui.controller import Controller

    path = tmp_path / "r.urdf"
    path.write_text(URDF)
    shape = load_shape(path)
    assert shape.group_names == ("base", "base/arm") and shape.face_groups.shape == (len(shape.faces),)
    assert (shape.face_groups[:12] == 0).all() and (shape.face_groups[12:] == 1).all()
    torch.manual_seed(0)
    ctl = Controller(PartPredictor(S2AM3D(get_config("test-tiny")), cache=False), shape, num_points=400)
    assert ctl.links_as_parts() == 2
    assert [p.name for p in ctl.state.parts] == ["base", "base/arm"]
    arm = ctl.state.labels[shape.face_groups[ctl.shape.point_face] == 1]
    assert len(np.unique(arm)) == 1 and arm[0] >= 0
    ctl.undo()
    assert ctl.state.parts == []
    box = tmp_path / "box.obj"
    trimesh.creation.box().export(box)
    plain = Controller(ctl.predictor, load_shape(box), num_points=200)
    with pytest.raises(InputError, match="no link structure"):
        plain.links_as_parts()
