"""Training data for s2am3d-train: lists of PartPoints, augmentation and batching.

Sources: shards written by ``s2am3d-data build`` (``--data``), procedural objects generated (in
several processes with ``--data-workers``) and cached in the user cache folder (``--procedural N``), or a
folder of the user's labelled PLY/GLB files (``--user-dir``). Objects are split into train/eval by
:func:`s2am3d_core.data.splits.split_of` of their name. Prompts come from
:mod:`s2am3d_core.data.prompts`, the one sampler of training, fine-tuning and evaluation.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data import procedural
from ..data.realism import random_rotation, realistic_points
from ..data.sampling import mesh_to_points, to_points
from ..data.splits import split_of
from ..data.types import PartMesh, PartPoints
from ..data.user import load_labelled_folder
from ..errors import InputError
from ..geometry import normalize_points
from ..io.atomic import atomic_path
from ..io.sample import subset_indices

__all__ = ["split_of", "user_points", "user_meshes", "user_splits", "held_out_clicks", "with_clicks", "procedural_points", "load_datasets", "fit_points",
           "augment", "level_stack", "data_fingerprint"]


def user_points(item: PartMesh | PartPoints, n: int, seed: int) -> PartPoints:
    """A user's PartMesh (sampled) or PartPoints (resampled) -> PartPoints with n points."""
    return to_points(item, n, seed=seed)


def user_meshes(folder: Path, flag: str = "--user-dir") -> list[PartMesh | PartPoints]:
    """Every labelled file of ``folder`` (InputError naming the skipped files when there is none)."""
    return load_labelled_folder(folder, flag)


SMALL_SET = 4  # fewer user files than this (and no --val-dir): every file trains, clicks are held out


def _hash_order(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def held_out_clicks(n: int, fraction: float, seed: int) -> np.ndarray:
    """(n,) bool: the points kept for validation clicks (``fraction`` of them, seeded)."""
    rng = np.random.default_rng([seed, 991])
    mask = np.zeros(n, bool)
    mask[rng.choice(n, size=max(1, round(fraction * n)), replace=False)] = True
    return mask


def with_clicks(item: PartPoints, allowed: np.ndarray) -> PartPoints:
    """A view of ``item`` whose prompts may click only the points where ``allowed`` is True."""
    out = PartPoints(item.points, item.labels, item.name, item.category)
    out.click_mask = allowed
    return out


def user_splits(cfg) -> tuple[list[PartPoints], list[PartPoints], dict]:
    """--user-dir (and --val-dir / --val-fraction) -> (train items, validation items, splits record).

    * ``--val-dir``: every file of --user-dir trains, every file of --val-dir validates.
    * ``SMALL_SET`` files or more: ``round(val_fraction * n)`` files (at least 1; chosen by a hash of
      the name, so the choice does not move with the seed) validate, the rest train.
    * fewer: every file trains AND validates, on held-out clicks: ``val_fraction`` of each shape's
      points are never clicked in training and are the only clicks of the validation prompts. This
      measures new clicks on seen shapes, not new shapes.
    """
    files = [user_points(m, cfg.points, seed=cfg.seed + i) for i, m in enumerate(user_meshes(Path(cfg.user_dir)))]
    rec = {"user_dir": str(cfg.user_dir), "val_dir": cfg.val_dir, "val_fraction": cfg.val_fraction}
    if cfg.val_dir:
        val = [user_points(m, cfg.points, seed=cfg.seed + 10_000 + i)
               for i, m in enumerate(user_meshes(Path(cfg.val_dir), "--val-dir"))]
        rec.update(rule="--val-dir: all of --user-dir trains, all of --val-dir validates",
                   train=[x.name for x in files], validate=[x.name for x in val], held_out_clicks=None)
        return files, val, rec
    if len(files) >= SMALL_SET:
        k = max(1, round(cfg.val_fraction * len(files)))
        val_names = set(sorted((x.name for x in files), key=_hash_order)[:k])
        train = [x for x in files if x.name not in val_names]
        val = [x for x in files if x.name in val_names]
        rec.update(rule=f"{len(val)} of {len(files)} files validate (--val-fraction {cfg.val_fraction:g})",
                   train=[x.name for x in train], validate=[x.name for x in val], held_out_clicks=None)
        return train, val, rec
    train, val = [], []
    for i, x in enumerate(files):
        held = held_out_clicks(len(x.points), cfg.val_fraction, cfg.seed + i)
        train.append(with_clicks(x, ~held))
        val.append(with_clicks(x, held))
    rec.update(rule=(f"fewer than {SMALL_SET} files and no --val-dir: every file trains; validation clicks on "
                     f"{cfg.val_fraction:.0%} of each shape's points, never clicked in training (new clicks on "
                     f"seen shapes, not new shapes; the encoder stage validates on the training shapes)"),
               train=[x.name for x in files], validate=[x.name for x in files], held_out_clicks=cfg.val_fraction)
    return train, val, rec


# ----------------------------------------------------------------------------- procedural
def procedural_item(i: int, points: int, seed: int, realism: float) -> PartPoints:
    """Procedural object ``seed + i`` sampled to ``points`` points; with probability ``realism`` it is
    rotated (any up axis), unevenly sampled and noisy (:func:`s2am3d_core.data.realism.realistic_points`)."""
    cats = procedural.CATEGORIES
    mesh = procedural.generate(cats[i % len(cats)], seed + i)
    rng = np.random.default_rng([seed, i, 7])
    if rng.random() < realism:
        return realistic_points(mesh_to_points(mesh, 2 * points, seed=seed + i), points, rng)
    return mesh_to_points(mesh, points, seed=seed + i)


def _item_args(a: tuple) -> PartPoints:
    return procedural_item(*a)


PROCEDURAL_FORMAT = "s2am3d-procedural/2"


def procedural_points(n: int, points: int, seed: int = 0, realism: float = 0.0, workers: int = 1,
                      cache_dir: str | Path | None = None, progress: bool = True) -> list[PartPoints]:
    """``n`` procedural objects as PartPoints, generated by ``workers`` processes and cached as an .npz in
    the user cache folder (``$S2AM3D_TRAIN_CACHE`` or :func:`s2am3d_core.cache.procedural_cache_dir`;
    same n / points / seed / realism = reuse). A bad cache file is deleted and rebuilt; a failed write
    is a warning."""
    from ..cache import procedural_cache_dir

    root = Path(cache_dir or os.environ.get("S2AM3D_TRAIN_CACHE") or procedural_cache_dir())
    cache = root / f"n{n}-p{points}-s{seed}-r{realism:g}-v2.npz"
    items = _read_procedural_cache(cache, n, points)
    if items is not None:
        return items
    jobs = [(i, points, seed, realism) for i in range(n)]
    bar = dict(total=n, desc="procedural objects", leave=False, disable=not progress)
    if workers > 1 and n > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as ex:
            items = list(tqdm(ex.map(_item_args, jobs, chunksize=max(1, min(64, n // (4 * workers)))), **bar))
    else:
        items = [procedural_item(*a) for a in tqdm(jobs, **bar)]
    _write_procedural_cache(cache, items)
    return items


def _read_procedural_cache(path: Path, n: int, points: int) -> list[PartPoints] | None:
    """The cached objects, or None (a missing, foreign, truncated or malformed file: deleted, with a warning).

    Checked: the format version, the keys, shapes and dtypes, finite points in the normalised range,
    labels >= -1."""
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
        if problem is None and np.abs(arrays["points"]).max() > 4.0:
            problem = "points are not normalised"
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
    try:
        with atomic_path(path, fsync=False) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, format=np.array(PROCEDURAL_FORMAT), points=np.stack([it.points for it in items]),
                         names=np.array([it.name for it in items]), cats=np.array([it.category for it in items]),
                         **{f"labels{i}": it.labels.astype(np.int32) for i, it in enumerate(items)})
    except Exception as exc:  # noqa: BLE001 - a cache is a convenience: go on without it
        warn(f"procedural cache: could not write {path} ({write_failure(exc)}); continuing without the cache")


# ----------------------------------------------------------------------------- sources
def _from_shards(root: Path) -> tuple[list[PartPoints], list[PartPoints]]:
    from ..data.shards import ShardDataset, available_splits

    splits = available_splits(root)
    if "train" not in splits:
        raise InputError(f"--data {root}: no train split (index_train.json); build it with `s2am3d-data build`")

    def items(split):
        ds = ShardDataset(root, split)
        return [ds[i] for i in range(len(ds))]
    return items("train"), items("eval") if "eval" in splits else []


def load_datasets(cfg) -> tuple[list[PartPoints], list[PartPoints], str, dict]:
    """From a resolved :class:`~s2am3d_core.train.config.TrainConfig` -> (train items, validation items,
    description, splits record for RUN_DIR/splits.json)."""
    if cfg.user_dir:
        train, held, rec = user_splits(cfg)
        desc = f"user:{cfg.user_dir} ({len(rec['train'])} train / {len(rec['validate'])} validate)"
        if cfg.replay:
            replay = [it for it in procedural_points(cfg.replay, cfg.points, seed=cfg.seed, realism=cfg.realism,
                                                     workers=cfg.data_workers, progress=not cfg.quiet)
                      if split_of(it.name) == "train"]
            train = train + replay
            rec["replay"] = len(replay)
            desc += f" + {len(replay)} procedural objects replayed"
        return train, held, desc, rec
    if cfg.data:
        root = Path(cfg.data)
        if not root.is_dir():
            raise InputError(f"--data {root}: not a folder")
        train, held = _from_shards(root)
        desc = f"shards:{root}"
    else:
        items = procedural_points(cfg.procedural, cfg.points, seed=cfg.seed, realism=cfg.realism,
                                  workers=cfg.data_workers, progress=not cfg.quiet)
        desc = (f"procedural:{cfg.procedural} objects x {cfg.points} points (seed {cfg.seed}, "
                f"realism {cfg.realism:g})")
        train = [it for it in items if split_of(it.name) == "train"]
        held = [it for it in items if split_of(it.name) == "eval"]
    if not train and not held:
        raise InputError("no training objects found")
    if not held:  # tiny sets: hold out one object, or evaluate on the training object itself
        held = [train.pop()] if len(train) > 1 else list(train)
    if not train:
        train = list(held)
    rec = {"rule": "split by a hash of each object's name (split_of)", "train": len(train), "validate": len(held)}
    return train, held, desc, rec


# ----------------------------------------------------------------------------- batches
def fit_points(item: PartPoints, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Subsample an item to exactly ``n`` points (unsorted), or repeat random points of a smaller one."""
    m = len(item.points)
    if m == n:
        return item.points, item.labels
    sel = subset_indices(m, n, rng, repeat=True, sort=False)
    return item.points[sel], item.labels[:, sel]


def augment(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rotation (z-up, Y-up or any, see :func:`random_rotation`), anisotropic scale 0.8-1.2,
    small jitter, renormalised."""
    p = points @ random_rotation(rng).T.astype(np.float32) * rng.uniform(0.8, 1.2, size=3).astype(np.float32)
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
