"""Slider-update latency of the viewer: decoder + colour update, per number of model points.

    python -m s2am3d_gui.bench_latency                       # 10k / 20k / 50k points, bundled car
    python -m s2am3d_gui.bench_latency --points 20000 --repeats 50 --weights models/s2am3d-small.safetensors

One "update" is what a scale-slider step costs in the window: ``Controller.set_scale`` (the
decoder only; the encoder ran once at load) followed by ``Controller.display_colors`` (per-face /
per-point colours with the mask highlighted). The scale sweeps like a drag; one click is set first.
Without shipped weights the ``cpu-small`` architecture with random weights is timed (same cost).
No window is opened.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np


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


def main(argv: list[str] | None = None) -> int:
    from .app import DEFAULT_EXAMPLE
    ap = argparse.ArgumentParser(prog="python -m s2am3d_gui.bench_latency", description=__doc__.split("\n")[0])
    ap.add_argument("shape", nargs="?", type=Path, default=DEFAULT_EXAMPLE, help="mesh or point cloud (default: bundled car)")
    ap.add_argument("--points", type=int, nargs="+", default=[10000, 20000, 50000], help="model point counts")
    ap.add_argument("--repeats", type=int, default=20, help="timed updates per point count")
    ap.add_argument("--weights", type=Path, default=None, help="weights (default: the shipped model if present)")
    ap.add_argument("--config", default="cpu-small", help="architecture timed when there are no weights")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: cores - 1, as the GUI)")
    args = ap.parse_args(argv)

    import torch

    from s2am3d_core.errors import S2AM3DError
    from s2am3d_core.io import load_shape
    from s2am3d_core.predictor import PartPredictor

    from .controller import Controller

    try:
        threads = args.threads or max(1, (os.cpu_count() or 2) - 1)
        torch.set_num_threads(threads)
        model, source = _model(args.weights, args.config)
        shape = load_shape(args.shape)
        predictor = PartPredictor(model, cache=False)
        print(f"shape {args.shape.name} ({'mesh, %d faces' % len(shape.faces) if shape.is_mesh else 'point cloud'}); "
              f"model: {source}; torch threads: {threads}; {args.repeats} updates each")
        print(f"{'points':>7} | {'encode s':>8} | {'decode p50':>10} {'p95':>7} | {'colours p50':>11} {'p95':>6} | "
              f"{'total p50':>9} {'p95':>7}  (ms)")
        for n in args.points:
            ctl = Controller(predictor, shape, n)
            r = bench(ctl, args.repeats)
            print(f"{n:>7} | {ctl.encode_seconds:>8.2f} | {percentile_ms(r['decode'], 50):>10.1f} "
                  f"{percentile_ms(r['decode'], 95):>7.1f} | {percentile_ms(r['colours'], 50):>11.2f} "
                  f"{percentile_ms(r['colours'], 95):>6.2f} | {percentile_ms(r['total'], 50):>9.1f} "
                  f"{percentile_ms(r['total'], 95):>7.1f}")
    except S2AM3DError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("The window decodes on a worker thread (newest slider value wins), so drawing never waits "
          "for the decoder; the mask trails a drag by about one decode.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
