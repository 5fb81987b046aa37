"""Automatic full segmentation at a chosen granularity, and a part tree across granularities.

``segment_all`` turns the interactive model into a full segmenter, the way SAM's automatic mask
generator does for images:

1. prompts: ``num_prompts`` points chosen by farthest point sampling (FPS) over the shape;
2. one single-click mask per prompt at the requested scale (``predictor.predict_many``, batched);
3. each mask (probability > ``threshold``) gets a score = mean probability inside the mask x
   stability (IoU of the masks at ``threshold`` +- 0.1); empty masks are dropped;
4. non-maximum suppression: a mask whose IoU with a better-scoring kept mask is >= ``nms_iou`` is dropped;
5. greedy assignment in score order: each mask claims its still-unassigned points; a claim smaller
   than ``min_points`` is discarded (tiny leftovers are merged in step 7);
6. one refill round: FPS prompts among the still-unassigned points, masks restricted to those points,
   steps 3-5 again;
7. every remaining point takes the label of the nearest assigned point (scipy cKDTree);
8. labels are renumbered 0..K-1 by decreasing part size.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy.spatial import cKDTree

from ..errors import PromptError
from ..scale import check_scale as _check_scale

ProgressFn = Callable[[float, str], None]

STABILITY_DELTA = 0.1


def farthest_point_sampling(points: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Indices (k,) of ``k`` points chosen by FPS from a random start (seeded); k is capped at N."""
    pts = np.asarray(points, dtype=np.float32)
    n = len(pts)
    k = int(min(max(k, 0), n))
    out = np.empty(k, dtype=np.int64)
    if k == 0:
        return out
    rng = np.random.default_rng(seed)
    out[0] = rng.integers(n)
    dist = np.full(n, np.inf, dtype=np.float32)
    for i in range(1, k):
        d = ((pts - pts[out[i - 1]]) ** 2).sum(1)
        np.minimum(dist, d, out=dist)
        out[i] = int(np.argmax(dist))
    return out


def default_min_points(n: int, scale: float | None) -> int:
    """Smallest part kept by ``segment_all``: 0.2% of the points (at least 5), and when a scale is
    given at least 10% of the expected part size ``scale * n``."""
    m = max(5, math.ceil(0.002 * n))
    if scale is not None:
        m = max(m, math.ceil(0.1 * scale * n))
    return int(min(m, n))


def score_masks(probs: np.ndarray, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Binary masks and scores of probability maps.

    Args:
        probs: (K, N) probabilities.

    Returns:
        (masks (K, N) bool, scores (K,) float: mean probability inside the mask x stability,
        0 for an empty mask).
    """
    probs = np.asarray(probs, dtype=np.float32)
    masks = probs > threshold
    size = masks.sum(1)
    conf = np.where(size > 0, (probs * masks).sum(1) / np.maximum(size, 1), 0.0)
    hi = (probs > min(threshold + STABILITY_DELTA, 1.0)).sum(1)
    lo = (probs > max(threshold - STABILITY_DELTA, 0.0)).sum(1)
    stability = np.where(lo > 0, hi / np.maximum(lo, 1), 0.0)
    return masks, (conf * stability).astype(np.float64)


def mask_nms(masks: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5) -> np.ndarray:
    """Indices of the masks kept by NMS on mask IoU, best score first. Empty masks are dropped."""
    masks = np.asarray(masks, dtype=bool)
    order = [int(i) for i in np.argsort(-np.asarray(scores), kind="stable") if masks[i].any()]
    if not order:
        return np.empty(0, dtype=np.int64)
    m = masks[order].astype(np.float32)
    inter = m @ m.T
    size = np.diag(inter)
    union = size[:, None] + size[None, :] - inter
    ious = inter / np.maximum(union, 1.0)
    keep: list[int] = []
    for j in range(len(order)):
        if all(ious[j, i] < iou_threshold for i in keep):
            keep.append(j)
    return np.array([order[j] for j in keep], dtype=np.int64)


def greedy_assign(labels: np.ndarray, masks: np.ndarray, order: Sequence[int], min_points: int,
                  next_label: int) -> int:
    """Give each mask (in ``order``) its still-unassigned points (``labels == -1``), in place.

    A claim of fewer than ``min_points`` points is skipped. Returns the next free label.
    """
    for i in order:
        new = masks[i] & (labels < 0)
        if np.count_nonzero(new) >= max(min_points, 1):
            labels[new] = next_label
            next_label += 1
    return next_label


def fill_nearest(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Copy of ``labels`` where every -1 point takes the label of the nearest labelled point
    (all 0 when no point is labelled)."""
    labels = labels.copy()
    free = labels < 0
    if free.all():
        labels[:] = 0
    elif free.any():
        _, nn = cKDTree(points[~free]).query(points[free])
        labels[free] = labels[~free][nn]
    return labels


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Consecutive labels 0..K-1, 0 = the largest part (ties: the part seen first)."""
    ids, first, inverse, counts = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    order = np.lexsort((first, -counts))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank[inverse.reshape(-1)]


def labels_from_probs(points: np.ndarray, probs: np.ndarray, threshold: float = 0.5, nms_iou: float = 0.5,
                      min_points: int = 5, refill: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Steps 3-8 of ``segment_all`` on given mask probabilities.

    Args:
        points: (N, 3).
        probs: (K, N) probabilities of K prompt masks.
        refill: optional ``fn(unassigned (N,) bool) -> (K2, N) probs`` for the refill round.

    Returns:
        (N,) int64 labels 0..P-1.
    """
    n = len(points)
    labels = np.full(n, -1, dtype=np.int64)
    masks, scores = score_masks(probs, threshold)
    nxt = greedy_assign(labels, masks, mask_nms(masks, scores, nms_iou), min_points, 0)
    free = labels < 0
    if refill is not None and np.count_nonzero(free) >= max(min_points, 1):
        probs2 = np.asarray(refill(free), dtype=np.float32) * free[None]
        if len(probs2):
            masks2, scores2 = score_masks(probs2, threshold)
            greedy_assign(labels, masks2, mask_nms(masks2, scores2, nms_iou), min_points, nxt)
    return relabel_by_size(fill_nearest(points, labels))


def decode_many(predictor, indices: Sequence[int], scale) -> np.ndarray:
    """``predictor.predict_many`` with a batch size suited to the device.

    On CPU with one torch thread, one prompt per decoder call is fastest (cpu-small, 4096 points:
    14 ms/prompt vs 28 ms in batches of 16); with several threads, batches of 16 are far more robust
    when the cores are shared (78 vs 690 ms/prompt measured on 2 busy cores); on CUDA batches win.
    """
    import torch

    from ..predictor import PartPredictor

    if isinstance(predictor, PartPredictor):
        single = predictor.device.type == "cpu" and torch.get_num_threads() == 1
        return predictor.predict_many(indices, scale, batch_size=1 if single else 16)
    return predictor.predict_many(indices, scale)




def segment_all(predictor, scale: float | None, num_prompts: int = 64, threshold: float = 0.5,
                nms_iou: float = 0.5, min_points: int | None = None, seed: int = 0,
                progress: ProgressFn | None = None, refill: bool = True, batch_size: int = 16) -> np.ndarray:
    """Label every point of the predictor's current shape at the granularity ``scale``.

    Args:
        predictor: a PartPredictor (or anything with ``points`` (N, 3), ``is_shape_set`` and
            ``predict_many(indices, scale) -> (K, N)``) whose shape is set.
        scale: wanted part size as a fraction of the points in [0, 1]; None = no scale prompt.
        num_prompts: FPS prompts of the first round (the refill round uses a quarter of it).
        threshold: probability above which a point is in a mask.
        nms_iou: masks overlapping a better one by at least this IoU are dropped.
        min_points: smallest part; default :func:`default_min_points`.
        seed: seed of the FPS start point.
        progress: ``fn(fraction, message)``.

    Returns:
        (N,) int64 labels, consecutive 0..K-1 (0 = largest part).
    """
    if not getattr(predictor, "is_shape_set", False):
        raise PromptError("no shape is set: call set_shape(points) before segment_all(...)")
    if not 0.0 < threshold < 1.0:
        raise PromptError(f"threshold {threshold} must be in (0, 1)")
    if num_prompts < 1:
        raise PromptError(f"num_prompts must be >= 1, got {num_prompts}")
    scale = _check_scale(scale)
    report = progress or (lambda frac, msg: None)
    points = np.asarray(predictor.points)
    n = len(points)
    if min_points is None:
        min_points = default_min_points(n, scale)

    def run(idx: np.ndarray, lo: float, hi: float, what: str) -> np.ndarray:
        out = np.empty((len(idx), n), dtype=np.float32)
        for start in range(0, len(idx), batch_size):
            chunk = [int(i) for i in idx[start:start + batch_size]]
            out[start:start + len(chunk)] = decode_many(predictor, chunk, scale)
            report(lo + (hi - lo) * (start + len(chunk)) / len(idx), what)
        return out

    report(0.0, f"choosing {min(num_prompts, n)} prompts")
    prompts = farthest_point_sampling(points, num_prompts, seed)
    probs = run(prompts, 0.0, 0.8, "decoding prompt masks")

    def refill_fn(free: np.ndarray) -> np.ndarray:
        free_idx = np.flatnonzero(free)
        sub = farthest_point_sampling(points[free_idx], max(1, num_prompts // 4), seed + 1)
        return run(free_idx[sub], 0.8, 0.95, "decoding refill masks")

    labels = labels_from_probs(points, probs, threshold, nms_iou, min_points, refill_fn if refill else None)
    report(1.0, f"{labels.max() + 1} parts")
    return labels


def part_tree(predictor, scales: Sequence[float] = (0.02, 0.08, 0.25, 0.6), include_labels: bool = False,
              progress: ProgressFn | None = None, **kwargs) -> dict:
    """A hierarchical part tree of the predictor's points: one :func:`segment_all` per scale,
    nested by :func:`tree_from_levels`. ``**kwargs`` go to :func:`segment_all`."""
    scales = sorted(float(s) for s in scales)
    if not scales:
        raise PromptError("part_tree needs at least one scale")
    for s in scales:
        _check_scale(s)
    report = progress or (lambda frac, msg: None)
    levels: list[np.ndarray] = []
    for li, s in enumerate(scales):
        def sub(frac, msg, li=li, s=s):
            report((li + frac) / len(scales), f"scale {s:g}: {msg}")
        levels.append(segment_all(predictor, s, progress=sub, **kwargs))
    return tree_from_levels(levels, scales, include_labels=include_labels)


def tree_from_levels(levels: Sequence[np.ndarray], scales: Sequence[float], include_labels: bool = False,
                     weights: np.ndarray | None = None) -> dict:
    """A hierarchical part tree from one full segmentation per scale (finest first).

    Each part of a finer level is the child of the part of the next coarser level it overlaps most
    (``overlap`` = that fraction of its points, or of its ``weights``). All levels hang under a root
    holding every point.

    Args:
        levels: per scale, (M,) int64 labels 0..K-1 of the same M items (points or atoms).
        scales: the granularity of each level, ascending.
        include_labels: also return the per-level labels (large: L x M ints).
        weights: optional (M,) size of each item (e.g. atom areas); default 1 each.

    Returns:
        JSON-serialisable dict {"num_points", "scales", "levels": [{"level", "scale", "num_parts"}],
        "root": {"id", "num_points", "children": [{"id", "level", "scale", "label", "num_points",
        "overlap", "children": [...]}, ...]}, optionally "labels"}. ``num_points`` counts items.
    """
    n = int(len(levels[0]))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    nodes: list[dict[int, dict]] = []
    for li, (s, lab) in enumerate(zip(scales, levels)):
        counts = np.bincount(lab)
        nodes.append({k: {"id": f"L{li}P{k}", "level": li, "scale": float(s), "label": k,
                          "num_points": int(counts[k]), "overlap": 1.0, "children": []}
                      for k in range(len(counts)) if counts[k] > 0})
    for li in range(len(levels) - 1):
        fine, coarse = levels[li], levels[li + 1]
        for k, node in nodes[li].items():
            inside = fine == k
            hist = np.bincount(coarse[inside], weights=w[inside], minlength=coarse.max() + 1)
            parent = int(np.argmax(hist))
            node["overlap"] = float(hist[parent] / max(w[inside].sum(), 1e-300))
            nodes[li + 1][parent]["children"].append(node)
    for level in nodes:
        for node in level.values():
            node["children"].sort(key=lambda c: (-c["num_points"], c["label"]))
    root = {"id": "root", "num_points": n,
            "children": sorted(nodes[-1].values(), key=lambda c: (-c["num_points"], c["label"]))}
    tree = {"num_points": n, "scales": [float(s) for s in scales],
            "levels": [{"level": li, "scale": float(s), "num_parts": int(lab.max() + 1)}
                       for li, (s, lab) in enumerate(zip(scales, levels))],
            "root": root}
    if include_labels:
        tree["labels"] = [lab.tolist() for lab in levels]
    return tree
