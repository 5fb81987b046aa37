"""Make clean sampled objects look like real inputs: any orientation, scan noise, uneven density.

Real assemblies come Y-up (glTF), Z-up (CAD, URDF) or in any pose; scanned or exported point
clouds are noisy and unevenly dense (one side seen better, fine detail denser). The model must not
rely on the up axis or on a uniform density, so training objects get these effects at random.

* :func:`random_rotation` - z-up with a random yaw, Y-up with a random yaw, or a uniformly random rotation.
* :func:`uneven_subsample` - keep ``n`` of the points with probability rising along a random direction
  and, at random, favouring some parts over others (different sampling density per part).
* :func:`scan_noise` - Gaussian jitter of a random strength.
* :func:`realistic_points` - all three on a labelled point set (oversampled by the caller).
"""
from __future__ import annotations

import numpy as np

from ..geometry import normalize_points
from .types import PartPoints


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """3x3 rotation: 1/3 z-up with a yaw, 1/3 Y-up (z -> y) with a yaw about y, 1/3 uniformly random."""
    kind = rng.integers(3)
    t = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(t), np.sin(t)
    yaw = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    if kind == 0:
        return yaw
    if kind == 1:
        z_to_y = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float)  # (x, y, z) -> (x, z, -y)
        return z_to_y @ yaw
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def uneven_subsample(points: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` points (without replacement when possible) drawn with uneven density.

    The weight of a point is ``exp(a * <p, d>)`` for a random direction ``d`` and strength
    ``a`` in [0, 3] (one side denser, as in a scan), times, with probability 1/2, a random factor
    in [0.3, 1] per finest part (parts sampled at different densities).
    """
    m = len(points)
    d = rng.normal(size=3)
    d /= np.linalg.norm(d)
    w = np.exp(rng.uniform(0.0, 3.0) * (points @ d))
    if len(labels) and rng.random() < 0.5:
        ids, inv = np.unique(labels[0], return_inverse=True)
        w = w * rng.uniform(0.3, 1.0, size=len(ids))[inv.reshape(-1)]
    p = w / w.sum()
    if (p > 0).sum() >= n:
        return rng.choice(m, size=n, replace=False, p=p)
    return rng.choice(m, size=n, replace=True, p=p)


def scan_noise(points: np.ndarray, rng: np.random.Generator, max_sigma: float = 0.008) -> np.ndarray:
    """Gaussian jitter with sigma uniform in [0, max_sigma] (normalised object units, radius 1)."""
    sigma = rng.uniform(0.0, max_sigma)
    return (points + rng.normal(0.0, sigma, points.shape)).astype(np.float32)


def realistic_points(item: PartPoints, n: int, rng: np.random.Generator) -> PartPoints:
    """Rotate, subsample unevenly to ``n`` points, add scan noise and renormalise a labelled point set.

    ``item`` should hold more than ``n`` points (about 2n) so the uneven subsample has room.
    """
    pts = np.asarray(item.points, np.float64) @ random_rotation(rng).T
    lab = np.asarray(item.labels)
    idx = uneven_subsample(pts, lab, n, rng)
    out = scan_noise(pts[idx], rng)
    norm, _, _ = normalize_points(out.astype(np.float32))
    return PartPoints(points=norm, labels=lab[:, idx], name=item.name, category=item.category)
