"""The panel's commands (click, scale, accept, undo, segment all, export, sessions) and the keymap.
Every command calls the Controller; none draws."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polyscope as ps

from .scene import SHAPE

SCALE_STEP = 1.25            # [ and ] divide / multiply the scale by this
MIN_STEP_SCALE = 0.002       # ] from 0 jumps here


def share_text(share: float) -> str:
    """A share of the shape as the panel shows it: "12.3 %", or "<0.1 %" for a speck."""
    return "<0.1 %" if 0.0 < share < 0.0005 else f"{100.0 * share:.1f} %"


SHORTCUTS: list[tuple[str, str]] = [
    ("click", "positive click on the shape"),
    ("shift+click / right click", "negative click"),
    ("drag", "rotate (left), pan (right / shift), zoom (wheel)"),
    ("[  ]", "scale down / up"),
    ("N", "toggle auto (no scale)"),
    ("P", "toggle points-only masks (default: masks on atoms)"),
    ("A", "accept the mask as a part"),
    ("C", "clear the clicks"),
    ("Z  or  Ctrl+Z", "undo"),
    ("Y  or  Ctrl+Shift+Z", "redo"),
    ("S", "segment all at the granularity slider"),
    ("E", "export the labelled PLY"),
    ("H", "show / hide this help"),
]


class CommandsMixin:
    """Commands and shortcuts of :class:`~s2am3d_gui.panels.Panel`."""

    def on_click(self, screen_xy, negative: bool = False) -> bool:
        """Pick at screen coordinates; a hit on the shape becomes a click. True if it did."""
        hit = ps.pick(screen_coords=tuple(float(v) for v in screen_xy))
        if not hit.is_hit or hit.structure_name != SHAPE:
            return False
        data = hit.structure_data
        return self.click_pick(hit.position, data.get("element_type"), data.get("index"), negative)

    def click_near(self, screen_xy, negative: bool = False, max_radius: float = 120.0) -> bool:
        """Click the shape at ``screen_xy`` or, if that misses, at the nearest hit on rings around it
        (scripted clicks: the window centre may fall between a chair's legs)."""
        x, y = screen_xy
        if self.on_click((x, y), negative):
            return True
        for r in np.arange(8.0, max_radius + 1, 8.0):
            for a in np.linspace(0, 2 * np.pi, max(8, int(r)), endpoint=False):
                if self.on_click((x + r * np.cos(a), y + r * np.sin(a)), negative):
                    return True
        return False

    def click_pick(self, position, element=None, index=None, negative: bool = False) -> bool:
        def act():
            i = self.ctl.point_from_pick(position, element, index)
            self.ctl.click(i, negative=negative, decode=False)
            self.request_decode()
            return True
        return bool(self._do("click", act))

    def set_scale(self, scale: float | None) -> None:
        """Set the scale (None = auto / no scale) and decode with it."""
        self._do("scale", lambda: (self.ctl.set_scale(scale, decode=False), self.request_decode()))

    def step_scale(self, up: bool) -> None:
        s = self.ctl.state.scale
        s = max(s, MIN_STEP_SCALE / SCALE_STEP) * SCALE_STEP if up else s / SCALE_STEP
        self.set_scale(min(1.0, s))

    def toggle_auto_scale(self) -> None:
        st = self.ctl.state
        self.set_scale(st.scale if not st.use_scale else None)

    def scale_text(self) -> str:
        """The requested scale next to what the mask covers, e.g. "asked 5.1 % of the shape, mask 2.1 %"."""
        st, ctl = self.ctl.state, self.ctl
        got = f"mask {100.0 * ctl.mask_fraction:.1f} %" if st.probs is not None else "no mask yet"
        if not st.use_scale:
            return f"auto scale (model's choice): {got}"
        text = f"asked {100.0 * st.scale:.1f} % of the shape, {got}"
        floor = ctl.clicked_region_note if st.probs is not None else None
        if floor is not None:  # the slider cannot go below it
            text += f"\nclicked region alone: {100.0 * floor:.1f} % (less: points only)"
        return text

    def set_threshold(self, t: float) -> None:
        self._do("threshold", lambda: self.ctl.set_threshold(t))

    def accept(self) -> None:
        def act():
            part = self.ctl.accept_part(self.part_name, self.part_color)
            if part is None:
                self._set_status("nothing to accept: click the shape first", error=True)
                return
            self.part_name, self._color_edited = "", False
            self._refresh_part_color()
            self._set_status(f"accepted {part.name} ({share_text(self.ctl.part_shares()[part.label])} of the shape)")
        self._do("accept", act)

    def clear(self) -> None:
        self._do("clear", lambda: self.ctl.clear() and self._set_status("clicks cleared"))

    def _history(self, undo: bool) -> None:
        def act():
            ok = self.ctl.undo(decode=False) if undo else self.ctl.redo(decode=False)
            self.request_decode()
            self._refresh_part_color()
            self._set_status(("undo" if undo else "redo") if ok else f"nothing to {'undo' if undo else 'redo'}")
        self._do("undo" if undo else "redo", act)

    def undo(self) -> None:
        self._history(True)

    def redo(self) -> None:
        self._history(False)

    def links_as_parts(self) -> None:
        def act():
            k = self.ctl.links_as_parts()
            self._refresh_part_color()
            self._set_status(f"{k} parts from the file's links (Z undoes)")
        self._do("links", act)

    def segment_all(self) -> None:
        if self.busy:
            return
        scale, prompts, ctl, keep = self.granularity, self.num_prompts, self.ctl, self.keep_parts
        report = self.worker.report if self.worker is not None else None

        def job():
            t = time.perf_counter()
            labels = ctl.compute_segment_all(scale, num_prompts=prompts, progress=report)
            return labels, time.perf_counter() - t, keep
        what = "the unlabelled points" if keep and ctl.state.parts else "everything"
        self._set_status(f"segmenting {what} at granularity {scale:.3f} ...")
        self._run("segment", job)

    def set_mesh_aware(self, on: bool) -> None:
        """Masks on atoms (True) or on points only (False); the first switch on finds the atoms."""
        if self.busy or bool(on) == self.ctl.mesh_aware:
            return
        ctl = self.ctl
        report = self.worker.report if self.worker is not None else None
        self._set_status("finding the atoms ..." if on else "points-only masks")
        self._run("atoms", lambda: ctl.set_mesh_aware(on, progress=report))

    def set_up(self, up: str) -> None:
        """Take ``up`` as the file's up axis: rotate the shape and re-encode it (on the worker)."""
        if self.busy or up == self.ctl.shape.up:
            return
        ctl = self.ctl
        report = self.worker.report if self.worker is not None else None

        def job():
            t = time.perf_counter()
            return ctl.reorient(up, progress=report), time.perf_counter() - t
        self._set_status(f"turning the shape: up axis {up}, re-encoding ...")
        self._run("reorient", job)

    def delete_part(self, label: int) -> None:
        self._do("delete", lambda: (self.ctl.delete_part(label), self._refresh_part_color()))

    def rename_part(self, label: int, name: str) -> None:
        self._do("rename", lambda: self.ctl.rename_part(label, name))

    def recolor_part(self, label: int, color) -> None:
        self._do("colour", lambda: self.ctl.recolor_part(label, color, merge=True))

    def output(self, name: str) -> Path:
        """Absolute path of an output name (relative names live in ``out_dir``)."""
        p = Path(name).expanduser()
        return (p if p.is_absolute() else Path(self.out_dir).expanduser() / p).resolve()

    def _replace_guard(self, what: str, path: Path, action: Callable[[], Any], exists: bool,
                       force: bool) -> bool:
        """True to go ahead; otherwise ask first (the panel shows Replace / Cancel)."""
        if exists and not force:
            self.pending = (what, path, action)
            self._set_status(f"{path} exists: replace it?")
            return False
        return True

    def confirm(self, replace: bool) -> None:
        """Answer the pending "replace?" question."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        if replace:
            pending[2]()
        else:
            self._set_status(f"kept {pending[1]}; nothing written")

    def export(self, force: bool = False) -> None:
        """Write the labelled PLY (asks before replacing an existing file; never the input)."""
        def act():
            path = self.ctl.check_output(self.output(self.export_path))
            if not self._replace_guard("export", path, lambda: self.export(force=True), path.exists(), force):
                return
            path = self.ctl.export(path)
            self._set_status(f"wrote {path} ({len(self.ctl.state.parts)} parts) and "
                             f"{path.with_suffix('.parts.json').name}")
        self._do("export", act)

    def export_parts(self, force: bool = False) -> None:
        def act():
            out = self.ctl.check_output(self.output(self.parts_dir), folder=True)
            used = out.is_dir() and any(out.iterdir())
            if not self._replace_guard("export parts", out, lambda: self.export_parts(force=True), used, force):
                return
            files = self.ctl.export_parts(out)
            self._set_status(f"wrote {len(files)} part files and parts.json to {out}")
        self._do("export parts", act)

    def save_session(self, force: bool = False) -> None:
        def act():
            path = self.ctl.check_output(self.output(self.session_path))
            if not self._replace_guard("save session", path, lambda: self.save_session(force=True),
                                       path.exists(), force):
                return
            self._set_status(f"saved {self.ctl.save_session(path)}")
        self._do("save session", act)

    def load_session(self) -> None:
        def act():
            path = self.output(self.session_path)
            self.ctl.load_session(path, decode=False)
            self.request_decode()
            self._refresh_part_color()
            self._set_status(f"loaded {path}")
        self._do("load session", act)

    def handle_key(self, key: str, ctrl: bool = False, shift: bool = False) -> bool:
        """Run the shortcut for ``key`` (a letter or "[" / "]"). True if it was one."""
        key = key.upper()
        if key == "Z":
            self.redo() if (ctrl and shift) else self.undo()
        elif key == "Y":
            self.redo()
        elif ctrl:
            return False
        elif key == "A":
            self.accept()
        elif key == "C":
            self.clear()
        elif key == "N":
            self.toggle_auto_scale()
        elif key in "[]" and len(key) == 1:
            self.step_scale(up=key == "]")
        elif key == "S":
            self.segment_all()
        elif key == "P":
            self.set_mesh_aware(not self.ctl.mesh_aware)
        elif key == "E":
            self.export()
        elif key == "H":
            self.show_help = not self.show_help
        else:
            return False
        return True

