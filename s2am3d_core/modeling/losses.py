"""Training losses: intra-instance supervised contrastive (stage 1), weighted BCE + Dice (stage 2)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def contrastive_loss(feats: torch.Tensor, labels: torch.Tensor, tau: float = 0.07,
                     max_points: int | None = 1024, generator: torch.Generator | None = None,
                     points: torch.Tensor | None = None, hard_weight: float = 0.0,
                     hard_radius: float = 0.08) -> torch.Tensor:
    """Intra-instance supervised contrastive loss, averaged over objects.

    For each object separately, with s_ij = cos(f_i, f_j) / tau and P(i) the points sharing i's label:
    L = mean_i  -log( sum_{j in P(i)} exp(s_ij) / sum_{j != i} w_ij exp(s_ij) ).

    Hard negatives: with ``points`` given, a negative j closer to i than ``hard_radius`` (a point of
    an adjacent part, which distance alone cannot tell apart) weighs w_ij = 1 + ``hard_weight``;
    all other pairs weigh 1 (the plain loss when ``hard_weight`` = 0).

    Args:
        feats: (B, N, D) point features.
        labels: (B, N) part ids, -1 = ignored.
        tau: temperature.
        max_points: random subset of labelled points per object (memory is O(M^2)).
        generator: torch Generator of the subsets (None = global RNG).
        points: (B, N, 3) coordinates for the hard-negative weights (None = no weighting).
        hard_weight: extra weight of adjacent negatives.
        hard_radius: "adjacent" distance, in the units of ``points``.
    """
    # the subset of every object (same draws as one object at a time, so results do not depend on batching)
    keeps = []
    for lab in labels:
        keep = torch.nonzero(lab >= 0).squeeze(1)
        if max_points is not None and keep.numel() > max_points:
            perm = torch.randperm(keep.numel(), device=keep.device, generator=generator)[:max_points]
            keep = keep[perm]
        keeps.append(keep)
    log_w = float(torch.log1p(torch.tensor(float(hard_weight))))
    sizes = {k.numel() for k in keeps}
    if len(sizes) == 1 and min(sizes) >= 2:  # one batched computation (B, M, M)
        idx = torch.stack(keeps)
        per_obj = _supcon(feats.gather(1, idx[..., None].expand(-1, -1, feats.shape[-1])), labels.gather(1, idx),
                          None if points is None or hard_weight <= 0 else points.gather(1, idx[..., None].expand(-1, -1, 3)),
                          tau, log_w, hard_radius)
        ok = ~torch.isnan(per_obj)
        return per_obj[ok].mean() if ok.any() else feats.sum() * 0.0
    losses = []
    for b, keep in enumerate(keeps):
        if keep.numel() < 2:
            continue
        p = None if points is None or hard_weight <= 0 else points[b][keep][None]
        per_obj = _supcon(feats[b][keep][None], labels[b][keep][None], p, tau, log_w, hard_radius)
        if not torch.isnan(per_obj).all():
            losses.append(per_obj[0])
    if not losses:
        return feats.sum() * 0.0
    return torch.stack(losses).mean()


def _supcon(f: torch.Tensor, y: torch.Tensor, p: torch.Tensor | None, tau: float, log_w: float,
            radius: float) -> torch.Tensor:
    """Per-object loss (B,) of subsets f (B, M, D), y (B, M), p (B, M, 3) or None; NaN = no positive pair."""
    z = F.normalize(f, dim=-1)
    sim = z @ z.transpose(1, 2) / tau
    m = y.shape[1]
    eye = torch.eye(m, dtype=torch.bool, device=y.device)[None]
    sim = sim.masked_fill(eye, float("-inf"))
    same = y[:, :, None] == y[:, None, :]
    pos = same & ~eye
    has_pos = pos.any(2)
    if p is not None:
        near = (torch.cdist(p.to(sim.dtype), p.to(sim.dtype)) < radius) & ~same
        log_denom = torch.logsumexp(sim + near.to(sim.dtype) * log_w, dim=2)
    else:
        log_denom = torch.logsumexp(sim, dim=2)
    log_num = torch.logsumexp(sim.masked_fill(~pos, float("-inf")), dim=2)
    per = torch.where(has_pos, log_denom - log_num, torch.zeros_like(log_denom))
    count = has_pos.sum(1)
    return torch.where(count > 0, per.sum(1) / count.clamp(min=1), torch.full_like(per[:, 0], float("nan")))


def mask_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None,
              w_bce: float = 1.0, w_dice: float = 1.0, eps: float = 1e-6) -> torch.Tensor:
    """Dynamically weighted BCE + Dice, averaged over the batch.

    The BCE positive weight is (1 - pi) / (pi + eps) with pi the fraction of positive points of
    each sample, which balances tiny and huge parts.

    Args:
        logits: (B, N) mask logits; target: (B, N) in {0, 1}; valid: (B, N) bool or None.
    """
    target = target.to(logits.dtype)
    if valid is None:
        valid = torch.ones_like(target, dtype=torch.bool)
    v = valid.to(logits.dtype)
    count = v.sum(1).clamp(min=1)
    pi = (target * v).sum(1) / count
    pos_weight = ((1 - pi) / (pi + eps)).clamp(max=1e3).detach()
    per = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    weight = torch.where(target > 0.5, pos_weight[:, None].expand_as(target), torch.ones_like(target))
    # normalise so that positives and negatives each contribute about half
    bce = (per * weight * v).sum(1) / (weight * v).sum(1).clamp(min=eps)
    prob = torch.sigmoid(logits) * v
    dice = 1 - (2 * (prob * target).sum(1) + eps) / (prob.sum(1) + (target * v).sum(1) + eps)
    return (w_bce * bce + w_dice * dice).mean()
