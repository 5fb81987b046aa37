"""Training data that looks like real assemblies, and the training pieces that use it."""
import errno
import json

import numpy as np
import pytest
import torch
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.data.procedural import assemblies, geom
from s2am3d_core.data.realism import random_rotation, realistic_points
from s2am3d_core.data.sampling import mesh_to_points
from s2am3d_core.modeling import S2AM3D, contrastive_loss
from s2am3d_core.predictor import PartPredictor
from s2am3d_core.train import cli, trainer
from s2am3d_core.train.config import TrainConfig

torch.set_num_threads(1)
TINY = ["--config", "test-tiny", "--points", "256", "--batch-size", "2", "--num-workers", "1", "--quiet"]


def pieces(m) -> np.ndarray:
    """Connected piece of every face (faces sharing a vertex are connected)."""
    f, n = m.faces, len(m.vertices)
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]]])
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1][f[:, 0]]


def parts_per_piece(m) -> np.ndarray:
    pairs = np.unique(np.stack([pieces(m), m.face_labels[0]]), axis=1)
    return np.unique(pairs[0], return_counts=True)[1]


@pytest.mark.parametrize("category", sorted(assemblies.CATEGORIES))
def test_assemblies_have_pieces_spanning_several_parts(category):
    for seed in range(3):
        m = procedural.generate(category, seed)
        assert (parts_per_piece(m) >= 2).any(), (category, seed)


def test_welding_makes_pieces_fewer_than_parts():
    objs = list(procedural.generate_many(len(procedural.CATEGORIES), seed=3))
    welded = sum(bool((parts_per_piece(m) >= 2).any()) for m in objs)
    assert welded >= len(objs) // 2


def test_long_tailed_part_sizes():
    fr = []
    for m in procedural.generate_many(len(procedural.CATEGORIES), seed=5):
        area = trimesh.Trimesh(m.vertices, m.faces, process=False).area_faces
        fr.extend(np.bincount(m.face_labels[0], weights=area) / area.sum())
    fr = np.array(fr)
    assert (fr < 0.01).mean() > 0.4  # a large share of parts under 1 % of the object
    assert (fr > 0.1).any()          # next to a few large ones


def test_repeated_fasteners_are_separate_instances():
    m = procedural.generate("flange_housing", 0)
    names = list(m.part_names[0].values())
    heads = [n for n in names if n.startswith("housing/flange_bolts/bolt_") and n.endswith("/head")]
    assert len(heads) >= 6 and len(set(heads)) == len(heads)


def test_comb_and_beveled_box_are_closed():
    (v, f), part = geom.comb(1.0, 0.1, 6, 0.3, 0.04, 0.7)
    m = trimesh.Trimesh(v, f, process=False)
    assert m.is_watertight and m.is_winding_consistent and m.volume > 0
    assert set(np.unique(part)) == set(range(7))
    v, f = geom.beveled_box((1, 2, 0.5), 0.1)
    m = trimesh.Trimesh(v, f, process=False)
    assert m.is_watertight and m.volume > 0 and m.volume < 1.0


def test_realistic_points_rotate_and_stay_labelled():
    rng = np.random.default_rng(0)
    rots = [random_rotation(rng) for _ in range(30)]
    for r in rots:
        assert np.allclose(r @ r.T, np.eye(3), atol=1e-9) and np.isclose(np.linalg.det(r), 1.0)
    assert any(np.allclose(r[:, 2], [0, 1, 0], atol=1e-9) or np.allclose(r @ [0, 0, 1], [0, 1, 0]) for r in rots)  # Y-up
    item = mesh_to_points(procedural.generate("chair", 1), 2000, seed=0)
    out = realistic_points(item, 1000, np.random.default_rng(1))
    assert out.points.shape == (1000, 3) and out.labels.shape == (item.labels.shape[0], 1000)
    assert np.isclose(np.abs(out.points).max(), 1.0, atol=1e-3) or np.linalg.norm(out.points, axis=1).max() <= 1.0001


def test_hard_negatives_weigh_adjacent_parts():
    pts = torch.tensor([[[0.0, 0, 0], [0.01, 0, 0], [0.02, 0, 0], [0.9, 0, 0]]])
    lab = torch.tensor([[0, 0, 1, 1]])
    feats = torch.tensor([[[1.0, 0], [1.0, 0.1], [1.0, 0.2], [0.0, 1.0]]])  # point 2 looks like part 0
    plain = contrastive_loss(feats, lab, max_points=None)
    hard = contrastive_loss(feats, lab, max_points=None, points=pts, hard_weight=4.0, hard_radius=0.05)
    assert hard > plain + 0.1
    assert torch.isclose(contrastive_loss(feats, lab, max_points=None, points=pts, hard_weight=0.0), plain)


def test_fast_decoder_config_predicts_on_many_points():
    torch.manual_seed(0)
    model = S2AM3D(get_config("cpu-base")).eval()
    assert model.config.decoder.context_points and model.config.decoder.feature_skip
    p = PartPredictor(model, cache=False)
    pts = np.random.default_rng(0).normal(size=(3000, 3)).astype(np.float32)
    p.set_shape(pts)
    prob = p.predict(positive=[0], scale=0.05)
    assert prob.shape == (3000,) and np.isfinite(prob).all()


def test_train_config_is_the_source_of_cli_defaults():
    cfg = cli.parse_config(["decoder", "--procedural", "3", "--out", "x", "--encoder", "e"])
    assert cfg.lr == TrainConfig.lr and cfg.size_power == TrainConfig.size_power and cfg.stage == "decoder"
    assert cfg.resolved().batch_size == 16
    assert cli.parse_config(["encoder", "--procedural", "3", "--out", "x"]).resolved().batch_size == 8
    with pytest.raises(ValueError, match="--steps"):
        TrainConfig(procedural=2, steps=0).resolved()


def test_budget_schedule_spans_the_wall_time():
    cfg = TrainConfig(procedural=1, steps=1000, max_minutes=1.0).resolved()
    assert trainer.progress_of(10, 30.0, cfg) == pytest.approx(0.5)  # time ends first
    assert trainer.progress_of(900, 6.0, cfg) == pytest.approx(0.9)  # steps end first
    assert trainer.lr_factor(1.0, 0.05) == pytest.approx(0.05) and trainer.lr_factor(0.05, 0.05) == pytest.approx(1.0)


def test_full_disk_gives_a_clear_error_and_keeps_the_checkpoint(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    assert cli.main(["encoder", "--procedural", "3", "--steps", "2", "--out", str(out)] + TINY) == 0
    before = (out / "checkpoint.pt").read_bytes()

    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(torch, "save", no_space)
    code = cli.main(["encoder", "--procedural", "3", "--steps", "4", "--out", str(out), "--resume"] + TINY)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "disk is full" in err and "--resume" in err
    assert (out / "checkpoint.pt").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".checkpoint")]  # no temp file left


def test_procedural_points_in_worker_processes_match(tmp_path):
    from s2am3d_core.train.data import procedural_points
    a = procedural_points(3, 128, seed=4, realism=1.0, workers=2, cache_dir=tmp_path / "a", progress=False)
    b = procedural_points(3, 128, seed=4, realism=1.0, workers=1, cache_dir=tmp_path / "b", progress=False)
    for x, y in zip(a, b):
        assert x.name == y.name and np.array_equal(x.points, y.points) and np.array_equal(x.labels, y.labels)
    c = procedural_points(3, 128, seed=4, realism=1.0, cache_dir=tmp_path / "a", progress=False)  # from the cache
    assert all(np.array_equal(x.points, y.points) for x, y in zip(a, c))
    assert json.dumps([x.name for x in c])


def test_fast_decoder_learns_and_matches_its_prepared_path():
    """feature_skip + context_points: training lowers the loss; decode == prepare + decode_prepared."""
    from s2am3d_core.data.prompts import collate_prompts, sample_prompt

    cfg = get_config("test-tiny")
    cfg.decoder.feature_skip, cfg.decoder.context_points = True, 64
    torch.manual_seed(0)
    model = S2AM3D(cfg)
    items = [mesh_to_points(m, 256, seed=i) for i, m in enumerate(procedural.generate_many(3, seed=5))]
    rng = np.random.default_rng(0)
    b = collate_prompts([sample_prompt(it.labels, rng) for it in items], 5)
    pts = torch.from_numpy(np.stack([it.points for it in items]))
    with torch.no_grad():
        feats = model.encode(pts)
        full = model.decode(feats, pts, b["click_idx"], b["click_label"], b["scale"])
        prep = model.decoder.decode_prepared(model.decoder.prepare(feats, pts), b["click_idx"], b["click_label"],
                                             b["scale"])
    assert torch.allclose(full, prep)
    from s2am3d_core.modeling import mask_loss
    opt = torch.optim.AdamW(model.decoder.parameters(), lr=3e-3)
    loss = lambda: mask_loss(model.decode(feats, pts, b["click_idx"], b["click_label"], b["scale"]), b["target"])  # noqa: E731
    first = loss().item()
    for _ in range(20):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < first - 0.1
