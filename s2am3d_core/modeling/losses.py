"""Training losses: intra-instance supervised contrastive (stage 1), weighted BCE + Dice (stage 2)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def contrastive_loss(feats: torch.Tensor, labels: torch.Tensor, tau: float = 0.07,
                     max_points: int | None = 1024, generator: torch.Generator | None = None) -> torch.Tensor:
    """Intra-instance supervised contrastive loss, averaged over objects.

    For each object separately, with s_ij = cos(f_i, f_j) / tau and P(i) the points sharing i's label:
    L = mean_i  -log( sum_{j in P(i)} exp(s_ij) / sum_{j != i} exp(s_ij) ).

    Args:
        feats: (B, N, D) point features.
        labels: (B, N) part ids, -1 = ignored.
        tau: temperature.
        max_points: random subset of labelled points per object (memory is O(M^2)).
    """
    losses = []
    for f, lab in zip(feats, labels):
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
