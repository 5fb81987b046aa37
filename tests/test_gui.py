"""Viewer controller: clicks, scale, parts, segment all, export, sessions. Headless, tiny random model."""
import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.errors import InputError, PromptError
from s2am3d_core.io import read_labelled_ply
from s2am3d_core.io.load import LoadedShape
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.modeling.single import SinglePromptDecoder
from s2am3d_core.predictor import PartPredictor
from s2am3d_gui import bench_latency
from s2am3d_gui.controller import MASK_BLEND, MASK_COLOR, Controller


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = S2AM3D(get_config("test-tiny")).eval()
    torch.nn.init.normal_(m.decoder.film.proj.weight, std=0.5)  # make the scale matter
    return m


@pytest.fixture(scope="module")
def chair():
    mesh = procedural.generate("chair", 0)
    return LoadedShape(Path("chair.glb"), mesh.vertices, mesh.faces)


@pytest.fixture()
def ctl(model, chair):
    """Points-only masks: these tests drive the mask through the threshold (atoms: test_gui_atoms.py)."""
    return Controller(PartPredictor(model, cache=False), chair, num_points=1500, mesh_aware=False)


def test_state_and_controller_import_no_polyscope():
    """In a fresh interpreter: importing the session state loads neither polyscope nor torch, and
    importing the controller then loads no polyscope (both are GUI-free, testable without a window)."""
    code = ("import sys; top = lambda: {m.split('.')[0] for m in sys.modules}; import s2am3d_gui.state; "
            "print(sorted(top() & {'polyscope', 'torch'})); import s2am3d_gui.controller; "
            "print(sorted(top() & {'polyscope'}), 'torch' in top())")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-2:] == ["[]", "[] True"]  # the controller does load the model code


def test_click_and_scale_rerun_only_the_decoder(model, chair):
    with mock.patch.object(model.encoder, "planes", wraps=model.encoder.planes) as enc:
        ctl = Controller(PartPredictor(model, cache=False), chair, num_points=1500)
        assert enc.call_count == 1  # encoded once, at load
        single = SinglePromptDecoder.__call__
        with mock.patch.object(SinglePromptDecoder, "__call__", autospec=True, side_effect=single) as dec:
            mask = ctl.click(10)
            a = ctl.probs.copy()
            ctl.set_scale(0.9)
            b = ctl.probs.copy()
            ctl.set_scale(None)
            ctl.set_threshold(0.3)  # threshold: no decode at all
        assert enc.call_count == 1 and dec.call_count == 3
    assert mask.shape == (1500,) and mask.dtype == bool
    assert not np.allclose(a, b) and ctl.state.use_scale is False and ctl.state.scale == 0.9
    with pytest.raises(PromptError, match="out of range"):
        ctl.click(10**6)
    with pytest.raises(PromptError, match="outside"):
        ctl.set_scale(1.5)


def test_click_targets_map_to_the_nearest_model_point(ctl):
    p = ctl.points[123]
    assert ctl.resolve(p + 1e-6) == 123 and ctl.resolve(np.int64(5)) == 5
    face = int(ctl.shape.point_face[123])
    i = ctl.point_from_pick(None, "face", face)
    assert ctl.shape.point_face[i] == face or np.linalg.norm(ctl.points[i] - ctl.face_centers[face]) < 0.1
    v = int(ctl.shape.faces[face][0])
    assert ctl.point_from_pick([np.nan] * 3, "vertex", v) == ctl.nearest_point(ctl.shape.vertices[v])
    ctl.click(p)
    ctl.click_face(face, negative=True)
    assert ctl.state.clicks[0] == (123, True) and ctl.state.clicks[1][1] is False
    with pytest.raises(PromptError):
        ctl.resolve(True)


def test_accept_undo_redo_clear(ctl):
    ctl.state.threshold = 0.0  # every point is in the mask: deterministic for a random model
    ctl.click(3)
    ctl.click(7, negative=True)
    part = ctl.accept_part("seat", (0.1, 0.2, 0.3))
    assert part.name == "seat" and part.color == (0.1, 0.2, 0.3)
    # the negative click excludes the points nearer to it than to the positive click; all others are in
    out = ctl.segmenter.negative_region([3], [7])
    assert out[7] and not out[3] and ((ctl.state.labels == -1) == out).all() and (ctl.state.labels[~out] == 0).all()
    assert ctl.state.clicks == [] and ctl.accept_part() is None  # nothing left to accept
    ctl.undo()
    assert ctl.state.parts == [] and ctl.state.clicks == [(3, True), (7, False)] and ctl.probs is not None
    ctl.redo()
    assert len(ctl.state.parts) == 1 and ctl.probs is None
    ctl.click(5)
    assert ctl.clear() and ctl.state.clicks == [] and not ctl.mask.any()
    ctl.rename_part(0, "chair")
    ctl.recolor_part(0, (1, 1, 0))
    assert ctl.state.part(0).name == "chair" and ctl.state.part(0).color == (1.0, 1.0, 0.0)
    ctl.delete_part(0)
    assert ctl.state.parts == [] and (ctl.state.labels == -1).all()


def test_display_colours_follow_mask_and_parts(ctl):
    base = ctl.display_colors()
    assert base.shape == (len(ctl.shape.faces), 3) and np.allclose(base, base[0])
    ctl.click(0)
    ctl.state.threshold = float(np.quantile(ctl.probs, 0.5))
    m = ctl.display_mask()
    assert 0 < m.sum() < len(m)
    col = ctl.display_colors()
    assert np.allclose(col[~m], base[~m]) and (col[m, 0] - col[m, 2] > 0.3).all()
    assert np.allclose(col[m], (1 - MASK_BLEND) * base[m] + MASK_BLEND * np.array(MASK_COLOR), atol=1e-5)
    ctl.accept_part(colour=(0, 0, 1))
    col = ctl.display_colors()
    assert np.allclose(col[m].mean(0), (0, 0, 1), atol=0.3)
    ctl.click(0)  # a low threshold: the mask covers the accepted part and the rest
    ctl.state.threshold = 0.05
    parts, m = ctl.base_colors(), ctl.display_mask()
    col = ctl.display_colors()
    assert len(np.unique(parts[m], axis=0)) == 2  # the mask covers both colours: each is blended
    assert np.array_equal(col[~m], parts[~m])
    assert np.array_equal(col[m], (1.0 - MASK_BLEND) * parts[m] + MASK_BLEND * np.asarray(MASK_COLOR, np.float32))


def test_segment_all_is_one_undo_step(ctl):
    ctl.click(1)
    k = ctl.segment_all(0.2, num_prompts=8)
    assert k >= 1 and len(ctl.state.parts) == k and (ctl.state.labels >= 0).all() and ctl.probs is None
    ctl.undo()
    assert ctl.state.parts == [] and ctl.state.clicks == [(1, True)]


def test_export_labelled_ply_and_part_meshes(ctl, tmp_path):
    ctl.state.threshold = 0.0
    ctl.click(0)
    ctl.accept_part("all")
    out = ctl.export(tmp_path / "labelled.ply")
    v, f, lab = read_labelled_ply(out)
    assert f is not None and len(lab) == len(ctl.shape.faces) and (lab == 0).all()
    names = json.loads((tmp_path / "labelled.parts.json").read_text())
    assert names["parts"][0]["name"] == "all" and names["parts"][0]["n_faces"] == len(lab)
    files = ctl.export_parts(tmp_path / "parts")
    assert len(files) == 1 and files[0].exists()
    index = json.loads((tmp_path / "parts" / "parts.json").read_text())
    assert index["parts"][0]["name"] == "all"


def test_export_compacts_labels_and_keeps_unlabelled(ctl, tmp_path):
    ctl.state.threshold = 0.0
    for name in ("a", "b"):  # b paints over a entirely; then b is deleted: nothing labelled
        ctl.click(0)
        ctl.accept_part(name)
    ctl.delete_part(1)
    _, _, lab = read_labelled_ply(ctl.export(tmp_path / "empty.ply"))
    assert (lab == -1).all()
    with pytest.raises(PromptError, match="no parts"):
        ctl.export_parts(tmp_path / "none")
    x = ctl.points[:, 0]
    ctl.state.set_all(np.where(x < np.median(x), 0, -1), ["left"], [(1, 0, 0)])  # half the chair: stays half
    _, _, lab = read_labelled_ply(ctl.export(tmp_path / "half.ply"))
    cx = ctl.face_centers[:, 0]
    far = np.abs(cx - np.median(x)) > 0.05 * np.ptp(x)
    assert ((lab == 0) == (cx < np.median(x)))[far].mean() > 0.97
    assert np.array_equal(lab, ctl.face_labels())  # the display shows what is exported


def test_point_cloud_shape(model, tmp_path):
    pts = np.random.default_rng(0).uniform(-1, 1, size=(3000, 3)).astype(np.float32)
    cloud = LoadedShape(Path("cloud.npy"), pts, None)
    ctl = Controller(PartPredictor(model, cache=False), cloud, num_points=1000, mesh_aware=False)
    assert ctl.points.shape == (1000, 3) and ctl.display_points.shape == (3000, 3)
    brute = np.linalg.norm(pts[:50, None] - ctl.points[None], axis=-1).argmin(1)  # nearest model point
    assert np.array_equal(ctl.display_to_point[:50], brute)
    ctl.state.threshold = 0.0
    ctl.click(pts[0])
    assert ctl.display_mask().all()
    ctl.accept_part("blob")
    assert ctl.part_shares() == {0: 1.0}  # of the file's points
    v, f, lab = read_labelled_ply(ctl.export(tmp_path / "cloud.ply"))
    assert f is None and len(v) == 3000 and (lab == 0).all()
    files = ctl.export_parts(tmp_path / "parts")
    assert len(files) == 1 and len(read_labelled_ply(files[0])[0]) == 3000
    ctl.state.set_all(np.where(ctl.points[:, 2] > 0.5, 0, -1), ["top"], [(1, 0, 0)])  # a partial labelling
    v, f, lab = read_labelled_ply(ctl.export(tmp_path / "top.ply"))
    far = np.abs(pts[:, 2] - 0.5) > 0.15
    assert np.array_equal((lab == 0)[far], (pts[:, 2] > 0.5)[far])  # unlabelled points stay unlabelled
    with pytest.raises(PromptError, match="mesh"):
        ctl.face_labels()


def test_session_roundtrip_and_errors(ctl, model, chair, tmp_path):
    ctl.state.threshold = 0.0
    ctl.click(5)
    ctl.accept_part("x")
    ctl.click(9)
    ctl.set_scale(0.3)
    ctl.state.threshold = 0.5  # a session holds a threshold in (0, 1), as the slider sets it
    path = ctl.save_session(tmp_path / "s.json")
    labels = ctl.state.labels.copy()
    fresh = Controller(PartPredictor(model, cache=False), chair, num_points=1500, mesh_aware=False)
    fresh.load_session(path)
    assert np.array_equal(fresh.state.labels, labels) and fresh.state.clicks == [(9, True)]
    assert fresh.state.scale == pytest.approx(0.3) and fresh.probs is not None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="bad.json"):
        fresh.load_session(bad)
    other = Controller(PartPredictor(model, cache=False), chair, num_points=800)
    with pytest.raises(InputError, match="1500 model points"):
        other.load_session(path)


def test_bench_latency_runs(ctl, capsys):
    r = bench_latency.bench(ctl, repeats=3, warmup=1)
    assert len(r["decode"]) == 3 and all(t > 0 for t in r["total"])
    assert bench_latency.percentile_ms([0.001, 0.002, 0.003], 50) == pytest.approx(2.0)
