"""One real render of the viewer through headless EGL (Mesa's software OpenGL is enough).

A child process opens the bundled example, takes a screenshot, clicks the middle of the view (left of the panel) with
simulated mouse events (the panel picks with ``ps.pick(screen_coords=...)`` and calls the
controller), takes a second screenshot and checks that the pixels which changed show masked faces.
Skipped, with the reason, when no EGL/OpenGL backend can start (e.g. Mesa's libEGL is missing).
"""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from s2am3d_core.examples import example_path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(r"""
    import json, sys
    from pathlib import Path
    import numpy as np, torch
    import polyscope as ps, polyscope.imgui as psim

    out = Path(sys.argv[1])
    ps.set_errors_throw_exceptions(True)
    ps.set_allow_headless_backends(True)
    ps.set_use_prefs_file(False)
    ps.set_window_size(1024, 640)
    ps.set_up_dir("z_up")
    try:
        ps.init("openGL3_egl")
    except Exception as exc:
        ps.init("openGL_mock")  # so polyscope's exit hook stays quiet
        print(json.dumps({"skip": str(exc)}))
        sys.exit(0)
    print("BACKEND_OK", flush=True)

    from s2am3d_core.config import get_config
    from s2am3d_core.modeling import S2AM3D
    from s2am3d_core.predictor import PartPredictor
    from s2am3d_gui.app import DEFAULT_EXAMPLE
    from s2am3d_gui.controller import Controller
    from s2am3d_gui.panels import PANEL_WIDTH, Panel
    from s2am3d_gui.scene import SHAPE, Scene

    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny")).eval()
    ctl = Controller.open(DEFAULT_EXAMPLE, PartPredictor(model, cache=False), 3000)
    ctl.state.threshold = 1e-6  # a random model: show whatever it gives (refined below)
    scene = Scene(ctl)
    scene.frame(margin_right_px=PANEL_WIDTH + 20)  # as the app: the shape left of the panel
    panel = Panel(ctl, scene, out / "car", background=False)
    ps.set_user_callback(panel)
    ps.set_max_fps(-1)
    ps.frame_tick()
    shot = lambda: ps.screenshot_to_buffer(transparent_bg=False, include_UI=False)[..., :3].astype(np.int16)
    before = shot()

    w, h = ps.get_window_size()
    io = psim.GetIO()
    io.AddMousePosEvent((w - PANEL_WIDTH - 20) / 2, h / 2); ps.frame_tick()
    io.AddMouseButtonEvent(0, True); ps.frame_tick()
    io.AddMouseButtonEvent(0, False); ps.frame_tick()
    clicks = ctl.state.clicks
    if ctl.probs is not None:  # keep the 40 % most likely points: a mask that is neither empty nor everything
        ctl.set_threshold(float(np.quantile(ctl.probs, 0.6)))
    ps.frame_tick()
    ps.frame_tick()
    after = shot()
    ps.screenshot(str(out / "after.png"), transparent_bg=False, include_UI=True)

    changed = np.abs(after - before).sum(-1) > 40
    bh, bw = changed.shape
    mask = ctl.display_mask()
    ys, xs = np.nonzero(changed)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(ys), size=min(60, len(ys)), replace=False) if len(ys) else []
    on_shape = in_mask = 0
    for k in pick:
        hit = ps.pick(screen_coords=((xs[k] + 0.5) * w / bw, (ys[k] + 0.5) * h / bh))
        if hit.is_hit and hit.structure_name == SHAPE and hit.structure_data.get("element_type") == "face":
            on_shape += 1
            in_mask += bool(mask[hit.structure_data["index"]])
    print(json.dumps({"clicks": clicks, "mask_points": int(ctl.mask.sum()), "n": int(ctl.mask.size),
                      "changed_fraction": float(changed.mean()), "sampled": len(pick), "on_shape": on_shape,
                      "in_mask": in_mask, "backend": ps.get_render_engine_backend_name()}))
""")


def test_real_render_click_changes_masked_pixels(tmp_path):
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                         timeout=240, cwd=REPO)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 and "BACKEND_OK" not in res.stdout:  # e.g. a crash inside a broken libEGL
        pytest.skip(f"the EGL backend could not start (exit {res.returncode}): {res.stderr.strip()[-300:]}")
    assert res.returncode == 0 and lines, f"render script failed:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    report = json.loads(lines[-1])
    if "skip" in report:
        pytest.skip(f"no headless EGL/OpenGL backend here: {report['skip'][:300]}")
    assert len(report["clicks"]) == 1 and report["clicks"][0][1] is True, "the centre click missed the shape"
    assert 0 < report["mask_points"] < report["n"]
    assert report["changed_fraction"] > 0.002, "the mask overlay did not change the rendered image"
    # the changed pixels are (nearly all) the masked faces (the rest: the green click marker, edges)
    assert report["on_shape"] >= 10 and report["in_mask"] >= 0.85 * report["on_shape"], report
    from PIL import Image
    img = np.asarray(Image.open(tmp_path / "after.png").convert("RGB"))
    assert img.shape[:2] == (640, 1024) and img.std() > 10


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    import torch

    from s2am3d_core.checkpoint import save_model
    from s2am3d_core.config import get_config
    from s2am3d_core.modeling import S2AM3D
    torch.manual_seed(0)
    return save_model(S2AM3D(get_config("test-tiny")), tmp_path_factory.mktemp("w") / "tiny.safetensors")


def run_app(args, tmp_path, env_drop=()):
    import os
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    return subprocess.run([sys.executable, "-m", "s2am3d_gui.app", *args], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path, env=env)


def test_app_screenshot_mode(tmp_path, tiny_weights):
    out = tmp_path / "shot.png"
    res = run_app(["--weights", str(tiny_weights), "--no-cache", "--points", "2000", "--backend", "openGL3_egl",
                   "--screenshot", str(out), "--click-center", "--window-size", "960x640"], tmp_path)
    started = "Backend: openGL3_egl" in res.stdout + res.stderr
    if (res.returncode == 2 and "could not open a window" in res.stderr) or (res.returncode != 0 and not started):
        errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")] or [res.stderr.strip()[-300:]]
        pytest.skip(f"no headless EGL backend here: {errors[-1]}")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "wrote" in res.stdout and "decoded" in res.stdout  # the centre click hit the shape and decoded
    from PIL import Image
    assert Image.open(out).size == (960, 640)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a missing display is only certain on Linux")
def test_app_without_display_exits_2_cleanly(tmp_path, tiny_weights):
    res = run_app(["--weights", str(tiny_weights), "--no-cache", "--points", "500", "--backend", "openGL3_glfw"],
                  tmp_path, env_drop=("DISPLAY", "WAYLAND_DISPLAY"))
    assert res.returncode == 2, res.stderr[-2000:]
    assert "error: could not open a window" in res.stderr and "Traceback" not in res.stderr
    assert "Exception ignored" not in res.stderr  # polyscope's exit hook stays quiet


def test_slider_to_colours_latency_under_egl():
    """The latency bench's app-loop columns with real (software) drawing, in a child process."""
    cmd = [sys.executable, "-m", "s2am3d_gui.bench_latency", str(example_path("chair")),
           "--points", "2000", "--repeats", "3", "--threads", "1", "--random-weights", "--config", "test-tiny",
           "--backend", "openGL3_egl"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    if res.returncode == 2 and "could not start" in res.stderr:
        pytest.skip(res.stderr.strip())
    assert res.returncode == 0, res.stderr[-2000:]
    assert "app loop: openGL3_egl" in res.stdout
    row = [ln for ln in res.stdout.splitlines() if ln.strip().startswith("2000 |")]
    assert row, res.stdout
    loop_p50 = float(row[0].split("|")[4].split()[0])
    assert 0 < loop_p50 < 10_000
