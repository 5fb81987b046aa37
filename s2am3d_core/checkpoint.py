"""Model weights as .safetensors files that carry their own config (JSON metadata)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from .config import ModelConfig
from .errors import CheckpointError
from .io.atomic import atomic_path
from .modeling.model import S2AM3D
from .resources import weights_path

FORMAT = "s2am3d-model/1"
DEFAULT_WEIGHTS_NAME = "s2am3d-small.safetensors"
REPO_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def default_weights_path() -> Path:
    """$S2AM3D_WEIGHTS if set, else the shipped ``models/s2am3d-small.safetensors``."""
    env = os.environ.get("S2AM3D_WEIGHTS")
    return Path(env) if env else weights_path(DEFAULT_WEIGHTS_NAME)


def save_model(model: S2AM3D, path: str | os.PathLike, extra_metadata: dict[str, str] | None = None) -> Path:
    """Write ``model``'s weights and config to ``path`` atomically. Returns the path."""
    meta = {"format": FORMAT, "s2am3d_config": model.config.to_json()}
    for k, v in (extra_metadata or {}).items():
        meta[str(k)] = v if isinstance(v, str) else json.dumps(v)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Return the metadata dict of a safetensors file (CheckpointError if unreadable)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable .safetensors weights file ({exc})") from exc


def load_model(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> S2AM3D:
    """Build the model described by a checkpoint and load its weights (strictly).

    Raises:
        CheckpointError: missing/corrupt file, not an s2am3d checkpoint, or tensors that do not
            match the config (names the missing/unexpected/mis-shaped tensors).
    """
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        hint = " (set S2AM3D_WEIGHTS or pass --weights)" if path == default_weights_path() else ""
        raise CheckpointError(f"{path}: weights file not found{hint}")
    meta = read_metadata(path)
    if meta.get("format") != FORMAT or "s2am3d_config" not in meta:
        raise CheckpointError(f"{path}: not an s2am3d model checkpoint (metadata format={meta.get('format')!r})")
    config = ModelConfig.from_json(meta["s2am3d_config"])
    model = S2AM3D(config)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: could not read tensors ({exc})") from exc
    load_state_strict(model, state, str(path))
    model.weights_id = file_sha256(path)[:16]
    return model.to(device).eval()


def load_state_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``module`` requiring the same tensor names and shapes."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensor(s) e.g. {missing[:3]}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} tensor(s) e.g. {unexpected[:3]}")
        if shapes:
            parts.append("shape mismatch for " + ", ".join(
                f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in shapes[:3]))
        raise CheckpointError(f"{source}: weights do not match the model config: " + "; ".join(parts))
    module.load_state_dict(state, strict=True)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def module_fingerprint(module: torch.nn.Module) -> str:
    """Hash of a module's tensors: identifies the weights whose features a cache entry holds."""
    h = hashlib.sha256()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().to("cpu").contiguous().float().numpy().tobytes())
    return h.hexdigest()[:16]
