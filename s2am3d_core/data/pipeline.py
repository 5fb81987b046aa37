"""The dataset-building pipeline (the paper's: area sampling -> validator filter -> DBSCAN split).

For every source object (a :class:`PartMesh`, or a :class:`PartPoints` from a labelled point cloud):

1. **Sampling**: ``points_per_object`` points by surface area (:func:`.sampling.mesh_to_points`),
   normalised; point clouds are resampled to the same count. Levels that became identical or
   trivial (tiny parts that received no point) are removed.
2. **Validator filter** (optional, :class:`.validator.PartValidator`): every part with at least
   ``min_part_points`` points at every level is scored; parts scoring below the threshold are
   removed from their level. Policy ``"merge"`` (default): a bad part is merged into its nearest
   sibling, i.e. the nearest part of the same level that shares its parent at the next level (for
   the coarsest level, any other part). The level stays a full partition and nesting holds by
   construction (the union lies inside the common parent); a bad part without siblings is kept
   (it equals its parent, which is judged at the next level). Merging the bad region into a
   neighbour, rather than unlabelling it, keeps every point supervised; collapsing the whole parent
   would also throw away the good siblings. Policy ``"unlabel"``: the bad part's points become
   ``-1`` at its level and at all finer levels (so nesting stays valid), i.e. they are ignored by
   the losses at those levels.
3. **DBSCAN split** (:func:`.dbscan.split_disconnected`) of level 0: parts made of disconnected
   pieces are split; when anything splits, the split labelling is added as a new finest level (the
   old level 0 stays as level 1), so nesting stays valid. An object with no levels at all gets its
   connected pieces as its only level when it has several.
4. Objects that end with no level are skipped; the others go to the ``train`` or ``eval`` shards by
   :func:`.splits.split_of` of their name.

A progress bar shows the objects; :func:`build_dataset` returns a summary (objects, parts per level,
dropped parts, splits) that is also written to ``summary.json``.
"""
from __future__ import annotations

import json
import os
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np
from scipy.spatial import cKDTree
from tqdm import tqdm

from ..errors import InputError
from ..io.atomic import atomic_path
from .dbscan import split_disconnected
from .hierarchy import clean_levels, is_nested, parent_map, same_partition
from .sampling import to_points
from .shards import ShardWriter, split_of
from .types import PartMesh, PartPoints
from .validator import PartValidator

DROP_POLICIES = ("merge", "unlabel")


def apply_validator(
    points: np.ndarray,
    labels: np.ndarray,
    validator: PartValidator,
    threshold: float | None = None,
    policy: str = "merge",
    min_part_points: int = 8,
    seed: int = 0,
) -> tuple[np.ndarray, list[int]]:
    """Remove the parts the validator rejects (see the module docstring for the policies).

    Args:
        points: (N, 3) the object's points.
        labels: (L, N) label stack, finest first.
        validator: the trained validator.
        threshold: reject below this score (None = ``validator.threshold``).
        policy: "merge" or "unlabel".
        min_part_points: parts with fewer points are not scored (always kept).

    Returns:
        (labels (L, N) int64 with the same levels (not yet cleaned), dropped part count per level).
    """
    if policy not in DROP_POLICIES:
        raise ValueError(f"unknown drop policy {policy!r}; valid: {', '.join(DROP_POLICIES)}")
    thr = validator.threshold if threshold is None else float(threshold)
    pts = np.asarray(points, dtype=np.float32)
    lab = np.array(labels, dtype=np.int64, copy=True)
    L = len(lab)
    masks, keys = [], []
    for lvl in range(L):
        ids, counts = np.unique(lab[lvl][lab[lvl] >= 0], return_counts=True)
        for p, c in zip(ids, counts):
            if c >= min_part_points:
                masks.append(lab[lvl] == p)
                keys.append((lvl, int(p)))
    dropped = [0] * L
    if not masks:
        return lab, dropped
    scores = validator.score_masks(pts, masks, seed=seed)
    bad: dict[int, list[int]] = {}
    for (lvl, p), s in zip(keys, scores):
        if s < thr:
            bad.setdefault(lvl, []).append(p)
    original = lab.copy()
    for lvl in sorted(bad):
        row = lab[lvl]
        if policy == "unlabel":
            for p in bad[lvl]:
                sel = original[lvl] == p
                lab[: lvl + 1, sel] = -1
                dropped[lvl] += 1
            continue
        parents = parent_map(original[lvl], original[lvl + 1] if lvl + 1 < L else None)
        sizes = {p: int((row == p).sum()) for p in bad[lvl]}
        for p in sorted(bad[lvl], key=lambda q: (sizes[q], q)):
            sel = row == p
            if not sel.any():
                continue
            siblings = [int(q) for q in np.unique(row[row >= 0]) if q != p and parents.get(int(q)) == parents[p]]
            if not siblings:
                continue
            tree = cKDTree(pts[sel])
            dist = [float(tree.query(pts[row == q], k=1)[0].min()) for q in siblings]
            row[sel] = siblings[int(np.argmin(dist))]
            dropped[lvl] += 1
        lab[lvl] = row
    return lab, dropped


def process_object(
    item: PartMesh | PartPoints,
    points_per_object: int = 4096,
    seed: int = 0,
    validator: PartValidator | None = None,
    threshold: float | None = None,
    drop_policy: str = "merge",
    split: bool = True,
    min_part_points: int = 8,
) -> tuple[PartPoints | None, dict]:
    """Run steps 1-3 of the pipeline on one object.

    Returns:
        (PartPoints with nested labels (L, points_per_object), or None when the object ends with no
        level; stats ``{"dropped": [per level], "split_parts": int, "added_level": bool}``).
    """
    pp = to_points(item, points_per_object, seed=seed)
    labels = clean_levels(pp.labels)
    stats = {"dropped": [0] * len(labels), "split_parts": 0, "added_level": False}
    if validator is not None and len(labels):
        labels, stats["dropped"] = apply_validator(pp.points, labels, validator, threshold, drop_policy,
                                                   min_part_points=min_part_points, seed=seed)
        labels = clean_levels(labels)
    if split:
        base = labels[0] if len(labels) else np.zeros(len(pp.points), dtype=np.int64)
        fine = split_disconnected(pp.points, base)
        n_before = len(np.unique(base[base >= 0]))
        n_after = len(np.unique(fine[fine >= 0]))
        if n_after > n_before and not same_partition(fine, base):
            stats["split_parts"] = n_after - n_before
            stats["added_level"] = True
            labels = clean_levels(np.concatenate([fine[None], labels]) if len(labels) else fine[None])
    if not len(labels):
        return None, stats
    assert is_nested(labels), "pipeline produced a non-nested hierarchy"
    return PartPoints(points=pp.points, labels=labels, name=pp.name, category=pp.category), stats


def build_dataset(
    sources: Iterable[PartMesh | PartPoints],
    out_dir: str | os.PathLike,
    points_per_object: int = 4096,
    validator: PartValidator | str | os.PathLike | None = None,
    eval_fraction: float = 0.1,
    seed: int = 0,
    threshold: float | None = None,
    drop_policy: str = "merge",
    split: bool = True,
    shard_size: int = 256,
    min_part_points: int = 8,
    progress: bool = True,
    total: int | None = None,
) -> dict:
    """Build a shard dataset from labelled objects.

    Args:
        sources: PartMesh / PartPoints objects (any iterable; consumed lazily). Unnamed objects are
            named ``object_{i:06d}``.
        out_dir: dataset folder (``index_{split}.json``, shards, ``summary.json``).
        points_per_object: points sampled per object.
        validator: a :class:`PartValidator`, a path to one, or None (no filtering).
        eval_fraction: fraction of object names assigned to the eval split.
        seed: object ``i`` is sampled with seed ``seed + i``.
        threshold: validator threshold (None = the validator's own).
        drop_policy: "merge" (default) or "unlabel" (see the module docstring).
        split: run the DBSCAN split of level 0.
        shard_size: objects per shard file.
        min_part_points: parts smaller than this are never scored by the validator.
        progress: show a progress bar.
        total: number of sources, for the progress bar.

    Returns:
        Summary dict (also written to ``out_dir/summary.json``): ``objects_in``, ``objects_written``
        {split: n}, ``skipped`` {reason: n}, ``errors`` (first 20 {name, error}), ``levels`` {L: n
        objects}, ``parts_per_level`` (total parts per level index), ``dropped_parts_per_level`` (indexed
        by the levels of the sampled hierarchy, before a DBSCAN level is prepended),
        ``split_parts``, ``objects_with_added_level``, settings and ``seconds``.
    """
    t0 = time.time()
    if drop_policy not in DROP_POLICIES:
        raise InputError(f"unknown drop policy {drop_policy!r}; valid: {', '.join(DROP_POLICIES)}")
    if int(points_per_object) < 16:
        raise InputError(f"points_per_object must be >= 16, got {points_per_object}")
    if not 0.0 <= eval_fraction <= 1.0:
        raise InputError(f"eval_fraction must be in [0, 1], got {eval_fraction}")
    validator_path = None
    if validator is not None and not isinstance(validator, PartValidator):
        validator_path = str(validator)
        validator = PartValidator.load(validator)
    out = Path(out_dir)
    writers = {s: ShardWriter(out, s, shard_size=shard_size) for s in ("train", "eval")}
    parts_per_level: list[int] = []
    dropped_per_level: list[int] = []
    levels = Counter()
    categories = Counter()
    skipped = Counter()
    errors: list[dict] = []
    names = Counter()
    n_in = split_parts = added = 0
    bar = tqdm(sources, total=total, desc="building dataset", unit="obj", disable=not progress)
    for i, item in enumerate(bar):
        n_in += 1
        if not isinstance(item, (PartMesh, PartPoints)):
            raise InputError(f"source {i}: expected PartMesh or PartPoints, got {type(item).__name__}")
        name = item.name or f"object_{i:06d}"
        try:
            pp, stats = process_object(item, points_per_object, seed=seed + i, validator=validator,
                                       threshold=threshold, drop_policy=drop_policy, split=split,
                                       min_part_points=min_part_points)
        except InputError as e:
            skipped["error"] += 1
            if len(errors) < 20:
                errors.append({"name": name, "error": str(e)})
            warnings.warn(f"skipping {name}: {e}", stacklevel=2)
            continue
        for lvl, d in enumerate(stats["dropped"]):
            _add_at(dropped_per_level, lvl, d)
        split_parts += stats["split_parts"]
        added += int(stats["added_level"])
        if pp is None:
            skipped["no_parts"] += 1
            continue
        pp.name = name
        names[pp.name] += 1
        for lvl, row in enumerate(pp.labels):
            _add_at(parts_per_level, lvl, len(np.unique(row[row >= 0])))
        levels[len(pp.labels)] += 1
        categories[pp.category or "(none)"] += 1
        writers[split_of(pp.name, eval_fraction)].add(pp)
        bar.set_postfix(train=writers["train"].count, eval=writers["eval"].count)
    bar.close()
    written = {s: w.count for s, w in writers.items()}
    for w in writers.values():
        w.close()
    summary = {
        "out_dir": str(out),
        "objects_in": n_in,
        "objects_written": written,
        "skipped": dict(skipped),
        "errors": errors,
        "duplicate_names": sorted(n for n, c in names.items() if c > 1)[:20],
        "levels": {str(k): v for k, v in sorted(levels.items())},
        "categories": dict(sorted(categories.items())),
        "parts_per_level": parts_per_level,
        "dropped_parts_per_level": dropped_per_level,
        "split_parts": split_parts,
        "objects_with_added_level": added,
        "points_per_object": int(points_per_object),
        "validator": validator_path or ("in-memory" if validator is not None else None),
        "threshold": (threshold if threshold is not None else (validator.threshold if validator else None)),
        "drop_policy": drop_policy,
        "eval_fraction": eval_fraction,
        "seed": seed,
        "seconds": round(time.time() - t0, 2),
    }
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def format_summary(summary: dict) -> str:
    """Human-readable multi-line summary of :func:`build_dataset`'s result."""
    w = summary["objects_written"]
    lines = [
        f"objects: {summary['objects_in']} in, {w.get('train', 0)} train, {w.get('eval', 0)} eval"
        + (f", skipped {summary['skipped']}" if summary["skipped"] else ""),
        "levels per object: " + ", ".join(f"L={k}: {v}" for k, v in summary["levels"].items()),
        "parts per level: " + ", ".join(f"level {i}: {n}" for i, n in enumerate(summary["parts_per_level"])),
        "dropped by validator: " + (", ".join(f"level {i}: {n}" for i, n in enumerate(summary["dropped_parts_per_level"]))
                                    if summary["validator"] else "(no validator)"),
        f"DBSCAN: {summary['split_parts']} extra parts, {summary['objects_with_added_level']} objects got a finer level",
        f"time: {summary['seconds']} s -> {summary['out_dir']}",
    ]
    for e in summary.get("errors", []):
        lines.append(f"  skipped {e['name']}: {e['error']}")
    return "\n".join(lines)


def _add_at(lst: list[int], i: int, v: int) -> None:
    while len(lst) <= i:
        lst.append(0)
    lst[i] += int(v)
