"""``s2am3d-calibrate``: fit the decoder's scale prior correction on validation shapes.

The decoder is trained with the class-balanced BCE of the paper (positive weight (1 - pi) / pi),
which lifts the logits of a part with scale s by about log((1 - s) / s): at threshold 0.5 masks of
small parts come out several times too large. The correction
``logits -= alpha * log((1 - s) / s)`` (the decoder's calibration buffer
``decoder.scale_logit_adjust``, :meth:`~s2am3d_core.modeling.decoder.ScaleAwareDecoder.set_calibration`)
undoes a fitted fraction alpha of that prior. This command decodes the single-click prompts of the
interactive protocol once, picks the alpha with the best mean IoU on a grid, and writes the weights
with that alpha (atomically; the architecture config is untouched). Prompts without a scale are not
affected by alpha; for them the same clicks without a scale fit a constant logit offset
(``decoder.noscale_logit_offset``, subtracted from every no-scale prompt's logits), because the
uncorrected decoder's no-scale masks are many times too large. With a scale, alpha is fitted
jointly with the weight beta of the ball prior (``decoder.ball_prior_weight``,
:func:`~s2am3d_core.modeling.decoder.ball_prior`): ``beta * (1 - d / r)`` added to the logits, d a
point's distance from the click and r the radius that holds the part's size of points, so the mask
starts from the ball of the right size and the decoder's logits move its boundary (``--no-ball-prior``:
beta = 0).

Validation data must not be the data you report on: ``--procedural N`` uses seeds offset by
2,000,000, disjoint from the training seeds and from the held-out set of ``s2am3d-eval``
(offset 1,000,000); ``--data`` uses the shard split given (default ``train``); ``--user-dir`` uses
every labelled file of the folder (pass validation files, e.g. the ``--val-dir`` of s2am3d-train).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np
import torch

from ..cli.util import ArgumentParser, UsageError, check_min, device_arg, run_main, set_threads
from ..data.splits import EVAL_SEED_OFFSET, VALIDATION_SEED_OFFSET

EXAMPLES = """\
examples:
  s2am3d-calibrate models/s2am3d-base.safetensors --out calibrated.safetensors --procedural 24
  s2am3d-calibrate runs/ft/best.safetensors --out runs/ft/calibrated.safetensors --user-dir my_val_parts/
  s2am3d-calibrate runs/dec/model.safetensors --out runs/dec/calibrated.safetensors --data my_shards/
"""

OFFSET_MAX, OFFSET_STEP = 10.0, 0.25  # grid of the no-scale logit offset
BALL_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)  # candidate ball prior weights

# procedural_items adds EVAL_SEED_OFFSET: this base moves the objects to VALIDATION_SEED_OFFSET.
VALIDATION_SEED = VALIDATION_SEED_OFFSET - EVAL_SEED_OFFSET


def fit_alpha(logits: list[np.ndarray], targets: list[np.ndarray], scales: np.ndarray,
              grid: np.ndarray, priors: list[np.ndarray] | None = None,
              ball_grid: Sequence[float] = (0.0,)) -> tuple[float, float, np.ndarray]:
    """Mean IoU of ``logits_k + beta * prior_k - alpha * log((1 - s_k) / s_k) > 0`` for every alpha
    of ``grid`` and beta of ``ball_grid``.

    Args:
        logits: per prompt, the uncorrected mask logits (N_k,).
        targets: per prompt, the gt part mask (N_k,) bool.
        scales: (K,) true part fractions.
        grid: candidate alphas.
        priors: per prompt, the ball prior (N_k,) of :func:`~s2am3d_core.modeling.decoder.ball_prior`
            (needed when ``ball_grid`` holds a beta other than 0).
        ball_grid: candidate betas (default: 0 only, no ball prior).

    Returns:
        (best alpha, best beta, mean IoU per (beta, alpha), shape (len(ball_grid), len(grid))).
    """
    if not logits:
        raise UsageError("calibration: no prompts (no labelled parts in the validation data)")
    s = np.clip(np.asarray(scales, dtype=np.float64), 1e-4, 1 - 1e-4)
    prior = np.log((1 - s) / s)
    grid = np.asarray(grid, dtype=np.float64)
    scores = np.zeros((len(ball_grid), len(grid)))
    for k, (lg, tgt, pr) in enumerate(zip(logits, targets, prior)):
        for i, beta in enumerate(ball_grid):
            shifted = lg + beta * priors[k] if beta else lg
            scores[i] += _threshold_ious(shifted, tgt, grid * pr)
    scores /= len(logits)
    i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return float(grid[j]), float(ball_grid[i]), scores


def _threshold_ious(values: np.ndarray, target: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """IoU of ``values > t`` with ``target`` for every t of ``thresholds`` (1.0 when both are empty),
    by counting over the sorted values instead of building one mask per threshold."""
    target = np.asarray(target, dtype=bool)
    n, p = len(values), int(target.sum())
    predicted = n - np.searchsorted(np.sort(values), thresholds, side="right")
    hits = p - np.searchsorted(np.sort(values[target]), thresholds, side="right")
    union = predicted + p - hits
    return np.where(union > 0, hits / np.maximum(union, 1), 1.0)


def fit_offset(logits: list[np.ndarray], targets: list[np.ndarray], grid: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean IoU of ``logits_k - offset > 0`` (prompts without a scale) for every offset of ``grid``.

    Returns:
        (best offset, mean IoU per grid value).
    """
    if not logits:
        raise UsageError("calibration: no prompts (no labelled parts in the validation data)")
    grid = np.asarray(grid, dtype=np.float64)
    scores = np.zeros(len(grid))
    for lg, tgt in zip(logits, targets):
        scores += _threshold_ious(lg, tgt, grid)
    scores /= len(logits)
    return float(grid[int(np.argmax(scores))]), scores


def collect_prompts(predictor, items, min_points: int = 5, clicks: str = "center", seed: int = 0,
                    progress=None) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, list[np.ndarray],
                                            list[np.ndarray]]:
    """Uncorrected logits, gt masks and scales of every single-click prompt on ``items``, the
    uncorrected logits of the same clicks without a scale, and their ball priors."""
    from ..data.prompts import interactive_prompts
    from ..modeling.decoder import ball_prior

    logits, targets, scales, unscaled, priors = [], [], [], [], []
    for item in items:
        labels = np.atleast_2d(item.labels)
        predictor.set_shape(item.points)
        points = torch.from_numpy(predictor.points)[None]
        for p in interactive_prompts(predictor.points, labels, clicks, seed, min_points):
            logits.append(predictor.predict_logits([p["click"]], scale=p["scale"]))
            unscaled.append(predictor.predict_logits([p["click"]], scale=None))
            priors.append(ball_prior(points, torch.tensor([[p["click"]]]), torch.tensor([[1]]),
                                     torch.tensor([p["scale"]], dtype=points.dtype))[0].numpy())
            targets.append(labels[p["level"]] == p["part"])
            scales.append(p["scale"])
        if progress is not None:
            progress()
    return logits, targets, np.asarray(scales), unscaled, priors


def user_items(folder: str, points: int) -> list:
    """Every labelled file of the user's folder as PartPoints: the user chose them as calibration
    (validation) files, so none is left out (no split by file name)."""
    from pathlib import Path

    from .data import user_meshes, user_points

    if not Path(folder).is_dir():
        raise UsageError(f"--user-dir: {folder}: folder not found")
    return [user_points(m, points, seed=i) for i, m in enumerate(user_meshes(Path(folder)))]


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="s2am3d-calibrate", description="Fit the decoder's mask-size calibration on validation shapes (for clicks with a "
                       "scale: the scale prior correction alpha and the weight beta of the ball prior, the "
                       "part-sized ball around the click that the mask starts from; for clicks without one: a "
                       "logit offset) and write calibrated weights.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", help="weights to calibrate (.safetensors)")
    p.add_argument("--out", required=True, help="where to write the calibrated weights (may be the input file)")
    p.add_argument("--procedural", type=int, metavar="N", help="N validation procedural objects")
    p.add_argument("--data", metavar="SHARD_DIR", help="shard folder (s2am3d-data output) instead")
    p.add_argument("--split", default="train", help="split of --data (default train)")
    p.add_argument("--user-dir", metavar="DIR", help="folder of your labelled PLY/GLB validation files instead "
                   "(every file is used; not the files you trained on or report on)")
    p.add_argument("--max-objects", type=int, default=64, metavar="M", help="at most M objects of --data")
    p.add_argument("--points", type=int, default=4096, help="points per procedural or user object (default 4096)")
    p.add_argument("--min-part-points", type=int, default=5, metavar="M", help="skip smaller gt parts (default 5)")
    p.add_argument("--step", type=float, default=0.05, help="grid step of alpha over [0, 1] (default 0.05)")
    p.add_argument("--no-ball-prior", dest="ball_prior", action="store_false",
                   help="fit alpha alone, without the ball prior (beta = 0: the decoder's logits alone "
                        "shape the mask)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    p.add_argument("--threads", type=int, metavar="T", help="torch CPU threads")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    return run_main(_run, build_parser().parse_args(argv))


def _run(args) -> int:
    from ..checkpoint import load_model, read_metadata, save_model
    from ..predictor import PartPredictor
    from ..data.shards import shard_items
    from ..data.splits import procedural_items

    if sum(x is not None for x in (args.procedural, args.data, args.user_dir)) != 1:
        raise UsageError("validation data: give exactly one of --procedural N, --data SHARD_DIR or --user-dir DIR")
    check_min("--procedural", args.procedural)
    check_min("--max-objects", args.max_objects)
    check_min("--points", args.points, 16)
    check_min("--min-part-points", args.min_part_points)
    if not 0.0 < args.step <= 1.0:
        raise UsageError(f"--step: {args.step} must be in (0, 1]")
    from ..io.outputs import OutFile, check_outputs, same_file

    inputs = {"--data": args.data, "--user-dir": args.user_dir}
    if not same_file(args.out, args.weights):  # --out may deliberately be the weights file (replaced atomically)
        inputs["WEIGHTS"] = args.weights
    check_outputs(inputs, files=[OutFile("--out", args.out, (".safetensors",))])
    set_threads(args.threads)
    device = device_arg(args.device)

    meta = read_metadata(args.weights)
    model = load_model(args.weights, device=device)
    before = round(model.decoder.calibration, 6)  # a float32 buffer: 0.6 reads back as 0.6000000238
    before_offset = round(model.decoder.no_scale_offset, 6)
    before_ball = round(model.decoder.ball_weight, 6)
    model.decoder.set_calibration(0.0, 0.0, 0.0)  # decode uncorrected logits, correct them here
    if args.procedural is not None:
        from ..data.sampling import mesh_to_points

        meshes = procedural_items(args.procedural, VALIDATION_SEED, args.points)
        items = (mesh_to_points(pm, args.points, seed=VALIDATION_SEED + i) for i, pm in enumerate(meshes))
        total = args.procedural
    elif args.data is not None:
        items, total = shard_items(args.data, args.split, args.max_objects), None
    else:
        items = user_items(args.user_dir, args.points)
        total = len(items)

    from tqdm import tqdm

    bar = tqdm(total=total, desc="validation shapes", file=sys.stderr, disable=args.quiet, leave=False)
    with torch.inference_mode():
        predictor = PartPredictor(model, device=device, cache=False)
        logits, targets, scales, unscaled, priors = collect_prompts(predictor, items, args.min_part_points,
                                                                    progress=bar.update)
    bar.close()
    grid = np.round(np.arange(0.0, 1.0 + 1e-9, args.step), 6)
    ball_grid = np.asarray(BALL_GRID if args.ball_prior else (0.0,))
    alpha, beta, table = fit_alpha(logits, targets, scales, grid, priors, ball_grid)
    scores = table[list(ball_grid).index(beta)]  # by alpha, at the chosen beta
    offsets = np.round(np.arange(0.0, OFFSET_MAX + 1e-9, OFFSET_STEP), 6)
    offset, offset_scores = fit_offset(unscaled, targets, offsets)

    if len(ball_grid) > 1:
        print(f"{len(logits)} prompts; mean single-click IoU with scale by ball prior weight (best alpha):")
        for b, row in zip(ball_grid, table):
            print(f"  beta {b:4.1f}  alpha {grid[int(np.argmax(row))]:4.2f}  IoU {row.max():.3f}"
                  f"{'  <- chosen' if b == beta else ''}")
    print(f"{len(logits)} prompts; mean single-click IoU with scale by alpha (beta {beta:g}):")
    for a, sc in zip(grid, scores):
        print(f"  alpha {a:4.2f}  IoU {sc:.3f}{'  <- chosen' if a == alpha else ''}")
    print("the same clicks without a scale, by logit offset:")
    for o, sc in zip(offsets, offset_scores):
        print(f"  offset {o:5.2f}  IoU {sc:.3f}{'  <- chosen' if o == offset else ''}")
    model.decoder.set_calibration(alpha, offset, beta)
    extra = {k: v for k, v in meta.items() if k not in ("format", "s2am3d_config")}
    extra["calibration"] = {"scale_logit_adjust": alpha, "previous": before, "prompts": len(logits),
                            "iou_uncorrected": float(table[0, 0]), "iou_chosen": float(table.max()),
                            "ball_prior_weight": beta, "previous_ball_prior_weight": before_ball,
                            "noscale_logit_offset": offset, "previous_offset": before_offset,
                            "noscale_iou_uncorrected": float(offset_scores[0]),
                            "noscale_iou_chosen": float(offset_scores.max()),
                            "points": args.points,
                            "data": f"procedural {args.procedural} (validation seeds)" if args.procedural
                            else f"{args.data} split {args.split}" if args.data else f"user files {args.user_dir}"}
    save_model(model, args.out, extra_metadata=extra)
    print(f"wrote {args.out} (scale_logit_adjust = {alpha}, noscale_logit_offset = {offset}, "
          f"ball_prior_weight = {beta})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
