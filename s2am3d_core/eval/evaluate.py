"""Evaluate one labelled object (PartPoints) and aggregate objects into dataset scores.

Per object, with the predictor's shape set to the object's points:

* interactive (single click per gt part per level, click = part point nearest the part centroid):
  ``ours_scale`` (true part fraction as scale), ``ours_noscale``, and the baselines' interactive
  variants (``kmeans``/``agglo``: oracle-k cluster containing the click; ``geometric_scale``: kNN
  ball of the true part size; ``geometric_noscale``: connected piece of the click);
* full segmentation, Hungarian mIoU against each gt level: ``ours`` = ``segment_all`` at the median
  part fraction of that level ("gt-level granularity"), ``ours_noscale`` = ``segment_all`` without a
  scale (one segmentation scored against every level), and each baseline with oracle k = number of
  gt parts of the level.
"""
from __future__ import annotations

import time

import numpy as np

from ..segment.autoseg import segment_all
from .baselines import BASELINES, BaselineSuite
from .metrics import interactive_protocol, miou_hungarian, predictor_mask_fn, summarize_ious

INTERACTIVE_METHODS = ("ours_scale", "ours_noscale", "kmeans", "agglo", "geometric_scale", "geometric_noscale")
FULLSEG_METHODS = ("ours", "ours_noscale", "kmeans", "agglo", "geometric")


def subsample(item, n: int, seed: int = 0):
    """(points (M, 3), labels (L, M)) of a PartPoints, randomly subsampled to n points if it has more."""
    pts = np.asarray(item.points, dtype=np.float32)
    lab = np.atleast_2d(np.asarray(item.labels, dtype=np.int64))
    if len(pts) > n:
        idx = np.sort(np.random.default_rng(seed).choice(len(pts), n, replace=False))
        pts, lab = pts[idx], lab[:, idx]
    return pts, lab


def evaluate_object(predictor, points: np.ndarray, labels: np.ndarray, baselines=BASELINES,
                    threshold: float = 0.5, clicks: str = "center", seed: int = 0, num_prompts: int = 64,
                    name: str = "", category: str = "", min_part_points: int = 1) -> dict:
    """Scores of one object. ``labels`` (L, N) finest level first, -1 = unlabelled.

    Returns a dict (JSON-serialisable except the private ``_ious`` entry used by :func:`aggregate`).
    """
    t0 = time.perf_counter()
    labels = np.atleast_2d(np.asarray(labels, dtype=np.int64))
    predictor.set_shape(points)
    pts = predictor.points
    n = len(pts)
    feats = predictor.features if any(b in ("kmeans", "agglo") for b in baselines) else None
    suite = BaselineSuite(pts, feats, names=tuple(baselines), seed=seed)
    methods = {"ours_scale": predictor_mask_fn(predictor, True, threshold),
               "ours_noscale": predictor_mask_fn(predictor, False, threshold)}
    methods.update(suite.interactive_fns(labels))
    inter = interactive_protocol(pts, labels, methods, clicks=clicks, seed=seed, min_points=min_part_points)
    full: dict[str, list] = {m: [] for m in ("ours", "ours_noscale", *baselines)}
    scales, ours_parts, gt_parts = [], [], []
    noscale = segment_all(predictor, None, num_prompts=num_prompts, threshold=threshold, seed=seed)
    for level, gt in enumerate(labels):
        ids, counts = np.unique(gt[gt >= 0], return_counts=True)
        gt_parts.append(int(len(ids)))
        if len(ids) == 0:
            scales.append(None)
            ours_parts.append(None)
            for m in full:
                full[m].append(None)
            continue
        s = float(np.median(counts / n))
        ours = segment_all(predictor, s, num_prompts=num_prompts, threshold=threshold, seed=seed)
        scales.append(s)
        ours_parts.append(int(ours.max() + 1))
        full["ours"].append(miou_hungarian(ours, gt))
        full["ours_noscale"].append(miou_hungarian(noscale, gt))
        for b in baselines:
            full[b].append(miou_hungarian(suite.full(b, len(ids)), gt))
    return {
        "name": name, "category": category, "num_points": int(n), "num_levels": int(labels.shape[0]),
        "gt_parts_per_level": gt_parts, "scale_per_level": scales, "ours_parts_per_level": ours_parts,
        "ours_noscale_parts": int(noscale.max() + 1),
        "interactive": {m: {k: v for k, v in r.items() if k != "ious"} for m, r in inter.items()},
        "full_seg": {m: {"per_level": v, "mean": _mean(v)} for m, v in full.items()},
        "time_s": round(time.perf_counter() - t0, 3),
        "_ious": {m: r["ious"] for m, r in inter.items()},
        "_prompt_levels": _prompt_levels(inter),
    }


def _prompt_levels(inter: dict) -> list[int]:
    first = next(iter(inter.values()))
    out = []
    for row in first["per_level"]:
        out += [row["level"]] * row["num_parts"]
    return out


def _mean(values) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def aggregate(objects: list[dict]) -> dict:
    """Dataset scores from per-object results.

    interactive: IoU pooled over all prompted parts of all objects (overall and per level);
    full_seg: mIoU averaged over objects, per level, and over all (object, level) pairs ("overall").
    """
    if not objects:
        return {"num_objects": 0, "interactive": {}, "full_seg": {}}
    num_levels = max(o["num_levels"] for o in objects)
    inter = {}
    for m in objects[0]["_ious"]:
        ious = np.concatenate([np.asarray(o["_ious"][m], dtype=np.float64) for o in objects])
        lv = np.concatenate([np.asarray(o["_prompt_levels"], dtype=np.int64) for o in objects])
        summary = summarize_ious(ious, lv, num_levels)
        summary.pop("ious")
        inter[m] = summary
    full = {}
    for m in objects[0]["full_seg"]:
        per_level = []
        pooled = []
        for level in range(num_levels):
            vals = [o["full_seg"][m]["per_level"][level] for o in objects
                    if level < o["num_levels"] and o["full_seg"][m]["per_level"][level] is not None]
            pooled += vals
            per_level.append({"level": level, "miou": _mean(vals), "num_objects": len(vals)})
        full[m] = {"overall": _mean(pooled), "per_level": per_level}
    return {"num_objects": len(objects), "num_levels": num_levels,
            "num_parts": int(sum(sum(o["gt_parts_per_level"]) for o in objects)),
            "interactive": inter, "full_seg": full}


def public(obj: dict) -> dict:
    """A per-object result without its private arrays (for JSON)."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}
