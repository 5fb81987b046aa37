"""``s2am3d-eval``: interactive and full-segmentation scores of a model against baselines.

Datasets:
  --procedural N   N held-out procedural objects: generated from seeds offset by 1,000,000 (disjoint from
                   training seeds) and kept only when ``split_of(name) == "eval"``.
  --data DIR       a shard folder written by s2am3d-data (``--split``, default eval).
  --glb PATH ...   GLB/glTF assemblies; node subtrees are parts, nesting gives the levels.
  --urdf PATH ...  URDF robots; links are parts, the kinematic tree gives the levels.
  --user-dir DIR   every labelled file of a folder (.ply from s2am3d-segment/-gui, .glb, .gltf, .urdf),
                   scored against the labels as written (no split of disconnected parts).
  --shared-data    every ``<repo>/../shared/data/*.glb`` (skipped with a message when absent).
See :mod:`s2am3d_core.eval.evaluate` for what is measured.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from ..cli.util import ArgumentParser, UsageError, check_min, check_threshold, device_arg, human_seconds, run_main, set_threads
from ..data.shards import shard_items
from ..data.splits import EVAL_SEED_OFFSET, procedural_items
from ..errors import S2AM3DError
from .baselines import BASELINES
from .evaluate import aggregate, evaluate_object, prepare, public

REPO_ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = """\
examples:
  s2am3d-eval --procedural 50 --shared-data --out results.json
  s2am3d-eval --weights models/s2am3d-base.safetensors --data shards/ --split eval --baselines kmeans,geometric
  s2am3d-eval --glb ../shared/data/2CylinderEngine.glb --points 8192 --baselines none
  s2am3d-eval --urdf robots/panda.urdf robots/ur5.urdf --points 4096
  s2am3d-eval --user-dir my_labelled/ --weights runs/mine/best.safetensors --baselines geometric
  s2am3d-eval --shared-data --remesh 128 --baselines geometric   # the same assemblies as scans

Interactive IoU: one click per gt part per level (the part point nearest its centroid), with the
true part fraction as scale ("ours+s") and without ("ours"), in both modes: points-only (decoder
probability > --threshold) and mesh-aware (masks on atoms; on point clouds, atoms of the kNN graph).
The headline row "distinct" counts each distinct gt part once; the level rows count every prompt.
Full segmentation: Hungarian-matched mIoU per gt level; ours at the level's median part fraction,
baselines with oracle k (= number of gt parts, as PartField reports); "part counts": the levels where
ours finds within 1.5x of the gt number of parts.
The JSON written by --out is described in docs/EVAL_JSON.md.
"""

INTER_COLUMNS = [("ours_scale", "ours+s"), ("ours_noscale", "ours"), ("ours_topk", "top-k"),
                 ("kmeans", "kmeans*"), ("agglo", "agglo*"), ("geometric_scale", "ball+s"),
                 ("geometric_noscale", "dbscan")]
MESH_COLUMNS = [("mesh_scale", "ours+s"), ("mesh_noscale", "ours"), ("piece_dist_scale", "pieces+s"),
                ("piece_noscale", "piece")]
FULL_COLUMNS = [("ours", "ours(gt s)"), ("ours_noscale", "ours(no s)"), ("kmeans", "kmeans*"), ("agglo", "agglo*"),
                ("geometric", "geometric*")]
MESH_FULL_COLUMNS = [("mesh", "ours(gt s)"), ("mesh_noscale", "ours(no s)")]


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="s2am3d-eval", description="Evaluate S2AM3D (interactive and full segmentation) "
                       "against feature-clustering and geometric baselines.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", metavar="W", help="model weights (default: $S2AM3D_WEIGHTS or the shipped model)")
    d = p.add_argument_group("datasets (at least one)")
    d.add_argument("--procedural", type=int, metavar="N", help="N held-out procedural objects")
    d.add_argument("--seed", type=int, default=0, help="seed of the procedural objects and of sampling (default 0)")
    d.add_argument("--data", metavar="SHARD_DIR", help="shard folder (s2am3d-data output)")
    d.add_argument("--split", default="eval", help="split of --data (default eval)")
    d.add_argument("--max-objects", type=int, metavar="M", help="use at most M objects of --data")
    d.add_argument("--glb", nargs="+", metavar="PATH", default=[], help="GLB/glTF files with part hierarchies")
    d.add_argument("--urdf", nargs="+", metavar="PATH", default=[], help="URDF robots (links are parts)")
    d.add_argument("--user-dir", action="append", metavar="DIR", default=[],
                   help="folder of labelled files (.ply, .glb, .gltf, .urdf); repeatable")
    d.add_argument("--shared-data", action="store_true", help="the GLB assemblies in <repo>/../shared/data")
    p.add_argument("--points", type=int, default=10000, help="points per object (default 10000)")
    p.add_argument("--remesh", type=int, metavar="RES",
                   help="score scan-like versions of the meshes instead: each one voxelised at RES cells "
                        "along its longest side and rebuilt as one smoothed outer surface, the labels "
                        "carried over (s2am3d_core.data.remesh; needs scikit-image)")
    p.add_argument("--out", metavar="results.json", help="write all scores as JSON (atomically)")
    p.add_argument("--baselines", default=",".join(BASELINES),
                   help=f"comma-separated subset of {','.join(BASELINES)}, or 'none' (default: all)")
    p.add_argument("--threshold", type=float, default=0.5, help="mask probability threshold (default 0.5)")
    p.add_argument("--clicks", choices=["center", "random"], default="center",
                   help="click of each part: nearest its centroid (default) or random (seeded)")
    p.add_argument("--min-part-points", type=int, default=5, metavar="M",
                   help="interactive protocol: skip gt parts with fewer sampled points (default 5)")
    p.add_argument("--num-prompts", type=int, default=64, help="prompts of the automatic segmentation (default 64)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    p.add_argument("--threads", type=int, metavar="T",
                   help="torch CPU threads (default: torch's choice; 1 is fastest on busy shared cores)")
    p.add_argument("--cache", action="store_true", help="use the on-disk feature cache (off by default)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def parse_baselines(text: str) -> tuple[str, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    names = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    bad = [n for n in names if n not in BASELINES]
    if bad:
        raise UsageError(f"--baselines: unknown baseline(s) {', '.join(bad)}; "
                         f"choose from {','.join(BASELINES)} or none")
    return names


def _import_data(flag: str, module: str):
    import importlib

    try:
        return importlib.import_module(f"s2am3d_core.data.{module}")
    except ImportError as exc:
        raise UsageError(f"{flag}: s2am3d_core.data.{module} is not available in this installation ({exc})") from None


def labelled_item(path: Path, flag: str = "--glb"):
    """The labelled shape of one GLB/glTF, URDF or labelled PLY file (its own labels, not split)."""
    user = _import_data(flag, "user")
    pm = user.load_labelled_file(path, split=False)
    if not pm.name:
        pm.name = path.stem
    return pm


def shared_data_files() -> tuple[list[Path], str | None]:
    """GLB files in <repo>/../shared/data, or ([], reason) when absent."""
    folder = REPO_ROOT.parent / "shared" / "data"
    if not folder.is_dir():
        return [], f"{folder}: folder not found; skipping the shared real assemblies"
    files = sorted(folder.glob("*.glb"))
    if not files:
        return [], f"{folder}: no .glb files; skipping the shared real assemblies"
    return files, None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(_run, args)


def _run(args) -> int:
    baselines = parse_baselines(args.baselines)
    if args.procedural is None and not (args.data or args.glb or args.urdf or args.user_dir or args.shared_data):
        raise UsageError("datasets: choose at least one of --procedural N, --data DIR, --glb PATH, --urdf PATH, "
                         "--user-dir DIR, --shared-data")
    check_min("--procedural", args.procedural)
    if args.points < 16:
        raise UsageError(f"--points: need at least 16 points per object, got {args.points}")
    check_threshold(args.threshold)
    check_min("--num-prompts", args.num_prompts)
    check_min("--min-part-points", args.min_part_points)
    check_min("--max-objects", args.max_objects)
    if args.remesh is not None:
        from ..data.remesh import MAX_RESOLUTION, MIN_RESOLUTION, check_remesh_available

        if not MIN_RESOLUTION <= args.remesh <= MAX_RESOLUTION:
            raise UsageError(f"--remesh: need {MIN_RESOLUTION}-{MAX_RESOLUTION} cells (memory grows as the cube), "
                             f"got {args.remesh}")
        problem = check_remesh_available()
        if problem:
            raise UsageError(f"--remesh: {problem}")
    if args.out and Path(args.out).is_dir():
        raise UsageError(f"--out: {args.out} is a folder; give a .json file name")
    for flag, files in (("--glb", args.glb), ("--urdf", args.urdf)):
        for g in files:
            if not Path(g).is_file():
                raise UsageError(f"{flag}: {g}: file not found")
    for d in args.user_dir:
        if not Path(d).is_dir():
            raise UsageError(f"--user-dir: {d}: folder not found")
    if args.data and not Path(args.data).is_dir():
        raise UsageError(f"--data: {args.data}: folder not found")
    from ..io.outputs import OutFile, check_outputs

    check_outputs({"--weights": args.weights, "--glb": args.glb, "--urdf": args.urdf, "--user-dir": args.user_dir,
                   "--data": args.data},
                  files=[OutFile("--out", args.out, (".json",))])

    from ..checkpoint import default_weights_path, file_sha256, load_model
    from ..predictor import PartPredictor

    set_threads(args.threads)
    device = device_arg(args.device)
    t_start = time.perf_counter()
    weights = Path(args.weights) if args.weights else default_weights_path()
    model = load_model(weights, device=device)
    predictor = PartPredictor(model, device=device, cache=bool(args.cache))
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))

    sources: list[tuple[str, int | None, object]] = []  # (name, count or None, iterator factory)
    if args.procedural is not None:
        sources.append(("procedural", args.procedural,
                        lambda: ((it, None) for it in procedural_items(args.procedural, args.seed, args.points))))
    if args.data:
        sources.append((f"data:{args.split}", args.max_objects,
                        lambda: ((it, None) for it in shard_items(args.data, args.split, args.max_objects))))
    for flag, files in (("--glb", args.glb), ("--urdf", args.urdf)):
        if files:
            paths = [Path(g) for g in files]
            sources.append((flag[2:], len(paths), lambda paths=paths, flag=flag: _file_iter(paths, flag, strict=True)))
    for folder in args.user_dir:
        paths = _import_data("--user-dir", "user").labelled_files(folder)
        if not paths:
            raise UsageError(f"--user-dir: {folder}: no labelled files (.ply, .glb, .gltf, .urdf)")
        sources.append((f"user-dir:{folder}", len(paths),
                        lambda paths=paths: _file_iter(paths, "--user-dir", strict=True)))
    results: dict[str, dict] = {}
    if args.shared_data:
        files, reason = shared_data_files()
        if reason:
            say(reason)
            results["shared-data"] = {"skipped": reason}
        else:
            sources.append(("shared-data", len(files), lambda: _file_iter(files, "--shared-data", strict=False)))

    from tqdm import tqdm

    for name, count, factory in sources:
        objects, skipped = [], []
        bar = tqdm(total=count, desc=f"eval {name}", unit="obj", file=sys.stderr, disable=args.quiet, leave=False)
        for item, problem in factory():
            if problem is None and args.remesh is not None:
                item, problem = _remeshed(item, args.remesh, args.seed)
            if problem is not None:
                skipped.append(problem)
                say(f"skipping {problem['file']}: {problem['reason']}")
                bar.update(1)
                continue
            shape = prepare(item, args.points, args.seed)
            lab = shape.labels
            if lab.shape[0] == 0 or not (lab >= 0).any():
                skipped.append({"file": item.name, "reason": "no part labels"})
                say(f"skipping {item.name}: no part labels")
                bar.update(1)
                continue
            bar.set_postfix_str(str(item.name)[:30], refresh=False)
            objects.append(evaluate_object(predictor, shape, baselines=baselines, threshold=args.threshold,
                                           clicks=args.clicks, seed=args.seed, num_prompts=args.num_prompts,
                                           min_part_points=args.min_part_points))
            bar.update(1)
        bar.close()
        summary = aggregate(objects)
        summary["objects"] = [public(o) for o in objects]
        if skipped:
            summary["skipped_objects"] = skipped
        results[name] = summary

    report = {
        "format": "s2am3d-eval/1",
        "weights": str(weights), "weights_id": file_sha256(weights)[:16],
        "config": json.loads(model.config.to_json()),
        "calibration": {"scale_logit_adjust": round(model.decoder.calibration, 6),
                        "ball_prior_weight": round(model.decoder.ball_weight, 6),
                        "noscale_logit_offset": round(model.decoder.no_scale_offset, 6)},
        "settings": {"points": args.points, "seed": args.seed, "threshold": args.threshold, "clicks": args.clicks,
                     "num_prompts": args.num_prompts, "min_part_points": args.min_part_points,
                     "baselines": list(baselines), "device": str(device), "remesh": args.remesh,
                     "procedural_seed_offset": EVAL_SEED_OFFSET},
        "datasets": results,
        "elapsed_s": round(time.perf_counter() - t_start, 2),
    }
    print(format_report(report))
    if args.out:
        from ..io.atomic import atomic_path

        with atomic_path(args.out) as tmp:
            tmp.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def _remeshed(item, resolution: int, seed: int):
    """(the scan-like version of a labelled mesh, None), or (None, a skip record) for a point cloud
    or a mesh that cannot be remeshed."""
    from ..data.remesh import remesh_part_mesh
    from ..data.types import PartMesh

    if not isinstance(item, PartMesh):
        return None, {"file": item.name, "reason": "--remesh needs a mesh; this is a point cloud"}
    try:
        return remesh_part_mesh(item, resolution, seed=seed), None
    except S2AM3DError as exc:
        return None, {"file": item.name, "reason": str(exc)}


def _file_iter(paths: list[Path], flag: str, strict: bool):
    """(PartMesh or PartPoints, None) per file; with strict=False a file that fails to load gives
    (None, problem)."""
    for path in paths:
        try:
            yield labelled_item(path, flag), None
        except S2AM3DError as exc:
            if strict:
                raise
            yield None, {"file": str(path), "reason": str(exc)}


def _pct(v) -> str:
    return "   -  " if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100.0 * v:6.1f}"


def _table(title: str, columns: list[tuple[str, str]], block: dict, key: str, num_levels: int) -> list[str]:
    cols = [(k, label) for k, label in columns if k in block]
    if not cols:
        return []
    width = max(11, *(len(label) + 1 for _, label in cols))
    lines = [f"  {title:<24}" + "".join(f"{label:>{width}}" for _, label in cols)]
    if "distinct" in block[cols[0][0]]:
        label = f"distinct ({block[cols[0][0]]['num_distinct']} parts)"
        lines.append(f"  {label:<24}" + "".join(f"{_pct(block[k]['distinct']):>{width}}" for k, _ in cols))
    lines.append(f"  {'all levels':<24}" + "".join(f"{_pct(block[k]['overall']):>{width}}" for k, _ in cols))
    for level in range(num_levels):
        first = block[cols[0][0]]["per_level"][level]
        n = first.get("num_parts", first.get("num_objects"))
        unit = "parts" if "num_parts" in first else "objs"
        label = f"level {level} ({n} {unit})"
        lines.append(f"  {label:<24}" + "".join(f"{_pct(block[k]['per_level'][level][key]):>{width}}" for k, _ in cols))
    return lines


def _counts_line(counts: dict) -> str:
    def one(mode: str, c: dict | None) -> str:
        if not c or not c["levels"]:
            return f"{mode} -"
        return f"{mode} {c['within_1_5x']} of {c['levels']} (mean {c['mean_ratio']:.2f}x)"

    return ("  part counts at gt granularity, levels within 1.5x of the truth: "
            + ", ".join(one(mode, counts.get(key)) for key, mode in (("ours", "points"), ("mesh", "mesh"))))


def format_report(report: dict) -> str:
    """The results table: per dataset, interactive IoU and full-segmentation mIoU (%), per level."""
    settings = report["settings"]
    remesh = f", remeshed as scans at {settings['remesh']} cells" if settings.get("remesh") else ""
    lines = [f"s2am3d-eval  weights {report['weights']}  ({settings['points']} points/object{remesh})"]
    for name, ds in report["datasets"].items():
        if "skipped" in ds:
            lines.append(f"\n[{name}] skipped: {ds['skipped']}")
            continue
        if ds["num_objects"] == 0:
            lines.append(f"\n[{name}] no objects evaluated")
            continue
        lines.append(f"\n[{name}] {ds['num_objects']} objects, {ds['num_prompted']} prompted gt parts "
                     f"({ds['num_distinct']} distinct) over {ds['num_levels']} levels")
        lines += _table("points-only IoU %", INTER_COLUMNS, ds["interactive"], "iou", ds["num_levels"])
        lines += _table("mesh-aware IoU %", MESH_COLUMNS, ds["interactive"], "iou", ds["num_levels"])
        lines += _table("full-seg mIoU % (points)", FULL_COLUMNS, ds["full_seg"], "miou", ds["num_levels"])
        lines += _table("full-seg mIoU % (mesh)", MESH_FULL_COLUMNS, ds["full_seg"], "miou", ds["num_levels"])
        lines.append(_counts_line(ds.get("part_counts", {})))
        for skip in ds.get("skipped_objects", []):
            lines.append(f"  skipped {skip['file']}: {skip['reason']}")
    lines.append("\n+s = with the true part fraction as scale; * = oracle k (number of gt parts); top-k = the k most "
                 "probable points (k = true size); pieces+s = clicked piece then pieces by distance up to the scale; "
                 f"piece = the clicked piece; elapsed {human_seconds(report['elapsed_s'])}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
