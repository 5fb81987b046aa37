"""Polyscope structures for a Controller: the shape with its colour overlay, and the click markers.

The shape is registered once (a surface mesh with per-face colours, or a point cloud); ``refresh``
re-uploads colours only when the parts, the mask or the threshold changed, and the click markers
only when the clicks changed.
"""
from __future__ import annotations

import time

import numpy as np
import polyscope as ps

from .controller import Controller

SHAPE = "shape"
CLICKS = "clicks"
COLORS = "parts"
POSITIVE_COLOR = (0.10, 0.75, 0.20)
NEGATIVE_COLOR = (0.85, 0.08, 0.10)


class Scene:
    """Registers ``ctl``'s shape in polyscope (which must be initialised) and keeps it up to date."""

    def __init__(self, ctl: Controller, point_radius: float = 0.0025, click_radius: float = 0.009):
        self.ctl = ctl
        self.click_radius = click_radius
        shape = ctl.shape
        if shape.is_mesh:
            self.structure = ps.register_surface_mesh(SHAPE, shape.vertices, shape.faces, smooth_shade=False,
                                                      edge_width=0.0, material="clay")
        else:
            self.structure = ps.register_point_cloud(SHAPE, ctl.display_points, radius=point_radius,
                                                     material="clay")
        self._color_key = None
        self._clicks_key = None
        self.uploaded_probs_revision = -1   # mask probabilities last shown, and when (perf_counter)
        self.uploaded_at = 0.0
        self.refresh()

    def update_geometry(self) -> None:
        """Re-upload positions after the controller turned the shape (a new up axis)."""
        ctl = self.ctl
        if ctl.shape.is_mesh:
            self.structure.update_vertex_positions(ctl.shape.vertices)
        else:
            self.structure.update_point_positions(ctl.display_points)
        self.refresh(force=True)

    def frame(self, margin_right_px: float = 0.0, direction=(0.55, -1.0, 0.45), fill: float = 0.8) -> None:
        """Point the camera at the shape from ``direction`` (z up), centred in the part of the window
        left of a panel ``margin_right_px`` wide, the shape filling about ``fill`` of the height."""
        pts = self.ctl.points
        lo, hi = pts.min(0).astype(np.float64), pts.max(0).astype(np.float64)
        center, radius = (lo + hi) / 2, max(float(np.linalg.norm(hi - lo)) / 2, 1e-6)
        w, h = ps.get_window_size()
        half_v = np.tan(np.radians(ps.get_vertical_fov_degrees()) / 2)
        dist = radius / (half_v * fill)
        view = np.asarray(direction, np.float64)
        view /= np.linalg.norm(view)
        right = np.cross(-view, (0.0, 0.0, 1.0))
        right /= max(np.linalg.norm(right), 1e-9)
        shift = 2 * dist * half_v * (w / max(h, 1)) * (margin_right_px / 2) / max(w, 1)
        target = center + right * shift
        ps.look_at(tuple(target + view * dist), tuple(target))

    def refresh(self, force: bool = False) -> bool:
        """Push changed colours / click markers to polyscope. True if anything was uploaded."""
        ctl, st = self.ctl, self.ctl.state
        uploaded = False
        key = (st.revision, st.probs_revision, st.threshold)
        if force or key != self._color_key:
            colors = ctl.display_colors()
            if ctl.shape.is_mesh:
                self.structure.add_color_quantity(COLORS, colors, defined_on="faces", enabled=True)
            else:
                self.structure.add_color_quantity(COLORS, colors, enabled=True)
            self._color_key = key
            self.uploaded_probs_revision, self.uploaded_at = st.probs_revision, time.perf_counter()
            uploaded = True
        clicks = st.current.clicks
        if force or clicks != self._clicks_key:
            self._draw_clicks(clicks)
            self._clicks_key = clicks
            uploaded = True
        return uploaded

    def _draw_clicks(self, clicks) -> None:
        if not clicks:
            if ps.has_point_cloud(CLICKS):
                ps.remove_point_cloud(CLICKS)
            return
        pos = self.ctl.points[[i for i, _ in clicks]].astype(np.float32)
        cloud = ps.register_point_cloud(CLICKS, pos, radius=self.click_radius, material="flat")
        cloud.add_color_quantity("sign", np.array([POSITIVE_COLOR if p else NEGATIVE_COLOR for _, p in clicks]),
                                 enabled=True)
