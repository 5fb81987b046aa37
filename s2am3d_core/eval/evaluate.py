"""Evaluate one labelled object and aggregate objects into dataset scores.

An object is a labelled mesh (:class:`~s2am3d_core.data.types.PartMesh`: procedural objects, GLB
assemblies) or a labelled point cloud (``PartPoints``: shards). Points are sampled on it (meshes:
with the face of each point); prediction sees only the geometry, the labels only score it.

Per object, both modes of :class:`~s2am3d_core.segment.ShapeSegmenter` are scored:

* interactive (single click per gt part per level, click = part point nearest the part centroid):
  points-only ``ours_scale`` (true part fraction as scale), ``ours_noscale``, ``ours_topk`` (the k
  most probable points, k = the true part size: how well the decoder ranks points); mesh-aware
  ``mesh_scale`` and ``mesh_noscale`` (masks on atoms); baselines: ``kmeans``/``agglo`` (oracle-k
  cluster of the click), ``geometric_scale`` (kNN ball of the true size), ``geometric_noscale``
  (DBSCAN piece of the click), and the mesh baselines ``piece_noscale`` (the clicked connected
  piece) and ``piece_dist_scale`` (the clicked piece, then whole pieces by distance from the click
  while they bring the size closer to the true scale). Each prompt is flagged ``distinct`` unless
  the same part was already prompted at a finer level; the headline is the distinct-part mean.
* full segmentation, Hungarian mIoU against each gt level: ``ours``/``mesh`` = segment everything at
  the median part fraction of that level ("gt-level granularity"), ``ours_noscale``/``mesh_noscale``
  = without a scale (one segmentation scored against every level), and each baseline with oracle
  k = number of gt parts of the level.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..data.types import PartMesh
from ..io.sample import sample_surface, subset_indices
from ..segment import ShapeSegmenter
from ..segment.autoseg import decode_many, segment_all
from .baselines import BASELINES, BaselineSuite, piece_budget_mask
from .metrics import interactive_protocol, miou_hungarian, summarize_ious

INTERACTIVE_METHODS = ("ours_scale", "ours_noscale", "ours_topk", "mesh_scale", "mesh_noscale", "kmeans", "agglo",
                       "geometric_scale", "geometric_noscale", "piece_noscale", "piece_dist_scale")
FULLSEG_METHODS = ("ours", "ours_noscale", "mesh", "mesh_noscale", "kmeans", "agglo", "geometric")


@dataclass
class EvalShape:
    """Sampled points of one labelled object.

    Attributes:
        points: (N, 3) float32; labels: (L, N) int64 (finest first, -1 = unlabelled);
        vertices, faces, face_index: the mesh and the face of each point, or None for a point cloud.
    """

    points: np.ndarray
    labels: np.ndarray
    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None
    face_index: np.ndarray | None = None
    name: str = ""
    category: str = ""


def prepare(item, n: int, seed: int = 0) -> EvalShape:
    """Sample ``n`` points on a PartMesh (area-weighted, with faces) or subsample a PartPoints."""
    if isinstance(item, PartMesh):
        pts, fi = sample_surface(item.vertices, item.faces, int(n), seed=seed)
        lab = np.atleast_2d(np.asarray(item.face_labels, dtype=np.int64))[:, fi]
        return EvalShape(pts, lab, np.asarray(item.vertices, dtype=np.float32), np.asarray(item.faces), fi,
                         item.name, item.category)
    pts, lab = subsample(item, n, seed)
    return EvalShape(pts, lab, name=item.name, category=str(getattr(item, "category", "")))


def subsample(item, n: int, seed: int = 0):
    """(points (M, 3), labels (L, M)) of a PartPoints, randomly subsampled to n points if it has more."""
    pts = np.asarray(item.points, dtype=np.float32)
    lab = np.atleast_2d(np.asarray(item.labels, dtype=np.int64))
    idx = subset_indices(len(pts), int(n), np.random.default_rng(seed))
    return pts[idx], lab[:, idx]


def _topk(probs: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros(len(probs), dtype=bool)
    m[np.argsort(-probs, kind="stable")[:max(1, int(k))]] = True
    return m


def evaluate_object(predictor, shape: EvalShape, baselines=BASELINES, threshold: float = 0.5,
                    clicks: str = "center", seed: int = 0, num_prompts: int = 64, min_part_points: int = 1) -> dict:
    """Scores of one object (module docstring).

    Returns a dict (JSON-serialisable except the private ``_ious``/``_distinct`` entries used by
    :func:`aggregate`).
    """
    t0 = time.perf_counter()
    labels = np.atleast_2d(np.asarray(shape.labels, dtype=np.int64))
    seg = ShapeSegmenter(predictor, mesh_aware=True)
    seg.set_shape(shape.vertices if shape.faces is not None else shape.points, shape.faces,
                  points=shape.points, face_index=shape.face_index)
    pts = predictor.points
    n = len(pts)
    atoms = seg.atoms
    feats = predictor.features if any(b in ("kmeans", "agglo") for b in baselines) else None
    suite = BaselineSuite(pts, feats, names=tuple(baselines), seed=seed)

    cache: dict[tuple, np.ndarray] = {}

    def probs(idx, scales):
        key = (tuple(int(i) for i in idx), None if scales is None else tuple(float(s) for s in scales))
        if key not in cache:
            cache.clear()
            cache[key] = decode_many(predictor, [int(i) for i in idx], None if scales is None else list(key[1]))
        return cache[key]

    def mesh_masks(idx, scales, use_scale):
        p = probs(idx, scales if use_scale else None)
        return np.stack([seg.mask_from_probs(p[j], [int(i)], [], float(scales[j]) if use_scale else None,
                                             threshold).points for j, i in enumerate(idx)])

    piece_of_point = atoms.piece[atoms.point_atom]
    methods = {
        "ours_scale": lambda idx, sc, lv: probs(idx, sc) > threshold,
        "ours_noscale": lambda idx, sc, lv: probs(idx, None) > threshold,
        "ours_topk": lambda idx, sc, lv: np.stack([_topk(p, round(s * n)) for p, s in zip(probs(idx, sc), sc)]),
        "mesh_scale": lambda idx, sc, lv: mesh_masks(idx, sc, True),
        "mesh_noscale": lambda idx, sc, lv: mesh_masks(idx, sc, False),
    }
    methods.update(suite.interactive_fns(labels))
    methods["piece_noscale"] = lambda idx, sc, lv: np.stack([piece_of_point == piece_of_point[i] for i in idx])
    methods["piece_dist_scale"] = lambda idx, sc, lv: np.stack(
        [piece_budget_mask(atoms, pts, int(i), float(s)) for i, s in zip(idx, sc)])
    inter = interactive_protocol(pts, labels, methods, clicks=clicks, seed=seed, min_points=min_part_points)

    full: dict[str, list] = {m: [] for m in ("ours", "ours_noscale", "mesh", "mesh_noscale", *baselines)}
    scales, parts = [], {"ours": [], "mesh": []}
    gt_parts = []
    noscale = segment_all(predictor, None, num_prompts=num_prompts, threshold=threshold, seed=seed)
    mesh_noscale = seg.segment_all(None, threshold=threshold).points
    for level, gt in enumerate(labels):
        ids, counts = np.unique(gt[gt >= 0], return_counts=True)
        gt_parts.append(int(len(ids)))
        if len(ids) == 0:
            scales.append(None)
            for m in parts:
                parts[m].append(None)
            for m in full:
                full[m].append(None)
            continue
        s = float(np.median(counts / n))
        ours = segment_all(predictor, s, num_prompts=num_prompts, threshold=threshold, seed=seed)
        mesh = seg.segment_all(s, threshold=threshold, num_prompts=num_prompts).points
        scales.append(s)
        parts["ours"].append(int(ours.max() + 1))
        parts["mesh"].append(int(mesh.max() + 1))
        full["ours"].append(miou_hungarian(ours, gt))
        full["ours_noscale"].append(miou_hungarian(noscale, gt))
        full["mesh"].append(miou_hungarian(mesh, gt))
        full["mesh_noscale"].append(miou_hungarian(mesh_noscale, gt))
        for b in baselines:
            full[b].append(miou_hungarian(suite.full(b, len(ids)), gt))
    return {
        "name": shape.name, "category": shape.category, "num_points": int(n), "num_levels": int(labels.shape[0]),
        "mesh": shape.faces is not None, "num_atoms": atoms.num_atoms, "num_pieces": atoms.num_pieces,
        "gt_parts_per_level": gt_parts, "scale_per_level": scales,
        "ours_parts_per_level": parts["ours"], "mesh_parts_per_level": parts["mesh"],
        "ours_noscale_parts": int(noscale.max() + 1), "mesh_noscale_parts": int(mesh_noscale.max() + 1),
        "interactive": {m: {k: v for k, v in r.items() if k not in ("ious", "distinct_mask")}
                        for m, r in inter.items()},
        "full_seg": {m: {"per_level": v, "mean": _mean(v)} for m, v in full.items()},
        "time_s": round(time.perf_counter() - t0, 3),
        "_ious": {m: r["ious"] for m, r in inter.items()},
        "_distinct": next(iter(inter.values()))["distinct_mask"],
        "_prompt_levels": _prompt_levels(inter),
    }


def _prompt_levels(inter: dict) -> list[int]:
    first = next(iter(inter.values()))
    out = []
    for row in first["per_level"]:
        out += [row["level"]] * row["num_parts"]
    return out


def _mean(values) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def aggregate(objects: list[dict]) -> dict:
    """Dataset scores from per-object results.

    interactive: IoU pooled over all prompted parts of all objects (overall, distinct parts only,
    per level);
    full_seg: mIoU averaged over objects, per level, and over all (object, level) pairs ("overall").
    """
    if not objects:
        return {"num_objects": 0, "interactive": {}, "full_seg": {}}
    num_levels = max(o["num_levels"] for o in objects)
    inter = {}
    for m in objects[0]["_ious"]:
        ious = np.concatenate([np.asarray(o["_ious"][m], dtype=np.float64) for o in objects])
        lv = np.concatenate([np.asarray(o["_prompt_levels"], dtype=np.int64) for o in objects])
        distinct = np.concatenate([np.asarray(o["_distinct"], dtype=bool) for o in objects])
        summary = summarize_ious(ious, lv, num_levels, distinct)
        summary.pop("ious")
        summary.pop("distinct_mask")
        inter[m] = summary
    full = {}
    for m in objects[0]["full_seg"]:
        per_level = []
        pooled = []
        for level in range(num_levels):
            vals = [o["full_seg"][m]["per_level"][level] for o in objects
                    if level < o["num_levels"] and o["full_seg"][m]["per_level"][level] is not None]
            pooled += vals
            per_level.append({"level": level, "miou": _mean(vals), "num_objects": len(vals)})
        full[m] = {"overall": _mean(pooled), "per_level": per_level}
    return {"num_objects": len(objects), "num_levels": num_levels,
            "num_parts": int(sum(sum(o["gt_parts_per_level"]) for o in objects)),
            "num_prompted": int(sum(len(o["_distinct"]) for o in objects)),
            "num_distinct": int(sum(sum(o["_distinct"]) for o in objects)),
            "interactive": inter, "full_seg": full,
            "part_counts": {m: part_counts(objects, f"{m}_parts_per_level") for m in ("ours", "mesh")}}


COUNT_FIT = 1.5  # segment everything's part count "fits" a gt level within this factor either way


def part_counts(objects: list[dict], key: str) -> dict:
    """How many parts segment everything finds against the gt count, over all (object, level) pairs
    with gt parts: the pairs within ``COUNT_FIT`` x either way, and the mean ratio found / true."""
    ratios = [found / true for o in objects for true, found in zip(o["gt_parts_per_level"], o[key])
              if true and found is not None]
    fit = sum(1 / COUNT_FIT <= r <= COUNT_FIT for r in ratios)
    return {"levels": len(ratios), "within_1_5x": int(fit), "mean_ratio": _mean(ratios)}


def public(obj: dict) -> dict:
    """A per-object result without its private arrays (for JSON)."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}
