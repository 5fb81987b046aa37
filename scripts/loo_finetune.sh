#!/usr/bin/env bash
# Leave-one-out fine-tuning check (issue 14): for each labelled GLB of DATA, fine-tune the decoder of
# the shipped model on the other files (--user-dir), validate on the left-out file (--val-dir: step-0 /
# periodic / final validation, best.safetensors, --calibrate), then score the shipped and the
# fine-tuned model on the left-out file with s2am3d-eval (points-only and mesh-aware).
# One recipe for every fold (set it with the variables below, never per fold).
#
# usage: scripts/loo_finetune.sh [OUT_ROOT]        (default runs/loo)
#   in the background: nohup scripts/loo_finetune.sh runs/loo > runs/loo.log 2>&1 &
#   then:              python scripts/loo_table.py runs/loo
# The data files are linked (never copied) into OUT_ROOT/<file>/train and OUT_ROOT/<file>/val.
# A fold whose results exist is skipped, so re-running continues an interrupted check.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/loo}
DATA=${DATA:-../shared/data}
INIT=${INIT:-models/s2am3d-base.safetensors}
STEPS=${STEPS:-80}
LR=${LR:-5e-4}
POINTS=${POINTS:-2048}
EVAL_EVERY=${EVAL_EVERY:-20}
THREADS=${THREADS:-1}
PY=${PYTHON:-python}
NICE="nice -n 10"
DATA=$(cd "$DATA" && pwd)
mapfile -t FILES < <(ls "$DATA"/*.glb)
[ "${#FILES[@]}" -ge 2 ] || { echo "error: $DATA: need at least 2 .glb files" >&2; exit 2; }
mkdir -p "$OUT"
echo "leave-one-out over ${#FILES[@]} files of $DATA: init $INIT, steps $STEPS, lr $LR, points $POINTS"
for held in "${FILES[@]}"; do
    name=$(basename "$held" .glb)
    fold="$OUT/$name"
    if [ -f "$fold/finetuned.json" ] && [ -f "$fold/shipped.json" ]; then echo "[$name] done, skipped"; continue; fi
    rm -rf "$fold/train" "$fold/val"
    mkdir -p "$fold/train" "$fold/val"
    for f in "${FILES[@]}"; do
        if [ "$f" = "$held" ]; then ln -s "$f" "$fold/val/"; else ln -s "$f" "$fold/train/"; fi
    done
    echo "[$name] $(date -u +%H:%M:%S) fine-tuning on $(ls "$fold/train" | tr '\n' ' ')"
    rm -rf "$fold/run"
    $NICE "$PY" -m s2am3d_core.train.cli decoder --user-dir "$fold/train" --val-dir "$fold/val" --init "$INIT" \
        --steps "$STEPS" --lr "$LR" --points "$POINTS" --eval-every "$EVAL_EVERY" --calibrate \
        --threads "$THREADS" --quiet --out "$fold/run"
    echo "[$name] $(date -u +%H:%M:%S) scoring the shipped model on $name"
    $NICE "$PY" -m s2am3d_core.eval.cli --weights "$INIT" --glb "$held" --baselines geometric \
        --threads "$THREADS" -q --out "$fold/shipped.json"
    echo "[$name] $(date -u +%H:%M:%S) scoring the fine-tuned model on $name"
    $NICE "$PY" -m s2am3d_core.eval.cli --weights "$fold/run/calibrated.safetensors" --glb "$held" --baselines none \
        --threads "$THREADS" -q --out "$fold/finetuned.json"
done
echo "$(date -u +%H:%M:%S) all folds done"
"$PY" scripts/loo_table.py "$OUT"
