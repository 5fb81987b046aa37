"""Time the mesh-aware precompute and a slider move: ``python -m s2am3d_core.eval.segment_bench``.

Per mesh: atoms (weld, pieces, crease regions, patches) and the heat-method solvers of its large
pieces, built and factorised (both when a shape is opened), then one click's surface distance on
the middle face's piece, then slider moves (decoder + atom selection + face mask) at several
scales, p50/p95 over ``--repeats`` moves. Meshes: the files given, plus (``--sphere``) a 1.3 M-face icosphere (a
single-piece, scan-like surface). One torch thread unless ``--threads`` says otherwise.

examples:
  python -m s2am3d_core.eval.segment_bench ../shared/data/2CylinderEngine.glb --sphere
  python -m s2am3d_core.eval.segment_bench my_part.obj --points 50000 --repeats 40
"""
from __future__ import annotations

import time

import numpy as np

from ..cli.util import ArgumentParser, UsageError, check_min, check_points, run_main, set_threads
from ..io.sample import DEFAULT_POINTS


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m s2am3d_core.eval.segment_bench", description=__doc__)
    p.add_argument("meshes", nargs="*", help="mesh files (.glb .obj .ply ...)")
    p.add_argument("--sphere", action="store_true", help="also a 1,310,720-face icosphere")
    p.add_argument("--points", type=int, default=DEFAULT_POINTS,
                   help=f"sampled points (default {DEFAULT_POINTS}, the GUI default)")
    p.add_argument("--repeats", type=int, default=20, help="slider moves timed (default 20)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--weights", help="model weights (default: the shipped model)")
    return p


def main(argv: list[str] | None = None) -> int:
    return run_main(_run, build_parser().parse_args(argv))


def _run(args) -> int:
    if not args.meshes and not args.sphere:
        raise UsageError("meshes: give at least one mesh file, or --sphere")
    check_points(args.points)
    check_min("--repeats", args.repeats)
    check_min("--threads", args.threads)

    from ..io import load_shape
    from ..io.sample import sample_surface
    from ..predictor import PartPredictor
    from ..segment.atoms import mesh_atoms
    from ..segment.geodesic import SurfaceDistance
    from ..segment.segmenter import ShapeSegmenter

    set_threads(args.threads)
    shapes = []
    for m in args.meshes:
        shape = load_shape(m)
        if shape.faces is None:
            raise UsageError(f"{m}: a point cloud; this benchmark times meshes")
        shapes.append((m, shape.vertices, shape.faces))
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
        SurfaceDistance(atoms, pts, v, f).prepare()  # the large pieces' heat solvers, factorised
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
              f"{t_atoms:.2f} s + heat solvers of the large pieces {t_geo:.2f} s (both at open) | "
              f"a click's distance "
              f"{1000 * t_click:.0f} ms | slider move ({args.points} points) p50 {np.percentile(ms, 50):.1f} ms, "
              f"p95 {np.percentile(ms, 95):.1f} ms = decoder p50 {np.percentile(dec_ms, 50):.1f} / p95 "
              f"{np.percentile(dec_ms, 95):.1f} ms + atom selection and face mask p50 {np.percentile(sel_ms, 50):.1f} / "
              f"p95 {np.percentile(sel_ms, 95):.1f} ms (last mask {100 * mask.fraction:.1f}%)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
