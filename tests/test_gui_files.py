"""Viewer files and parts: results reopen as editable parts, outputs never touch the input, segment
all keeps accepted parts, the up axis turns the shape. Headless, tiny random model."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh

from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.errors import InputError
from s2am3d_core.io import read_labelled_ply
from s2am3d_core.io.parts import is_labelled, load_labelled
from s2am3d_core.io.up import from_z_up
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor
from s2am3d_gui import app
from s2am3d_gui.controller import MASK_BLEND, MASK_COLOR, UNLABELLED_COLOR, Controller


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = S2AM3D(get_config("test-tiny")).eval()
    torch.nn.init.normal_(m.decoder.film.proj.weight, std=0.5)
    return m


@pytest.fixture()
def chair_file(tmp_path):
    """A Y-up glTF chair (as glTF requires), standing on y = 0."""
    mesh = procedural.generate("chair", 0)
    v = mesh.vertices - [0, 0, mesh.vertices[:, 2].min()]
    path = tmp_path / "in" / "chair.glb"
    path.parent.mkdir()
    trimesh.Trimesh(from_z_up(v.astype(np.float32), "y"), mesh.faces, process=False).export(path)
    return path


def _ctl(model, path, n=1200, up=None):
    shape, labelled = app.load_input(Path(path), up)
    ctl = Controller(PartPredictor(model, cache=False), shape, num_points=n)
    if labelled is not None:
        ctl.import_labels(labelled.labels, labelled.parts)
    return ctl


def _two_parts(ctl):
    z = ctl.points[:, 2]
    top = z > np.median(z)
    ctl.state.set_all(np.where(top, 0, 1), ["top", "bottom"], [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    return top


def test_gltf_opens_upright(model, chair_file):
    ctl = _ctl(model, chair_file)
    ext = np.ptp(ctl.shape.vertices, axis=0)
    assert ctl.shape.up == "y" and ext[2] == ext.max()       # the chair is taller than wide: z is up
    assert ctl.shape.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-5)


def test_labelled_ply_reopens_with_editable_parts(model, chair_file):
    ctl = _ctl(model, chair_file)
    top = _two_parts(ctl)
    out = ctl.export(chair_file.parent.parent / "out" / "chair_labelled.ply")
    assert out.is_absolute() and is_labelled(out) and not is_labelled(chair_file)
    again = _ctl(model, out)
    assert again.shape.up == "y" and np.allclose(again.shape.vertices, ctl.shape.vertices)
    assert [(p.name, p.color) for p in again.state.parts] == [("top", (1.0, 0.0, 0.0)), ("bottom", (0.0, 0.0, 1.0))]
    assert ((again.state.labels == 0) == top).mean() > 0.97   # same points, labels via the faces
    assert not again.state.can_undo                          # opened parts are the starting point
    again.rename_part(0, "seat")                             # editable, re-exportable
    _, _, lab = read_labelled_ply(again.export(out.parent / "chair_edited.ply"))
    assert np.array_equal(lab, read_labelled_ply(out)[2])
    with pytest.raises(InputError, match="is the input file"):
        again.export(out)                                    # never over the input


def test_a_labelled_file_keeps_its_own_face_labels_where_no_edit_reaches(model, chair_file, tmp_path):
    """Labels of another tool cut through atoms (one face in seven of its own part): reopened and
    exported unchanged they come back face for face; deleting a part unlabels exactly its faces."""
    from s2am3d_core.io import load_shape, write_labelled

    shape = load_shape(chair_file)
    centres = shape.vertices[shape.faces].mean(axis=1)
    labels = (centres[:, 0] > np.median(centres[:, 0])).astype(np.int64)
    labels[::7] = 2
    unsampled = np.flatnonzero(_ctl(model, chair_file).face_counts == 0)
    labels[unsampled[:3]] = 3                    # a part no sampled point falls on: a tiny screw
    path = tmp_path / "other_tool.ply"
    write_labelled(path, shape.vertices, shape.faces, labels, up="z")
    for mesh_aware in (True, False):
        ctl = _ctl(model, path)
        ctl.set_mesh_aware(mesh_aware)
        assert [p.name for p in ctl.state.parts] == ["part_0", "part_1", "part_2", "part_3"]
        out = read_labelled_ply(ctl.export(tmp_path / f"again_{mesh_aware}.ply"))[2]
        assert np.array_equal(out, labels)
        ctl.state.threshold = 0.0
        ctl.click(int(np.argmax(ctl.points[:, 2])))   # a new part elsewhere keeps the tiny one
        ctl.accept_part("new")
        exported, parts = ctl.export_labels()
        assert {parts[k].name for k in exported[labels == 3]} == {"part_3"}
        ctl.undo()
        ctl.delete_part(ctl.state.parts[[p.name for p in ctl.state.parts].index("part_2")].label)
        kept = ctl.export_labels()[0]
        assert np.array_equal(kept < 0, labels == 2) and np.array_equal(kept[labels != 2] > 0, labels[labels != 2] > 0)
        ctl.undo()
        assert np.array_equal(read_labelled_ply(ctl.export(tmp_path / f"undo_{mesh_aware}.ply"))[2], labels)
        # labels put on top as one undo step (as "Links as parts" does): undo and redo swap them whole
        other = np.where(labels == 2, 0, labels + 1)
        other[::5] = 4
        ctl.import_labels(other, undoable=True)
        assert np.array_equal(ctl.export_labels()[0], np.unique(other, return_inverse=True)[1])
        ctl.undo()
        assert np.array_equal(ctl.export_labels()[0], labels)
        ctl.redo()
        assert np.array_equal(ctl.export_labels()[0], np.unique(other, return_inverse=True)[1])


def test_part_folder_reopens_as_parts(model, chair_file, tmp_path):
    ctl = _ctl(model, chair_file)
    _two_parts(ctl)
    files = ctl.export_parts(tmp_path / "chair_parts")
    assert len(files) == 2 and json.loads((tmp_path / "chair_parts" / "parts.json").read_text())["up"] == "y"
    opened = load_labelled(tmp_path / "chair_parts")
    assert opened.shape.is_mesh and len(opened.shape.faces) == len(ctl.shape.faces)
    again = _ctl(model, tmp_path / "chair_parts")
    assert [p.name for p in again.state.parts] == ["top", "bottom"]
    lo, hi = again.shape.vertices.min(0), again.shape.vertices.max(0)
    assert np.allclose(lo, ctl.shape.vertices.min(0), atol=1e-5)
    assert np.allclose(hi, ctl.shape.vertices.max(0), atol=1e-5)
    with pytest.raises(InputError, match="is the input"):
        again.export_parts(tmp_path / "chair_parts")
    with pytest.raises(InputError, match="part folder"):
        again.export(tmp_path / "chair_parts" / "x.ply")
    with pytest.raises(InputError, match="input's folder"):
        ctl.export_parts(chair_file.parent)


def test_point_cloud_labels_reopen(model, tmp_path):
    pts = np.random.default_rng(0).uniform(-1, 1, size=(2000, 3)).astype(np.float32)
    np.save(tmp_path / "cloud.npy", pts)
    ctl = _ctl(model, tmp_path / "cloud.npy", n=800)
    ctl.state.set_all(np.where(ctl.points[:, 0] > 0, 0, -1), ["right"], [(0.0, 1.0, 0.0)])
    out = ctl.export(tmp_path / "cloud_labelled.ply")
    again = _ctl(model, out, n=800)
    assert [p.name for p in again.state.parts] == ["right"]
    far = np.abs(again.points[:, 0]) > 0.1
    assert np.array_equal((again.state.labels == 0)[far], (again.points[:, 0] > 0)[far])
    # a file's own per-point labels (here every third point in a part of its own, which 800 model
    # points cannot hold) come back point for point, and on screen
    from s2am3d_core.io import write_labelled

    labels = (pts[:, 1] > 0).astype(np.int64)
    labels[::3] = 2
    write_labelled(tmp_path / "other.ply", pts, None, labels, up="z")
    other = _ctl(model, tmp_path / "other.ply", n=800)
    assert np.array_equal(read_labelled_ply(other.export(tmp_path / "other_again.ply"))[2], labels)
    assert np.array_equal(other.base_colors(), other._palette()[labels[other.display_index] + 1])


def test_a_coloured_scan_shows_its_own_colours_where_no_part_is(model, tmp_path):
    pts = np.random.default_rng(1).uniform(-1, 1, size=(1500, 3))
    rgba = np.random.default_rng(2).integers(0, 256, size=(1500, 4)).astype(np.uint8)
    rgba[:, 3] = 255
    trimesh.PointCloud(pts, colors=rgba).export(tmp_path / "scan.ply")
    ctl = _ctl(model, tmp_path / "scan.ply", n=600)
    file_rgb = rgba[ctl.display_index, :3] / 255.0
    assert np.allclose(ctl.base_colors(), file_rgb, atol=1e-6)
    ctl.state.set_all(np.where(ctl.points[:, 0] > 0, 0, -1), ["right"], [(0.0, 1.0, 0.0)])
    part = ctl.element_labels()[ctl.display_index] == 0
    colors = ctl.base_colors()
    assert np.allclose(colors[part], [0.0, 1.0, 0.0]) and np.allclose(colors[~part], file_rgb[~part], atol=1e-6)
    ctl.click(int(np.argmin(ctl.points[:, 0])), decode=True)  # a mask on file-coloured points blends their colour
    shown = ctl.display_mask() & ~part
    assert shown.any()
    assert np.allclose(ctl.display_colors()[shown], (1 - MASK_BLEND) * file_rgb[shown] + MASK_BLEND * np.asarray(MASK_COLOR),
                       atol=1e-5)
    # an uncoloured cloud, and a labelled result reopened (its colours are its parts'), stay grey where unlabelled
    np.save(tmp_path / "plain.npy", pts.astype(np.float32))
    assert np.allclose(_ctl(model, tmp_path / "plain.npy", n=600).base_colors(), UNLABELLED_COLOR)
    # part files keep the scan's own colours (their labels in the label property)
    files = ctl.export_parts(tmp_path / "scan_parts")
    cloud = trimesh.load(files[0], process=False)
    inside = ctl.element_labels() == 0
    assert len(cloud.vertices) == inside.sum()
    assert np.array_equal(np.asarray(cloud.colors)[:, :3], rgba[inside, :3])
    again = _ctl(model, ctl.export(tmp_path / "scan_labelled.ply"), n=600)
    again.delete_part(again.state.parts[0].label)
    assert np.allclose(again.base_colors(), UNLABELLED_COLOR)
    assert again.shape.colors is None                 # nor do they go into its part files


def test_segment_all_keeps_accepted_parts_and_undo_restores(model, chair_file):
    ctl = _ctl(model, chair_file)
    z = ctl.points[:, 2]
    seat = z > np.quantile(z, 0.7)
    ctl.state.set_all(np.where(seat, 0, -1), ["mine"], [(0.2, 0.4, 0.6)])
    before = ctl.state.labels.copy()
    k = ctl.segment_all(0.2, num_prompts=8)
    st = ctl.state
    assert k >= 1 and st.parts[0].name == "mine" and len(st.parts) == k + 1
    assert np.array_equal(st.labels[seat], before[seat])      # the accepted part is untouched
    assert (st.labels[~seat] >= 1).all()                      # only the unlabelled points got new parts
    ctl.undo()
    assert np.array_equal(ctl.state.labels, before) and [p.name for p in ctl.state.parts] == ["mine"]
    k = ctl.segment_all(0.2, num_prompts=8, keep_parts=False)  # replace everything, on request
    assert "mine" not in [p.name for p in ctl.state.parts] and len(ctl.state.parts) == k


def test_up_axis_change_turns_the_shape_and_keeps_parts(model, chair_file, tmp_path):
    ctl = _ctl(model, chair_file)
    top = _two_parts(ctl)
    raw = ctl.shape.vertices.copy()
    assert ctl.reorient("z") and ctl.shape.up == "z" and not ctl.reorient("z")
    assert np.allclose(ctl.shape.vertices, from_z_up(raw, "y"))  # the file's raw coordinates
    assert np.array_equal(ctl.state.labels == 0, top)
    session = ctl.save_session(tmp_path / "s.json")
    assert json.loads(session.read_text())["up"] == "z"
    args = app.build_parser().parse_args(["--session", str(session)])
    assert app._resolve_inputs(args)[2] == "z"                 # the session brings its up axis back
    fresh = _ctl(model, chair_file, up="z")
    fresh.load_session(session)
    assert np.array_equal(fresh.state.labels, ctl.state.labels)


def test_output_folder_defaults_next_to_the_input(chair_file, tmp_path):
    args = app.build_parser().parse_args([str(chair_file)])
    assert app._out_dir(args, chair_file) == chair_file.parent.resolve()
    args = app.build_parser().parse_args([str(chair_file), "--out-dir", str(tmp_path / "o")])
    assert app._out_dir(args, chair_file) == (tmp_path / "o").resolve()
    with pytest.raises(InputError, match="folder without parts.json"):
        app.load_input(tmp_path, None)


def test_bundled_example_exports_go_to_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = app.build_parser().parse_args([])
    shape, _, _ = app._resolve_inputs(args)
    assert shape == app.DEFAULT_EXAMPLE
    assert app._out_dir(args, shape) == tmp_path.resolve()   # not the package's examples folder


def test_output_names_do_not_pile_up_suffixes():
    assert app.base_stem(Path("chair.glb")) == "chair"
    assert app.base_stem(Path("chair_labelled.ply")) == "chair"
    assert app.base_stem(Path("out/chair_parts")) == "chair"
    assert app.base_stem(Path("_labelled.ply")) == "_labelled"
