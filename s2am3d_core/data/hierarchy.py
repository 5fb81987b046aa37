"""Helpers for nested part hierarchies (label stacks ``(L, N)``, finest level first).

Shared by the scene-graph loaders (:mod:`.gltf`, :mod:`.urdf`), the user-file loader, the
dataset pipeline and the prompt sampler. Conventions (see ``docs/ARCHITECTURE.md``): ids are
non-negative ints, ``-1`` = unlabelled, levels are nested (every labelled part of level ``l`` lies
inside one part of level ``l + 1``), and the trivial whole-object level is not stored.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

DEFAULT_MAX_LEVELS = 5


def compact(labels: np.ndarray) -> np.ndarray:
    """Relabel each level to consecutive ids ``0..K-1`` in order of first appearance; ``-1`` stays ``-1``.

    Args:
        labels: (N,) or (L, N) integer labels (any negative value counts as unlabelled).

    Returns:
        int64 array of the same shape.
    """
    lab = np.asarray(labels, dtype=np.int64)
    if lab.ndim == 1:
        return _compact1(lab)
    return np.stack([_compact1(row) for row in lab]) if len(lab) else lab.reshape(0, lab.shape[-1])


def _compact1(row: np.ndarray) -> np.ndarray:
    out = np.full(row.shape, -1, dtype=np.int64)
    ok = row >= 0
    if ok.any():
        uniq, first, inv = np.unique(row[ok], return_index=True, return_inverse=True)
        order = np.argsort(first)  # ids by first appearance
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[order] = np.arange(len(uniq))
        out[ok] = rank[inv.reshape(-1)]
    return out


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when label maps ``a`` and ``b`` (N,) group the elements identically (ids may differ)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.shape != b.shape:
        return False
    if not np.array_equal(a < 0, b < 0):
        return False
    ok = a >= 0
    if not ok.any():
        return True
    pairs = np.unique(np.stack([a[ok], b[ok]]), axis=1).shape[1]
    return pairs == len(np.unique(a[ok])) == len(np.unique(b[ok]))


def is_trivial(level: np.ndarray) -> bool:
    """True for a level that carries no part information: every element in one part (no ``-1``), or nothing labelled."""
    level = np.asarray(level)
    ok = level >= 0
    if not ok.any():
        return True
    return bool(ok.all() and len(np.unique(level)) < 2)


def is_nested(labels: np.ndarray) -> bool:
    """True when every labelled part of each level lies inside a single labelled part of the next level.

    Elements unlabelled at the finer level are ignored; a labelled fine part may not contain elements
    that are unlabelled at the coarser level.
    """
    lab = np.asarray(labels, dtype=np.int64)
    for fine, coarse in zip(lab[:-1], lab[1:]):
        ok = fine >= 0
        if not ok.any():
            continue
        if (coarse[ok] < 0).any():
            return False
        pairs = np.unique(np.stack([fine[ok], coarse[ok]]), axis=1)
        if pairs.shape[1] != len(np.unique(fine[ok])):
            return False
    return True


def clean_levels(labels: np.ndarray, names: list[dict[int, str]] | None = None):
    """Compact ids, drop trivial levels and levels identical to the previous (finer) kept level.

    Args:
        labels: (L, N) label stack, finest first.
        names: optional per-level ``{id: name}`` dicts (re-keyed to the compacted ids).

    Returns:
        ``labels'`` (L', N) int64, or ``(labels', names')`` when ``names`` is given.
    """
    lab = np.asarray(labels, dtype=np.int64)
    kept: list[np.ndarray] = []
    kept_names: list[dict[int, str]] = []
    for i, row in enumerate(lab):
        if is_trivial(row) or (kept and same_partition(row, kept[-1])):
            continue
        new = _compact1(row)
        kept.append(new)
        if names is not None:
            old = names[i] if i < len(names) else {}
            mapping = {}
            ok = row >= 0
            for o, n in zip(row[ok], new[ok]):
                mapping.setdefault(int(n), int(o))
            kept_names.append({n: old[o] for n, o in mapping.items() if o in old})
    out = np.stack(kept) if kept else np.zeros((0, lab.shape[-1]), dtype=np.int64)
    return (out, kept_names) if names is not None else out


def select_levels(num_parts: Sequence[int], max_levels: int) -> list[int]:
    """Indices of at most ``max_levels`` levels to keep out of a finest-first stack.

    Always keeps the finest and the coarsest level; the others are picked so that their part
    counts are spread evenly on a log scale between the two (deep, near-duplicate levels of long
    transform chains are the ones merged away).
    """
    n = len(num_parts)
    if max_levels < 1:
        raise ValueError("max_levels must be >= 1")
    if n <= max_levels:
        return list(range(n))
    if max_levels == 1:
        return [0]
    logc = np.log(np.maximum(np.asarray(num_parts, dtype=np.float64), 1.0))
    chosen = {0, n - 1}
    for j in range(1, max_levels - 1):
        t = logc[0] + j / (max_levels - 1) * (logc[-1] - logc[0])
        cands = [i for i in range(1, n - 1) if i not in chosen]
        chosen.add(min(cands, key=lambda i: (abs(logc[i] - t), i)))
    return sorted(chosen)


def levels_from_paths(
    paths: Sequence[Sequence[str]], max_levels: int | None = DEFAULT_MAX_LEVELS
) -> tuple[np.ndarray, list[dict[int, str]]]:
    """Nested part levels of items placed in a tree, from each item's path of node names.

    ``paths[i]`` lists the tree nodes from a root down to item ``i`` itself (so paths are unique).
    Level 0 has one part per item; the level cut at depth ``c`` groups items by their ancestor at
    depth ``min(c, len(path))`` (items shallower than ``c`` stay on their own), for ``c`` decreasing
    to 1. Such levels are nested by construction. Levels identical to the previous one and trivial
    (single-part) levels are dropped; if more than ``max_levels`` remain, :func:`select_levels` picks
    which to keep.

    Returns:
        (labels (L, n_items) int64 finest first, names: per level ``{id: "node/path"}``). ``L`` may be
        0 when the tree gives no grouping at all (e.g. a single item).
    """
    if not paths:
        return np.zeros((0, 0), dtype=np.int64), []
    tuples = [tuple(str(x) for x in p) for p in paths]
    if len(set(tuples)) != len(tuples):
        raise ValueError("item paths must be unique")
    depth = max(len(p) for p in tuples)
    levels: list[np.ndarray] = []
    names: list[dict[int, str]] = []
    for cut in range(depth, 0, -1):
        keys = [p[: min(cut, len(p))] for p in tuples]
        ids: dict[tuple[str, ...], int] = {}
        for key in keys:
            ids.setdefault(key, len(ids))
        lab = np.array([ids[k] for k in keys], dtype=np.int64)
        if len(ids) < 2 or (levels and same_partition(lab, levels[-1])):
            continue
        levels.append(lab)
        names.append({i: "/".join(k) for k, i in ids.items()})
    if max_levels is not None and len(levels) > max_levels:
        keep = select_levels([len(n) for n in names], max_levels)
        levels = [levels[i] for i in keep]
        names = [names[i] for i in keep]
    if not levels:
        return np.zeros((0, len(tuples)), dtype=np.int64), []
    return np.stack(levels), names


def parent_map(fine: np.ndarray, coarse: np.ndarray | None) -> dict[int, int]:
    """``{fine part id: coarse part id}`` (coarse ``None`` = whole object, every part maps to 0).

    For a nested pair each fine part has one parent; otherwise the majority coarse label wins.
    """
    fine = np.asarray(fine)
    out: dict[int, int] = {}
    for p in np.unique(fine[fine >= 0]):
        if coarse is None:
            out[int(p)] = 0
            continue
        c = np.asarray(coarse)[fine == p]
        c = c[c >= 0]
        out[int(p)] = int(np.bincount(c).argmax()) if len(c) else -1
    return out
