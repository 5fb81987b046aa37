"""s2am3d-eval and s2am3d-bench end to end with a random test-tiny checkpoint."""
import json

import numpy as np
import pytest
import torch

from s2am3d_core.checkpoint import save_model
from s2am3d_core.config import get_config
from s2am3d_core.data import shards
from s2am3d_core.data.types import PartPoints
from s2am3d_core.eval import benchmark, cli
from s2am3d_core.modeling import S2AM3D


MODE_KEYS = {"ours_scale", "ours_noscale", "ours_topk", "mesh_scale", "mesh_noscale", "piece_noscale",
             "piece_dist_scale"}
INTER_KEYS = MODE_KEYS | {"kmeans", "agglo", "geometric_scale", "geometric_noscale"}
FULL_KEYS = {"ours", "ours_noscale", "mesh", "mesh_noscale", "kmeans", "agglo", "geometric"}


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny"))
    model.decoder.set_calibration(0.5, 2.0, 1.5)  # the report states the weights' calibration
    return save_model(model, tmp_path_factory.mktemp("w") / "tiny.safetensors")


def synthetic_object(i, n=300):
    """Three boxes side by side; levels: 3 boxes -> (2 + 1) -> (unlabelled level is not stored)."""
    rng = np.random.default_rng(i)
    box = rng.integers(0, 3, n)
    pts = rng.random((n, 3)) * 0.8 + np.stack([box * 1.0, np.zeros(n), np.zeros(n)], 1)
    labels = np.stack([box, (box >= 2).astype(int)])
    return PartPoints(points=pts.astype(np.float32), labels=labels, name=f"synthetic_{i}", category="boxes")


def check_report(report, dataset, n_objects, num_levels):
    ds = report["datasets"][dataset]
    assert ds["num_objects"] == n_objects and len(ds["objects"]) == n_objects
    assert set(ds["interactive"]) == INTER_KEYS and set(ds["full_seg"]) == FULL_KEYS
    for m in INTER_KEYS:
        assert 0.0 <= ds["interactive"][m]["overall"] <= 1.0
        assert 0.0 <= ds["interactive"][m]["distinct"] <= 1.0
        assert ds["interactive"][m]["num_distinct"] == ds["num_distinct"] <= ds["num_prompted"]
        assert len(ds["interactive"][m]["per_level"]) == ds["num_levels"]
    for m in FULL_KEYS:
        assert 0.0 <= ds["full_seg"][m]["overall"] <= 1.0
    assert ds["num_levels"] >= num_levels
    obj = ds["objects"][0]
    assert {"name", "num_points", "gt_parts_per_level", "scale_per_level", "interactive", "full_seg"} <= set(obj)
    assert report["settings"]["procedural_seed_offset"] == 1_000_000
    assert report["calibration"] == {"scale_logit_adjust": 0.5, "ball_prior_weight": 1.5, "noscale_logit_offset": 2.0}


def test_eval_cli_synthetic_end_to_end(weights, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "procedural_items", lambda n, seed, points: (synthetic_object(i) for i in range(n)))
    out = tmp_path / "res.json"
    assert cli.main(["--weights", str(weights), "--procedural", "3", "--points", "256", "--out", str(out),
                     "--num-prompts", "8", "-q"]) == 0
    report = json.loads(out.read_text())
    check_report(report, "procedural", 3, 2)
    assert report["datasets"]["procedural"]["objects"][0]["num_points"] == 256
    counts = report["datasets"]["procedural"]["part_counts"]
    assert set(counts) == {"ours", "mesh"} and counts["mesh"]["levels"] == 6  # 3 objects x 2 levels
    assert 0 <= counts["mesh"]["within_1_5x"] <= 6 and counts["mesh"]["mean_ratio"] > 0
    text = capsys.readouterr().out
    assert "points-only IoU" in text and "mesh-aware IoU" in text and "full-seg mIoU" in text
    assert f"mesh {counts['mesh']['within_1_5x']} of 6" in text
    assert "level 1" in text and "distinct" in text


def test_eval_cli_procedural_end_to_end(weights, tmp_path):
    out = tmp_path / "res.json"
    assert cli.main(["--weights", str(weights), "--procedural", "2", "--points", "256", "--out", str(out),
                     "--num-prompts", "8", "-q"]) == 0
    report = json.loads(out.read_text())
    check_report(report, "procedural", 2, 3)
    for obj in report["datasets"]["procedural"]["objects"]:
        assert shards.split_of(obj["name"]) == "eval"


def test_eval_cli_shared_data_absent_is_skipped(weights, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "REPO_ROOT", tmp_path / "nowhere" / "repo")
    out = tmp_path / "res.json"
    assert cli.main(["--weights", str(weights), "--shared-data", "--out", str(out), "--baselines", "none"]) == 0
    report = json.loads(out.read_text())
    assert "skipped" in report["datasets"]["shared-data"]
    assert "skipping" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    ([], "choose at least one"),
    (["--procedural", "2", "--baselines", "kmeans,magic"], "--baselines: unknown baseline(s) magic"),
    (["--glb", "/nonexistent/x.glb"], "--glb: /nonexistent/x.glb: file not found"),
    (["--data", "/nonexistent/shards"], "--data: /nonexistent/shards: folder not found"),
    (["--urdf", "/nonexistent/r.urdf"], "--urdf: /nonexistent/r.urdf: file not found"),
    (["--user-dir", "/nonexistent/mine"], "--user-dir: /nonexistent/mine: folder not found"),
    (["--procedural", "0"], "--procedural"),
])
def test_eval_cli_errors(weights, capsys, argv, message):
    assert cli.main(["--weights", str(weights), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_eval_cli_missing_weights(tmp_path, capsys):
    assert cli.main(["--weights", str(tmp_path / "none.safetensors"), "--procedural", "1"]) == 2
    assert "none.safetensors: weights file not found" in capsys.readouterr().err


def test_bench_cli_tiny(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert benchmark.main(["--config", "test-tiny", "--sizes", "200", "400", "--repeats", "3", "--prompts", "4",
                           "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["random_weights"] is True and [r["points"] for r in report["results"]] == [200, 400]
    # the cache holds the encoder's tri-plane in float16, whose size does not depend on the point count
    with torch.no_grad():
        planes = S2AM3D(get_config("test-tiny")).encoder.planes(torch.rand(1, 50, 3) * 2 - 1)
    plane_mb = planes.numel() * 2 / 2**20
    for r in report["results"]:
        assert r["encode_s"] > 0 and r["decode_p95_ms"] >= r["decode_p50_ms"] > 0
        assert r["predict_many_prompts_per_s"] > 0 and r["peak_memory_kind"] == "max RSS"
        assert plane_mb <= r["cache_mb"] < plane_mb + 0.05
        assert r["peak_memory_mb"] > 50  # this process has torch loaded: a reading in KiB or bytes would fail
    text = capsys.readouterr().out
    assert "RANDOM weights" in text and "dec p50 ms" in text


def test_bench_cli_errors(tmp_path, capsys):
    assert benchmark.main(["--weights", str(tmp_path / "no.safetensors"), "--sizes", "100"]) == 2
    assert "no.safetensors: weights file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        benchmark.main(["--config", "huge", "--sizes", "100"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--config: invalid choice: 'huge'" in err and "cpu-base" in err and "test-tiny" in err


def test_eval_cli_real_glb(weights, tmp_path):
    files, reason = cli.shared_data_files()
    truck = [f for f in files if f.name == "CesiumMilkTruck.glb"]
    if not truck:
        pytest.skip(reason or "CesiumMilkTruck.glb not in the shared data")
    out = tmp_path / "res.json"
    assert cli.main(["--weights", str(weights), "--glb", str(truck[0]), "--points", "256", "--out", str(out),
                     "--num-prompts", "8", "--baselines", "geometric", "-q"]) == 0
    ds = json.loads(out.read_text())["datasets"]["glb"]
    assert ds["num_objects"] == 1
    assert set(ds["full_seg"]) == {"ours", "ours_noscale", "mesh", "mesh_noscale", "geometric"}
    obj = ds["objects"][0]
    assert obj["mesh"] and obj["num_atoms"] >= obj["num_pieces"] >= 1
    # the truck has 5 finest and 3 coarser parts, one of them equal at both levels: 8 prompts, fewer distinct
    assert ds["num_distinct"] < ds["num_prompted"]


def test_eval_cli_shard_data(weights, tmp_path, capsys):
    shards.write_shards(tmp_path / "ds", [synthetic_object(i, 400) for i in range(3)], "eval", shard_size=2)
    out = tmp_path / "res.json"
    assert cli.main(["--weights", str(weights), "--data", str(tmp_path / "ds"), "--max-objects", "2",
                     "--points", "256", "--num-prompts", "8", "--baselines", "kmeans", "--out", str(out), "-q"]) == 0
    ds = json.loads(out.read_text())["datasets"]["data:eval"]
    assert ds["num_objects"] == 2 and ds["objects"][0]["num_points"] == 256
    assert set(ds["interactive"]) == MODE_KEYS | {"kmeans"}
    assert not ds["objects"][0]["mesh"]  # shards are point clouds: atoms of the kNN graph
    # a split the folder does not have: a clear error, exit 2
    assert cli.main(["--weights", str(weights), "--data", str(tmp_path / "ds"), "--split", "train", "-q"]) == 2
    assert "no split 'train'" in capsys.readouterr().err


ROBOT = """<?xml version="1.0"?>
<robot name="arm">
  <link name="base"><visual><origin xyz="0 0 0.05"/><geometry><box size="0.4 0.4 0.1"/></geometry></visual></link>
  <link name="upper"><visual><origin xyz="0 0 0.25"/><geometry><cylinder radius="0.05" length="0.5"/></geometry>
    </visual></link>
  <link name="hand"><visual><geometry><box size="0.2 0.1 0.1"/></geometry></visual></link>
  <joint name="j1" type="revolute"><parent link="base"/><child link="upper"/><origin xyz="0 0 0.1"/></joint>
  <joint name="j2" type="revolute"><parent link="upper"/><child link="hand"/><origin xyz="0 0 0.55"/></joint>
</robot>
"""


def test_eval_cli_urdf_and_user_dir(weights, tmp_path, capsys):
    """Robots (--urdf) and a folder of the user's labelled files (--user-dir) are scored on meshes."""
    import trimesh

    from s2am3d_core.io import write_labelled_mesh

    robot = tmp_path / "arm.urdf"
    robot.write_text(ROBOT)
    mine = tmp_path / "mine"
    mine.mkdir()
    a, b = trimesh.creation.box((1, 1, 1)), trimesh.creation.box((1, 1, 1))
    b.apply_translation((1.5, 0, 0))
    both = trimesh.util.concatenate([a, b])
    write_labelled_mesh(mine / "two_boxes.ply", both.vertices, both.faces, np.repeat([0, 1], len(a.faces)))
    (mine / "notes.xyz").write_text("not a labelled file")
    out = tmp_path / "res.json"
    assert cli.main(["--weights", str(weights), "--urdf", str(robot), "--user-dir", str(mine), "--points", "256",
                     "--num-prompts", "8", "--baselines", "none", "--out", str(out), "-q"]) == 0
    datasets = json.loads(out.read_text())["datasets"]
    robot_ds, user_ds = datasets["urdf"], datasets[f"user-dir:{mine}"]
    assert robot_ds["num_objects"] == 1 and robot_ds["objects"][0]["mesh"]
    assert robot_ds["objects"][0]["gt_parts_per_level"][0] == 3  # three links
    assert user_ds["num_objects"] == 1 and user_ds["objects"][0]["gt_parts_per_level"] == [2]
    # two separate boxes, each a labelled part: the clicked piece is the part
    assert user_ds["interactive"]["piece_noscale"]["distinct"] > 0.99
    assert "notes.xyz" in capsys.readouterr().err  # the unsupported file is named, not silently dropped
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["--weights", str(weights), "--user-dir", str(empty), "-q"]) == 2
    assert "--user-dir: " in capsys.readouterr().err


def test_part_counts_fit_within_one_and_a_half_times_either_way():
    from s2am3d_core.eval.evaluate import part_counts

    objects = [{"gt_parts_per_level": [10, 4, 0, 6], "mesh_parts_per_level": [14, 7, None, 4]}]
    c = part_counts(objects, "mesh_parts_per_level")  # 1.4 fits, 1.75 does not, 4/6 = 1/1.5 fits
    assert c["levels"] == 3 and c["within_1_5x"] == 2
    assert c["mean_ratio"] == pytest.approx((1.4 + 1.75 + 4 / 6) / 3)


def test_eval_cli_remesh_without_scikit_image_is_a_clear_error(weights, monkeypatch, capsys):
    from s2am3d_core.data import remesh

    monkeypatch.setattr(remesh, "check_remesh_available", lambda: "needs scikit-image for marching cubes "
                                                                 "(pip install scikit-image)")
    assert cli.main(["--weights", str(weights), "--procedural", "1", "--remesh", "64"]) == 2
    err = capsys.readouterr().err
    assert "error: --remesh: needs scikit-image" in err and "Traceback" not in err
