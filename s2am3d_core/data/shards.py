"""Compact on-disk shards of labelled point clouds, and the torch Dataset that reads them.

Layout of a dataset folder (one set of files per split)::

    index_{split}.json               {"format": "s2am3d-shards", "version": 1, "split", "num_items",
                                      "max_levels", "shards": [{"file", "count"}],
                                      "items": [{"name", "category", "num_levels", "num_points",
                                                 "shard", "index"}]}
    {split}-00000.safetensors        points  (sum N, 3) float16   all objects of the shard, concatenated
                                     labels  (Lmax, sum N) int16  (int32 when an id exceeds 32767);
                                                                  levels past an object's own L repeat
                                                                  its coarsest level
                                     offsets (count + 1,) int64   object i = rows offsets[i]:offsets[i+1]
                                     num_levels (count,) int64

Objects are assigned to splits by :func:`split_of`, a stable hash of the object name, so an object
(and every re-sampling of it) is always in the same split. All files are written atomically.
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from ..errors import InputError
from ..io.atomic import atomic_path
from .splits import split_of  # noqa: F401 (the train/eval rule of named objects; defined in splits.py)
from .types import PartPoints

FORMAT = "s2am3d-shards"
VERSION = 1
SPLITS = ("train", "eval")


def pad_levels(labels: np.ndarray, num_levels: int) -> np.ndarray:
    """(L, N) -> (num_levels, N): repeat the coarsest level (or -1 when L = 0); if L > num_levels keep
    the finest num_levels - 1 levels and the coarsest."""
    lab = np.asarray(labels)
    L = lab.shape[0]
    if L == num_levels:
        return lab
    if L == 0:
        return np.full((num_levels, lab.shape[1]), -1, dtype=lab.dtype)
    if L < num_levels:
        return np.concatenate([lab, np.repeat(lab[-1:], num_levels - L, axis=0)])
    if num_levels == 1:
        return lab[:1]
    return np.concatenate([lab[: num_levels - 1], lab[-1:]])


class ShardWriter:
    """Streams PartPoints into shards of ``shard_size`` objects; :meth:`close` writes the index.

    Usable as a context manager. The index is written last, so a crashed run leaves the previous
    index (if any) in place; stale shard files of the split beyond the new count are removed.
    """

    def __init__(self, out_dir: str | os.PathLike, split: str, shard_size: int = 256):
        if not split or any(c in split for c in "/\\") or split.startswith("."):
            raise ValueError(f"bad split name {split!r}")
        if shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {shard_size}")
        self.out = Path(out_dir)
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"{self.out}: exists and is not a folder")
        self.out.mkdir(parents=True, exist_ok=True)
        self.split = split
        self.shard_size = int(shard_size)
        self._buf: list[PartPoints] = []
        self._shards: list[dict] = []
        self._items: list[dict] = []
        self._closed = False

    def add(self, item: PartPoints) -> None:
        pts = np.asarray(item.points)
        lab = np.asarray(item.labels)
        if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) == 0:
            raise InputError(f"{item.name}: points must be a non-empty (N, 3) array, got {pts.shape}")
        if lab.ndim != 2 or lab.shape[1] != len(pts):
            raise InputError(f"{item.name}: labels must be (L, {len(pts)}), got {lab.shape}")
        if not np.isfinite(pts).all():
            raise InputError(f"{item.name}: points hold NaN or infinite values")
        self._buf.append(item)
        if len(self._buf) >= self.shard_size:
            self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        k = len(self._shards)
        fname = f"{self.split}-{k:05d}.safetensors"
        lmax = max(1, max(int(np.asarray(it.labels).shape[0]) for it in self._buf))
        lengths = [len(it.points) for it in self._buf]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        points = np.concatenate([np.asarray(it.points, dtype=np.float32) for it in self._buf]).astype(np.float16)
        labels = np.concatenate([pad_levels(np.asarray(it.labels, dtype=np.int64), lmax) for it in self._buf], axis=1)
        dtype = np.int16 if labels.size == 0 or labels.max() <= np.iinfo(np.int16).max else np.int32
        if labels.size and labels.max() > np.iinfo(np.int32).max:
            raise InputError("part ids do not fit in 32 bits")
        tensors = {
            "points": np.ascontiguousarray(points),
            "labels": np.ascontiguousarray(np.maximum(labels, -1).astype(dtype)),
            "offsets": offsets,
            "num_levels": np.array([np.asarray(it.labels).shape[0] for it in self._buf], dtype=np.int64),
        }
        with atomic_path(self.out / fname) as tmp:
            save_file(tensors, str(tmp), metadata={"format": FORMAT, "version": str(VERSION), "split": self.split})
        for i, it in enumerate(self._buf):
            self._items.append({"name": str(it.name), "category": str(it.category),
                                "num_levels": int(np.asarray(it.labels).shape[0]),
                                "num_points": int(lengths[i]), "shard": k, "index": i})
        self._shards.append({"file": fname, "count": len(self._buf)})
        self._buf = []

    def close(self) -> Path:
        """Flush the last shard, write ``index_{split}.json`` and return its path."""
        if self._closed:
            return self.out / f"index_{self.split}.json"
        self._flush()
        index = {
            "format": FORMAT,
            "version": VERSION,
            "split": self.split,
            "num_items": len(self._items),
            "max_levels": max((it["num_levels"] for it in self._items), default=0),
            "shards": self._shards,
            "items": self._items,
        }
        path = self.out / f"index_{self.split}.json"
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
        # remove shards of an earlier, larger run of this split
        k = len(self._shards)
        while (stale := self.out / f"{self.split}-{k:05d}.safetensors").exists():
            stale.unlink()
            k += 1
        self._closed = True
        return path

    @property
    def count(self) -> int:
        return len(self._items) + len(self._buf)

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


def write_shards(out_dir: str | os.PathLike, items: Iterable[PartPoints], split: str, shard_size: int = 256) -> Path:
    """Write ``items`` as the ``split`` of the dataset in ``out_dir`` (replacing an earlier one).

    Args:
        out_dir: dataset folder (created if needed).
        items: PartPoints (points (N, 3), labels (L, N)); N and L may differ between items.
        split: split name, normally "train" or "eval".
        shard_size: objects per shard file.

    Returns:
        Path of the written ``index_{split}.json``.
    """
    writer = ShardWriter(out_dir, split, shard_size=shard_size)
    for it in items:
        writer.add(it)
    return writer.close()


def read_index(root: str | os.PathLike, split: str) -> dict:
    """The parsed ``index_{split}.json`` of a dataset folder (InputError when missing or malformed)."""
    path = Path(root) / f"index_{split}.json"
    if not Path(root).is_dir():
        raise InputError(f"{root}: folder not found")
    if not path.is_file():
        have = sorted(p.name[len("index_"):-len(".json")] for p in Path(root).glob("index_*.json"))
        raise InputError(f"{path}: no split {split!r} in this dataset (splits present: {', '.join(have) or 'none'})")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: unreadable index ({e})") from e
    if not isinstance(index, dict) or index.get("format") != FORMAT or "items" not in index:
        raise InputError(f"{path}: not an s2am3d shard index")
    return index


def available_splits(root: str | os.PathLike) -> list[str]:
    """Names of the splits that have an index in ``root``."""
    return sorted(p.name[len("index_"):-len(".json")] for p in Path(root).glob("index_*.json"))


class ShardDataset(torch.utils.data.Dataset):
    """Objects of one split of a shard folder, as :class:`PartPoints` (points float32, labels int64).

    Args:
        root: dataset folder written by :func:`write_shards` / ``s2am3d-data build``.
        split: "train", "eval", ...
        num_levels: None = each object's own levels (L varies); an int pads every object to that
            many levels by repeating its coarsest level (see :func:`pad_levels`).
        cache_shards: how many decoded shard files to keep in memory.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", num_levels: int | None = None,
                 cache_shards: int = 4):
        self.root = Path(root)
        self.split = split
        self.index = read_index(root, split)
        self.items: list[dict] = list(self.index["items"])
        self.shards: list[dict] = list(self.index["shards"])
        self.num_levels = num_levels
        self._cache: OrderedDict[int, dict] = OrderedDict()
        self._cache_size = max(1, int(cache_shards))

    def __len__(self) -> int:
        return len(self.items)

    def _shard(self, k: int) -> dict:
        if k in self._cache:
            self._cache.move_to_end(k)
            return self._cache[k]
        path = self.root / self.shards[k]["file"]
        try:
            data = load_file(str(path))
        except Exception as e:
            raise InputError(f"{path}: cannot read shard ({type(e).__name__}: {e})") from e
        self._cache[k] = data
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return data

    def __getitem__(self, i: int) -> PartPoints:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} objects")
        meta = self.items[i]
        data = self._shard(int(meta["shard"]))
        j = int(meta["index"])
        a, b = int(data["offsets"][j]), int(data["offsets"][j + 1])
        points = data["points"][a:b].astype(np.float32)
        labels = data["labels"][: int(meta["num_levels"]), a:b].astype(np.int64)
        if self.num_levels is not None:
            labels = pad_levels(labels, int(self.num_levels))
        return PartPoints(points=points, labels=labels, name=meta["name"], category=meta["category"])

    def names(self) -> list[str]:
        return [it["name"] for it in self.items]


def shard_items(root: str, split: str, max_objects: int | None) -> Iterator:
    """The objects (PartPoints) of ``split`` in the shard folder ``root``, at most ``max_objects``.

    Raises:
        InputError: ``root`` is not a folder (named as ``--data``).
    """
    if not Path(root).is_dir():
        raise InputError(f"--data: {root}: folder not found")
    ds = ShardDataset(root, split)
    if hasattr(ds, "__len__") and hasattr(ds, "__getitem__"):
        count = len(ds) if max_objects is None else min(len(ds), max_objects)
        for i in range(count):
            yield ds[i]
    else:
        for i, item in enumerate(ds):
            if max_objects is not None and i >= max_objects:
                return
            yield item
