"""Furniture: table, chair, office chair, stool, bench, sofa, bed, bookshelf, cabinet, desk, dining set.

Local frames: z up, floor at z=0, the front of the piece faces -y.
"""
from __future__ import annotations

import numpy as np

from . import geom as g
from .builder import PartBuilder
from .parts import door, drawer, grid_corners, screw


def _leg(b: PartBuilder, height: float, r: float, style: str, glide: bool) -> None:
    """Leg from z=0 to z=height in the current frame: ``shaft`` (+ ``glide`` foot cap)."""
    if style == "round":
        b.add(g.cylinder(r, height, at=(0, 0, height / 2), sections=12), "shaft")
    elif style == "tapered":
        b.add(g.frustum(r * 0.55, r, height, sections=12), "shaft")
    else:
        b.add(g.box((2 * r, 2 * r, height), (0, 0, height / 2)), "shaft")
    if glide:
        b.add(g.cylinder(r * 1.05, r * 0.3, at=(0, 0, -r * 0.15), sections=10), "glide")


# ----------------------------------------------------------------------------- tables

def table(b: PartBuilder) -> None:
    kind = b.choice(["legs", "legs", "pedestal", "trestle"])
    h = b.u(0.65, 0.8)
    t = b.u(0.025, 0.06)
    if kind == "pedestal":
        r = b.u(0.4, 0.7)
        with b.group("top"):
            b.add(g.cylinder(r, t, at=(0, 0, h - t / 2), sections=32), "board")
            if b.chance(0.5):
                b.add(g.tube(r * 0.45, r * 0.5, 0.04, at=(0, 0, h - t - 0.02), sections=24), "skirt")
        with b.group("base"):
            cr = b.u(0.03, 0.07)
            with b.group("column"):
                b.add(g.cylinder(cr, h - t - 0.06, at=(0, 0, (h - t + 0.06) / 2), sections=16), "tube")
                b.add(g.cylinder(cr * 1.6, 0.05, at=(0, 0, h - t - 0.03), sections=16), "collar")
                b.add(g.frustum(cr * 2.2, cr, 0.12, at=(0, 0, 0.04), sections=16), "socket")
            n = b.i(3, 5)
            reach = r * b.u(0.6, 0.85)
            with b.group("feet"):
                for k in range(n):
                    a = 2 * np.pi * k / n + b.jitter(3)
                    d = np.array([np.cos(a), np.sin(a), 0.0])
                    with b.group(f"foot_{k}"):
                        b.add(g.beam(d * cr + [0, 0, 0.08], d * reach + [0, 0, 0.03], 0.05, 0.04), "arm")
                        b.add(g.cylinder(0.025, 0.02, at=d * reach + [0, 0, 0.01], sections=10), "glide")
        return
    lx, ly = b.u(0.9, 2.2), b.u(0.6, 1.1)
    with b.group("top"):
        b.add(g.box((lx, ly, t), (0, 0, h - t / 2)), "board")
        if b.chance(0.3):
            with b.group("edge"):
                for s in (-1, 1):
                    b.add(g.box((lx, 0.015, t * 1.2), (0, s * (ly / 2 + 0.0075), h - t / 2)), f"band_{(s + 1) // 2}")
    if kind == "trestle":
        with b.group("base"):
            for i, x in enumerate((-lx / 2 + 0.2, lx / 2 - 0.2)):
                with b.group(f"trestle_{i}", T=g.tf(at=(x, 0, 0))):
                    b.add(g.box((0.07, 0.06, h - t - 0.1), (0, 0, (h - t) / 2)), "upright")
                    b.add(g.box((0.08, ly * 0.8, 0.06), (0, 0, 0.03)), "foot")
                    b.add(g.box((0.07, ly * 0.85, 0.05), (0, 0, h - t - 0.025)), "cleat")
            with b.group("stretcher"):
                b.add(g.box((lx - 0.4, 0.05, 0.08), (0, 0, 0.25)), "beam")
                for i, x in enumerate((-lx / 2 + 0.2, lx / 2 - 0.2)):
                    b.add(g.cylinder(0.012, 0.08, axis="x", at=(x - np.sign(x) * 0.07, 0, 0.25), sections=6),
                          f"wedge_{i}")
        return
    r = b.u(0.02, 0.045)
    style = b.choice(["round", "square", "tapered"])
    inset = b.u(0.04, 0.15)
    corners = grid_corners(lx, ly, inset)
    leg_h = h - t
    with b.group("frame"):
        with b.group("legs"):
            glide = b.chance(0.5)
            for i, (x, y) in enumerate(corners):
                with b.group(f"leg_{i}", T=g.tf(at=(x, y, 0), rx=b.jitter(1.5), ry=b.jitter(1.5))):
                    _leg(b, leg_h, r, style, glide)
        ah = b.u(0.05, 0.12)
        if b.chance(0.8):
            with b.group("apron"):
                ix, iy = lx / 2 - inset, ly / 2 - inset
                b.add(g.box((2 * ix, 0.02, ah), (0, -iy, h - t - ah / 2)), "front")
                b.add(g.box((2 * ix, 0.02, ah), (0, iy, h - t - ah / 2)), "back")
                b.add(g.box((0.02, 2 * iy, ah), (-ix, 0, h - t - ah / 2)), "left")
                b.add(g.box((0.02, 2 * iy, ah), (ix, 0, h - t - ah / 2)), "right")
            if b.chance(0.6):
                with b.group("brackets"):
                    for i, (x, y) in enumerate(corners):
                        sx, sy = -np.sign(x), -np.sign(y)
                        p = np.array([x + sx * 0.08, y + sy * 0.08, h - t - ah / 2])
                        with b.group(f"bracket_{i}"):
                            b.add(g.beam(p + [-sx * 0.04, sy * 0.04, 0], p + [sx * 0.04, -sy * 0.04, 0], 0.015,
                                         ah * 0.6), "plate")
                            screw(b, "screw", p + [0, 0, -ah * 0.3], "-z", 0.005, head="flat")
        if b.chance(0.5):
            zs = leg_h * b.u(0.12, 0.3)
            with b.group("stretchers"):
                for i, (a, c) in enumerate([(corners[0], corners[3]), (corners[1], corners[2])]):
                    b.add(g.segment((a[0], a[1], zs), (c[0], c[1], zs), r * 0.5, sections=8), f"side_{i}")
                b.add(g.segment((corners[0][0], 0, zs), (corners[1][0], 0, zs), r * 0.5, sections=8), "middle")


# ----------------------------------------------------------------------------- chairs

def chair(b: PartBuilder) -> None:
    w, d = b.u(0.38, 0.55), b.u(0.38, 0.52)
    sh, st = b.u(0.4, 0.5), b.u(0.025, 0.05)
    bh = b.u(0.3, 0.6)
    r = b.u(0.014, 0.028)
    style = b.choice(["round", "square", "tapered"])
    corners = grid_corners(w, d, r + 0.01)
    with b.group("seat"):
        b.add(g.box((w, d, st), (0, 0, sh - st / 2)), "board")
        if b.chance(0.5):
            b.add(g.box((w * 0.92, d * 0.9, 0.04), (0, -0.01, sh + 0.02)), "cushion")
    with b.group("base"):
        with b.group("legs"):
            glide = b.chance(0.5)
            splay = b.u(0, 0.08)
            for i, (x, y) in enumerate(corners):
                rx, ry = np.sign(y) * splay, -np.sign(x) * splay
                with b.group(f"leg_{i}", T=g.tf(at=(x, y, 0), rx=rx, ry=ry)):
                    _leg(b, sh - st, r, style, glide)
        if b.chance(0.6):
            zs = (sh - st) * b.u(0.2, 0.4)
            with b.group("stretchers"):
                for i, (a, c) in enumerate([(0, 3), (1, 2), (0, 1)]):
                    pa, pc = corners[a], corners[c]
                    b.add(g.segment((pa[0], pa[1], zs), (pc[0], pc[1], zs), r * 0.45, sections=8), f"rail_{i}")
    tilt = b.u(0.0, 0.25)
    with b.group("back", T=g.tf(at=(0, d / 2 - r, sh), rx=-tilt)):
        with b.group("frame"):
            for i in range(2):
                x = (-1) ** i * (w / 2 - r - 0.005)
                b.add(g.box((2 * r, 2 * r, bh), (x, 0, bh / 2)), f"post_{i}")
            b.add(g.box((w, 0.03, b.u(0.04, 0.1)), (0, 0, bh)), "top_rail")
        kind = b.choice(["vertical", "horizontal", "panel"])
        with b.group("infill"):
            if kind == "panel":
                b.add(g.box((w - 4 * r, 0.015, bh * 0.55), (0, 0, bh * 0.62)), "panel")
            elif kind == "vertical":
                n = b.i(2, 6)
                for k in range(n):
                    x = (w - 4 * r) * ((k + 0.5) / n - 0.5)
                    b.add(g.box((min(0.03, w / n * 0.5), 0.015, bh * 0.75), (x, 0, bh * 0.5)), f"spindle_{k}")
            else:
                n = b.i(2, 4)
                for k in range(n):
                    b.add(g.box((w - 4 * r, 0.018, 0.04), (0, 0, bh * (0.3 + 0.55 * k / n))), f"slat_{k}")
    if b.chance(0.35):
        with b.group("arms"):
            for i in range(2):
                x = (-1) ** i * (w / 2 + 0.02)
                with b.group(f"arm_{i}"):
                    b.add(g.box((0.045, d * 0.85, 0.025), (x, 0, sh + 0.22)), "rest")
                    b.add(g.box((0.025, 0.025, 0.22), (x, -d * 0.3, sh + 0.11)), "support")


def office_chair(b: PartBuilder) -> None:
    n = b.choice([5, 5, 4])
    reach = b.u(0.28, 0.36)
    lift_h = b.u(0.3, 0.45)
    with b.group("base"):
        with b.group("star"):
            b.add(g.cylinder(0.05, 0.08, at=(0, 0, 0.1), sections=16), "hub")
            for k in range(n):
                a = 2 * np.pi * k / n
                dd = np.array([np.cos(a), np.sin(a), 0.0])
                b.add(g.beam(dd * 0.04 + [0, 0, 0.1], dd * reach + [0, 0, 0.08], 0.045, 0.035), f"spoke_{k}")
        with b.group("casters"):
            cr = b.u(0.025, 0.035)
            for k in range(n):
                a = 2 * np.pi * k / n
                p = np.array([np.cos(a), np.sin(a), 0.0]) * (reach - 0.01)
                with b.group(f"caster_{k}", T=g.tf(at=p, rz=a + b.jitter(40))):
                    b.add(g.cylinder(0.006, 0.03, at=(0, 0, 0.06), sections=6), "stem")
                    b.add(g.box((0.03, 0.03, 0.02), (0, 0, 2 * cr)), "fork")
                    for s in range(2):
                        b.add(g.cylinder(cr, 0.012, axis="y", at=(0.01, (s - 0.5) * 0.026, cr), sections=12),
                              f"wheel_{s}")
        with b.group("lift"):
            b.add(g.cylinder(0.025, lift_h, at=(0, 0, 0.14 + lift_h / 2), sections=12), "piston")
            b.add(g.frustum(0.04, 0.032, lift_h * 0.5, at=(0, 0, 0.14), sections=12), "cover")
    sz = 0.14 + lift_h
    sw, sd = b.u(0.45, 0.55), b.u(0.42, 0.52)
    with b.group("seat"):
        b.add(g.box((0.2, 0.2, 0.04), (0, 0, sz)), "mechanism")
        b.add(g.box((sw, sd, 0.08), (0, 0, sz + 0.06)), "cushion")
        with b.group("lever"):
            b.add(g.segment((sw * 0.1, 0, sz), (sw / 2 + 0.03, -0.05, sz), 0.006, sections=6), "rod")
            b.add(g.sphere(0.014, at=(sw / 2 + 0.03, -0.05, sz), sections=8), "tip")
    bh = b.u(0.4, 0.7)
    with b.group("back", T=g.tf(at=(0, sd / 2, sz), rx=-b.u(0.05, 0.25))):
        with b.group("support"):
            b.add(g.beam((0, -sd / 2 + 0.12, -0.03), (0, 0.07, -0.03), 0.06, 0.02), "arm")
            b.add(g.beam((0, 0.06, -0.04), (0, 0.06, 0.35), 0.06, 0.02), "spine")
            for s in range(2):
                screw(b, f"bolt_{s}", (0, 0.07, 0.2 + 0.1 * s), "y", 0.008, head="hex")
        b.add(g.box((sw * b.u(0.85, 1.0), 0.07, bh), (0, 0.0, 0.14 + bh / 2)), "cushion")
        if b.chance(0.4):
            b.add(g.box((sw * 0.6, 0.09, 0.18), (0, -0.02, 0.22 + bh)), "headrest")
    if b.chance(0.75):
        with b.group("arms"):
            for i in range(2):
                x = (-1) ** i * (sw / 2 + 0.03)
                with b.group(f"arm_{i}"):
                    b.add(g.box((0.025, 0.05, 0.22), (x, 0, sz + 0.15)), "post")
                    b.add(g.box((0.07, 0.25, 0.025), (x, -0.02, sz + 0.27)), "pad")
                    b.add(g.box((0.03, 0.12, 0.02), (x * 0.9, 0, sz + 0.05)), "bracket")


def stool(b: PartBuilder) -> None:
    r, h = b.u(0.15, 0.22), b.u(0.45, 0.8)
    n = b.i(3, 4)
    square = b.chance(0.3)
    with b.group("seat"):
        if square:
            b.add(g.box((2 * r, 2 * r, 0.035), (0, 0, h - 0.0175)), "top")
        else:
            b.add(g.cylinder(r, 0.035, at=(0, 0, h - 0.0175), sections=24), "top")
        b.add(g.cylinder(r * 0.7, 0.03, at=(0, 0, h - 0.05), sections=16), "apron")
    feet = []
    with b.group("base", "legs"):
        glide = b.chance(0.6)
        for i in range(n):
            a = 2 * np.pi * i / n + np.pi / 4 * square
            dd = np.array([np.cos(a), np.sin(a), 0.0])
            top, foot = dd * r * 0.55 + [0, 0, h - 0.05], dd * r * b.u(1.0, 1.35)
            feet.append(foot)
            with b.group(f"leg_{i}"):
                b.add(g.segment(foot, top, 0.017, sections=8), "shaft")
                if glide:
                    b.add(g.cylinder(0.02, 0.01, at=foot + [0, 0, 0.0], sections=8), "glide")
    zr = h * b.u(0.25, 0.4)
    frac = zr / (h - 0.05)
    with b.group("base", "footrest"):
        if b.chance(0.5):
            rr = float(np.linalg.norm(feet[0][:2])) * (1 - frac) + r * 0.55 * frac
            b.add(g.torus(rr, 0.012, at=(0, 0, zr), sections=24, minor_sections=6), "ring")
            for i, f in enumerate(feet):
                p = f * (1 - frac) + (f / np.linalg.norm(f) * r * 0.55) * frac
                screw(b, f"screw_{i}", p + [0, 0, zr + 0.012], "z", 0.006, head="dome")
        else:
            for i in range(n):
                pts = [feet[j] * (1 - frac) + feet[j] / np.linalg.norm(feet[j]) * r * 0.55 * frac + [0, 0, zr]
                       for j in (i, (i + 1) % n)]
                b.add(g.segment(pts[0], pts[1], 0.011, sections=6), f"rung_{i}")


def bench(b: PartBuilder) -> None:
    lx, d, h = b.u(1.2, 2.2), b.u(0.38, 0.5), b.u(0.4, 0.48)
    n_seat = b.i(3, 6)
    has_back = b.chance(0.7)
    n_sides = 3 if lx > 1.8 else 2
    xs = np.linspace(-lx / 2 + 0.15, lx / 2 - 0.15, n_sides)
    with b.group("seating"):
        with b.group("seat"):
            sw = d / n_seat
            for k in range(n_seat):
                y = -d / 2 + sw * (k + 0.5)
                with b.group(f"slat_{k}"):
                    b.add(g.box((lx, sw * 0.8, 0.035), (0, y, h)), "board")
                    for j, x in enumerate(xs):
                        screw(b, f"bolt_{j}", (x, y, h + 0.0175), "z", 0.008, head="dome")
        if has_back:
            n_back = b.i(2, 4)
            tilt = b.u(0.15, 0.35)
            with b.group("back", T=g.tf(at=(0, d / 2, h + 0.06), rx=-tilt)):
                for k in range(n_back):
                    z = 0.08 + k * 0.11
                    with b.group(f"slat_{k}"):
                        b.add(g.box((lx, 0.03, 0.08), (0, 0.02, z)), "board")
                        for j, x in enumerate(xs):
                            screw(b, f"bolt_{j}", (x, 0.005, z), "-y", 0.008, head="dome")
    back_top = np.array([0.0, d / 2, h])
    if has_back:
        zt = 0.08 + (n_back - 1) * 0.11 + 0.04
        back_top = np.array([0.0, d / 2 + 0.02 * np.cos(tilt) + zt * np.sin(tilt) + 0.02, h + 0.06 + zt * np.cos(tilt)])
    arms = has_back and b.chance(0.7)
    with b.group("frame"):
        for i, x in enumerate(xs):
            with b.group(f"side_{i}", T=g.tf(at=(x, 0, 0))):
                b.add(g.beam((0, -d / 2 + 0.03, 0), (0, -d / 2 + 0.06, h - 0.02), 0.05, 0.05), "front_leg")
                b.add(g.beam((0, d / 2 - 0.03, 0), back_top, 0.05, 0.05), "rear_leg")
                b.add(g.box((0.04, d, 0.05), (0, 0, h - 0.045)), "seat_rail")
                if arms and i in (0, n_sides - 1):
                    b.add(g.box((0.05, d * 0.85, 0.03), (0, -0.04, h + 0.22)), "armrest")
                    b.add(g.beam((0, -d / 2 + 0.06, h), (0, -d / 2 + 0.06, h + 0.21), 0.035, 0.035), "arm_post")
        b.add(g.box((lx - 0.3, 0.04, 0.04), (0, d / 2 - 0.05, 0.15)), "stretcher")


def sofa(b: PartBuilder) -> None:
    n = b.i(1, 4)
    cw = b.u(0.5, 0.75)
    aw = b.u(0.1, 0.25)
    lx = n * cw + 2 * aw
    d, sh, bh = b.u(0.75, 1.0), b.u(0.38, 0.46), b.u(0.35, 0.55)
    fh = b.u(0.04, 0.15)
    with b.group("frame"):
        b.add(g.box((lx, d, sh - 0.1 - fh), (0, 0, fh + (sh - 0.1 - fh) / 2)), "base")
        b.add(g.box((lx, 0.18, sh + bh - fh - 0.05), (0, d / 2 - 0.09, fh + (sh + bh - fh - 0.05) / 2)), "back")
        with b.group("arms"):
            ah = sh + b.u(0.1, 0.25) - fh
            for i in range(2):
                x = (-1) ** i * (lx / 2 - aw / 2)
                with b.group(f"arm_{i}"):
                    b.add(g.box((aw, d, ah), (x, 0, fh + ah / 2)), "panel")
                    if b.chance(0.5):
                        b.add(g.capsule(aw * 0.55, d * 0.9, axis="y", at=(x, -0.02, fh + ah), sections=12), "roll")
        with b.group("feet"):
            for i, (x, y) in enumerate(grid_corners(lx, d, 0.06)):
                b.add(g.frustum(0.025, 0.035, fh, at=(x, y, 0), sections=8), f"foot_{i}")
    tufted = b.chance(0.5)
    with b.group("upholstery"):
        with b.group("seat_cushions"):
            for k in range(n):
                x = -lx / 2 + aw + cw * (k + 0.5)
                b.add(g.box((cw * 0.98, d - 0.2, 0.14), (x, -0.08, sh - 0.03)), f"cushion_{k}")
        with b.group("back_cushions"):
            for k in range(n):
                x = -lx / 2 + aw + cw * (k + 0.5)
                with b.group(f"cushion_{k}", T=g.tf(at=(x, d / 2 - 0.25, sh + 0.04), rx=-0.15)):
                    b.add(g.box((cw * 0.96, 0.16, bh * 0.95), (0, 0, bh * 0.475)), "pad")
                    if tufted:
                        for j in range(4):
                            screw(b, f"button_{j}", ((j % 2 - 0.5) * cw * 0.45, -0.08, bh * (0.3 + 0.35 * (j // 2))),
                                  "-y", 0.012, head="dome")
        if b.chance(0.6):
            with b.group("pillows"):
                for i in range(2):
                    x = (-1) ** i * (lx / 2 - aw - 0.2)
                    b.add(g.sphere(0.2, at=(x, d / 2 - 0.4, sh + 0.2), sections=12, scale=(1.0, 0.35, 1.0)),
                          f"pillow_{i}")


def bed(b: PartBuilder) -> None:
    lx, ly = b.u(1.9, 2.2), b.u(0.9, 1.9)
    fh = b.u(0.15, 0.35)
    with b.group("frame"):
        with b.group("rails"):
            for i in range(2):
                b.add(g.box((lx, 0.04, 0.15), (0, (-1) ** i * (ly / 2 - 0.02), fh + 0.075)), f"side_{i}")
            b.add(g.box((0.04, ly, 0.15), (lx / 2 - 0.02, 0, fh + 0.075)), "foot_rail")
        with b.group("legs"):
            for i, (x, y) in enumerate(grid_corners(lx, ly, 0.05)):
                b.add(g.box((0.06, 0.06, fh), (x, y, fh / 2)), f"leg_{i}")
        hb_h = b.u(0.5, 1.1)
        with b.group("headboard", T=g.tf(at=(-lx / 2 - 0.03, 0, 0))):
            for s in range(2):
                y = (-1) ** s * (ly / 2 + 0.02)
                b.add(g.box((0.07, 0.07, hb_h + fh), (0, y, (hb_h + fh) / 2)), f"post_{s}")
                b.add(g.sphere(0.045, at=(0, y, hb_h + fh + 0.03), sections=10), f"finial_{s}")
            if b.chance(0.5):
                b.add(g.box((0.04, ly, hb_h * 0.7), (0, 0, fh + hb_h * 0.55)), "panel")
            else:
                n = b.i(4, 10)
                b.add(g.box((0.05, ly, 0.07), (0, 0, fh + hb_h - 0.03)), "top_rail")
                for k in range(n):
                    b.add(g.box((0.03, 0.03, hb_h * 0.7), (0, ly * ((k + 0.5) / n - 0.5), fh + hb_h * 0.6)),
                          f"spindle_{k}")
        if b.chance(0.5):
            with b.group("footboard", T=g.tf(at=(lx / 2 + 0.03, 0, 0))):
                fb = b.u(0.2, 0.4)
                for s in range(2):
                    b.add(g.box((0.07, 0.07, fb + fh), (0, (-1) ** s * (ly / 2 + 0.02), (fb + fh) / 2)), f"post_{s}")
                b.add(g.box((0.04, ly, fb * 0.8), (0, 0, fh + fb * 0.5)), "panel")
    mt = b.u(0.15, 0.28)
    with b.group("bedding"):
        b.add(g.box((lx - 0.04, ly - 0.06, mt), (0, 0, fh + 0.1 + mt / 2)), "mattress")
        top = fh + 0.1 + mt
        if b.chance(0.6):
            b.add(g.box((lx * 0.65, ly + 0.02, 0.03), (lx * 0.17, 0, top + 0.015)), "blanket")
        with b.group("pillows"):
            k_n = 1 if ly < 1.3 else 2
            for k in range(k_n):
                y = 0 if k_n == 1 else (-1) ** k * ly / 4
                b.add(g.sphere(0.3, at=(-lx / 2 + 0.3, y, top + 0.06), sections=12,
                               scale=(0.6, min(ly * 0.45, 0.7) / 0.6 * 0.95, 0.22)), f"pillow_{k}")


# ----------------------------------------------------------------------------- storage

def _book(b: PartBuilder, name: str, x: float, z: float, w: float, h: float, depth: float, lean: float) -> None:
    m = g.box((w, depth, h), (0, 0, h / 2))
    b.add(g.transform(m, g.tf(at=(x, 0, z), ry=lean)), name)


def bookshelf(b: PartBuilder) -> None:
    w, d, h = b.u(0.5, 1.4), b.u(0.22, 0.4), b.u(0.9, 2.1)
    t = b.u(0.015, 0.03)
    n = b.i(3, 6)
    plinth = b.u(0.0, 0.1)
    with b.group("carcass"):
        for i in range(2):
            b.add(g.box((t, d, h), ((-1) ** i * (w / 2 - t / 2), 0, h / 2)), f"side_{i}")
        b.add(g.box((w, d, t), (0, 0, h - t / 2)), "top")
        b.add(g.box((w - 2 * t, t * 0.5, h - plinth), (0, d / 2 - t * 0.25, plinth + (h - plinth) / 2)), "back")
        if plinth > 0.03:
            b.add(g.box((w - 2 * t, t, plinth), (0, -d / 2 + t / 2 + 0.01, plinth / 2)), "plinth")
    zs = plinth + (h - plinth - t) * np.arange(n) / n
    gap = (h - plinth - t) / n
    inner = w - 2 * t
    with b.group("shelves"):
        for k, z in enumerate(zs):
            with b.group(f"shelf_{k}"):
                b.add(g.box((inner, d - t, t), (0, -t / 2, z + t / 2)), "board")
                if k > 0:
                    for j, (x, y) in enumerate([(-1, -1), (1, -1), (-1, 1), (1, 1)]):
                        b.add(g.cylinder(0.004, 0.012, axis="x", at=(x * (inner / 2 - 0.006), y * d * 0.35, z - 0.005),
                                         sections=6), f"pin_{j}")
    with b.group("contents"):
        for k, z in enumerate(zs):
            if not b.chance(0.75):
                continue
            with b.group(f"row_{k}"):
                x = -inner / 2 + 0.01
                j = 0
                while j < 30:
                    bw = b.u(0.015, 0.05)
                    bh = min(b.u(0.14, 0.3), gap - t - 0.02)
                    if x + bw > inner / 2 - 0.08 or bh < 0.05:
                        break
                    lean = 0.0
                    if b.chance(0.08):
                        lean = b.u(0.1, 0.35)
                        x += bh * np.sin(lean)
                    _book(b, f"book_{j}", x + bw / 2, z + t, bw, bh, d * b.u(0.6, 0.85), -lean)
                    x += bw + 0.002
                    j += 1
                    if b.chance(0.05):
                        x += b.u(0.05, 0.15)
                if j == 0 or b.chance(0.3):
                    vr = min(0.06, (gap - t) * 0.25)
                    prof = [(0, 0), (vr, 0), (vr * 1.2, vr * 1.5), (vr * 0.5, vr * 2.5), (vr * 0.6, vr * 3),
                            (0, vr * 3)]
                    b.add(g.lathe(prof, 12, at=(inner / 2 - 0.05, 0, z + t)), "vase")


def cabinet(b: PartBuilder) -> None:
    w, d, h = b.u(0.5, 1.4), b.u(0.35, 0.6), b.u(0.6, 1.6)
    feet = b.chance(0.5)
    z0 = b.u(0.06, 0.15) if feet else 0.0
    t = 0.02
    with b.group("carcass"):
        b.add(g.box((w, d, h - t), (0, 0, z0 + (h - t) / 2)), "body")
        b.add(g.box((w + 0.03, d + 0.02, t * 1.5), (0, 0.0, z0 + h - t * 0.25)), "top")
        if feet:
            with b.group("feet"):
                for i, (x, y) in enumerate(grid_corners(w, d, 0.05)):
                    b.add(g.frustum(0.02, 0.03, z0, at=(x, y, 0), sections=10), f"foot_{i}")
    nd = b.i(0, 4) if h < 1.0 else b.i(0, 2)
    ncol = 2 if (w > 0.8 and b.chance(0.6)) else 1
    dh = min(b.u(0.12, 0.22), (h - 0.1) / max(nd, 1) * 0.9)
    fy = -d / 2
    if nd:
        with b.group("drawers"):
            for k in range(nd):
                for c in range(ncol):
                    dw = w / ncol
                    x = -w / 2 + dw * (c + 0.5)
                    z = z0 + h - t - dh * (k + 0.5)
                    opened = b.u(0.2, 0.6) if b.chance(0.15) else 0.0
                    with b.group(f"drawer_{k * ncol + c}", T=g.tf(at=(x, fy, z))):
                        drawer(b, dw - 0.01, dh - 0.01, d * 0.8, opened)
    door_h = h - t - nd * dh - 0.01
    if door_h > 0.15:
        nd_ = 2 if w > 0.6 else 1
        glass = b.chance(0.25)
        with b.group("doors"):
            for i in range(nd_):
                dw = w / nd_
                x = -w / 2 + dw * (i + 0.5)
                hinge = -1 if i == 0 else 1
                with b.group(f"door_{i}", T=g.tf(at=(x, fy, z0 + door_h / 2 + 0.005))):
                    door(b, dw - 0.008, door_h - 0.008, 0.018, hinge=hinge, glass=glass)


def desk(b: PartBuilder) -> None:
    lx, ly, h = b.u(1.0, 1.8), b.u(0.55, 0.8), b.u(0.7, 0.78)
    t = b.u(0.025, 0.04)
    ped = b.chance(0.7)
    pw = lx * b.u(0.25, 0.35)
    with b.group("desk"):
        b.add(g.box((lx, ly, t), (0, 0, h - t / 2)), "top")
        with b.group("support"):
            if ped:
                px = lx / 2 - pw / 2
                with b.group("pedestal"):
                    b.add(g.box((pw, ly * 0.95, h - t), (px, 0.01, (h - t) / 2)), "carcass")
                    nd = b.i(2, 4)
                    dh = (h - t - 0.06) / nd
                    for k in range(nd):
                        z = h - t - 0.02 - dh * (k + 0.5)
                        with b.group(f"drawer_{k}", T=g.tf(at=(px, -ly * 0.95 / 2 + 0.01, z))):
                            drawer(b, pw - 0.02, dh - 0.01, ly * 0.7, b.u(0.2, 0.5) if b.chance(0.15) else 0.0)
                with b.group("legs"):
                    for i, y in enumerate((-ly / 2 + 0.04, ly / 2 - 0.04)):
                        b.add(g.box((0.05, 0.05, h - t), (-lx / 2 + 0.04, y, (h - t) / 2)), f"leg_{i}")
            else:
                with b.group("legs"):
                    for i, (x, y) in enumerate(grid_corners(lx, ly, 0.04)):
                        b.add(g.box((0.05, 0.05, h - t), (x, y, (h - t) / 2)), f"leg_{i}")
            if b.chance(0.6):
                b.add(g.box((lx * (0.65 if ped else 0.9), 0.015, (h - t) * 0.45),
                            (-pw / 2 * ped, ly / 2 - 0.05, h - t - (h - t) * 0.25)), "modesty_panel")
    with b.group("items"):
        if b.chance(0.8):
            sw = b.u(0.45, 0.7)
            mx = -lx * 0.1
            with b.group("monitor", T=g.tf(at=(mx, ly * 0.2, h), rz=b.jitter(10))):
                with b.group("stand"):
                    b.add(g.box((0.22, 0.16, 0.012), (0, 0.02, 0.006)), "foot")
                    b.add(g.box((0.04, 0.02, 0.22), (0, 0.05, 0.12)), "neck")
                with b.group("display"):
                    sh_ = sw * 0.58
                    b.add(g.box((sw, 0.03, sh_), (0, 0.03, 0.12 + sh_ / 2)), "housing")
                    b.add(g.box((sw * 0.94, 0.004, sh_ * 0.9), (0, 0.014, 0.12 + sh_ / 2)), "screen")
                    b.add(g.cylinder(0.006, 0.004, axis="y", at=(sw * 0.42, 0.013, 0.13), sections=8), "power_button")
        if b.chance(0.8):
            kx, ky = -lx * 0.1, -ly * 0.2
            with b.group("keyboard", T=g.tf(at=(kx, ky, h), rz=b.jitter(6))):
                kw, kd = 0.38, 0.13
                b.add(g.box((kw, kd, 0.015), (0, 0, 0.0075)), "case")
                rows, cols = 4, b.i(10, 12)
                pitch = (kw - 0.02) / cols
                with b.group("keys"):
                    for r in range(rows):
                        with b.group(f"row_{r}"):
                            ncol = cols if r < rows - 1 else 3
                            for c in range(ncol):
                                x = -kw / 2 + 0.01 + pitch * (c + 0.5)
                                kwid = pitch * 0.85
                                if r == rows - 1 and c == 1:
                                    kwid = pitch * 5
                                    x = 0
                                elif r == rows - 1:
                                    x = (c - 1) * pitch * 4
                                b.add(g.box((kwid, (kd - 0.02) / rows * 0.8, 0.008),
                                            (x, kd / 2 - 0.01 - (kd - 0.02) / rows * (r + 0.5), 0.019)), f"key_{c}")
            if b.chance(0.7):
                with b.group("mouse", T=g.tf(at=(kx + 0.28, ky, h))):
                    b.add(g.sphere(0.03, at=(0, 0, 0.008), sections=10, scale=(0.65, 1.0, 0.5)), "body")
                    b.add(g.cylinder(0.005, 0.003, axis="x", at=(0, 0.015, 0.024), sections=8), "wheel")
        if b.chance(0.5):
            with b.group("mug", T=g.tf(at=(lx * 0.3, -ly * 0.1, h))):
                b.add(g.lathe([(0, 0), (0.04, 0), (0.04, 0.1), (0.035, 0.1), (0.035, 0.01), (0, 0.01)], 16), "cup")
                b.add(g.torus(0.03, 0.007, axis="y", at=(0.05, 0, 0.05), sections=12, minor_sections=6), "handle")


def dining_set(b: PartBuilder) -> None:
    with b.group("table"):
        # a rectangular 4-leg table, ~1.6 x 0.9
        lx, ly, h = b.u(1.2, 2.0), b.u(0.75, 1.0), b.u(0.72, 0.78)
        t = b.u(0.03, 0.05)
        with b.group("top"):
            b.add(g.box((lx, ly, t), (0, 0, h - t / 2)), "board")
        with b.group("legs"):
            style = b.choice(["round", "square", "tapered"])
            for i, (x, y) in enumerate(grid_corners(lx, ly, 0.08)):
                with b.group(f"leg_{i}", T=g.tf(at=(x, y, 0))):
                    _leg(b, h - t, 0.03, style, glide=False)
        with b.group("apron"):
            for s in range(2):
                b.add(g.box((lx - 0.2, 0.02, 0.08), (0, (-1) ** s * (ly / 2 - 0.08), h - t - 0.04)), f"side_{s}")
    spots = []  # (position, yaw): a chair's front (local -y) faces the table
    per_side = max(1, int(lx / 0.6))
    for side in (-1, 1):
        for k in range(per_side):
            x = lx * ((k + 0.5) / per_side - 0.5)
            spots.append(((x, side * (ly / 2 + b.u(0.05, 0.35))), np.pi if side < 0 else 0.0))
    spots.append(((-lx / 2 - b.u(0.1, 0.3), 0), np.pi / 2))
    spots.append(((lx / 2 + b.u(0.1, 0.3), 0), -np.pi / 2))
    order = b.rng.permutation(len(spots))
    n = b.i(2, min(6, len(spots)))
    yaws = [b.jitter(10) for _ in range(n)]
    state = b.rng.bit_generator.state  # every chair of the set has the same design
    for k in range(n):
        (x, y), facing = spots[order[k]]
        b.rng.bit_generator.state = state
        with b.group(f"chair_{k}", T=g.tf(at=(x, y, 0), rz=facing + yaws[k])):
            chair(b)


CATEGORIES = {
    "table": table, "chair": chair, "office_chair": office_chair, "stool": stool, "bench": bench,
    "sofa": sofa, "bed": bed, "bookshelf": bookshelf, "cabinet": cabinet, "desk": desk, "dining_set": dining_set,
}
