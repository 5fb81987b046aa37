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
    losses = []
    for b, (f, lab) in enumerate(zip(feats, labels)):
        keep = torch.nonzero(lab >= 0).squeeze(1)
        if max_points is not None and keep.numel() > max_points:
            perm = torch.randperm(keep.numel(), device=keep.device, generator=generator)[:max_points]
            keep = keep[perm]
        if keep.numel() < 2:
            continue
        z = F.normalize(f[keep], dim=-1)
        y = lab[keep]
        sim = z @ z.t() / tau
        eye = torch.eye(len(y), dtype=torch.bool, device=y.device)
        sim = sim.masked_fill(eye, float("-inf"))
        pos = (y[:, None] == y[None, :]) & ~eye
        has_pos = pos.any(1)
        if not has_pos.any():
            continue
        if points is not None and hard_weight > 0:
            p = points[b][keep].to(sim.dtype)
            near = (torch.cdist(p, p) < hard_radius) & (y[:, None] != y[None, :])
            sim_w = sim + near.to(sim.dtype) * float(torch.log1p(torch.tensor(float(hard_weight))))
            log_denom = torch.logsumexp(sim_w, dim=1)
        else:
            log_denom = torch.logsumexp(sim, dim=1)
        log_num = torch.logsumexp(sim.masked_fill(~pos, float("-inf")), dim=1)
        losses.append((log_denom - log_num)[has_pos].mean())
    if not losses:
        return feats.sum() * 0.0
    return torch.stack(losses).mean()


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
