"""Model pieces: shapes, invariances, losses and that a few steps actually learn."""
import math

import numpy as np
import pytest
import torch

from s2am3d_core.config import CONFIGS, ModelConfig, get_config
from s2am3d_core.errors import CheckpointError
from s2am3d_core.geometry import normalize_points, check_points
from s2am3d_core.errors import InputError
from s2am3d_core.modeling import S2AM3D, contrastive_loss, mask_loss
from s2am3d_core.modeling.pvcnn import devoxelize, voxelize
from s2am3d_core.modeling.triplane import project_to_planes, sample_planes


def tiny():
    torch.manual_seed(0)
    return S2AM3D(get_config("test-tiny"))


def test_config_roundtrip_and_registry():
    for name in CONFIGS:
        cfg = get_config(name)
        assert ModelConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="unknown model config"):
        get_config("nope")
    with pytest.raises(CheckpointError):
        ModelConfig.from_json('{"encoder": {"bogus": 1}, "decoder": {}}')


def test_normalize_points_largest_half_extent_is_one():
    pts = np.array([[0, 0, 0], [4, 2, 1], [2, 1, 0.5]], dtype=np.float64) + 10
    norm, center, scale = normalize_points(pts)
    assert np.allclose(norm.max(0)[0], 1) and np.allclose(norm.min(0)[0], -1)
    assert np.allclose(np.abs(norm).max(), 1)
    assert np.allclose(norm * scale + center, pts, atol=1e-5)


@pytest.mark.parametrize("bad,msg", [(np.zeros((0, 3)), "empty"), (np.zeros((5, 2)), "shape"),
                                     (np.array([[0, 0, np.nan]]), "NaN")])
def test_check_points_errors(bad, msg):
    with pytest.raises(InputError, match=msg):
        check_points(bad)


def test_voxelize_devoxelize_constant_field():
    pts = torch.rand(2, 500, 3) * 2 - 1
    feats = torch.ones(2, 500, 4) * torch.tensor([1.0, 2.0, 3.0, 4.0])
    grid = voxelize(pts, feats, 6)
    assert grid.shape == (2, 4, 6, 6, 6)
    # occupied voxels hold the mean feature
    occ = grid[:, 0] > 0
    assert torch.allclose(grid[:, 3][occ], torch.full_like(grid[:, 3][occ], 4.0))
    back = devoxelize(grid, pts)
    assert back.shape == (2, 500, 4)


def test_triplane_lookup_reads_the_right_cells():
    # a feature equal to x on the xy plane only: sampled features must equal x (up to the cell size)
    pts = torch.rand(1, 4000, 3) * 2 - 1
    planes = project_to_planes(pts, pts[..., :1], 32)  # (1, 3, 1, 32, 32): feature = x
    planes[:, 1:] = 0
    out = sample_planes(planes, pts)[0, :, 0]
    assert (out - pts[0, :, 0]).abs().mean() < 0.1


def test_model_shapes_and_padding_clicks():
    m = tiny().eval()
    pts = torch.rand(2, 300, 3) * 2 - 1
    idx = torch.tensor([[3, 7, 0], [5, 0, 0]])
    lab = torch.tensor([[1, 0, -1], [1, -1, -1]])
    scale = torch.tensor([0.2, math.nan])
    out = m(pts, idx, lab, scale)
    assert out.shape == (2, 300) and torch.isfinite(out).all()
    # padding clicks must not change the result
    out2 = m(pts[:1], torch.tensor([[3, 7]]), torch.tensor([[1, 0]]), scale[:1])
    assert torch.allclose(out[:1], out2, atol=1e-5)


def test_scale_changes_output_once_film_is_trained():
    m = tiny().eval()
    torch.nn.init.normal_(m.decoder.film.proj.weight, std=0.5)
    pts = torch.rand(1, 200, 3) * 2 - 1
    idx, lab = torch.tensor([[0]]), torch.tensor([[1]])
    a = m(pts, idx, lab, torch.tensor([0.05]))
    b = m(pts, idx, lab, torch.tensor([0.9]))
    c = m(pts, idx, lab, torch.tensor([math.nan]))
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


def test_contrastive_loss_prefers_label_consistent_features():
    labels = torch.randint(0, 4, (1, 256))
    good = torch.nn.functional.one_hot(labels, 4).float() + 0.01 * torch.randn(1, 256, 4)
    bad = torch.randn(1, 256, 4)
    assert contrastive_loss(good, labels) < contrastive_loss(bad, labels)
    ignored = torch.full((1, 256), -1)
    assert contrastive_loss(bad, ignored).item() == 0.0


def test_mask_loss_balances_small_parts():
    target = torch.zeros(1, 1000)
    target[0, :10] = 1
    all_negative = torch.full((1, 1000), -5.0)
    perfect = torch.where(target > 0, 12.0, -12.0)
    assert mask_loss(perfect, target) < 0.1
    # predicting "nothing" for a 1% part must be penalised heavily despite 99% accuracy
    assert mask_loss(all_negative, target) > 1.0


def test_few_steps_learn_a_mask():
    torch.manual_seed(0)
    m = tiny()
    pts = torch.rand(1, 256, 3) * 2 - 1
    target = (pts[..., 0] > 0.3).float()
    idx = torch.nonzero(target[0])[:1].T
    lab = torch.ones_like(idx)
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    losses = []
    for _ in range(40):
        loss = mask_loss(m(pts, idx, lab, torch.tensor([target.mean().item()])), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_small_normal_is_randn_and_skips_the_fill_on_meta():
    """Initial weights are torch.randn(...) * std (seeded training starts unchanged); the shape-only
    skeleton on the meta device gets no random fill (torch's meta random fills import sympy: seconds)."""
    from s2am3d_core.modeling.init import small_normal

    torch.manual_seed(5)
    a = small_normal(3, 7)
    torch.manual_seed(5)
    assert torch.equal(a, torch.randn(3, 7) * 0.02)
    with torch.device("meta"):
        m = small_normal(2, 4, std=1.0)
        emb = S2AM3D(get_config("test-tiny")).decoder.click_label_embed
    assert m.device.type == "meta" and m.shape == (2, 4)
    assert emb.weight.device.type == "meta" and emb.weight.requires_grad  # trained, not frozen
