"""One-prompt inference of the scale-aware decoder: what a click or a scale-slider move costs.

:class:`SinglePromptDecoder` computes the same function as
:meth:`~s2am3d_core.modeling.decoder.ScaleAwareDecoder.decode_prepared` for one prompt (to float32
rounding; inference only), with the work rearranged around the few click tokens:

- the cross-attentions between the T click tokens and the M context point tokens fold the
  projections of the many side into the few side (:func:`few_over_many`, :func:`many_over_few`),
  so per point token they cost a few (C x T*H) products instead of (C x C) ones;
- with ``context_points`` the logit of each of the N points, ``q . Linear(LN(x * a + b)) / sqrt(C)``
  with the FiLM factors a, b of the scale, is ``rstd * (u . y - mu * sum(u)) + const`` (``u = LN.weight * (W^T q) /
  sqrt(C)``), where ``u . y``, the mean ``mu`` and ``E[y^2]`` of y = x * a + b are matrix-vector
  products over per-shape copies of X0 and X0^2 (a point whose LayerNorm input is badly
  conditioned for this is normalised directly);
- the weights are rearranged once (per shape) and the layers run as plain tensor functions.

    single = SinglePromptDecoder(model.decoder, model.decoder.prepare(features, points))
    logits = single(torch.tensor([i, j]), torch.tensor([1, 0]), 0.05)   # (N,)

The decoder's weights are read when the object is made: make a new one after changing them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .decoder import (BidirectionalLayer, CrossAttention, FiLM, ScaleAwareDecoder, ball_from_distance, click_distance,
                      context_subset)

# above this ratio E[y^2] / Var[y] of a point's LayerNorm input, the folded variance E[y^2] - E[y]^2
# loses more than ~1e-5 of its float32 precision: such points are normalised directly
FOLD_CONDITION_LIMIT = 10.0


def _ln(norm: nn.LayerNorm) -> tuple:
    return (norm.normalized_shape, norm.weight, norm.bias, norm.eps)


@dataclass
class _Attention:
    """The tensors of one :class:`CrossAttention`, arranged for the one-prompt forms."""

    heads: int
    norm_q: tuple
    norm_kv: tuple
    wq: torch.Tensor       # (C, C)
    bq: torch.Tensor       # (C,)
    wkv: torch.Tensor      # (2C, C) keys and values
    bkv: torch.Tensor      # (2C,)
    wq_h: torch.Tensor     # (H, d, C) W_q per head / sqrt(d)
    bq_h: torch.Tensor     # (H, d, 1) b_q per head / sqrt(d)
    wk_h: torch.Tensor     # (H, d, C) W_k per head / sqrt(d)
    wv_ht: torch.Tensor    # (H, C, d) W_v per head, transposed
    bv_h: torch.Tensor     # (H, 1, d)
    wo: torch.Tensor       # (C, C)
    bo: torch.Tensor       # (C,)
    wo_h: torch.Tensor     # (H, d, C) the columns of W_o that read head h, transposed

    @classmethod
    def of(cls, attn: CrossAttention) -> "_Attention":
        mha = attn.attn
        c, h = mha.embed_dim, mha.num_heads
        d = c // h
        wq, wk, wv = mha.in_proj_weight.detach().split(c)
        bq, bk, bv = mha.in_proj_bias.detach().split(c)
        wo, bo = mha.out_proj.weight.detach(), mha.out_proj.bias.detach()
        r = 1.0 / math.sqrt(d)
        return cls(heads=h, norm_q=_ln(attn.norm_q), norm_kv=_ln(attn.norm_kv), wq=wq, bq=bq,
                   wkv=torch.cat([wk, wv]), bkv=torch.cat([bk, bv]),
                   wq_h=(wq * r).reshape(h, d, c), bq_h=(bq * r).reshape(h, d, 1),
                   wk_h=(wk * r).reshape(h, d, c), wv_ht=wv.reshape(h, d, c).transpose(1, 2).contiguous(),
                   bv_h=bv.reshape(h, 1, d), wo=wo, bo=bo,
                   wo_h=wo.reshape(c, h, d).permute(1, 2, 0).contiguous())


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(T, C) -> (H, T, d)."""
    t, c = x.shape
    return x.reshape(t, heads, c // heads).transpose(0, 1)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(H, T, d) -> (T, C)."""
    h, t, d = x.shape
    return x.transpose(0, 1).reshape(t, h * d)


def few_over_few(a: _Attention, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """The click tokens' self-attention: ``attn(x[None], x[None], pad[None])[0]`` for x (T, C)."""
    q = F.linear(F.layer_norm(x, *a.norm_q), a.wq, a.bq)
    k, v = F.linear(F.layer_norm(x, *a.norm_kv), a.wkv, a.bkv).chunk(2, dim=-1)
    qh, kh, vh = _split_heads(q, a.heads), _split_heads(k, a.heads), _split_heads(v, a.heads)
    s = (qh @ kh.transpose(1, 2)) / math.sqrt(qh.shape[-1])  # (H, T, T)
    p = torch.softmax(s.masked_fill(pad, -math.inf), dim=-1)
    return F.linear(_merge_heads(p @ vh), a.wo, a.bo)


def few_over_many(a: _Attention, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """``attn(x[None], context[None])[0]`` for few queries x (T, C) over many tokens (M, C), no
    padding. With K_i = W_k n_i + b_k on the normalised context n_i, a query's score is
    n_i . (W_k^T q) (+ a constant that softmax removes) and its output W_v (sum_i p_i n_i) + b_v."""
    h = a.heads
    t, c = x.shape
    n = F.layer_norm(context, *a.norm_kv)  # (M, C)
    qh = _split_heads(F.linear(F.layer_norm(x, *a.norm_q), a.wq, a.bq), h)  # (H, T, d)
    keys = torch.bmm(qh, a.wk_h).reshape(h * t, c)
    p = torch.softmax(keys @ n.t(), dim=-1)  # (H*T, M)
    pooled = (p @ n).reshape(h, t, c)
    return F.linear(_merge_heads(torch.bmm(pooled, a.wv_ht) + a.bv_h), a.wo, a.bo)


def many_over_few(a: _Attention, x: torch.Tensor, context: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """``attn(x[None], context[None], pad[None])[0]`` for many queries x (M, C) over few tokens
    (T, C) (``pad`` (T,) True = ignore). A query's score against token t is m . (W_q^T k_t) +
    b_q . k_t on its normalised self m, and its output sum_t p_t (W_o V_t) + b_o."""
    h = a.heads
    t, c = context.shape
    k, v = F.linear(F.layer_norm(context, *a.norm_kv), a.wkv, a.bkv).chunk(2, dim=-1)
    kh, vh = _split_heads(k, h), _split_heads(v, h)  # (H, T, d)
    w = torch.bmm(kh, a.wq_h).reshape(h * t, c)
    w0 = torch.bmm(kh, a.bq_h).masked_fill(pad[None, :, None], -math.inf).reshape(h * t, 1)
    m = F.layer_norm(x, *a.norm_q)
    scores = torch.addmm(w0, w, m.t())  # (H*T, M): softmax over T with M contiguous is fast
    p = torch.softmax(scores.reshape(h, t, -1), dim=1).reshape(h * t, -1)
    z = torch.bmm(vh, a.wo_h).reshape(h * t, c)
    return torch.addmm(a.bo, p.t(), z)


@dataclass
class _FFN:
    norm: tuple
    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor

    @classmethod
    def of(cls, seq: nn.Sequential) -> "_FFN":
        norm, lin1, _, lin2 = seq
        return cls(_ln(norm), lin1.weight.detach(), lin1.bias.detach(), lin2.weight.detach(), lin2.bias.detach())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(F.gelu(F.linear(F.layer_norm(x, *self.norm), self.w1, self.b1)), self.w2, self.b2)


@dataclass
class _FiLM:
    norm: tuple
    w: torch.Tensor
    b: torch.Tensor
    gain: torch.Tensor

    @classmethod
    def of(cls, film: FiLM) -> "_FiLM":
        return cls(_ln(film.norm), film.proj.weight.detach(), film.proj.bias.detach(), film.gain.detach())

    def factors(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cond (1, C) -> (a, b) (1, C): FiLM(x) = x * a + b."""
        gamma, beta = F.linear(F.layer_norm(cond, *self.norm), self.w, self.b).chunk(2, dim=-1)
        return 1 + self.gain * gamma, self.gain * beta


@dataclass
class _Layer:
    self_attn: _Attention
    token_to_point: _Attention
    token_ffn: _FFN
    film: _FiLM
    point_to_token: _Attention
    point_ffn: _FFN

    @classmethod
    def of(cls, layer: BidirectionalLayer) -> "_Layer":
        return cls(_Attention.of(layer.self_attn), _Attention.of(layer.token_to_point), _FFN.of(layer.token_ffn),
                   _FiLM.of(layer.film), _Attention.of(layer.point_to_token), _FFN.of(layer.point_ffn))

    def __call__(self, q: torch.Tensor, y: torch.Tensor, pad: torch.Tensor,
                 cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`BidirectionalLayer.forward` for one prompt: q (T, C), y (M, C), pad (T,)."""
        q = q + few_over_few(self.self_attn, q, pad)
        q = q + few_over_many(self.token_to_point, q, y)
        q = q + self.token_ffn(q)
        a, b = self.film.factors(cond)
        y = y * a + b
        y = y + many_over_few(self.point_to_token, y, q, pad)
        return q, y + self.point_ffn(y)


class SinglePromptDecoder:
    """One-prompt decoding of one shape (see the module docstring).

    Args:
        decoder: the model's :class:`ScaleAwareDecoder` (in eval mode).
        tokens: its ``prepare`` output for the shape, (1, N, C[+D]) or (N, C[+D]).
    """

    @torch.no_grad()
    def __init__(self, decoder: ScaleAwareDecoder, tokens: torch.Tensor):
        cfg = decoder.config
        c = self.dim = cfg.dim
        tokens = tokens.detach().reshape(-1, tokens.shape[-1])
        x = tokens[:, :c]  # (N, C) point tokens X0
        n, m = x.shape[0], cfg.context_points
        self.num_points = n
        ctx = context_subset(n, m, x.device) if m and n > m else None
        self.x_context = x.contiguous() if ctx is None else x[ctx].contiguous()  # (M, C) what the layers see
        # without context_points the logits read the point tokens after the layers (nothing to fold)
        self.keys_after_layers = not m
        self.xt = x.t().contiguous()  # (C, N) X0 transposed: click tokens, and the folded logit
        self.x2t = None if self.keys_after_layers else (x * x).t().contiguous()  # (C, N) X0^2
        self.unit_t = tokens[:, c:-3].t().contiguous() if cfg.feature_skip else None  # (D, N)
        self.xyz = tokens[:, -3:].contiguous()  # (N, 3) the points, for the ball prior
        self.ball_prior_weight = decoder.ball_prior_weight  # the buffer: set_calibration changes it in place
        self.scale_embed = decoder.scale_embed
        self.prior_shift = decoder.prior_shift
        self.film = _FiLM.of(decoder.film)
        self.label_embed = decoder.click_label_embed.weight.detach()
        self.output_token = decoder.output_token.detach()
        self.layers = [_Layer.of(layer) for layer in decoder.layers]
        self.final_attn = _Attention.of(decoder.final_attn)
        qn, ql1, _, ql2 = decoder.query_head
        self.query_head = _FFN(_ln(qn), ql1.weight.detach(), ql1.bias.detach(), ql2.weight.detach(),
                               ql2.bias.detach())
        norm, head = decoder.point_head
        self.head_norm, self.head_w, self.head_b = _ln(norm), head.weight.detach(), head.bias.detach()
        self.skip = None
        self._similarity_cache: tuple[tuple, torch.Tensor] | None = None  # (clicks, similarity (N,))
        self._distance_cache: tuple[tuple, torch.Tensor] | None = None  # (clicks, distances (1, N))
        if cfg.feature_skip:
            bn, bl = decoder.skip_bias
            self.skip = (decoder.skip_gain.detach(), _ln(bn), bl.weight.detach(), bl.bias.detach())

    @torch.no_grad()
    def __call__(self, click_idx: torch.Tensor, click_label: torch.Tensor, scale: float) -> torch.Tensor:
        """Mask logits (N,) for click indices and labels (K,) (1 = positive, 0 = negative) and a
        ``scale`` (NaN = no scale)."""
        c, x = self.dim, self.xt
        click_idx = click_idx.reshape(-1).clamp(0, self.num_points - 1)
        click_label = click_label.reshape(-1)
        scale_t = torch.tensor([scale], dtype=x.dtype, device=x.device)
        cond = self.scale_embed(scale_t)  # (1, C)
        a, b = self.film.factors(cond)
        y = self.x_context * a + b
        gathered = x[:, click_idx].t() * a + b  # (K, C)
        pos = (click_label == 1).to(x.dtype)[:, None]
        pos_mean = (gathered * pos).sum(0, keepdim=True) / pos.sum().clamp(min=1)
        clicks = gathered + self.label_embed[click_label.clamp(min=0)]
        q = torch.cat([self.output_token + pos_mean + cond, clicks])  # (T, C)
        pad = torch.cat([click_label.new_zeros(1, dtype=torch.bool), click_label < 0])
        for layer in self.layers:
            q, y = layer(q, y, pad, cond)
        q0 = (q + few_over_many(self.final_attn, q, y))[:1]  # (1, C) the output token
        query = self.query_head(q0)[0]
        if self.keys_after_layers:  # every point token went through the layers: its own LayerNorm
            logits = F.layer_norm(y, *self.head_norm) @ (query @ self.head_w) / math.sqrt(c) \
                + (query @ self.head_b) / math.sqrt(c)
        else:
            logits = self._point_logits(query, a[0], b[0])
        if self.skip is not None:
            gain, bias_norm, bias_w, bias_b = self.skip
            bias = F.linear(F.layer_norm(q0, *bias_norm), bias_w, bias_b)[0]
            logits = logits + gain * self._similarity(click_idx, pos) + bias
        beta = float(self.ball_prior_weight)
        if beta:
            logits = logits + beta * ball_from_distance(self._distance(click_idx, click_label), scale_t)[0]
        return logits - self.prior_shift(scale_t)

    def _similarity(self, click_idx: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """(N,) cosine similarity of every point's feature to the mean positive click feature; it
        depends on the clicks only, so a scale-slider drag reuses it."""
        key = (click_idx.tolist(), pos.flatten().tolist())
        if self._similarity_cache is None or self._similarity_cache[0] != key:
            ref = F.normalize((self.unit_t[:, click_idx] * pos.t()).sum(1), dim=-1)  # mean positive click feature
            self._similarity_cache = (key, ref @ self.unit_t)
        return self._similarity_cache[1]

    def _distance(self, click_idx: torch.Tensor, click_label: torch.Tensor) -> torch.Tensor:
        """(1, N) every point's distance from the nearest positive click, cached like the similarity."""
        key = (click_idx.tolist(), click_label.tolist())
        if self._distance_cache is None or self._distance_cache[0] != key:
            self._distance_cache = (key, click_distance(self.xyz[None], click_idx[None], click_label[None]))
        return self._distance_cache[1]

    def _point_logits(self, query: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(N,) ``query . Linear(LN(x * a + b)) / sqrt(C)`` for every point token x, folded."""
        c = self.dim
        _, w_norm, b_norm, eps = self.head_norm
        v = (query @ self.head_w) / math.sqrt(c)
        u = v * w_norm
        const = (query @ self.head_b) / math.sqrt(c) + v @ b_norm
        sums = torch.stack([u * a, a / c, 2 * a * b / c]) @ self.xt  # (3, N): u.y - u.b, mu - mean(b), ...
        mu = sums[1] + b.mean()
        mean_sq = sums[2] + ((a * a / c) @ self.x2t) + (b @ b) / c  # E[y^2]
        var = mean_sq - mu * mu
        logits = torch.rsqrt(var.clamp(min=0) + eps) * (sums[0] + u @ b - mu * u.sum()) + const
        ill = ~(var * FOLD_CONDITION_LIMIT > mean_sq)  # cancellation (or var <= 0): normalise directly
        if bool(ill.any()):
            rows = F.layer_norm(self.xt[:, ill].t() * a + b, *self.head_norm)
            logits[ill] = F.linear(rows, self.head_w, self.head_b) @ query / math.sqrt(c)
        return logits
