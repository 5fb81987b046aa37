"""The recipe that trains the shipped ``models/s2am3d-small.safetensors`` on CPU.

Stage 1: encoder with the intra-instance contrastive loss on procedural part labels (a random
hierarchy level per object and step). Stage 2: encoder frozen, its features precomputed once,
decoder trained on sampled click/scale prompts with weighted BCE + Dice (scale dropout 0.2).
Both stages stop at a wall-clock budget, so the recipe fits a fixed amount of machine time.

    python -m s2am3d_core.train.recipe_small --out runs/small --objects 1600 \
        --encoder-minutes 15 --decoder-minutes 20
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..checkpoint import load_model, save_model
from ..config import get_config
from ..data import procedural
from ..data.types import PartPoints
from ..geometry import normalize_points
from ..io.sample import sample_surface
from ..modeling import S2AM3D, contrastive_loss, mask_loss
from .trainer import drop_calibration

EVAL_SEED_OFFSET = 1_000_000


def to_points(mesh, n: int, seed: int) -> PartPoints:
    pts, face = sample_surface(mesh.vertices, mesh.faces, n, seed=seed)
    norm, _, _ = normalize_points(pts)
    return PartPoints(norm, mesh.face_labels[:, face], mesh.name, mesh.category)


def make_set(count: int, n: int, seed: int) -> list[PartPoints]:
    return [to_points(m, n, seed + i) for i, m in enumerate(tqdm(procedural.generate_many(count, seed=seed),
                                                                   total=count, desc="data", leave=False))]


def sample_prompt(labels: np.ndarray, rng: np.random.Generator, max_pos: int = 3, max_neg: int = 2):
    """Pick a level and part; return click_idx, click_label (K,), scale, target (N,) bool."""
    n = labels.shape[1]
    if rng.random() < 0.05:
        target = np.ones(n, bool)
    else:
        lvl = labels[rng.integers(len(labels))]
        parts, counts = np.unique(lvl[lvl >= 0], return_counts=True)
        ok = counts >= 8
        parts, counts = parts[ok], counts[ok]
        w = 1.0 / np.sqrt(counts)  # do not starve small parts
        target = lvl == rng.choice(parts, p=w / w.sum())
    inside, outside = np.flatnonzero(target), np.flatnonzero(~target)
    pos = rng.choice(inside, size=min(1 + rng.integers(max_pos), len(inside)), replace=False)
    neg = rng.choice(outside, size=min(rng.integers(max_neg + 1), len(outside)), replace=False) if len(outside) else []
    idx = np.concatenate([pos, neg]).astype(np.int64)
    lab = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]).astype(np.int64)
    return idx, lab, float(target.mean()), target


def collate(prompts, k: int):
    b = len(prompts)
    idx = torch.zeros(b, k, dtype=torch.long)
    lab = torch.full((b, k), -1, dtype=torch.long)
    for i, (ci, cl, _, _) in enumerate(prompts):
        idx[i, : len(ci)] = torch.from_numpy(ci)
        lab[i, : len(cl)] = torch.from_numpy(cl)
    scale = torch.tensor([p[2] for p in prompts], dtype=torch.float32)
    target = torch.from_numpy(np.stack([p[3] for p in prompts])).float()
    return idx, lab, scale, target


def lr_at(step: float, frac: float, base: float) -> float:
    """Linear warmup over the first 5 % of the budget, cosine decay after."""
    if frac < 0.05:
        return base * frac / 0.05
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - 0.05) / 0.95)))


def train_encoder(model: S2AM3D, data: list[PartPoints], minutes: float, batch: int, lr: float, log) -> int:
    opt = torch.optim.AdamW(model.encoder.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(0)
    start, step = time.time(), 0
    bar = tqdm(desc="stage 1 encoder", unit="step")
    model.encoder.train()
    while (frac := (time.time() - start) / (minutes * 60)) < 1.0:
        items = [data[i] for i in rng.integers(len(data), size=batch)]
        pts = torch.from_numpy(np.stack([it.points for it in items]))
        labels = torch.from_numpy(np.stack([it.labels[rng.integers(len(it.labels))] for it in items]))
        for g in opt.param_groups:
            g["lr"] = lr_at(step, frac, lr)
        loss = contrastive_loss(model.encode(pts), labels, tau=0.07, max_points=512)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.encoder.parameters(), 1.0)
        opt.step()
        step += 1
        bar.update()
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if step % 25 == 0:
            log({"stage": 1, "step": step, "loss": loss.item(), "minutes": (time.time() - start) / 60})
    bar.close()
    return step


@torch.no_grad()
def features(model: S2AM3D, data: list[PartPoints]) -> list[torch.Tensor]:
    model.eval()
    return [model.encode(torch.from_numpy(d.points)[None])[0] for d in tqdm(data, desc="features", leave=False)]


@torch.no_grad()
def evaluate(model: S2AM3D, data: list[PartPoints], feats: list[torch.Tensor], prompts_per_object: int = 8) -> dict:
    """Mean IoU of single-click prompts on held-out objects, with and without the true scale."""
    model.eval()
    rng = np.random.default_rng(123)
    iou = {"with_scale": [], "no_scale": [], "whole_object_baseline": []}
    for d, f in zip(data, feats):
        prompts = [sample_prompt(d.labels, rng, max_pos=1, max_neg=0) for _ in range(prompts_per_object)]
        idx, lab, scale, target = collate(prompts, 1)
        pts = torch.from_numpy(d.points)[None].expand(len(prompts), -1, -1)
        fb = f[None].expand(len(prompts), -1, -1)
        for key, s in (("with_scale", scale), ("no_scale", torch.full_like(scale, float("nan")))):
            pred = model.decode(fb, pts, idx, lab, s) > 0
            inter = (pred & (target > 0)).sum(1).float()
            union = (pred | (target > 0)).sum(1).float()
            iou[key] += (inter / union.clamp(min=1)).tolist()
        iou["whole_object_baseline"] += target.mean(1).tolist()
    return {k: float(np.mean(v)) for k, v in iou.items()}


def train_decoder(model: S2AM3D, data, feats, eval_data, eval_feats, minutes: float, batch: int, lr: float, log) -> int:
    for p in model.encoder.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.decoder.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(1)
    start, step = time.time(), 0
    bar = tqdm(desc="stage 2 decoder", unit="step")
    while (frac := (time.time() - start) / (minutes * 60)) < 1.0:
        model.decoder.train()
        which = rng.integers(len(data), size=batch)
        prompts = [sample_prompt(data[i].labels, rng) for i in which]
        idx, lab, scale, target = collate(prompts, 5)
        scale = torch.where(torch.from_numpy(rng.random(batch) < 0.2), torch.full_like(scale, float("nan")), scale)
        pts = torch.from_numpy(np.stack([data[i].points for i in which]))
        f = torch.stack([feats[i] for i in which])
        for g in opt.param_groups:
            g["lr"] = lr_at(step, frac, lr)
        loss = mask_loss(model.decode(f, pts, idx, lab, scale), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.decoder.parameters(), 1.0)
        opt.step()
        step += 1
        bar.update()
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if step % 200 == 0:
            log({"stage": 2, "step": step, "loss": loss.item(), "minutes": (time.time() - start) / 60,
                 "eval": evaluate(model, eval_data[:40], eval_feats[:40], 4)})
    bar.close()
    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/small"))
    ap.add_argument("--config", default="cpu-small")
    ap.add_argument("--objects", type=int, default=1600)
    ap.add_argument("--eval-objects", type=int, default=108)
    ap.add_argument("--points", type=int, default=2048)
    ap.add_argument("--encoder-minutes", type=float, default=15)
    ap.add_argument("--decoder-minutes", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", type=Path, default=None,
                    help="continue from a full model checkpoint (use with --encoder-minutes 0 to train only the decoder)")
    ap.add_argument("--decoder-lr", type=float, default=1e-3)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    logf = open(args.out / "log.jsonl", "a")

    def log(rec):
        logf.write(json.dumps(rec) + "\n")
        logf.flush()
        tqdm.write(json.dumps(rec))

    t0 = time.time()
    train = make_set(args.objects, args.points, seed=0)
    held = make_set(args.eval_objects, args.points, seed=EVAL_SEED_OFFSET)
    model = drop_calibration(load_model(args.init)) if args.init else S2AM3D(get_config(args.config))
    t1 = time.time()
    enc_steps = train_encoder(model, train, args.encoder_minutes, batch=8, lr=1e-3, log=log) if args.encoder_minutes > 0 else 0
    t2 = time.time()
    feats, eval_feats = features(model, train), features(model, held)
    if args.init:
        log({"eval_before": evaluate(model, held, eval_feats, 8)})
    dec_steps = train_decoder(model, train, feats, held, eval_feats, args.decoder_minutes, batch=16, lr=args.decoder_lr,
                              log=log)
    t3 = time.time()
    result = evaluate(model, held, eval_feats, 8)
    summary = {"objects": args.objects, "eval_objects": args.eval_objects, "points": args.points,
               "encoder_steps": enc_steps, "decoder_steps": dec_steps, "data_minutes": (t1 - t0) / 60,
               "encoder_minutes": (t2 - t1) / 60, "decoder_minutes": (t3 - t2) / 60, "eval": result,
               "config": model.config.to_json() if args.init else args.config,
               "init": str(args.init) if args.init else None, "recipe": "s2am3d_core.train.recipe_small"}
    log({"final": summary})
    save_model(model, args.out / "model.safetensors", {"training": json.dumps(summary)})
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
