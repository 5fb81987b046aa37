"""The panel's drawing (ImGui widgets, part list, help) and its mouse and keyboard input.

Mouse: a left click on the shape (press and release without dragging, so rotating the view never
clicks) adds a positive click; shift+click or a right click a negative one.
"""
from __future__ import annotations

import math
from pathlib import Path

import polyscope as ps
import polyscope.imgui as psim

from s2am3d_core.io.up import UP_AXES

from .commands import SHORTCUTS, share_text

CLICK_SLOP_PX = 4.0          # a press that moves further is a camera drag, not a click
PANEL_WIDTH = 390
MAX_PART_ROWS = 7            # taller part lists scroll


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


class DrawingMixin:
    """Input handling and drawing of :class:`~s2am3d_gui.panels.Panel`."""

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
        """The polyscope user callback: finished jobs, input, panel, then push changes to the scene."""
        self.poll()
        self.scene.refresh()  # a decode that just finished goes out before the panel is drawn
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
        if self.ctl.face_groups is not None and psim.Button(f"Links as parts ({len(self.ctl.group_names)})"):
            self.links_as_parts()
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
        shares = self.ctl.part_shares()
        column = psim.CalcTextSize("100.0 %")[0]
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
                share = share_text(shares.get(lab, 0.0))  # right-aligned in a column as wide as "100.0 %"
                psim.SetCursorPosX(psim.GetCursorPosX() + column - psim.CalcTextSize(share)[0])
                psim.TextUnformatted(share)
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
