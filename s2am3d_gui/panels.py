"""The ImGui panel, mouse and keyboard handling of the viewer. Every action calls the Controller.

Model work (decoding, segment all) runs on a :class:`~s2am3d_gui.worker.Worker` thread so the window
keeps drawing: while the scale slider is dragged at most one decode waits, always with the newest
value, and the mask follows as fast as the decoder allows. ``background=False`` runs the same jobs
inline instead (at most one decode per frame; used for scripted screenshots).

Mouse: a left click on the shape (press and release without dragging, so rotating the view never
clicks) adds a positive click; shift+click or a right click a negative one.
"""
from __future__ import annotations

import math
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polyscope as ps
import polyscope.imgui as psim

from s2am3d_core.errors import S2AM3DError

from s2am3d_core.io.up import UP_AXES

from .controller import Controller, part_color
from .scene import SHAPE, Scene
from .worker import Done, Worker

CLICK_SLOP_PX = 4.0          # a press that moves further is a camera drag, not a click
SCALE_STEP = 1.25            # [ and ] divide / multiply the scale by this
MIN_STEP_SCALE = 0.002       # ] from 0 jumps here
PANEL_WIDTH = 390
MAX_PART_ROWS = 7            # taller part lists scroll

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


def fit_text(text: str, width_px: float) -> str:
    """``text`` shortened in the middle ("long…name.glb") to fit ``width_px`` in the current font."""
    if psim.CalcTextSize(text)[0] <= width_px:
        return text
    keep = len(text)
    while keep > 4:
        keep -= 1
        short = text[:(keep + 1) // 2] + "..." + text[len(text) - keep // 2:]
        if psim.CalcTextSize(short)[0] <= width_px:
            return short
    return text[:4] + "..."


class Panel:
    """Draws the control panel every frame and turns input into Controller calls.

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

    # ------------------------------------------------------------------ jobs
    def _set_status(self, text: str, error: bool = False) -> None:
        self.status, self.status_is_error = text, error

    @property
    def busy(self) -> bool:
        """True while segment all, a re-orientation or an atom computation runs (editing is disabled)."""
        return self.worker is not None and any(self.worker.has(t) for t in ("segment", "reorient", "atoms"))

    def _run(self, tag: str, fn: Callable[[], Any]) -> None:
        if self.worker is not None:
            self.worker.submit(tag, fn)
            return
        try:
            done = Done(tag, value=fn())
        except Exception as exc:  # same path as a worker failure
            done = Done(tag, error=exc)
        self._finish(done)

    def request_decode(self) -> None:
        """Decode the current prompt (latest wins); clears the mask when there is no positive click.

        While the scale slider moves over a decoded sweep (see ``Controller.preview``) the
        interpolated mask is shown at once and the exact decode replaces it."""
        prompt = self.ctl.prompt()
        if prompt is None:
            self.ctl.state.probs = None
            return
        if self.worker is not None:
            asked = time.perf_counter()
            if prompt.scale is not None and self.preview:
                quick = self.ctl.preview(prompt.scale)
                if quick is not None:
                    self.ctl.state.probs = quick
                    self.showing_preview = True
            self.worker.submit("decode", lambda: (*self.ctl.decode(prompt), asked))
        else:
            self._inline_decode = True

    def _schedule_sweep(self) -> None:
        """When the worker is idle, decode one more grid scale of the preview sweep."""
        if not self.preview or self.worker is None or self.worker.busy:
            return
        scale = self.ctl.sweep_next()
        prompt = self.ctl.prompt()
        if scale is not None and prompt is not None:
            self.worker.submit("sweep", lambda: self.ctl.decode_sweep(prompt, scale))

    def poll(self) -> None:
        """Apply finished background jobs (call once per frame; the panel's __call__ does)."""
        if self.worker is not None:
            for done in self.worker.poll():
                self._finish(done)
            self._schedule_sweep()
        if self._inline_decode:
            self._inline_decode = False
            prompt, asked = self.ctl.prompt(), time.perf_counter()
            if prompt is not None:
                self._run("decode", lambda: (*self.ctl.decode(prompt), asked))

    def _finish(self, done: Done) -> None:
        if done.error is not None:
            exc = done.error
            if not isinstance(exc, S2AM3DError):
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            self._set_status(f"{done.tag} failed: {exc}", error=True)
            return
        ctl = self.ctl
        if done.tag == "decode":
            prompt, probs, seconds, asked = done.value
            now = ctl.prompt()
            if self.showing_preview and now is not None and now.scale != prompt.scale:
                return  # the preview shown is nearer the slider than this older exact mask
            if ctl.apply_decoded(prompt, probs, seconds):
                self.showing_preview = False
                self.exact_applied += 1
                lag = time.perf_counter() - asked
                self._set_status(f"decoded in {ctl.decode_seconds * 1000:.0f} ms ({lag * 1000:.0f} ms after the input)")
        elif done.tag == "sweep":
            ctl.add_sweep(*done.value)
        elif done.tag == "segment":
            labels, seconds, keep = done.value
            kept = len(ctl.state.parts) if keep else 0
            k = ctl.apply_segment_all(labels, keep_parts=keep)
            self._refresh_part_color()
            how = f", {kept} accepted parts kept" if kept else ""
            self._set_status(f"segment all: {k} new parts at granularity {self.granularity:.3f} in {seconds:.1f} s"
                             f"{how} (Z undoes)")
        elif done.tag == "atoms":
            self.request_decode()
            self._set_status(f"masks on {'atoms (welded pieces split at creases)' if ctl.mesh_aware else 'points'}; "
                             f"{ctl.features_text}")
        elif done.tag == "reorient":
            changed, seconds = done.value
            self.scene.update_geometry()
            self.scene.frame(margin_right_px=PANEL_WIDTH + 20)
            self.request_decode()
            if changed:
                self._set_status(f"up axis {ctl.shape.up}: {ctl.features_text}")

    def wait(self, timeout: float | None = 60.0) -> None:
        """Finish pending background work and apply it (for scripts and tests)."""
        if self.worker is not None:
            self.worker.wait(timeout)
        self.poll()
        if self.worker is not None:  # an inline decode may have queued more work
            self.worker.wait(timeout)
            self.poll()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def _do(self, label: str, fn: Callable[[], Any]) -> Any:
        """Run a quick UI action, reporting user errors in the status line."""
        if self.busy:
            self._set_status("busy: wait for segment all to finish", error=True)
            return None
        try:
            out = fn()
        except (S2AM3DError, OSError) as exc:  # bad input, or a file that cannot be written / read
            self._set_status(f"{label} failed: {exc}", error=True)
            return None
        return out

    def _refresh_part_color(self) -> None:
        if not self._color_edited:
            self.part_color = part_color(self.ctl.state.next_label())

    # ------------------------------------------------------------------ actions
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
        return f"asked {100.0 * st.scale:.1f} % of the shape, {got}"

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
            self._set_status(f"accepted {part.name} ({self.ctl.state.part_sizes()[part.label]} points)")
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

    # ------------------------------------------------------------------ input
    def _mouse(self, io) -> None:
        for button in (0, 1):
            if psim.IsMouseClicked(button):
                self._press[button] = None if io.WantCaptureMouse else tuple(io.MousePos)
            if psim.IsMouseReleased(button) and self._press[button] is not None:
                (x0, y0), (x1, y1) = self._press[button], tuple(io.MousePos)
                self._press[button] = None
                if math.hypot(x1 - x0, y1 - y0) <= CLICK_SLOP_PX and not io.WantCaptureMouse:
                    self.on_click((x1, y1), negative=button == 1 or io.KeyShift)
        if ps.have_selection():  # polyscope selects what is clicked: we show our own markers instead
            ps.reset_selection()

    def _keys(self, io) -> None:
        keys = {"A": psim.ImGuiKey_A, "C": psim.ImGuiKey_C, "N": psim.ImGuiKey_N, "S": psim.ImGuiKey_S,
                "P": psim.ImGuiKey_P,
                "E": psim.ImGuiKey_E, "H": psim.ImGuiKey_H, "Z": psim.ImGuiKey_Z, "Y": psim.ImGuiKey_Y,
                "[": psim.ImGuiKey_LeftBracket, "]": psim.ImGuiKey_RightBracket}
        for name, k in keys.items():
            if psim.IsKeyPressed(k, name in "[]"):
                self.handle_key(name, ctrl=io.KeyCtrl or io.KeySuper, shift=io.KeyShift)

    # ------------------------------------------------------------------ frame
    def __call__(self) -> None:
        """The polyscope user callback: input, panel, then push changes to the scene."""
        self.poll()
        io = psim.GetIO()
        self._mouse(io)
        if not io.WantCaptureKeyboard:
            self._keys(io)
        self.draw()
        self.poll()  # background=False: run the decode requested this frame
        self.scene.refresh()

    def draw(self) -> None:
        ctl, st = self.ctl, self.ctl.state
        w, h = ps.get_window_size()
        # applies once (ImGui drops FirstUseEver after the first time): leave room for the shape
        psim.SetWindowCollapsed("Structures", True, psim.ImGuiCond_FirstUseEver)
        psim.SetNextWindowPos((max(10, w - PANEL_WIDTH - 10), 10), psim.ImGuiCond_FirstUseEver)
        psim.SetNextWindowSizeConstraints((PANEL_WIDTH, 0.0), (PANEL_WIDTH, max(200.0, h - 20.0)))  # scrolls when short
        psim.Begin("S2AM3D part segmentation", True, psim.ImGuiWindowFlags_AlwaysAutoResize)
        shape = ctl.shape
        kind = f"{len(shape.faces)} faces" if shape.is_mesh else f"{len(shape.vertices)} points"
        # help first: a long file name is shortened, never pushes the button out of the panel
        if psim.SmallButton("help (H)"):
            self.show_help = not self.show_help
        psim.SameLine()
        psim.TextUnformatted(fit_text(Path(str(shape.path)).name, PANEL_WIDTH - 110))
        psim.TextDisabled(f"{kind}, model sees {shape.num_points} points")
        psim.BeginDisabled(self.busy)
        psim.SameLine()
        psim.SetNextItemWidth(-1)
        changed, i = psim.Combo("##up", UP_AXES.index(shape.up), [f"{a} up" for a in UP_AXES])
        if changed:
            self.set_up(UP_AXES[i])

        # --- prompt: scale slider (live while dragging; the worker keeps only the newest value)
        psim.SeparatorText(f"Clicks: {len(st.positive)} positive, {len(st.negative)} negative")
        psim.BeginDisabled(not st.use_scale)
        psim.SetNextItemWidth(-130)
        changed, s = psim.SliderFloat("##scale", st.scale, v_min=0.0, v_max=1.0, format="scale %.3f  [ ]",
                                      flags=psim.ImGuiSliderFlags_Logarithmic | psim.ImGuiSliderFlags_AlwaysClamp)
        if changed:
            self.set_scale(s)
        psim.EndDisabled()
        psim.SameLine()
        changed, auto = psim.Checkbox("auto [N]", not st.use_scale)
        if changed:
            self.set_scale(None if auto else st.scale)
        changed, points_only = psim.Checkbox("points only (no atoms) [P]", not ctl.mesh_aware)
        if changed:
            self.set_mesh_aware(not points_only)
        psim.SetNextItemWidth(-130)
        changed, t = psim.SliderFloat("##threshold", st.threshold, v_min=0.05, v_max=0.95, format="threshold %.2f")
        if changed:
            self.set_threshold(t)
        psim.SameLine()
        busy_decoding = self.worker is not None and self.worker.has("decode")
        psim.TextUnformatted("decoding..." if busy_decoding else "")
        psim.TextDisabled(self.scale_text())

        # --- accept
        psim.SeparatorText("Part")
        changed, c = psim.ColorEdit3("##newcolour", self.part_color, psim.ImGuiColorEditFlags_NoInputs)
        if changed:
            self.part_color, self._color_edited = tuple(c), True
        psim.SameLine()
        psim.SetNextItemWidth(-1)
        _, self.part_name = psim.InputTextWithHint("##name", f"name (default part_{st.next_label()})", self.part_name)
        if psim.Button("Accept (A)"):
            self.accept()
        psim.SameLine()
        if psim.Button("Clear (C)"):
            self.clear()
        psim.SameLine()
        psim.BeginDisabled(not st.can_undo)
        if psim.Button("Undo (Z)"):
            self.undo()
        psim.EndDisabled()
        psim.SameLine()
        psim.BeginDisabled(not st.can_redo)
        if psim.Button("Redo (Y)"):
            self.redo()
        psim.EndDisabled()
        self._draw_parts()

        # --- segment all
        psim.SeparatorText("Segment all")
        psim.SetNextItemWidth(-130)
        _, self.granularity = psim.SliderFloat("##granularity", self.granularity, v_min=0.005, v_max=1.0,
                                               format="granularity %.3f", flags=psim.ImGuiSliderFlags_Logarithmic)
        psim.SameLine()
        psim.SetNextItemWidth(-1)
        _, self.num_prompts = psim.SliderInt("##prompts", self.num_prompts, v_min=8, v_max=128, format="%d prompts")
        if psim.Button("Segment all (S)"):
            self.segment_all()
        psim.SameLine()
        _, self.keep_parts = psim.Checkbox("keep accepted parts", self.keep_parts)
        psim.EndDisabled()
        if self.busy:
            frac, msg = self.worker.progress
            psim.SameLine()
            psim.ProgressBar(frac, (-1.0, 0.0), msg or "segmenting...")

        # --- files
        psim.BeginDisabled(self.busy or self.pending is not None)
        psim.SeparatorText("Files")
        psim.SetNextItemWidth(-110)
        _, self.out_dir = psim.InputText("##out_dir", self.out_dir)
        psim.SameLine()
        psim.TextUnformatted("output folder")
        for label, attr, action in (("Export (E)", "export_path", self.export), ("Export parts", "parts_dir",
                                    self.export_parts)):
            psim.SetNextItemWidth(-110)
            _, value = psim.InputText(f"##{attr}", getattr(self, attr))
            setattr(self, attr, value)
            psim.SameLine()
            if psim.Button(label):
                action()
        psim.SetNextItemWidth(-110)
        _, self.session_path = psim.InputText("##session", self.session_path)
        psim.SameLine()
        if psim.Button("Save"):
            self.save_session()
        psim.SameLine()
        if psim.Button("Load"):
            self.load_session()
        psim.EndDisabled()

        if self.pending is not None:
            what, path, _ = self.pending
            psim.TextColored((1.0, 0.75, 0.2, 1.0), f"{what}: {path.name} exists in {path.parent}")
            if psim.Button("Replace"):
                self.confirm(True)
            psim.SameLine()
            if psim.Button("Cancel"):
                self.confirm(False)

        # --- status
        psim.Separator()
        psim.PushTextWrapPos(0.0)
        if self.status_is_error:
            psim.TextColored((1.0, 0.35, 0.3, 1.0), self.status)
        else:
            psim.TextUnformatted(self.status)
        feats = "cached features" if ctl.encode_source in ("disk", "memory") else "encoder"
        feats += " + atoms" if ctl.mesh_aware else ""
        psim.TextDisabled(f"{feats} {ctl.encode_seconds:.2f} s | decoder {ctl.decode_seconds * 1000:.0f} ms | "
                          f"colours {ctl.color_seconds * 1000:.0f} ms")
        psim.PopTextWrapPos()
        psim.End()
        if self.show_help:
            self._draw_help()

    def _draw_parts(self) -> None:
        st = self.ctl.state
        parts = st.parts
        if not psim.TreeNodeEx(f"Parts ({len(parts)})###parts", psim.ImGuiTreeNodeFlags_DefaultOpen):
            return
        sizes = st.part_sizes()
        rows = min(len(parts), MAX_PART_ROWS)
        if rows:  # a scrolling list: segment all can make dozens of parts
            psim.BeginChild("##partlist", (0.0, rows * psim.GetFrameHeightWithSpacing() + 4.0))
            for part in parts:
                lab = part.label
                psim.PushID(f"part{lab}")
                changed, c = psim.ColorEdit3("##c", part.color, psim.ImGuiColorEditFlags_NoInputs)
                if changed:
                    self.recolor_part(lab, tuple(c))
                psim.SameLine()
                psim.SetNextItemWidth(-100)
                _, self._rename[lab] = psim.InputText("##n", self._rename.get(lab, part.name))
                if psim.IsItemDeactivatedAfterEdit():
                    self.rename_part(lab, self._rename.pop(lab))
                elif not psim.IsItemActive():
                    self._rename.pop(lab, None)
                psim.SameLine()
                psim.TextUnformatted(f"{sizes.get(lab, 0):6d} pts")
                psim.SameLine()
                if psim.SmallButton(" x "):
                    self.delete_part(lab)
                psim.PopID()
            psim.EndChild()
        psim.TreePop()

    def _draw_help(self) -> None:
        psim.SetNextWindowPos((10, 210), psim.ImGuiCond_FirstUseEver)  # below polyscope's own panels
        _, keep_open = psim.Begin("Help: shortcuts", True, psim.ImGuiWindowFlags_AlwaysAutoResize)
        if psim.BeginTable("##keys", 2, psim.ImGuiTableFlags_SizingFixedFit):
            for keys, what in SHORTCUTS:
                psim.TableNextRow()
                psim.TableNextColumn()
                psim.TextUnformatted(keys)
                psim.TableNextColumn()
                psim.TextUnformatted(what)
            psim.EndTable()
        psim.Separator()
        psim.PushTextWrapPos(420.0)
        psim.TextUnformatted("Click a part, drag the scale slider until the mask covers the part you want "
                             "(scale = the part's share of the shape), add negative clicks to trim, then accept. "
                             "Auto (no scale) lets the model choose the granularity.")
        psim.PopTextWrapPos()
        psim.End()
        if not keep_open:
            self.show_help = False
