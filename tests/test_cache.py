"""Feature and procedural caches: validated on read, failed writes are warnings, bounded size."""
from __future__ import annotations

import errno
import os
import time

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from s2am3d_core import cache as cache_mod
from s2am3d_core.cache import FEATURES_FORMAT, FeatureCache
from s2am3d_core.train import data as train_data

KEY, WID = "a" * 32, "b" * 16
SHAPE = (1, 3, 4, 8, 8)


def _good(c: FeatureCache) -> None:
    assert c.put(KEY, WID, {"planes": torch.rand(SHAPE)}) is not None


@pytest.mark.parametrize("tensors,meta", [
    ({"planes": torch.rand(SHAPE).half()}, {"format": "s2am3d-features/0"}),            # old format
    ({"planes": torch.rand(SHAPE).half()}, {"format": FEATURES_FORMAT, "points_key": "x" * 32, "weights_id": WID}),
    ({"wrong": torch.rand(SHAPE).half()}, None),                                         # wrong key
    ({"planes": torch.rand(1, 3, 4, 8, 9).half()}, None),                                # wrong shape
    ({"planes": torch.full(SHAPE, float("nan")).half()}, None),                          # NaN entry
    ({"planes": torch.rand(SHAPE).double()}, None),                                      # wrong dtype
])
def test_bad_entries_are_deleted_and_missed(tmp_path, capsys, tensors, meta):
    c = FeatureCache(tmp_path)
    path = c.path_for(KEY, WID)
    save_file(tensors, str(path), metadata=meta or {"format": FEATURES_FORMAT, "points_key": KEY, "weights_id": WID})
    assert c.get(KEY, WID, expected={"planes": SHAPE}) is None
    assert not path.exists()
    assert ("feature cache" in capsys.readouterr().err) == (meta is None or meta.get("format") == FEATURES_FORMAT)
    _good(c)  # recomputed entry is stored and read back
    got = c.get(KEY, WID, expected={"planes": SHAPE})
    assert got is not None and got["planes"].shape == SHAPE


def test_truncated_entry_is_a_miss(tmp_path):
    c = FeatureCache(tmp_path)
    _good(c)
    p = c.path_for(KEY, WID)
    p.write_bytes(p.read_bytes()[:50])
    assert c.get(KEY, WID) is None and not p.exists()


def test_full_disk_is_a_warning_not_an_error(tmp_path, monkeypatch, capsys):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("safetensors.torch.save_file", full)
    c = FeatureCache(tmp_path)
    assert c.put(KEY, WID, {"planes": torch.rand(SHAPE)}) is None
    assert c.put(KEY, WID, {"planes": torch.rand(SHAPE)}) is None
    err = capsys.readouterr().err
    assert err.count("warning: feature cache: could not write") == 1 and "No space" in err
    assert list(tmp_path.iterdir()) == []


def test_read_only_cache_folder_is_a_warning(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = FeatureCache(blocker / "cache")  # cannot create a folder below a file
    assert c.put(KEY, WID, {"planes": torch.rand(SHAPE)}) is None
    assert "could not write" in capsys.readouterr().err


def test_size_bound_evicts_least_recently_used(tmp_path):
    c = FeatureCache(tmp_path, max_bytes=10**9)
    keys = [f"{i:032d}" for i in range(4)]
    for i, k in enumerate(keys):
        c.put(k, WID, {"planes": torch.rand(SHAPE)})
        os.utime(c.path_for(k, WID), (time.time() - 100 + i, time.time() - 100 + i))
    c.get(keys[0], WID)  # used now: newest
    size = c.path_for(keys[0], WID).stat().st_size
    c.max_bytes = 2 * size
    c.evict()
    assert sorted(p.name[:32] for p in c.entries()) == sorted([keys[0], keys[3]])


def test_procedural_cache_in_user_cache_and_validated(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("S2AM3D_CACHE_DIR", str(tmp_path / "c"))
    assert cache_mod.procedural_cache_dir() == tmp_path / "c" / "procedural"
    monkeypatch.delenv("S2AM3D_CACHE_DIR")
    assert "s2am3d" in str(cache_mod.procedural_cache_dir()) and "tmp" not in cache_mod.procedural_cache_dir().parts[:2]
    d = tmp_path / "proc"
    items = train_data.procedural_points(2, 64, seed=0, cache_dir=d, progress=False)
    (path,) = list(d.glob("*.npz"))
    assert path.is_file()
    again = train_data.procedural_points(2, 64, seed=0, cache_dir=d, progress=False)
    assert all(np.array_equal(a.points, b.points) for a, b in zip(items, again))
    # a short file (IndexError before) and a forged one (wrong format / shapes) are rebuilt
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    for forged in ({**arrays, "points": arrays["points"][:1]},
                   {**arrays, "format": np.array("other")},
                   {**arrays, "points": arrays["points"] * 50},
                   {k: v for k, v in arrays.items() if k != "labels1"}):
        with open(path, "wb") as f:
            np.savez(f, **forged)
        rebuilt = train_data.procedural_points(2, 64, seed=0, cache_dir=d, progress=False)
        assert all(np.array_equal(a.points, b.points) for a, b in zip(items, rebuilt))
        assert "procedural cache" in capsys.readouterr().err
    path.write_bytes(b"PK\x03\x04short")
    rebuilt = train_data.procedural_points(2, 64, seed=0, cache_dir=d, progress=False)
    assert len(rebuilt) == 2
