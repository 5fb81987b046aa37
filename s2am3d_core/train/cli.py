"""s2am3d-train: train (or fine-tune) S2AM3D in two stages.

examples:
  # stage 1 (encoder, contrastive) then stage 2 (decoder, prompts) on 2000 procedural objects
  s2am3d-train encoder --procedural 2000 --config cpu-small --steps 3000 --out runs/enc
  s2am3d-train decoder --procedural 2000 --encoder runs/enc --steps 4000 --out runs/dec
  # from shards written by `s2am3d-data build`, on a GPU, 4 GPUs with torchrun
  s2am3d-train encoder --data data/shards --config gpu-base --device cuda --out runs/enc
  torchrun --nproc_per_node 4 -m s2am3d_core.train.cli decoder --data data/shards --encoder runs/enc --out runs/dec
  # fine-tune the shipped model on your own labelled PLY/GLB files
  s2am3d-train decoder --user-dir my_parts/ --init models/s2am3d-small.safetensors --steps 300 --out runs/ft
  # stop cleanly after 20 minutes; continue an interrupted run exactly
  s2am3d-train encoder --procedural 2000 --steps 5000 --max-minutes 20 --out runs/enc
  s2am3d-train encoder --procedural 2000 --steps 5000 --out runs/enc --resume

Every run writes RUN_DIR/log.jsonl, RUN_DIR/last.safetensors + last_state.pt (resume) and, at the
end, RUN_DIR/model.safetensors: a full S2AM3D model that s2am3d-segment / PartPredictor load.
Training always runs on uncorrected logits; after a decoder run, fit the mask-size correction on
validation shapes (not your test shapes) with
  s2am3d-calibrate runs/ft/model.safetensors --out runs/ft/calibrated.safetensors --data my_shards/
"""
from __future__ import annotations

import argparse
import sys

from ..errors import S2AM3DError
from ..eval.cliutil import UsageError, check_min, check_points, check_seed, fail


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="s2am3d-train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="stage", required=True, metavar="{encoder,decoder}")
    common = argparse.ArgumentParser(add_help=False)
    src = common.add_argument_group("data (one of)").add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="DIR", help="shard folder from `s2am3d-data build`")
    src.add_argument("--procedural", type=int, metavar="N", help="generate N procedural objects (cached in the user cache folder)")
    src.add_argument("--user-dir", metavar="DIR", help="folder of your labelled PLY/GLB files (fine-tuning)")
    g = common.add_argument_group("model and run")
    g.add_argument("--config", choices=["cpu-small", "gpu-base", "paper", "test-tiny"], default=None,
                   help="model size for a fresh model (default cpu-small; checkpoints carry their own)")
    g.add_argument("--init", metavar="WEIGHTS", help="start from a full model checkpoint (fine-tuning)")
    g.add_argument("--out", metavar="RUN_DIR", required=True, help="run folder (log, checkpoints, model)")
    g.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR exactly where it stopped")
    g.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default auto)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--num-workers", type=int, default=0, help="CPU threads for torch (0 = torch default)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    o = common.add_argument_group("optimisation")
    o.add_argument("--steps", type=int, default=2000, help="optimizer steps (the cosine schedule spans them)")
    o.add_argument("--max-minutes", type=float, default=None, help="stop and save cleanly after this wall time")
    o.add_argument("--stop-at", type=int, default=None, help=argparse.SUPPRESS)  # split a run (tests)
    o.add_argument("--batch-size", type=int, default=8)
    o.add_argument("--points", type=int, default=2048, help="points per object")
    o.add_argument("--lr", type=float, default=1e-3)
    o.add_argument("--weight-decay", type=float, default=0.01)
    o.add_argument("--warmup", type=float, default=0.05, help="warmup, as a fraction of --steps")
    o.add_argument("--grad-clip", type=float, default=1.0)
    o.add_argument("--eval-every", type=int, default=500, help="evaluate on held-out objects every N steps (0 = end only)")
    o.add_argument("--save-every", type=int, default=250, help="write last.safetensors/last_state.pt every N steps")
    o.add_argument("--log-every", type=int, default=10)

    enc = sub.add_parser("encoder", parents=[common], help="stage 1: contrastive encoder training",
                         description="Stage 1: intra-instance contrastive training of the point encoder.",
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    enc.add_argument("--tau", type=float, default=0.07, help="contrastive temperature")
    enc.add_argument("--contrast-points", type=int, default=512, help="points per object in the loss")
    enc.add_argument("--level-mode", choices=["mean", "random"], default="mean",
                     help="average the loss over hierarchy levels, or one random level per object")
    enc.add_argument("--no-augment", dest="augment", action="store_false", help="no rotation/scale/jitter")
    enc.add_argument("--sam-checkpoint", metavar="PATH", help="segment-anything checkpoint: add multiview SAM distillation")
    enc.add_argument("--sam-model", default="vit_b", help="segment-anything model type of the checkpoint")
    enc.add_argument("--sam-views", type=int, default=4, help="rendered views per object for SAM")

    dec = sub.add_parser("decoder", parents=[common], help="stage 2: prompt decoder training (encoder frozen)",
                         description="Stage 2: train the scale-aware decoder on click prompts; the encoder is frozen.",
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    dec.add_argument("--encoder", metavar="RUN_or_WEIGHTS", help="stage-1 run folder or weights with the encoder")
    dec.add_argument("--scale-dropout", type=float, default=0.2, help="probability of training with 'no scale'")
    dec.add_argument("--max-pos", type=int, default=3, help="max positive clicks per prompt")
    dec.add_argument("--max-neg", type=int, default=2, help="max negative clicks per prompt")
    return ap


def parse_args(argv=None) -> argparse.Namespace:
    """Parse and complete the arguments (stage-specific options get their defaults on both stages)."""
    args = build_parser().parse_args(argv)
    args.threads = args.num_workers
    for k in ("tau", "contrast_points", "level_mode", "sam_checkpoint"):
        if not hasattr(args, k):
            setattr(args, k, {"tau": 0.07, "contrast_points": 512, "level_mode": "mean"}.get(k))
    args.augment = getattr(args, "augment", False)
    return args


def _check_run_outputs(args) -> None:
    """The run folder's files must not be (or hold) the run's inputs (e.g. --init RUN/model.safetensors)."""
    from pathlib import Path

    from ..io.outputs import OutDir, OutFile, check_outputs

    out = Path(args.out)
    check_outputs({"--data": args.data, "--user-dir": args.user_dir, "--init": args.init,
                   "--encoder": getattr(args, "encoder", None)},
                  files=[OutFile("--out", out / n) for n in ("last.safetensors", "last_state.pt",
                                                              "model.safetensors", "log.jsonl")],
                  dirs=[OutDir("--out", out, replaced=False)])


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        for name in ("steps", "batch_size", "points", "procedural"):
            check_min(f"--{name.replace('_', '-')}", getattr(args, name))
        check_seed(args.seed)  # (--num-workers 0 = torch's default threads, so no check_common here)
        check_points(args.points)
        _check_run_outputs(args)
    except (UsageError, S2AM3DError) as exc:
        return fail(str(exc))
    from .trainer import run
    try:
        run(args)
    except (S2AM3DError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; continue with --resume", file=sys.stderr)
        return 130
    finally:
        from . import dist
        dist.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
