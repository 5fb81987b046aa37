"""Model configurations: dataclasses with one comment per field, plus a small registry.

Configs travel inside every checkpoint (as JSON metadata), so a weights file always
rebuilds the exact model that produced it.
"""
from __future__ import annotations

import dataclasses
import json
import math
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
    feature_skip: bool = False       # add gain * cos(point feature, clicked feature) + a learned
                                     # per-prompt bias to the logits (the decoder starts from the
                                     # encoder's own similarity ranking instead of re-learning it)
    context_points: int = 0          # > 0: the attention layers see at most this many point tokens
                                     # (a fixed random subset) and every point's logit comes from its
                                     # own scale-modulated token, so a click costs O(N*C), not O(N*C^2*layers)


# Weights written before the scale prior correction became a decoder buffer carried its alpha in
# the architecture config as ``decoder.scale_logit_adjust``; :meth:`ModelConfig.parse_json` takes
# it out (the earlier s2am3d-small.safetensors was such a file).
LEGACY_CALIBRATION_FIELD = "scale_logit_adjust"


@dataclass
class ModelConfig:
    """The architecture of a model. Calibration (the decoder's scale prior correction) is not part
    of it: it is a buffer of :class:`~s2am3d_core.modeling.decoder.ScaleAwareDecoder`."""
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        """Parse and validate (:meth:`validate`) a config written by :meth:`to_json`.

        Raises:
            CheckpointError: not JSON, unknown or missing fields, wrong types or out-of-range values.
        """
        return cls.parse_json(text)[0]

    @classmethod
    def parse_json(cls, text: str) -> tuple["ModelConfig", float | None]:
        """:meth:`from_json`, plus the calibration alpha of an older weights file that stored it
        in its config (``decoder.scale_logit_adjust``; None when the config has no such field).

        Raises:
            CheckpointError: as :meth:`from_json`; also a legacy alpha that is not a finite number
                in [-100, 100].
        """
        try:
            raw = json.loads(text)
        except (TypeError, ValueError, RecursionError) as exc:
            raise CheckpointError(f"model config in checkpoint is not valid JSON: {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("encoder"), dict) \
                or not isinstance(raw.get("decoder"), dict):
            raise CheckpointError("model config in checkpoint is not valid: expected {\"encoder\": {...}, "
                                  "\"decoder\": {...}}")
        dec = dict(raw["decoder"])
        legacy = dec.pop(LEGACY_CALIBRATION_FIELD, None)
        if legacy is not None and (isinstance(legacy, bool) or not isinstance(legacy, (int, float))
                                   or not math.isfinite(legacy) or not -100.0 <= legacy <= 100.0):
            raise CheckpointError(f"model config in checkpoint is not valid: decoder.{LEGACY_CALIBRATION_FIELD}="
                                  f"{legacy!r} must be a number in [-100, 100]")
        try:
            enc = dict(raw["encoder"])
            if isinstance(enc.get("voxel_channels"), list):
                enc["voxel_channels"] = tuple(enc["voxel_channels"])
            config = cls(encoder=EncoderConfig(**enc), decoder=DecoderConfig(**dec))
        except TypeError as exc:  # unknown/missing field names
            raise CheckpointError(f"model config in checkpoint is not valid: {exc}") from None
        config.validate()
        return config, None if legacy is None else float(legacy)

    def validate(self) -> None:
        """Check types, ranges and divisibility before any tensor is allocated.

        Raises:
            CheckpointError: naming the field, e.g. ``decoder.heads=5 does not divide decoder.dim=64``.
        """
        def bad(msg: str) -> CheckpointError:
            return CheckpointError(f"model config in checkpoint is not valid: {msg}")

        e, d = self.encoder, self.decoder
        ints = {f"encoder.{k}": getattr(e, k) for k in ("voxel_resolution", "plane_resolution", "patch_size",
                                                          "transformer_dim", "transformer_layers",
                                                          "transformer_heads", "feature_dim")}
        ints.update({f"decoder.{k}": getattr(d, k) for k in ("dim", "layers", "heads", "pe_frequencies",
                                                               "scale_frequencies")})
        for name, v in ints.items():
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad(f"{name}={v!r} must be an integer")
            lo, hi = _LIMITS.get(name.split(".", 1)[1], (1, _MAX_WIDTH))
            if not lo <= v <= hi:
                raise bad(f"{name}={v} must be in [{lo}, {hi}]")
        ch = e.voxel_channels
        if not isinstance(ch, tuple) or not ch or len(ch) > 16 or any(
                isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= _MAX_WIDTH for c in ch):
            raise bad(f"encoder.voxel_channels={ch!r} must be 1 to 16 integers in [1, {_MAX_WIDTH}]")
        v = d.mlp_ratio
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 1e-3 <= v <= 64.0:
            raise bad(f"decoder.mlp_ratio={v!r} must be a number in [0.001, 64]")
        if e.plane_resolution % e.patch_size:
            raise bad(f"encoder.patch_size={e.patch_size} does not divide encoder.plane_resolution={e.plane_resolution}")
        if e.transformer_dim % e.transformer_heads:
            raise bad(f"encoder.transformer_heads={e.transformer_heads} does not divide "
                      f"encoder.transformer_dim={e.transformer_dim}")
        if d.dim % d.heads:
            raise bad(f"decoder.heads={d.heads} does not divide decoder.dim={d.dim}")
        if int(d.dim * d.mlp_ratio) < 1:
            raise bad(f"decoder.mlp_ratio={d.mlp_ratio} gives an empty hidden layer for dim {d.dim}")
        # the largest activation: one tri-plane, and the token count of the plane transformer
        plane = 3 * e.feature_dim * e.plane_resolution ** 2
        if plane > _MAX_PLANE_VALUES:
            raise bad(f"the tri-plane would hold {plane:.3g} values (limit {_MAX_PLANE_VALUES:.3g})")


_MAX_WIDTH = 8192
_MAX_PLANE_VALUES = 3 * 1024 * 1024 * 1024  # > the paper config's 3 x 448 x 512 x 512
_LIMITS = {
    "voxel_resolution": (2, 256), "plane_resolution": (2, 2048), "patch_size": (1, 512),
    "transformer_layers": (1, 128), "layers": (1, 64), "transformer_heads": (1, 256), "heads": (1, 256),
    "pe_frequencies": (1, 64), "scale_frequencies": (1, 256),
}


CONFIGS: dict[str, ModelConfig] = {
    # Trains on 2 CPU cores in about half an hour; the earlier shipped weights used it.
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
    # cpu-base with finer and wider tri-planes (96 x 96, 96 channels), a wider plane transformer and
    # decoder: 7.6 M parameters, still within the shipped-weights limits on 1 CPU thread (random
    # weights, 20k points: encode 0.78 s, a click 11-12 ms). Trained on one H200 on 2026-11-28
    # (CONFIG=cpu-large models/train_gpu.sh): masks within +-1.7 points of cpu-base's, not shipped.
    "cpu-large": ModelConfig(
        encoder=EncoderConfig(voxel_resolution=32, voxel_channels=(48, 96), plane_resolution=96, patch_size=8,
                              transformer_dim=256, transformer_layers=4, transformer_heads=8, feature_dim=96),
        decoder=DecoderConfig(dim=96, layers=3, heads=4, mlp_ratio=2.0, feature_skip=True, context_points=1024),
    ),
    # A mid-size model for one GPU; too slow for the CPU tool (random weights, 1 thread, 20k points:
    # encode 7.6 s, a click 330 ms).
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
    """Return a fresh copy of a registered config (a key of ``CONFIGS``)."""
    if name not in CONFIGS:
        raise ValueError(f"unknown model config {name!r}; choose one of {sorted(CONFIGS)}")
    return ModelConfig.from_json(CONFIGS[name].to_json())
