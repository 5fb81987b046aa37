"""The two training stages of S2AM3D in one loop (nanoGPT style).

Stage 1 ("encoder"): intra-instance contrastive loss (tau 0.07) on the part labels. The loss is
averaged over all hierarchy levels of each object (``--level-mode mean``, default), so two points
in the same fine part are pulled together by every level and points that only share a coarse part
by fewer: feature distance then reflects how deep in the hierarchy two points separate.
``--level-mode random`` instead uses one random level per object and step. Light augmentation
(rotation about z, anisotropic scale 0.8-1.2, jitter, renormalised). Optional SAM distillation.

Stage 2 ("decoder"): the encoder is frozen (its features are computed once per object), the
decoder learns from sampled click prompts with the true part scale, replaced by NaN ("no scale")
with probability ``--scale-dropout``; loss = weighted BCE + Dice. Eval: mean IoU of one-click
prompts on held-out objects, with and without the scale, next to the whole-object baseline.

Both: AdamW, linear warmup + cosine decay over ``--steps``, grad clipping, bf16 autocast on CUDA,
DDP under torchrun, resumable checkpoints (RUN_DIR/last.safetensors + last_state.pt), optional
wall-clock limit (``--max-minutes``) after which the run saves and stops cleanly.
"""
from __future__ import annotations

import json
import math
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import dist
from .data import (augment, collate_prompts, fit_points, level_stack, load_datasets,
                   sample_prompt)
from ..checkpoint import load_model, load_state_strict, save_model
from ..config import get_config
from ..data.types import PartPoints
from ..device import pick_device
from ..errors import CheckpointError, InputError
from ..io.atomic import atomic_path
from ..modeling import S2AM3D, contrastive_loss, mask_loss


# ----------------------------------------------------------------------------- model
def weights_path(p: str | Path) -> Path:
    """A run folder (-> its model.safetensors) or a weights file."""
    p = Path(p)
    if p.is_dir():
        for name in ("model.safetensors", "last.safetensors"):
            if (p / name).is_file():
                return p / name
        raise CheckpointError(f"{p}: run folder has no model.safetensors or last.safetensors")
    return p


def build_model(args) -> S2AM3D:
    """--encoder / --init / --config -> the model to train (checkpoint configs win over --config)."""
    if args.stage == "decoder" and getattr(args, "encoder", None):
        model = load_model(weights_path(args.encoder))
        if args.init:  # decoder starts from --init, encoder from --encoder
            init = load_model(weights_path(args.init))
            load_state_strict(model.decoder, init.decoder.state_dict(), f"{args.init} (decoder)")
    elif args.init:
        model = load_model(weights_path(args.init))
    elif args.stage == "decoder":
        raise InputError("decoder needs a trained encoder: pass --encoder RUN_DIR_or_WEIGHTS (or --init WEIGHTS)")
    else:
        model = S2AM3D(get_config(args.config or "cpu-small"))
    return drop_calibration(model)


def drop_calibration(model: S2AM3D) -> S2AM3D:
    """Train on uncorrected logits: the loss re-learns the prior that s2am3d-calibrate removed."""
    if model.config.decoder.scale_logit_adjust:
        print(f"note: dropping the scale prior correction (alpha = {model.config.decoder.scale_logit_adjust}) "
              "of the initial weights for training; run s2am3d-calibrate on the result", file=sys.stderr)
        model.config.decoder.scale_logit_adjust = 0.0
    return model


def lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


# ----------------------------------------------------------------------------- batches
def encoder_batch(items, rng, args):
    pts, labs = [], []
    for i in rng.integers(len(items), size=args.batch_size):
        it = items[i]
        if getattr(it, "sam", None) is not None:  # SAM views = extra label levels
            it = PartPoints(it.points, np.concatenate([it.labels, it.sam]), it.name)
        p, lab = fit_points(it, args.points, rng)
        pts.append(augment(p, rng) if args.augment else p)
        labs.append(lab[rng.integers(len(lab))][None] if args.level_mode == "random" else lab)
    return torch.from_numpy(np.stack(pts)), torch.from_numpy(level_stack(labs))


def decoder_batch(items, feats, rng, args):
    which = rng.integers(len(items), size=args.batch_size)
    prompts = [sample_prompt(items[i].labels, rng, max_pos=args.max_pos, max_neg=args.max_neg) for i in which]
    idx, lab, scale, target = collate_prompts(prompts, args.max_pos + args.max_neg)
    drop = torch.from_numpy(rng.random(len(which)) < args.scale_dropout)
    scale = torch.where(drop, torch.full_like(scale, float("nan")), scale)
    pts = torch.from_numpy(np.stack([items[i].points for i in which]))
    f = torch.stack([feats[i] for i in which]).float()
    return f, pts, idx, lab, scale, target


@torch.no_grad()
def encode_all(model: S2AM3D, items, device, desc="features") -> list[torch.Tensor]:
    model.encoder.eval()
    return [model.encode(torch.from_numpy(it.points)[None].to(device))[0].to("cpu", torch.float16)
            for it in tqdm(items, desc=desc, leave=False, disable=len(items) < 20)]


@torch.no_grad()
def evaluate_decoder(model: S2AM3D, items, feats, device, prompts_per_object: int = 4, max_objects: int = 64) -> dict:
    """Mean IoU of single positive-click prompts on held-out objects (fixed prompts, seed 123)."""
    model.decoder.eval()
    rng = np.random.default_rng(123)
    res = {"iou_scale": [], "iou_no_scale": [], "iou_whole_object": []}
    for it, f in list(zip(items, feats))[:max_objects]:
        prompts = [sample_prompt(it.labels, rng, max_pos=1, max_neg=0) for _ in range(prompts_per_object)]
        idx, lab, scale, target = collate_prompts(prompts, 1)
        k = len(prompts)
        pts = torch.from_numpy(it.points)[None].expand(k, -1, -1).to(device)
        fb = f[None].expand(k, -1, -1).float().to(device)
        tgt = target.to(device) > 0
        for key, s in (("iou_scale", scale), ("iou_no_scale", torch.full_like(scale, float("nan")))):
            pred = model.decode(fb, pts, idx.to(device), lab.to(device), s.to(device)) > 0
            res[key] += ((pred & tgt).sum(1) / (pred | tgt).sum(1).clamp(min=1)).tolist()
        res["iou_whole_object"] += tgt.float().mean(1).tolist()
    return {k: round(float(np.mean(v)), 4) for k, v in res.items()}


@torch.no_grad()
def evaluate_encoder(model: S2AM3D, items, device, args, max_objects: int = 32) -> dict:
    """Contrastive loss (mean over levels, no augmentation, fixed point subsets) on held-out objects."""
    model.encoder.eval()
    g = torch.Generator().manual_seed(0)
    losses = []
    for it in items[:max_objects]:
        f = model.encode(torch.from_numpy(it.points)[None].to(device))
        for lab in it.labels:
            losses.append(contrastive_loss(f.float().cpu(), torch.from_numpy(lab)[None], tau=args.tau,
                                           max_points=args.contrast_points, generator=g).item())
    return {"eval_contrastive": round(float(np.mean(losses)), 4)}


# ----------------------------------------------------------------------------- state
def save_state(out: Path, model, opt, sched, step, rng, extra) -> None:
    save_model(model, out / "last.safetensors", {"stage": extra["stage"], "step": str(step)})
    state = {"step": step, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "torch_rng": torch.get_rng_state(), "np_rng": json.dumps(rng.bit_generator.state),
             "stage": extra["stage"], "total_steps": extra["steps"]}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    with atomic_path(out / "last_state.pt") as tmp:
        torch.save(state, tmp)


def load_state(out: Path, model, opt, sched, rng, stage: str) -> int:
    wp, sp = out / "last.safetensors", out / "last_state.pt"
    if not (wp.is_file() and sp.is_file()):
        raise CheckpointError(f"--resume: {out} has no last.safetensors + last_state.pt to resume from")
    try:
        state = torch.load(sp, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{sp}: unreadable training state ({exc})") from exc
    if state.get("stage") != stage:
        raise CheckpointError(f"--resume: {out} holds a {state.get('stage')!r} run, not {stage!r}")
    load_state_strict(model, load_model(wp).state_dict(), str(wp))
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    rng.bit_generator.state = json.loads(state["np_rng"])
    return int(state["step"])


# ----------------------------------------------------------------------------- loop
def run(args) -> tuple[S2AM3D, dict]:
    """Train one stage as described by the parsed CLI ``args``; returns (model, summary)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    rank, world, device = dist.setup(pick_device(args.device))
    out = Path(args.out)
    if args.resume and not (out / "last_state.pt").is_file():
        raise CheckpointError(f"--resume: {out} has no last_state.pt to resume from")
    torch.manual_seed(args.seed)                       # same init on every rank
    model = build_model(args).to(device)
    train, held, desc = load_datasets(args)
    if args.stage == "encoder" and args.sam_checkpoint:
        from .sam_distill import load_sam
        attach_sam_labels(train, load_sam(args.sam_checkpoint, args.sam_model, str(device)), args)
    torch.manual_seed(args.seed + rank)                # different point subsets per rank
    rng = np.random.default_rng([args.seed, rank])
    log_f = None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        log_f = open(out / "log.jsonl", "a")

    def log(rec: dict) -> None:
        if rank == 0:
            log_f.write(json.dumps(rec) + "\n")
            log_f.flush()

    trained = model.encoder if args.stage == "encoder" else model.decoder
    frozen = model.decoder if args.stage == "encoder" else model.encoder
    frozen.requires_grad_(False)
    feats = held_feats = None
    if args.stage == "decoder":
        feats, held_feats = encode_all(model, train, device), encode_all(model, held, device, "eval features")
    net = dist.wrap(trained, device)
    opt = torch.optim.AdamW(trained.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    warm = max(1, int(args.warmup * args.steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, warm, args.steps))
    step = load_state(out, model, opt, sched, rng, args.stage) if args.resume else 0
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    evaluate = ((lambda: evaluate_encoder(model, held, device, args)) if args.stage == "encoder"
                else (lambda: evaluate_decoder(model, held, held_feats, device)))
    if rank == 0:
        log({"event": "start", "stage": args.stage, "step": step, "steps": args.steps, "data": desc,
             "train_objects": len(train), "eval_objects": len(held), "world_size": world,
             "device": str(device), "config": model.config.to_json()})
    stop_at = min(args.steps, args.stop_at or args.steps)
    t0, last_eval, stopped = time.time(), {}, ""
    bar = tqdm(total=args.steps, initial=step, desc=args.stage, disable=rank != 0 or args.quiet, unit="step")
    while step < stop_at:
        if args.max_minutes and _time_up(t0, args.max_minutes, world):
            stopped = f"time limit ({args.max_minutes} min)"
            break
        net.train()
        with amp:
            if args.stage == "encoder":
                pts, labels = encoder_batch(train, rng, args)
                f = net(pts.to(device)).float()
                loss = torch.stack([contrastive_loss(f, lab.to(device), tau=args.tau, max_points=args.contrast_points)
                                    for lab in labels]).mean()
            else:
                f, pts, idx, lab, scale, target = (x.to(device) for x in decoder_batch(train, feats, rng, args))
                loss = mask_loss(net(f, pts, idx, lab, scale).float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(trained.parameters(), args.grad_clip)
        opt.step()
        sched.step()
        step += 1
        bar.update()
        bar.set_postfix(loss=f"{loss.item():.3f}", **{k[4:]: v for k, v in last_eval.items() if k.startswith("iou_")})
        if step % args.log_every == 0:
            log({"step": step, "loss": round(loss.item(), 5), "lr": sched.get_last_lr()[0],
                 "grad_norm": round(float(gnorm), 4), "elapsed_s": round(time.time() - t0, 1)})
        if args.eval_every and step % args.eval_every == 0 and rank == 0:
            last_eval = evaluate()
            log({"step": step, "eval": last_eval})
            tqdm.write(f"step {step}: " + " ".join(f"{k}={v}" for k, v in last_eval.items()))
        if args.save_every and step % args.save_every == 0 and rank == 0:
            save_state(out, model, opt, sched, step, rng, {"stage": args.stage, "steps": args.steps})
    bar.close()
    wall = time.time() - t0
    summary = {"stage": args.stage, "steps": step, "target_steps": args.steps, "wall_s": round(wall, 1),
               "data": desc, "train_objects": len(train), "eval_objects": len(held), "world_size": world,
               "batch_size": args.batch_size, "points": args.points, "lr": args.lr, "stopped": stopped or "done"}
    if rank == 0:
        save_state(out, model, opt, sched, step, rng, {"stage": args.stage, "steps": args.steps})
        summary["eval"] = evaluate()
        log({"event": "end", **summary})
        meta = {"stage": args.stage, "steps": str(step), "data": desc, "eval": json.dumps(summary["eval"]),
                "training": json.dumps(summary)}
        save_model(model, out / "model.safetensors", meta)
        log_f.close()
        print(json.dumps(summary))
    dist.barrier()
    return model, summary


def _time_up(t0: float, minutes: float, world: int) -> bool:
    up = torch.tensor([float(time.time() - t0 > minutes * 60)])
    if world > 1:  # every rank stops at the same step (rank 0's clock decides)
        torch.distributed.broadcast(up, 0)
    return bool(up.item())


def attach_sam_labels(items, mask_fn, args) -> None:
    """Compute SAM pseudo labels (views, N) for every training object that has a mesh."""
    from .sam_distill import pseudo_labels
    if args.data:
        raise InputError("--sam-checkpoint needs the meshes: use --procedural N or --user-dir DIR, not --data")
    if args.user_dir:
        from .data import user_meshes
        meshes = {m.name: m for m in user_meshes(Path(args.user_dir)) if not isinstance(m, PartPoints)}
    else:
        from ..data import procedural
        meshes = {}
        for it in items:
            cat, seed = it.name.rsplit("_", 1)
            meshes[it.name] = procedural.generate(cat, int(seed))
    for i, it in enumerate(tqdm(items, desc="SAM views", leave=False)):
        mesh = meshes.get(it.name)
        if mesh is None:
            raise InputError(f"SAM distillation needs meshes; {it.name!r} is a point cloud")
        it.sam = pseudo_labels(mesh.vertices, mesh.faces, it.points, mask_fn, views=args.sam_views, seed=args.seed + i)
