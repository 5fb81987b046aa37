"""Training prompts (clicks + scale + target mask) sampled from a part hierarchy.

One prompt: pick a level uniformly among the levels that have a usable part (>= ``min_points``
points), pick a part with probability proportional to ``size ** size_power`` (default 0.5: large
parts are favoured less than by area, so small parts are not starved), click a random point of it,
then add 0..max_pos-1 more positive clicks inside and 0..max_neg negative clicks outside. Negatives
are "hard" when possible: drawn from the rest of the parent part at the next level (the sibling
parts a user would confuse it with). ``scale`` = the part's fraction of the labelled points of its
level (= ``target.mean()`` when every point is labelled). With probability ``whole_object_prob`` (or
when no part is usable) the target is the whole object: ``level = L``, scale 1, positives only.

Evaluation and calibration prompts (:func:`interactive_prompts`): one click per ground-truth part
per level, with the part's true fraction as its scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..errors import InputError

MIN_PART_POINTS = 8


@dataclass
class Prompt:
    """A sampled training prompt.

    Attributes:
        click_idx: (K,) int64 point indices of the clicks (the first one is positive).
        click_label: (K,) int64, 1 = positive, 0 = negative.
        scale: the target's fraction of the labelled points of its level, in [0, 1].
        target: (N,) bool mask of the target part.
        level: hierarchy level of the target (``L`` = whole object).
    """

    click_idx: np.ndarray
    click_label: np.ndarray
    scale: float
    target: np.ndarray
    level: int


def sample_prompt(
    labels: np.ndarray,
    rng: np.random.Generator,
    max_pos: int = 3,
    max_neg: int = 2,
    whole_object_prob: float = 0.05,
    hard_negative_prob: float = 0.8,
    size_power: float = 0.5,
    min_points: int = MIN_PART_POINTS,
) -> Prompt:
    """Sample one prompt from a label stack.

    Args:
        labels: (L, N) int part ids, finest first, ``-1`` = unlabelled (L may be 0).
        rng: numpy Generator (the only source of randomness: same state, same prompt).
        max_pos: at most this many positive clicks (>= 1).
        max_neg: at most this many negative clicks (>= 0).
        whole_object_prob: probability of a whole-object prompt.
        hard_negative_prob: probability that a negative is drawn from the parent part when it can be.
        size_power: part weight = size ** size_power.
        min_points: parts with fewer points are never targets.

    Returns:
        :class:`Prompt`.
    """
    if max_pos < 1:
        raise ValueError("max_pos must be >= 1")
    lab = np.asarray(labels, dtype=np.int64)
    if lab.ndim != 2:
        raise ValueError(f"labels must be (L, N), got shape {lab.shape}")
    L, n = lab.shape
    if n == 0:
        raise ValueError("cannot sample a prompt on an empty point set")

    usable: list[tuple[int, np.ndarray, np.ndarray]] = []
    for lvl in range(L):
        row = lab[lvl]
        ids, counts = np.unique(row[row >= 0], return_counts=True)
        ok = counts >= min_points
        if ok.any():
            usable.append((lvl, ids[ok], counts[ok]))

    if not usable or rng.random() < whole_object_prob:
        target = np.ones(n, dtype=bool)
        k = 1 + int(rng.integers(max_pos))
        pos = rng.choice(n, size=min(k, n), replace=False)
        return Prompt(pos.astype(np.int64), np.ones(len(pos), np.int64), 1.0, target, L)

    lvl, ids, counts = usable[int(rng.integers(len(usable)))]
    w = counts.astype(np.float64) ** size_power
    part = int(rng.choice(ids, p=w / w.sum()))
    row = lab[lvl]
    target = row == part
    inside = np.flatnonzero(target)

    first = int(rng.choice(inside))
    extra = int(rng.integers(max_pos))  # 0 .. max_pos-1 more positives
    rest = inside[inside != first]
    more = rng.choice(rest, size=min(extra, len(rest)), replace=False) if extra and len(rest) else np.zeros(0, np.int64)
    pos = np.concatenate([[first], more]).astype(np.int64)

    n_neg = int(rng.integers(max_neg + 1)) if max_neg > 0 else 0
    neg: list[int] = []
    if n_neg:
        labelled_out = np.flatnonzero(~target & (row >= 0))
        outside = labelled_out if len(labelled_out) else np.flatnonzero(~target)
        if lvl + 1 < L:
            parent = lab[lvl + 1][first]
            hard = np.flatnonzero((lab[lvl + 1] == parent) & ~target) if parent >= 0 else np.zeros(0, np.int64)
        else:
            hard = outside  # the parent is the whole object
        used: set[int] = set()
        for _ in range(n_neg):
            pool = hard if len(hard) and rng.random() < hard_negative_prob else outside
            pool = pool[~np.isin(pool, list(used))] if used else pool
            if not len(pool):
                break
            j = int(rng.choice(pool))
            used.add(j)
            neg.append(j)
    labelled = row >= 0
    scale = float(target[labelled].mean()) if labelled.any() else float(target.mean())
    idx = np.concatenate([pos, np.asarray(neg, dtype=np.int64)]).astype(np.int64)
    cl = np.concatenate([np.ones(len(pos), np.int64), np.zeros(len(neg), np.int64)])
    return Prompt(idx, cl, scale, target, lvl)


def collate_prompts(prompts: Sequence[Prompt], k: int | None = None) -> dict[str, torch.Tensor]:
    """Batch prompts, padding the clicks to ``k`` (default: the longest) with label ``-1``.

    Returns:
        dict with ``click_idx`` (B, K) long (padding 0), ``click_label`` (B, K) long (padding -1),
        ``scale`` (B,) float32, ``target`` (B, N) float32 {0, 1}, ``level`` (B,) long.

    Raises:
        ValueError: empty list, prompts with different N, or a prompt with more than ``k`` clicks.
    """
    if not prompts:
        raise ValueError("collate_prompts: no prompts")
    n = len(prompts[0].target)
    if any(len(p.target) != n for p in prompts):
        raise ValueError("collate_prompts: all prompts must have targets of the same length N")
    longest = max(len(p.click_idx) for p in prompts)
    k = longest if k is None else int(k)
    if longest > k:
        raise ValueError(f"collate_prompts: a prompt has {longest} clicks, more than k={k}")
    b = len(prompts)
    idx = torch.zeros(b, k, dtype=torch.long)
    lab = torch.full((b, k), -1, dtype=torch.long)
    for i, p in enumerate(prompts):
        m = len(p.click_idx)
        idx[i, :m] = torch.as_tensor(np.asarray(p.click_idx, dtype=np.int64))
        lab[i, :m] = torch.as_tensor(np.asarray(p.click_label, dtype=np.int64))
    return {
        "click_idx": idx,
        "click_label": lab,
        "scale": torch.tensor([float(p.scale) for p in prompts], dtype=torch.float32),
        "target": torch.from_numpy(np.stack([np.asarray(p.target, dtype=bool) for p in prompts])).float(),
        "level": torch.tensor([int(p.level) for p in prompts], dtype=torch.long),
    }


# --------------------------------------------------------------------------- interactive protocol
def click_point(points: np.ndarray, mask: np.ndarray, mode: str = "center",
                rng: np.random.Generator | None = None) -> int:
    """Index of the click for a part: the part's point nearest its centroid ("center",
    deterministic) or a uniformly random point of the part ("random")."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        raise InputError("click_point: the part is empty")
    if mode == "center":
        p = points[idx]
        return int(idx[np.argmin(((p - p.mean(0)) ** 2).sum(1))])
    if mode == "random":
        rng = rng if rng is not None else np.random.default_rng(0)
        return int(rng.choice(idx))
    raise InputError(f"click mode {mode!r}: use 'center' or 'random'")


def interactive_prompts(points: np.ndarray, labels: np.ndarray, clicks: str = "center", seed: int = 0,
                        min_points: int = 1) -> list[dict]:
    """The single-click prompts of the interactive protocol: one per gt part per level.

    Args:
        points: (N, 3).
        labels: (L, N) int, finest level first, -1 = unlabelled.
        clicks: "center" or "random".
        min_points: parts with fewer points are skipped.

    Returns:
        list of {"level", "part", "click", "scale", "size", "distinct"} (scale = part points / N;
        ``distinct`` is False for a part whose points equal a part already prompted at a finer
        level: such a repeat is scored in the per-level table but not in the distinct-part mean).
    """
    labels = np.atleast_2d(np.asarray(labels))
    n = labels.shape[1]
    if points.shape[0] != n:
        raise InputError(f"interactive protocol: {points.shape[0]} points but labels for {n}")
    rng = np.random.default_rng(seed)
    seen: set[bytes] = set()
    out = []
    for level, lab in enumerate(labels):
        for part in np.unique(lab[lab >= 0]):
            mask = lab == part
            size = int(mask.sum())
            if size < min_points:
                continue
            key = np.packbits(mask).tobytes()
            out.append({"level": level, "part": int(part), "click": click_point(points, mask, clicks, rng),
                        "scale": size / n, "size": size, "distinct": key not in seen})
            seen.add(key)
    return out
