"""s2am3d-train: train (or fine-tune) S2AM3D in two stages.

examples:
  # stage 1 (encoder, contrastive) then stage 2 (decoder, prompts) on 2000 procedural objects
  s2am3d-train encoder --procedural 2000 --config cpu-small --steps 3000 --out runs/enc
  s2am3d-train decoder --procedural 2000 --encoder runs/enc --steps 4000 --out runs/dec
  # from shards written by `s2am3d-data build`, on a GPU, 4 GPUs with torchrun
  s2am3d-train encoder --data data/shards --config gpu-base --device cuda --out runs/enc
  torchrun --nproc_per_node 4 -m s2am3d_core.train.cli decoder --data data/shards --encoder runs/enc --out runs/dec
  # fine-tune the shipped model on your own labelled PLY/GLB files, validating on other labelled files
  s2am3d-train decoder --user-dir my_parts/ --val-dir my_val_parts/ --init models/s2am3d-base.safetensors --out runs/ft
  # stop cleanly after 20 minutes; continue an interrupted run exactly
  s2am3d-train encoder --procedural 2000 --steps 100000 --max-minutes 20 --out runs/enc
  s2am3d-train encoder --procedural 2000 --steps 100000 --max-minutes 20 --out runs/enc --resume
  # the shipped model's recipe: models/train_small.sh; one GPU in 8 minutes: models/train_gpu.sh

Splits (--user-dir): with --val-dir every file of --user-dir trains and every file of --val-dir
validates; without it --val-fraction of the files validate; with fewer than 4 files every file trains
and validation uses held-out clicks (--val-fraction of each shape's points, never clicked in training).
The run prints the split and writes it to RUN_DIR/splits.json. Validation runs at step 0 (before
training), every --eval-every steps (fine-tuning: steps / 5) and at the end; the decoder stage reports
the IoU beside the ball baseline (the k points nearest the click) in the log, in RUN_DIR/log.jsonl and
as a table at the end. RUN_DIR/best.safetensors keeps the best model by validation IoU (model.safetensors
is the last). See docs/FINE_TUNING.md.
--batch-size is per process: under torchrun the global batch is --batch-size x --nproc_per_node.

With --max-minutes the learning-rate schedule spans the wall-clock budget (or --steps, whichever
ends first), so a budgeted run ends annealed. Every run writes RUN_DIR/log.jsonl, RUN_DIR/checkpoint.pt
(weights, optimiser and step in one file, written atomically: --resume) and, at the end,
RUN_DIR/model.safetensors: a full S2AM3D model that s2am3d-segment / PartPredictor load.
Defaults live in s2am3d_core/train/config.py (TrainConfig).
Training always runs on uncorrected logits; after an encoder run train the decoder stage on it; after
a decoder run, fit the mask-size correction on the validation files (not your test shapes) with
--calibrate (with --val-dir: RUN_DIR/calibrated.safetensors), or afterwards with
  s2am3d-calibrate runs/ft/best.safetensors --out runs/ft/calibrated.safetensors --user-dir my_val_parts/
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

from ..cli.util import ArgumentParser, UsageError, check_points, check_seed, fail
from ..config import CONFIGS
from ..errors import S2AM3DError
from .config import TrainConfig, field_help

# --calibrate samples the validation files this densely (s2am3d-eval's count): at the training
# count (2048) the smallest parts fall under 5 points and go unprompted, and the fitted correction
# misses them (leave-one-out, VC.glb: alpha 0.35 at 2048 points, 0.60 at 10,000; docs/FINE_TUNING.md)
CALIBRATION_POINTS = 10_000
ENCODER_ONLY = ("tau", "contrast_points", "level_mode", "hard_negative_weight", "hard_negative_radius",
                "augment", "sam_checkpoint", "sam_model", "sam_views")
DECODER_ONLY = ("encoder", "scale_dropout", "max_pos", "max_neg", "size_power", "hard_negative_prob", "ball_prior",
                "calibrate")
GROUPS = {
    "model and run": ("config", "init", "out", "resume", "device", "seed", "threads", "quiet"),
    "data": ("val_dir", "val_fraction", "replay", "replay_fraction", "points", "realism", "data_workers"),
    "optimisation": ("steps", "max_minutes", "batch_size", "lr", "weight_decay", "warmup", "min_lr_frac",
                     "grad_clip", "eval_every", "save_every", "log_every"),
}
METAVARS = {"val_dir": "DIR", "val_fraction": "F", "replay": "N", "replay_fraction": "F", "init": "WEIGHTS", "out": "RUN_DIR", "encoder": "RUN_or_WEIGHTS", "sam_checkpoint": "PATH"}


def _add(group, name: str, helps: dict[str, str]) -> None:
    """One TrainConfig field -> one option with the dataclass default."""
    f = {x.name: x for x in dataclasses.fields(TrainConfig)}[name]
    default = f.default
    flag = "--" + name.replace("_", "-")
    text = helps.get(name, "")
    if name == "augment":
        group.add_argument("--no-augment", dest="augment", action="store_false", help="no " + text)
    elif isinstance(default, bool):
        group.add_argument(flag, action="store_true", help=text)
    elif name == "config":
        group.add_argument(flag, choices=sorted(CONFIGS), default=None, help=text)
    elif name == "level_mode":
        group.add_argument(flag, choices=["mean", "random"], default=default, help=text + f" (default {default})")
    elif name == "threads":
        group.add_argument(flag, dest="threads", type=int, default=default, metavar="N", help=text)
        group.add_argument("--num-workers", dest="threads", type=int, help=argparse.SUPPRESS)  # old name
    else:
        kind = {"max_minutes": float, "batch_size": int, "eval_every": int, "init": str, "encoder": str,
                "sam_checkpoint": str, "out": str, "val_dir": str}.get(name, type(default))
        group.add_argument(flag, type=kind, default=default, metavar=METAVARS.get(name),
                           required=name == "out",
                           help=text + (f" (default {default})" if default is not None and name != "out" else ""))


def build_parser() -> argparse.ArgumentParser:
    helps = field_help()
    # --seed/--points are checked in main(); --threads 0 means torch's default here
    ap = ArgumentParser(prog="s2am3d-train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                        check_shared=False)
    sub = ap.add_subparsers(dest="stage", required=True, metavar="{encoder,decoder}")
    common = ArgumentParser(add_help=False, check_shared=False)
    src = common.add_argument_group("data source (one of)").add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="DIR", help=helps.get("data"))
    src.add_argument("--procedural", type=int, metavar="N", help=helps.get("procedural"))
    src.add_argument("--user-dir", metavar="DIR", help=helps.get("user_dir"))
    for title, names in GROUPS.items():
        g = common.add_argument_group(title)
        for name in names:
            _add(g, name, helps)
    common.add_argument("--stop-at", type=int, default=None, help=argparse.SUPPRESS)  # split a run (tests)
    enc = sub.add_parser("encoder", parents=[common], help="stage 1: contrastive encoder training",
                         description="Stage 1: intra-instance contrastive training of the point encoder.")
    g = enc.add_argument_group("stage 1")
    for name in ENCODER_ONLY:
        _add(g, name, helps)
    dec = sub.add_parser("decoder", parents=[common], help="stage 2: prompt decoder training (encoder frozen)",
                         description="Stage 2: train the scale-aware decoder on click prompts; the encoder is frozen.")
    g = dec.add_argument_group("stage 2")
    for name in DECODER_ONLY:
        _add(g, name, helps)
    return ap


def parse_config(argv=None) -> TrainConfig:
    """Command line -> TrainConfig (fields of the other stage keep their defaults)."""
    ns = vars(build_parser().parse_args(argv))
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in ns.items() if k in names})


def _check_run_outputs(cfg) -> None:
    """The run folder's files must not be (or hold) the run's inputs (e.g. --init RUN/model.safetensors)."""
    from pathlib import Path

    from ..io.outputs import OutDir, OutFile, check_outputs

    out = Path(cfg.out)
    check_outputs({"--data": cfg.data, "--user-dir": cfg.user_dir, "--val-dir": cfg.val_dir, "--init": cfg.init,
                   "--encoder": getattr(cfg, "encoder", None)},
                  files=[OutFile("--out", out / n) for n in ("last.safetensors", "last_state.pt",
                                                              "model.safetensors", "best.safetensors",
                                                              "calibrated.safetensors",
                                                              "log.jsonl", "splits.json")],
                  dirs=[OutDir("--out", out, replaced=False)])


def main(argv=None) -> int:
    cfg = parse_config(argv)
    try:
        cfg = cfg.resolved()
        check_seed(cfg.seed)
        check_points(cfg.points)
        _check_run_outputs(cfg)
    except (ValueError, UsageError) as exc:  # OutputError is a ValueError too
        return fail(str(exc))
    from . import dist
    from .trainer import run
    try:
        run(cfg)
        if cfg.calibrate and dist.world()[0] == 0:
            from pathlib import Path

            from . import calibrate

            out = Path(cfg.out)
            code = calibrate.main([str(out / "best.safetensors"), "--out", str(out / "calibrated.safetensors"),
                                   "--user-dir", cfg.val_dir, "--points", str(max(cfg.points, CALIBRATION_POINTS)),
                                   "--quiet"]
                                  + (["--threads", str(cfg.threads)] if cfg.threads else [])
                                  + (["--device", cfg.device] if cfg.device != "auto" else []))
            if code:
                return code
    except (S2AM3DError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; continue with --resume --out {cfg.out}", file=sys.stderr)
        return 130
    finally:
        dist.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
