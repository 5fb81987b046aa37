"""s2am3d-data: build, train-validator, info, errors."""
import json

import numpy as np
import pytest
import trimesh

from s2am3d_core.data import cli
from s2am3d_core.data.shards import ShardDataset
from s2am3d_core.io import write_labelled_mesh


@pytest.fixture
def sources(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    s = trimesh.Scene()
    for i in range(3):
        s.add_geometry(trimesh.creation.box((1, 1, 1)), node_name=f"box{i}",
                       transform=trimesh.transformations.translation_matrix((2 * i, 0, 0)))
    s.export(src / "boxes.glb")
    user = tmp_path / "user"
    user.mkdir()
    a = trimesh.creation.icosphere(subdivisions=1)
    b = a.copy().apply_translation((3, 0, 0))
    m = trimesh.util.concatenate([a, b])
    write_labelled_mesh(user / "two.ply", m.vertices, m.faces, np.r_[np.zeros(len(a.faces), int), np.ones(len(b.faces), int)])
    return src, user


def test_help(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "s2am3d-data build" in out and "train-validator" in out
    assert cli.main(["build", "--help"]) == 0


def test_build_and_info(tmp_path, sources, capsys):
    src, user = sources
    out = tmp_path / "ds"
    assert cli.main(["build", str(out), "--glb", str(src), "--user-dir", str(user), "--points", "256",
                     "--eval-fraction", "0.5", "-q"]) == 0
    text = capsys.readouterr().out
    assert "objects: 2 in" in text and "parts per level" in text
    summary = json.loads((out / "summary.json").read_text())
    assert sum(summary["objects_written"].values()) == 2
    names = {ShardDataset(out, s)[i].name for s in ("train", "eval") for i in range(len(ShardDataset(out, s)))}
    assert names == {"boxes", "two"}
    assert cli.main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "train:" in text and "eval:" in text and "level 0" in text


def test_train_validator_then_build(tmp_path, sources, capsys):
    v = tmp_path / "v.safetensors"
    assert cli.main(["train-validator", str(v), "--procedural", "0", "--toy", "6", "--steps", "3",
                     "--points", "256", "--batch-size", "8", "-q"]) == 0
    assert v.is_file() and "validator:" in capsys.readouterr().out
    out = tmp_path / "ds"
    assert cli.main(["build", str(out), "--glb", str(sources[0]), "--points", "256", "--validator", str(v),
                     "--threshold", "0.0", "-q"]) == 0
    assert "dropped by validator: level 0: 0" in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text())["validator"] == str(v)


def test_build_procedural(tmp_path, capsys):
    out = tmp_path / "ds"
    assert cli.main(["build", str(out), "--procedural", "3", "--points", "512", "--seed", "4", "-q"]) == 0
    assert "objects: 3 in" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["build", "OUT"], "choose at least one source"),
    (["build", "OUT", "--glb", "/nonexistent/x.glb"], "--glb: /nonexistent/x.glb: file not found"),
    (["build", "OUT", "--urdf", "/nonexistent/r.urdf"], "--urdf: /nonexistent/r.urdf: file not found"),
    (["build", "OUT", "--user-dir", "/nonexistent"], "--user-dir: /nonexistent: folder not found"),
    (["build", "OUT", "--procedural", "1", "--points", "3"], "--points"),
    (["build", "OUT", "--procedural", "1", "--validator", "/nonexistent.safetensors"], "--validator"),
    (["build", "OUT", "--procedural", "x"], "invalid int value"),
    (["info", "/nonexistent"], "folder not found"),
    (["train-validator", "v.safetensors", "--procedural", "0"], "choose at least one source"),
    (["frobnicate"], "invalid choice"),
])
def test_errors(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "error:" in err and "Traceback" not in err


def test_bad_validator_file(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    assert cli.main(["build", str(tmp_path / "o"), "--procedural", "1", "--validator", str(bad)]) == 2
    assert "bad.safetensors" in capsys.readouterr().err


def test_broken_user_file(tmp_path, capsys):
    user = tmp_path / "u"
    user.mkdir()
    (user / "broken.glb").write_bytes(b"not a glb")
    assert cli.main(["build", str(tmp_path / "o"), "--user-dir", str(user), "-q"]) == 2
    assert "broken.glb" in capsys.readouterr().err


def test_user_dir_with_only_an_unsupported_file_names_it(tmp_path, capsys):
    user = tmp_path / "u"
    user.mkdir()
    (user / "scan.obj2").write_text("not a labelled file")
    out = tmp_path / "o"
    assert cli.main(["build", str(out), "--user-dir", str(user), "-q"]) == 2
    err = capsys.readouterr().err
    assert "no labelled files found" in err and "scan.obj2" in err and "Traceback" not in err
    assert not out.exists()  # no empty dataset written


def test_threads_flag(sources, tmp_path, capsys):
    src, user = sources
    for cmd in ("build", "train-validator"):
        assert cli.main([cmd, "--help"]) == 0
        assert "--threads" in capsys.readouterr().out
    assert cli.main(["build", str(tmp_path / "o"), "--user-dir", str(user), "--threads", "1", "-q"]) == 0
    assert cli.main(["build", str(tmp_path / "p"), "--user-dir", str(user), "--threads", "0", "-q"]) == 2
    assert "--threads" in capsys.readouterr().err


def test_unsupported_file_beside_labelled_ones_is_a_warning(sources, tmp_path, capsys):
    src, user = sources
    (user / "junk.obj2").write_text("?")
    assert cli.main(["build", str(tmp_path / "o"), "--user-dir", str(user), "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "junk.obj2" in err
