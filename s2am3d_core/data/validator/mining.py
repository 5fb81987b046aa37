"""Synthetic training examples: good parts (true parts of every level) and mined bad ones.

Negatives: random unions of fragments of unrelated parts, random slabs and boxes cut through the
object, and true parts with scattered pieces from elsewhere in the object; a negative that overlaps
a true part (IoU > 0.8) is discarded.
"""
from __future__ import annotations

import numpy as np

from ..types import PartPoints

MIN_PART_POINTS = 16


def _iou_with_parts(mask: np.ndarray, labels: np.ndarray) -> float:
    """Largest IoU of ``mask`` with any part of any level (or the whole object)."""
    m = int(mask.sum())
    best = m / len(mask)  # whole object
    for row in labels:
        ok = row >= 0
        sizes = np.bincount(row[ok])
        inter = np.bincount(row[mask & ok], minlength=len(sizes))
        iou = inter / np.maximum(sizes + m - inter, 1)
        best = max(best, float(iou.max(initial=0.0)))
    return best


def _neg_slab(pts, labels, rng, size):
    """``size`` consecutive points along a random direction: a slab cut through the object."""
    d = rng.normal(size=3)
    d /= np.linalg.norm(d) + 1e-12
    order = np.argsort(pts @ d)
    start = int(rng.integers(0, max(1, len(pts) - size)))
    mask = np.zeros(len(pts), bool)
    mask[order[start:start + size]] = True
    return mask


def _neg_box(pts, labels, rng, size):
    """The ``size`` points nearest (in a scaled max-norm) to a random point: a random box."""
    c = pts[rng.integers(len(pts))]
    axes = np.exp(rng.uniform(np.log(0.3), np.log(3.0), size=3))
    d = np.abs((pts - c) / axes).max(axis=1)
    mask = np.zeros(len(pts), bool)
    mask[np.argsort(d)[:size]] = True
    return mask


def _fragment(pts, idx, rng):
    """A ball-shaped piece (30-100 %) of the points ``idx``."""
    c = pts[rng.choice(idx)]
    d = np.linalg.norm(pts[idx] - c, axis=1)
    k = max(1, int(np.ceil(rng.uniform(0.3, 1.0) * len(idx))))
    return idx[np.argsort(d)[:k]]


def _neg_union(pts, labels, rng, size=None):
    fine = labels[0]
    top = labels[-1]
    ids = np.unique(fine[fine >= 0])
    if len(ids) < 2:
        return None
    k = int(rng.integers(2, 4))
    picked, groups = [], set()
    for p in rng.permutation(ids):
        g = int(np.bincount(top[fine == p][top[fine == p] >= 0]).argmax()) if (top[fine == p] >= 0).any() else -1
        if g in groups and len(np.unique(top[top >= 0])) > 1:
            continue
        groups.add(g)
        picked.append(p)
        if len(picked) == k:
            break
    if len(picked) < 2:
        return None
    mask = np.zeros(len(pts), bool)
    for p in picked:
        mask[_fragment(pts, np.flatnonzero(fine == p), rng)] = True
    return mask


def _neg_scatter(pts, labels, rng, size=None):
    row = labels[int(rng.integers(len(labels)))]
    ids, counts = np.unique(row[row >= 0], return_counts=True)
    ok = ids[(counts >= MIN_PART_POINTS) & (counts < 0.7 * len(pts))]
    if not len(ok):
        return None
    mask = row == rng.choice(ok)
    outside = np.flatnonzero(~mask)
    if not len(outside):
        return None
    from scipy.spatial import cKDTree

    tree = cKDTree(pts)
    budget = max(6, int(rng.uniform(0.05, 0.25) * mask.sum()))
    n_clumps = int(rng.integers(2, 7))
    for _ in range(n_clumps):
        c = pts[rng.choice(outside)]
        size = max(3, budget // n_clumps)
        _, nn = tree.query(c, k=min(size, len(pts)))
        mask[np.atleast_1d(nn)] = True
    return mask


_NEGATIVES = (_neg_slab, _neg_box, _neg_union, _neg_scatter)


def make_training_examples(
    item: PartPoints, rng: np.random.Generator, max_per_class: int = 24
) -> tuple[list[np.ndarray], np.ndarray]:
    """Positive and negative part masks of one labelled object.

    Returns:
        (masks: list of (N,) bool, targets (K,) float32 1 = good part, 0 = bad part).
    """
    pts, labels = np.asarray(item.points, np.float32), np.asarray(item.labels, np.int64)
    n = len(pts)
    # positives: true parts, balanced over levels (coarse levels have few parts)
    per_level: list[list[np.ndarray]] = []
    for row in labels:
        ids, counts = np.unique(row[row >= 0], return_counts=True)
        per_level.append([row == p for p in ids[counts >= MIN_PART_POINTS]])
    pos: list[np.ndarray] = []
    quota = int(np.ceil(max_per_class / max(len(per_level), 1)))
    for parts in per_level:
        take = rng.permutation(len(parts))[:quota]
        pos += [parts[i] for i in take]
    sizes = [int(m.sum()) for m in pos] or [max(MIN_PART_POINTS, n // 8)]
    neg: list[np.ndarray] = []
    want = max(len(pos), 4)
    lab_for_neg = labels if len(labels) else np.zeros((1, n), np.int64)
    for _ in range(4 * want):
        if len(neg) >= want:
            break
        gen = _NEGATIVES[int(rng.integers(len(_NEGATIVES)))]
        # slabs and boxes get the size of a random true part, so size alone does not tell them apart
        size = int(np.clip(rng.choice(sizes) * rng.uniform(0.7, 1.4), MIN_PART_POINTS, 0.9 * n))
        mask = gen(pts, lab_for_neg, rng, size)
        if mask is None or mask.sum() < MIN_PART_POINTS or mask.sum() > 0.9 * n:
            continue
        if _iou_with_parts(mask, labels) > 0.8:
            continue
        neg.append(mask)
    masks = pos + neg
    return masks, np.array([1.0] * len(pos) + [0.0] * len(neg), dtype=np.float32)
