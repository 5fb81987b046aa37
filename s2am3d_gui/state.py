"""Session state of the viewer: clicks, scale, accepted parts, undo/redo. No polyscope import."""
from __future__ import annotations

import copy
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from s2am3d_core.errors import InputError
from s2am3d_core.io.atomic import atomic_path

SESSION_FORMAT = "s2am3d-session/1"


@dataclass
class Part:
    """An accepted part: a label id, a name and an RGB colour in [0, 1]."""

    label: int
    name: str
    color: tuple[float, float, float]


@dataclass
class Snapshot:
    """Everything undo/redo restores."""

    labels: np.ndarray                      # (N,) int64 accepted part label per point, -1 = none
    parts: list[Part] = field(default_factory=list)
    clicks: list[tuple[int, bool]] = field(default_factory=list)  # (point index, positive?)


class SessionState:
    """Clicks, scale and accepted parts of one shape, with undo/redo of every change."""

    def __init__(self, num_points: int):
        self.num_points = num_points
        self.current = Snapshot(labels=np.full(num_points, -1, np.int64))
        self.scale: float = 0.1
        self.use_scale: bool = True
        self.threshold: float = 0.5
        self._undo: list[Snapshot] = []
        self._redo: list[Snapshot] = []

    # ------------------------------------------------------------------ history
    def _push(self) -> None:
        self._undo.append(copy.deepcopy(self.current))
        self._redo.clear()

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.current)
        self.current = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.current)
        self.current = self._redo.pop()
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    # ------------------------------------------------------------------ edits
    @property
    def clicks(self) -> list[tuple[int, bool]]:
        return self.current.clicks

    @property
    def parts(self) -> list[Part]:
        return self.current.parts

    @property
    def labels(self) -> np.ndarray:
        return self.current.labels

    def add_click(self, index: int, positive: bool = True) -> None:
        self._push()
        self.current.clicks.append((int(index), bool(positive)))

    def clear_clicks(self) -> None:
        if self.current.clicks:
            self._push()
            self.current.clicks = []

    def accept(self, mask: np.ndarray, name: str, color: tuple[float, float, float]) -> Part:
        """Label the points of ``mask`` (N,) bool as a new part (over earlier parts) and clear clicks."""
        self._push()
        label = max((p.label for p in self.current.parts), default=-1) + 1
        part = Part(label, name or f"part_{label}", tuple(float(c) for c in color))
        self.current.labels = self.current.labels.copy()
        self.current.labels[mask] = label
        self.current.parts.append(part)
        self.current.clicks = []
        self._drop_empty_parts()
        return part

    def set_all(self, labels: np.ndarray, names: list[str], colors: list[tuple[float, float, float]]) -> None:
        """Replace every part at once (segment all)."""
        self._push()
        self.current = Snapshot(labels=np.asarray(labels, np.int64).copy(),
                                parts=[Part(i, n, tuple(c)) for i, (n, c) in enumerate(zip(names, colors))])

    def delete_part(self, label: int) -> None:
        self._push()
        self.current.labels = np.where(self.current.labels == label, -1, self.current.labels)
        self.current.parts = [p for p in self.current.parts if p.label != label]

    def rename_part(self, label: int, name: str) -> None:
        self._push()
        for p in self.current.parts:
            if p.label == label:
                p.name = name

    def reset(self) -> None:
        self._push()
        self.current = Snapshot(labels=np.full(self.num_points, -1, np.int64))

    def _drop_empty_parts(self) -> None:
        present = set(np.unique(self.current.labels).tolist())
        self.current.parts = [p for p in self.current.parts if p.label in present]

    # ------------------------------------------------------------------ files
    def to_dict(self, shape_path: str, num_samples: int) -> dict:
        return {"format": SESSION_FORMAT, "shape": shape_path, "num_points": self.num_points,
                "num_samples": num_samples, "scale": self.scale, "use_scale": self.use_scale,
                "threshold": self.threshold, "clicks": self.current.clicks,
                "parts": [asdict(p) for p in self.current.parts], "labels": self.current.labels.tolist()}

    def save(self, path: str | os.PathLike, shape_path: str, num_samples: int) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(shape_path, num_samples)))
        return path

    @staticmethod
    def read(path: str | os.PathLike) -> dict:
        """Read and validate a session file (InputError naming the file on any problem)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise InputError(f"{path}: session file not found") from None
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a readable session file ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
            raise InputError(f"{path}: not an s2am3d session (expected format {SESSION_FORMAT!r})")
        for key in ("shape", "num_points", "clicks", "parts", "labels"):
            if key not in data:
                raise InputError(f"{path}: session file lacks {key!r}")
        return data

    def load_dict(self, data: dict, source: str) -> None:
        if data["num_points"] != self.num_points or len(data["labels"]) != self.num_points:
            raise InputError(f"{source}: session was saved for {data['num_points']} points, "
                             f"the current shape has {self.num_points}")
        labels = np.asarray(data["labels"], np.int64)
        clicks = [(int(i), bool(p)) for i, p in data["clicks"]]
        if any(not 0 <= i < self.num_points for i, _ in clicks):
            raise InputError(f"{source}: session has a click index out of range")
        self._push()
        self.current = Snapshot(labels=labels, clicks=clicks,
                                parts=[Part(int(p["label"]), str(p["name"]), tuple(p["color"])) for p in data["parts"]])
        self.scale = float(data.get("scale", self.scale))
        self.use_scale = bool(data.get("use_scale", self.use_scale))
        self.threshold = float(data.get("threshold", self.threshold))
