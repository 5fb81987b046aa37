"""Summarise scripts/loo_finetune.sh: per left-out file, the shipped vs a fine-tuned model (mean IoU %
over distinct parts, s2am3d-eval's headline), and how many folds improved in each mode.

usage: python scripts/loo_table.py runs/loo
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from safetensors import safe_open

METHODS = [("ours_scale", "points, scale"), ("ours_topk", "points, top-k"), ("ours_noscale", "points, no scale"),
           ("mesh_scale", "mesh, scale"), ("mesh_noscale", "mesh, no scale")]
VARIANTS = [("finetuned.json", "calibrated.safetensors",
             "best checkpoint by validation on the left-out file, correction fitted on the left-out file"),
            ("finetuned_last.json", "last_train_calibrated.safetensors",
             "last checkpoint, correction fitted on the four training files (left-out file only scored)")]


def scores(path: Path) -> dict[str, float]:
    ds = json.loads(path.read_text())["datasets"]["glb"]
    return {k: v["distinct"] for k, v in ds["interactive"].items()} | {"_parts": ds["num_distinct"]}


def alpha(path: Path) -> float:
    with safe_open(str(path), "np") as f:
        return json.loads(f.metadata()["calibration"])["scale_logit_adjust"]


def best_step(run: Path):
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    return next((r["best"]["step"] for r in reversed(log) if r.get("event") == "end"), "?")


def table(folds: list[Path], result: str, weights: str, title: str, shipped: str = "shipped.json") -> None:
    folds = [f for f in folds if (f / result).is_file() and (f / shipped).is_file()]
    if not folds:
        return
    print(f"\n{title} ({result}); mean IoU % over distinct parts, shipped -> fine-tuned (difference)\n")
    print("| left-out file (parts) | " + " | ".join(t for _, t in METHODS) + " | ball + scale | alpha | best step |")
    print("|---" * (len(METHODS) + 4) + "|")
    better = {k: 0 for k, _ in METHODS}
    for fold in folds:
        a, b = scores(fold / shipped), scores(fold / result)
        cells = []
        for k, _ in METHODS:
            d = b[k] - a[k]
            better[k] += round(100 * d, 1) > 0  # better by at least 0.1 point, as printed
            cells.append(f"{100 * a[k]:.1f} -> {100 * b[k]:.1f} ({100 * d:+.1f})")
        step = best_step(fold / "run") if weights.startswith("calibrated") else "last"
        print(f"| {fold.name} ({a['_parts']}) | " + " | ".join(cells)
              + f" | {100 * a.get('geometric_scale', float('nan')):.1f} | {alpha(fold / 'run' / weights):g} | {step} |")
    print("\nfolds improved: " + ", ".join(f"{t} {better[k]}/{len(folds)}" for k, t in METHODS))


def main(root: str) -> int:
    folds = sorted(p for p in Path(root).iterdir() if (p / "shipped.json").is_file())
    if not folds:
        print(f"error: {root}: no finished folds (shipped.json)", file=sys.stderr)
        return 2
    for result, weights, title in VARIANTS:
        table(folds, result, weights, title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "runs/loo"))
