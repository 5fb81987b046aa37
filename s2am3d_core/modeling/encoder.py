"""Point-consistent part encoder: XYZ points -> per-point part features (stage 1)."""
from __future__ import annotations

import torch
from torch import nn

from ..config import EncoderConfig
from .pvcnn import PVCNNBackbone
from .triplane import TriplaneTransformer, project_to_planes, sample_planes


class PartEncoder(nn.Module):
    """PVCNN voxel backbone -> tri-plane (xy, yz, zx) refined by a transformer -> per-point lookup.

    ``forward(points)`` returns features for the input points; ``planes(points)`` and
    ``sample_planes(planes, query)`` split the two steps, so features can be read at any
    other location (mesh vertices, face centres) from the same planes.
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.backbone = PVCNNBackbone(tuple(config.voxel_channels), config.voxel_resolution)
        self.triplane = TriplaneTransformer(
            self.backbone.out_channels, config.plane_resolution, config.patch_size, config.transformer_dim,
            config.transformer_layers, config.transformer_heads, config.feature_dim,
        )

    @property
    def feature_dim(self) -> int:
        return self.config.feature_dim

    def planes(self, points: torch.Tensor) -> torch.Tensor:
        """points (B, N, 3) in [-1, 1] -> tri-plane (B, 3, D, H, W)."""
        feats = self.backbone(points)
        return self.triplane(project_to_planes(points, feats, self.config.plane_resolution))

    @staticmethod
    def sample_planes(planes: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """planes (B, 3, D, H, W), query (B, M, 3) -> features (B, M, D)."""
        return sample_planes(planes, query)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """points (B, N, 3) in [-1, 1] -> features (B, N, D)."""
        return sample_planes(self.planes(points), points)
