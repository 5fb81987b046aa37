"""The validator network: shared point MLP 3 -> 64 -> 128 -> 256, max-pool, concatenated with a
5 -> 32 context MLP, head 288 -> 128 -> 1 logit."""
from __future__ import annotations

import torch
import torch.nn as nn

from .features import CONTEXT_DIM


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
