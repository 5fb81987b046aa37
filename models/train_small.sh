#!/usr/bin/env bash
# Reproduces models/s2am3d-small.safetensors on CPU (about 50 minutes of wall time).
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
cp runs/small_ft/model.safetensors models/s2am3d-small.safetensors
