"""PartPredictor: encode a shape once, then decode many click/scale prompts quickly.

Modelled on segment-anything's SamPredictor. The one inference path:

1. ``embed(points) -> ShapeEmbedding``: normalise, run the encoder (or read its tri-plane from the
   memory/disk cache), sample per-point features and compute the decoder's point tokens: everything
   that does not depend on a click, once per shape;
2. ``decode_embedded(embedding, positive, negative, scale)``: the scale-aware decoder alone, per prompt
   (one prompt: :class:`~s2am3d_core.modeling.single.SinglePromptDecoder`, the same function as the
   batched ``decode_prepared`` to float32 rounding, rearranged for one prompt: a slider move's cost).

``set_shape(points)`` keeps ``embed(points)`` as the current shape, and ``predict`` /
``predict_logits`` / ``predict_many`` decode prompts on it.
"""
from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from scipy.special import expit  # the logistic function, without overflow on very negative logits

from .cache import FeatureCache, points_key
from .checkpoint import load_model, module_fingerprint
from .device import pick_device
from .errors import PromptError
from .geometry import check_points, normalize_points
from .modeling.model import S2AM3D
from .modeling.single import SinglePromptDecoder
from .scale import check_scale

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True, eq=False)
class ShapeEmbedding:
    """One shape as the decoder needs it, computed once by :meth:`PartPredictor.embed`.

    Attributes:
        points: (N, 3) float32, normalised (bounding-box centre at 0, largest half-extent 1).
        center: (3,) the bounding-box centre subtracted from the input points.
        extent: the half-extent the centred points were divided by (a length, not a part scale).
        key: content hash of ``points`` (the feature-cache key).
        source: where the tri-plane came from: "encoder", "memory" or "disk".
        planes: (1, 3, D, H, W) encoder tri-plane.
        features: (1, N, D) per-point encoder features (``planes`` sampled at ``points``).
        tokens: (1, N, C) decoder point tokens (``ScaleAwareDecoder.prepare``; click- and
            scale-independent).
    """

    points: np.ndarray
    center: np.ndarray
    extent: float
    key: str
    source: str
    planes: torch.Tensor
    features: torch.Tensor
    tokens: torch.Tensor

    @property
    def num_points(self) -> int:
        return int(self.points.shape[0])


class PartPredictor:
    """Interactive part segmentation of one shape at a time.

    Args:
        model: a trained S2AM3D model.
        device: "cpu" (default), "cuda", "auto" or a torch.device.
        cache: True for the default on-disk cache, False/None to disable it, or a FeatureCache.
        memory_slots: tri-planes of this many recent shapes are kept in memory.
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
        self.embedding: ShapeEmbedding | None = None  # the current shape (set_shape)
        # the one-prompt decoder of the last decoded embedding, and the decoder weights' versions it was made from
        self._single: tuple[ShapeEmbedding, tuple[int, ...], SinglePromptDecoder] | None = None

    @classmethod
    def from_pretrained(cls, weights: str | os.PathLike | None = None, device: str | None = "cpu",
                        cache: bool | FeatureCache | None = True) -> "PartPredictor":
        """Load weights (default: the shipped model) and wrap them in a predictor."""
        return cls(load_model(weights, device=pick_device(device)), device=device, cache=cache)

    # ------------------------------------------------------------------ shape
    @torch.inference_mode()
    def embed(self, points: np.ndarray, progress: ProgressFn | None = None) -> ShapeEmbedding:
        """Normalise and encode a point set (N, 3) once: the encoder runs only when neither the
        in-memory slots nor the disk cache hold its tri-plane. Does not change the current shape.

        Raises:
            InputError: ``points`` is not a finite (N, 3) array with at least one point.
        """
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
        points_t = torch.from_numpy(norm).to(self.device)[None]
        planes = entry["planes"].to(self.device)
        features = self.model.encoder.sample_planes(planes, points_t)
        tokens = self.model.decoder.prepare(features, points_t)
        report(1.0, "ready")
        return ShapeEmbedding(points=norm, center=center, extent=extent, key=key, source=source,
                              planes=planes, features=features, tokens=tokens)

    def set_shape(self, points: np.ndarray, progress: ProgressFn | None = None) -> None:
        """Make ``embed(points)`` the current shape of :meth:`predict` and friends."""
        self.embedding = self.embed(points, progress)  # on an error the previous shape stays

    def reset(self) -> None:
        """Forget the current shape."""
        self.embedding = None

    def _remember(self, key: str, entry: dict[str, torch.Tensor]) -> None:
        self._memory[key] = entry
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_slots:
            self._memory.popitem(last=False)

    def _require_shape(self) -> ShapeEmbedding:
        if self.embedding is None:
            raise PromptError("no shape is set: call set_shape(points) before predict(...)")
        return self.embedding

    # views of the current shape
    @property
    def is_shape_set(self) -> bool:
        return self.embedding is not None

    @property
    def num_points(self) -> int:
        return 0 if self.embedding is None else self.embedding.num_points

    @property
    def points(self) -> np.ndarray | None:
        """(N, 3) normalised points of the current shape (None before set_shape)."""
        return None if self.embedding is None else self.embedding.points

    @property
    def center(self) -> np.ndarray | None:
        return None if self.embedding is None else self.embedding.center

    @property
    def extent(self) -> float:
        """Half-extent of the bounding box the points were divided by (not a part scale)."""
        return 1.0 if self.embedding is None else self.embedding.extent

    @property
    def shape_key(self) -> str | None:
        return None if self.embedding is None else self.embedding.key

    @property
    def last_encode_source(self) -> str:
        """Where the current shape's tri-plane came from: "encoder", "memory", "disk" ("" before set_shape)."""
        return "" if self.embedding is None else self.embedding.source

    @property
    def features(self) -> torch.Tensor:
        """(N, D) encoder features of the current shape."""
        return self._require_shape().features[0]

    @torch.inference_mode()
    def features_at(self, query: np.ndarray) -> np.ndarray:
        """Encoder features (M, D) at arbitrary points (M, 3) given in the shape's original coordinates."""
        emb = self._require_shape()
        q = (check_points(query, "features_at(query)") - emb.center) / emb.extent
        t = torch.from_numpy(q.astype(np.float32)).to(self.device)[None]
        return self.model.encoder.sample_planes(emb.planes, t)[0].float().cpu().numpy()

    # ---------------------------------------------------------------- prompts
    @staticmethod
    def _check_index(i, what: str, n: int) -> int:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise PromptError(f"{what} click {i!r} is not a point index (an integer)")
        if not 0 <= int(i) < n:
            raise PromptError(f"{what} click index {int(i)} is out of range for a shape of {n} points")
        return int(i)

    @staticmethod
    def _check_scale(scale: float | None) -> float:
        s = check_scale(scale)
        return math.nan if s is None else s

    def _decode(self, embedding: ShapeEmbedding, click_idx: list[list[int]], click_label: list[list[int]],
                scales: list[float]) -> torch.Tensor:
        """The decoder on B prompts of one shape: click rows (B, K), scales (B,) (NaN = none) -> logits (B, N)."""
        dev, tokens = self.device, embedding.tokens
        return self.model.decoder.decode_prepared(
            tokens.expand(len(scales), -1, -1), torch.tensor(click_idx, device=dev),
            torch.tensor(click_label, device=dev), torch.tensor(scales, device=dev, dtype=tokens.dtype))

    @torch.inference_mode()
    def decode_embedded(self, embedding: ShapeEmbedding, positive: Sequence[int] | int, negative: Sequence[int] = (),
                        scale: float | None = None) -> np.ndarray:
        """Mask logits (N,) of one prompt on an embedded shape: only the decoder runs.

        Args:
            embedding: from :meth:`embed`.
            positive: index (or indices) of points inside the wanted part.
            negative: indices of points that must stay outside it.
            scale: part size as a fraction of the object's points in [0, 1]; None = no scale.

        Raises:
            PromptError: no positive click, an index that is not an integer in [0, N), a bad scale.
        """
        n = embedding.num_points
        pos = [positive] if isinstance(positive, (int, np.integer)) else list(positive)
        if not pos:
            raise PromptError("a prompt needs at least one positive click")
        idx = [self._check_index(i, "positive", n) for i in pos] + [self._check_index(i, "negative", n)
                                                                    for i in negative]
        lab = [1] * len(pos) + [0] * len(negative)
        single = self._single_decoder(embedding)
        logits = single(torch.tensor(idx, device=self.device), torch.tensor(lab, device=self.device),
                        self._check_scale(scale))
        return logits.float().cpu().numpy()

    def _single_decoder(self, embedding: ShapeEmbedding) -> SinglePromptDecoder:
        """The one-prompt decoder of ``embedding`` (made on its first prompt, again after the decoder's
        weights change in place)."""
        versions = tuple(p._version for p in self.model.decoder.parameters())
        if self._single is None or self._single[0] is not embedding or self._single[1] != versions:
            self._single = (embedding, versions, SinglePromptDecoder(self.model.decoder, embedding.tokens))
        return self._single[2]

    def predict_logits(self, positive: Sequence[int] | int, negative: Sequence[int] = (),
                       scale: float | None = None) -> np.ndarray:
        """Mask logits (N,) for one prompt of positive/negative clicks and an optional scale."""
        return self.decode_embedded(self._require_shape(), positive, negative, scale)

    def predict(self, positive: Sequence[int] | int, negative: Sequence[int] = (),
                scale: float | None = None) -> np.ndarray:
        """Mask probabilities (N,) in [0, 1] for the current shape.

        Args:
            positive: index (or indices) of points inside the wanted part.
            negative: indices of points that must stay outside it.
            scale: part size as a fraction of the object's points in [0, 1]; None = no scale.
        """
        return expit(self.predict_logits(positive, negative, scale))

    @torch.inference_mode()
    def predict_many(self, point_indices: Sequence[int], scale: float | None | Sequence[float | None] = None,
                     batch_size: int = 16) -> np.ndarray:
        """One single-click prompt per index on the current shape, batched. Returns probabilities (K, N).

        ``batch_size`` 1 runs each prompt through the one-prompt decoder, as a slider move does (the
        fastest path on one CPU thread)."""
        emb = self._require_shape()
        idx = [self._check_index(i, "positive", emb.num_points) for i in point_indices]
        scales = list(scale) if isinstance(scale, (list, tuple, np.ndarray)) else [scale] * len(idx)
        if len(scales) != len(idx):
            raise PromptError(f"got {len(scales)} scales for {len(idx)} clicks")
        svals = [self._check_scale(s) for s in scales]
        out = np.empty((len(idx), emb.num_points), dtype=np.float32)
        if batch_size == 1:
            for r, (i, s) in enumerate(zip(idx, scales)):
                out[r] = expit(self.decode_embedded(emb, i, scale=s))
            return out
        for start in range(0, len(idx), batch_size):
            chunk = idx[start:start + batch_size]
            logits = self._decode(emb, [[i] for i in chunk], [[1]] * len(chunk), svals[start:start + len(chunk)])
            out[start:start + len(chunk)] = torch.sigmoid(logits).float().cpu().numpy()
        return out
