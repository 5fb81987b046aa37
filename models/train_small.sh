#!/usr/bin/env bash
# Trains the cpu-small model with the s2am3d-train recipe on 1 CPU thread (about 2 h of wall time);
# both stages stop on a wall-clock budget (the learning-rate schedule spans it), so step counts
# depend on the machine. Usage: models/train_small.sh [RUN_ROOT]   (default runs/small)
# Continue an interrupted stage by re-running its line with --resume added.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/small}
# stage 1: encoder (contrastive over all hierarchy levels, hard negatives from adjacent parts,
# any orientation), 3000 procedural objects, half of them scan-like (noise, uneven density, Y-up/any pose)
s2am3d-train encoder --procedural 3000 --realism 0.5 --config cpu-small --points 2048 \
    --steps 1000000 --max-minutes 50 --threads 1 --out "$RUN/enc"
# stage 2: decoder on click prompts (every part alike, clicks anywhere on the part), encoder frozen
s2am3d-train decoder --procedural 3000 --realism 0.5 --encoder "$RUN/enc" --points 2048 \
    --steps 1000000 --max-minutes 70 --threads 1 --out "$RUN/dec"
# fit the scale prior correction on validation objects (procedural, other seeds) and write the weights
s2am3d-calibrate "$RUN/dec/model.safetensors" --out "$RUN/s2am3d-small.safetensors" --procedural 24 --threads 1
echo "weights: $RUN/s2am3d-small.safetensors"
