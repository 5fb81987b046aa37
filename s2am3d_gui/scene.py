"""Polyscope structures for a Controller: the shape with a colour overlay and the click markers."""
from __future__ import annotations

import numpy as np
import polyscope as ps

from .controller import Controller

SHAPE = "shape"
CLICKS = "clicks"


class Scene:
    """Registers the shape once; ``refresh`` pushes new colours and click markers."""

    def __init__(self, ctl: Controller):
        self.ctl = ctl
        shape = ctl.shape
        if shape.is_mesh:
            self.structure = ps.register_surface_mesh(SHAPE, shape.vertices, shape.faces, smooth_shade=False)
        else:
            self.structure = ps.register_point_cloud(SHAPE, ctl.points, radius=0.003)
        self.refresh()

    def refresh(self) -> None:
        ctl = self.ctl
        if ctl.shape.is_mesh:
            self.structure.add_color_quantity("parts", ctl.face_colors(), defined_on="faces", enabled=True)
        else:
            self.structure.add_color_quantity("parts", ctl.point_colors(), enabled=True)
        clicks = ctl.state.clicks
        if clicks:
            pos = ctl.points[[i for i, _ in clicks]] * 1.0
            cloud = ps.register_point_cloud(CLICKS, pos, radius=0.008)
            cols = np.array([[0.1, 0.8, 0.2] if p else [0.9, 0.1, 0.1] for _, p in clicks])
            cloud.add_color_quantity("sign", cols, enabled=True)
        elif ps.has_point_cloud(CLICKS):
            ps.remove_point_cloud(CLICKS)
