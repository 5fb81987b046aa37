"""Output-path safety (io/outputs.py) and all-or-nothing writes (io/atomic.py)."""
from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from s2am3d_core.errors import OutputError
from s2am3d_core.io.atomic import TMP_TAG, atomic_dir, atomic_path, clean_stale_temps, stale_temps
from s2am3d_core.io.outputs import OutDir, OutFile, check_outputs, same_file


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_output_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "in.ply"
    src.write_bytes(b"ply")
    for out in (src, tmp_path / "sub" / ".." / "in.ply"):
        with pytest.raises(OutputError, match="is the input file"):
            check_outputs({"INPUT": src}, files=[OutFile("-o", out, (".ply",))])
    assert src.read_bytes() == b"ply"


def test_hard_link_and_symlink_to_input_are_refused(tmp_path):
    src = tmp_path / "in.ply"
    src.write_bytes(b"ply")
    hard = tmp_path / "hard.ply"
    os.link(src, hard)
    soft = tmp_path / "soft.ply"
    soft.symlink_to(src)
    assert same_file(src, hard) and same_file(src, soft)
    for out in (hard, soft):
        with pytest.raises(OutputError, match="is the input file"):
            check_outputs({"INPUT": src}, files=[OutFile("--tree", out, (".json", ".ply"))])


def test_parts_dir_holding_an_input_is_refused(tmp_path):
    src = tmp_path / "part_000.ply"
    src.write_bytes(b"x")
    with pytest.raises(OutputError, match="overlaps the input"):
        check_outputs({"INPUT": src}, dirs=[OutDir("--parts-dir", tmp_path)], overwrite=True)
    with pytest.raises(OutputError, match="--parts-dir"):
        check_outputs({"INPUT": src}, dirs=[OutDir("--parts-dir", tmp_path / "sub")])  # fine: new folder
        raise OutputError("--parts-dir ok")


def test_bad_output_names(tmp_path):
    (tmp_path / "afile").write_text("x")
    cases = [
        (OutFile("-o", tmp_path / "x.txt", (".ply",)), "must be a .ply"),
        (OutFile("-o", tmp_path, (".ply",)), "is a folder"),
        (OutFile("-o", tmp_path / "afile" / "x.ply", (".ply",)), "is a file, not a folder"),
        (OutFile("-o", "", (".ply",)), "empty"),
        (OutFile("-o", "/dev/null", ()), "not a regular file"),
    ]
    for out, msg in cases:
        with pytest.raises(OutputError, match=msg):
            check_outputs({}, files=[out])


def test_two_outputs_clash(tmp_path):
    with pytest.raises(OutputError, match="same file"):
        check_outputs({}, files=[OutFile("-o", tmp_path / "a.json"), OutFile("--tree", tmp_path / "a.json")])
    with pytest.raises(OutputError, match="inside the output folder"):
        check_outputs({}, files=[OutFile("-o", tmp_path / "p" / "a.ply")], dirs=[OutDir("--parts-dir", tmp_path / "p")])


def test_existing_parts_dir_needs_overwrite_and_only_our_files(tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    (d / "part_000.ply").write_text("old")
    (d / "parts.json").write_text("{}")
    with pytest.raises(OutputError, match="--overwrite"):
        check_outputs({}, dirs=[OutDir("--parts-dir", d)])
    check_outputs({}, dirs=[OutDir("--parts-dir", d)], overwrite=True)
    (d / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="did not write"):
        check_outputs({}, dirs=[OutDir("--parts-dir", d)], overwrite=True)


def test_atomic_path_failure_keeps_old_file_and_names_target(tmp_path):
    target = tmp_path / "out.ply"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    with pytest.raises(OutputError) as ei:
        with atomic_path(target) as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert str(target) in str(ei.value) and TMP_TAG not in str(ei.value) and "No space" in str(ei.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ply"]


def test_killed_write_leftovers_are_cleaned(tmp_path):
    pid = _dead_pid()
    stale_file = tmp_path / f".out.ply{TMP_TAG}{pid}-abc.ply"
    stale_file.write_text("partial")
    stale_dir = tmp_path / f".parts{TMP_TAG}{pid}-xyz"
    stale_dir.mkdir()
    (stale_dir / "part_000.ply").write_text("partial")
    live = tmp_path / f".out.ply{TMP_TAG}{os.getpid()}-live.ply"  # a write in progress: kept
    live.write_text("busy")
    assert set(stale_temps(tmp_path)) == {stale_file, stale_dir}
    with atomic_path(tmp_path / "out.ply") as tmp:
        tmp.write_text("new")
    assert not stale_file.exists() and live.exists() and stale_dir.exists()  # only out.ply's leftovers
    clean_stale_temps(tmp_path)
    assert not stale_dir.exists()


def test_atomic_dir_all_or_nothing(tmp_path):
    d = tmp_path / "parts"
    with atomic_dir(d) as tmp:
        (tmp / "part_000.ply").write_text("a")
        (tmp / "part_001.ply").write_text("b")
    assert sorted(p.name for p in d.iterdir()) == ["part_000.ply", "part_001.ply"]
    with pytest.raises(OutputError, match="not empty"):
        with atomic_dir(d):
            pass
    with pytest.raises(RuntimeError):  # a failure half-way leaves the old folder as it was
        with atomic_dir(d, replace=True) as tmp:
            (tmp / "part_000.ply").write_text("new")
            raise RuntimeError("boom")
    assert (d / "part_001.ply").read_text() == "b"
    with atomic_dir(d, replace=True) as tmp:  # a rerun: no stale part_001 beside the new files
        (tmp / "part_000.ply").write_text("new")
    assert sorted(p.name for p in d.iterdir()) == ["part_000.ply"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts"]


def test_atomic_dir_write_error_names_the_final_folder(tmp_path):
    d = tmp_path / "parts"
    with pytest.raises(OutputError) as ei:
        with atomic_dir(d) as tmp:
            with atomic_path(tmp / "part_000.ply") as f:
                raise OSError(errno.ENOSPC, "No space left on device", str(f))
    msg = str(ei.value)
    assert str(d / "part_000.ply") in msg and TMP_TAG not in msg
    assert not d.exists() and list(tmp_path.iterdir()) == []


def test_nested_atomic_write_error_names_the_target(tmp_path):
    target = tmp_path / "out.ply"
    with pytest.raises(OutputError) as ei:
        with atomic_path(target) as tmp:
            with atomic_path(tmp) as inner:
                raise OSError(errno.EROFS, "Read-only file system", str(inner))
    assert str(target) in str(ei.value) and TMP_TAG not in str(ei.value)
    assert list(tmp_path.iterdir()) == []
