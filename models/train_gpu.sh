#!/usr/bin/env bash
# Train the cpu-base model (fast on 1 CPU thread) on ONE GPU within a total wall-clock budget.
#
#   models/train_gpu.sh OUT_DIR [TOTAL_MINUTES]   (default 7.5: data, both stages and calibration; the
#                                                 final s2am3d-eval runs after that budget)
#
# Needs: torch with CUDA, numpy, scipy, trimesh, safetensors, tqdm (no network). Steps:
#   1. generate the procedural objects in $WORKERS processes (default: all cores; cached in
#      OUT_DIR/cache for both stages), 2. stage 1 encoder, 3. stage 2 decoder (both stages stop on
#      their share of the wall-clock budget), 4. fit the scale prior correction, 5. held-out figures (s2am3d-eval on procedural objects of
#      other seeds, and on ../shared/data when that folder exists).
# Writes OUT_DIR/s2am3d-base.safetensors (the weights to ship), OUT_DIR/enc and OUT_DIR/dec (run
# folders: log.jsonl, checkpoint.pt, model.safetensors), OUT_DIR/eval.json (s2am3d-eval),
# OUT_DIR/bench.json (1-thread CPU speed), OUT_DIR/log.txt (everything printed), OUT_DIR/cache (data).
# A larger model that still fits the CPU limits: CONFIG=cpu-large (trained 2026-11-28, not shipped: models/MODEL_CARD.md, "A larger model trained on the GPU").
# Continue from trained weights instead of a fresh model: INIT=WEIGHTS (both stages start from them),
# ENC_SHARE=0 skips the encoder stage (the decoder trains on INIT's encoder), SEED picks other objects.
# Test it on a CPU with a tiny budget:
#   CONFIG=test-tiny OBJECTS=60 DEC_OBJECTS=60 POINTS=1024 CONTRAST=128 DEVICE=cpu WORKERS=2 CAL_OBJECTS=2 \
#   EVAL_OBJECTS=2 EVAL_POINTS=2048 models/train_gpu.sh /tmp/t 1
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: models/train_gpu.sh OUT_DIR [TOTAL_MINUTES]}
TOTAL=${2:-7.5}
CONFIG=${CONFIG:-cpu-base}
OBJECTS=${OBJECTS:-8000}
POINTS=${POINTS:-4096}
DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-$(nproc)}
CONTRAST=${CONTRAST:-1024}     # points per object in the contrastive loss
DEC_OBJECTS=${DEC_OBJECTS:-3000}  # decoder stage: on an H200 (128 GB host) 8000 objects got the stage killed
CAL_OBJECTS=${CAL_OBJECTS:-24}     # validation objects of the scale prior calibration
EVAL_OBJECTS=${EVAL_OBJECTS:-40}   # held-out procedural objects of the final s2am3d-eval (0 = skip it)
EVAL_POINTS=${EVAL_POINTS:-10000}  # points per object in that eval
INIT=${INIT:-}                     # continue from these weights (empty: a fresh $CONFIG model)
ENC_SHARE=${ENC_SHARE:-0.55}       # share of the time left that goes to the encoder (0: skip that stage)
SEED=${SEED:-0}                    # procedural objects SEED .. SEED+OBJECTS-1
BENCH=${BENCH:-1}                  # 0: skip the 1-thread CPU benchmark at the end (run it on the target CPU instead)
mkdir -p "$OUT"
export S2AM3D_TRAIN_CACHE="$OUT/cache"
exec > >(tee -a "$OUT/log.txt") 2>&1
T0=$(date +%s)
RESERVE=90  # seconds kept for the decoder stage's start-up (data, features) and the calibration
left() { python3 -c "print(max(0.2, round(($TOTAL * 60 - ($(date +%s) - $T0) - $RESERVE) / 60 * $1, 2)))"; }
if [ -n "$INIT" ]; then MODEL="weights $INIT"; else MODEL="config $CONFIG"; fi  # INIT carries its own config
echo "== $(date -u) $MODEL, encoder share $ENC_SHARE, seed $SEED, $OBJECTS objects x $POINTS points, device $DEVICE, $WORKERS data workers, budget $TOTAL min"
COMMON=(--procedural "$OBJECTS" --points "$POINTS" --realism 0.5 --device "$DEVICE" --data-workers "$WORKERS"
        --seed "$SEED" --steps 1000000 --eval-every 0 --save-every 500 --log-every 50 --quiet)
python3 -c "
import time; t = time.time()
from s2am3d_core.train.data import procedural_points
items = procedural_points($OBJECTS, $POINTS, seed=$SEED, realism=0.5, workers=$WORKERS, progress=False)
print(f'data: {len(items)} objects x $POINTS points in {time.time() - t:.0f} s')"
# of the time left (less the reserve): ENC_SHARE to the encoder, then all that is left to the decoder
if [ -n "$INIT" ]; then START=(--init "$INIT"); else START=(--config "$CONFIG"); fi
if python3 -c "import sys; sys.exit(not float('$ENC_SHARE') > 0)"; then
    python3 -m s2am3d_core.train.cli encoder "${COMMON[@]}" "${START[@]}" --batch-size 32 \
        --contrast-points "$CONTRAST" --lr 2e-3 --max-minutes "$(left "$ENC_SHARE")" --out "$OUT/enc"
    ENC=(--encoder "$OUT/enc")
else
    ENC=(--encoder "${INIT:?ENC_SHARE=0 needs INIT}")
fi
DEC_INIT=()
[ -n "$INIT" ] && DEC_INIT=(--init "$INIT")
python3 -m s2am3d_core.train.cli decoder "${COMMON[@]}" --procedural "$DEC_OBJECTS" "${ENC[@]}" "${DEC_INIT[@]}" \
    --batch-size 64 --lr 1e-3 --max-minutes "$(left 1.0)" --out "$OUT/dec"
python3 -m s2am3d_core.train.calibrate "$OUT/dec/model.safetensors" --out "$OUT/s2am3d-base.safetensors" \
    --procedural "$CAL_OBJECTS" --device "$DEVICE" -q
echo "== weights after $(( $(date +%s) - T0 )) s: $OUT/s2am3d-base.safetensors"
echo "held-out (training seeds, eval split): $(tail -n 1 "$OUT/dec/log.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["eval"])')"
if [ "$EVAL_OBJECTS" -gt 0 ]; then
    SHARED=()
    [ -d ../shared/data ] && SHARED=(--shared-data)
    python3 -m s2am3d_core.eval.cli --weights "$OUT/s2am3d-base.safetensors" --procedural "$EVAL_OBJECTS" \
        "${SHARED[@]}" --points "$EVAL_POINTS" --baselines geometric --device "$DEVICE" -q --out "$OUT/eval.json" \
        || echo "eval failed"
fi
# CPU speed of the weights on 1 thread (the shipped-weights limits: encode 20k points <= 1 s, a click <= 30 ms)
if [ "$BENCH" = 1 ]; then
    python3 -m s2am3d_core.eval.benchmark --weights "$OUT/s2am3d-base.safetensors" --sizes 20000 --repeats 20 \
        --threads 1 --json "$OUT/bench.json" || echo "benchmark failed"
fi
echo "== done in $(( $(date +%s) - T0 )) s"
