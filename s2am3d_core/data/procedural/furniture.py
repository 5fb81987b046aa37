"""Furniture categories: table, chair, stool, bench, sofa, bed, shelf, cabinet, desk, dining set."""
from __future__ import annotations

import numpy as np

from .builder import PartBuilder, box, cylinder, segment
from .parts import drawer, grid_corners, leg_set


def table(b: PartBuilder, origin=(0, 0, 0), root: tuple[str, ...] = ()) -> None:
    lx, ly, h = b.uniform(1.0, 2.0), b.uniform(0.6, 1.1), b.uniform(0.6, 0.9)
    t, r = b.uniform(0.03, 0.07), b.uniform(0.02, 0.05)
    ox, oy, oz = origin
    b.add(box((lx, ly, t), (ox, oy, oz + h - t / 2)), *root, "top", "board")
    b.add(box((lx * 0.9, 0.02, 0.08), (ox, oy - ly * 0.43, oz + h - t - 0.04)), *root, "top", "apron_front")
    b.add(box((lx * 0.9, 0.02, 0.08), (ox, oy + ly * 0.43, oz + h - t - 0.04)), *root, "top", "apron_back")
    corners = [(ox + x, oy + y) for x, y in grid_corners(lx, ly, 0.08)]
    leg_set(b, (*root, "base", "legs"), corners, h - t, r, z0=oz, round_legs=b.rng.random() < 0.5)
    zs = oz + (h - t) * b.uniform(0.15, 0.3)
    for i in range(2):
        a, c = corners[2 * i], corners[2 * i + 1]
        b.add(segment((a[0], a[1], zs), (c[0], c[1], zs), r * 0.5), *root, "base", "stretchers", f"bar_{i}")


def chair(b: PartBuilder, origin=(0, 0, 0), root: tuple[str, ...] = (), facing: float = 0.0) -> None:
    w, d, sh = b.uniform(0.4, 0.55), b.uniform(0.4, 0.55), b.uniform(0.4, 0.5)
    bh, r = b.uniform(0.35, 0.6), b.uniform(0.015, 0.03)
    ox, oy, oz = origin
    items = []
    items.append((box((w, d, 0.04), (0, 0, sh)), ("seat", "cushion")))
    for i, (x, y) in enumerate(grid_corners(w, d, 0.03)):
        items.append((box((2 * r, 2 * r, sh - 0.02), (x, y, (sh - 0.02) / 2)), ("base", "legs", f"leg_{i}")))
    for i in range(2):
        x = (-1) ** i * (w / 2 - 0.03)
        items.append((box((0.03, 0.03, bh), (x, d / 2 - 0.02, sh + bh / 2)), ("back", "posts", f"post_{i}")))
    n = b.integer(2, 5)
    for k in range(n):
        z = sh + bh * (0.3 + 0.65 * k / max(n - 1, 1))
        items.append((box((w - 0.06, 0.02, 0.04), (0, d / 2 - 0.02, z)), ("back", "slats", f"slat_{k}")))
    if b.rng.random() < 0.4:
        for i in range(2):
            x = (-1) ** i * (w / 2 + 0.02)
            items.append((box((0.04, d * 0.8, 0.03), (x, 0, sh + 0.22)), ("arms", f"arm_{i}", "rest")))
            items.append((box((0.03, 0.03, 0.2), (x, -d * 0.3, sh + 0.11)), ("arms", f"arm_{i}", "support")))
    rz = np.array([[np.cos(facing), -np.sin(facing), 0], [np.sin(facing), np.cos(facing), 0], [0, 0, 1]])
    for mesh, path in items:
        mesh.vertices = mesh.vertices @ rz.T + np.array([ox, oy, oz])
        b.add(mesh, *root, *path)


def stool(b: PartBuilder) -> None:
    r, h = b.uniform(0.15, 0.25), b.uniform(0.45, 0.8)
    n = b.integer(3, 4)
    b.add(cylinder(r, 0.04, (0, 0, h)), "seat", "top")
    b.add(cylinder(r * 0.8, 0.03, (0, 0, h - 0.035)), "seat", "rim")
    feet = []
    for i in range(n):
        a = 2 * np.pi * i / n
        foot = np.array([np.cos(a), np.sin(a), 0]) * r * 1.2
        feet.append(foot)
        b.add(segment(foot, np.array([np.cos(a), np.sin(a), 0]) * r * 0.6 + [0, 0, h - 0.05], 0.02), "base", "legs", f"leg_{i}")
    ring_z = h * 0.35
    for i in range(n):
        p, q = feet[i] * 0.85 + [0, 0, ring_z], feet[(i + 1) % n] * 0.85 + [0, 0, ring_z]
        b.add(segment(p, q, 0.012), "base", "ring", f"rung_{i}")


def bench(b: PartBuilder) -> None:
    lx, d, h = b.uniform(1.2, 2.2), b.uniform(0.35, 0.5), b.uniform(0.4, 0.5)
    n = b.integer(3, 6)
    for k in range(n):
        b.add(box((lx, d / n * 0.8, 0.04), (0, -d / 2 + d / n * (k + 0.5), h)), "seat", "slats", f"slat_{k}")
    for i in range(2):
        x = (-1) ** i * (lx / 2 - 0.15)
        b.add(box((0.06, d, 0.06), (x, 0, h - 0.05)), "frame", f"support_{i}", "beam")
        for j in range(2):
            b.add(box((0.06, 0.06, h - 0.08), (x, (-1) ** j * (d / 2 - 0.05), (h - 0.08) / 2)), "frame", f"support_{i}", f"leg_{j}")
    if b.rng.random() < 0.6:
        for k in range(2):
            b.add(box((lx, 0.03, 0.08), (0, d / 2, h + 0.15 + 0.14 * k)), "back", "rails", f"rail_{k}")
        for i in range(2):
            b.add(box((0.05, 0.05, 0.4), ((-1) ** i * (lx / 2 - 0.15), d / 2, h + 0.2)), "back", "posts", f"post_{i}")


def sofa(b: PartBuilder) -> None:
    lx, d, sh = b.uniform(1.5, 2.5), b.uniform(0.7, 1.0), b.uniform(0.35, 0.45)
    n = b.integer(2, 3)
    b.add(box((lx, d, sh - 0.1), (0, 0, (sh - 0.1) / 2 + 0.08)), "body", "frame", "base")
    b.add(box((lx, 0.2, 0.5), (0, d / 2 - 0.1, sh + 0.2)), "body", "frame", "back")
    for k in range(n):
        w = (lx - 0.4) / n
        x = -lx / 2 + 0.2 + w * (k + 0.5)
        b.add(box((w * 0.97, d - 0.25, 0.15), (x, -0.1, sh + 0.02)), "cushions", "seat", f"seat_{k}")
        b.add(box((w * 0.95, 0.15, 0.35), (x, d / 2 - 0.25, sh + 0.25)), "cushions", "back", f"back_{k}")
    for i in range(2):
        b.add(box((0.2, d, 0.3), ((-1) ** i * (lx / 2 - 0.1), 0, sh + 0.1)), "body", "arms", f"arm_{i}")
    for i, (x, y) in enumerate(grid_corners(lx, d, 0.08)):
        b.add(cylinder(0.03, 0.08, (x, y, 0.04)), "feet", "feet", f"foot_{i}")


def bed(b: PartBuilder) -> None:
    lx, ly, h = b.uniform(1.9, 2.2), b.uniform(1.0, 1.8), b.uniform(0.3, 0.45)
    b.add(box((lx, ly, 0.2), (0, 0, h)), "frame", "base", "rails")
    leg_set(b, ("frame", "legs"), grid_corners(lx, ly, 0.05), h - 0.1, 0.04)
    b.add(box((0.06, ly, 0.6), (-lx / 2, 0, h + 0.2)), "frame", "headboard", "panel")
    b.add(box((lx * 0.97, ly * 0.97, 0.2), (0, 0, h + 0.2)), "bedding", "mattress", "mattress")
    for k in range(b.integer(1, 2)):
        y = 0 if ly < 1.3 else (-1) ** k * ly / 4
        b.add(box((0.3, min(ly * 0.45, 0.6), 0.12), (-lx / 2 + 0.25, y, h + 0.36)), "bedding", "pillows", f"pillow_{k}")


def shelf(b: PartBuilder) -> None:
    w, d, h = b.uniform(0.6, 1.2), b.uniform(0.25, 0.4), b.uniform(1.0, 2.0)
    n = b.integer(3, 6)
    for i in range(2):
        b.add(box((0.03, d, h), ((-1) ** i * w / 2, 0, h / 2)), "carcass", "sides", f"side_{i}")
    b.add(box((w, 0.01, h), (0, d / 2, h / 2)), "carcass", "back", "panel")
    for k in range(n):
        z = 0.05 + (h - 0.08) * k / (n - 1)
        b.add(box((w, d, 0.025), (0, 0, z)), "carcass", "shelves", f"shelf_{k}")
        if k < n - 1 and b.rng.random() < 0.7:
            x = -w / 2 + 0.05
            for j in range(b.integer(2, 8)):
                bw, bh = b.uniform(0.02, 0.05), min(b.uniform(0.15, 0.3), (h - 0.08) / (n - 1) - 0.03)
                if x + bw > w / 2 - 0.03:
                    break
                b.add(box((bw, d * 0.8, bh), (x + bw / 2, 0, z + 0.0125 + bh / 2)), "contents", f"row_{k}", f"book_{j}")
                x += bw + 0.003


def cabinet(b: PartBuilder) -> None:
    w, d, h = b.uniform(0.6, 1.2), b.uniform(0.4, 0.6), b.uniform(0.7, 1.4)
    b.add(box((w, d, h), (0, 0, h / 2 + 0.08)), "body", "carcass", "box")
    leg_set(b, ("body", "feet"), grid_corners(w, d, 0.05), 0.08, 0.025)
    nd = b.integer(1, 3)
    dh = h * 0.2
    for k in range(nd):
        z = 0.08 + h - dh * (k + 0.5)
        drawer(b, ("front", "drawers", f"drawer_{k}"), (0, -d / 2 - 0.01, z), w * 0.95, dh, 0.06)
    door_h = h - nd * dh - 0.02
    for i in range(2):
        x = (-1) ** i * w / 4
        b.add(box((w / 2 * 0.96, 0.02, door_h), (x, -d / 2 - 0.01, 0.08 + door_h / 2 + 0.01)), "front", "doors", f"door_{i}", "panel")
        b.add(cylinder(0.008, 0.12, (x * 0.2, -d / 2 - 0.04, 0.08 + door_h * 0.6), axis="z"), "front", "doors", f"door_{i}", "handle")


def desk(b: PartBuilder) -> None:
    lx, ly, h = b.uniform(1.2, 1.8), b.uniform(0.6, 0.8), b.uniform(0.7, 0.78)
    b.add(box((lx, ly, 0.03), (0, 0, h)), "top", "board", "board")
    pw = lx * 0.3
    b.add(box((pw, ly * 0.95, h - 0.02), (lx / 2 - pw / 2, 0, (h - 0.02) / 2)), "pedestal", "carcass", "box")
    for k in range(b.integer(2, 4)):
        z = h - 0.12 - k * 0.17
        drawer(b, ("pedestal", "drawers", f"drawer_{k}"), (lx / 2 - pw / 2, -ly / 2, z), pw * 0.9, 0.15, 0.08)
    corners = [(-lx / 2 + 0.05, -ly / 2 + 0.05), (-lx / 2 + 0.05, ly / 2 - 0.05)]
    leg_set(b, ("legs", "legs"), corners, h - 0.02, 0.025, round_legs=False)
    if b.rng.random() < 0.6:
        b.add(box((0.5, 0.02, 0.3), (-lx / 5, ly / 4, h + 0.25)), "monitor", "screen", "panel")
        b.add(cylinder(0.02, 0.2, (-lx / 5, ly / 4 + 0.03, h + 0.1)), "monitor", "stand", "neck")
        b.add(box((0.2, 0.15, 0.01), (-lx / 5, ly / 4 + 0.03, h + 0.02)), "monitor", "stand", "foot")


def dining_set(b: PartBuilder) -> None:
    table(b, root=("table",))
    n = b.integer(2, 4)
    spots = [((0, -0.75, 0), 0.0), ((0, 0.75, 0), np.pi), ((-1.1, 0, 0), -np.pi / 2), ((1.1, 0, 0), np.pi / 2)]
    for k in range(n):
        origin, facing = spots[k]
        chair(b, origin=origin, root=(f"chair_{k}",), facing=facing)


CATEGORIES = {
    "table": table, "chair": chair, "stool": stool, "bench": bench, "sofa": sofa, "bed": bed,
    "shelf": shelf, "cabinet": cabinet, "desk": desk, "dining_set": dining_set,
}
