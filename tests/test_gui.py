"""Viewer: controller/state logic headless, the panel under polyscope's mock backend, one real EGL render."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from s2am3d_core.checkpoint import save_model
from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.errors import InputError, PromptError
from s2am3d_core.io import read_labelled_ply
from s2am3d_core.io.load import LoadedShape
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor
from s2am3d_gui import app
from s2am3d_gui.controller import Controller

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def model():
    torch.manual_seed(0)
    m = S2AM3D(get_config("test-tiny")).eval()
    torch.nn.init.normal_(m.decoder.film.proj.weight, std=0.5)  # make the scale matter
    return m


@pytest.fixture()
def ctl(model):
    mesh = procedural.generate("chair", 0)
    shape = LoadedShape(Path("chair.glb"), mesh.vertices, mesh.faces)
    return Controller(PartPredictor(model, cache=False), shape, num_points=1500)


def test_click_scale_reruns_only_the_decoder(ctl, model):
    calls = {"enc": 0, "dec": 0}
    enc, dec = model.encoder.planes, model.decoder.decode_prepared
    model.encoder.planes = lambda *a: (calls.__setitem__("enc", calls["enc"] + 1), enc(*a))[1]
    model.decoder.decode_prepared = lambda *a: (calls.__setitem__("dec", calls["dec"] + 1), dec(*a))[1]
    ctl.click(10)
    a = ctl.probs.copy()
    ctl.set_scale(0.9)
    b = ctl.probs.copy()
    ctl.set_scale(None)
    assert calls == {"enc": 0, "dec": 3}
    assert not np.allclose(a, b)
    assert ctl.state.use_scale is False
    with pytest.raises(PromptError):
        ctl.click(10**6)


def test_accept_undo_redo_and_negative_clicks(ctl):
    ctl.state.threshold = 0.0  # everything is in the mask: deterministic for a random model
    ctl.click(3)
    ctl.click(7, negative=True)
    assert ctl.state.clicks == [(3, True), (7, False)]
    assert ctl.accept("seat")
    assert [p.name for p in ctl.state.parts] == ["seat"] and (ctl.state.labels == 0).all()
    assert ctl.state.clicks == [] and not ctl.accept()  # nothing left to accept
    ctl.undo()
    assert ctl.state.parts == [] and ctl.state.clicks == [(3, True), (7, False)]
    ctl.redo()
    assert len(ctl.state.parts) == 1
    ctl.clear()
    assert ctl.state.clicks == []


def test_segment_all_labels_every_point(ctl):
    k = ctl.segment_all(0.2, num_prompts=8)
    assert k >= 1 and len(ctl.state.parts) == k
    assert (ctl.state.labels >= 0).all()
    assert ctl.face_colors().shape == (len(ctl.shape.faces), 3)


def test_export_and_parts(ctl, tmp_path):
    ctl.state.threshold = 0.0
    ctl.click(0)
    ctl.accept("all")
    out = ctl.export(tmp_path / "labelled.ply")
    v, f, lab = read_labelled_ply(out)
    assert f is not None and len(lab) == len(ctl.shape.faces) and (lab == 0).all()
    files = ctl.export_parts(tmp_path / "parts")
    assert len(files) == 1 and files[0].exists()


def test_session_roundtrip_and_errors(ctl, tmp_path):
    ctl.state.threshold = 0.0
    ctl.click(5)
    ctl.accept("x")
    ctl.click(9)
    ctl.set_scale(0.3)
    path = ctl.save_session(tmp_path / "s.json")
    labels = ctl.state.labels.copy()
    ctl.state.reset()
    ctl.load_session(path)
    assert np.array_equal(ctl.state.labels, labels) and ctl.state.clicks == [(9, True)]
    assert ctl.state.scale == pytest.approx(0.3)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="bad.json"):
        ctl.load_session(bad)
    data = json.loads(path.read_text())
    data["num_points"] = 7
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    with pytest.raises(InputError, match="7 points"):
        ctl.load_session(other)


def test_panel_under_mock_backend(ctl):
    ps = pytest.importorskip("polyscope")
    from s2am3d_gui.panels import Panel
    from s2am3d_gui.scene import Scene
    ps.set_errors_throw_exceptions(True)
    ps.init("openGL_mock")
    ps.set_max_fps(-1)
    scene = Scene(ctl)
    panel = Panel(ctl, scene, "/tmp/chair")
    ps.set_user_callback(panel)
    ps.frame_tick()
    ctl.click(4)
    scene.refresh()
    assert ps.has_point_cloud("clicks")
    panel._pending_scale = True
    ps.frame_tick()  # the panel decodes once with the latest slider value
    assert "decoder" in panel.status
    panel.accept()
    ps.frame_tick()
    assert len(ctl.state.parts) in (0, 1)
    ps.remove_all_structures()
    ps.set_user_callback(None)


def test_app_errors_exit_2(tmp_path, capsys):
    assert app.main([str(tmp_path / "missing.glb"), "--weights", str(tmp_path / "w.safetensors")]) == 2
    assert "error:" in capsys.readouterr().err
    torch.manual_seed(0)
    w = save_model(S2AM3D(get_config("test-tiny")), tmp_path / "w.safetensors")
    assert app.main([str(tmp_path / "missing.glb"), "--weights", str(w), "--no-cache"]) == 2
    assert "missing.glb" in capsys.readouterr().err


def test_real_render_click_changes_pixels(tmp_path):
    """Render the bundled example with EGL, click the centre, check the mask shows up."""
    torch.manual_seed(0)
    w = save_model(S2AM3D(get_config("test-tiny")), tmp_path / "w.safetensors")
    shots = []
    for click in (False, True):
        out = tmp_path / f"shot_{click}.png"
        cmd = [sys.executable, "-m", "s2am3d_gui.app", str(REPO / "assets" / "example_car.glb"), "--weights", str(w),
               "--no-cache", "--points", "3000", "--backend", "openGL3_egl", "--screenshot", str(out)]
        res = subprocess.run(cmd + (["--click-center"] if click else []), capture_output=True, text=True, timeout=300)
        if res.returncode != 0 or not out.exists():
            pytest.skip(f"no headless EGL backend here: {res.stderr.strip()[-300:]}")
        shots.append(out)
    assert "click:" in res.stdout  # the centre click hit the shape and decoded a mask
    from PIL import Image
    a, b = (np.asarray(Image.open(s).convert("RGB"), dtype=np.int16) for s in shots)
    changed = np.abs(a - b).sum(-1) > 30
    assert changed.mean() > 0.001, "the mask overlay did not change the rendered image"
