"""Generated bad inputs across every command-line tool and the viewer's session load.

Each case asserts what the README promises: exit status 2, an ``error:`` message naming the right
file or argument, no traceback, and no file created or changed outside the intended outputs.
Caches and URDF quirks are the exception by design: a bad cache entry is a warning and the run
succeeds (the entry is rebuilt); an unambiguous URDF quirk is a warning naming the file.

The tools are called in-process through their ``main(argv)`` (fast); a few run as subprocesses.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from s2am3d_core.checkpoint import save_model
from s2am3d_core.cli import segment
from s2am3d_core.config import get_config
from s2am3d_core.data import cli as data_cli
from s2am3d_core.errors import InputError
from s2am3d_core.eval import benchmark
from s2am3d_core.train import calibrate
from s2am3d_core.eval import cli as eval_cli
from s2am3d_core.modeling.model import S2AM3D
from s2am3d_core.train import cli as train_cli
from s2am3d_core.train import data as train_data
from s2am3d_gui import app as gui_app
from s2am3d_gui.state import SessionState, ShapeData

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def W(tmp_path_factory):
    """A work folder with good inputs: tiny weights, a box mesh, a point cloud, a labelled folder."""
    root = tmp_path_factory.mktemp("fuzz")
    torch.manual_seed(0)
    save_model(S2AM3D(get_config("test-tiny")), root / "tiny.safetensors")
    box = trimesh.creation.box((1.0, 0.6, 0.4))
    box.export(root / "box.ply")
    box.export(root / "box.obj")
    np.save(root / "cloud.npy", np.random.default_rng(0).random((300, 3)).astype(np.float32))
    (root / "user").mkdir()
    (root / "user" / "part_000.ply").write_bytes((root / "box.ply").read_bytes())
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("S2AM3D_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("S2AM3D_WEIGHTS", raising=False)


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """{relative path: (size, sha256)} of every file below ``root`` (hidden ones included)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() or p.is_symlink():
            try:
                data = p.read_bytes()
            except OSError:
                data = b""
            out[str(p.relative_to(root))] = (len(data), hashlib.sha256(data).hexdigest())
    return out


def call(main, argv) -> int:
    try:
        return int(main([str(a) for a in argv]) or 0)
    except SystemExit as e:  # argparse
        return int(e.code or 0)


def expect_error(capsys, main, argv, token: str, roots: list[Path], allowed: tuple[str, ...] = ()) -> str:
    """Run ``main(argv)``: exit 2, ``error:`` naming ``token``, no traceback, nothing changed below ``roots``
    (except paths containing one of ``allowed``). Returns stderr."""
    before = [snapshot(r) for r in roots]
    capsys.readouterr()
    rc = call(main, argv)
    out, err = capsys.readouterr()
    assert rc == 2, f"exit {rc} for {argv}\nstdout: {out[-500:]}\nstderr: {err[-1500:]}"
    assert "Traceback" not in err and "Traceback" not in out, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert lines, f"no 'error:' line for {argv}: {err[-800:]}"
    assert any(token in ln for ln in lines), f"{token!r} not named in {lines}"
    for r, b in zip(roots, before):
        after = snapshot(r)
        changed = {k for k in set(b) | set(after) if b.get(k) != after.get(k) and not any(a in k for a in allowed)}
        assert not changed, f"{argv} changed files {sorted(changed)}"
    return err


# ----------------------------------------------------------------------------- bad shape files (s2am3d-segment)


def _ply_ascii(verts, faces=()):
    head = ["ply", "format ascii 1.0", f"element vertex {len(verts)}", "property float x", "property float y",
            "property float z"]
    if faces:
        head += [f"element face {len(faces)}", "property list uchar int vertex_indices"]
    body = [" ".join(str(c) for c in v) for v in verts] + [f"3 {' '.join(map(str, f))}" for f in faces]
    return ("\n".join(head + ["end_header"] + body) + "\n").encode()


def _npy(arr, allow_pickle=False) -> bytes:
    import io
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


TRI = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
BAD_SHAPES: list[tuple[str, bytes]] = [
    ("empty.ply", b""),
    ("garbage.ply", bytes(range(256)) * 4),
    ("header_only.ply", b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nend_header\n"),
    ("truncated.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 100\nproperty float x\n"
                      b"property float y\nproperty float z\nend_header\n" + b"\0" * 10),
    ("nan.ply", _ply_ascii([[float("nan"), 0, 0], [1, 0, 0], [0, 1, 0]], [(0, 1, 2)])),
    ("huge.ply", _ply_ascii([[3e38, 0, 0], [-3e38, 0, 0], [0, 1, 0]], [(0, 1, 2)])),
    ("oob_face.ply", _ply_ascii(TRI, [(0, 1, 7)])),
    ("inf.xyz", b"inf 0 0\n1 2 3\n4 5 6\n"),
    ("huge.xyz", b"3e38 0 0\n-3e38 1 1\n0 0 0\n"),
    ("letters.xyz", b"a b c\nd e f\n"),
    ("two_cols.txt", b"1 2\n3 4\n"),
    ("empty.xyz", b""),
    ("comments.txt", b"# nothing here\n// nor here\n"),
    ("binary.txt", b"\xff\xfe\x00\x81"),
    ("header_only.xyz", b"x y z\n"),
    ("ragged.xyz", b"1 2 3\n4 5\n"),
    ("1d.npy", _npy(np.zeros(5))),
    ("2col.npy", _npy(np.zeros((5, 2)))),
    ("3d.npy", _npy(np.zeros((2, 5, 3)))),
    ("object.npy", _npy(np.array([[1, "a", None]], dtype=object), allow_pickle=True)),
    ("complex.npy", _npy(np.ones((4, 3), dtype=complex))),
    ("empty.npy", _npy(np.zeros((0, 3)))),
    ("nan.npy", _npy(np.array([[np.nan, 0, 0], [1, 1, 1]]))),
    ("huge.npy", _npy(np.array([[1e300, 0, 0], [1, 1, 1]]))),
    ("huge32.npy", _npy(np.array([[3e38, 0, 0], [-3e38, 1, 1]], dtype=np.float32))),
    ("strings.npy", _npy(np.array([["a", "b", "c"]]))),
    ("not.npy", b"not numpy at all"),
    ("bool.npy", _npy(np.ones((5, 3), dtype=bool))),
    ("oob.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n"),
    ("text.obj", b"hello world\n"),
    ("nan.obj", b"v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"),
    ("flat.obj", b"v 0 0 0\nv 0 0 0\nv 0 0 0\nf 1 2 3\nf 1 2 3\n"),  # every triangle degenerate
    ("garbage.stl", b"solid x\n" + bytes(range(200))),
    ("empty.stl", b""),
    ("bad.off", b"OFF\n3 1 0\n0 0\n"),
    ("notjson.gltf", b"{not json"),
    ("noasset.gltf", b'{"meshes": []}'),
    ("deep.gltf", b"[" * 100000),
    ("garbage.glb", b"glTF" + struct.pack("<II", 2, 999) + b"\0" * 20),
    ("empty.glb", b""),
    ("model.fbx", b"Kaydara FBX Binary"),
    ("noext", b"1 2 3\n"),
]


@pytest.mark.parametrize("name,content", BAD_SHAPES, ids=[n for n, _ in BAD_SHAPES])
def test_segment_bad_shape_file(W, tmp_path, capsys, name, content):
    src = tmp_path / name
    src.write_bytes(content)
    expect_error(capsys, segment.main, [src, "-o", tmp_path / "out.ply", "--auto", "--weights", W / "tiny.safetensors",
                                        "-q", "--no-cache", "--points", 200], name, [tmp_path, W])


def test_segment_missing_folder_and_loop_inputs(W, tmp_path, capsys):
    loop = tmp_path / "loop.ply"
    loop.symlink_to(loop)
    for src in (tmp_path / "missing.ply", tmp_path, loop):
        expect_error(capsys, segment.main, [src, "-o", tmp_path / "o.ply", "--auto", "-q", "--no-cache",
                                            "--weights", W / "tiny.safetensors"], src.name, [tmp_path, W])


# ----------------------------------------------------------------------------- bad arguments


def _seg(W, tmp, *extra, out="out.ply", prompt=("--point-index", "0")):
    return [W / "box.ply", "-o", tmp / out if isinstance(out, str) else out, *prompt,
            "--weights", W / "tiny.safetensors", "-q", "--no-cache", "--points", "200", *extra]


SEGMENT_ARGS = [
    (("--seed", "-1"), "--seed"), (("--seed", str(2**40)), "--seed"), (("--seed", "x"), "--seed"),
    (("--points", "0"), "--points"), (("--points", "400000000"), "--points"), (("--points", "1e3"), "--points"),
    (("--scale", "2"), "--scale"), (("--scale", "-0.1"), "--scale"), (("--scale", "nan"), "--scale"),
    (("--threshold", "0"), "--threshold"), (("--threshold", "1"), "--threshold"), (("--threshold", "nan"), "--threshold"),
    (("--num-prompts", "0"), "--num-prompts"), (("--threads", "0"), "--threads"), (("--threads", "-3"), "--threads"),
    (("--device", "bogus"), "--device"), (("--tree-scales", "2"), "--tree-scales"),
    (("--parts-format", "fbx"), "--parts-format"), (("--point-index", "999999"), "--point-index"),
    (("--negative-index", "-5"), "--negative-index"), (("--point", "nan", "0", "0"), "--point"),
    (("--point", "1", "2"), "--point"), (("--auto",), "--auto"), (("--no-scale", "--scale", "0.1"), "--scale"),
    (("--bogus-flag",), "--bogus-flag"),
]


@pytest.mark.parametrize("extra,token", SEGMENT_ARGS, ids=[" ".join(e) for e, _ in SEGMENT_ARGS])
def test_segment_bad_arguments(W, tmp_path, capsys, extra, token):
    expect_error(capsys, segment.main, _seg(W, tmp_path, *extra), token, [tmp_path, W])


def test_segment_outputs_never_touch_inputs(W, tmp_path, capsys):
    src = tmp_path / "in.ply"
    src.write_bytes((W / "box.ply").read_bytes())
    os.link(src, tmp_path / "hard.ply")
    (tmp_path / "soft.ply").symlink_to(src)
    (tmp_path / "part_000.ply").write_bytes(b"keep me")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "part_000.ply").write_bytes(b"old")
    (tmp_path / "full" / "notes.txt").write_text("mine")
    (tmp_path / "afile").write_text("x")
    w = W / "tiny.safetensors"
    base = ["--auto", "--weights", w, "-q", "--no-cache", "--points", "200"]
    cases = [
        ([src, "-o", src], "in.ply"),
        ([src, "-o", tmp_path / "hard.ply"], "hard.ply"),
        ([src, "-o", tmp_path / "soft.ply"], "soft.ply"),
        ([src, "-o", tmp_path / "sub" / ".." / "in.ply"], "in.ply"),
        ([src, "-o", tmp_path / "o.ply", "--tree", src], "--tree"),
        ([src, "-o", tmp_path / "o.ply", "--tree", tmp_path / "o.ply"], "--tree"),
        ([src, "-o", tmp_path / "o.ply", "--parts-dir", tmp_path], "--parts-dir"),
        ([src, "-o", tmp_path / "o.ply", "--parts-dir", tmp_path / "full"], "--parts-dir"),
        ([src, "-o", tmp_path / "o.ply", "--parts-dir", tmp_path / "full", "--overwrite"], "--parts-dir"),
        ([src, "-o", tmp_path / "o.ply", "--parts-dir", tmp_path / "afile"], "--parts-dir"),
        ([src, "-o", tmp_path / "parts" / "o.ply", "--parts-dir", tmp_path / "parts"], "--parts-dir"),
        ([src, "-o", tmp_path / "o.ply", "--tree", tmp_path / "afile" / "t.json"], "--tree"),
        ([src, "-o", tmp_path / "o.txt"], "o.txt"),
        ([src, "-o", tmp_path], "-o"),
        ([src, "-o", tmp_path / "afile" / "o.ply"], "afile"),
        ([src, "-o", w], "tiny.safetensors"),
    ]
    for argv, token in cases:
        expect_error(capsys, segment.main, argv + base, token, [tmp_path, W])
    wply = tmp_path / "weights.ply"  # the weights are an input too
    wply.write_bytes(w.read_bytes())
    expect_error(capsys, segment.main, [src, "-o", wply, "--auto", "--weights", wply, "-q", "--no-cache"],
                 "weights.ply", [tmp_path, W])


EVAL_ARGS = [
    (["--procedural", "0"], "--procedural"), (["--points", "8"], "--points"), (["--seed", "-1"], "--seed"),
    (["--threshold", "2"], "--threshold"), (["--baselines", "bogus"], "bogus"), (["--num-prompts", "0"], "--num-prompts"),
    (["--glb", "{t}/missing.glb"], "missing.glb"), (["--data", "{t}/nodata"], "nodata"), (["--out", "{t}"], "--out"),
    (["--out", "{t}/r.txt"], "r.txt"), (["--out", "{w}/tiny.safetensors"], "tiny.safetensors"),
    (["--out", "{w}/box.ply"], "box.ply"), (["--device", "nope"], "--device"), (["--max-objects", "0"], "--max-objects"),
    (["--weights", "{t}/none.safetensors"], "none.safetensors"), (["--clicks", "everywhere"], "--clicks"),
]


@pytest.mark.parametrize("extra,token", EVAL_ARGS, ids=[" ".join(e) for e, _ in EVAL_ARGS])
def test_eval_bad_arguments(W, tmp_path, capsys, extra, token):
    extra = [e.format(t=tmp_path, w=W) for e in extra]
    argv = ["--weights", W / "tiny.safetensors", "--procedural", "1", "--points", "64", "-q", *extra]
    expect_error(capsys, eval_cli.main, argv, token, [tmp_path, W])


def test_labelled_mesh_without_surface_is_named(W, tmp_path, capsys):
    """A labelled PLY whose triangles are all degenerate: every tool that reads labelled folders
    (eval, calibrate, data build) names the file, instead of failing later without it."""
    folder = tmp_path / "user"
    folder.mkdir()
    flat = [[0, 0, 0]] * 4
    head = _ply_ascii(flat, [(0, 1, 2), (1, 2, 3)]).decode().replace(
        "property list uchar int vertex_indices\n", "property list uchar int vertex_indices\nproperty int label\n")
    lines = head.splitlines()
    lines[-2:] = [lines[-2] + " 0", lines[-1] + " 1"]
    (folder / "flat.ply").write_text("\n".join(lines) + "\n")
    w = W / "tiny.safetensors"
    expect_error(capsys, eval_cli.main, ["--weights", w, "--user-dir", folder, "--points", "64", "-q"],
                 "flat.ply", [tmp_path, W])
    expect_error(capsys, calibrate.main, [w, "--user-dir", folder, "--out", tmp_path / "c.safetensors"],
                 "flat.ply", [tmp_path, W])
    expect_error(capsys, data_cli.main, ["build", tmp_path / "shards", "--user-dir", folder], "flat.ply",
                 [tmp_path, W])


DATA_ARGS = [
    (["build", "{t}/d"], "--procedural"), (["build", "{t}/d", "--procedural", "1", "--points", "8"], "--points"),
    (["build", "{t}/d", "--procedural", "1", "--eval-fraction", "2"], "--eval-fraction"),
    (["build", "{t}/d", "--procedural", "1", "--shard-size", "0"], "--shard-size"),
    (["build", "{t}/d", "--procedural", "-1"], "--procedural"),
    (["build", "{t}/d", "--procedural", "1", "--seed", "-1"], "--seed"),
    (["build", "{t}/d", "--urdf", "{t}/none.urdf"], "none.urdf"),
    (["build", "{t}/d", "--glb", "{t}/none.glb"], "none.glb"),
    (["build", "{t}/d", "--glb", "{t}"], "no .glb"),
    (["build", "{t}/d", "--user-dir", "{t}/nouser"], "nouser"),
    (["build", "{w}/user", "--user-dir", "{w}/user"], "OUT_DIR"),
    (["build", "{w}", "--user-dir", "{w}/user"], "OUT_DIR"),
    (["build", "{w}/box.ply", "--procedural", "1"], "box.ply"),
    (["build", "{t}/d", "--procedural", "1", "--validator", "{t}/v.safetensors"], "v.safetensors"),
    (["build", "{t}/d", "--procedural", "1", "--categories", "dragons"], "--categories"),
    (["build", "{t}/d", "--procedural", "1", "--drop-policy", "burn"], "--drop-policy"),
    (["train-validator", "{t}"], "folder"), (["train-validator", "{t}/v.txt", "--toy", "2"], "v.txt"),
    (["train-validator", "{t}/v.safetensors", "--steps", "0"], "--steps"),
    (["train-validator", "{t}/v.safetensors", "--procedural", "0"], "--procedural"),
    (["info", "{t}/nothing"], "nothing"), (["info", "{t}"], "not a dataset"), ([], "command"),
]


@pytest.mark.parametrize("argv,token", DATA_ARGS, ids=[" ".join(a) for a, _ in DATA_ARGS])
def test_data_bad_arguments(W, tmp_path, capsys, argv, token):
    argv = [a.format(t=tmp_path, w=W) for a in argv] + (["-q"] if argv and argv[0] != "info" else [])
    expect_error(capsys, data_cli.main, argv, token, [tmp_path, W])


TINY = ["--config", "test-tiny", "--batch-size", "2", "--points", "64", "--quiet", "--num-workers", "1"]
TRAIN_ARGS = [
    (["encoder", "--procedural", "2", "--steps", "0"], "--steps"),
    (["encoder", "--procedural", "2", "--batch-size", "0"], "--batch-size"),
    (["encoder", "--procedural", "0"], "--procedural"),
    (["encoder", "--procedural", "2", "--seed", "-1"], "--seed"),
    (["encoder", "--procedural", "2", "--points", "400000000"], "--points"),
    (["encoder", "--data", "{t}/nodata"], "nodata"),
    (["encoder", "--user-dir", "{t}/nouser"], "nouser"),
    (["encoder", "--procedural", "2", "--init", "{t}/none.safetensors"], "none.safetensors"),
    (["encoder", "--procedural", "2", "--init", "{w}/box.ply"], "box.ply"),
    (["encoder", "--procedural", "2", "--resume"], "--resume"),
    (["encoder", "--procedural", "2", "--init", "{w}/tiny.safetensors", "--out", "{w}"], "--out"),
    (["decoder", "--procedural", "2"], "encoder"),
    (["decoder", "--procedural", "2", "--encoder", "{w}", "--out", "{w}"], "--out"),
    (["encoder", "--procedural", "2", "--device", "tpu"], "device"),
    (["encoder", "--procedural", "2", "--out", "{w}/box.ply"], "box.ply"),
]


@pytest.mark.parametrize("argv,token", TRAIN_ARGS, ids=[" ".join(a) for a, _ in TRAIN_ARGS])
def test_train_bad_arguments(W, tmp_path, capsys, argv, token, monkeypatch):
    argv = [a.format(t=tmp_path, w=W) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "run")]
    expect_error(capsys, train_cli.main, argv[:1] + TINY + argv[1:], token, [tmp_path, W], allowed=("run/", "cache/"))


CALIBRATE_ARGS = [
    (["--procedural", "1", "--step", "0"], "--step"), (["--procedural", "0"], "--procedural"),
    (["--procedural", "1", "--data", "{t}"], "exactly one"), ([], "exactly one"),
    (["--procedural", "1", "--points", "4"], "--points"), (["--procedural", "1", "--seed-typo"], "--seed-typo"),
    (["--user-dir", "{w}/user", "--out", "{w}/user/part_000.ply"], "part_000.ply"),
    (["--procedural", "1", "--out", "{t}/c.txt"], "c.txt"), (["--procedural", "1", "--out", "{t}"], "--out"),
    (["--procedural", "1", "--device", "nope"], "--device"), (["--data", "{t}/none"], "none"),
]


@pytest.mark.parametrize("argv,token", CALIBRATE_ARGS, ids=[" ".join(a) or "none" for a, _ in CALIBRATE_ARGS])
def test_calibrate_bad_arguments(W, tmp_path, capsys, argv, token):
    argv = [a.format(t=tmp_path, w=W) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "c.safetensors")]
    expect_error(capsys, calibrate.main, [W / "tiny.safetensors", *argv, "-q", "--points", "64"] if "--points" not in argv
                 else [W / "tiny.safetensors", *argv, "-q"], token, [tmp_path, W])


BENCH_ARGS = [
    (["--sizes", "8"], "--sizes"), (["--sizes", "400000000"], "--sizes"), (["--repeats", "0"], "--repeats"),
    (["--prompts", "0"], "--prompts"), (["--batch-size", "0"], "--batch-size"), (["--config", "huge"], "--config"),
    (["--json", "{t}"], "--json"), (["--json", "{t}/b.txt"], "b.txt"), (["--json", "{w}/box.ply"], "box.ply"),
    (["--weights", "{w}/box.ply"], "box.ply"), (["--threads", "0"], "--threads"),
]


@pytest.mark.parametrize("argv,token", BENCH_ARGS, ids=[" ".join(a) for a, _ in BENCH_ARGS])
def test_bench_bad_arguments(W, tmp_path, capsys, argv, token):
    argv = [a.format(t=tmp_path, w=W) for a in argv]
    if "--weights" not in argv and "--config" not in argv:
        argv += ["--weights", str(W / "tiny.safetensors")]
    expect_error(capsys, benchmark.main, ["--sizes", "64", "--repeats", "1", *argv], token, [tmp_path, W])


# ----------------------------------------------------------------------------- bad weights


def _weights_variant(src: Path, dst: Path, kind: str) -> None:
    with safe_open(str(src), "pt") as f:
        meta = dict(f.metadata())
    state = load_file(str(src))
    cfg = json.loads(meta["s2am3d_config"])
    # a learned tensor: the optional calibration tensors may be missing (older files load with 0)
    from s2am3d_core.checkpoint import BALL_PRIOR_TENSOR, NO_SCALE_OFFSET_TENSOR
    first = sorted(set(state) - {BALL_PRIOR_TENSOR, NO_SCALE_OFFSET_TENSOR})[0]
    if kind.startswith("cfg:"):
        section, key, value = kind[4:].split(":", 2)
        cfg[section][key] = json.loads(value)
    elif kind == "nan":
        state[first] = torch.full_like(state[first], float("nan"))
    elif kind == "inf":
        state[sorted(state)[-1]] = torch.full_like(state[sorted(state)[-1]], float("inf"))
    elif kind == "missing-tensor":
        del state[first]
    elif kind == "extra-tensor":
        state["extra.weight"] = torch.zeros(2)
    elif kind == "wrong-shape":
        state[first] = torch.zeros(3, 3)
    elif kind == "no-format":
        meta.pop("format")
    elif kind == "bad-json":
        meta["s2am3d_config"] = "{not json"
    elif kind == "deep-json":
        meta["s2am3d_config"] = "[" * 50000
    elif kind == "config-list":
        meta["s2am3d_config"] = "[]"
    meta["s2am3d_config"] = meta.get("s2am3d_config") if kind in ("bad-json", "deep-json", "config-list") \
        else json.dumps(cfg)
    save_file(state, str(dst), metadata=meta)


WEIGHT_KINDS = [
    "cfg:decoder:heads:5", "cfg:decoder:dim:-8", "cfg:decoder:dim:\"16\"", "cfg:decoder:layers:0",
    "cfg:decoder:mlp_ratio:-1", "cfg:decoder:scale_logit_adjust:1e309", "cfg:encoder:transformer_heads:3",
    "cfg:encoder:patch_size:5", "cfg:encoder:plane_resolution:1000000", "cfg:encoder:voxel_channels:[]",
    "cfg:encoder:voxel_channels:[8, -1]", "cfg:encoder:feature_dim:100000", "cfg:encoder:transformer_dim:8000",
    "cfg:encoder:voxel_resolution:true", "cfg:decoder:pe_frequencies:null", "cfg:decoder:bogus:1",
    "nan", "inf", "missing-tensor", "extra-tensor", "wrong-shape", "no-format", "bad-json", "deep-json", "config-list",
]
RAW_WEIGHTS = [("empty", b""), ("garbage", bytes(range(256))), ("huge-header", struct.pack("<Q", 2**40) + b"{}"),
               ("json-only", b'{"a": 1}')]


@pytest.mark.parametrize("kind", WEIGHT_KINDS)
def test_bad_weights_metadata_and_tensors(W, tmp_path, capsys, kind):
    bad = tmp_path / "bad.safetensors"
    _weights_variant(W / "tiny.safetensors", bad, kind)
    expect_error(capsys, segment.main, _seg(W, tmp_path)[:5] + ["--weights", bad, "-q", "--no-cache", "--points", "200"],
                 "bad.safetensors", [tmp_path, W])


@pytest.mark.parametrize("name,content", RAW_WEIGHTS, ids=[n for n, _ in RAW_WEIGHTS])
def test_unreadable_weights_files(W, tmp_path, capsys, name, content):
    bad = tmp_path / f"{name}.safetensors"
    bad.write_bytes(content)
    for main, argv in ((segment.main, _seg(W, tmp_path)[:5] + ["--weights", bad, "-q", "--no-cache"]),
                       (eval_cli.main, ["--weights", bad, "--procedural", "1", "-q"]),
                       (calibrate.main, [bad, "--out", tmp_path / "c.safetensors", "--procedural", "1", "-q"]),
                       (benchmark.main, ["--weights", bad, "--sizes", "64"])):
        expect_error(capsys, main, argv, bad.name, [tmp_path, W])


# ----------------------------------------------------------------------------- sessions (the viewer)


def _state(n=40):
    pts = np.random.default_rng(0).random((n, 3)).astype(np.float32)
    return SessionState(ShapeData(Path("shape.ply"), pts, None, pts, None))


def _good_session(st):
    return json.loads(json.dumps(st.to_dict()))


SESSION_EDITS = {
    "labels-float": lambda d: d.update(labels=[1.5] + d["labels"][1:]),
    "labels-bool": lambda d: d.update(labels=[True] + d["labels"][1:]),
    "labels-big": lambda d: d.update(labels=[2**32] + d["labels"][1:], parts=[{"label": 2**32, "name": "x",
                                                                              "color": [0, 0, 0]}]),
    "labels-huge": lambda d: d.update(labels=[10**30] + d["labels"][1:]),
    "labels-neg": lambda d: d.update(labels=[-7] + d["labels"][1:]),
    "labels-str": lambda d: d.update(labels="0" * 40),
    "labels-short": lambda d: d.update(labels=d["labels"][:5]),
    "labels-nested": lambda d: d.update(labels=[[0]] * 40),
    "labels-unknown": lambda d: d.update(labels=[3] * 40),
    "labels-null": lambda d: d.update(labels=None),
    "clicks-float": lambda d: d.update(clicks=[[1.5, True]]),
    "clicks-no": lambda d: d.update(clicks=[[1, "no"]]),
    "clicks-int-flag": lambda d: d.update(clicks=[[1, 0]]),
    "clicks-oob": lambda d: d.update(clicks=[[999, True]]),
    "clicks-neg": lambda d: d.update(clicks=[[-1, True]]),
    "clicks-triple": lambda d: d.update(clicks=[[1, True, 3]]),
    "clicks-dict": lambda d: d.update(clicks={"a": 1}),
    "parts-no-color": lambda d: d.update(parts=[{"label": 0, "name": "a"}]),
    "parts-color-range": lambda d: d.update(parts=[{"label": 0, "name": "a", "color": [2, 0, 0]}]),
    "parts-color-str": lambda d: d.update(parts=[{"label": 0, "name": "a", "color": "red"}]),
    "parts-color-nan": lambda d: d.update(parts=[{"label": 0, "name": "a", "color": [0, 0, None]}]),
    "parts-label-float": lambda d: d.update(parts=[{"label": 0.5, "name": "a", "color": [0, 0, 0]}]),
    "parts-label-neg": lambda d: d.update(parts=[{"label": -2, "name": "a", "color": [0, 0, 0]}]),
    "parts-name-int": lambda d: d.update(parts=[{"label": 0, "name": 7, "color": [0, 0, 0]}]),
    "parts-dup": lambda d: d.update(parts=[{"label": 0, "name": "a", "color": [0, 0, 0]}] * 2),
    "parts-not-list": lambda d: d.update(parts="none"),
    "scale-big": lambda d: d.update(scale=3),
    "scale-str": lambda d: d.update(scale="0.5"),
    "scale-bool": lambda d: d.update(scale=True),
    "threshold-0": lambda d: d.update(threshold=0),
    "threshold-1": lambda d: d.update(threshold=1.0),
    "threshold-neg": lambda d: d.update(threshold=-0.5),
    "use_scale-no": lambda d: d.update(use_scale="no"),
    "use_scale-int": lambda d: d.update(use_scale=0),
    "num_points-0": lambda d: d.update(num_points=0),
    "num_points-float": lambda d: d.update(num_points=40.0),
    "num_points-huge": lambda d: d.update(num_points=10**12),
    "num_points-other": lambda d: d.update(num_points=41),
    "shape-int": lambda d: d.update(shape=5),
    "format-other": lambda d: d.update(format="s2am3d-session/0"),
    "missing-labels": lambda d: d.pop("labels"),
    "fingerprint-other": lambda d: d.update(points_fingerprint="0" * 16),
    "fingerprint-int": lambda d: d.update(points_fingerprint=5),
}
RAW_SESSIONS = {"deep-list": "[" * 100000, "deep-dict": '{"a":' * 50000, "not-json": "{not json", "empty": "",
                "array": "[1, 2]", "binary": "\udcff", "nan": '{"format": NaN}'}


@pytest.mark.parametrize("edit", sorted(SESSION_EDITS))
def test_session_bad_values(tmp_path, edit):
    st = _state()
    d = _good_session(st)
    SESSION_EDITS[edit](d)
    path = tmp_path / "bad.session.json"
    path.write_text(json.dumps(d))
    before = (st.labels.copy(), st.clicks, st.parts, st.scale, st.threshold, st.use_scale)
    with pytest.raises(InputError, match="bad.session.json"):
        st.load(path)
    assert np.array_equal(st.labels, before[0]) and (st.clicks, st.parts, st.scale, st.threshold, st.use_scale) == \
        before[1:]  # a refused session changes nothing


@pytest.mark.parametrize("name", sorted(RAW_SESSIONS))
def test_session_unreadable_files(tmp_path, name):
    path = tmp_path / "raw.json"
    path.write_bytes(RAW_SESSIONS[name].encode("utf-8", "surrogateescape"))
    with pytest.raises(InputError, match="raw.json"):
        _state().load(path)


def test_gui_command_line_bad_inputs(W, tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000)
    d = _good_session(_state())
    d["labels"] = [0.5] * 40
    floaty = tmp_path / "floaty.json"
    floaty.write_text(json.dumps(d))
    base = ["--weights", W / "tiny.safetensors", "--threads", "1", "--no-cache", "--backend", "openGL_mock"]
    for argv, token in (([W / "box.ply", "--points", "4"], "--points"),
                        ([W / "box.ply", "--points", "400000000"], "--points"),
                        ([W / "box.ply", "--scale", "2"], "--scale"),
                        ([W / "box.ply", "--window-size", "huge"], "--window-size"),
                        ([tmp_path / "none.ply"], "none.ply"),
                        ([W / "box.ply", "--session", deep], "deep.json"),
                        ([W / "box.ply", "--session", tmp_path / "none.json"], "none.json"),
                        ([W / "box.ply", "--session", floaty, "--points", "40"], "floaty.json"),
                        ([W / "box.ply", "--weights", W / "box.ply"], "box.ply")):
        expect_error(capsys, gui_app.main, [*base, *argv], token, [tmp_path, W])


# ----------------------------------------------------------------------------- caches: bad entries are rebuilt


CACHE_CORRUPTIONS = ["truncate", "garbage", "empty", "nan", "wrong-key", "wrong-shape", "old-format", "other-weights",
                     "float32", "folder"]


def _corrupt(path: Path, how: str) -> None:
    from s2am3d_core.cache import FEATURES_FORMAT
    good = load_file(str(path))
    with safe_open(str(path), "pt") as f:
        meta = dict(f.metadata())
    t = good["planes"]
    if how == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif how == "garbage":
        path.write_bytes(bytes(range(256)))
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "folder":
        path.unlink()
        path.mkdir()
        return
    else:
        tensors = {"planes": t}
        if how == "nan":
            tensors = {"planes": torch.full_like(t, float("nan"))}
        elif how == "wrong-key":
            tensors = {"features": t}
        elif how == "wrong-shape":
            tensors = {"planes": t[:, :, :2]}
        elif how == "old-format":
            meta["format"] = "s2am3d-features/0"
        elif how == "other-weights":
            meta["weights_id"] = "0" * 16
        elif how == "float32":
            tensors = {"planes": t.float()}
        meta.setdefault("format", FEATURES_FORMAT)
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)


@pytest.fixture(scope="module")
def cache_entry(W, tmp_path_factory):
    """A good feature-cache entry of box.ply (made once through the CLI)."""
    d = tmp_path_factory.mktemp("cache")
    old = os.environ.get("S2AM3D_CACHE_DIR")
    os.environ["S2AM3D_CACHE_DIR"] = str(d)
    try:
        assert segment.main([str(W / "box.ply"), "-o", str(d / "o.ply"), "--point-index", "0", "--weights",
                             str(W / "tiny.safetensors"), "-q", "--points", "200"]) == 0
    finally:
        os.environ.pop("S2AM3D_CACHE_DIR") if old is None else os.environ.__setitem__("S2AM3D_CACHE_DIR", old)
    (entry,) = list(d.glob("*.safetensors"))
    return entry


@pytest.mark.parametrize("how", CACHE_CORRUPTIONS)
def test_bad_cache_entry_is_rebuilt(W, tmp_path, capsys, monkeypatch, cache_entry, how):
    cache = tmp_path / "cache"
    cache.mkdir()
    entry = cache / cache_entry.name
    entry.write_bytes(cache_entry.read_bytes())
    _corrupt(entry, how)
    out = tmp_path / "o.ply"
    capsys.readouterr()
    rc = segment.main([str(W / "box.ply"), "-o", str(out), "--point-index", "0", "--weights", str(W / "tiny.safetensors"),
                       "-q", "--points", "200"])
    err = capsys.readouterr().err
    assert rc == 0 and out.is_file() and "Traceback" not in err
    if how not in ("folder", "old-format"):  # an older version's entry is replaced silently
        assert "warning: feature cache" in err
    if how != "folder":
        assert torch.equal(load_file(str(entry))["planes"], load_file(str(cache_entry))["planes"])  # stored again


@pytest.mark.parametrize("where", ["under-a-file", "read-only"])
def test_unwritable_cache_is_a_warning(W, tmp_path, capsys, monkeypatch, where):
    if where == "under-a-file":
        (tmp_path / "f").write_text("x")
        monkeypatch.setenv("S2AM3D_CACHE_DIR", str(tmp_path / "f" / "cache"))
    else:
        import errno

        def full(*a, **k):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr("safetensors.torch.save_file", full)
    out = tmp_path / "o.ply"
    rc = segment.main([str(W / "box.ply"), "-o", str(out), "--point-index", "0", "--weights", str(W / "tiny.safetensors"),
                       "-q", "--points", "200"])
    err = capsys.readouterr().err
    assert rc == 0 and out.is_file() and "warning: feature cache: could not write" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def procedural_cache(tmp_path_factory):
    d = tmp_path_factory.mktemp("proc")
    items = train_data.procedural_points(2, 64, seed=0, cache_dir=d, progress=False)
    (path,) = list(d.glob("*.npz"))
    return path, items


PROC_CORRUPTIONS = ["short-points", "format", "unnormalised", "missing-labels", "labels-below", "nan", "garbage",
                    "empty", "extra-key"]


@pytest.mark.parametrize("how", PROC_CORRUPTIONS)
def test_bad_procedural_cache_is_rebuilt(tmp_path, capsys, procedural_cache, how):
    src, items = procedural_cache
    path = tmp_path / src.name
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    if how == "garbage":
        path.write_bytes(b"PK\x03\x04" + bytes(range(100)))
    elif how == "empty":
        path.write_bytes(b"")
    else:
        if how == "short-points":
            arrays["points"] = arrays["points"][:1]
        elif how == "format":
            arrays["format"] = np.array("forged")
        elif how == "unnormalised":
            arrays["points"] = arrays["points"] * 100
        elif how == "missing-labels":
            arrays.pop("labels1")
        elif how == "labels-below":
            arrays["labels0"] = arrays["labels0"] - 5
        elif how == "nan":
            arrays["points"] = arrays["points"].copy()
            arrays["points"][0, 0, 0] = np.nan
        elif how == "extra-key":
            arrays["evil"] = np.zeros(3)
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    got = train_data.procedural_points(2, 64, seed=0, cache_dir=tmp_path, progress=False)
    assert "warning: procedural cache" in capsys.readouterr().err
    assert all(np.array_equal(a.points, b.points) and np.array_equal(a.labels, b.labels) for a, b in zip(items, got))
    assert path.read_bytes() == src.read_bytes()


# ----------------------------------------------------------------------------- URDF quirks (s2am3d-data build)


ROBOT = """<?xml version="1.0"?>
<robot name="r">
  <link name="base"><visual><geometry><box size="{size}"/></geometry></visual></link>
  <link name="arm"><visual><origin xyz="{xyz}" rpy="{rpy}"/><geometry><cylinder radius="0.05" length="0.5"/></geometry>
  </visual></link>
  <link name="lamp"><visual><geometry><sphere radius="{radius}"/></geometry></visual></link>
  <link name="hand"><visual><geometry><mesh filename="{mesh}" scale="{scale}"/></geometry></visual></link>
  <joint name="j1" type="fixed"><parent link="base"/><child link="arm"/><origin xyz="{jxyz}"/></joint>
  <joint name="j2" type="fixed"><parent link="base"/><child link="lamp"/><origin xyz="0.3 0 0"/></joint>
  <joint name="j3" type="fixed"><parent link="arm"/><child link="hand"/><origin xyz="0 0 0.5"/></joint>
</robot>
"""
GOOD = dict(size="0.4 0.4 0.1", xyz="0 0 0.25", rpy="0 0 0", radius="0.05", mesh="hand.stl", scale="0.1 0.1 0.1",
            jxyz="0 0 0.1")
URDF_QUIRKS = [  # (edit, raw prefix, raw suffix, warning that must appear)
    (dict(xyz="0.07, 0, -0.69"), b"", b"", "comma-separated"),
    (dict(jxyz="0,0,0.1"), b"", b"", "comma-separated"),
    (dict(size="$(optenv BOX_SIZE 0.4 0.4 0.1)"), b"", b"", "optenv"),
    (dict(mesh="$(find robot_pkg)/hand.stl"), b"", b"", "package://robot_pkg"),
    (dict(radius="0"), b"", b"", "skipped"),
    (dict(radius="-1"), b"", b"", "skipped"),
    (dict(rpy="0 0 0 1"), b"", b"", "skipped"),
    (dict(scale="1 1 1 1"), b"", b"", "skipped"),
    (dict(mesh="missing.stl"), b"", b"", "skipped"),
    (dict(mesh="${mesh_path}"), b"", b"", "skipped"),
    (dict(jxyz="0 0 0.1 7"), b"", b"", "identity"),
    (dict(size="0.4 nan 0.1"), b"", b"", "skipped"),
    ({}, b"  \n\t", b"", "whitespace before the XML declaration"),
    ({}, b"", b"\x00", "NUL"),
    ({}, b"\n", b"\x00\x00\n", "NUL"),
]
URDF_BROKEN = [  # cannot be read at all: exit 2 naming the file
    b"<robot", b"", b"\x00\x00", b"<notrobot/>", b"<robot name='r'/>",
    b"<robot><link name='a'><visual><geometry><sphere radius='0'/></geometry></visual></link></robot>",
    b"<robot><link name='a'/><link name='a'/></robot>",
    b"<robot><link name='a'/><joint name='j'><parent link='a'/><child link='b'/></joint></robot>",
]


@pytest.mark.parametrize("i", range(len(URDF_QUIRKS)))
def test_urdf_quirks_accepted_with_a_warning(tmp_path, capsys, i):
    edit, pre, post, warning = URDF_QUIRKS[i]
    trimesh.creation.box((1, 1, 1)).export(tmp_path / "hand.stl")
    urdf = tmp_path / "quirky.urdf"
    urdf.write_bytes(pre + ROBOT.format(**{**GOOD, **edit}).encode() + post)
    before = snapshot(tmp_path)
    capsys.readouterr()
    rc = data_cli.main(["build", str(tmp_path / "out"), "--urdf", str(urdf), "--points", "64", "-q"])
    err = capsys.readouterr().err
    assert rc == 0, err
    lines = [ln for ln in err.splitlines() if ln.startswith("warning:") and "quirky.urdf" in ln]
    assert any(warning in ln for ln in lines), err
    after = snapshot(tmp_path)
    assert {k for k in after if after.get(k) != before.get(k)} <= {k for k in after if k.startswith("out")}


@pytest.mark.parametrize("i", range(len(URDF_BROKEN)))
def test_unreadable_urdf_is_an_error(tmp_path, capsys, i):
    urdf = tmp_path / "broken.urdf"
    urdf.write_bytes(URDF_BROKEN[i])
    expect_error(capsys, data_cli.main, ["build", tmp_path / "out", "--urdf", urdf, "--points", "64", "-q"],
                 "broken.urdf", [tmp_path])


# ----------------------------------------------------------------------------- a few real subprocesses


@pytest.mark.parametrize("module,args,token", [
    ("s2am3d_core.cli.segment", ["{w}/box.ply", "-o", "{w}/box.ply", "--auto"], "box.ply"),
    ("s2am3d_core.cli.segment", ["{w}/box.ply", "-o", "{t}/o.ply", "--auto", "--seed", "-1"], "--seed"),
    ("s2am3d_core.data.cli", ["build", "{t}/d", "--procedural", "1", "--points", "400000000"], "--points"),
])
def test_subprocess_exit_status(W, tmp_path, module, args, token):
    args = [a.format(w=W, t=tmp_path) for a in args]
    before = snapshot(W)
    env = {**os.environ, "PYTHONPATH": str(REPO), "S2AM3D_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run([sys.executable, "-m", module, *args, "--weights", str(W / "tiny.safetensors")]
                       if "segment" in module else [sys.executable, "-m", module, *args],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and token in r.stderr, r.stderr
    assert snapshot(W) == before
