"""Session state of the viewer: the shape, clicks, scale, current mask, accepted parts, undo/redo.

No polyscope (and no torch) import: this is plain data plus the rules for changing it, so it is
tested without a window. Every change the user can undo replaces ``SessionState.current`` (an
immutable-by-convention :class:`Snapshot`) and bumps ``revision``; the scale, threshold and the
current mask probabilities are live settings, not history.

Session files are JSON (``format: "s2am3d-session/1"``) holding the shape path and its up axis, a
fingerprint of the model points, clicks, scale, threshold, parts and the per-point labels.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from s2am3d_core.errors import InputError
from s2am3d_core.io.atomic import atomic_path

SESSION_FORMAT = "s2am3d-session/1"
MAX_HISTORY = 200  # undo steps kept (each holds one (N,) int32 label array)

Color = tuple[float, float, float]


@dataclass(frozen=True)
class Part:
    """An accepted part: its label id in ``Snapshot.labels``, a name and an RGB colour in [0, 1]."""

    label: int
    name: str
    color: Color


@dataclass(frozen=True)
class Snapshot:
    """Everything undo/redo restores. Never mutated in place: edits build a new one."""

    labels: np.ndarray                              # (N,) int32 part label per model point, -1 = none
    parts: tuple[Part, ...] = ()
    clicks: tuple[tuple[int, bool], ...] = ()       # (model point index, positive?) in click order
    # an opened labelled file's own labels, kept where edits do not reach (Controller.element_labels):
    # (per face or file point, per model point at opening), in part ids; None = none
    imported: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class ShapeData:
    """The shape the session segments.

    Attributes:
        path: the file it came from.
        points: (N, 3) float32 model points in the file's coordinates (sampled on a mesh,
            the cloud or a subsample of it for a point cloud).
        point_face: (N,) int64 face each sample lies on (mesh), else None.
        vertices: (V, 3) float32 mesh vertices, or all the points of a point cloud.
        faces: (F, 3) int64 triangles, or None for a point cloud.
        up: the file's up axis (coordinates here are Z-up; exports rotate back).
        colors: (V, 3) float32 in [0, 1], the file's own colours of a point cloud's points, or None.
    """

    path: Path
    points: np.ndarray
    point_face: np.ndarray | None
    vertices: np.ndarray
    faces: np.ndarray | None
    up: str = "z"
    colors: np.ndarray | None = None
    _fingerprint: str | None = field(default=None, repr=False)

    @property
    def is_mesh(self) -> bool:
        return self.faces is not None

    @property
    def num_points(self) -> int:
        return int(len(self.points))

    @property
    def fingerprint(self) -> str:
        """Hash of the model points: a session only fits the exact points it was made on."""
        if self._fingerprint is None:
            arr = np.ascontiguousarray(self.points, dtype=np.float32)
            self._fingerprint = hashlib.sha256(arr.tobytes()).hexdigest()[:16]
        return self._fingerprint


class SessionState:
    """Clicks, scale and accepted parts of one shape, with undo/redo of every part/click change.

    Args:
        shape: the shape (model points and, for a mesh, its triangles).
        max_history: undo steps kept.
    """

    def __init__(self, shape: ShapeData, max_history: int = MAX_HISTORY):
        self.shape = shape
        self.current = Snapshot(labels=np.full(shape.num_points, -1, np.int32))
        self.current.labels.setflags(write=False)
        self.scale: float = 0.1          # wanted part size, fraction of the object's points in [0, 1]
        self.use_scale: bool = True      # False = "auto / no scale": the decoder gets no scale prompt
        self.threshold: float = 0.5      # probability above which a point is in the mask
        self._probs: np.ndarray | None = None  # (N,) float32 mask probabilities of the current clicks
        self.probs_revision = 0          # bumped whenever ``probs`` is set
        self.revision = 0                # bumped on every change of ``current`` (display caches key on it)
        self.max_history = max_history
        self._undo: list[Snapshot] = []
        self._redo: list[Snapshot] = []
        self._merge_tag: object = None   # tag of the last commit, for folding e.g. a colour drag into one step

    # ------------------------------------------------------------------ views
    @property
    def num_points(self) -> int:
        return self.shape.num_points

    @property
    def clicks(self) -> list[tuple[int, bool]]:
        return list(self.current.clicks)

    @property
    def positive(self) -> list[int]:
        return [i for i, p in self.current.clicks if p]

    @property
    def negative(self) -> list[int]:
        return [i for i, p in self.current.clicks if not p]

    @property
    def parts(self) -> list[Part]:
        return list(self.current.parts)

    @property
    def labels(self) -> np.ndarray:
        """(N,) int32 accepted part label of every model point (-1 = none). Do not modify."""
        return self.current.labels

    @property
    def effective_scale(self) -> float | None:
        """The scale the decoder gets: ``scale``, or None in auto/no-scale mode."""
        return self.scale if self.use_scale else None

    @property
    def probs(self) -> np.ndarray | None:
        """(N,) float32 mask probabilities of the current clicks, None without a mask."""
        return self._probs

    @probs.setter
    def probs(self, value: np.ndarray | None) -> None:
        if value is not None:
            value = np.asarray(value, dtype=np.float32)
            if value.shape != (self.num_points,):
                raise InputError(f"probabilities have shape {value.shape}, expected ({self.num_points},)")
        self._probs = value
        self.probs_revision += 1

    @property
    def mask(self) -> np.ndarray:
        """(N,) bool current mask; all False without a positive click."""
        if self.probs is None:
            return np.zeros(self.num_points, bool)
        return self.probs > self.threshold

    def part(self, label: int) -> Part:
        for p in self.current.parts:
            if p.label == label:
                return p
        raise InputError(f"no part with label {label}; parts: {[p.label for p in self.current.parts]}")

    # ------------------------------------------------------------------ history
    def _commit(self, snap: Snapshot, merge_tag: object = None) -> None:
        """Make ``snap`` current as one undo step; consecutive commits with the same non-None
        ``merge_tag`` fold into one step."""
        if merge_tag is None or merge_tag != self._merge_tag or not self._undo:
            self._undo.append(self.current)
            del self._undo[:-self.max_history]
        self._redo.clear()
        self._merge_tag = merge_tag
        self._set(snap)

    def _set(self, snap: Snapshot) -> None:
        snap.labels.setflags(write=False)  # snapshots are shared with the undo stacks
        if not any(pos for _, pos in snap.clicks):
            self.probs = None  # no prompt, no mask; otherwise the owner re-decodes (stale until then)
        self.current = snap
        self.revision += 1

    def undo(self) -> bool:
        """Restore the state before the last change. False when there is nothing to undo."""
        if not self._undo:
            return False
        self._redo.append(self.current)
        self._merge_tag = None
        self._set(self._undo.pop())
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.current)
        self._merge_tag = None
        self._set(self._redo.pop())
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    # ------------------------------------------------------------------ edits
    def add_click(self, index: int, positive: bool = True) -> None:
        index = int(index)
        if not 0 <= index < self.num_points:
            raise InputError(f"click index {index} is out of range for a shape of {self.num_points} points")
        self._commit(replace(self.current, clicks=self.current.clicks + ((index, bool(positive)),)))

    def clear_clicks(self) -> bool:
        """Remove every click. False (and no undo step) when there were none."""
        if not self.current.clicks:
            return False
        self._commit(replace(self.current, clicks=()))
        return True

    def next_label(self) -> int:
        return max((p.label for p in self.current.parts), default=-1) + 1

    def accept(self, mask: np.ndarray, name: str, color: Color) -> Part:
        """Label the points of ``mask`` (N,) bool as a new part (painting over earlier parts)
        and clear the clicks. Parts the mask painted over entirely are dropped (a part that never
        held a point, such as a tiny part of an opened file, stays)."""
        mask = np.asarray(mask, bool)
        if mask.shape != (self.num_points,):
            raise InputError(f"mask has shape {mask.shape}, expected ({self.num_points},)")
        label = self.next_label()
        part = Part(label, name or f"part_{label}", _color(color))
        labels = self.current.labels.copy()
        labels[mask] = label
        gone = set(np.unique(self.current.labels).tolist()) - set(np.unique(labels).tolist())
        parts = tuple(p for p in self.current.parts if p.label not in gone) + (part,)
        self._commit(Snapshot(labels=labels, parts=parts, clicks=(), imported=self.current.imported))
        return part

    def _check_new_labels(self, labels: np.ndarray, names: list[str], colors: list[Color]) -> np.ndarray:
        """``labels`` (N,) in -1..K-1 with K names and K colours, as an array; InputError otherwise."""
        labels = np.asarray(labels)
        if labels.shape != (self.num_points,):
            raise InputError(f"labels have shape {labels.shape}, expected ({self.num_points},)")
        if len(names) != len(colors):
            raise InputError(f"got {len(names)} names for {len(colors)} colours")
        if len(labels) and (labels.min() < -1 or labels.max() >= len(names)):
            raise InputError(f"labels must lie in [-1, {len(names)}), got [{labels.min()}, {labels.max()}]")
        return labels

    def set_all(self, labels: np.ndarray, names: list[str], colors: list[Color],
                imported: np.ndarray | None = None) -> None:
        """Replace every part at once (segment all, an opened file): ``labels`` (N,) in 0..K-1, K
        names and colours; ``imported`` (per face or file point) the opened file's own labels in
        the same part ids (:attr:`Snapshot.imported`), else the earlier file's are dropped."""
        labels = self._check_new_labels(labels, names, colors).astype(np.int32)
        parts = tuple(Part(i, str(n), _color(c)) for i, (n, c) in enumerate(zip(names, colors)))
        if imported is not None:  # the point labels at opening are this snapshot's own (frozen) labels
            imported = (np.asarray(imported, np.int64), labels)
            imported[0].setflags(write=False)
        self._commit(Snapshot(labels=labels, parts=parts, clicks=(), imported=imported))

    def add_parts(self, labels: np.ndarray, names: list[str], colors: list[Color]) -> list[Part]:
        """Add K new parts on the still-unlabelled points (segment all keeping accepted parts):
        ``labels`` (N,) in -1..K-1, where a point already in a part must be -1. One undo step;
        the new parts get fresh label ids. Returns them."""
        labels = self._check_new_labels(labels, names, colors)
        if ((labels >= 0) & (self.current.labels >= 0)).any():
            raise InputError("add_parts: new parts may only cover unlabelled points")
        first = self.next_label()
        new = tuple(Part(first + i, str(n), _color(c)) for i, (n, c) in enumerate(zip(names, colors)))
        out = self.current.labels.copy()
        sel = labels >= 0
        out[sel] = labels[sel] + first
        self._commit(Snapshot(labels=out.astype(np.int32), parts=self.current.parts + new, clicks=(),
                              imported=self.current.imported))
        return list(new)

    def forget_history(self) -> None:
        """Drop the undo/redo stacks (after opening a file: its parts are the starting point)."""
        self._undo.clear()
        self._redo.clear()
        self._merge_tag = None

    def delete_part(self, label: int) -> None:
        """Remove a part; its points become unlabelled."""
        self.part(label)
        labels = np.where(self.current.labels == label, -1, self.current.labels).astype(np.int32)
        parts = tuple(p for p in self.current.parts if p.label != label)
        self._commit(replace(self.current, labels=labels, parts=parts))

    def update_part(self, label: int, name: str | None = None, color: Color | None = None,
                    merge: bool = False) -> Part:
        """Rename and/or recolour a part; ``merge`` folds repeated edits of this part (a colour
        picker being dragged) into one undo step."""
        old = self.part(label)
        new = Part(label, old.name if name is None else (str(name) or old.name),
                   old.color if color is None else _color(color))
        if new != old:
            parts = tuple(new if p.label == label else p for p in self.current.parts)
            self._commit(replace(self.current, parts=parts), merge_tag=("part", label) if merge else None)
        return new

    def reset(self) -> None:
        """Remove every part and click (one undo step)."""
        self._commit(Snapshot(labels=np.full(self.num_points, -1, np.int32)))

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        return {
            "format": SESSION_FORMAT,
            "shape": str(Path(self.shape.path).resolve()),
            "up": self.shape.up,
            "num_points": self.num_points,
            "points_fingerprint": self.shape.fingerprint,
            "scale": self.scale,
            "use_scale": self.use_scale,
            "threshold": self.threshold,
            "clicks": [[i, p] for i, p in self.current.clicks],
            "parts": [{"label": p.label, "name": p.name, "color": list(p.color)} for p in self.current.parts],
            "labels": self.current.labels.tolist(),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the session as JSON, atomically."""
        path = Path(path)
        text = json.dumps(self.to_dict(), separators=(",", ":"))
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path

    def load(self, path: str | os.PathLike) -> None:
        """Replace clicks, parts, scale and threshold by a saved session (one undo step).

        Raises:
            InputError: unreadable file, not a session, malformed fields, or a session made on
                other model points (another shape, or another ``--points``).
        """
        try:
            self._load(path)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad file must never crash the viewer
            raise InputError(f"{path}: could not load the session ({type(exc).__name__}: {exc})") from None

    def _load(self, path: str | os.PathLike) -> None:
        data = read_session(path)
        src = Path(path)
        if data["num_points"] != self.num_points or data.get("points_fingerprint", self.shape.fingerprint) \
                != self.shape.fingerprint:
            raise InputError(
                f"{src}: session was made on {data['shape']} with {data['num_points']} model points; the open "
                f"shape is {self.shape.path} with {self.num_points} points (open the session's shape with "
                f"--points {data['num_points']})")
        snap, scale, use_scale, threshold = _parse_session(data, self.num_points, src)
        self.scale, self.use_scale, self.threshold = scale, use_scale, threshold
        self._commit(snap)


MAX_SESSION_BYTES = 512 * 2**20     # a session of 2M points is ~20 MB of JSON
MAX_SESSION_POINTS = 2_000_000       # the tools' --points limit
_LABEL_MAX = 2**31 - 1               # labels are stored as int32


def read_session(path: str | os.PathLike) -> dict:
    """Read a session file and check its envelope (InputError naming the file on any problem,
    including deeply nested or huge JSON)."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_SESSION_BYTES:
            raise InputError(f"{path}: {path.stat().st_size / 2**20:.0f} MB is too large for a session file "
                             f"(limit {MAX_SESSION_BYTES // 2**20} MB)")
        data = json.loads(path.read_text(encoding="utf-8"))
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: session file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a session file") from None
    except RecursionError:
        raise InputError(f"{path}: not a readable session file (JSON nested too deeply)") from None
    except (OSError, UnicodeDecodeError, ValueError, MemoryError) as exc:
        raise InputError(f"{path}: not a readable session file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise InputError(f"{path}: not an s2am3d session file (expected \"format\": \"{SESSION_FORMAT}\")")
    missing = [k for k in ("shape", "num_points", "clicks", "parts", "labels") if k not in data]
    if missing:
        raise InputError(f"{path}: session file lacks {', '.join(repr(k) for k in missing)}")
    n = data["num_points"]
    if not _is_int(n) or not 1 <= n <= MAX_SESSION_POINTS:
        raise InputError(f"{path}: num_points must be an integer in [1, {MAX_SESSION_POINTS}], got {n!r}")
    if not isinstance(data["shape"], str) or not data["shape"] or "\x00" in data["shape"]:
        raise InputError(f"{path}: shape must be a file path (a string), got {str(data['shape'])[:60]!r}")
    fp = data.get("points_fingerprint")
    if fp is not None and not isinstance(fp, str):
        raise InputError(f"{path}: points_fingerprint must be a string, got {fp!r}")
    return data


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _parse_session(data: dict, n: int, src: Path) -> tuple[Snapshot, float, bool, float]:
    """Validate every field's type and range (no silent truncation, wrap-around or truthiness)."""
    def bad(what: str) -> InputError:
        return InputError(f"{src}: {what}")

    raw = data["labels"]
    if not isinstance(raw, list):
        raise bad("labels must be a list of integers")
    if len(raw) != n:
        raise bad(f"labels has {len(raw)} entries, expected {n} (one per model point)")
    if not all(_is_int(x) for x in raw):
        first = next(x for x in raw if not _is_int(x))
        raise bad(f"labels must be integers, found {first!r}")
    labels = np.asarray(raw, dtype=object if any(abs(x) > _LABEL_MAX for x in raw) else np.int64)
    if labels.dtype == object or (n and (labels.min() < -1 or labels.max() > _LABEL_MAX)):
        raise bad(f"labels must lie in [-1, {_LABEL_MAX}]")
    labels = labels.astype(np.int64)
    if not isinstance(data["clicks"], list):
        raise bad("clicks must be a list of [point index, positive] pairs")
    clicks = []
    for c in data["clicks"]:
        if not (isinstance(c, list) and len(c) == 2 and _is_int(c[0]) and isinstance(c[1], bool)):
            raise bad(f"clicks must be a list of [point index, true/false] pairs, found {str(c)[:60]}")
        if not 0 <= c[0] < n:
            raise bad(f"click index {c[0]} is out of range for {n} points")
        clicks.append((int(c[0]), bool(c[1])))
    if not isinstance(data["parts"], list):
        raise bad("parts must be a list of {label, name, color: [r, g, b]}")
    parts = []
    for p in data["parts"]:
        if not (isinstance(p, dict) and _is_int(p.get("label")) and isinstance(p.get("name"), str)
                and isinstance(p.get("color"), list)):
            raise bad(f"parts must be a list of {{label, name, color: [r, g, b]}}, found {str(p)[:60]}")
        if not 0 <= p["label"] <= _LABEL_MAX:
            raise bad(f"part label {p['label']} must lie in [0, {_LABEL_MAX}]")
        if not all(_is_number(x) for x in p["color"]):
            raise bad(f"part {p['label']}: colour {p['color']!r} must be three numbers in [0, 1]")
        try:
            parts.append(Part(p["label"], p["name"][:200], _color(p["color"])))
        except InputError as exc:
            raise bad(f"part {p['label']}: {exc}") from None
    known = {p.label for p in parts}
    if len(known) != len(parts):
        raise bad("two parts share a label")
    unknown = sorted(set(np.unique(labels[labels >= 0]).tolist()) - known)
    if unknown:
        raise bad(f"labels use ids with no part: {unknown[:5]}")
    scale, threshold, use_scale = data.get("scale", 0.1), data.get("threshold", 0.5), data.get("use_scale", True)
    if not _is_number(scale) or not 0.0 <= scale <= 1.0:
        raise bad(f"scale {float(scale) if _is_number(scale) else scale!r} must be a number in [0, 1]")
    if not _is_number(threshold) or not 0.0 < threshold < 1.0:
        raise bad(f"threshold {threshold!r} must be a number strictly between 0 and 1")
    if not isinstance(use_scale, bool):
        raise bad(f"use_scale must be true or false, got {use_scale!r}")
    return (Snapshot(labels=labels.astype(np.int32), parts=tuple(parts), clicks=tuple(clicks)), float(scale),
            use_scale, float(threshold))


def _color(c) -> Color:
    """Validate an RGB triple in [0, 1]."""
    try:
        rgb = tuple(float(x) for x in c)
    except TypeError:
        raise InputError(f"colour {c!r} is not an (r, g, b) triple") from None
    if len(rgb) != 3 or not all(math.isfinite(x) and 0.0 <= x <= 1.0 for x in rgb):
        raise InputError(f"colour {c!r} must be three numbers in [0, 1]")
    return rgb  # type: ignore[return-value]
