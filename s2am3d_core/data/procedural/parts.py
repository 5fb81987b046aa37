"""Reusable sub-assemblies (wheels, drawers, doors, handles, screws, ...) shared by the categories.

Each function adds its parts to the builder *in the current group frame* and documents that local
frame; callers place it with ``with b.group(name, T=tf(...)):``.
"""
from __future__ import annotations

import numpy as np

from . import geom as g
from .builder import PartBuilder


def screw(b: PartBuilder, name: str, at, axis="z", radius: float = 0.006, head: str | None = None) -> None:
    """A screw/bolt head: a short cylinder (or dome or hex) of ``radius`` sitting on a surface at ``at``
    whose outward normal is ``axis``."""
    head = head or b.choice(["flat", "dome", "hex"])
    h = radius * 0.6
    d = np.asarray(g._AXES[axis] if isinstance(axis, str) else axis, float)
    d = d / np.linalg.norm(d)
    if head == "dome":
        v, f = g.sphere(radius, sections=8, scale=(1.0, 1.0, 0.7))
        b.add(g.orient((v, f), d, np.asarray(at, float)), name)
    else:
        sections = 6 if head == "hex" else 10
        b.add(g.orient(g.cylinder(radius, h, at=(0, 0, h / 2), sections=sections), d, at), name)


def wheel(b: PartBuilder, radius: float, width: float, bolts: int = 5, spokes: int = 0,
          tyre_ratio: float = 0.25, hub_cap: bool = True, sections: int = 24) -> None:
    """Wheel around the local z axis, centred at the origin, outer face towards +z.

    Parts: ``tyre``; ``rim``; ``hub/cap`` and ``hub/bolt_k``; with ``spokes`` > 0 a thin rim ring and
    ``spokes/spoke_k``.
    """
    tr = radius * tyre_ratio
    b.add(g.torus(radius - tr, tr, sections=sections, minor_sections=8, squash=width / (2 * tr)), "tyre")
    rim_r = radius - 1.7 * tr
    hub_r = max(rim_r * 0.28, width * 0.25) if not spokes else width * 0.35
    if spokes:
        b.add(g.torus(rim_r + tr * 0.4, tr * 0.35, sections=sections, minor_sections=6, squash=1.5), "rim")
        with b.group("spokes"):
            for k in range(spokes):
                a = 2 * np.pi * k / spokes
                side = (-1) ** k * width * 0.25
                p = np.array([np.cos(a), np.sin(a), 0.0])
                b.add(g.segment(p * hub_r * 0.8 + [0, 0, side], p * (rim_r + tr * 0.2), max(radius * 0.006, 0.0012),
                                sections=5), f"spoke_{k}")
        b.add(g.cylinder(hub_r, width * 0.9, sections=12), "hub", "shell")
        return
    b.add(g.cylinder(rim_r + tr * 0.3, width * 0.8, sections=sections), "rim")
    with b.group("hub"):
        z = width * 0.4
        if hub_cap:
            b.add(g.cylinder(hub_r, width * 0.12, at=(0, 0, z + width * 0.06), sections=16), "cap")
        for k in range(bolts):
            a = 2 * np.pi * k / bolts + 0.3
            p = np.array([np.cos(a), np.sin(a), 0.0]) * (hub_r * 1.45 if hub_cap else hub_r * 0.7)
            b.add(g.cylinder(hub_r * 0.13, width * 0.1, at=p + [0, 0, z + width * 0.05], sections=6), f"bolt_{k}")


def bar_handle(b: PartBuilder, length: float, standoff: float, radius: float, axis: str = "x") -> None:
    """Bar pull on a surface facing -y at the origin: ``bar`` along ``axis`` plus ``post_0``/``post_1``."""
    d = np.array(g._AXES[axis])
    for s in range(2):
        p = d * (s - 0.5) * length * 0.8
        b.add(g.segment(p, p + [0, -standoff, 0], radius * 0.7, sections=6), f"post_{s}")
    b.add(g.cylinder(radius, length, axis=axis, at=(0, -standoff, 0), sections=8), "bar")


def knob(b: PartBuilder, radius: float, name: str = "knob") -> None:
    """Round knob (stem + ball, one part) on a surface facing -y at the origin."""
    stem = g.segment((0, 0, 0), (0, -radius * 1.2, 0), radius * 0.4, sections=6)
    ball = g.sphere(radius, at=(0, -radius * 1.8, 0), sections=8, scale=(1, 0.7, 1))
    b.add(g.merge(stem, ball), name)


def pull(b: PartBuilder, width: float, size: float) -> None:
    """A random front fitting, facing -y at the origin: bar handle (a group) or a knob."""
    if b.chance(0.55):
        with b.group("handle"):
            bar_handle(b, min(width * 0.5, size * 8), size * 1.2, size * 0.35)
    else:
        knob(b, size * 0.8)


def drawer(b: PartBuilder, w: float, h: float, depth: float, open_frac: float = 0.0) -> None:
    """Drawer whose front panel spans y in [-t, 0] (facing -y), centred on x=z=0; the box goes to +y.

    Parts: ``front``, ``handle/*`` or ``knob``, and ``box`` when pulled out (``open_frac`` of depth).
    """
    t = min(0.02, h * 0.15)
    with b.group(T=g.tf(at=(0, -open_frac * depth, 0))):
        b.add(g.box((w, t, h), (0, -t / 2, 0)), "front")
        if open_frac > 0:
            sides = [g.box((t * 0.6, depth, h * 0.7), (sx * (w / 2 - t), depth / 2, -h * 0.1)) for sx in (-1, 1)]
            bottom = g.box((w - 2 * t, depth, t * 0.5), (0, depth / 2, -h * 0.42))
            back = g.box((w - 2 * t, t * 0.6, h * 0.7), (0, depth, -h * 0.1))
            b.add(g.merge(*sides, bottom, back), "box")
        with b.group(T=g.tf(at=(0, -t, 0))):
            pull(b, w, min(w, h) * 0.08)


def door(b: PartBuilder, w: float, h: float, t: float, hinge: int = -1, glass: bool = False) -> None:
    """Cabinet door in the plane y in [-t, 0] (facing -y), centred on x=z=0; hinges on side ``hinge``.

    Parts: ``panel`` (or ``frame`` + ``glass``), ``handle/*`` or ``knob``, ``hinge_k``.
    """
    if glass:
        fw = min(w, h) * 0.12
        rails = [g.box((w, t, fw), (0, -t / 2, s * (h - fw) / 2)) for s in (-1, 1)]
        stiles = [g.box((fw, t, h - 2 * fw), (s * (w - fw) / 2, -t / 2, 0)) for s in (-1, 1)]
        b.add(g.merge(*rails, *stiles), "frame")
        b.add(g.box((w - 2 * fw, t * 0.3, h - 2 * fw), (0, -t / 2, 0)), "glass")
    else:
        b.add(g.box((w, t, h), (0, -t / 2, 0)), "panel")
    with b.group(T=g.tf(at=(-hinge * (w / 2 - min(w, h) * 0.12), -t, 0))):
        pull(b, h, min(w, h) * 0.07)
    for k, z in enumerate((-h * 0.38, h * 0.38)):
        b.add(g.cylinder(t * 0.35, h * 0.08, at=(hinge * w / 2, -t * 0.7, z), sections=8), f"hinge_{k}")


def propeller(b: PartBuilder, radius: float, blades: int = 2, chord: float | None = None) -> None:
    """Propeller in the local xy plane around z: ``spinner``, ``blade_k``, ``nut``."""
    chord = chord or radius * 0.18
    b.add(g.frustum(radius * 0.12, radius * 0.05, radius * 0.12, at=(0, 0, -radius * 0.04), sections=10), "spinner")
    for k in range(blades):
        a = 2 * np.pi * k / blades
        blade = g.wing(chord, chord * 0.5, radius * 0.92, chord * 0.12, sweep=chord * 0.2)
        blade = g.transform(blade, g.tf(at=(0, radius * 0.06, 0), ry=0.25))
        blade = g.transform(blade, g.tf(rz=a))
        b.add(blade, f"blade_{k}")
    b.add(g.cylinder(radius * 0.04, radius * 0.05, at=(0, 0, radius * 0.1), sections=6), "nut")


def grid_corners(lx: float, ly: float, inset: float) -> list[tuple[float, float]]:
    """Four (x, y) corners of an lx x ly rectangle centred at the origin, inset from the edges."""
    x, y = lx / 2 - inset, ly / 2 - inset
    return [(-x, -y), (x, -y), (x, y), (-x, y)]
