"""Vehicles: car, truck, bicycle, motorcycle, airplane, rocket, drone, wheelbarrow, shopping cart.

Local frames: z up, ground at z=0, driving direction +x, left side +y.
"""
from __future__ import annotations

import numpy as np

from . import geom as g
from .builder import PartBuilder
from .parts import propeller, screw, wheel

OUT_LEFT = -np.pi / 2   # rx that turns a wheel's outer face (+z) to +y
OUT_RIGHT = np.pi / 2   # ... to -y


def side_prism(poly_xz, width: float) -> g.Mesh:
    """Convex (x, z) outline extruded symmetrically along y over ``width``."""
    poly = [tuple(p) for p in poly_xz]
    if g._signed_area(poly) < 0:
        poly = poly[::-1]
    return g.transform(g.prism(poly, width), g.tf(at=(0, width / 2, 0), rx=np.pi / 2))


def _wheel_at(b: PartBuilder, name: str, center, left: bool, **kw) -> None:
    with b.group(name, T=g.tf(at=center, rx=OUT_LEFT if left else OUT_RIGHT)):
        wheel(b, **kw)


def _mirror(b: PartBuilder, name: str, at, side: int, size: float) -> None:
    with b.group(name):
        p = np.asarray(at, float)
        q = p + [-size * 0.3, side * size * 1.2, size * 0.2]
        b.add(g.segment(p, q, size * 0.08, sections=6), "arm")
        b.add(g.box((size * 0.3, size * 0.5, size * 0.7), q + [0, side * size * 0.2, size * 0.2]), "housing")


def car(b: PartBuilder) -> None:
    style = b.choice(["sedan", "hatchback", "suv", "pickup", "coupe"])
    L, W = b.u(3.6, 4.9), b.u(1.6, 1.95)
    wr = b.u(0.28, 0.38) * (1.15 if style in ("suv", "pickup") else 1.0)
    ww = b.u(0.18, 0.27)
    z0 = wr * b.u(0.55, 0.8)
    bh = b.u(0.45, 0.65)
    ch = b.u(0.4, 0.55) * (1.2 if style == "suv" else 1.0)
    zt = z0 + bh
    nose = b.u(0.05, 0.15) * L
    poly = [(-L / 2, z0), (L / 2, z0), (L / 2, z0 + bh * 0.55), (L / 2 - nose, zt), (-L / 2 + 0.1, zt),
            (-L / 2, zt - 0.15)]
    if style in ("sedan", "coupe"):
        cx0, cx1 = -L * 0.32, L * 0.2
    elif style == "pickup":
        cx0, cx1 = -L * 0.1, L * 0.22
    else:
        cx0, cx1 = -L / 2 + 0.1, L * 0.2
    fs = (cx1 - cx0) * b.u(0.22, 0.35)  # windshield and rear window slopes
    rs = (cx1 - cx0) * (b.u(0.05, 0.12) if style in ("hatchback", "suv", "pickup") else b.u(0.2, 0.3))
    cw = W * 0.9
    with b.group("body"):
        b.add(side_prism(poly, W), "shell")
        with b.group("bumpers"):
            b.add(g.box((0.12, W * 1.02, 0.16), (L / 2 + 0.03, 0, z0 + 0.08)), "front")
            b.add(g.box((0.12, W * 1.02, 0.16), (-L / 2 - 0.03, 0, z0 + 0.08)), "rear")
        with b.group("grille"):
            gw, gh = W * b.u(0.3, 0.55), bh * 0.3
            b.add(g.box((0.03, gw, 0.03), (L / 2 + 0.005, 0, z0 + 0.2 + gh)), "frame")
            nbar = b.i(3, 6)
            for k in range(nbar):
                b.add(g.box((0.02, gw * 0.95, gh / nbar * 0.4), (L / 2 + 0.005, 0, z0 + 0.2 + gh * k / nbar)),
                      f"bar_{k}")
        with b.group("lights"):
            for s in range(2):
                y = (-1) ** s * W * b.u(0.3, 0.38)
                b.add(g.box((0.05, W * 0.16, 0.1), (L / 2, y, z0 + bh * 0.45)), f"headlight_{s}")
                b.add(g.box((0.05, W * 0.14, 0.1), (-L / 2, y, zt - 0.2)), f"taillight_{s}")
        with b.group("plates"):
            b.add(g.box((0.01, 0.5, 0.11), (L / 2 + 0.095, 0, z0 + 0.08)), "front")
            b.add(g.box((0.01, 0.5, 0.11), (-L / 2 - 0.005, 0, zt - 0.3)), "rear")
        b.add(g.cylinder(0.035, 0.2, axis="x", at=(-L / 2, -W * 0.3, z0 + 0.02), sections=8), "exhaust")
        if style == "pickup":
            with b.group("bed"):
                b.add(g.box((L / 2 + cx0 - 0.1, 0.06, 0.4), ((-L / 2 + cx0) / 2, W / 2 - 0.03, zt + 0.2)), "side_0")
                b.add(g.box((L / 2 + cx0 - 0.1, 0.06, 0.4), ((-L / 2 + cx0) / 2, -W / 2 + 0.03, zt + 0.2)), "side_1")
                b.add(g.box((0.06, W, 0.4), (-L / 2 + 0.03, 0, zt + 0.2)), "tailgate")
    cab_poly = [(cx0, zt), (cx1, zt), (cx1 - fs, zt + ch), (cx0 + rs, zt + ch)]
    with b.group("cabin"):
        b.add(side_prism(cab_poly, cw), "roof")
        with b.group("windows"):
            sl = np.array([cx1 - fs - cx1, ch])
            n = np.array([sl[1], -sl[0]]) / np.linalg.norm(sl)  # outward normal of the front slope (x, z)
            b.add(g.beam((cx1 - 0.03 + n[0] * 0.01, 0, zt + 0.04), (cx1 - fs * 0.95 + n[0] * 0.01, 0, zt + ch * 0.95),
                         cw * 0.85, 0.015), "windshield")
            b.add(g.beam((cx0 + 0.02, 0, zt + 0.06), (cx0 + rs * 0.95 - 0.01, 0, zt + ch * 0.92), cw * 0.8, 0.015),
                  "rear")
        if b.chance(0.4):
            with b.group("roof_rack"):
                for s in range(2):
                    b.add(g.box((cx1 - cx0 - fs - rs, 0.04, 0.04),
                                ((cx0 + rs + cx1 - fs) / 2, (-1) ** s * cw * 0.4, zt + ch + 0.05)), f"rail_{s}")
        with b.group("mirrors"):
            for s in range(2):
                _mirror(b, f"mirror_{s}", (cx1 - 0.05, (-1) ** s * cw / 2, zt + 0.08), (-1) ** s, 0.2)
    n_doors = 1 if style in ("coupe", "pickup") else 2
    top_x0, top_x1 = cx0 + rs + 0.05, cx1 - fs - 0.05
    with b.group("doors"):
        dl = (cx1 - cx0 - 0.1) / n_doors
        for s in range(2):
            y = (-1) ** s * (W / 2 + 0.005)
            for k in range(n_doors):
                x1 = cx1 - 0.05 - dl * k
                x0 = x1 - dl + 0.03
                with b.group(f"door_{s}_{k}"):
                    b.add(g.box((x1 - x0, 0.02, bh * 0.8), ((x0 + x1) / 2, y, z0 + bh * 0.5)), "panel")
                    b.add(g.box((0.12, 0.03, 0.03), (x0 + (x1 - x0) * 0.25, y + (-1) ** s * 0.015, zt - 0.12)),
                          "handle")
                    wx0, wx1 = max(x0, top_x0), min(x1, top_x1)
                    if wx1 - wx0 > 0.15:
                        b.add(g.box((wx1 - wx0, 0.015, ch * 0.75),
                                    ((wx0 + wx1) / 2, (-1) ** s * cw / 2 + (-1) ** s * 0.005,
                                     zt + ch * 0.45)), "window")
    axles = [L / 2 - nose - wr * b.u(0.9, 1.3), -L / 2 + wr * b.u(1.4, 1.9)]
    bolts = b.i(4, 6)
    with b.group("chassis"):
        for a, x in enumerate(axles):
            with b.group(f"axle_{a}"):
                b.add(g.cylinder(0.04, W, axis="y", at=(x, 0, wr), sections=8), "shaft")
                for s in range(2):
                    y = (-1) ** s * (W / 2 - ww * 0.3)
                    _wheel_at(b, f"wheel_{s}", (x, y, wr), s == 0, radius=wr, width=ww, bolts=bolts)


def truck(b: PartBuilder) -> None:
    wr, ww = b.u(0.45, 0.55), b.u(0.28, 0.35)
    W = b.u(2.3, 2.55)
    cab_l, cab_h = b.u(1.6, 2.4), b.u(1.6, 2.2)
    z0 = wr * 1.6
    n_rear = b.i(1, 2)
    cargo = b.choice(["box", "tank", "flatbed"])
    cl = b.u(4.5, 8.0)
    L = cab_l + cl + 0.3
    xf = L / 2
    with b.group("cab", T=g.tf(at=(xf - cab_l / 2, 0, 0))):
        with b.group("body"):
            slope = cab_l * b.u(0.05, 0.2)
            b.add(side_prism([(-cab_l / 2, z0), (cab_l / 2, z0), (cab_l / 2, z0 + cab_h * 0.55),
                              (cab_l / 2 - slope, z0 + cab_h), (-cab_l / 2, z0 + cab_h)], W), "shell")
            b.add(g.box((0.15, W * 1.02, 0.3), (cab_l / 2 + 0.05, 0, z0 - 0.05)), "bumper")
            if b.chance(0.5):
                b.add(g.box((cab_l * 0.6, W * 0.9, 0.35), (-cab_l * 0.15, 0, z0 + cab_h + 0.17)), "sleeper_roof")
        with b.group("front"):
            with b.group("grille"):
                gw = W * 0.5
                for k in range(5):
                    b.add(g.box((0.03, gw, 0.05), (cab_l / 2 + 0.01, 0, z0 + 0.2 + 0.09 * k)), f"bar_{k}")
            for s in range(2):
                b.add(g.box((0.05, 0.3, 0.15), (cab_l / 2 + 0.02, (-1) ** s * W * 0.36, z0 + 0.25)), f"headlight_{s}")
            b.add(g.beam((cab_l / 2 + 0.02, 0, z0 + cab_h * 0.6), (cab_l / 2 - slope + 0.02, 0, z0 + cab_h * 0.95),
                         W * 0.85, 0.02),
                  "windshield")
        with b.group("sides"):
            for s in range(2):
                y = (-1) ** s * (W / 2 + 0.01)
                with b.group(f"door_{s}"):
                    b.add(g.box((cab_l * 0.45, 0.02, cab_h * 0.75), (cab_l * 0.15, y, z0 + cab_h * 0.45)), "panel")
                    b.add(g.box((cab_l * 0.35, 0.02, cab_h * 0.3), (cab_l * 0.15, y * 1.003, z0 + cab_h * 0.68)),
                          "window")
                    b.add(g.box((0.15, 0.03, 0.04), (cab_l * 0.0, y * 1.01, z0 + cab_h * 0.45)), "handle")
                with b.group(f"steps_{s}"):
                    for k in range(2):
                        b.add(g.box((0.35, 0.2, 0.03), (cab_l * 0.15, y * 0.98, z0 - 0.2 - 0.3 * k)), f"step_{k}")
                _mirror(b, f"mirror_{s}", (cab_l / 2 - 0.1, (-1) ** s * W / 2, z0 + cab_h * 0.6), (-1) ** s, 0.35)
            with b.group("exhaust"):
                b.add(g.cylinder(0.07, cab_h, at=(-cab_l / 2 - 0.1, W * 0.4, z0 + cab_h * 0.6), sections=10), "stack")
                b.add(g.cylinder(0.09, 0.05, at=(-cab_l / 2 - 0.1, W * 0.4, z0 + cab_h * 1.1), sections=10), "cap")
    xc = xf - cab_l - 0.2 - cl / 2
    with b.group("cargo", T=g.tf(at=(xc, 0, z0))):
        if cargo == "box":
            ch = b.u(2.0, 2.7)
            b.add(g.box((cl, W, ch), (0, 0, ch / 2 + 0.1)), "container")
            with b.group("doors"):
                for s in range(2):
                    y = (s - 0.5) * W / 2
                    with b.group(f"door_{s}"):
                        b.add(g.box((0.03, W / 2 - 0.02, ch - 0.1), (-cl / 2 - 0.015, y, ch / 2 + 0.1)), "panel")
                        for k in range(2):
                            b.add(g.cylinder(0.02, ch * 0.8,
                                             at=(-cl / 2 - 0.05, y + (k - 0.5) * W * 0.25,
                                                 ch / 2 + 0.1), sections=6), f"lock_bar_{k}")
                        for k in range(3):
                            b.add(g.box((0.04, 0.12, 0.06),
                                        (-cl / 2 - 0.03, y + (s - 0.5) * W * 0.45, 0.4 + k * ch * 0.35)), f"hinge_{k}")
        elif cargo == "tank":
            r = W * 0.48
            b.add(g.capsule(r, cl - 2 * r * 0.6, axis="x", at=(0, 0, r + 0.2), sections=20), "tank")
            with b.group("top"):
                for k in range(b.i(2, 4)):
                    b.add(g.cylinder(0.25, 0.12, at=(cl * (k / 3 - 0.35), 0, 2 * r + 0.25), sections=12), f"hatch_{k}")
                b.add(g.box((cl * 0.8, 0.3, 0.02), (0, r * 0.2, 2 * r + 0.21)), "walkway")
            with b.group("ladder"):
                for s in range(2):
                    b.add(g.segment((-cl / 2 - 0.1, (s - 0.5) * 0.4, 0.1),
                                    (-cl / 2 + 0.2, (s - 0.5) * 0.4, 2 * r + 0.2), 0.02), f"rail_{s}")
                for k in range(6):
                    f = (k + 0.5) / 6
                    x = -cl / 2 - 0.1 + 0.3 * f
                    b.add(g.cylinder(0.015, 0.4, axis="y", at=(x, 0, 0.1 + f * (2 * r + 0.1)), sections=6), f"rung_{k}")
            b.add(g.box((cl * 0.9, 0.3, 0.25), (0, 0, 0.12)), "saddle")
        else:
            b.add(g.box((cl, W, 0.15), (0, 0, 0.1)), "deck")
            with b.group("stakes"):
                n = b.i(3, 6)
                for s in range(2):
                    for k in range(n):
                        x = cl * ((k + 0.5) / n - 0.5)
                        b.add(g.box((0.06, 0.06, 0.6), (x, (-1) ** s * (W / 2 - 0.03), 0.45)), f"stake_{s}_{k}")
            with b.group("load"):
                for k in range(b.i(1, 4)):
                    sz = b.u(0.6, 1.2)
                    b.add(g.box((sz, sz * b.u(0.8, 1.5), sz * b.u(0.6, 1.0)),
                                (cl * (k / 4 - 0.35) + sz / 2, b.u(-0.3, 0.3), 0.17 + sz * 0.4)), f"crate_{k}")
    with b.group("chassis"):
        with b.group("frame"):
            for s in range(2):
                b.add(g.box((L * 0.95, 0.12, 0.25), (0, (-1) ** s * W * 0.3, wr * 1.2)), f"rail_{s}")
            b.add(g.capsule(0.28, 0.8, axis="x", at=(xf - cab_l * 0.5, -W * 0.33, wr * 1.05), sections=14), "fuel_tank")
        axle_x = [xf - cab_l * 0.45] + [xc - cl * 0.25 - 2.5 * wr * k for k in range(n_rear)]
        for a, x in enumerate(axle_x):
            dual = a > 0
            with b.group(f"axle_{a}"):
                b.add(g.cylinder(0.06, W, axis="y", at=(x, 0, wr), sections=8), "shaft")
                for s in range(2):
                    left = s == 0
                    for k in range(2 if dual else 1):
                        y = (-1) ** s * (W / 2 - ww * 0.4 - k * ww * 1.05)
                        _wheel_at(b, f"wheel_{s}_{k}", (x, y, wr), left, radius=wr, width=ww,
                                  bolts=b.choice([6, 8, 10]), hub_cap=k == 0)
                    if dual:
                        b.add(g.box((0.02, ww * 1.8, 0.45), (x - wr - 0.15, (-1) ** s * (W / 2 - ww), 0.45)),
                              f"mudflap_{s}")


def bicycle(b: PartBuilder) -> None:
    wr = b.u(0.3, 0.36)
    wb = b.u(0.98, 1.12)
    rear, front = np.array([-wb / 2, 0, wr]), np.array([wb / 2, 0, wr])
    bb = np.array([-wb * 0.03, 0, wr - b.u(0.0, 0.06)])
    seat_top = bb + [-0.16, 0, b.u(0.5, 0.6)]
    head_lo = np.array([wb / 2 - 0.16, 0, wr + 0.3])
    head_hi = head_lo + [-0.06, 0, b.u(0.12, 0.2)]
    step_through = b.chance(0.2)
    with b.group("frame"):
        with b.group("main_triangle"):
            b.add(g.segment(bb, head_lo, 0.02), "down_tube")
            b.add(g.segment(bb, seat_top, 0.018), "seat_tube")
            top_start = seat_top - (seat_top - bb) * (0.55 if step_through else 0.08)
            b.add(g.segment(top_start, head_hi - [0.0, 0, 0.02], 0.017), "top_tube")
            b.add(g.segment(head_lo - [0.01, 0, 0.03], head_hi + [0, 0, 0.02], 0.024), "head_tube")
        with b.group("rear_triangle"):
            for s in range(2):
                y = (s - 0.5) * 0.1
                b.add(g.segment(bb + [0, y * 0.5, 0], rear + [0, y, 0], 0.011, sections=8), f"chain_stay_{s}")
                b.add(g.segment(seat_top - [0.03, -y * 0.3, 0.05], rear + [0, y, 0], 0.01, sections=8),
                      f"seat_stay_{s}")
    with b.group("steering"):
        with b.group("fork"):
            crown = head_lo - [0.0, 0, 0.05]
            b.add(g.box((0.05, 0.12, 0.03), crown), "crown")
            for s in range(2):
                y = (s - 0.5) * 0.1
                b.add(g.segment(crown + [0, y, 0], front + [0, y, 0], 0.012, sections=8), f"blade_{s}")
        with b.group("cockpit"):
            stem_top = head_hi + [0.06, 0, 0.06]
            b.add(g.segment(head_hi, stem_top, 0.015, sections=8), "stem")
            hw = b.u(0.2, 0.3)
            drop = b.chance(0.3)
            b.add(g.cylinder(0.012, 2 * hw, axis="y", at=stem_top, sections=8), "bar")
            for s in range(2):
                y = (-1) ** s * hw
                if drop:
                    b.add(g.torus(0.07, 0.012, axis="y", at=stem_top + [0.05, y, -0.07], sections=12,
                                  minor_sections=6), f"drop_{s}")
                else:
                    b.add(g.cylinder(0.017, 0.11, axis="y", at=stem_top + [0, y * 0.85, 0], sections=8), f"grip_{s}")
                b.add(g.segment(stem_top + [0.0, y * 0.7, 0], stem_top + [0.12, y * 0.75, -0.04], 0.006, sections=5),
                      f"brake_lever_{s}")
            if b.chance(0.5):
                b.add(g.sphere(0.022, at=stem_top + [0.0, hw * 0.45, 0.03], sections=8), "bell")
    with b.group("wheels"):
        spokes = b.choice([16, 20, 24, 28])
        for i, c in enumerate((rear, front)):
            _wheel_at(b, f"wheel_{i}", c, True, radius=wr, width=0.05, bolts=0, spokes=spokes, tyre_ratio=0.07)
    with b.group("saddle"):
        post_top = seat_top + (seat_top - bb) / np.linalg.norm(seat_top - bb) * b.u(0.08, 0.18)
        b.add(g.segment(seat_top, post_top, 0.013, sections=8), "post")
        b.add(g.cylinder(0.02, 0.03, at=seat_top, sections=8), "clamp")
        b.add(g.sphere(0.1, at=post_top + [0, 0, 0.025], sections=10, scale=(1.3, 0.7, 0.3)), "seat")
    with b.group("drivetrain"):
        with b.group("crankset"):
            b.add(g.cylinder(0.095, 0.008, axis="y", at=bb + [0, -0.05, 0], sections=24), "chainring")
            ang = b.u(0, np.pi)
            for s in range(2):
                sg = (-1) ** s
                d = np.array([np.cos(ang), 0, np.sin(ang)]) * sg
                end = bb + d * 0.17 + [0, -sg * 0.07, 0]
                with b.group(f"side_{s}"):
                    b.add(g.segment(bb + [0, -sg * 0.06, 0], end, 0.011, sections=6), "crank")
                    b.add(g.box((0.09, 0.08, 0.02), end + [0, -sg * 0.05, 0]), "pedal")
        b.add(g.cylinder(0.045, 0.02, axis="y", at=rear + [0, -0.05, 0], sections=16), "cassette")
        for k, zoff in enumerate((0.095, -0.095)):
            a = bb + [0, -0.05, zoff]
            c = rear + [0, -0.05, zoff * 0.47]
            b.add(g.segment(a, c, 0.004, sections=4), f"chain_{k}")
    if b.chance(0.4):
        with b.group("accessories"):
            b.add(g.segment(bb + [-0.1, 0.06, 0], bb + [-0.25, 0.12, -bb[2] + 0.01], 0.01, sections=6), "kickstand")
            if b.chance(0.5):
                b.add(g.box((0.3, 0.14, 0.01), rear + [0.0, 0, wr * 1.15]), "rack")


def motorcycle(b: PartBuilder) -> None:
    wr = b.u(0.29, 0.34)
    wb = b.u(1.3, 1.55)
    rear, front = np.array([-wb / 2, 0, wr]), np.array([wb / 2, 0, wr])
    head = front + [-0.3, 0, 0.65]
    with b.group("wheels"):
        for i, c in enumerate((rear, front)):
            with b.group(f"wheel_{i}", T=g.tf(at=c, rx=OUT_LEFT)):
                wheel(b, radius=wr, width=0.13 if i == 0 else 0.11, bolts=5, hub_cap=True, tyre_ratio=0.28)
                with b.group("brake"):
                    b.add(g.cylinder(wr * 0.45, 0.006, at=(0, 0, -0.05), sections=24), "disc")
                    for k in range(4):
                        a = np.pi / 2 * k
                        b.add(g.cylinder(0.008, 0.01, at=(np.cos(a) * wr * 0.2, np.sin(a) * wr * 0.2, -0.056),
                                         sections=6), f"bolt_{k}")
                    b.add(g.box((0.08, 0.05, 0.04), (wr * 0.4, wr * 0.1, -0.08)), "caliper")
    with b.group("front"):
        with b.group("fork"):
            for s in range(2):
                y = (s - 0.5) * 0.18
                b.add(g.segment(front + [0, y, 0], head + [0, y, 0], 0.025, sections=10), f"tube_{s}")
            b.add(g.box((0.08, 0.26, 0.05), head), "triple_clamp")
        with b.group("handlebar"):
            hb = head + [-0.05, 0, 0.12]
            b.add(g.cylinder(0.013, 0.7, axis="y", at=hb, sections=8), "bar")
            for s in range(2):
                y = (-1) ** s * 0.33
                b.add(g.cylinder(0.02, 0.12, axis="y", at=hb + [0, y, 0], sections=8), f"grip_{s}")
                _mirror(b, f"mirror_{s}", hb + [0, y * 0.7, 0.01], (-1) ** s, 0.12)
        with b.group("headlight"):
            b.add(g.cylinder(0.09, 0.12, axis="x", at=head + [0.12, 0, -0.05], sections=16), "housing")
            b.add(g.cylinder(0.08, 0.01, axis="x", at=head + [0.185, 0, -0.05], sections=16), "lens")
        b.add(g.box((0.45, 0.14, 0.03), front + [0, 0, wr + 0.08]), "fender")
    with b.group("body"):
        tank_c = (head + np.array([-0.5, 0, 0.85])) / 2 + [-0.05, 0, 0.05]
        b.add(g.sphere(0.22, at=tank_c, sections=14, scale=(1.4, 0.85, 0.7)), "tank")
        b.add(g.cylinder(0.04, 0.02, at=tank_c + [0.05, 0, 0.15], sections=10), "fuel_cap")
        seat_c = np.array([-0.3, 0, 0.82])
        b.add(g.box((0.6, 0.26, 0.09), seat_c), "seat")
        b.add(side_prism([(-0.6, 0.72), (-0.2, 0.72), (-0.2, 0.78), (-0.75, 0.9)], 0.22), "tail")
        b.add(g.box((0.04, 0.12, 0.05), (-0.76, 0, 0.86)), "tail_light")
        b.add(g.box((0.5, 0.14, 0.03), rear + [0.05, 0, wr + 0.06]), "rear_fender")
    with b.group("engine"):
        eb = np.array([-0.05, 0, wr + 0.05])
        b.add(g.box((0.35, 0.3, 0.25), eb + [0, 0, 0.1]), "block")
        n_cyl = b.i(1, 2)
        for c in range(n_cyl):
            with b.group(f"cylinder_{c}", T=g.tf(at=eb + [0.05 - 0.18 * c, 0, 0.22], ry=0.35 - 0.7 * c)):
                for k in range(b.i(4, 7)):
                    b.add(g.cylinder(0.11, 0.012, at=(0, 0, 0.03 + k * 0.03), sections=14), f"fin_{k}")
                b.add(g.cylinder(0.06, 0.24, at=(0, 0, 0.12), sections=12), "barrel")
        with b.group("exhaust"):
            p0 = eb + [0.15, 0.12, 0.0]
            p1 = np.array([-0.35, 0.17, wr - 0.05])
            b.add(g.segment(p0, p1, 0.025, sections=8), "pipe")
            b.add(g.cylinder(0.06, 0.45, axis="x", at=p1 + [-0.2, 0, 0.03], sections=12), "muffler")
    with b.group("frame"):
        b.add(g.segment(head + [0, 0, -0.05], eb + [0.15, 0, 0.05], 0.025, sections=8), "down_tube")
        b.add(g.segment(head + [-0.03, 0, 0.02], np.array([-0.25, 0, 0.75]), 0.025, sections=8), "backbone")
        for s in range(2):
            y = (s - 0.5) * 0.2
            b.add(g.segment(np.array([-0.15, y, wr + 0.05]), rear + [0, y, 0], 0.02, sections=8), f"swingarm_{s}")
        for s in range(2):
            y = (-1) ** s * 0.2
            b.add(g.cylinder(0.015, 0.08, axis="y", at=(-0.1, y, wr - 0.05), sections=6), f"footpeg_{s}")
        b.add(g.segment((-0.1, 0.15, wr - 0.02), (-0.3, 0.3, 0.01), 0.012, sections=6), "kickstand")


def airplane(b: PartBuilder) -> None:
    L = b.u(14, 40)
    r = L * b.u(0.045, 0.06)
    nose_l, tail_l = r * b.u(1.5, 2.5), r * b.u(3.0, 4.5)
    body_l = L - nose_l - tail_l
    x0 = -L / 2
    zc = r * 2.2
    a = np.linspace(0, np.pi / 2, 7)
    prof = [(0.0, 0.0), (0.25 * r, 0.0), (r, tail_l), (r, tail_l + body_l)]
    prof += [(r * np.cos(t), tail_l + body_l + nose_l * np.sin(t)) for t in a[1:-1]] + [(0.0, L)]
    v, f = g.orient(g.lathe(prof, 20), "x", (x0, 0, zc))  # tail at x0, nose at +L/2
    rise = np.clip((x0 + tail_l - v[:, 0]) / tail_l, 0, 1) * r * 0.7  # upswept tail cone
    v = v + np.c_[np.zeros_like(rise), np.zeros_like(rise), rise]
    with b.group("fuselage"):
        b.add((v, f), "body")
        with b.group("cockpit"):
            for s in range(2):
                b.add(g.box((r * 0.35, r * 0.45, r * 0.2),
                            (L / 2 - nose_l * 0.55, (s - 0.5) * r * 0.5, zc + r * 0.78)), f"pane_{s}")
        n_win = b.i(8, 24)
        with b.group("windows"):
            for s in range(2):
                with b.group(f"row_{s}"):
                    for w in range(n_win):
                        x = L / 2 - nose_l - r * 1.2 - w * (body_l - 2 * r) / n_win
                        b.add(g.box((r * 0.12, r * 0.05, r * 0.18), (x, (-1) ** s * r * 0.955, zc + r * 0.3)),
                              f"window_{w}")
        with b.group("doors"):
            for s in range(2):
                b.add(g.box((r * 0.35, r * 0.04, r * 0.7),
                            (L / 2 - nose_l - r * 0.5, (-1) ** s * r * 0.99, zc + r * 0.05)), f"door_{s}")
    span = L * b.u(0.8, 1.1)
    root, tip = L * b.u(0.14, 0.2), L * b.u(0.04, 0.07)
    sweep = span / 2 * b.u(0.2, 0.6)
    wx = b.u(-0.05, 0.08) * L
    n_eng = b.choice([1, 1, 2])
    with b.group("wings"):
        for s in range(2):
            side = (-1) ** s
            with b.group(f"wing_{s}", T=g.tf(at=(wx, side * r * 0.6, zc - r * 0.55), rx=side * 0.06)):
                flip = np.diag([1.0, side, 1.0])
                def put(m):
                    v, f = m
                    v = v @ flip.T
                    return (v, f[:, ::-1].copy() if side < 0 else f)
                b.add(put(g.wing(root, tip, span / 2, r * 0.18, sweep)), "panel")
                fy0, fy1 = span * 0.05, span * 0.22
                for name, (y0, y1) in (("flap", (fy0, fy1)), ("aileron", (span * 0.28, span * 0.42))):
                    ym = (y0 + y1) / 2
                    cm = root + (tip - root) * ym / (span / 2)
                    xm = -cm / 2 - sweep * ym / (span / 2)
                    b.add(put(g.box((cm * 0.22, y1 - y0, r * 0.08), (xm - cm * 0.1, ym, 0))), name)
                b.add(put(g.box((tip * 0.8, r * 0.08, r * 0.8), (-sweep - tip * 0.1, span / 2, r * 0.35))), "winglet")
                for e in range(n_eng):
                    ey = span * (0.17 + 0.15 * e)
                    ex = root * 0.55 - sweep * ey / (span / 2)
                    er = r * b.u(0.35, 0.5)
                    with b.group(f"engine_{e}"):
                        b.add(put(g.tube(er * 0.85, er, er * 3.2, axis="x", at=(ex, ey, -er * 1.2), sections=16)),
                              "nacelle")
                        b.add(put(g.cylinder(er * 0.85, er * 0.1, axis="x", at=(ex + er * 1.1, ey, -er * 1.2),
                                             sections=16)), "fan")
                        b.add(put(g.frustum(er * 0.5, 0.0, er * 0.6, axis="x", at=(ex + er * 1.1, ey, -er * 1.2),
                                            sections=12)), "spinner")
                        b.add(put(g.box((er * 1.8, er * 0.25, er * 0.8), (ex - er * 0.3, ey, -er * 0.4))), "pylon")
    with b.group("tail", T=g.tf(at=(x0 + tail_l * 0.45, 0, zc + r * 0.385))):
        fin_h, fin_c = L * b.u(0.12, 0.18), L * b.u(0.1, 0.14)
        with b.group("vertical"):
            fin = g.transform(g.wing(fin_c, fin_c * 0.45, fin_h, r * 0.12, fin_c * 0.6),
                              g.tf(at=(0, 0, r * 0.4), rx=np.pi / 2))
            b.add(fin, "fin")
            te0 = np.array([-fin_c / 2 - fin_c * 0.05, 0, r * 0.4 + fin_h * 0.1])
            te1 = np.array([-fin_c * 0.225 - fin_c * 0.6 - fin_c * 0.05, 0, r * 0.4 + fin_h * 0.85])
            b.add(g.beam(te0, te1, fin_c * 0.18, r * 0.1, up=(0, 1, 0)), "rudder")
        with b.group("horizontal"):
            hs = span * b.u(0.3, 0.4)
            for s in range(2):
                side = (-1) ** s
                with b.group(f"stabilizer_{s}"):
                    m = g.wing(fin_c * 0.8, fin_c * 0.35, hs / 2, r * 0.1, fin_c * 0.4)
                    v, f = m
                    v = v * [1, side, 1]
                    b.add((v, f[:, ::-1].copy() if side < 0 else f), "plane")
                    b.add(g.box((fin_c * 0.15, hs * 0.35, r * 0.06),
                                (-fin_c * 0.5 - fin_c * 0.1, side * hs * 0.2, 0)), "elevator")
    with b.group("landing_gear"):
        gear_h = zc - r
        def leg(name, x, y, n_wheels):
            with b.group(name):
                wr = gear_h * 0.3
                b.add(g.segment((x, y, zc - r * 0.8), (x, y, wr), r * 0.06, sections=8), "strut")
                for w in range(n_wheels):
                    yy = y + (w - (n_wheels - 1) / 2) * wr * 1.3
                    b.add(g.cylinder(wr, wr * 0.6, axis="y", at=(x, yy, wr), sections=14), f"wheel_{w}")
        leg("nose", L / 2 - nose_l * 1.2, 0, 2)
        for s in range(2):
            leg(f"main_{s}", wx - root * 0.1, (-1) ** s * r * 1.3, 2)


def rocket(b: PartBuilder) -> None:
    r = b.u(0.3, 0.6)
    n = b.i(2, 3)
    z = r * 0.9
    with b.group("core"):
        for k in range(n):
            sh = r * b.u(3.0, 7.0) / (1 + k * 0.6)
            rk = r * (1 - 0.15 * k)
            with b.group(f"stage_{k}"):
                b.add(g.cylinder(rk, sh, at=(0, 0, z + sh / 2), sections=24), "tank")
                b.add(g.torus(rk, rk * 0.05, at=(0, 0, z + sh), sections=24, minor_sections=6), "joint_ring")
                if k > 0:
                    b.add(g.frustum(r * (1 - 0.15 * (k - 1)), rk, rk * 0.5, at=(0, 0, z - rk * 0.5 + 0.001),
                                    sections=24), "interstage")
                for j in range(b.i(0, 3)):
                    a = b.u(0, 2 * np.pi)
                    b.add(g.box((0.05, 0.05, sh * 0.6), (np.cos(a) * rk * 1.02, np.sin(a) * rk * 1.02, z + sh / 2)),
                          f"conduit_{j}")
            z += sh
        rt = r * (1 - 0.15 * (n - 1))
        with b.group("payload"):
            fl = rt * b.u(2.0, 3.5)
            a = np.linspace(0, np.pi / 2, 8)
            prof = [(0.0, 0.0)] + [(rt * np.cos(t) ** 0.8, fl * np.sin(t)) for t in a[:-1]] + [(0.0, fl)]
            b.add(g.lathe(prof, 24, at=(0, 0, z)), "fairing")
            b.add(g.cylinder(rt * 0.05, rt * 0.8, at=(0, 0, z + fl + rt * 0.3), sections=6), "probe")
    with b.group("propulsion"):
        ne = b.choice([1, 3, 4, 5, 9])
        er = r * (0.5 if ne == 1 else 0.25)
        b.add(g.cylinder(r * 0.95, 0.08, at=(0, 0, r * 0.9 - 0.04), sections=20), "thrust_plate")
        ring = ne - 1 if ne in (5, 9) else ne
        pts = [np.array([np.cos(2 * np.pi * e / ring), np.sin(2 * np.pi * e / ring),
                         0.0]) * r * (0.62 if ne >= 5 else 0.5)
               for e in range(ring)] if ne > 1 else []
        pts += [np.zeros(3)] if ne in (1, 5, 9) else []
        for e, p in enumerate(pts):
            b.add(g.lathe([(0, 0), (er, 0), (er * 0.45, er * 1.3), (er * 0.45, er * 1.6), (0, er * 1.6)], 14,
                          at=p + [0, 0, r * 0.9 - er * 1.6 - 0.08]), f"nozzle_{e}")
    nf = b.choice([3, 4])
    with b.group("fins"):
        fh = r * b.u(1.5, 3.0)
        for i in range(nf):
            a = 2 * np.pi * i / nf + np.pi / 4
            fin = g.wing(fh, fh * 0.4, r * b.u(0.8, 1.3), r * 0.08, fh * 0.4)
            fin = g.transform(fin, g.tf(at=(0, r * 0.95, r * 0.9 + fh / 2), ry=-np.pi / 2))
            b.add(g.transform(fin, g.tf(rz=a)), f"fin_{i}")
    if b.chance(0.5):
        nb = b.choice([2, 2, 4])
        br = r * b.u(0.3, 0.45)
        bl = r * b.u(4, 7)
        with b.group("boosters"):
            for k in range(nb):
                a = 2 * np.pi * k / nb
                c = np.array([np.cos(a), np.sin(a), 0]) * (r + br * 1.05)
                with b.group(f"booster_{k}"):
                    b.add(g.cylinder(br, bl, at=c + [0, 0, r * 0.9 + bl / 2], sections=16), "tank")
                    b.add(g.frustum(br, 0.0, br * 2.5, at=c + [0, 0, r * 0.9 + bl], sections=16), "nose")
                    b.add(g.frustum(br * 0.5, br * 0.8, br * 1.0, at=c + [0, 0, r * 0.9 - br], sections=12), "nozzle")
                    for j, zz in enumerate((0.2, 0.8)):
                        u = c / np.linalg.norm(c)
                        z = r + bl * zz
                        strut = g.segment(u * r * 0.98 + [0, 0, z], c - u * br + [0, 0, z], br * 0.12, sections=6)
                        b.add(strut, f"strut_{j}")


def drone(b: PartBuilder) -> None:
    n = b.choice([4, 4, 6, 8])
    arm = b.u(0.15, 0.35)
    bw = arm * b.u(0.5, 0.8)
    hz = b.u(0.12, 0.2)
    with b.group("body"):
        b.add(g.sphere(bw / 2, at=(0, 0, hz), sections=16, scale=(1.3, 1.0, 0.45)), "hull")
        b.add(g.box((bw * 0.7, bw * 0.4, bw * 0.15), (-bw * 0.1, 0, hz + bw * 0.25)), "battery")
        b.add(g.box((bw * 0.15, bw * 0.12, bw * 0.03), (bw * 0.35, 0, hz + bw * 0.2)), "status_led")
        if b.chance(0.6):
            with b.group("gps"):
                b.add(g.segment((0, 0, hz + bw * 0.3), (0, 0, hz + bw * 0.55), bw * 0.02, sections=6), "mast")
                b.add(g.cylinder(bw * 0.12, bw * 0.04, at=(0, 0, hz + bw * 0.57), sections=12), "puck")
        with b.group("gimbal", T=g.tf(at=(bw * 0.45, 0, hz - bw * 0.2))):
            b.add(g.box((bw * 0.08, bw * 0.3, bw * 0.12), (0, 0, 0)), "mount")
            b.add(g.box((bw * 0.22, bw * 0.22, bw * 0.18), (bw * 0.06, 0, -bw * 0.14)), "camera")
            b.add(g.cylinder(bw * 0.06, bw * 0.06, axis="x", at=(bw * 0.19, 0, -bw * 0.14), sections=12), "lens")
    pr = arm * b.u(0.5, 0.7) if n == 4 else arm * 0.45
    blades = b.choice([2, 2, 3])
    with b.group("arms"):
        for k in range(n):
            a = 2 * np.pi * (k + 0.5) / n
            d = np.array([np.cos(a), np.sin(a), 0.0])
            tip = d * arm + [0, 0, hz + 0.01]
            with b.group(f"arm_{k}"):
                b.add(g.beam(d * bw * 0.3 + [0, 0, hz], tip, arm * 0.08, arm * 0.06), "tube")
                with b.group("motor", T=g.tf(at=tip)):
                    b.add(g.cylinder(arm * 0.1, arm * 0.12, at=(0, 0, arm * 0.06), sections=14), "bell")
                    for j in range(4):
                        c = np.array([np.cos(j * np.pi / 2 + a), np.sin(j * np.pi / 2 + a), 0]) * arm * 0.06
                        screw(b, f"screw_{j}", c + [0, 0, arm * 0.12], "z", arm * 0.012, head="hex")
                with b.group("propeller", T=g.tf(at=tip + [0, 0, arm * 0.14], rz=b.u(0, np.pi))):
                    propeller(b, pr, blades)
                b.add(g.sphere(arm * 0.025, at=tip - [0, 0, arm * 0.03], sections=6), "led")
    with b.group("landing_gear"):
        if b.chance(0.5):
            for s in range(2):
                y = (-1) ** s * bw * 0.45
                with b.group(f"skid_{s}"):
                    for j in range(2):
                        x = (j - 0.5) * bw * 0.7
                        b.add(g.segment((x, y * 0.6, hz - bw * 0.15), (x, y, 0.01), arm * 0.025, sections=6),
                              f"leg_{j}")
                    b.add(g.cylinder(arm * 0.03, bw * 1.2, axis="x", at=(0, y, 0.01), sections=8), "bar")
        else:
            for k in range(4):
                a = 2 * np.pi * (k + 0.5) / 4
                d = np.array([np.cos(a), np.sin(a), 0.0])
                with b.group(f"leg_{k}"):
                    b.add(g.segment(d * bw * 0.35 + [0, 0, hz - 0.02], d * bw * 0.55 + [0, 0, 0.015], arm * 0.025,
                                    sections=6), "strut")
                    b.add(g.sphere(arm * 0.035, at=d * bw * 0.55 + [0, 0, 0.015], sections=8), "foot")


def wheelbarrow(b: PartBuilder) -> None:
    L = b.u(1.3, 1.6)
    wr = b.u(0.17, 0.24)
    tr0, tr1, th = b.u(0.2, 0.3), b.u(0.38, 0.5), b.u(0.2, 0.32)
    t = 0.012
    tz = wr + 0.15
    tx = -L * 0.05
    tray = g.lathe([(0, 0), (tr0, 0), (tr1, th), (tr1 - t, th), (tr0 - t, t), (0, t)], 4)
    tray = g.transform(tray, g.tf(rz=np.pi / 4))  # flat sides facing the axes, half-width r / sqrt(2)
    tray = (tray[0] * [1.5, 1.1, 1.0] + [tx, 0, tz], tray[1])
    hl, hw = 1.5 * tr1 / np.sqrt(2), 1.1 * tr1 / np.sqrt(2)
    with b.group("tray"):
        b.add(tray, "bin")
        with b.group("rim"):
            for s in range(2):
                b.add(g.cylinder(0.012, 2 * hl, axis="x", at=(tx, (-1) ** s * hw, tz + th), sections=8), f"side_{s}")
                b.add(g.cylinder(0.012, 2 * hw, axis="y", at=(tx + (-1) ** s * hl, 0, tz + th), sections=8), f"end_{s}")
    wx = L * 0.45
    with b.group("frame"):
        with b.group("handles"):
            for s in range(2):
                y0, y1 = (-1) ** s * 0.08, (-1) ** s * b.u(0.26, 0.32)
                p0, p1 = np.array([wx, y0, wr]), np.array([-L * 0.55, y1, wr + 0.45])
                with b.group(f"handle_{s}"):
                    b.add(g.segment(p0, p1, 0.02, sections=8), "rail")
                    d = (p1 - p0) / np.linalg.norm(p1 - p0)
                    b.add(g.segment(p1 - d * 0.15, p1 + d * 0.02, 0.028, sections=8), "grip")
        with b.group("legs"):
            for s in range(2):
                f = 0.65
                y = (-1) ** s * (0.08 + (b.u(0.26, 0.32) - 0.08) * f)
                top = np.array([wx + (-L * 0.55 - wx) * f, y, wr + 0.45 * f])
                with b.group(f"leg_{s}"):
                    b.add(g.segment(top, top * [1, 1, 0] + [0.05, 0, 0.03], 0.018, sections=8), "post")
                    b.add(g.cylinder(0.03, 0.02, at=top * [1, 1, 0] + [0.05, 0, 0.01], sections=8), "foot")
        with b.group("braces"):
            for s in range(2):
                b.add(g.box((0.04, 0.6, 0.03), (tx + (s - 0.5) * tr1, 0, tz - 0.01)), f"brace_{s}")
    with b.group("front"):
        with b.group("fork"):
            for s in range(2):
                b.add(g.segment((wx, (-1) ** s * 0.07, wr), (wx - 0.2, (-1) ** s * 0.1, wr + 0.12), 0.014,
                                sections=6), f"arm_{s}")
            b.add(g.cylinder(0.012, 0.18, axis="y", at=(wx, 0, wr), sections=6), "axle")
        _wheel_at(b, "wheel", (wx, 0, wr), True, radius=wr, width=0.08, bolts=b.i(0, 4), tyre_ratio=0.3)


def shopping_cart(b: PartBuilder) -> None:
    L, W, H = b.u(0.8, 1.0), b.u(0.5, 0.6), b.u(0.35, 0.45)
    z0 = b.u(0.45, 0.55)
    wire = 0.005
    with b.group("basket", T=g.tf(at=(0.05, 0, z0))):
        with b.group("bottom"):
            nx = int(L / 0.06)
            for k in range(nx + 1):
                x = -L / 2 + L * k / nx
                b.add(g.cylinder(wire, W, axis="y", at=(x, 0, 0), sections=4), f"wire_{k}")
            for s in range(2):
                b.add(g.cylinder(wire * 1.6, L, axis="x", at=(0, (-1) ** s * W / 2, 0), sections=6), f"edge_{s}")
        for s in range(2):
            y = (-1) ** s * W / 2
            with b.group(f"side_{s}"):
                nx = int(L / 0.05)
                for k in range(nx + 1):
                    x = -L / 2 + L * k / nx
                    b.add(g.cylinder(wire, H, at=(x, y, H / 2), sections=4), f"wire_{k}")
                b.add(g.cylinder(wire * 2, L, axis="x", at=(0, y, H), sections=6), "top_rail")
        for s, x in enumerate((L / 2, -L / 2)):
            with b.group("front" if s == 0 else "back"):
                ny = int(W / 0.05)
                for k in range(ny + 1):
                    y = -W / 2 + W * k / ny
                    b.add(g.cylinder(wire, H, at=(x, y, H / 2), sections=4), f"wire_{k}")
                b.add(g.cylinder(wire * 2, W, axis="y", at=(x, 0, H), sections=6), "top_rail")
        if b.chance(0.6):
            with b.group("child_seat"):
                b.add(g.box((0.2, W * 0.8, 0.01), (-L / 2 + 0.12, 0, H * 0.7)), "flap")
                for s in range(2):
                    b.add(g.box((0.02, 0.04, 0.06), (-L / 2 - 0.01, (s - 0.5) * W * 0.6, H * 0.7)), f"hinge_{s}")
    with b.group("chassis"):
        with b.group("frame"):
            for s in range(2):
                y = (-1) ** s * W * 0.4
                b.add(g.segment((L * 0.55, y * 0.8, 0.12), (-L * 0.5, y, 0.12), 0.012, sections=8), f"base_rail_{s}")
                b.add(g.segment((-L * 0.5, y, 0.12), (-L * 0.45, y, z0 + H + 0.15), 0.012, sections=8), f"upright_{s}")
            b.add(g.box((L * 0.7, W * 0.7, 0.01), (0, 0, 0.15)), "lower_tray")
        with b.group("handle"):
            hz = z0 + H + 0.15
            b.add(g.cylinder(0.012, W * 0.9, axis="y", at=(-L * 0.45, 0, hz), sections=8), "bar")
            b.add(g.cylinder(0.02, W * 0.7, axis="y", at=(-L * 0.45, 0, hz), sections=10), "grip")
        with b.group("casters"):
            cr = 0.05
            for k, (x,
                    y) in enumerate([(L * 0.5, W * 0.32), (L * 0.5, -W * 0.32), (-L * 0.45, W * 0.4),
                                     (-L * 0.45, -W * 0.4)]):
                with b.group(f"caster_{k}", T=g.tf(at=(x, y, 0), rz=b.jitter(30) if k < 2 else 0.0)):
                    b.add(g.box((0.04, 0.04, 0.01), (0, 0, 0.115)), "plate")
                    for s in range(2):
                        b.add(g.box((0.05, 0.005, 0.07), (0.01, (s - 0.5) * 0.035, 0.075)), f"fork_{s}")
                    b.add(g.cylinder(cr, 0.025, axis="y", at=(0.015, 0, cr), sections=12), "wheel")
                    b.add(g.cylinder(0.006, 0.045, axis="y", at=(0.015, 0, cr), sections=6), "axle")


CATEGORIES = {
    "car": car, "truck": truck, "bicycle": bicycle, "motorcycle": motorcycle, "airplane": airplane,
    "rocket": rocket, "drone": drone, "wheelbarrow": wheelbarrow, "shopping_cart": shopping_cart,
}
