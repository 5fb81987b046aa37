"""PointNet part validator: is a labelled region a plausible part ("good") or a bad one?

The paper filters the parts of its Objaverse-derived dataset with a PointNet-based binary validator.
Ours looks at one part at a time:

* the part's points, normalised to the part's own bounding box (centred, largest half-extent 1),
  resampled to a fixed :data:`N_PART_POINTS` = 256 points;
* context features: the part's fraction of the object's points (= area fraction for area-sampled
  points), its square root, and the part's bounding-box extents relative to the object's largest
  extent (sorted, so the order of the axes does not matter).

Network: shared point MLP 3 -> 64 -> 128 -> 256, max-pool, concatenated with a 5 -> 32 context
MLP, head 288 -> 128 -> 1 logit.

Training data (:func:`train_validator`) is synthetic. Positives: the true parts of every level of
labelled objects (procedural, toy, GLB...). Negatives: random unions of fragments of unrelated parts,
random slabs and boxes cut through the object, and true parts with scattered pieces from elsewhere
in the object; a negative that overlaps a true part (IoU > 0.8) is discarded.

Saved as safetensors (the state dict) with JSON metadata under ``"s2am3d_validator"``
(:data:`CONFIG` values, threshold, training summary); read back with :meth:`PartValidator.load`.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from ..errors import CheckpointError, InputError
from ..geometry import normalize_points
from ..io.atomic import atomic_path
from .sampling import to_points
from .types import PartMesh, PartPoints

N_PART_POINTS = 256
CONTEXT_DIM = 5
METADATA_KEY = "s2am3d_validator"
FORMAT_VERSION = 1
MIN_PART_POINTS = 16


class PointNetValidator(nn.Module):
    """points (B, P, 3) float, context (B, CONTEXT_DIM) float -> logits (B,)."""

    def __init__(self, context_dim: int = CONTEXT_DIM):
        super().__init__()
        # shared per-point MLP (Linear on the last axis == 1x1 Conv1d, faster on CPU)
        self.point_mlp = nn.Sequential(
            nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 256)
        )
        self.context_mlp = nn.Sequential(nn.Linear(context_dim, 32), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(256 + 32, 128), nn.ReLU(), nn.Linear(128, 1))

    def forward(self, points: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        g = self.point_mlp(points).max(dim=1).values
        return self.head(torch.cat([g, self.context_mlp(context)], dim=1)).squeeze(1)


# ----------------------------------------------------------------------------- features


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


class PartValidator:
    """A trained validator: ``score(parts)`` -> probability that each part is a good part.

    Attributes:
        model: the :class:`PointNetValidator`.
        threshold: parts scoring below it are "bad" (default 0.5).
        info: training summary (from the file metadata).
    """

    def __init__(self, model: PointNetValidator | None = None, threshold: float = 0.5, info: dict | None = None):
        self.model = model if model is not None else PointNetValidator()
        self.model.eval()
        self.threshold = float(threshold)
        self.info = dict(info or {})

    @torch.no_grad()
    def score(
        self, points_list: Sequence[np.ndarray], object_points: np.ndarray | None = None, seed: int = 0,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Probabilities (K,) float32 that each part is good.

        Args:
            points_list: K arrays (M_i, 3), the parts' points in the object's coordinates.
            object_points: (N, 3) the whole object (gives the context features); None = the union of
                the parts.
            seed: seeds the choice of the 256 points per part (scores are deterministic).
        """
        parts = [np.asarray(p, dtype=np.float32).reshape(-1, 3) for p in points_list]
        if not parts:
            return np.zeros(0, dtype=np.float32)
        if any(len(p) == 0 for p in parts):
            raise InputError("PartValidator.score: a part has no points")
        obj = np.concatenate(parts) if object_points is None else np.asarray(object_points, dtype=np.float32)
        n = len(obj)
        extent = float(np.ptp(obj, axis=0).max()) if n else 1.0
        rng = np.random.default_rng(seed)
        feats = [part_features(p, n, extent if extent > 0 else 1.0, rng) for p in parts]
        pts = torch.from_numpy(np.stack([f[0] for f in feats]))
        ctx = torch.from_numpy(np.stack([f[1] for f in feats]))
        self.model.eval()
        out = [torch.sigmoid(self.model(pts[i:i + batch_size], ctx[i:i + batch_size]))
               for i in range(0, len(pts), batch_size)]
        return torch.cat(out).numpy().astype(np.float32)

    def score_masks(self, points: np.ndarray, masks: Sequence[np.ndarray], seed: int = 0) -> np.ndarray:
        """:meth:`score` for boolean masks (K of (N,)) over one object's points (N, 3)."""
        pts = np.asarray(points, dtype=np.float32)
        return self.score([pts[np.asarray(m, dtype=bool)] for m in masks], object_points=pts, seed=seed)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the weights (safetensors) with JSON metadata, atomically."""
        from safetensors.torch import save_file

        meta = {"version": FORMAT_VERSION, "n_part_points": N_PART_POINTS, "context_dim": CONTEXT_DIM,
                "threshold": self.threshold, "info": self.info}
        target = Path(path)
        state = {k: v.detach().contiguous().cpu() for k, v in self.model.state_dict().items()}
        with atomic_path(target) as tmp:
            save_file(state, str(tmp), metadata={METADATA_KEY: json.dumps(meta)})
        return target

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PartValidator":
        """Read a file written by :meth:`save` (CheckpointError naming the file on any problem)."""
        from safetensors import safe_open
        from safetensors.torch import load_file

        p = Path(path)
        if not p.is_file():
            raise CheckpointError(f"{p}: validator file not found")
        try:
            with safe_open(str(p), framework="pt") as fh:
                raw = (fh.metadata() or {}).get(METADATA_KEY)
            state = load_file(str(p))
        except Exception as e:
            raise CheckpointError(f"{p}: not a readable safetensors file ({type(e).__name__}: {e})") from e
        if raw is None:
            raise CheckpointError(f"{p}: not a part-validator file (no {METADATA_KEY!r} metadata)")
        try:
            meta = json.loads(raw)
        except json.JSONDecodeError as e:
            raise CheckpointError(f"{p}: corrupt validator metadata ({e})") from e
        if meta.get("version") != FORMAT_VERSION or meta.get("n_part_points") != N_PART_POINTS \
                or meta.get("context_dim") != CONTEXT_DIM:
            raise CheckpointError(f"{p}: validator format {meta} is not supported by this version")
        model = PointNetValidator()
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise CheckpointError(f"{p}: weights do not match the validator network ({e})") from e
        return cls(model, threshold=float(meta.get("threshold", 0.5)), info=meta.get("info", {}))


# ----------------------------------------------------------------------------- synthetic training data


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


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


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


def _augment(pts: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random rotation, anisotropic scaling and jitter of (B, P, 3) normalised parts; re-normalised."""
    b = pts.shape[0]
    q, r = torch.linalg.qr(torch.randn(b, 3, 3, generator=gen))
    q = q * torch.sign(torch.diagonal(r, dim1=1, dim2=2)).unsqueeze(1)
    s = 0.85 + 0.3 * torch.rand(b, 1, 3, generator=gen)
    x = (pts @ q) * s + 0.01 * torch.randn(pts.shape, generator=gen)
    lo, hi = x.min(dim=1, keepdim=True).values, x.max(dim=1, keepdim=True).values
    half = ((hi - lo).amax(dim=2, keepdim=True) / 2).clamp(min=1e-6)
    return (x - (lo + hi) / 2) / half


def build_training_set(
    sources: Iterable[PartMesh | PartPoints], points_per_object: int = 2048, seed: int = 0, progress: bool = False
) -> dict[str, np.ndarray]:
    """Feature arrays for :func:`train_validator`: points (K, 256, 3), context (K, 5), target (K,), object (K,)."""
    rng = np.random.default_rng(seed)
    P, C, Y, O = [], [], [], []
    for i, src in enumerate(tqdm(sources, desc="validator data", unit="obj", disable=not progress, leave=False)):
        item = to_points(src, points_per_object, seed=seed + i)
        pts = item.points @ _random_rotation(rng).T.astype(np.float32)
        item = PartPoints(pts, item.labels, item.name, item.category)
        masks, y = make_training_examples(item, rng)
        ext = float(np.ptp(pts, axis=0).max()) or 1.0
        for m, t in zip(masks, y):
            p, c = part_features(pts[m], len(pts), ext, rng)
            P.append(p)
            C.append(c)
            Y.append(t)
            O.append(i)
    if not P:
        raise InputError("train_validator: the training objects gave no parts")
    return {"points": np.stack(P), "context": np.stack(C), "target": np.asarray(Y, np.float32),
            "object": np.asarray(O, np.int64)}


def train_validator(
    meshes: Iterable[PartMesh | PartPoints],
    steps: int = 500,
    out_path: str | os.PathLike | None = None,
    points_per_object: int = 2048,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    holdout_fraction: float = 0.15,
    threshold: float | None = None,
    keep_fraction: float = 0.95,
    progress: bool = True,
) -> PartValidator:
    """Train a :class:`PartValidator` on synthetic good/bad parts of labelled objects.

    Args:
        meshes: labelled objects (PartMesh are area-sampled to ``points_per_object`` points).
        steps: optimisation steps (Adam, BCE with positive/negative balancing).
        out_path: where to save it (safetensors); None = do not save.
        holdout_fraction: fraction of the objects held out to measure accuracy (``info["holdout_accuracy"]``)
            and to calibrate the threshold.
        threshold: stored decision threshold; None = calibrated so that ``keep_fraction`` of the true
            parts (of the held-out objects, or of all objects when there are fewer than 4) score above
            it, capped at 0.5. The validator is a filter for noisy data: rejecting true parts costs
            more than keeping a few bad ones.

    Returns:
        The trained validator (``info`` holds counts, final loss and hold-out accuracy).
    """
    t0 = time.time()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    data = build_training_set(meshes, points_per_object=points_per_object, seed=seed, progress=progress)
    n_obj = int(data["object"].max()) + 1
    hold_objs = set(range(n_obj - int(round(holdout_fraction * n_obj)), n_obj)) if n_obj >= 4 else set()
    hold = np.isin(data["object"], list(hold_objs))
    train_idx, hold_idx = np.flatnonzero(~hold), np.flatnonzero(hold)
    pts = torch.from_numpy(data["points"])
    ctx = torch.from_numpy(data["context"])
    y = torch.from_numpy(data["target"])
    n_pos = float(y[train_idx].sum())
    n_neg = float(len(train_idx) - n_pos)
    pos_weight = torch.tensor(n_neg / max(n_pos, 1.0))

    model = PointNetValidator()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    model.train()
    loss_val = float("nan")
    bar = tqdm(range(steps), desc="train validator", unit="step", disable=not progress, leave=False)
    for _ in bar:
        b = torch.from_numpy(train_idx)[torch.randint(len(train_idx), (min(batch_size, len(train_idx)),),
                                                      generator=gen)]
        logits = model(_augment(pts[b], gen), ctx[b])
        loss = F.binary_cross_entropy_with_logits(logits, y[b], pos_weight=pos_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        loss_val = float(loss.item())
        bar.set_postfix(loss=f"{loss_val:.3f}")
    model.eval()

    with torch.no_grad():
        prob = torch.cat([torch.sigmoid(model(pts[i:i + 512], ctx[i:i + 512])) for i in range(0, len(y), 512)])
    calib = hold_idx if len(hold_idx) and y[hold_idx].sum() > 0 else train_idx
    rule = "fixed"
    if threshold is None:
        pos_scores = prob[calib][y[calib] > 0.5].numpy()
        threshold = float(min(0.5, np.quantile(pos_scores, 1.0 - keep_fraction))) if len(pos_scores) else 0.5
        rule = f"keep {keep_fraction:.0%} of {'held-out' if calib is hold_idx else 'training'} true parts (max 0.5)"

    def rates(idx: np.ndarray) -> dict:
        if not len(idx):
            return {}
        pred = prob[idx] >= threshold
        t = y[idx] > 0.5
        return {"accuracy": float((pred == t).float().mean()),
                "true_parts_kept": float(pred[t].float().mean()) if t.any() else None,
                "bad_parts_rejected": float((~pred[~t]).float().mean()) if (~t).any() else None}

    train_rates, hold_rates = rates(train_idx), rates(hold_idx)
    info = {
        "objects": n_obj, "examples": int(len(y)), "positives": int(y.sum()), "negatives": int(len(y) - y.sum()),
        "steps": int(steps), "final_loss": loss_val, "threshold_rule": rule,
        "train_accuracy": train_rates.get("accuracy"), "holdout_accuracy": hold_rates.get("accuracy"),
        "holdout_true_parts_kept": hold_rates.get("true_parts_kept"),
        "holdout_bad_parts_rejected": hold_rates.get("bad_parts_rejected"),
        "seconds": round(time.time() - t0, 2),
    }
    validator = PartValidator(model, threshold=threshold, info=info)
    if out_path is not None:
        validator.save(out_path)
    return validator
