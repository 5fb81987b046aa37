"""S2AM3D: the part encoder and the scale-aware prompt decoder in one module."""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from .decoder import ScaleAwareDecoder
from .encoder import PartEncoder


class S2AM3D(nn.Module):
    """Encoder (run once per shape) + decoder (run per prompt)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = PartEncoder(config.encoder)
        self.decoder = ScaleAwareDecoder(config.encoder.feature_dim, config.decoder)

    def encode(self, points: torch.Tensor) -> torch.Tensor:
        """points (B, N, 3) normalised -> features (B, N, D)."""
        return self.encoder(points)

    def decode(self, features: torch.Tensor, points: torch.Tensor, click_idx: torch.Tensor,
               click_label: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """-> mask logits (B, N); see ScaleAwareDecoder.forward."""
        return self.decoder(features, points, click_idx, click_label, scale)

    def forward(self, points, click_idx, click_label, scale) -> torch.Tensor:
        """End to end: points (B, N, 3) + clicks + scale -> mask logits (B, N)."""
        return self.decode(self.encode(points), points, click_idx, click_label, scale)
