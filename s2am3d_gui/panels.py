"""The ImGui panel, mouse and keyboard handling of the viewer. Every action calls the Controller.

Model work (decoding, segment all) runs on a :class:`~s2am3d_gui.worker.Worker` thread so the window
keeps drawing: while the scale slider is dragged at most one decode waits, always with the newest
value, and the mask follows as fast as the decoder allows. ``background=False`` runs the same jobs
inline instead (at most one decode per frame; used for scripted screenshots).

Mouse: a left click on the shape (press and release without dragging, so rotating the view never
clicks) adds a positive click; shift+click or a right click a negative one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .commands import MIN_STEP_SCALE, SCALE_STEP, SHORTCUTS, CommandsMixin
from .controller import Controller, part_color
from .drawing import CLICK_SLOP_PX, MAX_PART_ROWS, PANEL_WIDTH, DrawingMixin, fit_text
from .jobs import JobsMixin
from .scene import Scene
from .worker import Worker

__all__ = ["Panel", "fit_text", "PANEL_WIDTH", "MAX_PART_ROWS", "CLICK_SLOP_PX", "SCALE_STEP", "MIN_STEP_SCALE",
           "SHORTCUTS"]


class Panel(JobsMixin, CommandsMixin, DrawingMixin):
    """Draws the control panel every frame and turns input into Controller calls.

    Job dispatch: :mod:`.jobs`; commands and keymap: :mod:`.commands`; drawing and input: :mod:`.drawing`.

    Args:
        ctl: the controller of the open shape.
        scene: its polyscope structures.
        out_stem: default stem of exported files (``<stem>_labelled.ply``, ``<stem>_parts/``, ...).
        background: run decodes / segment all on a worker thread (True) or inline (False).
    """

    def __init__(self, ctl: Controller, scene: Scene, out_stem: str | Path, background: bool = True):
        self.ctl, self.scene = ctl, scene
        self.worker: Worker | None = Worker() if background else None
        stem = Path(out_stem)
        # outputs: file / folder names inside ``out_dir`` (an absolute name is used as it is)
        self.out_dir = str(stem.parent.expanduser().resolve()) if str(stem.parent) not in ("", ".") \
            else str(Path.cwd())
        self.export_path = f"{stem.name}_labelled.ply"
        if self.output(self.export_path) == Path(str(ctl.shape.path)).resolve():  # reopened export
            self.export_path = f"{stem.name}_edited.ply"
        self.parts_dir = f"{stem.name}_parts"
        if self.output(self.parts_dir) == Path(str(ctl.shape.path)).resolve():  # reopened part folder
            self.parts_dir = f"{stem.name}_parts_edited"
        self.session_path = f"{stem.name}.session.json"
        self.part_name = ""
        self.part_color = part_color(ctl.state.next_label())
        self._color_edited = False
        self.granularity = 0.05
        self.num_prompts = 64              # as s2am3d-segment --auto
        self.keep_parts = True             # segment all labels only what is unlabelled
        self.preview = True                # slider preview from a background scale sweep
        self.showing_preview = False       # the mask shown is a preview awaiting its exact decode
        self.exact_applied = 0             # exact decodes shown so far
        self.show_help = False
        self.pending: tuple[str, Path, Callable[[], Any]] | None = None  # (what, path, action) awaiting "replace?"
        n_parts = len(ctl.state.parts)
        opened = f"; {n_parts} parts" if n_parts else ""
        self.status = f"{ctl.features_text}{opened}; click the shape"
        self.status_is_error = False
        self._inline_decode = False        # background=False: decode once, at the end of the frame
        self._press: dict[int, tuple[float, float] | None] = {0: None, 1: None}
        self._rename: dict[int, str] = {}  # part label -> name being edited

