"""Segmentation metrics: mask IoU, Hungarian-matched mIoU, and the single-click interactive protocol.

Conventions (ARCHITECTURE.md): label arrays are (N,) int, ``-1`` = unlabelled; hierarchies are
(L, N) stacks, finest level first. The scale of a part is its fraction of the object's points.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..data.prompts import interactive_prompts
from ..errors import InputError

# fn(click_indices (K,), scales (K,) gt part fractions, levels (K,) gt level of each prompt) -> masks (K, N) bool
MaskFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks (N,). Two empty masks give 1.0."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise InputError(f"iou: masks have different shapes {a.shape} and {b.shape}")
    union = np.count_nonzero(a | b)
    if union == 0:
        return 1.0
    return float(np.count_nonzero(a & b) / union)


def batch_iou(masks: np.ndarray, target: np.ndarray) -> np.ndarray:
    """IoU of each row of ``masks`` (K, N) bool with ``target`` (N,) bool -> (K,) float64."""
    masks = np.asarray(masks, dtype=bool)
    target = np.asarray(target, dtype=bool)
    inter = np.count_nonzero(masks & target[None], axis=1)
    union = np.count_nonzero(masks | target[None], axis=1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def iou_matrix(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IoU of every gt part with every predicted part over the points where ``gt >= 0``.

    Args:
        pred: (N,) int predicted labels (negative = unassigned, never matched).
        gt: (N,) int ground-truth labels, -1 = unlabelled (those points are ignored).

    Returns:
        (ious (G, P) float64, gt_ids (G,), pred_ids (P,)).
    """
    pred = np.asarray(pred).reshape(-1)
    gt = np.asarray(gt).reshape(-1)
    if pred.shape != gt.shape:
        raise InputError(f"labels have different lengths: pred {pred.shape[0]}, gt {gt.shape[0]}")
    valid = gt >= 0
    pred, gt = pred[valid], gt[valid]
    gt_ids, gi = np.unique(gt, return_inverse=True)
    pred_ids, pi = np.unique(pred, return_inverse=True)
    inter = np.zeros((len(gt_ids), len(pred_ids)), dtype=np.int64)
    np.add.at(inter, (gi, pi), 1)
    gsize = inter.sum(1, keepdims=True)
    psize = inter.sum(0, keepdims=True)
    union = gsize + psize - inter
    ious = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    keep = pred_ids >= 0
    return ious[:, keep], gt_ids, pred_ids[keep]


def miou_hungarian(pred: np.ndarray, gt: np.ndarray, return_matching: bool = False):
    """Mean IoU over gt parts after a one-to-one Hungarian matching of predicted to gt parts.

    Points with ``gt == -1`` are ignored. Each gt part is matched to at most one predicted part
    (maximising the total IoU, scipy ``linear_sum_assignment``); gt parts left unmatched (fewer
    predicted parts than gt parts) count as IoU 0. Extra predicted parts are not penalised beyond
    the points they take from matched parts. Returns 1.0 when there is no labelled point.

    Args:
        pred: (N,) int predicted labels.
        gt: (N,) int ground truth, -1 = ignore.
        return_matching: also return {gt id: (pred id or None, iou)}.
    """
    ious, gt_ids, pred_ids = iou_matrix(pred, gt)
    if len(gt_ids) == 0:
        return (1.0, {}) if return_matching else 1.0
    matched = np.zeros(len(gt_ids))
    matching: dict[int, tuple[int | None, float]] = {int(g): (None, 0.0) for g in gt_ids}
    if ious.shape[1]:
        rows, cols = linear_sum_assignment(ious, maximize=True)
        matched[rows] = ious[rows, cols]
        for r, c in zip(rows, cols):
            matching[int(gt_ids[r])] = (int(pred_ids[c]), float(ious[r, c]))
    value = float(matched.mean())
    return (value, matching) if return_matching else value


# --------------------------------------------------------------------------- interactive protocol
def interactive_protocol(points: np.ndarray, labels: np.ndarray, methods: dict[str, MaskFn],
                         clicks: str = "center", seed: int = 0, min_points: int = 1,
                         batch: int = 64, progress: Callable[[int], None] | None = None) -> dict:
    """Single-click IoU of several mask predictors over every gt part at every level.

    Args:
        points: (N, 3) points (the order of ``labels``).
        labels: (L, N) gt hierarchy.
        methods: name -> mask function ``fn(click_idx (K,), scales (K,), levels (K,)) -> (K, N) bool``
            (scales are the true part fractions; levels tell oracle baselines which gt level is asked).
        progress: called with the number of prompts done after each batch.

    Returns:
        {name: {"overall": mean IoU over all parts, "num_parts": int, "distinct": mean IoU over
                distinct parts, "num_distinct": int, "per_level": [{"level", "iou", "num_parts"}, ...],
                "ious": [...], "distinct_mask": [...]}}
    """
    labels = np.atleast_2d(np.asarray(labels))
    prompts = interactive_prompts(points, labels, clicks, seed, min_points)
    result = {}
    levels = np.array([p["level"] for p in prompts], dtype=np.int64)
    for name, fn in methods.items():
        ious = np.zeros(len(prompts))
        for start in range(0, len(prompts), batch):
            chunk = prompts[start:start + batch]
            idx = np.array([p["click"] for p in chunk], dtype=np.int64)
            scales = np.array([p["scale"] for p in chunk], dtype=np.float64)
            lv = np.array([p["level"] for p in chunk], dtype=np.int64)
            masks = np.asarray(fn(idx, scales, lv), dtype=bool)
            for j, p in enumerate(chunk):
                ious[start + j] = iou(masks[j], labels[p["level"]] == p["part"])
            if progress is not None:
                progress(len(chunk))
        result[name] = summarize_ious(ious, levels, labels.shape[0],
                                      np.array([p["distinct"] for p in prompts], dtype=bool))
    return result


def summarize_ious(ious: np.ndarray, levels: np.ndarray, num_levels: int, distinct: np.ndarray | None = None) -> dict:
    """Mean IoU overall (over all parts), over distinct parts (default: all) and per level."""
    ious = np.asarray(ious, dtype=np.float64)
    distinct = np.ones(len(ious), dtype=bool) if distinct is None else np.asarray(distinct, dtype=bool)
    per_level = []
    for level in range(num_levels):
        sel = ious[levels == level]
        per_level.append({"level": level, "iou": float(sel.mean()) if len(sel) else None,
                          "num_parts": int(len(sel))})
    d = ious[distinct]
    return {"overall": float(ious.mean()) if len(ious) else None, "num_parts": int(len(ious)),
            "distinct": float(d.mean()) if len(d) else None, "num_distinct": int(len(d)),
            "per_level": per_level, "ious": [float(v) for v in ious],
            "distinct_mask": [bool(x) for x in distinct]}


def predictor_mask_fn(predictor, use_scale: bool, threshold: float = 0.5) -> MaskFn:
    """Adapter: a PartPredictor (with the shape set) as a protocol mask function."""

    def fn(idx: np.ndarray, scales: np.ndarray, levels: np.ndarray | None = None) -> np.ndarray:
        sc = [float(s) for s in scales] if use_scale else None
        from ..segment.autoseg import decode_many

        return decode_many(predictor, [int(i) for i in idx], sc) > threshold

    return fn


def interactive_iou(predictor, labels: np.ndarray, clicks: str = "center", seed: int = 0,
                    threshold: float = 0.5, min_points: int = 1) -> dict:
    """The interactive protocol for a PartPredictor whose shape is set to the labelled points.

    Returns {"with_scale": summary, "no_scale": summary} (see :func:`interactive_protocol`).
    """
    if not predictor.is_shape_set:
        raise InputError("interactive_iou: call predictor.set_shape(points) first")
    methods = {"with_scale": predictor_mask_fn(predictor, True, threshold),
               "no_scale": predictor_mask_fn(predictor, False, threshold)}
    return interactive_protocol(predictor.points, labels, methods, clicks, seed, min_points)
