"""On-disk caches: encoder features (a shape is encoded once across sessions) and generated data.

Both live under the platformdirs user cache folder (``~/.cache/s2am3d`` on Linux): features in
``features/`` (or ``$S2AM3D_CACHE_DIR``), procedural training data in ``procedural/`` (or
``$S2AM3D_CACHE_DIR/procedural``). A cache is only ever a shortcut:

* every entry is validated when read (a format version, the expected keys, shapes and dtypes,
  finite values); a bad entry is deleted and the result recomputed;
* a failed write (full disk, read-only folder) is a one-line warning and the run goes on
  without the cache;
* the feature cache is bounded (``$S2AM3D_CACHE_MAX_MB``, default 2048 MB): the least recently
  used entries are evicted first.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from platformdirs import user_cache_dir

from .io.atomic import atomic_path, clean_stale_temps

FEATURES_FORMAT = "s2am3d-features/1"
DEFAULT_MAX_MB = 2048


def cache_root() -> Path:
    """Folder of all s2am3d caches: the platformdirs user cache folder for "s2am3d"."""
    return Path(user_cache_dir("s2am3d"))


def default_cache_dir() -> Path:
    """Feature cache folder: ``$S2AM3D_CACHE_DIR`` or ``<user cache>/features``."""
    env = os.environ.get("S2AM3D_CACHE_DIR")
    return Path(env) if env else cache_root() / "features"


def procedural_cache_dir() -> Path:
    """Procedural-data cache folder: ``$S2AM3D_CACHE_DIR/procedural`` or ``<user cache>/procedural``."""
    env = os.environ.get("S2AM3D_CACHE_DIR")
    return (Path(env) if env else cache_root()) / "procedural"


def _max_bytes() -> int:
    env = os.environ.get("S2AM3D_CACHE_MAX_MB")
    try:
        mb = float(env) if env else DEFAULT_MAX_MB
    except ValueError:
        warn(f"$S2AM3D_CACHE_MAX_MB={env!r} is not a number; using {DEFAULT_MAX_MB} MB")
        mb = DEFAULT_MAX_MB
    return max(0, int(mb * 2**20))


def warn(message: str) -> None:
    """A one-line ``warning: ...`` on stderr (caches never stop a run)."""
    sys.stderr.write(f"warning: {message}\n")
    sys.stderr.flush()


def write_failure(exc: BaseException) -> str:
    """The reason of a failed cache write, without repeating the path an OutputError already names."""
    text = str(exc)
    marker = ": could not write "
    if marker not in text:
        return f"{type(exc).__name__}: {text}"
    reason = text.split(marker, 1)[1]
    return reason[1:-1] if reason.startswith("(") and reason.endswith(")") else reason


def points_key(points: np.ndarray) -> str:
    """Content hash of an (N, 3) float32 array."""
    arr = np.ascontiguousarray(points, dtype=np.float32)
    return hashlib.sha256(arr.tobytes() + str(arr.shape).encode()).hexdigest()[:32]


def check_arrays(arrays: Mapping[str, np.ndarray], spec: Mapping[str, tuple[tuple[int | None, ...], str]]) -> str | None:
    """Why ``arrays`` does not match ``spec`` ({key: (shape with None = any, dtype kind 'f'/'i'/'U'/'b')}),
    or None when it does. Floating arrays must be finite. Extra or missing keys are a mismatch."""
    if set(arrays) != set(spec):
        return f"keys {sorted(arrays)} != expected {sorted(spec)}"
    for key, (shape, kind) in spec.items():
        a = arrays[key]
        if a.dtype.kind != kind and not (kind == "i" and a.dtype.kind == "u"):
            return f"{key}: dtype {a.dtype} (expected kind {kind!r})"
        if len(a.shape) != len(shape) or any(s is not None and s != t for s, t in zip(shape, a.shape)):
            return f"{key}: shape {tuple(a.shape)} (expected {shape})"
        if kind == "f" and not np.isfinite(a).all():
            return f"{key}: holds NaN or infinite values"
    return None


class BoundedFolder:
    """A cache folder of ``*<suffix>`` entries bounded in size: least recently used entries go first.

    Args:
        directory: the folder.
        max_bytes: size bound (default ``$S2AM3D_CACHE_MAX_MB``).
    """

    suffix = ""

    def __init__(self, directory: str | os.PathLike, max_bytes: int | None = None):
        self.directory = Path(directory)
        self.max_bytes = _max_bytes() if max_bytes is None else int(max_bytes)
        self._write_warned = False

    def entries(self) -> list[Path]:
        """Cache files, least recently used first."""
        try:
            files = [p for p in self.directory.glob(f"*{self.suffix}") if p.is_file()]
        except OSError:
            return []
        def mtime(p: Path) -> float:
            try:
                return p.stat().st_mtime
            except OSError:
                return 0.0
        return sorted(files, key=mtime)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Delete least recently used entries until the cache fits ``max_bytes``; also removes
        leftovers of killed writes. Returns the deleted entries."""
        clean_stale_temps(self.directory)
        files = self.entries()
        sizes = {}
        for p in files:
            try:
                sizes[p] = p.stat().st_size
            except OSError:
                sizes[p] = 0
        total, removed = sum(sizes.values()), []
        for p in files:
            if total <= self.max_bytes:
                break
            if keep is not None and p == keep:
                continue
            try:
                p.unlink()
            except OSError:
                continue
            total -= sizes[p]
            removed.append(p)
        return removed

    def drop(self, path: Path, problem: str, what: str) -> None:
        """Delete a bad entry; a warning names it unless it is only of an older format version."""
        if not problem.startswith("format "):
            warn(f"{what} cache: {path}: {problem}; deleted, the result is recomputed")
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass

    def touch(self, path: Path) -> None:
        """Mark an entry most recently used (evicted last)."""
        try:
            os.utime(path)
        except OSError:
            pass

    def write_failed(self, path: Path, exc: BaseException, what: str) -> None:
        """One warning per cache object for a failed write; the run goes on without the cache."""
        if not self._write_warned:
            warn(f"{what} cache: could not write {path} ({write_failure(exc)}); continuing without the cache")
            self._write_warned = True


class FeatureCache(BoundedFolder):
    """get/put of encoder tensors (e.g. the tri-planes) by (points hash, weights fingerprint).

    Entries are float16 safetensors files ``<points hash>-<weights id>.safetensors`` with their
    format, key and weights id in the metadata.

    Args:
        directory: cache folder (default :func:`default_cache_dir`).
        max_bytes: size bound; least recently used entries go first (default ``$S2AM3D_CACHE_MAX_MB``).
    """

    suffix = ".safetensors"

    def __init__(self, directory: str | os.PathLike | None = None, max_bytes: int | None = None):
        super().__init__(directory if directory is not None else default_cache_dir(), max_bytes)

    def path_for(self, points_hash: str, weights_id: str) -> Path:
        return self.directory / f"{points_hash}-{weights_id}.safetensors"

    def get(self, points_hash: str, weights_id: str,
            expected: Mapping[str, tuple[int, ...]] | None = None) -> dict[str, torch.Tensor] | None:
        """The cached tensors as float32, or None on a miss.

        Args:
            expected: {name: shape} the entry must hold exactly; without it, any non-empty set.

        A bad entry (unreadable, other key or weights, other names or shapes, non-float16, NaN/inf
        values) is deleted, with a warning, and treated as a miss; an entry of another format
        version (an older s2am3d) is replaced without a warning.
        """
        path = self.path_for(points_hash, weights_id)
        if not path.is_file():
            return None
        try:
            tensors, meta = _read_safetensors(path)
            problem = _entry_problem(tensors, meta, points_hash, weights_id, expected)
        except Exception as exc:  # noqa: BLE001 - any unreadable entry is a miss, never a failure
            problem = f"unreadable ({type(exc).__name__}: {exc})"
        if problem is not None:
            self.drop(path, problem, "feature")  # an entry of an older version: replaced silently
            return None
        self.touch(path)
        return {k: v.float() for k, v in tensors.items()}

    def put(self, points_hash: str, weights_id: str, tensors: dict[str, torch.Tensor]) -> Path | None:
        """Store tensors as float16 (atomically), then evict old entries beyond the size bound.

        Returns the path, or None when the entry could not be written (full disk, read-only
        folder, values that do not fit float16): a warning, never an error.
        """
        from safetensors.torch import save_file

        path = self.path_for(points_hash, weights_id)
        half = {k: v.detach().cpu().half().contiguous() for k, v in tensors.items()}
        if not all(bool(torch.isfinite(v).all()) for v in half.values()):
            warn("feature cache: features do not fit float16; not cached")
            return None
        meta = {"format": FEATURES_FORMAT, "points_key": points_hash, "weights_id": weights_id}
        try:
            with atomic_path(path, fsync=False) as tmp:
                save_file(half, str(tmp), metadata=meta)
        except Exception as exc:  # noqa: BLE001 - a cache write never stops the run
            self.write_failed(path, exc, "feature")
            return None
        self.evict(keep=path)
        return path


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return tensors, meta


def _entry_problem(tensors: dict[str, torch.Tensor], meta: dict[str, str], points_hash: str, weights_id: str,
                   expected: Mapping[str, tuple[int, ...]] | None) -> str | None:
    if meta.get("format") != FEATURES_FORMAT:
        return f"format {meta.get('format')!r} is not {FEATURES_FORMAT!r}"
    if meta.get("points_key") != points_hash or meta.get("weights_id") != weights_id:
        return "the entry belongs to another shape or other weights"
    if not tensors:
        return "holds no tensors"
    if expected is not None:
        if set(tensors) != set(expected):
            return f"tensors {sorted(tensors)} != expected {sorted(expected)}"
        for k, shape in expected.items():
            if tuple(tensors[k].shape) != tuple(shape):
                return f"{k}: shape {tuple(tensors[k].shape)} != expected {tuple(shape)}"
    for k, v in tensors.items():
        if v.dtype != torch.float16:
            return f"{k}: dtype {v.dtype} is not float16"
        if not bool(torch.isfinite(v).all()):
            return f"{k}: holds NaN or infinite values"
    return None
