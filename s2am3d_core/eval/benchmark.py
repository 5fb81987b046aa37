"""``s2am3d-bench``: speed and memory of the encoder, the decoder and the feature cache.

Per point-cloud size: encoder time (``set_shape`` without any cache, median of a few runs),
single-click decoder latency p50/p95 (after warm-up), ``predict_many`` throughput, feature-cache
save/load time (a FeatureCache in a temporary folder) and peak memory (max RSS of the process on
CPU; ``torch.cuda.max_memory_allocated`` on CUDA). Without weights the model is built with random
weights from ``--config`` (timings are meaningful, masks are not); the output says so.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ..cli.util import ArgumentParser, UsageError, check_min, device_arg, run_main, set_threads
from ..config import CONFIGS
from ..errors import S2AM3DError

EXAMPLES = """\
examples:
  s2am3d-bench                                   # shipped weights (or random cpu-small ones if absent)
  s2am3d-bench --config cpu-small --sizes 10000 50000 --repeats 50 --json bench.json
  s2am3d-bench --weights models/s2am3d-base.safetensors --device cuda
"""


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="s2am3d-bench", description="Benchmark S2AM3D: encoder time, decoder latency, "
                       "batched throughput, feature cache and peak memory per point-cloud size.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", metavar="W", help="weights file (default: $S2AM3D_WEIGHTS or the shipped model)")
    p.add_argument("--config", metavar="NAME", choices=sorted(CONFIGS),
                   help=f"benchmark a random-weights model of this config ({', '.join(sorted(CONFIGS))}); "
                        "used automatically (cpu-small) when no weights file exists")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    p.add_argument("--sizes", nargs="+", type=int, default=[10000, 50000, 100000], metavar="N",
                   help="point-cloud sizes (default 10000 50000 100000)")
    p.add_argument("--repeats", type=int, default=20, help="timed single-click decodes per size (default 20)")
    p.add_argument("--prompts", type=int, default=32, help="clicks per predict_many call (default 32)")
    p.add_argument("--batch-size", type=int, default=16, help="predict_many batch size (default 16)")
    p.add_argument("--threads", type=int, metavar="T",
                   help="torch CPU threads (default: torch's choice; 1 is fastest on busy shared cores)")
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON (atomically)")
    return p


def synthetic_points(n: int, seed: int = 0) -> np.ndarray:
    """(n, 3) points on a box surface with a sphere on top: a stand-in shape with some structure."""
    rng = np.random.default_rng(seed)
    n_box = n // 2
    p = rng.uniform(-1, 1, (n_box, 3)) * [1.0, 0.6, 0.3]
    axis = rng.integers(0, 3, n_box)
    p[np.arange(n_box), axis] = np.sign(rng.uniform(-1, 1, n_box)) * np.array([1.0, 0.6, 0.3])[axis]
    s = rng.normal(size=(n - n_box, 3))
    s = s / np.linalg.norm(s, axis=1, keepdims=True) * 0.5 + [0.0, 0.0, 0.8]
    return np.concatenate([p, s]).astype(np.float32)


def peak_memory_mb(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda max_memory_allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return (rss / 2**20 if sys.platform == "darwin" else rss / 1024), "max RSS"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_size(predictor, n: int, repeats: int, prompts: int, device: torch.device, seed: int = 0,
               batch_size: int = 16) -> dict:
    from ..cache import FeatureCache

    pts = synthetic_points(n, seed)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    enc = []
    for _ in range(1 if n >= 50000 else 3):
        _sync(device)
        t = time.perf_counter()
        predictor.set_shape(pts)
        _sync(device)
        enc.append(time.perf_counter() - t)
    rng = np.random.default_rng(seed)
    for _ in range(3):  # warm-up
        predictor.predict([int(rng.integers(n))], scale=0.1)
    lat = []
    for _ in range(repeats):
        i = int(rng.integers(n))
        t = time.perf_counter()
        predictor.predict([i], scale=float(rng.uniform(0.01, 0.5)))  # returns numpy: synchronised
        lat.append(time.perf_counter() - t)
    idx = rng.integers(n, size=prompts).tolist()
    many = []
    for _ in range(2):
        t = time.perf_counter()
        predictor.predict_many(idx, scale=0.1, batch_size=batch_size)
        many.append(time.perf_counter() - t)
    planes = predictor.embedding.planes  # encoder output as stored in the cache (1, 3, D, H, W)
    with tempfile.TemporaryDirectory(prefix="s2am3d-bench-") as tmp:
        cache = FeatureCache(tmp)
        key = predictor.embedding.key
        t = time.perf_counter()
        path = cache.put(key, predictor.weights_id, {"planes": planes})
        save = time.perf_counter() - t
        t = time.perf_counter()
        got = cache.get(key, predictor.weights_id)
        load = time.perf_counter() - t
        size_mb = path.stat().st_size / 2**20 if path is not None else None
        if got is None:
            raise S2AM3DError(f"{tmp}: the feature cache could not be read back")
    mem, mem_kind = peak_memory_mb(device)
    lat_ms = np.array(lat) * 1000
    return {
        "points": n,
        "encode_s": float(np.median(enc)),
        "decode_p50_ms": float(np.percentile(lat_ms, 50)) if repeats else None,
        "decode_p95_ms": float(np.percentile(lat_ms, 95)) if repeats else None,
        "predict_many_prompts_per_s": float(prompts / min(many)),
        "cache_save_s": save, "cache_load_s": load, "cache_mb": size_mb,
        "peak_memory_mb": mem, "peak_memory_kind": mem_kind,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(_run, args)


def _run(args) -> int:
    from ..checkpoint import default_weights_path, load_model
    from ..config import get_config
    from ..modeling import S2AM3D
    from ..predictor import PartPredictor

    if any(n < 16 for n in args.sizes):
        raise UsageError(f"--sizes: every size must be >= 16 points, got {args.sizes}")
    check_min("--repeats", args.repeats)
    check_min("--batch-size", args.batch_size)
    check_min("--prompts", args.prompts)
    if args.json and Path(args.json).is_dir():
        raise UsageError(f"--json: {args.json} is a folder; give a file name")
    from ..io.outputs import OutFile, check_outputs

    check_outputs({"--weights": args.weights}, files=[OutFile("--json", args.json, (".json",))])
    set_threads(args.threads)
    device = device_arg(args.device)

    if args.weights is not None and args.config is not None:
        raise UsageError("--config: give either --weights or --config (random weights), not both")
    note = ""
    if args.weights is not None or (args.config is None and default_weights_path().is_file()):
        weights = Path(args.weights) if args.weights else default_weights_path()
        model = load_model(weights, device=device)
        model_desc = f"weights {weights}"
        random_weights = False
    else:
        name = args.config or "cpu-small"
        torch.manual_seed(0)
        model = S2AM3D(get_config(name)).to(device).eval()
        random_weights = True
        model_desc = f"config {name} with RANDOM weights"
        if args.config is None:
            note = f" (no weights file at {default_weights_path()})"
        note += "; timings are valid, masks are meaningless"
    predictor = PartPredictor(model, device=device, cache=False, memory_slots=0)
    params = sum(p.numel() for p in model.parameters())

    print(f"s2am3d-bench: {model_desc}{note}", flush=True)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"{params / 1e6:.2f} M parameters", flush=True)
    # warm-up run (first-call allocations, kernel selection)
    predictor.set_shape(synthetic_points(min(args.sizes), seed=1))
    predictor.predict([0], scale=0.1)

    header = (f"{'points':>8} {'encode s':>9} {'dec p50 ms':>11} {'dec p95 ms':>11} {'many/s':>8} "
              f"{'cache save':>11} {'cache load':>11} {'cache MB':>9} {'peak MB':>8}")
    print(header)
    rows = []
    for n in args.sizes:
        r = bench_size(predictor, n, args.repeats, args.prompts, device, batch_size=args.batch_size)
        rows.append(r)
        print(f"{n:>8} {r['encode_s']:>9.3f} {r['decode_p50_ms']:>11.1f} {r['decode_p95_ms']:>11.1f} "
              f"{r['predict_many_prompts_per_s']:>8.1f} {r['cache_save_s'] * 1000:>9.1f}ms "
              f"{r['cache_load_s'] * 1000:>9.1f}ms {r['cache_mb'] or float('nan'):>9.2f} {r['peak_memory_mb']:>8.0f}",
              flush=True)
    print(f"decoder latency: {args.repeats} single-click predicts after warm-up; many/s: predict_many of "
          f"{args.prompts} clicks in batches of {args.batch_size}; "
          f"peak MB: {rows[-1]['peak_memory_kind'] if rows else ''}")
    report = {"format": "s2am3d-bench/1", "model": model_desc, "random_weights": random_weights,
              "config": json.loads(model.config.to_json()), "parameters": params, "device": str(device),
              "torch": torch.__version__, "threads": torch.get_num_threads(), "repeats": args.repeats,
              "prompts": args.prompts, "batch_size": args.batch_size, "cpu_count": os.cpu_count(), "results": rows}
    if args.json:
        from ..io.atomic import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
