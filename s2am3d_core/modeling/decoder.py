"""Scale-aware prompt decoder (stage 2).

Point tokens X = Linear(F) + PE(P) are modulated by FiLM from an embedding of the scale s;
click tokens (plus one output token) and the point tokens exchange information through
bidirectional cross-attention; the mask logit of each point is the similarity of the final
output token and that point's token.

Two options of :class:`~s2am3d_core.config.DecoderConfig` make it fast and better at ranking:
``context_points`` (the layers attend to a fixed subset of the point tokens; every point's logit
uses its own scale-modulated token, so a click on 20k points costs a few million multiply-adds)
and ``feature_skip`` (the logit adds a learned multiple of the cosine similarity between a point's
encoder feature and the clicked feature, plus a learned per-prompt bias).

With a scale, the logits can also lean on the ball prior (:func:`ball_prior`): ``beta * (1 - d / r)``,
with d a point's distance from the nearest positive click and r the radius that holds ``s * N``
points around it, so a mask starts from the ball of the right size and the decoder's logits move
its boundary. ``beta`` is fitted by ``s2am3d-calibrate`` on validation shapes (0 = no prior).
"""
from __future__ import annotations

import functools
import math

import torch
from torch import nn

from ..config import DecoderConfig
from .init import small_normal


def sinusoidal_pe(points: torch.Tensor, frequencies: int) -> torch.Tensor:
    """3D sinusoidal encoding: (..., 3) in [-1, 1] -> (..., 6 * frequencies)."""
    freqs = (2.0 ** torch.arange(frequencies, device=points.device, dtype=points.dtype)) * math.pi
    ang = points.unsqueeze(-1) * freqs  # (..., 3, F)
    return torch.cat([ang.sin(), ang.cos()], dim=-1).flatten(-2)


def ball_prior(points: torch.Tensor, click_idx: torch.Tensor, click_label: torch.Tensor,
               scale: torch.Tensor) -> torch.Tensor:
    """(B, N) ``1 - d / r``: d = each point's distance from the nearest positive click, r = the
    distance within which ``round(s * N)`` points lie (at least one). Positive inside the ball that
    holds the part's size of points around the click, 0 on its boundary; 0 everywhere for prompts
    without a scale (NaN) or without a positive click.

    points (B, N, 3); click_idx, click_label (B, K) (1 = positive); scale (B,).
    """
    return ball_from_distance(click_distance(points, click_idx, click_label), scale)


def click_distance(points: torch.Tensor, click_idx: torch.Tensor, click_label: torch.Tensor) -> torch.Tensor:
    """(B, N) each point's distance from the nearest positive click (inf without one)."""
    n = points.shape[1]
    centres = torch.gather(points, 1, click_idx.clamp(0, n - 1).unsqueeze(-1).expand(-1, -1, 3))  # (B, K, 3)
    d = (points[:, :, None, :] - centres[:, None, :, :]).norm(dim=-1)  # (B, N, K), exact for tiny d
    return d.masked_fill(~(click_label == 1)[:, None, :], math.inf).amin(-1)


def ball_from_distance(d: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """:func:`ball_prior` from :func:`click_distance` (a scale-slider move reuses the distances)."""
    n = d.shape[1]
    ok = torch.isfinite(scale) & torch.isfinite(d).any(1)
    k = (torch.nan_to_num(scale, nan=0.0) * n).round().clamp(1, n).long()
    d = torch.where(ok[:, None], d, torch.zeros_like(d))
    r = torch.stack([torch.kthvalue(row, int(kk)).values for row, kk in zip(d, k)])[:, None].clamp(min=1e-6)
    return torch.where(ok[:, None], 1 - d / r, torch.zeros_like(d))


class ScaleEmbedding(nn.Module):
    """Learned sinusoidal embedding of s in [0, 1]; NaN selects a learned "no scale" vector (zero-init)."""

    def __init__(self, dim: int, frequencies: int):
        super().__init__()
        self.frequencies = frequencies
        self.mlp = nn.Sequential(nn.Linear(2 * frequencies, dim), nn.GELU(), nn.Linear(dim, dim))
        self.null = nn.Parameter(torch.zeros(dim))

    def forward(self, scale: torch.Tensor) -> torch.Tensor:
        """scale (B,) -> (B, dim)."""
        missing = torch.isnan(scale)
        s = torch.where(missing, torch.zeros_like(scale), scale)
        # log-spaced frequencies: small parts (s ~ 1e-3) and large ones are both resolved
        freqs = torch.exp(torch.linspace(0.0, math.log(1000.0), self.frequencies, device=s.device))
        ang = s[:, None] * freqs * math.pi
        emb = self.mlp(torch.cat([ang.sin(), ang.cos()], dim=-1))
        return torch.where(missing[:, None], self.null.expand_as(emb), emb)


class FiLM(nn.Module):
    """FiLM(X; s) = X * (1 + a*gamma) + a*beta with [gamma, beta] = Linear(LN(e(s))), zero-init, gain a."""

    def __init__(self, cond_dim: int, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(cond_dim)
        self.proj = nn.Linear(cond_dim, 2 * dim)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x (B, N, C), cond (B, C_cond) -> (B, N, C)."""
        gamma, beta = self.proj(self.norm(cond)).unsqueeze(1).chunk(2, dim=-1)
        return x * (1 + self.gain * gamma) + self.gain * beta


class CrossAttention(nn.Module):
    """Pre-norm multi-head attention of ``x`` over ``context`` (no residual)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor, context: torch.Tensor, pad: torch.Tensor | None = None) -> torch.Tensor:
        kv = self.norm_kv(context)
        return self.attn(self.norm_q(x), kv, kv, key_padding_mask=pad, need_weights=False)[0]


def ffn(dim: int, ratio: float) -> nn.Sequential:
    hidden = int(dim * ratio)
    return nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class BidirectionalLayer(nn.Module):
    """q <- q + SelfAttn(q); q <- q + CAttn(q; Y); q <- q + FFN(q); Y <- Y + CAttn(Y; q); Y <- Y + FFN(Y)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.self_attn = CrossAttention(dim, heads)
        self.token_to_point = CrossAttention(dim, heads)
        self.token_ffn = ffn(dim, mlp_ratio)
        self.point_to_token = CrossAttention(dim, heads)
        self.point_ffn = ffn(dim, mlp_ratio)
        self.film = FiLM(dim, dim)

    def forward(self, q, y, token_pad, cond):
        q = q + self.self_attn(q, q, token_pad)
        q = q + self.token_to_point(q, y)
        q = q + self.token_ffn(q)
        y = self.film(y, cond)
        y = y + self.point_to_token(y, q, token_pad)
        y = y + self.point_ffn(y)
        return q, y


def context_subset(n: int, m: int, device: torch.device) -> torch.Tensor:
    """A fixed pseudo-random subset of ``m`` of ``n`` point indices (same n, m -> same subset), sorted."""
    return _subset(n, m).to(device)


@functools.lru_cache(maxsize=16)
def _subset(n: int, m: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(n * 7919 + m)
    return torch.randperm(n, generator=g)[:m].sort().values


class ScaleAwareDecoder(nn.Module):
    """(features, points, clicks, scale) -> per-point mask logits.

    ``prepare`` computes the click- and scale-independent point tokens once per shape, so
    interactive use only pays for ``decode_prepared``.
    """

    def __init__(self, feature_dim: int, config: DecoderConfig):
        super().__init__()
        c = config.dim
        self.config = config
        self.in_proj = nn.Linear(feature_dim, c)
        self.pe_proj = nn.Linear(6 * config.pe_frequencies, c)
        self.scale_embed = ScaleEmbedding(c, config.scale_frequencies)
        self.film = FiLM(c, c)
        # 0 = negative, 1 = positive; N(0, 1) as nn.Embedding's own init (small_normal: no random fill on meta)
        self.click_label_embed = nn.Embedding.from_pretrained(small_normal(2, c, std=1.0), freeze=False)
        self.output_token = nn.Parameter(small_normal(c))
        self.layers = nn.ModuleList(BidirectionalLayer(c, config.heads, config.mlp_ratio) for _ in range(config.layers))
        self.final_attn = CrossAttention(c, config.heads)
        self.query_head = nn.Sequential(nn.LayerNorm(c), nn.Linear(c, c), nn.GELU(), nn.Linear(c, c))
        self.point_head = nn.Sequential(nn.LayerNorm(c), nn.Linear(c, c))
        if config.feature_skip:
            self.skip_gain = nn.Parameter(torch.tensor(8.0))
            self.skip_bias = nn.Sequential(nn.LayerNorm(c), nn.Linear(c, 1))
        # alpha of the scale prior correction (:meth:`prior_shift`): calibration, not architecture.
        # Fitted after training by s2am3d-calibrate (0 = uncorrected); a buffer, so it is saved
        # with the weights and read back at load, but never trained.
        self.register_buffer("scale_logit_adjust", torch.zeros((), dtype=torch.float32))
        # the same for prompts without a scale: a fitted logit offset (no-scale masks of the
        # uncorrected decoder are many times too large: 11x median on validation objects).
        self.register_buffer("noscale_logit_offset", torch.zeros((), dtype=torch.float32))
        # beta of the ball prior (:func:`ball_prior`) added to the logits of prompts with a scale;
        # fitted by s2am3d-calibrate like alpha (0 = no prior; files written before it load with 0).
        self.register_buffer("ball_prior_weight", torch.zeros((), dtype=torch.float32))

    def prepare(self, features: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """features (B, N, D), points (B, N, 3) -> point tokens X0 (B, N, C) followed by the
        unit-length features (D channels, with ``feature_skip``: they ride along for the similarity
        term) and the points (3 channels, for the ball prior): (B, N, C [+ D] + 3)."""
        x0 = self.in_proj(features) + self.pe_proj(sinusoidal_pe(points, self.config.pe_frequencies))
        parts = [x0, nn.functional.normalize(features.to(x0.dtype), dim=-1)] if self.config.feature_skip else [x0]
        return torch.cat(parts + [points.to(x0.dtype)], dim=-1)

    def decode_prepared(self, x0: torch.Tensor, click_idx: torch.Tensor, click_label: torch.Tensor,
                        scale: torch.Tensor) -> torch.Tensor:
        """x0 (B, N, C) from ``prepare``; click_idx, click_label (B, K) with label -1 = padding;
        scale (B,) with NaN = no scale. Returns mask logits (B, N)."""
        x0, xyz = x0[..., :-3], x0[..., -3:]
        unit = None
        if self.config.feature_skip:
            x0, unit = x0[..., : self.config.dim], x0[..., self.config.dim:]
        b, n, c = x0.shape
        cond = self.scale_embed(scale)
        y = self.film(x0, cond)
        m = self.config.context_points
        y_all = y
        if m:  # fast decoder: attention over a fixed subset of the point tokens
            y = y[:, context_subset(n, m, y.device)] if n > m else y
        valid = click_label >= 0
        gathered = torch.gather(y_all, 1, click_idx.clamp(0, n - 1).unsqueeze(-1).expand(-1, -1, c))
        clicks = gathered + self.click_label_embed(click_label.clamp(min=0))
        pos = (click_label == 1).unsqueeze(-1).to(y.dtype)
        pos_mean = (gathered * pos).sum(1) / pos.sum(1).clamp(min=1)
        out_tok = (self.output_token + pos_mean + cond).unsqueeze(1)
        q = torch.cat([out_tok, clicks], dim=1)  # (B, 1 + K, C)
        token_pad = torch.cat([valid.new_zeros(b, 1), ~valid], dim=1)  # True = ignore
        for layer in self.layers:
            q, y = layer(q, y, token_pad, cond)
        q = q + self.final_attn(q, y)
        query = self.query_head(q[:, 0])  # (B, C)
        keys = self.point_head(y_all if m else y)  # (B, N, C)
        logits = torch.einsum("bc,bnc->bn", query, keys) / math.sqrt(c)
        if unit is not None:
            g = torch.gather(unit, 1, click_idx.clamp(0, n - 1).unsqueeze(-1).expand(-1, -1, unit.shape[-1]))
            ref = nn.functional.normalize((g * pos).sum(1), dim=-1)  # mean positive click feature
            sim = torch.einsum("bd,bnd->bn", ref, unit)
            logits = logits + self.skip_gain * sim + self.skip_bias(q[:, 0])
        if self.ball_weight:
            logits = logits + self.ball_weight * ball_prior(xyz, click_idx, click_label, scale)
        return logits - self.prior_shift(scale)[:, None]

    def prior_shift(self, scale: torch.Tensor) -> torch.Tensor:
        """What the calibration subtracts from the logits, per sample, shape (B,): with a scale s,
        alpha * log((1 - s) / s); without one (NaN), the no-scale offset. 0 when uncalibrated.

        The class-balanced BCE weights a part's points by (1 - pi) / pi, which moves the learned
        logits up by about log((1 - s) / s): at threshold 0.5 small parts come out too large.
        Subtracting a fitted fraction alpha of that prior (logit adjustment) undoes it. Without a
        scale the decoder's masks are too large as well; a fitted constant offset shrinks them.
        """
        alpha, offset = self.calibration, self.no_scale_offset
        if alpha == 0.0 and offset == 0.0:
            return torch.zeros_like(scale)
        none = torch.isnan(scale)
        s = torch.nan_to_num(scale, nan=0.5).clamp(1e-4, 1 - 1e-4)
        return torch.where(none, torch.full_like(s, offset), alpha * torch.log((1 - s) / s))

    @property
    def calibration(self) -> float:
        """alpha of the scale prior correction, as a Python float (0.0 = uncorrected logits)."""
        return float(self.scale_logit_adjust)

    @property
    def no_scale_offset(self) -> float:
        """Logit offset subtracted from prompts without a scale, as a Python float (0.0 = none)."""
        return float(self.noscale_logit_offset)

    @property
    def ball_weight(self) -> float:
        """beta of the ball prior added to prompts with a scale, as a Python float (0.0 = none)."""
        return float(self.ball_prior_weight)

    def set_calibration(self, alpha: float, no_scale_offset: float = 0.0, ball_weight: float = 0.0) -> None:
        """Store a fitted alpha, no-scale offset and ball prior weight (s2am3d-calibrate), or zeros
        (training runs on uncorrected logits)."""
        values = (("scale prior correction alpha", alpha), ("no-scale logit offset", no_scale_offset),
                  ("ball prior weight", ball_weight))
        for name, value in values:
            value = float(value)
            if not math.isfinite(value) or not -100.0 <= value <= 100.0:
                raise ValueError(f"{name}={value!r} must be a number in [-100, 100]")
        self.scale_logit_adjust.fill_(float(alpha))
        self.noscale_logit_offset.fill_(float(no_scale_offset))
        self.ball_prior_weight.fill_(float(ball_weight))

    def forward(self, features, points, click_idx, click_label, scale) -> torch.Tensor:
        """features (B, N, D), points (B, N, 3), click_idx/click_label (B, K), scale (B,) -> logits (B, N)."""
        return self.decode_prepared(self.prepare(features, points), click_idx, click_label, scale)
