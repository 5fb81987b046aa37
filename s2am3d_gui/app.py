"""``s2am3d-gui``: open a shape, click, drag the scale slider, accept parts, export."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from s2am3d_core.errors import S2AM3DError

ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_EXAMPLE = ASSETS / "example_car.glb"

EPILOG = f"""examples:
  s2am3d-gui                       open the bundled example ({DEFAULT_EXAMPLE.name})
  s2am3d-gui chair.glb --points 30000
  s2am3d-gui scan.ply --device auto --session scan.session.json
  s2am3d-gui car.glb --screenshot shot.png --click-center   (render one frame headless and exit)

In the window: click = positive click, shift+click / right click = negative click,
[ ] = scale, N = no-scale mode, A = accept, Z/Y = undo/redo, S = segment all, E = export, H = help."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="s2am3d-gui", description="Interactive scale-controllable part segmentation.",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shape", nargs="?", type=Path, default=None,
                    help="mesh (.glb .gltf .obj .ply .stl .off) or point cloud (.ply .npy .xyz); default: bundled example")
    ap.add_argument("--weights", type=Path, default=None, help="model weights (default: models/s2am3d-small.safetensors)")
    ap.add_argument("--points", type=int, default=20000, help="points the model sees (default 20000)")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    ap.add_argument("--no-cache", action="store_true", help="do not read/write the on-disk feature cache")
    ap.add_argument("--session", type=Path, default=None, help="load a saved session file")
    ap.add_argument("--backend", default=None, help="polyscope backend (e.g. openGL3_egl for headless rendering)")
    ap.add_argument("--screenshot", type=Path, default=None, help="render one frame to this PNG and exit")
    ap.add_argument("--click-center", action="store_true", help="with --screenshot: click the shape at the screen centre first")
    return ap


def run(args) -> int:
    from s2am3d_core.predictor import PartPredictor

    from .controller import Controller

    path = args.shape or DEFAULT_EXAMPLE
    if args.points < 16:
        raise S2AM3DError(f"--points {args.points}: need at least 16 points")
    predictor = PartPredictor.from_pretrained(args.weights, device=args.device, cache=not args.no_cache)
    bar = tqdm(total=100, desc=f"encoding {path.name}", unit="%")

    def progress(frac: float, msg: str) -> None:
        bar.set_postfix_str(msg)
        bar.update(int(frac * 100) - bar.n)

    ctl = Controller.open(path, predictor, args.points, progress=progress)
    bar.close()
    if args.session:
        ctl.load_session(args.session)

    import polyscope as ps

    from .panels import Panel
    from .scene import Scene

    ps.set_program_name("s2am3d")
    ps.set_up_dir("z_up")
    ps.set_ground_plane_mode("shadow_only")
    if args.backend:
        ps.set_allow_headless_backends(True)
    ps.init(args.backend or "")
    ps.set_give_focus_on_show(True)
    scene = Scene(ctl)
    panel = Panel(ctl, scene, str(Path(path).with_suffix("")))
    ps.set_user_callback(panel)
    if args.screenshot:
        ps.set_max_fps(-1)
        ps.frame_tick()
        if args.click_center:
            w, h = ps.get_window_size()
            panel.on_click((w // 2, h // 2), negative=False)
            ps.frame_tick()
        ps.screenshot(str(args.screenshot), transparent_bg=False)
        print(f"wrote {args.screenshot}: {panel.status}")
        return 0
    ps.show()
    return 0


def main(argv=None) -> int:
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
