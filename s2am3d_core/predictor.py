"""PartPredictor: encode a shape once, then decode many click/scale prompts quickly.

Modelled on segment-anything's SamPredictor: ``set_shape`` runs the encoder (or loads its
result from the memory/disk cache); ``predict`` runs only the scale-aware decoder.
"""
from __future__ import annotations

import math
import os
from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np
import torch

from .cache import FeatureCache, points_key
from .checkpoint import load_model, module_fingerprint
from .device import pick_device
from .errors import PromptError
from .geometry import check_points, normalize_points
from .modeling.model import S2AM3D
from .modeling.single import SinglePromptDecoder

ProgressFn = Callable[[float, str], None]


def check_scale(scale: float | None) -> float | None:
    """The one check of a scale prompt: ``scale`` (the part's fraction of the shape) as a float in
    [0, 1], or None ("no scale"); PromptError otherwise."""
    if scale is None:
        return None
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise PromptError(f"scale {scale!r} is not a number in [0, 1] (or None for no scale)") from None
    if not 0.0 <= s <= 1.0 or math.isnan(s):
        raise PromptError(f"scale {s} is outside [0, 1] (or pass None for no scale)")
    return s


class PartPredictor:
    """Interactive part segmentation of one shape at a time.

    Args:
        model: a trained S2AM3D model.
        device: "cpu" (default), "cuda", "auto" or a torch.device.
        cache: True for the default on-disk cache, False/None to disable it, or a FeatureCache.
    """

    def __init__(self, model: S2AM3D, device: str | torch.device | None = "cpu",
                 cache: bool | FeatureCache | None = True, memory_slots: int = 4):
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        if cache is True:
            cache = FeatureCache()
        self.cache: FeatureCache | None = cache or None
        # the feature cache is keyed by the encoder's own tensors: a decoder or calibration change keeps it valid
        self.weights_id: str = module_fingerprint(model.encoder)
        self._memory: OrderedDict[str, dict[str, torch.Tensor]] = OrderedDict()
        self._memory_slots = memory_slots
        self.reset()

    @classmethod
    def from_pretrained(cls, weights: str | os.PathLike | None = None, device: str | None = "cpu",
                        cache: bool | FeatureCache | None = True) -> "PartPredictor":
        """Load weights (default: the shipped model) and wrap them in a predictor."""
        return cls(load_model(weights, device=pick_device(device)), device=device, cache=cache)

    # ------------------------------------------------------------------ shape
    def reset(self) -> None:
        """Forget the current shape."""
        self.points: np.ndarray | None = None  # (N, 3) normalised
        self.center: np.ndarray | None = None
        self.extent: float = 1.0  # half-extent of the bounding box the points were divided by (not a part scale)
        self.shape_key: str | None = None
        self.last_encode_source: str = ""  # "encoder", "memory" or "disk"
        self._planes: torch.Tensor | None = None  # (1, 3, D, H, W)
        self._features: torch.Tensor | None = None  # (1, N, D)
        self._tokens: torch.Tensor | None = None  # (1, N, C) decoder-ready point tokens
        self._single: SinglePromptDecoder | None = None  # what predict runs (the same function, faster)
        self._points_t: torch.Tensor | None = None

    @property
    def is_shape_set(self) -> bool:
        return self._tokens is not None

    @property
    def num_points(self) -> int:
        return 0 if self.points is None else int(self.points.shape[0])

    @property
    def features(self) -> torch.Tensor:
        """(N, D) encoder features of the current shape."""
        self._require_shape()
        return self._features[0]

    @torch.inference_mode()
    def set_shape(self, points: np.ndarray, progress: ProgressFn | None = None) -> None:
        """Normalise and encode a point set (N, 3); cached in memory and on disk."""
        report = progress or (lambda frac, msg: None)
        pts = check_points(points, "set_shape(points)")
        norm, center, extent = normalize_points(pts)
        key = points_key(norm)
        report(0.0, "looking up cached features")
        entry, source = self._memory.get(key), "memory"
        if entry is None and self.cache is not None:
            enc = self.model.config.encoder
            r = enc.plane_resolution
            entry, source = self.cache.get(key, self.weights_id,
                                           expected={"planes": (1, 3, enc.feature_dim, r, r)}), "disk"
        if entry is None:
            report(0.1, f"encoding {len(norm)} points")
            p = torch.from_numpy(norm).to(self.device)[None]
            planes = self.model.encoder.planes(p)
            entry, source = {"planes": planes.float().cpu()}, "encoder"
            if self.cache is not None:
                report(0.8, "saving features to the cache")
                self.cache.put(key, self.weights_id, entry)
        self._remember(key, entry)
        self.reset()
        self.points, self.center, self.extent, self.shape_key = norm, center, extent, key
        self.last_encode_source = source
        self._points_t = torch.from_numpy(norm).to(self.device)[None]
        self._planes = entry["planes"].to(self.device)
        self._features = self.model.encoder.sample_planes(self._planes, self._points_t)
        self._tokens = self.model.decoder.prepare(self._features, self._points_t)
        self._single = SinglePromptDecoder(self.model.decoder, self._tokens)
        report(1.0, "ready")

    def _remember(self, key: str, entry: dict[str, torch.Tensor]) -> None:
        self._memory[key] = entry
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_slots:
            self._memory.popitem(last=False)

    @torch.inference_mode()
    def features_at(self, query: np.ndarray) -> np.ndarray:
        """Encoder features (M, D) at arbitrary points (M, 3) given in the shape's original coordinates."""
        self._require_shape()
        q = (check_points(query, "features_at(query)") - self.center) / self.extent
        t = torch.from_numpy(q.astype(np.float32)).to(self.device)[None]
        return self.model.encoder.sample_planes(self._planes, t)[0].float().cpu().numpy()

    # ---------------------------------------------------------------- prompts
    def _require_shape(self) -> None:
        if not self.is_shape_set:
            raise PromptError("no shape is set: call set_shape(points) before predict(...)")

    def _check_index(self, i, what: str) -> int:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise PromptError(f"{what} click {i!r} is not a point index (an integer)")
        if not 0 <= int(i) < self.num_points:
            raise PromptError(f"{what} click index {int(i)} is out of range for a shape of {self.num_points} points")
        return int(i)

    @staticmethod
    def _check_scale(scale: float | None) -> float:
        s = check_scale(scale)
        return math.nan if s is None else s

    @torch.inference_mode()
    def predict_logits(self, positive: Sequence[int] | int, negative: Sequence[int] = (),
                       scale: float | None = None) -> np.ndarray:
        """Mask logits (N,) for one prompt of positive/negative clicks and an optional scale."""
        self._require_shape()
        pos = [positive] if isinstance(positive, (int, np.integer)) else list(positive)
        if not pos:
            raise PromptError("a prompt needs at least one positive click")
        idx = [self._check_index(i, "positive") for i in pos] + [self._check_index(i, "negative") for i in negative]
        lab = [1] * len(pos) + [0] * len(negative)
        s = self._check_scale(scale)
        dev = self.device
        logits = self._single(torch.tensor(idx, device=dev), torch.tensor(lab, device=dev), s)
        return logits.float().cpu().numpy()

    def predict(self, positive: Sequence[int] | int, negative: Sequence[int] = (),
                scale: float | None = None) -> np.ndarray:
        """Mask probabilities (N,) in [0, 1] for the current shape.

        Args:
            positive: index (or indices) of points inside the wanted part.
            negative: indices of points that must stay outside it.
            scale: part size as a fraction of the object's points in [0, 1]; None = no scale.
        """
        return 1.0 / (1.0 + np.exp(-self.predict_logits(positive, negative, scale)))

    @torch.inference_mode()
    def predict_many(self, point_indices: Sequence[int], scale: float | None | Sequence[float | None] = None,
                     batch_size: int = 16) -> np.ndarray:
        """One single-click prompt per index, batched. Returns probabilities (K, N)."""
        self._require_shape()
        idx = [self._check_index(i, "positive") for i in point_indices]
        scales = list(scale) if isinstance(scale, (list, tuple, np.ndarray)) else [scale] * len(idx)
        if len(scales) != len(idx):
            raise PromptError(f"got {len(scales)} scales for {len(idx)} clicks")
        svals = [self._check_scale(s) for s in scales]
        out = np.empty((len(idx), self.num_points), dtype=np.float32)
        for start in range(0, len(idx), batch_size):
            chunk = idx[start:start + batch_size]
            b = len(chunk)
            logits = self.model.decoder.decode_prepared(
                self._tokens.expand(b, -1, -1),
                torch.tensor(chunk, device=self.device)[:, None],
                torch.ones(b, 1, dtype=torch.long, device=self.device),
                torch.tensor(svals[start:start + b], device=self.device, dtype=self._tokens.dtype))
            out[start:start + b] = torch.sigmoid(logits).float().cpu().numpy()
        return out
