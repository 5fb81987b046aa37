"""Fine-tuning a user can trust: visible splits, held-out clicks, a before/after report, the best checkpoint."""
import dataclasses
import json
import warnings

import numpy as np
import pytest
import torch

from s2am3d_core.checkpoint import read_metadata, save_model
from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.io import write_labelled_mesh
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.train import cli
from s2am3d_core.train.data import held_out_clicks, with_clicks
from s2am3d_core.train.trainer import build_model, item_prompt

torch.set_num_threads(1)
TINY = ["--config", "test-tiny", "--points", "256", "--batch-size", "2", "--threads", "1", "--quiet"]


def _user(folder, n, seed=11):
    for i, m in enumerate(procedural.generate_many(n, seed=seed)):
        write_labelled_mesh(folder / f"obj{i}.ply", m.vertices, m.faces, m.face_labels[0])
    return folder


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    torch.manual_seed(0)
    return save_model(S2AM3D(get_config("test-tiny")), tmp_path_factory.mktemp("init") / "init.safetensors")


def _log(out):
    return [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]


def test_small_set_trains_on_every_file_and_validates_on_held_out_clicks(tmp_path, init, capsys):
    user, out = _user(tmp_path / "mine", 2), tmp_path / "ft"
    args = ["decoder", "--user-dir", str(user), "--init", str(init), "--steps", "4", "--eval-every", "2",
            "--out", str(out)] + TINY
    assert cli.main(args) == 0
    err = capsys.readouterr().out
    splits = json.loads((out / "splits.json").read_text())
    assert splits["train"] == ["obj0", "obj1"] and splits["validate"] == ["obj0", "obj1"]
    assert splits["held_out_clicks"] == 0.2
    assert "train:    obj0, obj1" in err and "validate: obj0, obj1" in err
    log = _log(out)
    assert log[0]["event"] == "start" and log[0]["train_objects"] == 2
    evals = [r for r in log if "eval" in r and r.get("event") is None]
    assert [r["step"] for r in evals] == [0, 2, 4]  # before, during, after
    assert all("iou_ball" in r["eval"] for r in evals)
    assert "ball" in err and "after vs before" in err  # the table at the end
    assert "note: with a handful of labelled shapes, --replay 400" in err  # fine-tuning without replay
    best_step = max(evals, key=lambda r: r["eval"]["iou_scale"])["step"]
    assert read_metadata(out / "best.safetensors")["steps"] == str(best_step)
    assert log[-1]["best"]["step"] == best_step


def test_held_out_clicks_are_never_clicked_in_training_and_only_clicked_in_validation():
    m = next(iter(procedural.generate_many(1, seed=3)))
    from s2am3d_core.data.sampling import mesh_to_points
    item = mesh_to_points(m, 400, seed=0)
    held = held_out_clicks(400, 0.2, seed=0)
    assert held.sum() == 80
    rng = np.random.default_rng(0)
    train, val = with_clicks(item, ~held), with_clicks(item, held)
    for _ in range(200):
        p = item_prompt(train, rng, max_pos=3, max_neg=2)
        assert not held[p.click_idx].any()
        assert p.target[p.click_idx[0]]  # the first click is still positive
        q = item_prompt(val, rng, max_pos=1, max_neg=0, whole_object_prob=0.0)
        assert held[q.click_idx].all() and q.target[q.click_idx[0]]


def test_val_fraction_holds_out_whole_files(tmp_path, init, capsys):
    user, out = _user(tmp_path / "mine", 5), tmp_path / "ft"
    args = ["decoder", "--user-dir", str(user), "--init", str(init), "--steps", "10", "--val-fraction", "0.4",
            "--out", str(out)] + TINY
    assert cli.main(args) == 0
    steps = [r["step"] for r in _log(out) if "eval" in r and r.get("event") is None]
    assert steps == [0, 2, 4, 6, 8, 10]  # fine-tuning validates during training by default (steps / 5)
    splits = json.loads((out / "splits.json").read_text())
    assert len(splits["validate"]) == 2 and len(splits["train"]) == 3
    assert sorted(splits["train"] + splits["validate"]) == [f"obj{i}" for i in range(5)]
    assert splits["held_out_clicks"] is None


def test_calibrate_fits_on_the_validation_files(tmp_path, init, capsys):
    user, val, out = _user(tmp_path / "mine", 2), _user(tmp_path / "val", 1, seed=40), tmp_path / "ft"
    args = ["decoder", "--user-dir", str(user), "--val-dir", str(val), "--init", str(init), "--steps", "2",
            "--calibrate", "--out", str(out)] + TINY
    assert cli.main(args) == 0
    cal = json.loads(read_metadata(out / "calibrated.safetensors")["calibration"])
    assert cal["data"] == f"user files {val}" and cal["prompts"] > 0
    assert cal["points"] == cli.CALIBRATION_POINTS  # fitted at the scored density, not the training one
    assert cli.main(["decoder", "--user-dir", str(user), "--calibrate", "--init", str(init),
                     "--out", str(tmp_path / "x")] + TINY) == 2
    assert "--calibrate" in capsys.readouterr().err


def test_val_dir_validates_on_its_files(tmp_path, init):
    user, val, out = _user(tmp_path / "mine", 2), _user(tmp_path / "val", 1, seed=40), tmp_path / "ft"
    (val / "obj0.ply").rename(val / "other.ply")
    args = ["encoder", "--user-dir", str(user), "--val-dir", str(val), "--init", str(init), "--steps", "2",
            "--out", str(out)] + TINY
    assert cli.main(args) == 0
    splits = json.loads((out / "splits.json").read_text())
    assert splits["train"] == ["obj0", "obj1"] and splits["validate"] == ["other"]
    assert (out / "best.safetensors").is_file()


def test_split_and_folder_errors_name_the_problem(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert cli.main(["decoder", "--procedural", "2", "--val-dir", str(tmp_path), "--out", out] + TINY) == 2
    assert capsys.readouterr().err.startswith("error: --val-dir")
    bad = tmp_path / "odd"
    bad.mkdir()
    (bad / "scan.xyz").write_text("0 0 0\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(["encoder", "--user-dir", str(bad), "--out", out] + TINY) == 2
    assert not caught  # one message, the error, names the skipped file
    err = capsys.readouterr().err
    assert err.startswith("error: --user-dir") and "scan.xyz" in err
    assert cli.main(["encoder", "--user-dir", str(bad), "--val-fraction", "1.5", "--out", out] + TINY) == 2
    assert "--val-fraction" in capsys.readouterr().err


def test_help_names_threads_batch_semantics_and_splits(capsys):
    with pytest.raises(SystemExit):
        cli.main(["decoder", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--threads N" in text and "--num-workers" not in text
    assert "per process" in text and "--val-dir DIR" in text and "--val-fraction F" in text
    assert "(default: " not in text
    assert cli.parse_config(["encoder", "--procedural", "2", "--num-workers", "3", "--out", "r"]).threads == 3  # old name


def test_encoder_run_points_to_the_decoder_stage(tmp_path, capsys):
    model = S2AM3D(get_config("test-tiny"))
    model.decoder.set_calibration(0.6)
    init = save_model(model, tmp_path / "cal.safetensors")
    cfg = cli.parse_config(["encoder", "--procedural", "2", "--init", str(init), "--out", str(tmp_path / "r")])
    build_model(cfg.resolved())
    assert "decoder stage" in capsys.readouterr().err


def test_replay_mixes_procedural_objects_into_the_users_files(tmp_path, init, capsys, monkeypatch):
    from s2am3d_core.train import trainer
    from s2am3d_core.train.trainer import draw_items, replay_weights

    monkeypatch.setenv("S2AM3D_TRAIN_CACHE", str(tmp_path / "cache"))
    drawn = []
    real = trainer.decoder_batch

    def spy(items, feats, rng, cfg, weights=None):
        drawn.append((len(items), weights))
        return real(items, feats, rng, cfg, weights)
    monkeypatch.setattr(trainer, "decoder_batch", spy)
    user, out = _user(tmp_path / "mine", 2), tmp_path / "ft"
    args = ["decoder", "--user-dir", str(user), "--init", str(init), "--steps", "2", "--replay", "6",
            "--replay-fraction", "0.25", "--out", str(out)] + TINY
    assert cli.main(args) == 0
    splits = json.loads((out / "splits.json").read_text())
    k = splits["replay"]
    assert 1 <= k <= 6 and splits["train"] == ["obj0", "obj1"]  # the user's files are still named
    printed = capsys.readouterr().out
    assert f"+ {k} procedural objects (--replay)" in printed and "note: with a handful" not in printed
    n, w = drawn[0]
    assert n == 2 + k and np.isclose(w[2:].sum(), 0.25) and np.allclose(w[:2], 0.375)
    # the draws follow the weights; without replay they stay uniform
    cfg = cli.parse_config(args).resolved()
    idx = draw_items(n, np.random.default_rng(0), dataclasses.replace(cfg, batch_size=4000), w)
    assert abs((idx >= 2).mean() - 0.25) < 0.03
    assert replay_weights(3, 0, 0.5) is None


def test_replay_needs_user_files(tmp_path, capsys):
    assert cli.main(["decoder", "--procedural", "2", "--replay", "3", "--out", str(tmp_path / "r")] + TINY) == 2
    assert "--replay: goes with --user-dir" in capsys.readouterr().err
