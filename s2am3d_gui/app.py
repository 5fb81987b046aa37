"""``s2am3d-gui``: open a shape, click it, drag the scale slider, accept parts, export.

Errors a user can cause (missing or unreadable shape, missing weights, a bad session file, no
window system) print one ``error: ...`` line to stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from s2am3d_core.cli.util import ArgumentParser
from s2am3d_core.errors import CheckpointError, InputError, S2AM3DError
from s2am3d_core.examples import example_path
from s2am3d_core.io.sample import DEFAULT_POINTS
from s2am3d_core.io.up import UP_AXES

DEFAULT_EXAMPLE = example_path("chair")

EPILOG = f"""examples:
  s2am3d-gui                          open the bundled example ({DEFAULT_EXAMPLE.name})
  s2am3d-gui chair.glb --points 30000
  s2am3d-gui scan.ply --device cuda
  s2am3d-gui --session chair.session.json     reopen a saved session (and its shape)
  s2am3d-gui car.glb --backend openGL3_egl --screenshot shot.png --click-center
                                      headless: render one frame (after a click at the centre) and exit
  s2am3d-gui chair_labelled.ply       review / correct a result of s2am3d-segment (its parts are editable)
  s2am3d-gui chair_parts/             the same for a folder written by --parts-dir / Export parts
  s2am3d-gui robot.urdf               a URDF robot (links placed by their joints)
  s2am3d-gui model.glb --up z         a file whose up axis is not its format's convention (glTF: y)
  s2am3d-gui engine.glb --segment-all 0.02    open and label every part at 2 % granularity

outputs go next to the input (or to --out-dir / the panel's output folder), with absolute paths
shown; the input is never written, and an existing export is replaced only after you confirm.

in the window: click = positive click, shift+click / right click = negative click, [ ] = scale,
N = auto (no scale), P = points-only masks, A = accept part, C = clear clicks, Z / Y = undo / redo, S = segment all,
E = export, H = help"""


def build_parser() -> argparse.ArgumentParser:
    ap = ArgumentParser(prog="s2am3d-gui", description="Interactive, scale-controllable part "
                        "segmentation of a 3D shape (S2AM3D).", epilog=EPILOG,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shape", nargs="?", type=Path, default=None,
                    help="mesh (.glb .gltf .obj .ply .stl .off .dae .urdf), point cloud (.ply .npy .xyz .txt), "
                         "a labelled PLY or part folder (opens with its parts); "
                         f"default: the session's shape, else the bundled {DEFAULT_EXAMPLE.name}")
    ap.add_argument("--up", choices=list(UP_AXES), default=None,
                    help="the file's up axis (default: the session's, else the format's convention: "
                         "y for glTF, z otherwise); the viewer shows it z up")
    ap.add_argument("--out-dir", type=Path, default=None,
                    help="folder for exports and sessions (default: the input's folder, or the working "
                         "folder when that one is not writable)")
    ap.add_argument("--weights", type=Path, default=None,
                    help="model weights (default: $S2AM3D_WEIGHTS, else models/s2am3d-base.safetensors)")
    ap.add_argument("--points", type=int, default=None,
                    help=f"points the model sees (default {DEFAULT_POINTS}, or the session's)")
    ap.add_argument("--device", default="auto", help="auto (CUDA if present, default), cpu, cuda or cuda:N")
    ap.add_argument("--threads", type=int, default=None,
                    help="CPU threads for the model (default: all cores but one, which draws the window)")
    ap.add_argument("--no-cache", action="store_true", help="do not read or write the on-disk feature cache")
    ap.add_argument("--session", type=Path, default=None, help="open a saved session file")
    ap.add_argument("--scale", type=float, default=None, help="initial scale in [0, 1]")
    ap.add_argument("--points-only", action="store_true",
                    help="masks on the sampled points, as the decoder gives them (default: on atoms, the welded "
                         "pieces of the mesh split at creases, solids welded into one mesh counted apart, or the "
                         "connected pieces of a point cloud; a negative click removes its atom)")
    ap.add_argument("--segment-all", type=float, default=None, metavar="GRANULARITY",
                    help="segment the unlabelled points at this granularity in [0, 1] right after opening")
    ap.add_argument("--backend", default=None,
                    help="polyscope backend: auto (default), openGL3_glfw, openGL3_egl (headless), openGL_mock")
    ap.add_argument("--screenshot", type=Path, default=None, help="render one frame to this PNG and exit")
    ap.add_argument("--click-center", action="store_true",
                    help="with --screenshot: click the shape at the centre of the window first")
    ap.add_argument("--window-size", default="1280x800", help="window size WxH (default 1280x800)")
    return ap


def _window_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--window-size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x800") from None
    if not (64 <= w <= 16384 and 64 <= h <= 16384):
        raise InputError(f"--window-size {text!r}: width and height must be in [64, 16384]")
    return w, h


def _resolve_inputs(args) -> tuple[Path, int, str | None]:
    """The shape to open, the number of model points and the up axis (a session brings all three)."""
    shape, points, up = args.shape, args.points, args.up
    if args.session is not None:
        from .state import read_session
        data = read_session(args.session)
        if shape is None:
            shape = Path(data["shape"])
            if not shape.exists():
                raise InputError(f"{args.session}: the session's shape {shape} is missing; "
                                 "pass the shape file as the first argument")
        if points is None:
            points = int(data["num_points"])
        if up is None and data.get("up") in UP_AXES:
            up = data["up"]
    shape = shape if shape is not None else DEFAULT_EXAMPLE
    points = DEFAULT_POINTS if points is None else points
    from .state import MAX_SESSION_POINTS
    if not 16 <= points <= MAX_SESSION_POINTS:
        raise InputError(f"--points {points}: must be in [16, {MAX_SESSION_POINTS}]")
    return shape, points, up


def _out_dir(args, shape_path: Path) -> Path:
    """Where outputs go: --out-dir, else the input's folder, else the working folder when that
    folder is not writable or is the package's own examples folder (a bundled example's exports
    are the user's files, not the package's)."""
    if args.out_dir is not None:
        out = args.out_dir.expanduser().resolve()
        if out.exists() and not out.is_dir():
            raise InputError(f"--out-dir {args.out_dir}: exists and is not a folder")
        return out
    folder = shape_path.expanduser().resolve().parent
    if folder == DEFAULT_EXAMPLE.resolve().parent or not os.access(folder, os.W_OK):
        return Path.cwd()
    return folder


def base_stem(path: Path) -> str:
    """Stem for output names: ``chair`` for chair.glb, and for our own results chair_labelled.ply,
    chair_edited.ply or the folder chair_parts (so reopening one does not pile up suffixes)."""
    stem = Path(path).stem if Path(path).suffix else Path(path).name
    for suffix in ("_labelled", "_edited", "_parts"):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def load_input(path: Path, up: str | None):
    """(LoadedShape, labelled or None): a labelled PLY / part folder also brings its labels."""
    from s2am3d_core.io import load_shape
    from s2am3d_core.io.parts import is_labelled, load_labelled
    if is_labelled(path):
        labelled = load_labelled(path, up=up)
        return labelled.shape, labelled
    if path.is_dir():
        raise InputError(f"{path}: is a folder without parts.json; open a mesh or point cloud file")
    return load_shape(path, up=up), None


def _weights(path: Path | None) -> Path:
    from s2am3d_core.resources import default_weights_path
    w = Path(path) if path is not None else default_weights_path()
    if not w.is_file():
        how = ("pass --weights FILE or set S2AM3D_WEIGHTS" if path is None and "S2AM3D_WEIGHTS" not in os.environ
               else "check the path")
        extra = (" (the shipped model is made by models/train_small.sh)"
                 if path is None and "S2AM3D_WEIGHTS" not in os.environ else "")
        raise CheckpointError(f"model weights not found: {w}{extra}; {how}")
    return w


def _init_polyscope(backend: str | None, size: tuple[int, int], headless: bool) -> None:
    import polyscope as ps
    ps.set_program_name("s2am3d")
    ps.set_use_prefs_file(False)
    ps.set_up_dir("z_up")
    ps.set_front_dir("neg_y_front")
    ps.set_ground_plane_mode("shadow_only")
    ps.set_open_imgui_window_for_user_callback(False)
    ps.set_window_size(*size)
    if headless or (backend or "").endswith("egl"):
        ps.set_allow_headless_backends(True)
    try:
        ps.init(backend or "auto")
    except RuntimeError as exc:
        try:  # leave polyscope initialised so its exit hook does not print a second error
            ps.init("openGL_mock")
        except RuntimeError:
            pass
        if not backend and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            reason = "there is no display (DISPLAY is not set)"
        else:
            reason = str(exc).replace("[polyscope]", "").replace("[EXCEPTION]", "").strip()
        raise S2AM3DError(f"could not open a window: {reason}; to render one frame without a display use "
                          "--backend openGL3_egl --screenshot out.png (needs Mesa's libEGL)") from None


def run(args) -> int:
    shape_path, num_points, up = _resolve_inputs(args)
    size = _window_size(args.window_size)
    if args.scale is not None:
        from s2am3d_core.errors import PromptError
        from s2am3d_core.scale import check_scale
        try:
            check_scale(args.scale)
        except PromptError:
            raise InputError(f"--scale {args.scale}: must be in [0, 1]") from None
    if args.segment_all is not None and not 0.0 < args.segment_all <= 1.0:
        raise InputError(f"--segment-all {args.segment_all}: must be in (0, 1]")
    shape, labelled = load_input(shape_path, up)   # fail fast on a bad file, before loading the model
    out_dir = _out_dir(args, shape_path)
    weights = _weights(args.weights)

    import torch
    from tqdm import tqdm

    from s2am3d_core.predictor import PartPredictor

    from .controller import Controller

    threads = args.threads if args.threads is not None else max(1, (os.cpu_count() or 2) - 1)
    if threads < 1:
        raise InputError(f"--threads {threads}: must be >= 1")
    torch.set_num_threads(threads)
    predictor = PartPredictor.from_pretrained(weights, device=args.device, cache=not args.no_cache)
    with tqdm(total=100, desc=f"{shape_path.name}: loading", file=sys.stderr,
              bar_format="{desc:<48} {percentage:3.0f}%|{bar:30}|") as bar:
        def progress(frac: float, msg: str) -> None:
            bar.set_description_str(f"{shape_path.name}: {msg}", refresh=False)
            bar.update(int(round(frac * 100)) - bar.n)

        ctl = Controller(predictor, shape, num_points, progress=progress, mesh_aware=not args.points_only)
    print(f"{shape_path.name}: {ctl.features_text}", file=sys.stderr)
    if labelled is not None:
        k = ctl.import_labels(labelled.labels, labelled.parts)
        print(f"{shape_path.name}: opened {k} labelled parts (editable)", file=sys.stderr)
    if args.session is not None:
        ctl.load_session(args.session, decode=False)
    if args.scale is not None:
        ctl.set_scale(args.scale, decode=False)
    if args.segment_all is not None:
        t = time.perf_counter()
        with tqdm(total=100, desc=f"{shape_path.name}: segment all", file=sys.stderr,
                  bar_format="{desc:<48} {percentage:3.0f}%|{bar:30}|") as bar:
            def seg_progress(frac: float, msg: str) -> None:
                bar.update(int(round(frac * 100)) - bar.n)
            k = ctl.segment_all(args.segment_all, progress=seg_progress)
        print(f"{shape_path.name}: segment all: {k} parts at granularity {args.segment_all:g} in "
              f"{time.perf_counter() - t:.1f} s", file=sys.stderr)
    ctl.update()

    import polyscope as ps

    from .panels import PANEL_WIDTH, Panel
    from .scene import Scene

    _init_polyscope(args.backend, size, headless=args.screenshot is not None)
    scene = Scene(ctl)
    scene.frame(margin_right_px=PANEL_WIDTH + 20)
    stem = Path(args.session).name.split(".")[0] if args.session else base_stem(shape_path)
    panel = Panel(ctl, scene, out_dir / stem, background=args.screenshot is None)
    if args.segment_all is not None:
        panel.granularity = args.segment_all
    ps.set_user_callback(panel)
    try:
        if args.screenshot is not None:
            return _screenshot(ps, panel, args.screenshot, args.click_center)
        main_loop(ps, panel)
    finally:
        panel.close()
    return 0


FPS = 60          # frame rate while the model is idle
DECODE_FPS = 30   # while a decode / preview sweep runs: share the cores with the decoder
BUSY_FPS = 8      # while segment all / re-encoding runs: leave the cores to the model


def paced_frame(ps, panel) -> None:
    """One frame of the app loop, then a sleep to the frame period (the GIL and the CPU cores are
    then free for the model's worker thread; software rendering with vsync would otherwise spin)."""
    t = time.perf_counter()
    ps.frame_tick()
    worker = panel.worker
    period = 1.0 / (BUSY_FPS if panel.busy else DECODE_FPS if worker is not None and worker.busy else FPS)
    left = period - (time.perf_counter() - t)
    if left > 0:
        if worker is not None and worker.busy:
            worker.wait_done(left)  # wakes as soon as the decode is done: its colours go out next frame
        else:
            time.sleep(left)


def main_loop(ps, panel) -> None:
    """Draw paced frames until the window closes."""
    ps.set_max_fps(-1)
    ps.set_enable_vsync(False)
    while not ps.window_requests_close():
        paced_frame(ps, panel)


def _screenshot(ps, panel, out: Path, click_center: bool) -> int:
    from .panels import PANEL_WIDTH
    ps.set_max_fps(-1)
    ps.frame_tick()
    if click_center:  # the centre of the view left of the panel, where Scene.frame puts the shape
        w, h = ps.get_window_size()
        if not panel.click_near(((w - PANEL_WIDTH - 20) / 2.0, h / 2.0)):
            raise InputError("--click-center: the shape is not near the centre of the view")
        panel.wait()
        ps.frame_tick()
    ps.frame_tick()
    out.parent.mkdir(parents=True, exist_ok=True)
    ps.screenshot(str(out), transparent_bg=False, include_UI=True)
    print(f"wrote {out}: {panel.status}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except S2AM3DError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
