"""Network inputs of one part: its points in its own bounding box, and context features.

* the part's points, normalised to the part's own bounding box (centred, largest half-extent 1),
  resampled to a fixed :data:`N_PART_POINTS` = 256 points;
* context features (:data:`CONTEXT_DIM` = 5): the part's fraction of the object's points (= area
  fraction for area-sampled points), its square root, and the part's bounding-box extents relative to
  the object's largest extent (sorted, so the order of the axes does not matter).
"""
from __future__ import annotations

import numpy as np

from ...geometry import normalize_points

N_PART_POINTS = 256
CONTEXT_DIM = 5


def part_features(
    part_points: np.ndarray, num_object_points: int, object_extent: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs of one part.

    Args:
        part_points: (M, 3) the part's points (object coordinates), M >= 1.
        num_object_points: N, the object's point count.
        object_extent: the largest bbox extent of the object (> 0).
        rng: picks the N_PART_POINTS points.

    Returns:
        (points (N_PART_POINTS, 3) float32 normalised to the part's bbox, context (CONTEXT_DIM,) float32).
    """
    pts = np.asarray(part_points, dtype=np.float32)
    m = len(pts)
    if m >= N_PART_POINTS:
        idx = rng.choice(m, size=N_PART_POINTS, replace=False)
    else:
        idx = np.concatenate([np.arange(m), rng.choice(m, size=N_PART_POINTS - m, replace=True)])
    sel = pts[idx]
    ext = np.sort(sel.max(0) - sel.min(0))[::-1] / max(object_extent, 1e-9)
    norm, _, _ = normalize_points(sel)
    frac = m / max(num_object_points, 1)
    ctx = np.array([frac, np.sqrt(frac), *ext], dtype=np.float32)
    return norm, ctx
