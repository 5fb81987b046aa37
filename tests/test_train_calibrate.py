"""Scale prior correction: the decoder term, the alpha fit and s2am3d-calibrate end to end."""
import json
import math

import numpy as np
import pytest
import torch

from safetensors import safe_open
from safetensors.torch import save_file

from s2am3d_core.checkpoint import load_model, read_metadata, save_model
from s2am3d_core.errors import CheckpointError
from s2am3d_core.config import ModelConfig, get_config
from s2am3d_core.train import calibrate
from s2am3d_core.modeling import S2AM3D


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    return save_model(S2AM3D(get_config("test-tiny")), tmp_path_factory.mktemp("w") / "tiny.safetensors",
                      extra_metadata={"training": {"steps": 3}})


def decode(model, scale):
    torch.manual_seed(1)
    pts = torch.rand(1, 200, 3) * 2 - 1
    feats = model.encode(pts)
    idx, lab = torch.tensor([[5]]), torch.tensor([[1]])
    return model.decode(feats, pts, idx, lab, torch.tensor([scale]))


def test_decoder_subtracts_alpha_times_prior_only_with_a_scale():
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny")).eval()
    with torch.no_grad():
        plain_small, plain_none = decode(model, 0.01), decode(model, float("nan"))
        model.decoder.set_calibration(0.5)
        adj_small, adj_none = decode(model, 0.01), decode(model, float("nan"))
    shift = (plain_small - adj_small)
    assert torch.allclose(shift, torch.full_like(shift, 0.5 * math.log(0.99 / 0.01)), atol=1e-4)
    assert torch.equal(plain_none, adj_none)  # "no scale" prompts are not corrected by alpha


def test_no_scale_offset_moves_only_prompts_without_a_scale(tmp_path):
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny")).eval()
    with torch.no_grad():
        plain_small, plain_none = decode(model, 0.01), decode(model, float("nan"))
        model.decoder.set_calibration(0.0, 3.0)
        adj_small, adj_none = decode(model, 0.01), decode(model, float("nan"))
    assert torch.equal(plain_small, adj_small)
    assert torch.allclose(plain_none - adj_none, torch.full_like(adj_none, 3.0), atol=1e-5)
    path = save_model(model, tmp_path / "off.safetensors")
    assert load_model(path).decoder.no_scale_offset == 3.0
    with pytest.raises(ValueError, match="no-scale logit offset"):
        model.decoder.set_calibration(0.5, float("inf"))
    # weights written before the offset existed load with offset 0
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "decoder.noscale_logit_offset"}
    old = tmp_path / "old.safetensors"
    save_file(state, str(old), metadata={"format": "s2am3d-model/1", "s2am3d_config": model.config.to_json()})
    assert load_model(old).decoder.no_scale_offset == 0.0


def test_ball_prior_is_the_ball_of_the_part_size_and_only_with_a_scale(tmp_path):
    """``ball_prior`` is positive on exactly the round(s * N) points nearest the positive clicks;
    the decoder adds beta times it to prompts with a scale and leaves the others alone."""
    from s2am3d_core.modeling.decoder import ball_prior

    torch.manual_seed(3)
    pts = torch.rand(2, 200, 3) * 2 - 1
    idx, lab = torch.tensor([[5, 9], [7, 0]]), torch.tensor([[1, 0], [1, 1]])  # a negative click; two positives
    prior = ball_prior(pts, idx, lab, torch.tensor([0.05, 0.1]))
    d0 = (pts[0] - pts[0, 5]).norm(dim=-1)
    assert set(torch.nonzero(prior[0] >= 0).flatten().tolist()) == set(d0.argsort()[:10].tolist())
    d1 = torch.minimum((pts[1] - pts[1, 7]).norm(dim=-1), (pts[1] - pts[1, 0]).norm(dim=-1))
    assert set(torch.nonzero(prior[1] >= 0).flatten().tolist()) == set(d1.argsort()[:20].tolist())
    assert torch.equal(ball_prior(pts, idx, lab, torch.tensor([float("nan"), 0.1]))[0], torch.zeros(200))
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny")).eval()
    with torch.no_grad():
        plain_small, plain_none = decode(model, 0.05), decode(model, float("nan"))
        model.decoder.set_calibration(0.0, 0.0, 2.0)
        adj_small, adj_none = decode(model, 0.05), decode(model, float("nan"))
    torch.manual_seed(1)
    p = torch.rand(1, 200, 3) * 2 - 1  # decode()'s points
    expected = 2.0 * ball_prior(p, torch.tensor([[5]]), torch.tensor([[1]]), torch.tensor([0.05]))
    assert torch.allclose(adj_small - plain_small, expected, atol=1e-5)
    assert torch.equal(plain_none, adj_none)
    path = save_model(model, tmp_path / "ball.safetensors")
    assert load_model(path).decoder.ball_weight == 2.0
    # weights written before the ball prior existed load without it
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "decoder.ball_prior_weight"}
    old = tmp_path / "old.safetensors"
    save_file(state, str(old), metadata={"format": "s2am3d-model/1", "s2am3d_config": model.config.to_json()})
    assert load_model(old).decoder.ball_weight == 0.0


def test_fit_offset_recovers_a_known_offset():
    rng = np.random.default_rng(2)
    logits, targets = [], []
    for s in (0.01, 0.05, 0.2):
        tgt = np.zeros(400, bool)
        tgt[: int(400 * s)] = True
        logits.append(np.where(tgt, 0.3, -0.3) + rng.normal(0, 0.02, 400) + 4.0)  # masks far too large
        targets.append(tgt)
    grid = np.arange(0.0, 8.01, 0.5)
    offset, scores = calibrate.fit_offset(logits, targets, grid)
    assert offset == pytest.approx(4.0) and scores.max() == pytest.approx(1.0)
    assert scores[0] < 0.5


def test_calibration_is_a_decoder_buffer_not_config(tmp_path):
    """alpha travels as the tensor decoder.scale_logit_adjust; the architecture config has no such field."""
    raw = json.loads(get_config("cpu-small").to_json())
    assert "scale_logit_adjust" not in raw["decoder"]
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny"))
    assert model.decoder.calibration == 0.0
    model.decoder.set_calibration(0.25)
    path = save_model(model, tmp_path / "cal.safetensors")
    with safe_open(str(path), framework="pt") as f:
        assert f.get_tensor("decoder.scale_logit_adjust").item() == 0.25
    assert "scale_logit_adjust" not in json.loads(read_metadata(path)["s2am3d_config"])["decoder"]
    assert load_model(path).decoder.calibration == 0.25
    with pytest.raises(ValueError, match="alpha"):
        model.decoder.set_calibration(float("nan"))


def test_legacy_config_field_is_read_into_the_buffer(tmp_path):
    """Weights written when alpha lived in the config load with that alpha; both at once are refused."""
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny"))
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "decoder.scale_logit_adjust"}
    raw = json.loads(model.config.to_json())
    raw["decoder"]["scale_logit_adjust"] = 0.75
    old = tmp_path / "old.safetensors"
    save_file(state, str(old), metadata={"format": "s2am3d-model/1", "s2am3d_config": json.dumps(raw)})
    assert load_model(old).decoder.calibration == 0.75
    state["decoder.scale_logit_adjust"] = torch.tensor(0.75)
    save_file(state, str(old), metadata={"format": "s2am3d-model/1", "s2am3d_config": json.dumps(raw)})
    with pytest.raises(CheckpointError, match="two calibrations"):
        load_model(old)
    del raw["decoder"]["scale_logit_adjust"]  # neither: uncorrected
    state.pop("decoder.scale_logit_adjust")
    save_file(state, str(old), metadata={"format": "s2am3d-model/1", "s2am3d_config": json.dumps(raw)})
    assert load_model(old).decoder.calibration == 0.0
    assert ModelConfig.parse_json(json.dumps(raw))[1] is None


def test_fit_alpha_recovers_a_known_prior_shift():
    rng = np.random.default_rng(0)
    logits, targets, scales = [], [], []
    for s in (0.01, 0.03, 0.1, 0.3):
        tgt = np.zeros(400, bool)
        tgt[: int(400 * s)] = True
        clean = np.where(tgt, 0.3, -0.3) + rng.normal(0, 0.02, 400)
        logits.append(clean + math.log((1 - s) / s))  # what a fully prior-shifted decoder outputs
        targets.append(tgt)
        scales.append(s)
    alpha, beta, table = calibrate.fit_alpha(logits, targets, np.array(scales), np.linspace(0, 1, 11))
    scores = table[0]
    assert beta == 0.0 and table.shape == (1, 11)
    assert alpha == pytest.approx(1.0) and scores[-1] == pytest.approx(1.0)
    assert scores[0] < 0.9  # uncorrected masks of the small parts are too large


def test_fit_alpha_finds_an_interior_optimum():
    """True shift 0.6 inside the grid: 0 (no correction) and both neighbours of 0.6 are worse."""
    rng = np.random.default_rng(1)
    logits, targets, scales = [], [], []
    for s in (0.01, 0.02, 0.05, 0.2, 0.5, 0.8):
        tgt = np.zeros(500, bool)
        tgt[: int(500 * s)] = True
        clean = np.where(tgt, 0.3, -0.3) + rng.normal(0, 0.02, 500)
        logits.append(clean + 0.6 * math.log((1 - s) / s))
        targets.append(tgt)
        scales.append(s)
    grid = np.round(np.arange(0, 1.55, 0.1), 2)
    alpha, _, table = calibrate.fit_alpha(logits, targets, np.array(scales), grid)
    scores = table[0]
    best = int(np.argmax(scores))
    assert alpha == pytest.approx(0.6) and scores[best] == pytest.approx(1.0)
    assert scores[best - 1] < scores[best] and scores[best + 1] < scores[best]
    assert scores[0] < 0.8 and scores[-1] < 0.8


def test_fit_alpha_finds_the_ball_prior_weight():
    """Logits that know the part only near its boundary's sign are noisy far inside and outside;
    the ball prior (1 - d / r, positive inside the part's ball) fixes them: beta > 0 wins, and at
    beta = 0 no alpha reaches its IoU."""
    rng = np.random.default_rng(2)
    logits, targets, scales, priors = [], [], [], []
    for s in (0.02, 0.05, 0.1, 0.3):
        d = np.sort(rng.random(500))  # distances from the click; the part is the nearest s * N points
        k = int(500 * s)
        tgt = np.zeros(500, bool)
        tgt[:k] = True
        prior = 1 - d / d[k - 1]
        logits.append(np.where(tgt, 0.2, -0.2) + rng.normal(0, 1.0, 500))
        targets.append(tgt)
        scales.append(s)
        priors.append(prior)
    grid = np.round(np.arange(0, 1.01, 0.25), 2)
    balls = np.array([0.0, 1.0, 4.0, 16.0])
    alpha, beta, table = calibrate.fit_alpha(logits, targets, np.array(scales), grid, priors, balls)
    assert table.shape == (4, 5) and beta > 0
    assert table.max() > table[0].max() + 0.2 and table.max() == table[list(balls).index(beta)].max()


def test_cli_writes_calibrated_weights_and_keeps_metadata(weights, tmp_path, capsys):
    out = tmp_path / "cal.safetensors"
    rc = calibrate.main([str(weights), "--out", str(out), "--procedural", "1", "--points", "256",
                         "--step", "0.25", "--threads", "1", "-q"])
    assert rc == 0, capsys.readouterr().err
    meta = read_metadata(out)
    cal = json.loads(meta["calibration"])
    assert json.loads(meta["training"]) == {"steps": 3}
    assert cal["scale_logit_adjust"] in (0.0, 0.25, 0.5, 0.75, 1.0) and cal["prompts"] > 0
    assert 0.0 <= cal["iou_uncorrected"] <= cal["iou_chosen"] <= 1.0
    assert load_model(out).decoder.calibration == pytest.approx(cal["scale_logit_adjust"])
    assert load_model(out).decoder.no_scale_offset == pytest.approx(cal["noscale_logit_offset"])
    assert load_model(out).decoder.ball_weight == pytest.approx(cal["ball_prior_weight"])
    assert cal["ball_prior_weight"] in calibrate.BALL_GRID
    assert 0.0 <= cal["noscale_iou_uncorrected"] <= cal["noscale_iou_chosen"] <= 1.0
    assert "<- chosen" in capsys.readouterr().out
    # calibrating the calibrated weights fits from the uncorrected logits again: same alpha, same scores
    again = tmp_path / "again.safetensors"
    assert calibrate.main([str(out), "--out", str(again), "--procedural", "1", "--points", "256",
                           "--step", "0.25", "--threads", "1", "-q"]) == 0
    cal2 = json.loads(read_metadata(again)["calibration"])
    assert cal2["previous"] == cal["scale_logit_adjust"]
    assert cal2["scale_logit_adjust"] == cal["scale_logit_adjust"]
    assert cal2["iou_uncorrected"] == pytest.approx(cal["iou_uncorrected"])
    assert cal2["previous_offset"] == cal["noscale_logit_offset"]
    assert cal2["noscale_logit_offset"] == cal["noscale_logit_offset"]


@pytest.mark.parametrize("args, message", [
    ([], "exactly one of --procedural"),
    (["--procedural", "1", "--data", "x"], "exactly one of --procedural"),
    (["--procedural", "0"], "--procedural: must be >= 1"),
    (["--procedural", "1", "--step", "0"], "--step"),
])
def test_cli_bad_arguments(weights, tmp_path, capsys, args, message):
    out = tmp_path / "cal.safetensors"
    assert calibrate.main([str(weights), "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_cli_unreadable_weights(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    assert calibrate.main([str(bad), "--out", str(tmp_path / "o.safetensors"), "--procedural", "1"]) == 2
    assert "bad.safetensors" in capsys.readouterr().err


def test_training_starts_from_uncorrected_logits(weights, tmp_path):
    from types import SimpleNamespace

    from s2am3d_core.train.trainer import build_model

    model = load_model(weights)
    model.decoder.set_calibration(0.6)
    cal = save_model(model, tmp_path / "cal.safetensors")
    args = SimpleNamespace(stage="decoder", encoder=None, init=str(cal), config=None)
    assert build_model(args).decoder.calibration == 0.0
    # --ball-prior: the decoder trains with the ball prior in its logits (and alpha still dropped)
    model.decoder.set_calibration(0.6, 3.0, 5.0)
    cal = save_model(model, tmp_path / "cal.safetensors")
    plain = build_model(SimpleNamespace(stage="decoder", encoder=None, init=str(cal), config=None))
    assert (plain.decoder.calibration, plain.decoder.no_scale_offset, plain.decoder.ball_weight) == (0, 0, 0)
    ball = build_model(SimpleNamespace(stage="decoder", encoder=None, init=str(cal), config=None, ball_prior=2.0))
    assert (ball.decoder.calibration, ball.decoder.no_scale_offset, ball.decoder.ball_weight) == (0, 0, 2.0)
    from s2am3d_core.train.config import TrainConfig
    with pytest.raises(ValueError, match="--ball-prior"):
        TrainConfig(stage="decoder", procedural=1, ball_prior=-1.0).resolved()


def test_cli_on_a_folder_of_user_labelled_ply(weights, tmp_path, capsys):
    from s2am3d_core.data import procedural
    from s2am3d_core.io import write_labelled_mesh

    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(2):
        m = procedural.generate("table", i)
        write_labelled_mesh(folder / f"table{i}.ply", m.vertices, m.faces, m.face_labels[0])
    out = tmp_path / "cal.safetensors"
    rc = calibrate.main([str(weights), "--out", str(out), "--user-dir", str(folder), "--points", "256", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert "user files" in json.loads(read_metadata(out)["calibration"])["data"]
    assert calibrate.main([str(weights), "--out", str(out), "--user-dir", str(tmp_path / "nope")]) == 2
    assert "folder not found" in capsys.readouterr().err


def test_shipped_weights_keep_their_calibration():
    """models/s2am3d-base.safetensors carries alpha 0.45, the ball prior weight 3 and the no-scale
    offset 3.75 as decoder tensors: every scaled prompt is corrected by exactly
    beta * ball_prior - alpha * log((1 - s) / s), every prompt without a scale by the offset."""
    from s2am3d_core.checkpoint import default_weights_path
    from s2am3d_core.examples import example_path
    from s2am3d_core.io import load_shape, shape_points
    from s2am3d_core.modeling.decoder import ball_prior
    from s2am3d_core.predictor import PartPredictor

    meta = read_metadata(default_weights_path())
    assert "scale_logit_adjust" not in json.loads(meta["s2am3d_config"])["decoder"]
    model = load_model(default_weights_path())
    alpha = float(np.float32(0.45))
    assert model.decoder.calibration == alpha
    assert model.decoder.no_scale_offset == 3.75 and model.decoder.ball_weight == 3.0
    pts, _ = shape_points(load_shape(example_path("chair")), 2000)
    p = PartPredictor(model, cache=False)
    p.set_shape(pts)
    corrected = {s: p.predict_logits([100], scale=s) for s in (0.02, 0.3, None)}
    model.decoder.set_calibration(0.0)
    for s, logits in corrected.items():
        plain = p.predict_logits([100], scale=s)
        if s is None:
            shift = 3.75
        else:
            ball = ball_prior(torch.from_numpy(p.points)[None], torch.tensor([[100]]), torch.tensor([[1]]),
                              torch.tensor([s]))[0].numpy()
            shift = alpha * math.log((1 - s) / s) - 3.0 * ball
        np.testing.assert_allclose(plain - logits, shift, atol=1e-4)
    assert ((corrected[0.02] > 0) != (p.predict_logits([100], scale=0.02) > 0)).any()  # calibration changes the mask


def test_user_dir_calibrates_on_every_file_the_user_gives(tmp_path):
    """No file of --user-dir is dropped by a split of names: part6 hashes to "train", part7 to "eval"."""
    from s2am3d_core.data import procedural
    from s2am3d_core.data.shards import split_of
    from s2am3d_core.io import write_labelled_mesh

    assert split_of("part6") == "train" and split_of("part7") == "eval"
    for i in (6, 7):
        m = procedural.generate("table", i)
        write_labelled_mesh(tmp_path / f"part{i}.ply", m.vertices, m.faces, m.face_labels[0])
    assert sorted(it.name for it in calibrate.user_items(str(tmp_path), 128)) == ["part6", "part7"]
