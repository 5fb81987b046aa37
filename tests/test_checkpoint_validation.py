"""Weights files: config validated before any allocation, NaN weights refused, clear unreadable errors."""
from __future__ import annotations

import errno
import json

import pytest
import torch
from safetensors.torch import save_file

from s2am3d_core import checkpoint
from s2am3d_core.checkpoint import load_model, save_model
from s2am3d_core.config import get_config
from s2am3d_core.errors import CheckpointError, OutputError
from s2am3d_core.modeling.model import S2AM3D


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    save_model(S2AM3D(get_config("test-tiny")), path)
    return path


def _rewrite(src, dst, config_edit=None, tensor_edit=None):
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(str(src), "pt") as f:
        meta = dict(f.metadata())
    state = load_file(str(src))
    cfg = json.loads(meta["s2am3d_config"])
    if config_edit:
        config_edit(cfg)
    if tensor_edit:
        tensor_edit(state)
    meta["s2am3d_config"] = json.dumps(cfg)
    save_file(state, str(dst), metadata=meta)
    return dst


@pytest.mark.parametrize("edit,msg", [
    (lambda c: c["decoder"].update(heads=5), "decoder.heads=5 does not divide"),
    (lambda c: c["encoder"].update(transformer_heads=3), "does not divide encoder.transformer_dim"),
    (lambda c: c["encoder"].update(patch_size=5), "does not divide encoder.plane_resolution"),
    (lambda c: c["decoder"].update(dim=-16), "decoder.dim=-16 must be in"),
    (lambda c: c["decoder"].update(dim="16"), "must be an integer"),
    (lambda c: c["decoder"].update(layers=True), "must be an integer"),
    (lambda c: c["decoder"].update(mlp_ratio=float("nan")), "mlp_ratio"),
    (lambda c: c["encoder"].update(voxel_channels=[]), "voxel_channels"),
    (lambda c: c["encoder"].update(plane_resolution=2**20), "plane_resolution"),
    (lambda c: c["encoder"].update(transformer_dim=8000, transformer_heads=8), "do not match the model config"),
    (lambda c: c["encoder"].update(feature_dim=4096, plane_resolution=2048, patch_size=4), "tri-plane would hold"),
    (lambda c: c.pop("decoder"), "expected"),
    (lambda c: c["decoder"].update(extra=1), "unexpected keyword"),
])
def test_bad_config_is_refused_before_allocation(tiny, tmp_path, edit, msg):
    bad = _rewrite(tiny, tmp_path / "bad.safetensors", config_edit=edit)
    with pytest.raises(CheckpointError, match=msg) as ei:
        load_model(bad)
    assert str(bad) in str(ei.value)


def test_nan_weights_are_refused(tiny, tmp_path):
    def poison(state):
        k = sorted(state)[0]
        state[k] = torch.full_like(state[k], float("inf"))
    bad = _rewrite(tiny, tmp_path / "nan.safetensors", tensor_edit=poison)
    with pytest.raises(CheckpointError, match="NaN/infinite"):
        load_model(bad)


def test_unreadable_and_folder_weights(tiny, tmp_path, monkeypatch):
    with pytest.raises(CheckpointError, match="is a folder"):
        load_model(tmp_path)

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(tiny))
    monkeypatch.setattr(checkpoint, "open", denied, raising=False)
    with pytest.raises(CheckpointError, match="not readable \\(Permission denied\\)"):
        load_model(tiny)


def test_full_disk_on_save_is_an_output_error(tmp_path, monkeypatch):
    from safetensors import SafetensorError

    def full(*a, **k):
        raise SafetensorError("Error while serializing: IoError(No space left on device)")
    monkeypatch.setattr(checkpoint, "save_file", full)
    with pytest.raises(OutputError, match="out.safetensors: could not write"):
        save_model(S2AM3D(get_config("test-tiny")), tmp_path / "out.safetensors")
    assert list(tmp_path.iterdir()) == []
