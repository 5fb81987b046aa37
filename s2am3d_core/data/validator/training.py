"""Training loop of the validator on synthetic good/bad parts (:mod:`.mining`)."""
from __future__ import annotations

import os
import time
from typing import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ...errors import InputError
from ..sampling import to_points
from ..types import PartMesh, PartPoints
from .features import part_features
from .mining import make_training_examples
from .network import PointNetValidator
from .scorer import PartValidator


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


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
