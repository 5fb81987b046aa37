"""PVCNN-style point-voxel backbone.

Each block averages point features into a coarse voxel grid, runs 3D convolutions there
(neighbourhood context), reads the result back at every point by trilinear interpolation, and
adds a per-point MLP branch (fine detail). Coordinates are expected in [-1, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def voxelize(points: torch.Tensor, feats: torch.Tensor, resolution: int) -> torch.Tensor:
    """Average point features into a voxel grid.

    Args:
        points: (B, N, 3) coordinates in [-1, 1] (x, y, z).
        feats: (B, N, C) features.
        resolution: R, voxels per side.

    Returns:
        (B, C, R, R, R) grid laid out as (z, y, x), the layout ``F.grid_sample`` expects.
    """
    b, n, c = feats.shape
    r = resolution
    idx = ((points.clamp(-1, 1 - 1e-6) + 1) * 0.5 * r).long().clamp_(0, r - 1)  # (B, N, 3)
    flat = idx[..., 2] * r * r + idx[..., 1] * r + idx[..., 0]  # (B, N)
    flat = flat + torch.arange(b, device=points.device).unsqueeze(1) * r**3
    grid = feats.new_zeros(b * r**3, c)
    grid.index_add_(0, flat.reshape(-1), feats.reshape(-1, c))
    count = feats.new_zeros(b * r**3)
    count.index_add_(0, flat.reshape(-1), feats.new_ones(b * n))
    grid = grid / count.clamp(min=1).unsqueeze(1)
    return grid.view(b, r, r, r, c).permute(0, 4, 1, 2, 3).contiguous()


def devoxelize(grid: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Trilinear lookup of a (B, C, R, R, R) grid at (B, N, 3) points -> (B, N, C)."""
    sample = F.grid_sample(grid, points[:, :, None, None, :], mode="bilinear", padding_mode="border",
                           align_corners=False)  # (B, C, N, 1, 1)
    return sample[:, :, :, 0, 0].transpose(1, 2)


class PVConvBlock(nn.Module):
    """One point-voxel convolution block: voxel branch + point branch, summed."""

    def __init__(self, in_ch: int, out_ch: int, resolution: int):
        super().__init__()
        self.resolution = resolution
        groups = max(1, out_ch // 16)
        self.voxel = nn.Sequential(
            nn.Conv3d(in_ch, out_ch, 3, padding=1), nn.GroupNorm(groups, out_ch), nn.GELU(),
            nn.Conv3d(out_ch, out_ch, 3, padding=1), nn.GroupNorm(groups, out_ch), nn.GELU(),
        )
        self.point = nn.Sequential(nn.Linear(in_ch, out_ch), nn.LayerNorm(out_ch), nn.GELU())

    def forward(self, points: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """points (B, N, 3), feats (B, N, C_in) -> (B, N, C_out)."""
        grid = self.voxel(voxelize(points, feats, self.resolution))
        return devoxelize(grid, points) + self.point(feats)


class PVCNNBackbone(nn.Module):
    """Stack of PVConv blocks on XYZ input; output (B, N, channels[-1])."""

    def __init__(self, channels: tuple[int, ...], resolution: int):
        super().__init__()
        chans = (3, *channels)
        self.blocks = nn.ModuleList(PVConvBlock(a, b, resolution) for a, b in zip(chans[:-1], chans[1:]))
        self.out_channels = chans[-1]

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        feats = points
        for block in self.blocks:
            feats = block(points, feats)
        return feats
