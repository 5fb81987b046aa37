"""The ImGui panel and keyboard/mouse handling. Every action calls the Controller."""
from __future__ import annotations

import time
from pathlib import Path

import polyscope as ps
import polyscope.imgui as psim

from s2am3d_core.errors import S2AM3DError

from .controller import Controller
from .scene import CLICKS, Scene

HELP = """Mouse: click = positive click, shift+click or right click = negative click
[ / ]  scale down / up          N  toggle no-scale (auto) mode
A  accept part                  C  clear clicks
Z  undo    Y  redo              S  segment all at the granularity slider
E  export labelled PLY          H  show / hide this help"""


class Panel:
    """Draws the control panel each frame and turns input into Controller calls."""

    def __init__(self, ctl: Controller, scene: Scene, out_stem: str):
        self.ctl, self.scene = ctl, scene
        self.part_name = ""
        self.export_path = f"{out_stem}_labelled.ply"
        self.parts_dir = f"{out_stem}_parts"
        self.session_path = f"{out_stem}.session.json"
        self.granularity = 0.1
        self.show_help = False
        self.status = f"encoded in {ctl.encode_seconds:.2f} s ({ctl.predictor.last_encode_source})"
        self._pending_scale = False

    # ------------------------------------------------------------------ actions
    def _do(self, label: str, fn) -> None:
        try:
            t = time.perf_counter()
            out = fn()
            self.status = f"{label}: {out if out is not None else 'done'} ({time.perf_counter() - t:.2f} s)"
        except S2AM3DError as exc:
            self.status = f"{label} failed: {exc}"
        self.scene.refresh()

    def on_click(self, screen_xy, negative: bool) -> None:
        hit = ps.pick(screen_coords=screen_xy)
        if not hit.is_hit or hit.structure_name == CLICKS:
            return
        self._do("click", lambda: (self.ctl.click_xyz(hit.position, negative),
                                   f"{int(self.ctl.mask.sum())} points, decoder {self.ctl.decode_seconds * 1000:.0f} ms")[1])

    def accept(self) -> None:
        self._do("accept", lambda: self.ctl.accept(self.part_name or None))
        self.part_name = ""

    # ------------------------------------------------------------------ frame
    def __call__(self) -> None:
        ctl, st = self.ctl, self.ctl.state
        io = psim.GetIO()
        if not io.WantCaptureMouse:
            if psim.IsMouseClicked(0):
                self.on_click(io.MousePos, negative=io.KeyShift)
            elif psim.IsMouseClicked(1):
                self.on_click(io.MousePos, negative=True)
        if not io.WantCaptureKeyboard:
            self._keys()

        psim.SetNextWindowSize((360, 0), psim.ImGuiCond_FirstUseEver)
        psim.Begin("s2am3d", True)
        psim.TextUnformatted(f"{Path(str(ctl.shape.path)).name}: {len(ctl.points)} model points")
        changed, use = psim.Checkbox("use scale (off = auto/no scale)", st.use_scale)
        if changed:
            st.use_scale = use
            self._pending_scale = True
        changed, s = psim.SliderFloat("scale", st.scale, v_min=0.0, v_max=1.0, format="%.3f")
        if changed:
            st.scale = s
            self._pending_scale = True
        if self._pending_scale:  # at most one decode per frame, with the latest value
            self._pending_scale = False
            self._do("scale", lambda: (ctl.set_scale(st.scale if st.use_scale else None),
                                       f"decoder {ctl.decode_seconds * 1000:.0f} ms")[1])
        changed, th = psim.SliderFloat("threshold", st.threshold, v_min=0.05, v_max=0.95)
        if changed:
            ctl.set_threshold(th)
            self.scene.refresh()
        psim.Separator()
        _, self.part_name = psim.InputText("part name", self.part_name)
        if psim.Button("Accept part (A)"):
            self.accept()
        psim.SameLine()
        if psim.Button("Clear clicks (C)"):
            self._do("clear", ctl.clear)
        if psim.Button("Undo (Z)"):
            self._do("undo", ctl.undo)
        psim.SameLine()
        if psim.Button("Redo (Y)"):
            self._do("redo", ctl.redo)
        psim.Separator()
        _, self.granularity = psim.SliderFloat("granularity", self.granularity, v_min=0.005, v_max=0.8, format="%.3f")
        if psim.Button("Segment all (S)"):
            self._do("segment all", lambda: f"{ctl.segment_all(self.granularity)} parts")
        psim.Separator()
        if psim.TreeNode(f"Parts ({len(st.parts)})"):
            for part in list(st.parts):
                psim.ColorButton(f"##c{part.label}", (*part.color, 1.0))
                psim.SameLine()
                psim.TextUnformatted(f"{part.name}  ({int((st.labels == part.label).sum())} pts)")
                psim.SameLine()
                if psim.SmallButton(f"delete##{part.label}"):
                    self._do("delete", lambda lab=part.label: st.delete_part(lab))
            psim.TreePop()
        psim.Separator()
        _, self.export_path = psim.InputText("labelled PLY", self.export_path)
        if psim.Button("Export (E)"):
            self._do("export", lambda: ctl.export(self.export_path))
        if ctl.shape.is_mesh:
            _, self.parts_dir = psim.InputText("parts folder", self.parts_dir)
            if psim.Button("Export part meshes"):
                self._do("export parts", lambda: f"{len(ctl.export_parts(self.parts_dir))} files")
        _, self.session_path = psim.InputText("session", self.session_path)
        if psim.Button("Save session"):
            self._do("save session", lambda: ctl.save_session(self.session_path))
        psim.SameLine()
        if psim.Button("Load session"):
            self._do("load session", lambda: ctl.load_session(self.session_path))
        psim.Separator()
        psim.TextWrapped(self.status)
        if psim.Button("Help (H)"):
            self.show_help = not self.show_help
        if self.show_help:
            psim.TextUnformatted(HELP)
        psim.End()

    def _keys(self) -> None:
        ctl, st = self.ctl, self.ctl.state
        key = lambda k: psim.IsKeyPressed(getattr(psim, f"ImGuiKey_{k}"))  # noqa: E731
        if key("A"):
            self.accept()
        elif key("C"):
            self._do("clear", ctl.clear)
        elif key("Z"):
            self._do("undo", ctl.undo)
        elif key("Y"):
            self._do("redo", ctl.redo)
        elif key("N"):
            st.use_scale = not st.use_scale
            self._pending_scale = True
        elif key("LeftBracket") or key("RightBracket"):
            step = 0.8 if key("LeftBracket") else 1.25
            st.scale = float(min(1.0, max(0.001, st.scale * step)))
            self._pending_scale = True
        elif key("S"):
            self._do("segment all", lambda: f"{ctl.segment_all(self.granularity)} parts")
        elif key("E"):
            self._do("export", lambda: ctl.export(self.export_path))
        elif key("H"):
            self.show_help = not self.show_help
