"""Seed ranges of the procedural objects, defined once for every tool.

Procedural object ``i`` of a run with base seed ``s`` is ``generate_many(..., seed=s + offset)``:

* training (``s2am3d-data build --procedural``, ``s2am3d-train --procedural``): offset 0;
* evaluation (``s2am3d-eval --procedural``): :data:`EVAL_SEED_OFFSET` = 1,000,000;
* validation (``s2am3d-calibrate --procedural``): :data:`VALIDATION_SEED_OFFSET` = 2,000,000.

so the three sets share no object as long as each uses fewer than a million seeds. The
train/eval split of *named* objects (shards) is :func:`s2am3d_core.data.shards.split_of`.
"""
EVAL_SEED_OFFSET = 1_000_000
VALIDATION_SEED_OFFSET = 2_000_000
