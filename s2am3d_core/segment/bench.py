"""Time the mesh-aware precompute and a slider move: ``python -m s2am3d_core.segment.bench``.

Per mesh: atoms (weld, pieces, crease regions; computed when a shape is opened), the heat-method
solver of its largest piece (built on the first click on that piece), then one click's surface
distance, then slider moves (decoder + atom selection + face mask) at several scales, p50/p95 over
``--repeats`` moves. Meshes: the files given, plus (``--sphere``) a 1.3 M-face icosphere (a
single-piece, scan-like surface). One torch thread unless ``--threads`` says otherwise.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from ..io.sample import DEFAULT_POINTS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m s2am3d_core.segment.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("meshes", nargs="*", help="mesh files (.glb .obj .ply ...)")
    p.add_argument("--sphere", action="store_true", help="also a 1,310,720-face icosphere")
    p.add_argument("--points", type=int, default=DEFAULT_POINTS,
                   help=f"sampled points (default {DEFAULT_POINTS}, the GUI default)")
    p.add_argument("--repeats", type=int, default=20, help="slider moves timed (default 20)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--weights", help="model weights (default: the shipped model)")
    args = p.parse_args(argv)

    import torch

    from ..io import load_shape
    from ..io.sample import sample_surface
    from ..predictor import PartPredictor
    from .atoms import mesh_atoms
    from .geodesic import SurfaceDistance
    from .segmenter import ShapeSegmenter

    torch.set_num_threads(args.threads)
    shapes = [(m, load_shape(m).vertices, load_shape(m).faces) for m in args.meshes]
    if args.sphere:
        import trimesh

        s = trimesh.creation.icosphere(subdivisions=8)
        shapes.append(("icosphere-1.3M", np.asarray(s.vertices, np.float32), np.asarray(s.faces)))
    predictor = PartPredictor.from_pretrained(args.weights, cache=False)
    for name, v, f in shapes:
        pts, fi = sample_surface(v, f, args.points, seed=0)
        t = time.perf_counter()
        atoms = mesh_atoms(v, f, fi, pts)
        t_atoms = time.perf_counter() - t
        t = time.perf_counter()
        sd = SurfaceDistance(atoms, pts, v, f)
        biggest = int(np.argmax(np.bincount(atoms.piece, weights=atoms.area)))
        sd._solver_for(biggest)  # the worst first click: the largest piece's heat solver
        t_geo = time.perf_counter() - t
        seg = ShapeSegmenter(predictor)
        seg.set_shape(v, f, points=pts, face_index=fi)
        click = seg.nearest_point(v[f[len(f) // 2]].mean(0))
        t = time.perf_counter()
        seg.distances_from(click)
        t_click = time.perf_counter() - t
        times, decode, select = [], [], []
        for k in range(args.repeats):
            s = float(np.geomspace(0.005, 0.5, args.repeats)[k])
            t = time.perf_counter()
            probs = predictor.predict([click], scale=s)
            t1 = time.perf_counter()
            mask = seg.mask_from_probs(probs, [click], [], s)
            t2 = time.perf_counter()
            times.append(t2 - t)
            decode.append(t1 - t)
            select.append(t2 - t1)
        ms = 1000 * np.array(times)
        sel_ms = 1000 * np.array(select)
        dec_ms = 1000 * np.array(decode)
        print(f"{name}: {len(f)} faces, {atoms.num_atoms} atoms, {atoms.num_pieces} pieces | atoms "
              f"{t_atoms:.2f} s (at open) + heat solver of the largest piece {t_geo:.2f} s (first click on it) | "
              f"click distance "
              f"{1000 * t_click:.0f} ms | slider move ({args.points} points) p50 {np.percentile(ms, 50):.1f} ms, "
              f"p95 {np.percentile(ms, 95):.1f} ms = decoder p50 {np.percentile(dec_ms, 50):.1f} / p95 "
              f"{np.percentile(dec_ms, 95):.1f} ms + atom selection and face mask p50 {np.percentile(sel_ms, 50):.1f} / "
              f"p95 {np.percentile(sel_ms, 95):.1f} ms (last mask {100 * mask.fraction:.1f}%)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
