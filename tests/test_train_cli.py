"""s2am3d-train end to end: help, errors, both stages, fine-tuning on the user's labelled files."""
import json

import numpy as np
import pytest
import torch

from s2am3d_core.checkpoint import load_model, read_metadata, save_model
from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.io import write_labelled_mesh
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor
from s2am3d_core.train import cli

torch.set_num_threads(1)
TINY = ["--config", "test-tiny", "--points", "256", "--batch-size", "2", "--threads", "1", "--quiet"]


def test_help(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    assert "examples:" in capsys.readouterr().out
    for stage in ("encoder", "decoder"):
        with pytest.raises(SystemExit):
            cli.main([stage, "--help"])
        assert "--max-minutes" in capsys.readouterr().out


def test_errors_without_traceback(tmp_path, capsys):
    assert cli.main(["decoder", "--procedural", "2", "--out", str(tmp_path / "r")] + TINY) == 2
    assert capsys.readouterr().err.startswith("error: decoder needs a trained encoder")
    assert cli.main(["encoder", "--user-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "r")] + TINY) == 2
    assert "error: --user-dir" in capsys.readouterr().err
    assert cli.main(["encoder", "--procedural", "2", "--out", str(tmp_path / "r"), "--resume"] + TINY) == 2
    assert "error: --resume" in capsys.readouterr().err
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    assert cli.main(["encoder", "--procedural", "2", "--init", str(bad), "--out", str(tmp_path / "r")] + TINY) == 2
    assert "error:" in capsys.readouterr().err
    assert cli.main(["encoder", "--procedural", "2", "--out", str(tmp_path / "r")] + TINY + ["--threads", "-1"]) == 2
    assert capsys.readouterr().err.startswith("error: --threads: must be >= 1")


def test_two_stages_end_to_end(tmp_path):
    enc, dec = tmp_path / "enc", tmp_path / "dec"
    assert cli.main(["encoder", "--procedural", "4", "--steps", "3", "--out", str(enc)] + TINY) == 0
    assert cli.main(["decoder", "--procedural", "4", "--steps", "3", "--encoder", str(enc), "--out", str(dec)] + TINY) == 0
    meta = read_metadata(dec / "model.safetensors")
    assert meta["stage"] == "decoder" and meta["steps"] == "3"
    assert set(json.loads(meta["eval"])) >= {"iou_scale", "iou_no_scale", "iou_whole_object"}
    assert read_metadata(enc / "model.safetensors")["stage"] == "encoder"
    model = load_model(dec / "model.safetensors")
    enc_model = load_model(enc / "model.safetensors")
    for k, v in enc_model.encoder.state_dict().items():  # stage 2 leaves the encoder alone
        assert torch.equal(v, model.encoder.state_dict()[k])
    log = [json.loads(x) for x in (dec / "log.jsonl").read_text().splitlines()]
    assert log[-1]["event"] == "end" and "iou_scale" in log[-1]["eval"]
    p = PartPredictor(model, cache=False)
    pts = np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32)
    p.set_shape(pts)
    prob = p.predict(positive=[0], scale=0.2)
    assert prob.shape == (300,) and np.isfinite(prob).all()


def test_finetune_on_user_dir(tmp_path):
    user = tmp_path / "mine"
    for i, m in enumerate(procedural.generate_many(3, seed=11)):
        write_labelled_mesh(user / f"obj{i}.ply", m.vertices, m.faces, m.face_labels[0])
    torch.manual_seed(0)
    init = save_model(S2AM3D(get_config("test-tiny")), tmp_path / "init.safetensors")
    for stage in ("encoder", "decoder"):
        out = tmp_path / f"ft_{stage}"
        args = [stage, "--user-dir", str(user), "--init", str(init), "--steps", "3", "--out", str(out)] + TINY
        assert cli.main(args) == 0
        meta = read_metadata(out / "model.safetensors")
        assert meta["data"].startswith("user:") and meta["steps"] == "3"
        assert load_model(out / "model.safetensors").config.to_json() == get_config("test-tiny").to_json()


def test_max_minutes_stops_cleanly(tmp_path):
    out = tmp_path / "r"
    assert cli.main(["encoder", "--procedural", "4", "--steps", "1000", "--max-minutes", "0.0001",
                     "--out", str(out)] + TINY) == 0
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["stopped"].startswith("time limit") and log[-1]["steps"] < 1000
    assert (out / "model.safetensors").is_file() and (out / "checkpoint.pt").is_file()
