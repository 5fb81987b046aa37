"""Small geometric helpers shared by the model, the data pipeline and the tools."""
from __future__ import annotations

import numpy as np

from .errors import InputError


MAX_COORD = 1e15  # |coordinate| limit: larger values overflow float32 areas and distances


def check_points(points: np.ndarray, name: str = "points") -> np.ndarray:
    """Validate an (N, 3) array of finite coordinates and return it as float32.

    Raises:
        InputError: if the array is not (N, 3), is empty, or holds NaN/inf values.
    """
    arr = np.asarray(points)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(f"{name}: expected an (N, 3) array of XYZ coordinates, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InputError(f"{name}: the point set is empty")
    if not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{name}: coordinates must be numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating) or arr.dtype == np.bool_:
        raise InputError(f"{name}: coordinates must be real numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        arr = arr.astype(np.float32, copy=False)
        finite = np.isfinite(arr)
    if not finite.all():
        bad = int((~finite).any(axis=1).sum())
        raise InputError(f"{name}: {bad} point(s) have NaN or infinite coordinates (or values beyond float32)")
    big = float(np.abs(arr).max())
    if big > MAX_COORD:
        raise InputError(f"{name}: coordinates reach {big:.3g}, beyond the supported range +-{MAX_COORD:g}; "
                         "rescale the shape (e.g. to metres or millimetres)")
    return arr


def normalize_points(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Centre the bounding box at the origin and scale its largest half-extent to 1.

    Args:
        points: (N, 3) coordinates.

    Returns:
        (normalized (N, 3) float32, center (3,), extent) with normalized = (points - center) / extent
        (extent = the largest half-extent; "scale" in this project means only a part's fraction).
    """
    pts = check_points(points)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = (lo + hi) / 2.0
    half = float((hi - lo).max() / 2.0)
    scale = half if half > 1e-12 else 1.0
    return ((pts - center) / scale).astype(np.float32), center.astype(np.float32), scale
