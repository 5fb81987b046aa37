"""s2am3d-segment outputs: all or nothing, no stale part files, leftovers of killed runs cleaned."""
from __future__ import annotations

import errno
import subprocess
import sys

import pytest
import torch
import trimesh

from s2am3d_core.checkpoint import save_model
from s2am3d_core.cli import segment
from s2am3d_core.config import get_config
from s2am3d_core.io.atomic import TMP_TAG
from s2am3d_core.modeling.model import S2AM3D


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("seg")
    torch.manual_seed(0)
    save_model(S2AM3D(get_config("test-tiny")), d / "w.safetensors")
    parts = [trimesh.creation.box((1, 1, 1)).apply_translation((2.0 * i, 0, 0)) for i in range(3)]
    trimesh.util.concatenate(parts).export(d / "three.ply")
    return d


def run(files, tmp_path, *extra):
    return segment.main([str(files / "three.ply"), "-o", str(tmp_path / "out.ply"), "--auto", "--weights",
                         str(files / "w.safetensors"), "-q", "--no-cache", "--points", "300", "--num-prompts", "8",
                         *[str(e) for e in extra]])


def test_failure_while_writing_leaves_no_output_at_all(files, tmp_path, monkeypatch, capsys):
    import json as json_mod

    real = json_mod.dumps

    def full_disk_on_tree(obj, *a, **k):
        if isinstance(obj, dict) and "scales" in obj:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(obj, *a, **k)
    monkeypatch.setattr(segment.json, "dumps", full_disk_on_tree)
    rc = run(files, tmp_path, "--parts-dir", tmp_path / "parts", "--tree", tmp_path / "tree.json",
             "--tree-scales", 0.3)
    err = capsys.readouterr().err
    assert rc == 2 and "tree.json: could not write (No space left on device)" in err and "Traceback" not in err
    assert TMP_TAG not in err  # the message names the user's path, not the hidden temporary one
    assert list(tmp_path.iterdir()) == []  # no parts/, no out.ply, no tree, no temp leftovers


def test_rerun_replaces_the_parts_folder_only_with_overwrite(files, tmp_path, capsys):
    parts = tmp_path / "parts"
    assert run(files, tmp_path, "--parts-dir", parts) == 0
    first = sorted(p.name for p in parts.iterdir())
    (parts / "part_099.ply").write_text("stale from an older run")
    assert run(files, tmp_path, "--parts-dir", parts) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run(files, tmp_path, "--parts-dir", parts, "--overwrite") == 0
    assert sorted(p.name for p in parts.iterdir()) == first  # the stale part_099.ply is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ply", "parts"]


def test_leftovers_of_a_killed_run_are_cleaned(files, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftovers = [tmp_path / f".out.ply{TMP_TAG}{dead.pid}-x.ply", tmp_path / f".parts{TMP_TAG}{dead.pid}-y"]
    leftovers[0].write_bytes(b"\0" * 1000)
    leftovers[1].mkdir()
    (leftovers[1] / "part_000.ply").write_bytes(b"partial")
    assert run(files, tmp_path, "--parts-dir", tmp_path / "parts") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ply", "parts"]
