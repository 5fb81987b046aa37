"""s2am3d-segment end to end on a small mesh and point cloud, and every error path."""
import json

import numpy as np
import pytest
import torch
import trimesh

from s2am3d_core.checkpoint import save_model
from s2am3d_core.cli.segment import main
from s2am3d_core.config import get_config
from s2am3d_core.io import read_labelled_ply
from s2am3d_core.modeling import S2AM3D



@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("segment")
    torch.manual_seed(0)
    save_model(S2AM3D(get_config("test-tiny")), d / "w.safetensors")
    box = trimesh.creation.box((1, 1, 1))
    pole = trimesh.creation.cylinder(0.2, 2, sections=12)
    pole.apply_translation([0, 0, 1.5])
    trimesh.util.concatenate([box, pole]).export(d / "mesh.obj")
    np.save(d / "cloud.npy", np.random.default_rng(0).random((800, 3)))
    (d / "corrupt.glb").write_bytes(b"glTF this is not a model")
    (d / "junk.safetensors").write_bytes(b"not weights")
    return d


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("S2AM3D_CACHE_DIR", str(tmp_path / "cache"))


def run(files, *args):
    return main([*map(str, args), "--weights", str(files / "w.safetensors"), "--points", "600", "-q"])


def test_point_prompt_on_mesh(files, tmp_path, capsys):
    out = tmp_path / "sel.ply"
    assert run(files, files / "mesh.obj", "-o", out, "--point", 0, 0, 2.4, "--scale", 0.2,
               "--parts-dir", tmp_path / "parts") == 0
    verts, faces, labels = read_labelled_ply(out)
    mesh = trimesh.load(files / "mesh.obj", process=False)
    assert faces is not None and len(labels) == len(mesh.faces)
    assert set(np.unique(labels)) <= {0, 1}
    line = capsys.readouterr().out
    assert "selected" in line and "sel.ply" in line and "encode + atoms" in line  # set_shape builds both
    index = json.loads((tmp_path / "parts" / "parts.json").read_text())
    assert {p["label"] for p in index["parts"]} == set(np.unique(labels).tolist())


def test_point_index_negative_no_scale(files, tmp_path):
    out = tmp_path / "sel.ply"
    assert run(files, files / "mesh.obj", "-o", out, "--point-index", 0, 3, "--negative-index", 20,
               "--no-scale") == 0
    assert out.is_file()


def test_auto_with_tree_and_parts(files, tmp_path, capsys):
    out, tree = tmp_path / "auto.ply", tmp_path / "tree.json"
    assert run(files, files / "mesh.obj", "-o", out, "--auto", "--scale", 0.05, "--num-prompts", 16,
               "--parts-dir", tmp_path / "parts", "--tree", tree, "--tree-scales", 0.05, 0.5) == 0
    _, faces, labels = read_labelled_ply(out)
    k = int(labels.max()) + 1
    assert labels.min() == 0 and set(np.unique(labels)) == set(range(k))
    assert len(list((tmp_path / "parts").glob("part_*.ply"))) == k
    t = json.loads(tree.read_text())
    assert t["scales"] == [0.05, 0.5] and t["root"]["num_points"] == 600
    assert f"{k} parts" in capsys.readouterr().out


def test_auto_without_scale_on_one_piece_says_how_to_get_parts(files, tmp_path, capsys):
    """Without a scale every piece is a part: a scan is one piece, so the summary says what to ask."""
    trimesh.creation.icosphere(subdivisions=3).export(tmp_path / "scan.obj")
    assert run(files, tmp_path / "scan.obj", "-o", tmp_path / "scan.ply", "--auto") == 0
    assert "1 parts (auto, mesh-aware, scale none); the shape is one piece: give --scale S" in capsys.readouterr().out
    assert run(files, files / "mesh.obj", "-o", tmp_path / "two.ply", "--auto") == 0
    assert "give --scale" not in capsys.readouterr().out


def test_point_cloud_per_point_labels(files, tmp_path):
    out = tmp_path / "cloud.ply"
    assert run(files, files / "cloud.npy", "-o", out, "--auto", "--num-prompts", 8,
               "--parts-dir", tmp_path / "cp") == 0
    verts, faces, labels = read_labelled_ply(out)
    assert faces is None and len(labels) == len(verts) == 800  # subsampled to 600, labels for all 800
    assert (tmp_path / "cp" / "parts.json").is_file()



def test_a_coloured_scan_keeps_its_colours_in_its_part_files(files, tmp_path):
    pts = np.random.default_rng(3).random((800, 3))
    rgba = np.random.default_rng(4).integers(0, 256, size=(800, 4)).astype(np.uint8)
    rgba[:, 3] = 255
    trimesh.PointCloud(pts, colors=rgba).export(tmp_path / "scan.ply")
    assert run(files, tmp_path / "scan.ply", "-o", tmp_path / "out.ply", "--auto", "--num-prompts", 8,
               "--parts-dir", tmp_path / "sp") == 0
    _, _, labels = read_labelled_ply(tmp_path / "out.ply")
    part = trimesh.load(tmp_path / "sp" / "part_000.ply", process=False)
    assert np.array_equal(np.asarray(part.colors)[:, :3], rgba[labels == 0, :3])
    # a labelled result as input: its colours show its parts, so part files take the new parts' own
    assert run(files, tmp_path / "out.ply", "-o", tmp_path / "again.ply", "--auto", "--num-prompts", 8,
               "--parts-dir", tmp_path / "sp2") == 0
    again = trimesh.load(tmp_path / "sp2" / "part_000.ply", process=False)
    assert len(np.unique(np.asarray(again.colors)[:, :3], axis=0)) == 1



def test_the_summary_says_when_the_clicked_region_is_more_than_the_scale(files, tmp_path, capsys):
    args = (files / "mesh.obj", "--point-index", 0, "-o", tmp_path / "m.ply")
    assert run(files, *args, "--scale", 0.001) == 0
    assert "the clicked region alone is" in capsys.readouterr().out
    assert run(files, *args, "--scale", 0.9) == 0
    assert "clicked region alone" not in capsys.readouterr().out
    assert run(files, *args, "--scale", 0.001, "--points-only") == 0
    assert "clicked region alone" not in capsys.readouterr().out


ERRORS = [
    (["{d}/missing.obj", "--auto"], "missing.obj: file not found"),
    (["{d}/corrupt.glb", "--auto"], "corrupt.glb"),
    (["{d}/mesh.obj", "--point-index", "999999"], "--point-index: index 999999 is out of range"),
    (["{d}/mesh.obj", "--point-index", "0", "--negative-index", "-1"], "--negative-index: index -1"),
    (["{d}/mesh.obj", "--point-index", "0", "--scale", "1.5"], "--scale: 1.5 is outside [0, 1]"),
    (["{d}/mesh.obj", "--point-index", "0", "--scale", "abc"], "argument --scale"),
    (["{d}/mesh.obj"], "give a prompt"),
    (["{d}/mesh.obj", "--auto", "--point-index", "0"], "--auto"),
    (["{d}/mesh.obj", "--auto", "--weights", "{d}/nope.safetensors"], "nope.safetensors: weights file not found"),
    (["{d}/mesh.obj", "--auto", "--weights", "{d}/junk.safetensors"], "junk.safetensors"),
    (["{d}/mesh.obj", "--auto", "--device", "tpu"], "--device"),
    (["{d}/mesh.obj", "--auto", "--threshold", "1.0"], "--threshold"),
    (["{d}/mesh.obj", "--auto", "--points", "0"], "--points"),
    (["{d}/mesh.obj", "--auto", "--threads", "0"], "--threads"),
    (["{d}/mesh.obj", "--auto", "--num-prompts", "0"], "--num-prompts"),
    (["{d}/mesh.obj", "--auto", "--tree-scales", "2"], "--tree-scales"),
]


@pytest.mark.parametrize("argv,message", ERRORS, ids=[m for _, m in ERRORS])
def test_errors_exit_2_without_output(files, tmp_path, capsys, argv, message):
    out = tmp_path / "out.ply"
    args = [a.format(d=files) for a in argv]
    if "--weights" not in args:
        args += ["--weights", str(files / "w.safetensors")]
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main([*args, "-o", str(out), "-q"]))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.ply*")), "no temp file left behind"


def test_bad_output_name(files, tmp_path, capsys):
    assert run(files, files / "mesh.obj", "-o", tmp_path / "out.obj", "--auto") == 2
    assert "must be a .ply" in capsys.readouterr().err
    assert not (tmp_path / "out.obj").exists()


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_far_point_warns_and_snaps(files, tmp_path, capsys):
    out = tmp_path / "far.ply"
    assert run(files, files / "mesh.obj", "-o", out, "--point", 10, 10, 10) == 0
    assert "warning: --point 10 10 10" in capsys.readouterr().err and out.is_file()
