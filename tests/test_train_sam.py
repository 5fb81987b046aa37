"""SAM distillation without SAM: ray-cast renderer, mask -> point mapping, and the error paths."""
import importlib.util

import numpy as np
import pytest
import trimesh

from s2am3d_core.errors import InputError
from s2am3d_core.train import cli
from s2am3d_core.train.sam_distill import (TORCHVISION_MSG, load_sam, masks_to_labels, pseudo_labels, render,
                                           visible_pixels)

HAS_TV = importlib.util.find_spec("torchvision") is not None


def _cube():
    m = trimesh.creation.box(extents=(2, 2, 2))
    return np.asarray(m.vertices, np.float32), np.asarray(m.faces, np.int64)


def test_render_cube_depth_and_visibility():
    v, f = _cube()
    view = render(v, f, np.array([1.0, 0, 0]), res=32)
    assert view["image"].shape == (32, 32, 3) and view["image"].dtype == np.uint8
    d = view["depth"]
    assert np.allclose(d[10:22, 10:22], 2.0, atol=1e-6)      # front face x = 1 at distance 3 - 1
    assert np.isinf(d[0, 0])                                  # corner outside the cube (extent 1.15)
    pts = np.array([[1.0, 0.1, 0.2], [-1.0, 0.1, 0.2], [1.0, 0.9, 0.9]], np.float32)
    pix = visible_pixels(pts, view)
    assert pix[0] >= 0 and pix[1] == -1 and pix[2] >= 0      # back face hidden
    assert pix[0] != pix[2]


def test_masks_map_back_to_visible_points():
    v, f = _cube()
    pts = trimesh.Trimesh(v, f).sample(2000, seed=0).astype(np.float32)

    def left_half(image):                                      # synthetic "SAM": two masks
        fg = image.sum(-1) > 0
        left = np.zeros_like(fg)
        left[:, : image.shape[1] // 2] = True
        return np.stack([fg, fg & left])

    lab = pseudo_labels(v, f, pts, left_half, views=3, res=48, seed=1)
    assert lab.shape == (3, 2000)
    for k in range(3):
        seen = lab[k] >= 0
        assert 0.2 < seen.mean() < 0.8                         # about the half of the surface facing the camera
        assert set(np.unique(lab[k][seen])) == {0, 1}          # the smaller mask wins where they overlap
    # direct mapping
    masks = np.zeros((2, 4, 4), bool)
    masks[0] = True
    masks[1, 0, 0] = True
    assert masks_to_labels(masks, np.array([0, 5, -1])).tolist() == [1, 0, -1]
    # the views come from the seed: the same seed gives the same labels, another seed other views
    assert np.array_equal(pseudo_labels(v, f, pts, left_half, views=3, res=48, seed=1), lab)
    assert not np.array_equal(pseudo_labels(v, f, pts, left_half, views=3, res=48, seed=2), lab)


def test_sam_errors(tmp_path, capsys):
    with pytest.raises(InputError, match="file not found"):
        load_sam(tmp_path / "missing.pth")
    ck = tmp_path / "sam_vit_b.pth"
    ck.write_bytes(b"not a checkpoint")
    if not HAS_TV:
        with pytest.raises(InputError) as e:
            load_sam(ck)
        assert str(e.value) == TORCHVISION_MSG
        code = cli.main(["encoder", "--procedural", "2", "--config", "test-tiny", "--points", "128", "--steps", "1",
                         "--out", str(tmp_path / "r"), "--sam-checkpoint", str(ck), "--quiet"])
        assert code == 2
        assert "error: --sam-checkpoint needs torchvision" in capsys.readouterr().err
    else:  # with torchvision: a corrupt checkpoint is a clear CheckpointError
        with pytest.raises(ValueError, match="not a readable segment-anything"):
            load_sam(ck)


def test_encoder_with_synthetic_sam(tmp_path, monkeypatch):
    """The whole --sam-checkpoint training path, with a fake mask generator in place of SAM."""
    import s2am3d_core.train.sam_distill as sd

    def fake_load_sam(checkpoint, model_type="vit_b", device="cpu"):
        def mask_fn(image):
            fg = image.sum(-1) > 0
            top = np.zeros_like(fg)
            top[: image.shape[0] // 2] = True
            return np.stack([fg & top, fg & ~top])
        return mask_fn

    monkeypatch.setattr(sd, "load_sam", fake_load_sam)
    ck = tmp_path / "sam.pth"
    ck.write_bytes(b"x")
    out = tmp_path / "r"
    code = cli.main(["encoder", "--procedural", "4", "--config", "test-tiny", "--points", "256", "--batch-size", "2",
                     "--steps", "2", "--out", str(out), "--sam-checkpoint", str(ck), "--sam-views", "1", "--quiet", "--realism", "0",
                     "--num-workers", "1"])
    assert code == 0 and (out / "model.safetensors").is_file()


def test_sam_views_become_extra_label_levels():
    """with_sam_levels appends one label level per view (no attribute attached to the items), and the
    encoder batches train on those levels."""
    from s2am3d_core.data.sampling import mesh_to_points
    from s2am3d_core.data import procedural
    from s2am3d_core.train.config import TrainConfig
    from s2am3d_core.train.trainer import encoder_batch, with_sam_levels

    def halves(image):
        fg = image.sum(-1) > 0
        top = np.zeros_like(fg)
        top[: image.shape[0] // 2] = True
        return np.stack([fg & top, fg & ~top])

    items = [mesh_to_points(procedural.generate("table", s), 256, seed=s) for s in (0, 1)]
    items = [type(it)(it.points, it.labels, f"table_{s}", "table") for s, it in zip((0, 1), items)]
    cfg = TrainConfig(stage="encoder", procedural=2, realism=0.0, sam_views=2, points=256, batch_size=2,
                      level_mode="mean", augment=False)
    out = with_sam_levels(items, halves, cfg)
    assert [len(o.labels) for o in out] == [len(it.labels) + 2 for it in items]
    assert all(np.array_equal(o.labels[:len(it.labels)], it.labels) for o, it in zip(out, items))
    assert not hasattr(out[0], "sam") and all((o.labels[-1] >= 0).any() for o in out)
    _, labels = encoder_batch(out, np.random.default_rng(0), cfg)
    assert labels.shape[0] == max(len(o.labels) for o in out)  # the SAM levels are in the batch
