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
from .resources import DEFAULT_WEIGHTS_NAME, default_weights_path  # noqa: F401 (public here too)

FORMAT = "s2am3d-model/1"
# the decoder's scale prior correction alpha (a 0-d float32 buffer; calibration, not architecture)
CALIBRATION_TENSOR = "decoder.scale_logit_adjust"
NO_SCALE_OFFSET_TENSOR = "decoder.noscale_logit_offset"  # files written before it: 0 (no offset)
BALL_PRIOR_TENSOR = "decoder.ball_prior_weight"  # files written before it: 0 (no ball prior)
REPO_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


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


def check_readable(path: str | os.PathLike, what: str = "weights file") -> Path:
    """``path`` as a Path when it is a file we can open; CheckpointError saying why not otherwise
    (not found, a folder, permission denied: never a misleading "No such file")."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: {what} not found")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a {what}")
    try:
        with open(path, "rb") as fh:
            fh.read(8)
    except OSError as exc:
        raise CheckpointError(f"{path}: {what} is not readable ({exc.strerror or exc})") from None
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Return the metadata dict of a safetensors file (CheckpointError if unreadable)."""
    path = check_readable(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable .safetensors weights file ({exc})") from exc


def read_tensor_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """{name: shape} of the tensors in a safetensors file, read from its header (no tensor data)."""
    path = check_readable(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable .safetensors weights file ({exc})") from exc


def load_model(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> S2AM3D:
    """Build the model described by a checkpoint and load its weights (strictly).

    The decoder's calibration is the tensors ``decoder.scale_logit_adjust`` (scale prior correction
    alpha), ``decoder.noscale_logit_offset`` and ``decoder.ball_prior_weight``; files written before
    alpha was a tensor carry it as the config field ``decoder.scale_logit_adjust``, which is read into
    that tensor, and files written before the no-scale offset or the ball prior existed load with 0.

    The config is validated and the model is laid out on the ``meta`` device, and its tensor
    names and shapes compared with the file's header, before any memory is allocated; NaN or
    infinite weights are refused.

    Raises:
        CheckpointError: missing/unreadable/corrupt file, not an s2am3d checkpoint, an invalid
            config, tensors that do not match the config (names the missing/unexpected/mis-shaped
            tensors), or non-finite weights.
    """
    path = Path(path) if path is not None else default_weights_path()
    if not path.exists():
        hint = " (set S2AM3D_WEIGHTS or pass --weights)" if path == default_weights_path() else ""
        raise CheckpointError(f"{path}: weights file not found{hint}")
    meta = read_metadata(path)
    if meta.get("format") != FORMAT or "s2am3d_config" not in meta:
        raise CheckpointError(f"{path}: not an s2am3d model checkpoint (metadata format={meta.get('format')!r})")
    try:
        config, legacy_alpha = ModelConfig.parse_json(meta["s2am3d_config"])
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    try:
        with torch.device("meta"):
            skeleton = S2AM3D(config)
    except Exception as exc:  # noqa: BLE001 - a config the model code cannot build
        raise CheckpointError(f"{path}: model config in checkpoint cannot be built ({type(exc).__name__}: "
                              f"{exc})") from None
    shapes = read_tensor_shapes(path)
    legacy = CALIBRATION_TENSOR not in shapes  # written before calibration became a decoder buffer
    if legacy:
        shapes[CALIBRATION_TENSOR] = ()
    elif legacy_alpha is not None:
        raise CheckpointError(f"{path}: holds two calibrations (tensor {CALIBRATION_TENSOR} and the config field "
                              f"decoder.scale_logit_adjust); keep one")
    absent = [name for name in (NO_SCALE_OFFSET_TENSOR, BALL_PRIOR_TENSOR) if name not in shapes]
    for name in absent:
        shapes[name] = ()
    check_shapes({k: tuple(v.shape) for k, v in skeleton.state_dict().items()}, shapes, str(path))
    del skeleton
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: could not read tensors ({exc})") from exc
    if legacy:
        state[CALIBRATION_TENSOR] = torch.tensor(legacy_alpha or 0.0, dtype=torch.float32)
    for name in absent:
        state[name] = torch.zeros((), dtype=torch.float32)
    check_finite(state, str(path))
    model = S2AM3D(config)
    load_state_strict(model, state, str(path))
    try:
        dec = model.decoder
        dec.set_calibration(dec.calibration, dec.no_scale_offset, dec.ball_weight)  # range check
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return model.to(device).eval()


def check_finite(state: dict[str, torch.Tensor], source: str) -> None:
    """CheckpointError naming the first tensor holding NaN or infinite values."""
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            n = int((~torch.isfinite(v)).sum())
            raise CheckpointError(f"{source}: tensor {k} holds {n} NaN/infinite value(s); the weights are broken")


def check_shapes(own: dict[str, tuple[int, ...]], got: dict[str, tuple[int, ...]], source: str) -> None:
    """CheckpointError unless ``got`` has exactly the names and shapes of ``own``."""
    missing = sorted(set(own) - set(got))
    unexpected = sorted(set(got) - set(own))
    shapes = sorted(k for k in set(own) & set(got) if tuple(own[k]) != tuple(got[k]))
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensor(s) e.g. {missing[:3]}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} tensor(s) e.g. {unexpected[:3]}")
        if shapes:
            parts.append("shape mismatch for " + ", ".join(
                f"{k} {tuple(got[k])} vs {tuple(own[k])}" for k in shapes[:3]))
        raise CheckpointError(f"{source}: weights do not match the model config: " + "; ".join(parts))


def load_state_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``module`` requiring the same tensor names and shapes."""
    check_shapes({k: tuple(v.shape) for k, v in module.state_dict().items()},
                 {k: tuple(v.shape) for k, v in state.items()}, source)
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
