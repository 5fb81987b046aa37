"""Training data for s2am3d-train: lists of PartPoints, augmentation and batching.

Sources: shards written by ``s2am3d-data build`` (``--data``), procedural objects generated on the
fly and cached in the user cache folder (``--procedural N``), or a folder of the user's labelled PLY/GLB
files (``--user-dir``). Objects are split into train/eval by a stable hash of their name.
"""
from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..data.types import PartMesh, PartPoints
from ..errors import InputError
from ..geometry import normalize_points


# ----------------------------------------------------------------------------- helpers from data/
def mesh_to_points(mesh: PartMesh, n: int, seed: int) -> PartPoints:
    try:
        from ..data.sampling import mesh_to_points as m2p
    except ImportError:  # data/sampling.py not there yet: same thing via io.sample_surface
        from .recipe_small import to_points
        return to_points(mesh, n, seed)
    return m2p(mesh, n, seed=seed)


def user_points(item, n: int, seed: int) -> PartPoints:
    """A user's PartMesh (sampled) or PartPoints (resampled) -> PartPoints with n points."""
    if isinstance(item, PartPoints):
        from ..data.sampling import to_points
        return to_points(item, n, seed=seed)
    return mesh_to_points(item, n, seed)


def split_of(name: str, eval_fraction: float = 0.1) -> str:
    try:
        from ..data.shards import split_of as so
    except ImportError:
        return "eval" if zlib.crc32(name.encode()) % 10_000 < eval_fraction * 10_000 else "train"
    return so(name, eval_fraction)


def sample_prompt(labels: np.ndarray, rng: np.random.Generator, max_pos: int = 3, max_neg: int = 2):
    """-> (click_idx (K,), click_label (K,), scale float, target (N,) bool) via data.prompts when present."""
    try:
        from ..data.prompts import sample_prompt as sp
    except ImportError:
        from .recipe_small import sample_prompt as fallback
        return fallback(labels, rng, max_pos=max_pos, max_neg=max_neg)
    p = sp(labels, rng, max_pos=max_pos, max_neg=max_neg)
    return (np.asarray(p.click_idx, np.int64), np.asarray(p.click_label, np.int64), float(p.scale),
            np.asarray(p.target, bool))


def collate_prompts(prompts, k: int | None = None):
    """List of prompts -> click_idx (B,K), click_label (B,K) (-1 = padding), scale (B,), target (B,N)."""
    k = k or max(len(p[0]) for p in prompts)
    idx = torch.zeros(len(prompts), k, dtype=torch.long)
    lab = torch.full((len(prompts), k), -1, dtype=torch.long)
    for i, (ci, cl, _, _) in enumerate(prompts):
        idx[i, : len(ci)] = torch.from_numpy(ci[:k])
        lab[i, : len(cl)] = torch.from_numpy(cl[:k])
    scale = torch.tensor([p[2] for p in prompts], dtype=torch.float32)
    target = torch.from_numpy(np.stack([p[3] for p in prompts])).float()
    return idx, lab, scale, target


# ----------------------------------------------------------------------------- sources
def _from_shards(root: Path) -> tuple[list[PartPoints], list[PartPoints]]:
    try:
        from ..data.shards import ShardDataset
    except ImportError as exc:
        raise InputError("--data needs s2am3d_core.data.shards, which is not installed in this checkout") from exc
    from ..data.shards import available_splits
    splits = available_splits(root)
    if "train" not in splits:
        raise InputError(f"--data {root}: no train split (index_train.json); build it with `s2am3d-data build`")

    def items(split):
        ds = ShardDataset(root, split)
        return [ds[i] for i in range(len(ds))]
    return items("train"), items("eval") if "eval" in splits else []


PROCEDURAL_FORMAT = "s2am3d-procedural/1"


def procedural_points(n: int, points: int, seed: int = 0, cache_dir: str | Path | None = None) -> list[PartPoints]:
    """``n`` procedural objects as PartPoints, cached as an .npz in the user cache folder
    (same n/points/seed = reuse; a bad cache file is deleted and rebuilt, a failed write is a warning)."""
    from ..cache import procedural_cache_dir
    from ..data import procedural
    cache = Path(cache_dir or procedural_cache_dir()) / f"n{n}-p{points}-s{seed}.npz"
    items = _read_procedural_cache(cache, n, points)
    if items is not None:
        return items
    items = [mesh_to_points(m, points, seed=seed + i) for i, m in
             enumerate(tqdm(procedural.generate_many(n, seed=seed), total=n, desc="procedural", leave=False))]
    _write_procedural_cache(cache, items)
    return items


def _read_procedural_cache(path: Path, n: int, points: int) -> list[PartPoints] | None:
    """The cached objects, or None (a missing, foreign, truncated or malformed file: deleted)."""
    from ..cache import check_arrays, warn
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        spec = {"format": ((), "U"), "points": ((n, points, 3), "f"), "names": ((n,), "U"), "cats": ((n,), "U")}
        spec.update({f"labels{i}": ((None, points), "i") for i in range(n)})
        problem = check_arrays(arrays, spec)
        if problem is None and str(arrays["format"]) != PROCEDURAL_FORMAT:
            problem = f"format {str(arrays['format'])!r} is not {PROCEDURAL_FORMAT!r}"
        if problem is None:
            bad = [i for i in range(n) if arrays[f"labels{i}"].size and arrays[f"labels{i}"].min() < -1]
            problem = f"labels{bad[0]} holds ids below -1" if bad else None
        if problem is None and np.abs(arrays["points"]).max() > 1.0 + 1e-3:
            problem = "points are not normalised to [-1, 1]"
    except Exception as exc:  # noqa: BLE001 - an unreadable cache file is rebuilt, never fatal
        problem = f"unreadable ({type(exc).__name__}: {exc})"
    if problem is not None:
        warn(f"procedural cache: {path}: {problem}; deleted, the objects are regenerated")
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        return None
    return [PartPoints(arrays["points"][i].astype(np.float32), arrays[f"labels{i}"].astype(np.int64),
                       str(arrays["names"][i]), str(arrays["cats"][i])) for i in range(n)]


def _write_procedural_cache(path: Path, items: list[PartPoints]) -> None:
    from ..cache import warn, write_failure
    from ..io.atomic import atomic_path
    try:
        with atomic_path(path, fsync=False) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, format=np.array(PROCEDURAL_FORMAT), points=np.stack([it.points for it in items]),
                         names=np.array([it.name for it in items]), cats=np.array([it.category for it in items]),
                         **{f"labels{i}": it.labels for i, it in enumerate(items)})
    except Exception as exc:  # noqa: BLE001 - the cache is optional
        warn(f"procedural cache: could not write {path} ({write_failure(exc)}); continuing without the cache")


def user_meshes(folder: Path) -> list:
    try:
        from ..data.user import load_folder
    except ImportError:  # data/user.py not there yet: our own labelled PLY files only
        from ..io import read_labelled_ply
        files = sorted(folder.glob("*.ply"))
        if not files:
            raise InputError(f"{folder}: no labelled .ply files found")
        meshes = []
        for f in files:
            v, faces, lab = read_labelled_ply(f)
            if faces is None:
                raise InputError(f"{f}: labelled point clouds need s2am3d_core.data.user (not installed)")
            meshes.append(PartMesh(v.astype(np.float32), faces.astype(np.int64), lab[None].astype(np.int64), f.stem))
        return meshes
    items = load_folder(folder, progress=False)
    if not items:
        raise InputError(f"--user-dir {folder}: no labelled files found")
    return items


def load_datasets(args) -> tuple[list[PartPoints], list[PartPoints], str]:
    """From the CLI args -> (train items, eval items, description of the data)."""
    if args.data:
        root = Path(args.data)
        if not root.is_dir():
            raise InputError(f"--data {root}: not a folder")
        train, held = _from_shards(root)
        desc = f"shards:{root}"
    else:
        if args.user_dir:
            folder = Path(args.user_dir)
            if not folder.is_dir():
                raise InputError(f"--user-dir {folder}: not a folder")
            items = [user_points(m, args.points, seed=args.seed + i) for i, m in enumerate(user_meshes(folder))]
            desc = f"user:{folder} ({len(items)} objects)"
        else:
            items = procedural_points(args.procedural, args.points, seed=args.seed)
            desc = f"procedural:{args.procedural} objects x {args.points} points (seed {args.seed})"
        train = [it for it in items if split_of(it.name) == "train"]
        held = [it for it in items if split_of(it.name) == "eval"]
    if not train and not held:
        raise InputError("no training objects found")
    if not held:  # tiny sets: hold out one object, or evaluate on the training object itself
        held = [train.pop()] if len(train) > 1 else list(train)
    if not train:
        train = list(held)
    return train, held, desc


# ----------------------------------------------------------------------------- batches
def fit_points(item: PartPoints, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Subsample (or resample with replacement) an item to exactly ``n`` points."""
    m = len(item.points)
    if m == n:
        return item.points, item.labels
    sel = rng.choice(m, size=n, replace=m < n)
    return item.points[sel], item.labels[:, sel]


def augment(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rotation about the up (z) axis, anisotropic scale 0.8-1.2, small jitter, renormalised."""
    t = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(t), np.sin(t)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], np.float32)
    p = points @ rot.T * rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    p = p + np.clip(rng.normal(0, 0.005, p.shape), -0.02, 0.02).astype(np.float32)
    return normalize_points(p.astype(np.float32))[0]


def level_stack(labels: list[np.ndarray]) -> np.ndarray:
    """Per-object (L_i, N) label stacks -> (Lmax, B, N); objects with fewer levels repeat their coarsest."""
    lmax = max(len(x) for x in labels)
    return np.stack([np.concatenate([x, np.repeat(x[-1:], lmax - len(x), 0)]) for x in labels], axis=1)


def data_fingerprint(items: list[PartPoints]) -> str:
    h = hashlib.sha256()
    for it in items:
        h.update(it.name.encode())
    return h.hexdigest()[:12]
