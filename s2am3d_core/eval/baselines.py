"""Baselines for full and interactive segmentation.

Feature clustering (what PartField does with its feature field)
    Our encoder's per-point features (``predictor.features``), L2-normalised, clustered with
    * ``kmeans``: sklearn KMeans (n_init=4, seeded);
    * ``agglo``: sklearn AgglomerativeClustering, Ward linkage, constrained to a symmetric
      k-nearest-neighbour graph of the XYZ points (k=10) — the point-cloud analogue of the mesh
      face adjacency PartField uses. Shapes above ``max_points`` points are clustered on a seeded
      random subset and the other points take the label of their nearest subset point (XYZ).
    The number of clusters is the number of gt parts of the level being scored ("oracle k", as
    PartField reports). Interactive use: the mask of a click is the cluster containing it, with
    the oracle k of the level the clicked part comes from.

Geometric baseline ``geometric`` (no learning, XYZ only)
    1. connected pieces: DBSCAN(eps, min_samples=1) on XYZ, i.e. connected components of the graph
       joining points closer than ``eps`` (default 3 x the mean nearest-neighbour distance);
    2. while there are more than k pieces, the smallest piece is merged into the piece holding the
       point nearest to it;
    3. while there are fewer than k pieces, the largest piece is split in two by k-means (k=2) on XYZ.
    Interactive use: with a scale s, the ``round(s * N)`` points nearest the click (a ball whose
    radius is set by the scale); without a scale, the connected piece (step 1) containing the click.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.spatial import cKDTree

from ..errors import InputError

BASELINES = ("kmeans", "agglo", "geometric")


def _as_numpy(features) -> np.ndarray:
    if hasattr(features, "detach"):
        features = features.detach().float().cpu().numpy()
    return np.asarray(features, dtype=np.float32)


def normalize_features(features) -> np.ndarray:
    """(N, D) features -> L2-normalised float32 numpy array."""
    f = _as_numpy(features)
    if f.ndim != 2 or len(f) == 0:
        raise InputError(f"features: expected a non-empty (N, D) array, got shape {f.shape}")
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-8)


def _check_k(k: int, n: int) -> int:
    if int(k) < 1:
        raise InputError(f"number of clusters must be >= 1, got {k}")
    return int(min(int(k), n))


def kmeans_labels(features, k: int, seed: int = 0) -> np.ndarray:
    """k-means of L2-normalised features (N, D) -> (N,) int64 labels 0..k-1."""
    from sklearn.cluster import KMeans

    f = normalize_features(features)
    k = _check_k(k, len(f))
    if k == 1:
        return np.zeros(len(f), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning when fewer distinct points than k
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(f)
    return km.labels_.astype(np.int64)


def agglomerative_labels(features, k: int, points: np.ndarray | None = None, n_neighbors: int = 10,
                         max_points: int = 6000, seed: int = 0) -> np.ndarray:
    """Ward agglomerative clustering of L2-normalised features (N, D), optionally constrained to a
    kNN graph of ``points`` (N, 3). Returns (N,) int64 labels 0..k-1."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.neighbors import kneighbors_graph

    f = normalize_features(features)
    n = len(f)
    k = _check_k(k, n)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    sub = np.arange(n)
    if n > max_points:
        sub = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    connectivity = None
    if points is not None:
        pts = np.asarray(points, dtype=np.float32)[sub]
        graph = kneighbors_graph(pts, min(n_neighbors, len(sub) - 1), include_self=False)
        connectivity = graph + graph.T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the number of connected components ... is > 1" completes the graph
        lab = AgglomerativeClustering(n_clusters=k, linkage="ward", connectivity=connectivity).fit_predict(f[sub])
    lab = lab.astype(np.int64)
    if len(sub) == n:
        return lab
    ref = np.asarray(points, dtype=np.float32) if points is not None else f
    _, nn = cKDTree(ref[sub]).query(ref)
    return lab[nn]


def default_eps(points: np.ndarray) -> float:
    """3 x the mean distance of a point to its nearest neighbour."""
    pts = np.asarray(points, dtype=np.float32)
    if len(pts) < 2:
        return 1.0
    d, _ = cKDTree(pts).query(pts, k=2)
    return float(3.0 * max(d[:, 1].mean(), 1e-9))


def connected_pieces(points: np.ndarray, eps: float | None = None) -> np.ndarray:
    """DBSCAN(eps, min_samples=1) on XYZ: connected components of the eps-graph. (N,) int64 labels."""
    from sklearn.cluster import DBSCAN

    pts = np.asarray(points, dtype=np.float32)
    eps = default_eps(pts) if eps is None else float(eps)
    return DBSCAN(eps=eps, min_samples=1).fit_predict(pts).astype(np.int64)


def geometric_labels(points: np.ndarray, k: int, eps: float | None = None, seed: int = 0,
                     pieces: np.ndarray | None = None) -> np.ndarray:
    """The geometric baseline (module docstring): connected pieces merged/split to exactly k parts.

    Returns (N,) int64 labels 0..k-1 (fewer only when N < k).
    """
    from sklearn.cluster import KMeans

    pts = np.asarray(points, dtype=np.float32)
    k = _check_k(k, len(pts))
    lab = (connected_pieces(pts, eps) if pieces is None else np.asarray(pieces)).copy()
    _, lab = np.unique(lab, return_inverse=True)
    lab = lab.reshape(-1).astype(np.int64)
    counts = np.bincount(lab).tolist()
    alive = {i for i, c in enumerate(counts) if c > 0}
    while len(alive) > k:
        small = min(alive, key=lambda i: (counts[i], i))
        inside = lab == small
        others = lab[~inside]
        d, nn = cKDTree(pts[~inside]).query(pts[inside])
        target = int(others[nn[int(np.argmin(d))]])
        lab[inside] = target
        counts[target] += counts[small]
        counts[small] = 0
        alive.discard(small)
    next_id = len(counts)
    while len(alive) < k:
        big = max(alive, key=lambda i: (counts[i], -i))
        if counts[big] < 2:
            break
        inside = np.flatnonzero(lab == big)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            halves = KMeans(n_clusters=2, n_init=2, random_state=seed).fit_predict(pts[inside])
        if halves.min() == halves.max():  # identical points: split by index
            halves = (np.arange(len(inside)) >= len(inside) // 2).astype(int)
        lab[inside[halves == 1]] = next_id
        counts.append(int((halves == 1).sum()))
        counts[big] -= counts[-1]
        alive.add(next_id)
        next_id += 1
    _, lab = np.unique(lab, return_inverse=True)
    return lab.reshape(-1).astype(np.int64)


def ball_mask(points: np.ndarray, click: int, scale: float, tree: cKDTree | None = None) -> np.ndarray:
    """The ``max(1, round(scale * N))`` points nearest to point ``click`` as an (N,) bool mask."""
    pts = np.asarray(points, dtype=np.float32)
    n = len(pts)
    m = int(min(n, max(1, round(float(scale) * n))))
    tree = tree if tree is not None else cKDTree(pts)
    _, idx = tree.query(pts[click], k=m)
    mask = np.zeros(n, dtype=bool)
    mask[np.atleast_1d(idx)] = True
    return mask


def piece_budget_mask(atoms, points: np.ndarray, click: int, scale: float) -> np.ndarray:
    """The "pieces by distance" mesh baseline: (N,) bool mask of the clicked connected piece, then
    whole pieces in order of their nearest point's distance from the click, each added while it
    brings the selected area closer to ``scale`` (the first that does not stops it).

    Args:
        atoms: :class:`~s2am3d_core.segment.atoms.Atoms` of the shape (pieces and areas are used).
        points: (N, 3) the sampled points; click: index of the clicked point.
    """
    pts = np.asarray(points, dtype=np.float64)
    piece_pt = atoms.piece[atoms.point_atom]
    piece_area = np.bincount(atoms.piece, weights=atoms.area, minlength=atoms.num_pieces)
    dist = np.full(atoms.num_pieces, np.inf)
    np.minimum.at(dist, piece_pt, np.linalg.norm(pts - pts[click], axis=1))
    first = piece_pt[click]
    chosen = [first]
    current = float(piece_area[first])
    for p in np.argsort(dist, kind="stable"):
        if p == first or current >= scale:
            if current >= scale:
                break
            continue
        new = current + piece_area[p]
        if abs(new - scale) >= abs(current - scale):
            break
        chosen.append(int(p))
        current = new
    return np.isin(piece_pt, chosen)


class BaselineSuite:
    """Baselines for one shape: full segmentations with oracle k and interactive mask functions.

    Clusterings are cached per k, so the interactive protocol and the full-segmentation score of a
    level share one clustering.

    Args:
        points: (N, 3) normalised points.
        features: (N, D) encoder features (torch or numpy); needed for "kmeans" and "agglo".
        names: which baselines (subset of :data:`BASELINES`).
    """

    def __init__(self, points: np.ndarray, features=None, names=BASELINES, seed: int = 0):
        unknown = [n for n in names if n not in BASELINES]
        if unknown:
            raise InputError(f"unknown baseline(s) {unknown}; choose from {list(BASELINES)}")
        if features is None and any(n in ("kmeans", "agglo") for n in names):
            raise InputError("feature baselines need the encoder features")
        self.points = np.asarray(points, dtype=np.float32)
        self.features = None if features is None else normalize_features(features)
        self.names = tuple(names)
        self.seed = seed
        self._cache: dict[tuple[str, int], np.ndarray] = {}
        self._pieces: np.ndarray | None = None
        self._tree: cKDTree | None = None

    @property
    def pieces(self) -> np.ndarray:
        if self._pieces is None:
            self._pieces = connected_pieces(self.points)
        return self._pieces

    def full(self, name: str, k: int) -> np.ndarray:
        """(N,) labels of baseline ``name`` with k clusters."""
        key = (name, int(k))
        if key not in self._cache:
            if name == "kmeans":
                lab = kmeans_labels(self.features, k, self.seed)
            elif name == "agglo":
                lab = agglomerative_labels(self.features, k, self.points, seed=self.seed)
            elif name == "geometric":
                lab = geometric_labels(self.points, k, seed=self.seed, pieces=self.pieces)
            else:
                raise InputError(f"unknown baseline {name!r}; choose from {list(BASELINES)}")
            self._cache[key] = lab
        return self._cache[key]

    def interactive_fns(self, gt_labels: np.ndarray) -> dict:
        """Mask functions for :func:`metrics.interactive_protocol`.

        Feature baselines: the oracle-k cluster containing the click (k = gt parts of the prompt's
        level). Geometric: "geometric_scale" (kNN ball of the true part size) and
        "geometric_noscale" (connected piece of the click).
        """
        gt = np.atleast_2d(np.asarray(gt_labels))
        ks = [max(1, len(np.unique(row[row >= 0]))) for row in gt]
        fns = {}

        def cluster_fn(name):
            def fn(idx, scales, levels):
                out = np.zeros((len(idx), len(self.points)), dtype=bool)
                for j, (i, lv) in enumerate(zip(idx, levels)):
                    lab = self.full(name, ks[int(lv)])
                    out[j] = lab == lab[int(i)]
                return out
            return fn

        for name in self.names:
            if name in ("kmeans", "agglo"):
                fns[name] = cluster_fn(name)
        if "geometric" in self.names:
            if self._tree is None:
                self._tree = cKDTree(self.points)

            def ball_fn(idx, scales, levels):
                return np.stack([ball_mask(self.points, int(i), float(s), self._tree) for i, s in zip(idx, scales)])

            def piece_fn(idx, scales, levels):
                p = self.pieces
                return np.stack([p == p[int(i)] for i in idx])

            fns["geometric_scale"] = ball_fn
            fns["geometric_noscale"] = piece_fn
        return fns
