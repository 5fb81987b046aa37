"""Summarise scripts/loo_finetune.sh: per left-out file, the shipped vs the fine-tuned model (mean IoU %
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


def scores(path: Path) -> dict[str, float]:
    ds = json.loads(path.read_text())["datasets"]["glb"]
    return {k: v["distinct"] for k, v in ds["interactive"].items()} | {"_parts": ds["num_distinct"]}


def main(root: str) -> int:
    folds = sorted(p for p in Path(root).iterdir() if (p / "finetuned.json").is_file() and (p / "shipped.json").is_file())
    if not folds:
        print(f"error: {root}: no finished folds (shipped.json + finetuned.json)", file=sys.stderr)
        return 2
    better = {k: 0 for k, _ in METHODS}
    print("| left-out file (distinct parts) | " + " | ".join(f"{t} shipped -> fine-tuned" for _, t in METHODS)
          + " | ball + scale | best step, alpha |")
    print("|---" * (len(METHODS) + 3) + "|")
    for fold in folds:
        a, b = scores(fold / "shipped.json"), scores(fold / "finetuned.json")
        cells = []
        for k, _ in METHODS:
            d = b[k] - a[k]
            better[k] += d > 0
            cells.append(f"{100 * a[k]:.1f} -> {100 * b[k]:.1f} ({100 * d:+.1f})")
        end = [json.loads(x) for x in (fold / "run" / "log.jsonl").read_text().splitlines()]
        best = next((r["best"]["step"] for r in reversed(end) if r.get("event") == "end"), "?")
        with safe_open(str(fold / "run" / "calibrated.safetensors"), "np") as f:
            meta = json.loads(f.metadata()["calibration"])
        print(f"| {fold.name} ({a['_parts']}) | " + " | ".join(cells)
              + f" | {100 * a.get('geometric_scale', float('nan')):.1f} | {best}, {meta['scale_logit_adjust']:g} |")
    print("\nfolds improved: " + ", ".join(f"{t} {better[k]}/{len(folds)}" for k, t in METHODS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "runs/loo"))
