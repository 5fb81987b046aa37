"""Model configurations: dataclasses with one comment per field, plus a small registry.

Configs travel inside every checkpoint (as JSON metadata), so a weights file always
rebuilds the exact model that produced it.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from .errors import CheckpointError


@dataclass
class EncoderConfig:
    voxel_resolution: int = 16       # R: side of the PVCNN voxel grid over [-1, 1]^3
    voxel_channels: tuple[int, ...] = (32, 48)  # channels of the successive point-voxel blocks
    plane_resolution: int = 32       # H = W of each tri-plane
    patch_size: int = 4              # plane patch side -> (H/patch)^2 tokens per plane
    transformer_dim: int = 96        # width of the plane transformer
    transformer_layers: int = 2      # depth of the plane transformer
    transformer_heads: int = 4       # attention heads of the plane transformer
    feature_dim: int = 48            # D: channels of each plane = per-point feature size


@dataclass
class DecoderConfig:
    dim: int = 64                    # C: width of the point/query tokens
    layers: int = 2                  # bidirectional cross-attention layers
    heads: int = 4                   # attention heads
    mlp_ratio: float = 2.0           # hidden size of the FFNs, as a multiple of dim
    pe_frequencies: int = 8          # octaves of the 3D sinusoidal positional encoding
    scale_frequencies: int = 16      # sinusoidal frequencies of the scale embedding
    scale_logit_adjust: float = 0.0  # alpha: logits -= alpha*log((1-s)/s) when a scale s is given
                                     # (prior correction fitted after training by s2am3d-calibrate)
    feature_skip: bool = False       # add gain * cos(point feature, clicked feature) + a learned
                                     # per-prompt bias to the logits (the decoder starts from the
                                     # encoder's own similarity ranking instead of re-learning it)
    context_points: int = 0          # > 0: the attention layers see at most this many point tokens
                                     # (a fixed random subset) and every point's logit comes from its
                                     # own scale-modulated token, so a click costs O(N*C), not O(N*C^2*layers)


@dataclass
class ModelConfig:
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        try:
            raw = json.loads(text)
            enc = dict(raw["encoder"])
            enc["voxel_channels"] = tuple(enc["voxel_channels"])
            return cls(encoder=EncoderConfig(**enc), decoder=DecoderConfig(**raw["decoder"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"model config in checkpoint is not valid: {exc}") from exc


CONFIGS: dict[str, ModelConfig] = {
    # Trains on 2 CPU cores in about half an hour; the shipped weights use it.
    "cpu-small": ModelConfig(),
    # A tiny model for fast tests (random weights are fine for plumbing checks).
    "test-tiny": ModelConfig(
        encoder=EncoderConfig(voxel_resolution=8, voxel_channels=(8, 16), plane_resolution=16, patch_size=4,
                              transformer_dim=32, transformer_layers=1, transformer_heads=2, feature_dim=16),
        decoder=DecoderConfig(dim=16, layers=1, heads=2, mlp_ratio=2.0, pe_frequencies=4, scale_frequencies=4),
    ),
    # Trained on one GPU in minutes, fast enough on 1 CPU thread (encode 20k points < 1 s, click < 30 ms).
    "cpu-base": ModelConfig(
        encoder=EncoderConfig(voxel_resolution=24, voxel_channels=(48, 64), plane_resolution=48, patch_size=4,
                              transformer_dim=128, transformer_layers=3, transformer_heads=4, feature_dim=64),
        decoder=DecoderConfig(dim=64, layers=3, heads=4, mlp_ratio=2.0, feature_skip=True, context_points=1024),
    ),
    # A mid-size model for one GPU.
    "gpu-base": ModelConfig(
        encoder=EncoderConfig(voxel_resolution=48, voxel_channels=(64, 128, 128), plane_resolution=128,
                              patch_size=8, transformer_dim=384, transformer_layers=6, transformer_heads=6,
                              feature_dim=128),
        decoder=DecoderConfig(dim=128, layers=3, heads=8, mlp_ratio=4.0),
    ),
    # The paper's tri-plane size (448 x 512 x 512); needs a large GPU.
    "paper": ModelConfig(
        encoder=EncoderConfig(voxel_resolution=64, voxel_channels=(64, 128, 256), plane_resolution=512,
                              patch_size=16, transformer_dim=768, transformer_layers=8, transformer_heads=12,
                              feature_dim=448),
        decoder=DecoderConfig(dim=256, layers=4, heads=8, mlp_ratio=4.0),
    ),
}


def get_config(name: str) -> ModelConfig:
    """Return a fresh copy of a registered config ("cpu-small", "cpu-base", "gpu-base", "paper", "test-tiny")."""
    if name not in CONFIGS:
        raise ValueError(f"unknown model config {name!r}; choose one of {sorted(CONFIGS)}")
    return ModelConfig.from_json(CONFIGS[name].to_json())
