"""Reusable sub-assemblies (legs, wheels, drawers, ...) shared by the categories."""
from __future__ import annotations

import numpy as np

from .builder import PartBuilder, box, cylinder, segment, sphere, torus


def leg_set(b: PartBuilder, path: tuple[str, ...], corners, height: float, radius: float, z0: float = 0.0,
            round_legs: bool = True, feet: bool = False) -> None:
    """One leg per corner (x, y), from z0 to z0 + height; optional feet caps."""
    for i, (x, y) in enumerate(corners):
        leg = (cylinder(radius, height, (x, y, z0 + height / 2)) if round_legs
               else box((2 * radius, 2 * radius, height), (x, y, z0 + height / 2)))
        if feet:
            b.add(leg, *path, f"leg_{i}", "shaft")
            b.add(cylinder(radius * 1.4, radius * 0.6, (x, y, z0 + radius * 0.3)), *path, f"leg_{i}", "foot")
        else:
            b.add(leg, *path, f"leg_{i}")


def wheel(b: PartBuilder, path: tuple[str, ...], center, radius: float, width: float, axis: str = "y",
          bolts: int = 5, spokes: int = 0) -> None:
    """Tyre + rim + hub + bolts (+ spokes), each its own part under ``path``."""
    c = np.asarray(center, float)
    tube = width / 2
    b.add(torus(radius - tube, tube, c, axis=axis), *path, "tyre")
    rim_r = radius - 1.6 * tube
    if spokes:
        b.add(torus(rim_r, tube * 0.25, c, axis=axis), *path, "rim")
        for k in range(spokes):
            a = 2 * np.pi * k / spokes
            d = np.array([np.cos(a), 0, np.sin(a)]) if axis == "y" else np.array([0, np.cos(a), np.sin(a)])
            b.add(segment(c, c + d * rim_r, tube * 0.08, sections=6), *path, "spokes", f"spoke_{k}")
    else:
        b.add(cylinder(rim_r, width * 0.7, c, axis=axis), *path, "rim")
    hub_r = max(rim_r * 0.3, tube * 0.3)
    side = np.array([0, 1, 0]) if axis == "y" else np.array([1, 0, 0])
    sign = np.sign(c @ side) or 1.0
    hub_c = c + side * sign * width * 0.4
    b.add(cylinder(hub_r, width * 0.2, hub_c, axis=axis), *path, "hub", "cap")
    for k in range(bolts):
        a = 2 * np.pi * k / bolts
        off = np.array([np.cos(a), 0, np.sin(a)]) if axis == "y" else np.array([0, np.cos(a), np.sin(a)])
        b.add(cylinder(hub_r * 0.15, width * 0.12, hub_c + off * hub_r * 0.65 + side * sign * width * 0.1,
                       axis=axis, sections=8), *path, "hub", f"bolt_{k}")


def drawer(b: PartBuilder, path: tuple[str, ...], center, w: float, h: float, d: float) -> None:
    """Drawer front + body + knob."""
    cx, cy, cz = center
    b.add(box((w * 0.96, d * 0.08, h * 0.92), (cx, cy - d / 2, cz)), *path, "front")
    b.add(box((w * 0.9, d * 0.9, h * 0.7), (cx, cy + d * 0.02, cz)), *path, "box")
    b.add(sphere(min(w, h) * 0.06, (cx, cy - d / 2 - min(w, h) * 0.06, cz), subdivisions=1), *path, "knob")


def grid_corners(lx: float, ly: float, inset: float) -> list[tuple[float, float]]:
    x, y = lx / 2 - inset, ly / 2 - inset
    return [(-x, -y), (x, -y), (x, y), (-x, y)]
