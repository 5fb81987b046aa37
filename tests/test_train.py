"""Training loop units: losses go down, checkpoints resume exactly, data helpers."""
import numpy as np
import torch
from safetensors.torch import load_file

from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.modeling import S2AM3D, contrastive_loss, mask_loss
from s2am3d_core.train import cli
from s2am3d_core.data.prompts import collate_prompts, sample_prompt
from s2am3d_core.data.sampling import mesh_to_points
from s2am3d_core.train.data import augment, level_stack

torch.set_num_threads(1)


def _items(n=3, points=256):
    return [mesh_to_points(m, points, seed=i) for i, m in enumerate(procedural.generate_many(n, seed=5))]


def test_encoder_steps_reduce_contrastive_loss():
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny"))
    items = _items()
    pts = torch.from_numpy(np.stack([it.points for it in items]))
    labels = torch.from_numpy(level_stack([it.labels for it in items]))
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731  same point subsets every time

    def loss():
        f = model.encode(pts)
        return torch.stack([contrastive_loss(f, lab, max_points=128, generator=g()) for lab in labels]).mean()

    opt = torch.optim.AdamW(model.encoder.parameters(), lr=3e-3)
    first = loss().item()
    for _ in range(15):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < first - 0.05


def test_decoder_steps_reduce_mask_loss():
    torch.manual_seed(0)
    model = S2AM3D(get_config("test-tiny"))
    items = _items()
    rng = np.random.default_rng(0)
    b = collate_prompts([sample_prompt(it.labels, rng) for it in items], 5)
    idx, lab, scale, target = b["click_idx"], b["click_label"], b["scale"], b["target"]
    pts = torch.from_numpy(np.stack([it.points for it in items]))
    with torch.no_grad():
        feats = model.encode(pts)
    opt = torch.optim.AdamW(model.decoder.parameters(), lr=3e-3)
    loss = lambda: mask_loss(model.decode(feats, pts, idx, lab, scale), target)  # noqa: E731
    first = loss().item()
    for _ in range(20):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < first - 0.1


def test_augment_keeps_normalisation():
    p = _items(1)[0].points
    q = augment(p, np.random.default_rng(0))
    assert q.shape == p.shape and q.dtype == np.float32
    assert np.isclose(np.abs(q).max(), 1.0, atol=1e-4)


def _args(stage, out, *extra):
    base = [stage, "--procedural", "4", "--config", "test-tiny", "--points", "256", "--batch-size", "2",
            "--steps", "4", "--out", str(out), "--num-workers", "1", "--quiet", "--save-every", "1"]
    return base + list(extra)


def test_resume_continues_exactly(tmp_path):
    assert cli.main(_args("encoder", tmp_path / "a")) == 0
    assert cli.main(_args("encoder", tmp_path / "b", "--stop-at", "2")) == 0
    assert cli.main(_args("encoder", tmp_path / "b", "--resume")) == 0
    a, b = load_file(str(tmp_path / "a/model.safetensors")), load_file(str(tmp_path / "b/model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    state = torch.load(tmp_path / "b/checkpoint.pt", weights_only=True)
    assert state["step"] == 4
    for k, v in state["model"].items():  # weights and optimiser state live in one file, same step
        assert torch.equal(v, b[k]), k
    # decoder resume too
    assert cli.main(_args("decoder", tmp_path / "da", "--encoder", str(tmp_path / "a"))) == 0
    assert cli.main(_args("decoder", tmp_path / "db", "--encoder", str(tmp_path / "a"), "--stop-at", "3")) == 0
    assert cli.main(_args("decoder", tmp_path / "db", "--encoder", str(tmp_path / "a"), "--resume")) == 0
    a, b = load_file(str(tmp_path / "da/model.safetensors")), load_file(str(tmp_path / "db/model.safetensors"))
    for k in a:
        assert torch.equal(a[k], b[k]), k
