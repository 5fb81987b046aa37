"""TrainConfig: the single source of training defaults (s2am3d-train, models/*.sh and the tests).

The command line (:mod:`.cli`) exposes every field as ``--field-name`` with the default given
here; :func:`.trainer.run` takes a TrainConfig. A field set to ``None`` takes a per-stage default
(see :meth:`TrainConfig.resolved`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

STAGES = ("encoder", "decoder")


@dataclass
class TrainConfig:
    # ---------------------------------------------------------------- what to train
    stage: str = "encoder"             # "encoder" (stage 1, contrastive) or "decoder" (stage 2, prompts)
    out: str = "runs/train"            # run folder: log.jsonl, checkpoint.pt (resume), model.safetensors
    config: str | None = None          # model size of a fresh model (None = "cpu-small"; checkpoints carry their own)
    init: str | None = None            # start from a full model checkpoint (fine-tuning / continuing)
    encoder: str | None = None         # decoder stage: run folder or weights holding the trained encoder
    resume: bool = False               # continue the run in ``out`` exactly where it stopped
    # ---------------------------------------------------------------- data (exactly one source)
    data: str | None = None            # shard folder written by `s2am3d-data build`
    procedural: int | None = None      # generate this many procedural objects (cached in the user cache folder)
    user_dir: str | None = None        # folder of the user's labelled PLY/GLB files (fine-tuning)
    val_dir: str | None = None         # --user-dir: validate on the labelled files of this folder (all of
                                       # --user-dir trains)
    val_fraction: float = 0.2          # --user-dir without --val-dir: this fraction of the files validates;
                                       # with fewer than 4 files every file trains and this fraction of each
                                       # shape's points is kept for validation clicks (never clicked in training)
    replay: int = 0                    # --user-dir: also train on the training-split objects among this many
                                       # procedural ones (the generator and seeds of the shipped model's
                                       # training data), so a few labelled shapes do not make the model
                                       # forget the rest (0 = none)
    replay_fraction: float = 0.5       # --replay: this share of the training objects drawn for each batch
                                       # comes from the replayed ones
    points: int = 2048                 # points per training object
    realism: float = 0.5               # procedural: fraction of objects given scan-like noise, uneven
                                       # density and a random orientation (incl. Y-up); 0 = clean z-up
    data_workers: int = 1              # processes that generate procedural objects (1 = in this process)
    # ---------------------------------------------------------------- machine
    device: str = "auto"               # auto | cpu | cuda | cuda:N
    threads: int = 0                   # torch CPU threads (default 0 = torch's choice; 1 is fastest on busy shared cores)
    seed: int = 0                      # seeds the model init, the data order and the prompts
    quiet: bool = False                # no progress bar
    # ---------------------------------------------------------------- optimisation
    steps: int = 2000                  # optimiser steps; the cosine schedule spans them (or the time budget)
    max_minutes: float | None = None   # wall-clock budget: the schedule spans min(steps, budget) and the
                                       # run saves and stops cleanly when the budget is spent
    stop_at: int | None = None         # stop (and save) after this step without changing the schedule (tests)
    batch_size: int | None = None      # objects (encoder) or prompts (decoder) per step and per process
                                       # (under torchrun the global batch is this times the processes);
                                       # None = 8 / 16
    lr: float = 1e-3                   # peak AdamW learning rate
    weight_decay: float = 0.01         # AdamW weight decay
    warmup: float = 0.05               # linear warmup, as a fraction of the schedule
    min_lr_frac: float = 0.05          # the cosine decays to this fraction of lr
    grad_clip: float = 1.0             # gradient norm clip
    eval_every: int | None = None      # validate every N steps besides step 0 and the end (0 = only those);
                                       # None = 500, or steps / 5 with --user-dir
    save_every: int = 250              # write checkpoint.pt every N steps
    log_every: int = 10                # write a log.jsonl line every N steps
    # ---------------------------------------------------------------- stage 1: encoder
    tau: float = 0.07                  # contrastive temperature
    contrast_points: int = 512         # points per object in the contrastive loss (memory O(M^2))
    level_mode: str = "mean"           # "mean" over hierarchy levels, or one "random" level per object
    hard_negative_weight: float = 2.0  # extra weight of negatives from an adjacent part (within the radius)
    hard_negative_radius: float = 0.08 # "adjacent": closer than this (normalised object coordinates)
    augment: bool = True               # random rotation (any up axis) / anisotropic scale / jitter
    sam_checkpoint: str | None = None  # segment-anything checkpoint: add multiview SAM distillation
    sam_model: str = "vit_b"           # segment-anything model type of the checkpoint
    sam_views: int = 4                 # rendered views per object for SAM
    # ---------------------------------------------------------------- stage 2: decoder
    scale_dropout: float = 0.2         # probability of training a prompt with "no scale"
    max_pos: int = 3                   # at most this many positive clicks per prompt
    max_neg: int = 2                   # at most this many negative clicks per prompt
    size_power: float = 0.0            # target part drawn with weight size**size_power (0 = every part
                                       # alike, as the evaluation counts them; 0.5 favours large parts)
    hard_negative_prob: float = 0.8    # negative clicks drawn from the sibling parts when there are any
    ball_prior: float = 0.0            # train with the ball prior at this weight in the logits of prompts
                                       # with a scale (beta * (1 - d / r): the decoder learns to move the
                                       # boundary of the part-sized ball around the click; 0 = none);
                                       # s2am3d-calibrate fits beta again afterwards
    calibrate: bool = False            # with --val-dir: at the end, fit the mask-size correction of
                                       # best.safetensors on the validation files (sampled at 10,000
                                       # points) -> calibrated.safetensors

    def resolved(self) -> "TrainConfig":
        """A copy with the per-stage defaults filled in and the values checked (ValueError naming the option)."""
        c = dataclasses.replace(self)
        if c.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {c.stage!r}")
        if c.batch_size is None:
            c.batch_size = 8 if c.stage == "encoder" else 16
        if c.calibrate and (c.stage != "decoder" or c.val_dir is None):
            raise ValueError("--calibrate: goes with the decoder stage and --val-dir (the files it fits on)")
        if c.eval_every is None:
            c.eval_every = max(1, c.steps // 5) if c.user_dir is not None else 500
        if c.eval_every < 0:
            raise ValueError(f"--eval-every: must be >= 0, got {c.eval_every}")
        sources = [x for x in (c.data, c.procedural, c.user_dir) if x is not None]
        if len(sources) != 1:
            raise ValueError("choose exactly one data source: --data, --procedural or --user-dir")
        for name in ("steps", "batch_size", "points", "contrast_points", "data_workers"):
            if getattr(c, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')}: must be >= 1, got {getattr(c, name)}")
        if not 0.0 <= c.ball_prior <= 100.0:
            raise ValueError(f"--ball-prior: must be in [0, 100], got {c.ball_prior}")
        if c.threads < 0:
            raise ValueError(f"--threads: must be >= 1 (or 0 for torch's default), got {c.threads}")
        if c.procedural is not None and c.procedural < 1:
            raise ValueError(f"--procedural: must be >= 1, got {c.procedural}")
        if c.replay < 0:
            raise ValueError(f"--replay: must be >= 0, got {c.replay}")
        if c.replay and c.user_dir is None:
            raise ValueError("--replay: goes with --user-dir (it mixes procedural objects into the user's files)")
        if not 0.0 < c.replay_fraction < 1.0:
            raise ValueError(f"--replay-fraction: must be in (0, 1), got {c.replay_fraction}")
        if c.val_dir is not None and c.user_dir is None:
            raise ValueError("--val-dir: goes with --user-dir (shards and procedural objects have their own split)")
        if not 0.0 < c.val_fraction < 1.0:
            raise ValueError(f"--val-fraction: must be in (0, 1), got {c.val_fraction}")
        if c.max_minutes is not None and c.max_minutes <= 0:
            raise ValueError(f"--max-minutes: must be > 0, got {c.max_minutes}")
        if not 0.0 <= c.realism <= 1.0:
            raise ValueError(f"--realism: must be in [0, 1], got {c.realism}")
        if c.level_mode not in ("mean", "random"):
            raise ValueError(f"--level-mode: must be 'mean' or 'random', got {c.level_mode!r}")
        return c

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def field_help() -> dict[str, str]:
    """{field name: the comment after it in this file} for the command line help."""
    import inspect
    import re

    helps: dict[str, str] = {}
    last = None
    try:
        source = inspect.getsource(TrainConfig)
    except (OSError, TypeError):  # no source files (frozen install): plain help
        return helps
    for line in source.splitlines():
        m = re.match(r"\s{4}(\w+): [^=]+= .*?#\s*(.*)$", line)
        if m:
            last = m.group(1)
            helps[last] = m.group(2).strip()
            continue
        m = re.match(r"\s+#\s*(.*)$", line)
        if m and last and not line.strip().startswith("# ---"):
            helps[last] += " " + m.group(1).strip()
        elif line.strip() and not line.strip().startswith("#"):
            last = None
    return helps
