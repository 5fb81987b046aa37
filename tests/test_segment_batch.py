"""s2am3d-segment on several files or a folder: one output per input, resumable, errors per file."""
import pytest
import torch
import trimesh

from s2am3d_core.checkpoint import save_model
from s2am3d_core.cli.segment import main
from s2am3d_core.config import get_config
from s2am3d_core.io import read_labelled_ply
from s2am3d_core.modeling import S2AM3D


@pytest.fixture()
def batch(tmp_path, monkeypatch):
    monkeypatch.setenv("S2AM3D_CACHE_DIR", str(tmp_path / "cache"))
    torch.manual_seed(0)
    save_model(S2AM3D(get_config("test-tiny")), tmp_path / "w.safetensors")
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    trimesh.creation.box().export(shapes / "box.stl")
    trimesh.creation.icosphere(2).export(shapes / "ball.glb")
    trimesh.creation.cylinder(0.3, 1.0).export(shapes / "box.obj")   # same stem as box.stl
    (shapes / "notes.txt").write_text("not a shape\n")                # a .txt that is not XYZ rows
    return tmp_path, shapes


def run(tmp_path, *args):
    return main([*map(str, args), "--auto", "--weights", str(tmp_path / "w.safetensors"), "--points", "500",
                 "--threads", "1", "-q"])


def test_folder_batch_resumes_and_reports_bad_files(batch, capsys):
    tmp_path, shapes = batch
    out = tmp_path / "out"
    assert run(tmp_path, shapes, "-o", out) == 2                    # notes.txt fails, the rest is written
    res = capsys.readouterr()
    assert "error:" in res.err and "notes.txt" in res.err and "3 segmented" in res.out
    written = sorted(p.name for p in out.glob("*_labelled.ply"))
    assert written == ["ball_labelled.ply", "box_obj_labelled.ply", "box_stl_labelled.ply"]
    v, f, lab = read_labelled_ply(out / "ball_labelled.ply")
    assert f is not None and len(lab) == len(f) and (lab >= 0).all()
    stamp = (out / "ball_labelled.ply").stat().st_mtime_ns
    (shapes / "notes.txt").unlink()
    assert run(tmp_path, shapes, "-o", out) == 0                    # rerun: everything already done
    assert "0 segmented, 3 already done" in capsys.readouterr().out
    assert (out / "ball_labelled.ply").stat().st_mtime_ns == stamp


def test_batch_of_files_and_usage_errors(batch, capsys):
    tmp_path, shapes = batch
    out = tmp_path / "two"
    assert run(tmp_path, shapes / "ball.glb", shapes / "box.stl", "-o", out, "--parts-dir", tmp_path / "parts") == 0
    assert (out / "ball_labelled.ply").exists() and (tmp_path / "parts" / "ball" / "parts.json").exists()
    assert main([str(shapes / "ball.glb"), str(shapes / "box.stl"), "-o", str(out), "--point-index", "0"]) == 2
    assert "--auto" in capsys.readouterr().err
    (tmp_path / "file.ply").write_text("x")
    assert run(tmp_path, shapes, "-o", tmp_path / "file.ply") == 2
    assert "names a folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(tmp_path, empty, "-o", out) == 2
    assert "no shape files" in capsys.readouterr().err
