"""``s2am3d-segment``: segment a mesh or point cloud from the command line.

A point prompt selects one part (output labels: 1 = selected part, 0 = the rest); ``--auto``
labels the whole shape at a chosen granularity. Meshes get per-face labels, point clouds
per-point labels, written as a labelled PLY. Masks follow the mesh's own structure (atoms: welded
pieces split at creases, :mod:`s2am3d_core.segment`) unless ``--points-only`` is given.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..io.sample import DEFAULT_POINTS
from .util import (ArgumentParser, Progress, UsageError, check_min, check_threshold, device_arg,
                            human_seconds, run_main, set_threads)

EXAMPLES = """\
examples:
  # select the part under a point (given in the input's coordinates), at 5% of the object
  s2am3d-segment chair.glb -o seat.ply --point 0.1 0.45 0.0 --scale 0.05
  # the same part prompted by a vertex index, without a scale, with one negative click
  s2am3d-segment chair.obj -o leg.ply --point-index 1234 --negative-index 77 --no-scale
  # full automatic segmentation at a fine granularity, one mesh file per part, plus a part tree
  s2am3d-segment engine.glb -o engine_parts.ply --auto --scale 0.02 --parts-dir parts/ --tree tree.json
  # run it again at another scale: --overwrite replaces parts/ as a whole (no stale part files)
  s2am3d-segment engine.glb -o engine_parts.ply --auto --scale 0.05 --parts-dir parts/ --overwrite
  # a point cloud (.ply without faces, .npy, .xyz, .txt): per-point labels
  s2am3d-segment scan.npy -o scan_parts.ply --auto
  # today's point-level masks (decoder only, faces take the label of the nearest sampled point)
  s2am3d-segment chair.glb -o seat_points.ply --point 0.1 0.45 0.0 --scale 0.05 --points-only
  # a URDF robot (links placed by their joints), and a .glb whose author ignored glTF's Y-up
  s2am3d-segment arm.urdf -o arm_parts.ply --auto
  s2am3d-segment machine.glb -o machine_parts.ply --auto --up z
  # a batch: every shape in a folder (and more files), one labelled PLY each in out/; rerun to resume
  s2am3d-segment scans/ extra.glb -o out/ --auto --scale 0.02

--point X Y Z snaps to the nearest sampled point; --point-index / --negative-index are indices of
the input's vertices (mesh) or points (point cloud). With a prompt the output labels are
1 = selected part, 0 = the rest. Errors print 'error: <file/arg>: <problem>' and exit with status 2.
Outputs never replace an input (checked before any work) and appear all together or not at all.
"""


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="s2am3d-segment",
        description="Segment a mesh or point cloud into parts with S2AM3D (point prompt or automatic).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT", nargs="+",
                   help="mesh (.glb .gltf .obj .ply .stl .off .dae .urdf) or point cloud (.ply .npy .xyz .txt); "
                        "several files or a folder segment a batch (--auto, -o names a folder)")
    p.add_argument("--up", choices=["x", "y", "z", "-x", "-y", "-z"], default=None,
                   help="the input's up axis (default: its convention, y for glTF, else z); "
                        "outputs keep the input's coordinates")
    p.add_argument("-o", "--output", metavar="OUT.ply", required=True,
                   help="labelled PLY to write (a batch: the folder for <name>_labelled.ply per input; inputs "
                        "whose output exists are skipped, so an interrupted batch resumes)")
    prompt = p.add_argument_group("prompt (a point prompt or --auto)")
    prompt.add_argument("--point", nargs=3, type=float, action="append", metavar=("X", "Y", "Z"), default=[],
                        help="positive click at these coordinates (snapped to the nearest sampled point); repeatable")
    prompt.add_argument("--point-index", nargs="+", type=int, metavar="I", default=[],
                        help="positive click(s): vertex index (mesh) or point index (point cloud)")
    prompt.add_argument("--negative-index", nargs="+", type=int, metavar="J", default=[],
                        help="negative click(s): vertex/point indices that must stay outside the part")
    prompt.add_argument("--negative-point", nargs=3, type=float, action="append", metavar=("X", "Y", "Z"),
                        default=[], help="negative click at these coordinates; repeatable")
    prompt.add_argument("--auto", action="store_true", help="segment the whole shape automatically")
    sc = prompt.add_mutually_exclusive_group()
    sc.add_argument("--scale", type=float, metavar="S",
                    help="part size as a fraction of the object in [0, 1] (granularity of --auto)")
    sc.add_argument("--no-scale", action="store_true", help="no scale prompt (the default)")
    prompt.add_argument("--num-prompts", type=int, default=64, metavar="K", help="--auto: FPS prompts (default 64)")
    prompt.add_argument("--threshold", type=float, default=0.5, help="mask probability threshold (default 0.5)")
    out = p.add_argument_group("output")
    out.add_argument("--parts-dir", metavar="DIR", help="also write one file per part into DIR")
    out.add_argument("--parts-format", default="ply", choices=["ply", "obj", "glb", "stl"],
                     help="format of the --parts-dir meshes (default ply)")
    out.add_argument("--overwrite", action="store_true",
                     help="replace an existing, non-empty --parts-dir as a whole (only if it holds nothing but "
                          "part files and parts.json from an earlier run)")
    out.add_argument("--tree", metavar="TREE.json",
                     help="also write a hierarchical part tree (automatic segmentation at several scales)")
    out.add_argument("--tree-scales", nargs="+", type=float, default=[0.02, 0.08, 0.25, 0.6], metavar="S",
                     help="scales of the --tree levels (default 0.02 0.08 0.25 0.6)")
    run = p.add_argument_group("model")
    run.add_argument("--points", type=int, default=DEFAULT_POINTS,
                     help=f"points sampled from the input (default {DEFAULT_POINTS})")
    run.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    run.add_argument("--weights", metavar="W",
                     help="model weights (.safetensors); default: $S2AM3D_WEIGHTS or the shipped model")
    run.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    run.add_argument("--threads", type=int, metavar="T",
                     help="torch CPU threads (default: torch's choice; 1 is fastest on busy shared cores)")
    run.add_argument("--no-cache", action="store_true", help="do not read/write the on-disk feature cache")
    run.add_argument("--points-only", action="store_true",
                     help="masks from the decoder's point probabilities alone, not snapped to the mesh's atoms")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def _check_outputs(args) -> None:
    """Every output (-o, --tree, --parts-dir) is valid and touches no input (OutputError), before any compute."""
    from ..io.outputs import OutDir, OutFile, check_outputs
    from ..resources import default_weights_path

    check_outputs({"INPUT": args.input, "--weights": args.weights or default_weights_path()},
                  files=[OutFile("-o", args.output, (".ply",)), OutFile("--tree", args.tree, (".json",))],
                  dirs=[OutDir("--parts-dir", args.parts_dir)], overwrite=args.overwrite)


def _check_args(args) -> None:
    """Argument checks that need no file access (raise UsageError)."""
    has_prompt = bool(args.point or args.point_index)
    if args.auto and has_prompt:
        raise UsageError("--auto: cannot be combined with --point/--point-index")
    if not args.auto and not has_prompt:
        raise UsageError("INPUT: give a prompt (--point X Y Z or --point-index I) or --auto")
    if args.auto and (args.negative_index or args.negative_point):
        raise UsageError("--negative-index: negative clicks need a point prompt, not --auto")
    _check_scale_arg("--scale", args.scale)
    check_threshold(args.threshold)
    if args.points < 1:
        raise UsageError(f"--points: must be a positive number of points, got {args.points}")
    check_min("--num-prompts", args.num_prompts)
    for s in args.tree_scales:
        _check_scale_arg("--tree-scales", s)
    for flag, coords in (("--point", args.point), ("--negative-point", args.negative_point)):
        for c in coords:
            if not np.isfinite(c).all():
                raise UsageError(f"{flag}: coordinates {c} are not finite numbers")


def _check_indices(flag: str, indices, count: int, what: str, path: str) -> None:
    for i in indices:
        if not 0 <= i < count:
            raise UsageError(f"{flag}: index {i} is out of range for {path} ({count} {what}; valid 0..{count - 1})")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if len(args.input) == 1 and not Path(args.input[0]).is_dir():
        args.input = args.input[0]
        return run_main(_run, args)
    return run_main(_run_batch, args)


def _batch_inputs(inputs: list[str]) -> list[Path]:
    """The files of a batch: the files given, and the shape files in the folders given (sorted; our
    own labelled PLYs are results, not inputs)."""
    from ..io import SUPPORTED_EXTENSIONS
    from ..io.parts import is_labelled

    files: list[Path] = []
    for name in inputs:
        p = Path(name)
        if p.is_dir():
            files += [f for f in sorted(p.iterdir())
                      if f.is_file() and f.suffix.lower() in SUPPORTED_EXTENSIONS and not is_labelled(f)]
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{p}: file not found")
    if not files:
        raise UsageError(f"INPUT: no shape files ({' '.join(SUPPORTED_EXTENSIONS)}) in {' '.join(inputs)}")
    return files


def _run_batch(args) -> int:
    """Several inputs: one labelled PLY each in the -o folder, skipping inputs already done."""
    import copy

    from tqdm import tqdm

    from ..errors import S2AM3DError

    if not args.auto:
        raise UsageError("INPUT: several inputs are segmented with --auto (clicks belong to one shape)")
    if args.tree:
        raise UsageError("--tree: give one input (a batch writes one labelled PLY per input)")
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{args.output}: with several inputs -o names a folder, and this is a file")
    files = _batch_inputs(args.input)
    stems = [f.stem for f in files]
    names = [f"{f.stem}_{f.suffix.lstrip('.').lower()}" if stems.count(f.stem) > 1 else f.stem for f in files]
    inputs = {f.resolve() for f in files}
    done = skipped = 0
    failed: list[str] = []
    bar = tqdm(list(zip(files, names)), desc="s2am3d-segment", unit="file", file=sys.stderr,
               disable=args.quiet, dynamic_ncols=True)
    for f, name in bar:
        target = out_dir / f"{name}_labelled.ply"
        if target.resolve() in inputs:
            failed.append(f"{f}: its output {target} would replace an input")
            continue
        if target.exists():
            skipped += 1
            continue
        sub = copy.copy(args)
        sub.input, sub.output = str(f), str(target)
        sub.parts_dir = str(Path(args.parts_dir) / name) if args.parts_dir else None
        sub.quiet = True
        bar.set_postfix_str(f.name)
        try:
            _run(sub)
            done += 1
        except (UsageError, S2AM3DError, OSError) as exc:
            msg = f"{exc.filename}: {exc.strerror or exc}" if isinstance(exc, OSError) and exc.filename else str(exc)
            failed.append(msg)
            tqdm.write(f"error: {msg}", file=sys.stderr)
    bar.close()
    print(f"batch: {done} segmented, {skipped} already done (skipped), {len(failed)} failed -> {out_dir}")
    return 2 if failed else 0


def _check_scale_arg(flag: str, value: float | None) -> None:
    """``predictor.check_scale`` (the one scale check) as a command-line error naming ``flag``."""
    from ..errors import PromptError
    from ..scale import check_scale

    try:
        check_scale(value)
    except PromptError:
        raise UsageError(f"{flag}: {value} is outside [0, 1]") from None


def _run(args) -> int:
    _check_args(args)
    _check_outputs(args)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    from ..io import load_shape, vertices_from_point_labels, write_labelled, write_parts
    from ..io.atomic import atomic_dir, atomic_path
    from ..io.parts import scan_colors
    from ..io.up import from_z_up, to_z_up
    from ..predictor import PartPredictor
    from ..segment import ShapeSegmenter

    set_threads(args.threads)
    device = device_arg(args.device)
    shape = load_shape(args.input, up=args.up)  # Z-up; --point coordinates and outputs are the input's
    count = len(shape.vertices)
    what = "vertices" if shape.is_mesh else "points"
    _check_indices("--point-index", args.point_index, count, what, args.input)
    _check_indices("--negative-index", args.negative_index, count, what, args.input)
    model = _load_model(args.weights, device)
    timings["load"] = time.perf_counter() - t0

    progress = Progress(enabled=not args.quiet, desc="s2am3d-segment")
    try:
        t = time.perf_counter()
        predictor = PartPredictor(model, device=device, cache=not args.no_cache)
        seg = ShapeSegmenter(predictor, mesh_aware=not args.points_only)
        seg.set_shape(shape.vertices, shape.faces, num_points=args.points, seed=args.seed,
                      progress=progress.stage(0.0, 0.4, "encoding"))
        points = seg.points
        # "encode" only when the encoder ran; features read from a cache are timed as "features"
        stage = "encode" if predictor.last_encode_source == "encoder" else "features"
        timings[stage + (" + atoms" if seg.atoms is not None else "")] = time.perf_counter() - t

        t = time.perf_counter()
        diag = float(np.linalg.norm(points.max(0) - points.min(0)))

        def snap(coords, flag: str | None = None) -> list[int]:
            out = []
            for c in coords:
                z_up = to_z_up(np.asarray(c, dtype=np.float64), shape.up)  # the input's coordinates -> Z-up
                i = seg.nearest_point(z_up)
                d = float(np.linalg.norm(points[i] - z_up))
                if flag and d > 0.1 * diag:
                    sys.stderr.write(f"warning: {flag} {' '.join(f'{v:g}' for v in c)} is {d:.3g} away from the "
                                     f"shape (bounding-box diagonal {diag:.3g}); snapped to the nearest point\n")
                out.append(i)
            return out

        scale = None if args.no_scale else args.scale
        mode = "points-only" if args.points_only else ("mesh-aware" if shape.is_mesh else "atoms")
        if args.auto:
            result = seg.segment_all(scale, threshold=args.threshold, num_prompts=args.num_prompts, seed=args.seed,
                                     progress=progress.stage(0.4, 0.8 if args.tree else 0.9, "auto"))
            labels, face_labels = result.points, result.faces
            summary = (f"{result.num_parts} parts (auto, {mode}, scale "
                       f"{'none' if scale is None else f'{scale:g}'})")
            if scale is None and result.num_parts == 1:  # a scan: one piece, and no size was asked for
                summary += "; the shape is one piece: give --scale S (e.g. 0.05) for parts of that size"
        else:
            src = shape.vertices
            own = from_z_up(src, shape.up)  # vertex positions in the input's coordinates, as --point takes them
            positive = snap(args.point, "--point") + snap([own[i] for i in args.point_index])
            negative = snap(args.negative_point, "--negative-point") + snap([own[i] for i in args.negative_index])
            progress.stage(0.4, 0.9, "decoding")
            mask = seg.predict(positive, negative, scale=scale, threshold=args.threshold)
            labels = mask.points.astype(np.int64)
            face_labels = None if mask.faces is None else mask.faces.astype(np.int64)
            summary = (f"selected {100.0 * mask.fraction:.1f}% of the shape ({mode}), "
                       f"{len(positive)} positive/{len(negative)} negative click(s), "
                       f"scale {'none' if scale is None else f'{scale:g}'}")
            floor = seg.clicked_region_note(positive, scale)  # as the viewer's scale line
            if floor is not None:
                summary += f" (the clicked region alone is {100.0 * floor:.1f}%; --points-only goes smaller)"
        part_tree_dict = None
        if args.tree:
            part_tree_dict = seg.part_tree(args.tree_scales, threshold=args.threshold, num_prompts=args.num_prompts,
                                           seed=args.seed, progress=progress.stage(0.8, 0.9, "part tree"))
        timings["segment"] = time.perf_counter() - t

        t = time.perf_counter()
        progress.stage(0.9, 1.0, "writing")
        # All or nothing: every output goes to a temporary file/folder first; they are renamed into
        # place together only when all were written (a failure on the way leaves no output behind).
        out = Path(args.output)
        written: list[Path] = []
        if not shape.is_mesh:
            all_labels = labels if len(points) == count else vertices_from_point_labels(shape.vertices, points, labels)
        with contextlib.ExitStack() as stack:
            out_tmp = stack.enter_context(atomic_path(out))
            tree_tmp = stack.enter_context(atomic_path(args.tree)) if part_tree_dict is not None else None
            parts_tmp = (stack.enter_context(atomic_dir(args.parts_dir, replace=args.overwrite))
                         if args.parts_dir else None)
            if parts_tmp is not None:
                with _naming(args.parts_dir):
                    names = [p.name for p in write_parts(parts_tmp, shape.vertices, shape.faces,
                                                         face_labels if shape.is_mesh else all_labels,
                                                         fmt=args.parts_format, up=shape.up, atomic=False,
                                                         colors=scan_colors(args.input, shape))]
                written += [Path(args.parts_dir) / n for n in names]
            if tree_tmp is not None:
                part_tree_dict["input"] = str(args.input)
                with _naming(args.tree):
                    tree_tmp.write_text(json.dumps(part_tree_dict, indent=1) + "\n", encoding="utf-8")
                written.append(Path(args.tree))
            with _naming(out):
                write_labelled(out_tmp, shape.vertices, shape.faces, face_labels if shape.is_mesh else all_labels,
                               up=shape.up)
        timings["write"] = time.perf_counter() - t
    finally:
        progress.close()
    total = time.perf_counter() - t0
    times = ", ".join(f"{k} {human_seconds(v)}" for k, v in timings.items())
    extra = f" (+{len(written)} more file(s))" if written else ""
    print(f"{args.input}: {summary} -> {args.output}{extra} "
          f"[{len(points)} points, features {_source_words(predictor.last_encode_source)}; {times}; "
          f"total {human_seconds(total)}]")
    return 0


@contextlib.contextmanager
def _naming(target):
    """Report a write error (full disk, I/O) as an OutputError naming the user's ``target``."""
    from ..errors import OutputError

    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"{target}: could not write ({exc.strerror or exc})") from None


_MODELS: dict = {}


def _load_model(weights, device):
    """The model, loaded once per weights and device (a batch reuses it)."""
    from ..checkpoint import load_model

    key = (str(weights), str(device))
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = load_model(weights, device=device)
    return _MODELS[key]


def _source_words(source: str) -> str:
    return {"encoder": "computed", "memory": "from memory", "disk": "from the disk cache"}.get(source, source)


if __name__ == "__main__":
    raise SystemExit(main())
