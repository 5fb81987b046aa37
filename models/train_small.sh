#!/usr/bin/env bash
# Reproduces models/s2am3d-small.safetensors on CPU (about 2 h 10 min of wall time).
# Both stages stop on a wall-clock budget, so the step counts depend on the machine's speed;
# the shipped file's metadata ("training") records the counts and figures of the run that made it.
set -euo pipefail
cd "$(dirname "$0")/.."
# stage 1 (encoder, contrastive) + stage 2 (decoder)
python3 -m s2am3d_core.train.recipe_small --out runs/small --objects 1600 --eval-objects 108 \
    --encoder-minutes 14 --decoder-minutes 18 --threads 1
# stage 2b: more decoder training at a lower learning rate
python3 -m s2am3d_core.train.recipe_small --init runs/small/model.safetensors --out runs/small_ft \
    --objects 1600 --eval-objects 108 --encoder-minutes 0 --decoder-minutes 13 --decoder-lr 5e-4 --threads 1
# stage 3: more encoder (contrastive) and decoder training on 3000 objects
python3 -m s2am3d_core.train.recipe_small --init runs/small_ft/model.safetensors --out runs/small_e \
    --objects 3000 --eval-objects 108 --encoder-minutes 30 --decoder-minutes 35 --threads 1
# fit the scale prior correction on validation objects and write the shipped file
s2am3d-calibrate runs/small_e/model.safetensors --out models/s2am3d-small.safetensors --procedural 24 --threads 1
