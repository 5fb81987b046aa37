"""The polyscope side of the viewer under the mock backend (panel, scene, keyboard and mouse
input), and the s2am3d-gui command's error handling."""
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

import polyscope as ps
import polyscope.imgui as psim

from s2am3d_core.checkpoint import save_model
from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.io import read_labelled_ply
from s2am3d_core.io.load import LoadedShape
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor
from s2am3d_gui import app
from s2am3d_gui.controller import Controller
from s2am3d_gui.commands import share_text



@pytest.fixture(scope="module")
def mock_ps():
    ps.set_errors_throw_exceptions(True)
    if not ps.is_initialized():
        ps.init("openGL_mock")
    ps.set_max_fps(-1)
    yield ps
    ps.set_user_callback(None)
    ps.remove_all_structures()


@pytest.fixture()
def ctl():
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny")).eval()
    torch.nn.init.normal_(model.decoder.film.proj.weight, std=0.5)
    mesh = procedural.generate("chair", 0)
    return Controller(PartPredictor(model, cache=False), LoadedShape(Path("chair.glb"), mesh.vertices, mesh.faces),
                      num_points=1200, mesh_aware=False)


@pytest.fixture()
def panel(mock_ps, ctl, tmp_path):
    from s2am3d_gui.panels import Panel
    from s2am3d_gui.scene import Scene
    scene = Scene(ctl)
    p = Panel(ctl, scene, tmp_path / "chair", background=True)
    ps.set_user_callback(p)
    ps.frame_tick()
    yield p
    p.close()
    ps.set_user_callback(None)
    ps.remove_all_structures()


def tick(n=1):
    for _ in range(n):
        ps.frame_tick()


def press(key, mods=()):
    io = psim.GetIO()
    for m in mods:
        io.AddKeyEvent(m, True)
    io.AddKeyEvent(key, True)
    tick()
    io.AddKeyEvent(key, False)
    for m in mods:
        io.AddKeyEvent(m, False)
    tick()


def test_scene_and_panel_follow_the_controller(panel, ctl):
    assert ps.has_surface_mesh("shape") and not ps.has_point_cloud("clicks")
    assert panel.click_pick(ctl.points[10])
    panel.wait()
    tick()
    assert ps.has_point_cloud("clicks") and ctl.probs is not None and "decoded" in panel.status
    for s in np.geomspace(0.01, 0.6, 12):  # a slider drag: the worker keeps only the newest value
        panel.set_scale(float(s))
    panel.wait()
    tick()
    assert ctl.state.scale == pytest.approx(0.6)
    np.testing.assert_allclose(ctl.probs, ctl.predictor.predict([10], [], 0.6), atol=1e-6)
    assert not panel.scene.refresh()  # nothing changed since the last frame: nothing re-uploaded
    panel.set_threshold(0.3)
    assert panel.scene.refresh()


def test_keyboard_shortcuts(panel, ctl):
    ctl.state.threshold = 0.0  # everything in the mask: accept always has something
    panel.click_pick(ctl.points[3])
    panel.wait()
    tick()
    press(psim.ImGuiKey_A)
    assert [p.name for p in ctl.state.parts] == ["part_0"] and ctl.state.clicks == []
    assert panel.status == f"accepted part_0 ({share_text(ctl.part_shares()[0])} of the shape)"
    assert (share_text(0.1234), share_text(0.0001), share_text(0.0)) == ("12.3 %", "<0.1 %", "0.0 %")
    press(psim.ImGuiKey_Z)
    assert ctl.state.parts == [] and ctl.state.clicks == [(3, True)]
    press(psim.ImGuiKey_Z, (psim.ImGuiMod_Ctrl, psim.ImGuiMod_Shift))  # redo
    assert len(ctl.state.parts) == 1
    press(psim.ImGuiKey_Z, (psim.ImGuiMod_Ctrl,))
    press(psim.ImGuiKey_Y)
    assert len(ctl.state.parts) == 1
    scale = ctl.state.scale
    press(psim.ImGuiKey_RightBracket)
    assert ctl.state.scale == pytest.approx(scale * 1.25)
    press(psim.ImGuiKey_LeftBracket)
    assert ctl.state.scale == pytest.approx(scale)
    press(psim.ImGuiKey_N)
    assert not ctl.state.use_scale
    press(psim.ImGuiKey_H)
    assert panel.show_help
    tick()  # draws the help window
    panel.click_pick(ctl.points[5])
    press(psim.ImGuiKey_C)
    assert ctl.state.clicks == []


def test_segment_all_in_background_then_files(panel, ctl, tmp_path):
    panel.granularity, panel.num_prompts = 0.2, 8
    panel.segment_all()
    tick()  # draws the progress bar while the worker runs (or applies the result)
    panel.wait()
    tick()
    assert len(ctl.state.parts) >= 1 and (ctl.state.labels >= 0).all() and "segment all" in panel.status
    panel.export()
    assert not panel.status_is_error
    _, faces, lab = read_labelled_ply(panel.output(panel.export_path))
    assert faces is not None and (lab >= 0).all()
    panel.export_parts()
    assert (panel.output(panel.parts_dir) / "parts.json").exists()
    panel.save_session()
    panel.delete_part(0)
    n = len(ctl.state.parts)
    panel.load_session()
    panel.wait()
    assert len(ctl.state.parts) == n + 1
    panel.session_path = str(tmp_path / "missing.json")
    panel.load_session()
    assert panel.status_is_error and "not found" in panel.status
    (tmp_path / "file").write_text("")
    panel.export_path = str(tmp_path / "file" / "sub" / "x.ply")  # a folder that cannot be made
    panel.export()
    assert panel.status_is_error and "export failed" in panel.status


def test_mouse_click_versus_drag(panel):
    io = psim.GetIO()
    with mock.patch.object(panel, "on_click", return_value=True) as on_click:
        def gesture(button, start, end, mods=()):
            io.AddMousePosEvent(*start)
            tick()
            for m in mods:
                io.AddKeyEvent(m, True)
            io.AddMouseButtonEvent(button, True)
            tick()
            io.AddMousePosEvent(*end)
            tick()
            io.AddMouseButtonEvent(button, False)
            tick()
            for m in mods:
                io.AddKeyEvent(m, False)
            tick()

        gesture(0, (500, 420), (501, 420))
        gesture(0, (500, 420), (560, 420))  # a camera drag is not a click
        gesture(1, (500, 420), (500, 420))
        gesture(0, (500, 420), (500, 420), (psim.ImGuiMod_Shift,))
    assert [c.kwargs.get("negative", c.args[1] if len(c.args) > 1 else None) for c in on_click.call_args_list] \
        == [False, True, True]


# ---------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    return save_model(S2AM3D(get_config("test-tiny")), tmp_path_factory.mktemp("w") / "tiny.safetensors")


@pytest.mark.parametrize("args, message", [
    (["{tmp}/missing.glb"], "missing.glb: file not found"),
    (["{tmp}/bad.glb"], "bad.glb"),
    ([str(app.DEFAULT_EXAMPLE), "--weights", "{tmp}/none.safetensors"], "weights not found"),
    ([str(app.DEFAULT_EXAMPLE), "--session", "{tmp}/bad.json"], "bad.json"),
    ([str(app.DEFAULT_EXAMPLE), "--points", "3"], "--points 3"),
])
def test_app_errors_exit_2(tmp_path, capsys, weights, args, message):
    (tmp_path / "bad.glb").write_bytes(b"not a mesh")
    (tmp_path / "bad.json").write_text("[]")
    argv = [a.format(tmp=tmp_path) for a in args]
    if "--weights" not in argv:
        argv += ["--weights", str(weights)]
    assert app.main(argv + ["--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_app_missing_default_weights_is_explained(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("S2AM3D_WEIGHTS", str(tmp_path / "nope.safetensors"))
    assert app.main([]) == 2
    err = capsys.readouterr().err
    assert "nope.safetensors" in err and "check the path" in err


def test_app_help_lists_shortcuts(capsys):
    with pytest.raises(SystemExit) as exc:
        app.main(["--help"])
    assert exc.value.code == 0 and "shift+click" in capsys.readouterr().out


def test_exports_ask_before_replacing_and_show_absolute_paths(panel, ctl, tmp_path):
    ctl.state.set_all(np.zeros(ctl.shape.num_points, int), ["all"], [(0.5, 0.5, 0.5)])
    target = panel.output(panel.export_path)
    assert target.is_absolute() and target.parent == tmp_path.resolve()
    panel.export()
    assert target.exists() and str(target) in panel.status and panel.pending is None
    stamp = target.stat().st_mtime_ns
    panel.export()                                    # exists: ask first, write nothing yet
    assert panel.pending is not None and "replace" in panel.status and target.stat().st_mtime_ns == stamp
    tick()                                            # draws the Replace / Cancel row
    panel.confirm(False)
    assert panel.pending is None and "nothing written" in panel.status and target.stat().st_mtime_ns == stamp
    panel.export()
    panel.confirm(True)
    assert panel.pending is None and "wrote" in panel.status
    panel.export_parts()
    panel.export_parts()
    assert panel.pending is not None and panel.pending[0] == "export parts"
    panel.confirm(True)
    assert "part files" in panel.status and str(panel.output(panel.parts_dir)) in panel.status


def test_panel_scale_text_long_names_and_up_axis(panel, ctl):
    assert "no mask yet" in panel.scale_text()
    panel.click_pick(ctl.points[0])
    panel.set_scale(0.05)
    panel.wait()
    tick()
    assert panel.scale_text().startswith("asked 5.0 % of the shape, mask ")
    ctl.shape.path = Path("a_very_long_file_name_" * 6 + ".glb")
    tick()                                            # the header shortens the name instead of clipping
    from s2am3d_gui.panels import fit_text
    short = fit_text(ctl.shape.path.name, 200)
    assert "..." in short and psim.CalcTextSize(short)[0] <= 200 and short.endswith(".glb")
    top = ctl.shape.vertices[:, 2].max()
    panel.set_up("y")                                 # turn the shape: re-encode on the worker
    panel.wait()
    tick()
    assert ctl.shape.up == "y" and ctl.probs is not None and not panel.status_is_error  # clicks re-decoded
    assert ctl.shape.vertices[:, 1].min() == pytest.approx(-top, abs=1e-5)


def test_slider_to_colours_latency_in_the_app_loop(mock_ps, ctl):
    """The mock-backend app loop: a slider move reaches the uploaded colours through the worker."""
    from s2am3d_gui.bench_latency import bench_app_loop
    r = bench_app_loop(ctl, repeats=4, warmup=1)
    assert len(r["first"]) == 4 and all(0 < a <= b < 10 for a, b in zip(r["first"], r["exact"]))
    assert all(d <= t for d, t in zip(r["decode"], r["exact"]))  # the decoder's share is part of it
    r = bench_app_loop(ctl, repeats=2, warmup=0, preview=False)
    assert all(0 < a <= b for a, b in zip(r["first"], r["exact"]))


def test_slider_preview_interpolates_the_sweep(panel, ctl):
    from s2am3d_gui.controller import SWEEP_SCALES
    panel.click_pick(ctl.points[3])
    for _ in range(len(SWEEP_SCALES) + 2):
        panel.wait()
    assert ctl.sweep_next() is None                     # the idle worker decoded the whole grid
    g = SWEEP_SCALES[5]
    exact = ctl.predictor.predict([3], [], g)
    assert np.allclose(ctl.preview(g), exact, atol=1e-5)  # on a grid scale the preview is exact
    mid = float(np.sqrt(SWEEP_SCALES[5] * SWEEP_SCALES[6]))
    lo, hi = ctl.predictor.predict([3], [], SWEEP_SCALES[5]), ctl.predictor.predict([3], [], SWEEP_SCALES[6])
    p = ctl.preview(mid)
    assert ((p >= np.minimum(lo, hi) - 1e-5) & (p <= np.maximum(lo, hi) + 1e-5)).all()
    assert ctl.preview(0.001) is None and ctl.preview(0.95) is None  # outside the grid: exact only
    rev = ctl.state.probs_revision
    panel.set_scale(mid)                                 # the slider shows the preview at once ...
    assert panel.showing_preview and ctl.state.probs_revision == rev + 1
    panel.wait()
    assert not panel.showing_preview                     # ... and the exact mask replaces it
    assert np.allclose(ctl.probs, ctl.predictor.predict([3], [], mid), atol=1e-6)


def test_points_only_toggle_from_the_panel(panel, ctl):
    assert not ctl.mesh_aware and ctl.segmenter.atoms is None
    panel.click_pick(ctl.points[3])
    press(psim.ImGuiKey_P)                             # masks on atoms: found on the worker
    panel.wait()
    tick()
    assert ctl.mesh_aware and ctl.segmenter.atoms is not None and not panel.status_is_error
    assert ctl.current_mask().atoms is not None
    panel.set_mesh_aware(False)
    panel.wait()
    assert not ctl.mesh_aware and ctl.current_mask().atoms is None
