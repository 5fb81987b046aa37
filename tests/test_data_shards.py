"""Shards on disk, ShardDataset, stable train/eval split."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file
import torch

from s2am3d_core.data.shards import ShardDataset, pad_levels, split_of, write_shards
from s2am3d_core.data.types import PartPoints
from s2am3d_core.errors import InputError


def items(n, rng):
    out = []
    for i in range(n):
        npts = int(rng.integers(20, 60))
        L = int(rng.integers(0, 4))
        lab = np.sort(rng.integers(-1, 5, size=(L, npts)), axis=0)[::-1].copy()
        out.append(PartPoints(rng.uniform(-1, 1, size=(npts, 3)).astype(np.float32), lab, f"obj{i}", f"cat{i % 3}"))
    return out


def test_roundtrip_ragged(tmp_path):
    data = items(11, np.random.default_rng(0))
    index = write_shards(tmp_path / "ds", data, "train", shard_size=4)
    meta = json.loads(index.read_text())
    assert meta["num_items"] == 11 and [s["count"] for s in meta["shards"]] == [4, 4, 3]
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [
        "index_train.json", "train-00000.safetensors", "train-00001.safetensors", "train-00002.safetensors"]
    ds = ShardDataset(tmp_path / "ds", "train")
    assert isinstance(ds, torch.utils.data.Dataset) and len(ds) == 11
    for orig, i in zip(data, range(11)):
        got = ds[i]
        assert got.name == orig.name and got.category == orig.category
        assert got.points.dtype == np.float32 and got.labels.dtype == np.int64
        np.testing.assert_allclose(got.points, orig.points, atol=1e-3)  # float16 storage
        np.testing.assert_array_equal(got.labels, orig.labels)
    padded = ShardDataset(tmp_path / "ds", "train", num_levels=4)
    for i in range(11):
        lab, L = padded[i].labels, data[i].labels.shape[0]
        assert lab.shape[0] == 4
        if L:
            np.testing.assert_array_equal(lab[L:], np.repeat(data[i].labels[-1:], 4 - L, axis=0))
    assert ds[-1].name == "obj10"
    with pytest.raises(IndexError):
        ds[11]


def test_rewrite_removes_stale_shards(tmp_path):
    data = items(6, np.random.default_rng(1))
    write_shards(tmp_path, data, "eval", shard_size=2)
    write_shards(tmp_path, data[:2], "eval", shard_size=2)
    assert sorted(p.name for p in tmp_path.glob("eval-*")) == ["eval-00000.safetensors"]
    assert len(ShardDataset(tmp_path, "eval")) == 2


def test_large_ids_use_int32(tmp_path):
    lab = np.arange(40000, dtype=np.int64)[None]
    pts = np.zeros((40000, 3), np.float32)
    write_shards(tmp_path, [PartPoints(pts, lab, "big")], "train")
    np.testing.assert_array_equal(ShardDataset(tmp_path, "train")[0].labels, lab)
    (shard,) = tmp_path.glob("train-*.safetensors")
    assert load_file(str(shard))["labels"].dtype == np.int32
    small = tmp_path / "small"
    write_shards(small, [PartPoints(pts, lab % 1000, "small")], "train")
    (shard,) = small.glob("train-*.safetensors")
    assert load_file(str(shard))["labels"].dtype == np.int16  # ids up to 32767 keep the compact int16


def test_errors(tmp_path):
    with pytest.raises(InputError, match="folder not found"):
        ShardDataset(tmp_path / "none", "train")
    write_shards(tmp_path, [], "train")
    assert len(ShardDataset(tmp_path, "train")) == 0
    with pytest.raises(InputError, match="no split 'eval'"):
        ShardDataset(tmp_path, "eval")
    with pytest.raises(InputError):
        write_shards(tmp_path, [PartPoints(np.zeros((3, 3)), np.zeros((1, 4), np.int64), "x")], "train")


def test_pad_levels():
    lab = np.array([[0, 1, 2], [0, 0, 1]])
    assert pad_levels(lab, 3).tolist() == [[0, 1, 2], [0, 0, 1], [0, 0, 1]]
    assert pad_levels(np.array([[0], [1], [2], [3]]), 2).tolist() == [[0], [3]]
    assert pad_levels(np.zeros((0, 2), np.int64), 2).tolist() == [[-1, -1], [-1, -1]]


def test_split_of_stable_and_fraction():
    names = [f"chair_{i:06d}" for i in range(4000)]
    splits = [split_of(n) for n in names]
    frac = splits.count("eval") / len(names)
    assert 0.08 < frac < 0.12
    assert split_of("x", 0.0) == "train" and split_of("x", 1.0) == "eval"
    # growing the eval fraction only moves objects from train to eval
    assert all(split_of(n, 0.2) == "eval" for n, s in zip(names, splits) if s == "eval")
    # a content hash (SHA-1), independent of PYTHONHASHSEED and of the interpreter: these names were in
    # the eval split when this test was written, and must stay there (shards written earlier keep their split)
    assert [i for i in range(200) if splits[i] == "eval"] == [8, 9, 18, 25, 30, 48, 86, 88, 106, 107, 122, 136,
                                                               173, 177, 181]
