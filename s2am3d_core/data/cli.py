"""``s2am3d-data``: build part datasets (shards), train the part validator, inspect datasets."""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import S2AM3DError
from ..cli.util import ArgumentParser, UsageError, check_min, one_line_warnings, set_threads
from ..io.outputs import OutDir, OutFile, check_outputs

DESCRIPTION = """\
Build hierarchical part datasets for S2AM3D training, following the paper's pipeline:
surface-area sampling -> PointNet part validator filter -> DBSCAN split of disconnected parts ->
compact shards (train/eval split by a stable hash of the object name)."""

EPILOG = """\
examples:
  # 2000 procedural objects, 4096 points each
  s2am3d-data build data/proc --procedural 2000

  # train the part validator, then build a filtered dataset from GLB scenes and a URDF robot
  s2am3d-data train-validator models/validator.safetensors --procedural 300 --steps 800
  s2am3d-data build data/mix --procedural 500 --glb ../shared/data --urdf robot/arm.urdf \\
      --validator models/validator.safetensors

  # fine-tuning data from your own labelled files (.ply from s2am3d-segment/-gui, .glb, .urdf)
  s2am3d-data build data/mine --user-dir my_labelled/ --points 8192

  # what is in a dataset
  s2am3d-data info data/proc
"""


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = ArgumentParser(prog="s2am3d-data", description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", help="build a shard dataset", description="Build a shard dataset (see s2am3d-data --help).",
                       epilog=EPILOG, formatter_class=fmt)
    b.add_argument("out_dir", metavar="OUT_DIR", help="dataset folder to write (index_*.json, shards, summary.json)")
    b.add_argument("--procedural", type=int, default=0, metavar="N", help="add N procedural objects")
    b.add_argument("--categories", nargs="+", metavar="CAT", help="procedural categories (default: all)")
    b.add_argument("--glb", nargs="+", default=[], metavar="PATH", help="GLB/glTF files or folders of them")
    b.add_argument("--urdf", nargs="+", default=[], metavar="PATH", help="URDF files")
    b.add_argument("--user-dir", action="append", default=[], metavar="DIR",
                   help="folder of your labelled files (.ply, .glb, .gltf, .urdf); repeatable")
    b.add_argument("--points", type=int, default=4096, metavar="N", help="points per object (default 4096)")
    b.add_argument("--validator", metavar="PATH", help="part validator (.safetensors) to filter bad parts")
    b.add_argument("--threshold", type=float, help="validator threshold (default: the one stored in the file)")
    b.add_argument("--drop-policy", choices=("merge", "unlabel"), default="merge",
                   help="what happens to rejected parts: merge into the nearest sibling (default) or unlabel")
    b.add_argument("--no-split", action="store_true", help="skip the DBSCAN split of disconnected parts")
    b.add_argument("--eval-fraction", type=float, default=0.1, help="fraction of objects in the eval split (0.1)")
    b.add_argument("--shard-size", type=int, default=256, help="objects per shard file (256)")
    b.add_argument("--seed", type=int, default=0, help="seed of the procedural objects and the sampling (0)")
    b.add_argument("--threads", type=int, metavar="T", help="torch CPU threads (the validator; default: torch's choice)")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    t = sub.add_parser("train-validator", help="train the PointNet part validator",
                       description="Train the part validator on synthetic good/bad parts of labelled objects "
                                   "(train-split objects only).", epilog=EPILOG, formatter_class=fmt)
    t.add_argument("out", metavar="OUT.safetensors", help="output weights file")
    t.add_argument("--procedural", type=int, default=200, metavar="N", help="procedural objects to use (200)")
    t.add_argument("--toy", type=int, default=0, metavar="N", help="add N tiny primitive objects")
    t.add_argument("--glb", nargs="+", default=[], metavar="PATH", help="GLB/glTF files or folders to add")
    t.add_argument("--steps", type=int, default=800, help="training steps (800)")
    t.add_argument("--batch-size", type=int, default=64, help="batch size (64)")
    t.add_argument("--points", type=int, default=2048, metavar="N", help="points per object (2048)")
    t.add_argument("--threshold", type=float,
                   help="decision threshold stored in the file (default: calibrated so that 95%% of the "
                        "held-out true parts are kept, at most 0.5)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, metavar="T", help="torch CPU threads (default: torch's choice)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    i = sub.add_parser("info", help="print what a dataset holds",
                       description="Counts per split, level and category of a shard dataset.", formatter_class=fmt)
    i.add_argument("dir", metavar="DIR", help="dataset folder")
    return p


# ----------------------------------------------------------------------------- sources


def _gltf_files(paths: list[str], flag: str) -> list[Path]:
    files: list[Path] = []
    for s in paths:
        p = Path(s)
        if p.is_dir():
            found = sorted(x for x in p.iterdir() if x.suffix.lower() in (".glb", ".gltf"))
            if not found:
                raise UsageError(f"{flag}: {p}: no .glb/.gltf files in this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{flag}: {p}: file not found")
    return files


def _procedural(n: int, seed: int, categories: list[str] | None, flag: str = "--procedural") -> Iterator:
    check_min(flag, n, 0)
    if n == 0:
        return iter(())
    try:
        from . import procedural
    except ImportError as e:
        raise UsageError(f"{flag}: the procedural generator is not available ({e})") from None
    if categories:
        unknown = [c for c in categories if c not in procedural.CATEGORIES]
        if unknown:
            raise UsageError(f"--categories: unknown category {unknown[0]!r}; valid: {', '.join(procedural.CATEGORIES)}")
    return procedural.generate_many(n, seed=seed, categories=categories)


def _cmd_build(a: argparse.Namespace) -> int:
    from .gltf import load_gltf_parts
    from .pipeline import build_dataset, format_summary
    from .urdf import load_urdf_parts
    from .user import load_labelled_folder

    check_min("--points", a.points, 16)
    if not 0.0 <= a.eval_fraction <= 1.0:
        raise UsageError(f"--eval-fraction: must be in [0, 1], got {a.eval_fraction}")
    check_min("--shard-size", a.shard_size)
    glbs = _gltf_files(a.glb, "--glb")
    urdfs = [Path(u) for u in a.urdf]
    for u in urdfs:
        if not u.is_file():
            raise UsageError(f"--urdf: {u}: file not found")
    for d in a.user_dir:
        if not Path(d).is_dir():
            raise UsageError(f"--user-dir: {d}: folder not found")
    if a.validator and not Path(a.validator).is_file():
        raise UsageError(f"--validator: {a.validator}: file not found")
    if not (a.procedural or glbs or urdfs or a.user_dir):
        raise UsageError("choose at least one source: --procedural N, --glb, --urdf or --user-dir")
    check_outputs({"--glb": a.glb, "--urdf": a.urdf, "--user-dir": a.user_dir, "--validator": a.validator},
                  dirs=[OutDir("OUT_DIR", a.out_dir, replaced=False)])
    progress = not a.quiet
    users = [load_labelled_folder(d, "--user-dir", progress) for d in a.user_dir]  # before OUT_DIR is made
    sources = itertools.chain(
        _procedural(a.procedural, a.seed, a.categories),
        (load_gltf_parts(p) for p in glbs),
        (load_urdf_parts(p) for p in urdfs),
        itertools.chain.from_iterable(users),
    )
    total = a.procedural + len(glbs) + len(urdfs) if not a.user_dir else None
    summary = build_dataset(sources, a.out_dir, points_per_object=a.points, validator=a.validator,
                            eval_fraction=a.eval_fraction, seed=a.seed, threshold=a.threshold,
                            drop_policy=a.drop_policy, split=not a.no_split, shard_size=a.shard_size,
                            progress=progress, total=total)
    print(format_summary(summary))
    return 0


def _cmd_train_validator(a: argparse.Namespace) -> int:
    from .gltf import load_gltf_parts
    from .shards import split_of
    from .toy import toy_many
    from .validator import train_validator

    check_min("--steps", a.steps)
    check_min("--batch-size", a.batch_size)
    check_min("--points", a.points, 64)
    check_min("--toy", a.toy, 0)
    glbs = _gltf_files(a.glb, "--glb")
    if not (a.procedural or a.toy or glbs):
        raise UsageError("choose at least one source: --procedural N, --toy N or --glb")
    out = Path(a.out)
    if out.is_dir():
        raise UsageError(f"{out}: is a folder; give the output .safetensors file")
    check_outputs({"--glb": a.glb}, files=[OutFile("OUT", out, (".safetensors",))])
    objects = list(itertools.chain(_procedural(a.procedural, a.seed, None), toy_many(a.toy, seed=a.seed),
                                   (load_gltf_parts(p) for p in glbs)))
    objects = [o for o in objects if split_of(o.name) == "train" and o.num_levels > 0]
    if not objects:
        raise UsageError("no training objects (all sources are in the eval split or have no parts)")
    v = train_validator(objects, steps=a.steps, out_path=out, points_per_object=a.points,
                        batch_size=a.batch_size, seed=a.seed, threshold=a.threshold, progress=not a.quiet)
    info = v.info
    print(f"validator: {info['objects']} objects, {info['positives']} good / {info['negatives']} bad parts, "
          f"{info['steps']} steps, loss {info['final_loss']:.3f}, train acc {info['train_accuracy']:.3f}"
          + (f", hold-out acc {info['holdout_accuracy']:.3f}" if info.get("holdout_accuracy") is not None else "")
          + f", threshold {v.threshold:.3f} ({info['threshold_rule']}) -> {out}")
    return 0


def _cmd_info(a: argparse.Namespace) -> int:
    from .shards import ShardDataset, available_splits

    root = Path(a.dir)
    if not root.is_dir():
        raise UsageError(f"{root}: folder not found")
    splits = available_splits(root)
    if not splits:
        raise UsageError(f"{root}: not a dataset folder (no index_*.json)")
    print(f"dataset {root}")
    for split in splits:
        ds = ShardDataset(root, split)
        levels = Counter(it["num_levels"] for it in ds.items)
        cats = Counter(it["category"] or "(none)" for it in ds.items)
        parts: list[list[int]] = []
        for k in range(len(ds)):
            lab = ds[k].labels
            for lvl, row in enumerate(lab):
                while len(parts) <= lvl:
                    parts.append([])
                parts[lvl].append(len(np.unique(row[row >= 0])))
        print(f"{split}: {len(ds)} objects in {len(ds.shards)} shard(s)")
        if len(ds):
            print("  levels per object: " + ", ".join(f"L={k}: {v}" for k, v in sorted(levels.items())))
            for lvl, counts in enumerate(parts):
                print(f"  level {lvl}: {len(counts)} objects, {sum(counts)} parts "
                      f"(mean {np.mean(counts):.1f}, max {max(counts)})")
            print("  categories: " + ", ".join(f"{c}: {n}" for c, n in sorted(cats.items())))
    summary = root / "summary.json"
    if summary.is_file():
        try:
            s = json.loads(summary.read_text(encoding="utf-8"))
            print(f"built from {s.get('objects_in')} objects, {s.get('points_per_object')} points each, "
                  f"validator: {s.get('validator') or 'none'}, dropped parts per level: {s.get('dropped_parts_per_level')}")
        except (OSError, json.JSONDecodeError):
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``s2am3d-data``; returns the exit status (0 ok, 2 usage/input error)."""
    parser = _parser()
    try:
        a = parser.parse_args(argv)
        if a.command is None:
            parser.print_usage(sys.stderr)
            raise UsageError("choose a command: build, train-validator or info (see s2am3d-data --help)")
        set_threads(getattr(a, "threads", None))
        with one_line_warnings():
            handler = {"build": _cmd_build, "train-validator": _cmd_train_validator, "info": _cmd_info}[a.command]
            return handler(a)
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except (UsageError, S2AM3DError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
