"""Tri-plane features: projection of point features onto the xy, yz and zx planes, a
transformer over plane patches (all three planes attend to each other), and the per-point
lookup F(p) = T_xy(x, y) + T_yz(y, z) + T_zx(z, x).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .init import small_normal

# For each plane, the two coordinate axes used as (u, v) = (width, height).
PLANE_AXES: tuple[tuple[int, int], ...] = ((0, 1), (1, 2), (2, 0))  # xy, yz, zx


def project_to_planes(points: torch.Tensor, feats: torch.Tensor, resolution: int) -> torch.Tensor:
    """Average point features into three axis-aligned planes.

    Args:
        points: (B, N, 3) in [-1, 1]; feats: (B, N, C).

    Returns:
        (B, 3, C, H, W) planes; plane k is indexed [v, u] with (u, v) = PLANE_AXES[k].
    """
    b, n, c = feats.shape
    r = resolution
    idx = ((points.clamp(-1, 1 - 1e-6) + 1) * 0.5 * r).long().clamp_(0, r - 1)
    offset = torch.arange(b, device=points.device).unsqueeze(1) * r * r
    planes = []
    ones = feats.new_ones(b * n)
    for u, v in PLANE_AXES:
        flat = (idx[..., v] * r + idx[..., u] + offset).reshape(-1)
        acc = feats.new_zeros(b * r * r, c).index_add_(0, flat, feats.reshape(-1, c))
        cnt = feats.new_zeros(b * r * r).index_add_(0, flat, ones)
        planes.append((acc / cnt.clamp(min=1).unsqueeze(1)).view(b, r, r, c).permute(0, 3, 1, 2))
    return torch.stack(planes, dim=1)


def sample_planes(planes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinear lookup summed over the three planes.

    Args:
        planes: (B, 3, D, H, W); points: (B, M, 3) in [-1, 1].

    Returns:
        (B, M, D) features F = T_xy(x, y) + T_yz(y, z) + T_zx(z, x).
    """
    out = 0
    for k, (u, v) in enumerate(PLANE_AXES):
        grid = torch.stack([points[..., u], points[..., v]], dim=-1)[:, :, None, :]  # (B, M, 1, 2)
        s = F.grid_sample(planes[:, k], grid, mode="bilinear", padding_mode="border", align_corners=False)
        out = out + s[..., 0].transpose(1, 2)
    return out


class TriplaneTransformer(nn.Module):
    """Refines projected planes with a transformer over patches of all three planes.

    (B, 3, C_in, H, W) -> (B, 3, D, H, W). Patches become tokens (plus learned plane and
    position embeddings); after the transformer they are upsampled back to H x W and added to a
    1x1 projection of the input planes, which keeps the full-resolution detail.
    """

    def __init__(self, in_ch: int, resolution: int, patch: int, dim: int, layers: int, heads: int, out_dim: int):
        super().__init__()
        if resolution % patch:
            raise ValueError(f"plane_resolution {resolution} must be a multiple of patch_size {patch}")
        self.grid = resolution // patch
        self.patch = patch
        self.embed = nn.Conv2d(in_ch, dim, kernel_size=patch, stride=patch)
        self.plane_embed = nn.Parameter(torch.zeros(3, dim, 1, 1))
        self.pos_embed = nn.Parameter(small_normal(1, dim, self.grid, self.grid))
        layer = nn.TransformerEncoderLayer(dim, heads, dim * 4, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.up = nn.ConvTranspose2d(dim, out_dim, kernel_size=patch, stride=patch)
        self.skip = nn.Conv2d(in_ch, out_dim, kernel_size=1)
        self.out = nn.Sequential(nn.GELU(), nn.Conv2d(out_dim, out_dim, 3, padding=1))

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        b, _, c, h, w = planes.shape
        flat = planes.reshape(b * 3, c, h, w)
        tok = self.embed(flat).view(b, 3, -1, self.grid, self.grid)
        tok = tok + self.plane_embed.unsqueeze(0) + self.pos_embed.unsqueeze(0)
        g = self.grid
        seq = tok.permute(0, 1, 3, 4, 2).reshape(b, 3 * g * g, -1)  # (B, 3*g*g, dim)
        seq = self.norm(self.transformer(seq))
        tok = seq.view(b * 3, g, g, -1).permute(0, 3, 1, 2)
        x = self.up(tok) + self.skip(flat)
        x = x + self.out(x)
        return x.view(b, 3, -1, h, w)
