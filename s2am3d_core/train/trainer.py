"""The two training stages of S2AM3D in one loop (nanoGPT style); defaults in :class:`.config.TrainConfig`.

Stage 1 ("encoder"): intra-instance contrastive loss (tau 0.07) on the part labels, averaged over
the hierarchy levels of each object (``level_mode="mean"``) or one random level per object
(``"random"``). Negatives from an adjacent part (closer than ``hard_negative_radius``) weigh
``1 + hard_negative_weight`` in the denominator: distance alone cannot separate them, so the
features must. Augmentation: any orientation (z-up, Y-up or random), anisotropic scale, jitter.
Optional SAM distillation.

Stage 2 ("decoder"): the encoder is frozen (its features are computed once per object), the
decoder learns from click prompts of :func:`s2am3d_core.data.prompts.sample_prompt` (every part
alike by default; clicks anywhere on the part; negative clicks mostly on sibling parts) with the
true part scale, replaced by NaN ("no scale") with probability ``scale_dropout``; loss = weighted
BCE + Dice. Eval: one-click IoU on held-out objects with and without the scale, the top-k IoU
(k = true part size) and the ball baseline (the k points nearest the click).

Both: AdamW, linear warmup + cosine decay over the schedule, grad clipping, bf16 autocast on CUDA,
DDP under torchrun. The schedule spans ``steps`` or, with ``max_minutes``, the wall-clock budget,
whichever ends first, and the run saves and stops cleanly at its end. Resumable: RUN_DIR/checkpoint.pt
holds the weights, the optimiser, the step, the elapsed time and the RNG states in one file,
written atomically, so a crash can never leave weights and optimiser state of different steps.
"""
from __future__ import annotations

import dataclasses
import errno
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
from .config import TrainConfig
from .data import augment, fit_points, level_stack, load_datasets, user_meshes
from ..checkpoint import CALIBRATION_TENSOR, NO_SCALE_OFFSET_TENSOR, load_model, load_state_strict, save_model
from ..config import ModelConfig, get_config
from ..data import procedural
from ..data.prompts import Prompt, collate_prompts, sample_prompt
from ..data.types import PartPoints
from ..device import pick_device
from ..errors import CheckpointError, InputError
from ..io.atomic import atomic_path
from ..modeling import S2AM3D, contrastive_loss, mask_loss

CHECKPOINT = "checkpoint.pt"


# ----------------------------------------------------------------------------- model
def weights_path(p: str | Path) -> Path:
    """A run folder (-> its model.safetensors) or a weights file."""
    p = Path(p)
    if p.is_dir():
        if (p / "model.safetensors").is_file():
            return p / "model.safetensors"
        raise CheckpointError(f"{p}: run folder has no model.safetensors (an unfinished run: continue it with "
                              f"--resume --out {p})")
    return p


def build_model(cfg) -> S2AM3D:
    """encoder / init / config -> the model to train (checkpoint configs win over ``config``)."""
    if cfg.stage == "decoder" and getattr(cfg, "encoder", None):
        model = load_model(weights_path(cfg.encoder))
        if cfg.init:  # decoder starts from init, encoder from encoder
            init = load_model(weights_path(cfg.init))
            load_state_strict(model.decoder, init.decoder.state_dict(), f"{cfg.init} (decoder)")
    elif cfg.init:
        model = load_model(weights_path(cfg.init))
    elif cfg.stage == "decoder":
        raise InputError("decoder needs a trained encoder: pass --encoder RUN_DIR_or_WEIGHTS (or --init WEIGHTS)")
    else:
        model = S2AM3D(get_config(cfg.config or "cpu-small"))
    model = drop_calibration(model, cfg.stage, getattr(cfg, "calibrate", False))
    if cfg.stage == "decoder" and getattr(cfg, "ball_prior", 0.0):
        model.decoder.set_calibration(0.0, 0.0, cfg.ball_prior)  # the decoder learns around the ball
    return model


def drop_calibration(model: S2AM3D, stage: str = "decoder", calibrate: bool = False) -> S2AM3D:
    """Train on uncorrected logits: the loss re-learns the prior that s2am3d-calibrate removed."""
    alpha, offset, beta = model.decoder.calibration, model.decoder.no_scale_offset, model.decoder.ball_weight
    if alpha or offset or beta:
        nxt = ("next: the decoder stage on this encoder (s2am3d-train decoder --encoder RUN_DIR), then "
               "s2am3d-calibrate on its result" if stage == "encoder"
               else "--calibrate fits it again at the end (RUN_DIR/calibrated.safetensors)" if calibrate
               else "fit it again with --calibrate or s2am3d-calibrate on the result")
        print(f"note: dropping the calibration (scale prior alpha = {alpha:g}, no-scale offset = {offset:g}, "
              f"ball prior weight = {beta:g}) "
              f"of the initial weights for training; {nxt}", file=sys.stderr)
        model.decoder.set_calibration(0.0)
    return model


def lr_factor(progress: float, warmup: float, min_frac: float = 0.05) -> float:
    """Learning-rate factor at ``progress`` in [0, 1] of the schedule: linear warmup, then cosine to ``min_frac``."""
    if progress < warmup:
        return max(progress / warmup, 1e-3)
    t = min(1.0, (progress - warmup) / max(1e-9, 1 - warmup))
    return min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * t))


def progress_of(step: int, elapsed_s: float, cfg: TrainConfig) -> float:
    """Fraction of the schedule done: steps, or the wall-clock budget when that ends first."""
    p = step / cfg.steps
    if cfg.max_minutes:
        p = max(p, elapsed_s / (cfg.max_minutes * 60))
    return min(1.0, p)


# ----------------------------------------------------------------------------- batches
FEW_SHAPES = 20  # fine-tuning on fewer user files than this without --replay: the run suggests it


def draw_items(n: int, rng, cfg: TrainConfig, weights: np.ndarray | None = None) -> np.ndarray:
    """``cfg.batch_size`` item indices: uniform, or by ``weights`` (see :func:`replay_weights`)."""
    if weights is None:
        return rng.integers(n, size=cfg.batch_size)
    return rng.choice(n, size=cfg.batch_size, p=weights)


def replay_weights(num_items: int, num_replay: int, fraction: float) -> np.ndarray | None:
    """Draw probabilities of the training items when the last ``num_replay`` are replayed procedural
    objects (``--replay``): together they get ``fraction``, the user's items the rest; None without."""
    own = num_items - num_replay
    if num_replay <= 0 or own <= 0:
        return None
    w = np.r_[np.full(own, (1.0 - fraction) / own), np.full(num_replay, fraction / num_replay)]
    return w / w.sum()


def encoder_batch(items, rng, cfg: TrainConfig, weights: np.ndarray | None = None):
    """-> points (B, N, 3), labels (L, B, N)."""
    pts, labs = [], []
    for i in draw_items(len(items), rng, cfg, weights):
        p, lab = fit_points(items[i], cfg.points, rng)
        pts.append(augment(p, rng) if cfg.augment else p)
        labs.append(lab[rng.integers(len(lab))][None] if cfg.level_mode == "random" else lab)
    return torch.from_numpy(np.stack(pts)), torch.from_numpy(level_stack(labs))


def prompt_kwargs(cfg: TrainConfig) -> dict:
    return {"max_pos": cfg.max_pos, "max_neg": cfg.max_neg, "size_power": cfg.size_power,
            "hard_negative_prob": cfg.hard_negative_prob}


def item_prompt(item, rng, tries: int = 50, **kw) -> Prompt:
    """:func:`sample_prompt` on ``item``; when the item carries a ``click_mask`` (held-out clicks, see
    :func:`.data.user_splits`) every click moves to the nearest allowed point on the same side of the
    target (inside / outside), and a prompt whose target has no allowed point is drawn again."""
    allowed = getattr(item, "click_mask", None)
    for _ in range(tries):
        p = sample_prompt(item.labels, rng, **kw)
        if allowed is None:
            return p
        idx = p.click_idx.copy()
        ok = True
        for j, c in enumerate(idx):
            if allowed[c]:
                continue
            cand = np.flatnonzero(allowed & (p.target == p.target[c]))
            if not len(cand):
                ok = False
                break
            idx[j] = cand[np.argmin(((item.points[cand] - item.points[c]) ** 2).sum(1))]
        if ok:
            return dataclasses.replace(p, click_idx=idx)
    raise InputError(f"{item.name}: no prompt with clicks on the allowed points in {tries} tries "
                     "(raise --val-fraction or add files)")


def decoder_batch(items, feats, rng, cfg: TrainConfig, weights: np.ndarray | None = None):
    which = draw_items(len(items), rng, cfg, weights)
    b = collate_prompts([item_prompt(items[i], rng, **prompt_kwargs(cfg)) for i in which],
                        cfg.max_pos + cfg.max_neg)
    drop = torch.from_numpy(rng.random(len(which)) < cfg.scale_dropout)
    scale = torch.where(drop, torch.full_like(b["scale"], float("nan")), b["scale"])
    pts = torch.from_numpy(np.stack([items[i].points for i in which]))
    f = torch.stack([feats[i] for i in which]).float()
    return f, pts, b["click_idx"], b["click_label"], scale, b["target"]


@torch.no_grad()
def encode_all(model: S2AM3D, items, device, desc="features", batch: int | None = None) -> list[torch.Tensor]:
    """Encoder features (float16; kept on the GPU when ``device`` is CUDA, else on the CPU) of every item;
    items of equal size are encoded in batches (``batch``: default 32 on CUDA, 1 on the CPU)."""
    model.encoder.eval()
    cuda = torch.device(device).type == "cuda"
    batch = batch or (32 if cuda else 1)
    out: list[torch.Tensor] = []
    bar = tqdm(total=len(items), desc=desc, leave=False, disable=len(items) < 20 or not sys.stderr.isatty())
    i = 0
    while i < len(items):
        j = i + 1
        while j < len(items) and j - i < batch and items[j].points.shape == items[i].points.shape:
            j += 1
        pts = torch.from_numpy(np.stack([it.points for it in items[i:j]])).to(device)
        out.extend(model.encode(pts).to(pts.device if cuda else "cpu", torch.float16).unbind(0))
        bar.update(j - i)
        i = j
    bar.close()
    return out


def _iou(pred: torch.Tensor, tgt: torch.Tensor) -> list[float]:
    return ((pred & tgt).sum(1) / (pred | tgt).sum(1).clamp(min=1)).tolist()


@torch.no_grad()
def evaluate_decoder(model: S2AM3D, items, feats, device, prompts_per_object: int = 4, max_objects: int = 64) -> dict:
    """Single positive-click prompts on held-out objects (fixed prompts, seed 123, every part alike):
    mean IoU with and without the scale, of the top-k points by logit (k = true size), of the ball
    baseline (the k points nearest the click) and of the whole object."""
    model.decoder.eval()
    rng = np.random.default_rng(123)
    res = {"iou_scale": [], "iou_no_scale": [], "iou_topk": [], "iou_ball": [], "iou_whole_object": []}
    for it, f in list(zip(items, feats))[:max_objects]:
        prompts = [item_prompt(it, rng, max_pos=1, max_neg=0, size_power=0.0, whole_object_prob=0.0)
                   for _ in range(prompts_per_object)]
        b = collate_prompts(prompts, 1)
        k = len(prompts)
        pts = torch.from_numpy(it.points)[None].expand(k, -1, -1).to(device)
        fb = f[None].expand(k, -1, -1).float().to(device)
        idx, lab, scale = b["click_idx"].to(device), b["click_label"].to(device), b["scale"].to(device)
        tgt = b["target"].to(device) > 0
        size = tgt.sum(1, keepdim=True)
        logits = model.decode(fb, pts, idx, lab, scale).float()
        res["iou_scale"] += _iou(logits > 0, tgt)
        order = logits.argsort(1, descending=True).argsort(1)  # rank of every point
        res["iou_topk"] += _iou(order < size, tgt)
        d = (pts - pts[torch.arange(k), idx[:, 0]][:, None]).norm(dim=-1)
        res["iou_ball"] += _iou(d.argsort(1).argsort(1) < size, tgt)
        res["iou_no_scale"] += _iou(model.decode(fb, pts, idx, lab, torch.full_like(scale, float("nan"))) > 0, tgt)
        res["iou_whole_object"] += tgt.float().mean(1).tolist()
    return {k: round(float(np.mean(v)), 4) for k, v in res.items()}


@torch.no_grad()
def evaluate_encoder(model: S2AM3D, items, device, cfg: TrainConfig, max_objects: int = 32) -> dict:
    """Contrastive loss (mean over levels, no augmentation, fixed point subsets) on held-out objects."""
    model.encoder.eval()
    g = torch.Generator().manual_seed(0)
    losses = []
    for it in items[:max_objects]:
        f = model.encode(torch.from_numpy(it.points)[None].to(device))
        for lab in it.labels:
            losses.append(contrastive_loss(f.float().cpu(), torch.from_numpy(lab)[None], tau=cfg.tau,
                                           max_points=cfg.contrast_points, generator=g).item())
    return {"eval_contrastive": round(float(np.mean(losses)), 4)}


# ----------------------------------------------------------------------------- state
def save_checkpoint(out: Path, model: S2AM3D, opt, step: int, elapsed_s: float, rng, cfg: TrainConfig) -> Path:
    """Weights, optimiser, step, elapsed time and RNG states in ONE file, written atomically.

    Raises:
        CheckpointError: the file cannot be written (disk full, no permission); the previous
            checkpoint is left intact.
    """
    state = {"format": "s2am3d-train/2", "stage": cfg.stage, "step": step, "elapsed_s": elapsed_s,
             "model_config": model.config.to_json(),
             "model": {k: v.detach().to("cpu") for k, v in model.state_dict().items()},
             "optimizer": opt.state_dict(), "torch_rng": torch.get_rng_state(),
             "np_rng": json.dumps(rng.bit_generator.state), "train_config": json.dumps(cfg.to_dict())}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    path = out / CHECKPOINT
    try:
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
    except (OSError, RuntimeError) as exc:  # torch reports a full disk as RuntimeError
        full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space" in str(exc)
        why = "the disk is full" if full else str(exc)
        raise CheckpointError(f"{path}: cannot write the training checkpoint ({why}); the previous checkpoint "
                              f"is intact: free space and continue with --resume --out {out}") from exc
    return path


def load_checkpoint(out: Path, model: S2AM3D, opt, rng, stage: str) -> tuple[int, float]:
    """Restore a :func:`save_checkpoint` file into model / optimiser / RNGs; returns (step, elapsed seconds)."""
    path = out / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"--resume: {out} has no {CHECKPOINT} to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: unreadable training checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != "s2am3d-train/2":
        raise CheckpointError(f"{path}: not an s2am3d-train checkpoint")
    if state.get("stage") != stage:
        raise CheckpointError(f"--resume: {out} holds a {state.get('stage')!r} run, not {stage!r}")
    if ModelConfig.from_json(state["model_config"]).to_json() != model.config.to_json():
        raise CheckpointError(f"--resume: {path} was trained with another model config than the one built now")
    # runs started before calibration became a decoder buffer: training is uncorrected (alpha 0)
    for name in (CALIBRATION_TENSOR, NO_SCALE_OFFSET_TENSOR):
        state["model"].setdefault(name, torch.zeros((), dtype=torch.float32))
    load_state_strict(model, state["model"], str(path))
    opt.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    rng.bit_generator.state = json.loads(state["np_rng"])
    return int(state["step"]), float(state["elapsed_s"])


# ----------------------------------------------------------------------------- loop
def run(cfg: TrainConfig) -> tuple[S2AM3D, dict]:
    """Train one stage as described by ``cfg``; returns (model, summary)."""
    cfg = cfg.resolved()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    rank, world, device = dist.setup(pick_device(cfg.device))
    out = Path(cfg.out)
    if cfg.resume and not (out / CHECKPOINT).is_file():
        raise CheckpointError(f"--resume: {out} has no {CHECKPOINT} to resume from")
    torch.manual_seed(cfg.seed)                        # same init on every rank
    model = build_model(cfg).to(device)
    train, held, desc, splits = load_datasets(cfg)
    if cfg.stage == "encoder" and cfg.sam_checkpoint:
        from .sam_distill import load_sam
        train = with_sam_levels(train, load_sam(cfg.sam_checkpoint, cfg.sam_model, str(device)), cfg)
    weights = replay_weights(len(train), splits.get("replay", 0), cfg.replay_fraction)
    torch.manual_seed(cfg.seed + rank)                 # different point subsets per rank
    rng = np.random.default_rng([cfg.seed, rank])
    log_f = None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        log_f = open(out / "log.jsonl", "a")
        write_splits(out, splits)

    def log(rec: dict) -> None:
        if rank == 0:
            log_f.write(json.dumps(rec) + "\n")
            log_f.flush()

    trained = model.encoder if cfg.stage == "encoder" else model.decoder
    frozen = model.decoder if cfg.stage == "encoder" else model.encoder
    frozen.requires_grad_(False)
    feats = held_feats = None
    if cfg.stage == "decoder":
        feats, held_feats = encode_all(model, train, device), encode_all(model, held, device, "eval features")
    net = dist.wrap(trained, device)
    opt = torch.optim.AdamW(trained.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, elapsed0 = load_checkpoint(out, model, opt, rng, cfg.stage) if cfg.resume else (0, 0.0)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    evaluate = ((lambda: evaluate_encoder(model, held, device, cfg)) if cfg.stage == "encoder"
                else (lambda: evaluate_decoder(model, held, held_feats, device,
                                               prompts_per_object=max(4, min(32, 128 // max(1, len(held)))))))
    history: list[tuple[int, dict]] = []
    best = {"score": None, "step": None}

    def validate(at: int) -> dict:
        """Evaluate (rank 0), log it, keep RUN_DIR/best.safetensors when it is the best so far."""
        ev = evaluate()
        history.append((at, ev))
        log({"step": at, "eval": ev})
        tqdm.write(f"step {at}: " + " ".join(f"{k}={v}" for k, v in ev.items()))
        score = score_of(ev)
        if best["score"] is None or score > best["score"]:
            best.update(score=score, step=at)
            save_model(model, out / BEST, {"stage": cfg.stage, "steps": str(at), "data": desc,
                                           "eval": json.dumps(ev), "train_config": json.dumps(cfg.to_dict())})
        return ev

    if rank == 0:
        log({"event": "start", "stage": cfg.stage, "step": step, "steps": cfg.steps, "data": desc,
             "train_objects": len(train), "eval_objects": len(held), "world_size": world,
             "device": str(device), "config": model.config.to_json(), "train_config": cfg.to_dict(),
             "splits": splits})
        print_splits(splits)
        if cfg.user_dir and not cfg.replay and cfg.stage == "decoder" and len(splits["train"]) < FEW_SHAPES:
            print("note: with a handful of labelled shapes, --replay 400 mixes procedural objects in so the decoder "
                  "does not forget what it knew (docs/FINE_TUNING.md, \"Replay\")")
        if cfg.resume and (out / "log.jsonl").is_file():
            history.extend(_eval_history(out / "log.jsonl", step))
            if history:
                i = int(np.argmax([score_of(ev) for _, ev in history]))
                best.update(score=score_of(history[i][1]), step=history[i][0])
        if step == 0:
            validate(0)  # the "before" of the before/after report
    stop_at = min(cfg.steps, cfg.stop_at or cfg.steps)
    t0, last_eval, stopped = time.time(), {}, ""
    elapsed = lambda: elapsed0 + time.time() - t0  # noqa: E731
    bar = tqdm(total=cfg.steps, initial=step, desc=cfg.stage, disable=rank != 0 or cfg.quiet, unit="step")
    while step < stop_at:
        progress = progress_of(step, _shared_elapsed(elapsed(), world, device) if cfg.max_minutes else 0.0, cfg)
        if progress >= 1.0:
            stopped = f"time limit ({cfg.max_minutes} min)"
            break
        for g in opt.param_groups:
            g["lr"] = cfg.lr * lr_factor(progress, cfg.warmup, cfg.min_lr_frac)
        net.train()
        with amp:
            if cfg.stage == "encoder":
                pts, labels = encoder_batch(train, rng, cfg, weights)
                pts = pts.to(device)
                f = net(pts).float()
                loss = torch.stack([contrastive_loss(f, lab.to(device), tau=cfg.tau, max_points=cfg.contrast_points,
                                                     points=pts, hard_weight=cfg.hard_negative_weight,
                                                     hard_radius=cfg.hard_negative_radius)
                                    for lab in labels]).mean()
            else:
                f, pts, idx, lab, scale, target = (x.to(device) for x in decoder_batch(train, feats, rng, cfg, weights))
                loss = mask_loss(net(f, pts, idx, lab, scale).float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(trained.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        bar.update()
        bar.set_postfix(loss=f"{loss.item():.3f}", **{k[4:]: v for k, v in last_eval.items() if k.startswith("iou_")})
        if step % cfg.log_every == 0:
            log({"step": step, "loss": round(loss.item(), 5), "lr": opt.param_groups[0]["lr"],
                 "grad_norm": round(float(gnorm), 4), "elapsed_s": round(elapsed(), 1)})
        if cfg.eval_every and step % cfg.eval_every == 0 and rank == 0 and step < stop_at:
            last_eval = validate(step)
        if cfg.save_every and step % cfg.save_every == 0 and rank == 0:
            save_checkpoint(out, model, opt, step, elapsed(), rng, cfg)
    bar.close()
    summary = {"stage": cfg.stage, "steps": step, "target_steps": cfg.steps, "wall_s": round(elapsed(), 1),
               "data": desc, "train_objects": len(train), "eval_objects": len(held), "world_size": world,
               "batch_size": cfg.batch_size, "points": cfg.points, "lr": cfg.lr, "stopped": stopped or "done"}
    if rank == 0:
        save_checkpoint(out, model, opt, step, elapsed(), rng, cfg)
        summary["eval"] = validate(step) if not history or history[-1][0] != step else history[-1][1]
        summary["best"] = {"step": best["step"], METRIC[cfg.stage]: history_value(history, best["step"], cfg.stage),
                           "file": str(out / BEST)}
        log({"event": "end", **summary})
        print(report_table(history, cfg.stage, best["step"]))
        meta = {"stage": cfg.stage, "steps": str(step), "data": desc, "eval": json.dumps(summary["eval"]),
                "training": json.dumps(summary), "train_config": json.dumps(cfg.to_dict())}
        save_model(model, out / "model.safetensors", meta)
        log_f.close()
        print(json.dumps(summary))
    dist.barrier()
    return model, summary


BEST = "best.safetensors"
METRIC = {"decoder": "iou_scale", "encoder": "eval_contrastive"}


def score_of(ev: dict) -> float:
    """Higher is better: the validation IoU (decoder) or minus the contrastive loss (encoder)."""
    return ev["iou_scale"] if "iou_scale" in ev else -ev["eval_contrastive"]


def history_value(history: list[tuple[int, dict]], step, stage: str):
    return next((ev[METRIC[stage]] for s, ev in history if s == step), None)


def _eval_history(log_path: Path, upto: int) -> list[tuple[int, dict]]:
    """(step, eval) records of an earlier part of a resumed run (steps <= ``upto``)."""
    out = []
    for line in log_path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if "eval" in rec and rec.get("event") is None and rec.get("step", upto + 1) <= upto:
            out.append((rec["step"], rec["eval"]))
    return out


def report_table(history: list[tuple[int, dict]], stage: str, best_step) -> str:
    """The before/after table: one row per validation (step 0 = before training)."""
    if stage == "encoder":
        rows = ["validation (contrastive loss on the validation shapes, lower is better)",
                f"{'step':>8}  {'loss':>8}"]
        rows += [f"{s:>8}  {ev['eval_contrastive']:>8.4f}" + ("  <- best" if s == best_step else "")
                 for s, ev in history]
        return "\n".join(rows)
    rows = ["validation (mean IoU of one-click prompts; ball = the k points nearest the click, k = true size)",
            f"{'step':>8}  {'scale':>7}  {'no scale':>8}  {'ball':>7}"]
    for s, ev in history:
        rows.append(f"{s:>8}  {ev['iou_scale']:>7.4f}  {ev['iou_no_scale']:>8.4f}  {ev['iou_ball']:>7.4f}"
                    + ("  <- best" if s == best_step else ""))
    if len(history) > 1:
        a, b = history[0][1], history[-1][1]
        verdict = "better" if b["iou_scale"] > a["iou_scale"] else "NOT better"
        rows.append(f"after vs before: {b['iou_scale'] - a['iou_scale']:+.4f} IoU ({verdict}); "
                    f"vs ball: {b['iou_scale'] - b['iou_ball']:+.4f}")
    return "\n".join(rows)


def write_splits(out: Path, splits: dict) -> None:
    """RUN_DIR/splits.json: which objects train and which validate, and the rule that chose them."""
    with atomic_path(out / "splits.json", fsync=False) as tmp:
        Path(tmp).write_text(json.dumps(splits, indent=1) + "\n")


def print_splits(splits: dict) -> None:
    def names(x):
        return ", ".join(x) if isinstance(x, list) else f"{x} objects"
    replay = f" + {splits['replay']} procedural objects (--replay)" if splits.get("replay") else ""
    print(f"splits: {splits['rule']}\n  train:    {names(splits['train'])}{replay}\n  validate: {names(splits['validate'])}")


def _shared_elapsed(seconds: float, world: int, device: torch.device) -> float:
    """Rank 0's clock on every rank, so all ranks stop at the same step."""
    if world <= 1:
        return seconds
    t = torch.tensor([seconds], dtype=torch.float64, device=device)
    torch.distributed.broadcast(t, 0)
    return float(t.item())


def with_sam_levels(items, mask_fn, cfg: TrainConfig) -> list[PartPoints]:
    """The training objects with SAM pseudo labels (one label level per view, ``(views, N)``) appended
    to their own levels; every object needs its mesh."""
    from .sam_distill import pseudo_labels
    if cfg.data:
        raise InputError("--sam-checkpoint needs the meshes: use --procedural N or --user-dir DIR, not --data")
    if cfg.procedural and cfg.realism > 0:
        raise InputError("--sam-checkpoint maps views onto the meshes' own pose: use it with --realism 0")
    if cfg.user_dir:
        meshes = {m.name: m for m in user_meshes(Path(cfg.user_dir)) if not isinstance(m, PartPoints)}
    else:
        meshes = {}
        for it in items:
            cat, seed = it.name.rsplit("_", 1)
            meshes[it.name] = procedural.generate(cat, int(seed))
    out = []
    for i, it in enumerate(tqdm(items, desc="SAM views", leave=False)):
        mesh = meshes.get(it.name)
        if mesh is None:
            raise InputError(f"SAM distillation needs meshes; {it.name!r} is a point cloud")
        sam = pseudo_labels(mesh.vertices, mesh.faces, it.points, mask_fn, views=cfg.sam_views, seed=cfg.seed + i)
        out.append(PartPoints(it.points, np.concatenate([it.labels, sam]), it.name, it.category))
    return out
