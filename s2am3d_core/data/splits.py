"""Seed ranges of the procedural objects, defined once for every tool.

Procedural object ``i`` of a run with base seed ``s`` is ``generate_many(..., seed=s + offset)``:

* training (``s2am3d-data build --procedural``, ``s2am3d-train --procedural``): offset 0;
* evaluation (``s2am3d-eval --procedural``): :data:`EVAL_SEED_OFFSET` = 1,000,000;
* validation (``s2am3d-calibrate --procedural``): :data:`VALIDATION_SEED_OFFSET` = 2,000,000.

so the three sets share no object as long as each uses fewer than a million seeds. The
train/eval split of *named* objects (shards, user files) is :func:`split_of`.

:func:`procedural_items` are the held-out procedural objects that s2am3d-eval scores and
s2am3d-calibrate fits on (:func:`s2am3d_core.data.shards.shard_items` the objects of a shard split).
"""
from __future__ import annotations

import hashlib
from typing import Iterator

from ..errors import InputError

EVAL_SEED_OFFSET = 1_000_000
VALIDATION_SEED_OFFSET = 2_000_000


def split_of(name: str, eval_fraction: float = 0.1) -> str:
    """``"eval"`` for a stable fraction ``eval_fraction`` of object names, ``"train"`` for the rest.

    Uses SHA-1 of the UTF-8 name (not Python's salted ``hash()``), so it is identical across runs
    and machines; growing ``eval_fraction`` only moves objects from train to eval.
    """
    if not 0.0 <= eval_fraction <= 1.0:
        raise ValueError(f"eval_fraction must be in [0, 1], got {eval_fraction}")
    h = int.from_bytes(hashlib.sha1(str(name).encode("utf-8")).digest()[:8], "big")
    return "eval" if h / 2.0**64 < eval_fraction else "train"


def procedural_items(n: int, seed: int, points: int | None = None) -> Iterator:
    """``n`` held-out procedural objects (PartMesh): seeds from ``seed +`` :data:`EVAL_SEED_OFFSET`,
    eval-split names only (``points`` is unused; kept for the callers' signature).

    Raises:
        InputError: fewer than ``n`` eval-split objects among ``50 n + 100`` generated ones.
    """
    from . import procedural

    tries = 50 * n + 100
    kept = 0
    for pm in procedural.generate_many(tries, seed=seed + EVAL_SEED_OFFSET):
        if split_of(pm.name) != "eval":
            continue
        yield pm
        kept += 1
        if kept >= n:
            return
    raise InputError(f"--procedural: found only {kept} eval-split objects in {tries} generated objects")
