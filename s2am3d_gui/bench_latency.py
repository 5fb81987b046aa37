"""Slider-update latency of the viewer: decoder + colour update, and slider-to-colours in the app loop.

    python -m s2am3d_gui.bench_latency                       # 10k / 20k / 50k points, bundled chair
    python -m s2am3d_gui.bench_latency engine.glb --points 20000 --threads 1 --repeats 50
    python -m s2am3d_gui.bench_latency engine.glb --backend openGL3_egl   # the loop with real (software) drawing

Headless columns: one "update" is what a scale-slider step costs: ``Controller.set_scale`` (the
decoder only; the encoder ran once at load) followed by ``Controller.display_colors`` (per-face /
per-point colours with the mask highlighted).

App-loop columns ("slider -> colours"): the real window code (Panel, Scene, worker thread, the
paced frame loop of ``s2am3d-gui``) under polyscope's mock backend (no drawing, so rendering is
excluded) or ``--backend openGL3_egl``: the time from ``Panel.set_scale`` (what the slider does)
to the frame that uploads the new colours. The scale sweeps like a drag; one click is set first.
Without shipped weights the ``cpu-small`` architecture with random weights is timed (same cost).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from s2am3d_core.config import CONFIGS


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def bench(ctl, repeats: int = 20, warmup: int = 2) -> dict[str, list[float]]:
    """Time ``repeats`` scale-slider updates on a Controller. Returns seconds per phase."""
    ctl.click(ctl.nearest_point(ctl.points.mean(0)))
    scales = np.geomspace(0.01, 0.8, repeats + warmup)
    out: dict[str, list[float]] = {"decode": [], "colours": [], "total": []}
    for i, s in enumerate(scales):
        t0 = time.perf_counter()
        ctl.set_scale(float(s))
        t1 = time.perf_counter()
        ctl.display_colors()
        t2 = time.perf_counter()
        if i >= warmup:
            out["decode"].append(t1 - t0)
            out["colours"].append(t2 - t1)
            out["total"].append(t2 - t0)
    return out


def bench_app_loop(ctl, repeats: int = 20, warmup: int = 2, timeout: float = 60.0,
                   preview: bool = True) -> dict[str, list[float]]:
    """Time ``repeats`` slider moves inside the app loop (polyscope must be initialised).

    After the click the loop runs until the background scale sweep of the slider preview is
    complete (``preview=False``: no preview, exact decodes only). Returns seconds: "first" (slider
    move -> frame that uploads new colours: the preview, or the exact mask without one), "exact"
    (-> frame that uploads the exact decoded mask), "decode" (the decoder's own time)."""
    import polyscope as ps

    from .app import paced_frame
    from .panels import Panel
    from .scene import Scene

    scene = Scene(ctl)
    panel = Panel(ctl, scene, Path.cwd() / "bench", background=True)
    panel.preview = preview
    ps.set_user_callback(panel)
    ps.set_max_fps(-1)
    out: dict[str, list[float]] = {"first": [], "exact": [], "decode": []}

    def run_until(cond, t0):
        while not cond():
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"the app loop did not get there within {timeout:.0f} s")
            paced_frame(ps, panel)

    try:
        panel.click_pick(ctl.points[ctl.nearest_point(ctl.points.mean(0))])
        t = time.perf_counter()
        run_until(lambda: not panel.worker.busy and (not preview or ctl.sweep_next() is None), t)
        for i, s in enumerate(np.geomspace(0.01, 0.7, repeats + warmup)):
            rev, exact = ctl.state.probs_revision, panel.exact_applied
            t0 = time.perf_counter()
            panel.set_scale(float(s))
            run_until(lambda: scene.uploaded_probs_revision > rev, t0)
            first = scene.uploaded_at - t0
            run_until(lambda: panel.exact_applied > exact and scene.uploaded_probs_revision == ctl.state.probs_revision, t0)
            if i >= warmup:
                out["first"].append(first)
                out["exact"].append(scene.uploaded_at - t0)
                out["decode"].append(ctl.decode_seconds)
    finally:
        panel.close()
        ps.set_user_callback(None)
        ps.remove_all_structures()
    return out


def time_segment_all(ctl, granularity: float, num_prompts: int, timeout: float = 600.0) -> float:
    """Seconds from pressing "Segment all" to the frame showing the parts, inside the app loop."""
    import polyscope as ps

    from .app import paced_frame
    from .panels import Panel
    from .scene import Scene

    scene = Scene(ctl)
    panel = Panel(ctl, scene, Path.cwd() / "bench", background=True)
    panel.granularity, panel.num_prompts = granularity, num_prompts
    ps.set_user_callback(panel)
    ps.set_max_fps(-1)
    try:
        rev = ctl.state.revision
        t0 = time.perf_counter()
        panel.segment_all()
        while not (ctl.state.revision > rev and scene.uploaded_at > t0):
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"segment all did not finish within {timeout:.0f} s")
            paced_frame(ps, panel)
        return scene.uploaded_at - t0
    finally:
        panel.close()
        ps.set_user_callback(None)
        ps.remove_all_structures()


def _model(weights: Path | None, config: str):
    from s2am3d_core.checkpoint import default_weights_path, load_model
    w = weights if weights is not None else default_weights_path()
    if w.is_file():
        return load_model(w), str(w)
    if weights is not None:
        from s2am3d_core.errors import CheckpointError
        raise CheckpointError(f"{weights}: weights file not found")
    import torch

    from s2am3d_core.config import get_config
    from s2am3d_core.modeling import S2AM3D
    torch.manual_seed(0)
    return S2AM3D(get_config(config)).eval(), f"random {config} weights (no {w.name})"


def _init_polyscope(backend: str) -> str:
    import polyscope as ps
    ps.set_use_prefs_file(False)
    ps.set_allow_headless_backends(True)
    ps.set_window_size(1280, 800)
    try:
        ps.init(backend)
    except RuntimeError as exc:
        from s2am3d_core.errors import S2AM3DError
        raise S2AM3DError(f"--backend {backend}: could not start ({exc}); use --backend none") from None
    return ps.get_render_engine_backend_name()


def main(argv: list[str] | None = None) -> int:
    from .app import DEFAULT_EXAMPLE
    from s2am3d_core.cli.util import ArgumentParser

    # --points is a list of sizes here: not the shared single-count check
    ap = ArgumentParser(prog="python -m s2am3d_gui.bench_latency", description=__doc__.split("\n")[0],
                        check_shared=False)
    ap.add_argument("shape", nargs="?", type=Path, default=DEFAULT_EXAMPLE,
                    help="mesh or point cloud (default: the bundled chair)")
    ap.add_argument("--points", type=int, nargs="+", default=[10000, 20000, 50000], help="model point counts")
    ap.add_argument("--repeats", type=int, default=20, help="timed updates per point count")
    ap.add_argument("--weights", type=Path, default=None, help="weights (default: the shipped model if present)")
    ap.add_argument("--config", default="cpu-small", choices=sorted(CONFIGS),
                    help="architecture timed when there are no weights (default cpu-small)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: cores - 1, as the GUI)")
    ap.add_argument("--random-weights", action="store_true", help="time --config with random weights")
    ap.add_argument("--backend", default="openGL_mock",
                    help="polyscope backend of the app-loop columns: openGL_mock (default: no drawing), "
                         "openGL3_egl (software drawing, headless), none (skip them)")
    ap.add_argument("--segment-all", type=float, default=None, metavar="GRANULARITY",
                    help="also time Segment all in the app loop at this granularity (compare with "
                         "s2am3d-segment --auto --scale G --num-prompts K --threads T)")
    ap.add_argument("--num-prompts", type=int, default=64, help="prompts of --segment-all (default 64, as the CLI)")
    args = ap.parse_args(argv)

    import torch

    from s2am3d_core.errors import S2AM3DError
    from s2am3d_core.io import load_shape
    from s2am3d_core.predictor import PartPredictor

    from .controller import Controller

    try:
        threads = args.threads or max(1, (os.cpu_count() or 2) - 1)
        torch.set_num_threads(threads)
        if args.random_weights:
            model, source = _random(args.config)
        else:
            model, source = _model(args.weights, args.config)
        shape = load_shape(args.shape)
        predictor = PartPredictor(model, cache=False)
        loop = args.backend.lower() != "none"
        backend = _init_polyscope(args.backend) if loop else "none"
        print(f"shape {args.shape.name} ({'mesh, %d faces' % len(shape.faces) if shape.is_mesh else 'point cloud'}); "
              f"model: {source}; torch threads: {threads}; {args.repeats} updates each; app loop: {backend}")
        print(f"{'':>7} | {'headless':^45} | {'app loop: slider -> colours':^40}")
        print(f"{'points':>7} | {'decode p50':>10} {'p95':>6} | {'colours p50':>11} {'p95':>5} | "
              f"{'total p50':>9} {'p95':>6} | {'preview p50':>11} {'p95':>6} | {'exact p50':>9} {'p95':>6}  (ms)")
        for n in args.points:
            ctl = Controller(predictor, shape, n)
            r = bench(ctl, args.repeats)
            line = (f"{n:>7} | {percentile_ms(r['decode'], 50):>10.1f} {percentile_ms(r['decode'], 95):>6.1f} | "
                    f"{percentile_ms(r['colours'], 50):>11.2f} {percentile_ms(r['colours'], 95):>5.1f} | "
                    f"{percentile_ms(r['total'], 50):>9.1f} {percentile_ms(r['total'], 95):>6.1f} | ")
            if loop:
                ctl.clear()
                a = bench_app_loop(ctl, args.repeats)
                line += (f"{percentile_ms(a['first'], 50):>11.1f} {percentile_ms(a['first'], 95):>6.1f} | "
                         f"{percentile_ms(a['exact'], 50):>9.1f} {percentile_ms(a['exact'], 95):>6.1f}")
            print(line, flush=True)
            if loop and args.segment_all is not None:
                ctl.clear()
                secs = time_segment_all(ctl, args.segment_all, args.num_prompts)
                print(f"{n:>7} | segment all in the app loop: {secs:.1f} s (granularity {args.segment_all:g}, "
                      f"{args.num_prompts} prompts, {len(ctl.state.parts)} parts)", flush=True)
    except S2AM3DError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if loop:
        print("app loop: preview = the mask interpolated from a background sweep of 12 grid scales (decoded "
              "after each click while the worker is idle); exact = the decoded mask at the slider's value (only "
              "the newest value is decoded, on the worker thread). Both include the frame pacing of the loop.")
    return 0


def _random(config: str):
    import torch

    from s2am3d_core.config import get_config
    from s2am3d_core.modeling import S2AM3D
    torch.manual_seed(0)
    return S2AM3D(get_config(config)).eval(), f"random {config} weights"


if __name__ == "__main__":
    raise SystemExit(main())
