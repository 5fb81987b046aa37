"""Household objects and tools: mug set, kettle, guitar, hammer, wrench, screwdriver, toolbox, step ladder, alarm clock.

Local frames: z up, resting on z=0.
"""
from __future__ import annotations

import numpy as np

from . import geom as g
from .builder import PartBuilder
from .parts import screw


def _handle_arc(b: PartBuilder, p_top, p_bot, out: float, r: float, n: int = 6) -> None:
    """C-shaped handle in the xz plane from ``p_top`` to ``p_bot``, bulging towards +x.

    Parts: ``grip``, ``join_0``, ``join_1``.
    """
    p_top, p_bot = np.asarray(p_top, float), np.asarray(p_bot, float)
    t = np.linspace(0, np.pi, n + 1)
    mid = (p_top + p_bot) / 2
    half = (p_top - p_bot) / 2
    pts = [mid + half * np.cos(a) + np.array([out * np.sin(a), 0, 0]) for a in t]
    pieces = [g.segment(pts[k], pts[k + 1], r, sections=8) for k in range(1, n - 1)]
    pieces += [g.sphere(r, at=pts[k], sections=8) for k in range(2, n - 1)]
    b.add(g.merge(*pieces), "grip")
    b.add(g.segment(pts[0] - [r, 0, 0], pts[1], r * 1.1, sections=8), "join_0")
    b.add(g.segment(pts[n] - [r, 0, 0], pts[n - 1], r * 1.1, sections=8), "join_1")


def mug(b: PartBuilder) -> None:
    r, h = b.u(0.035, 0.055), b.u(0.08, 0.13)
    flare = b.u(0.9, 1.2)
    t = r * 0.08
    zs = 0.0
    saucer = b.chance(0.6)
    if saucer:
        sr = r * b.u(1.8, 2.3)
        with b.group("saucer"):
            b.add(g.lathe([(0, 0), (sr * 0.5, 0), (sr * 0.55, 0.006), (sr, 0.018), (sr * 0.97, 0.022),
                           (sr * 0.55, 0.01), (0, 0.012)], 28), "plate")
            b.add(g.torus(sr * 0.42, 0.003, at=(0, 0, 0.003), sections=24, minor_sections=5), "foot_ring")
        zs = 0.012
    else:
        with b.group("coaster"):
            cr = r * b.u(1.5, 1.9)
            b.add(g.cylinder(cr, 0.006, at=(0, 0, 0.003), sections=24), "disc")
            for k in range(b.i(2, 4)):
                b.add(g.torus(cr * (0.5 + 0.15 * k), 0.002, at=(0, 0, 0.006), sections=24, minor_sections=4),
                      f"ring_{k}")
        zs = 0.006
    with b.group("mug", T=g.tf(at=(0, 0, zs))):
        rt = r * flare
        with b.group("cup"):
            b.add(g.lathe([(0, 0.004), (r * 0.9, 0.004), (r, 0.012), (rt, h), (rt - t, h), (r - t, t + 0.006),
                           (0, t + 0.006)], 28), "wall")
            b.add(g.torus(r * 0.85, 0.004, at=(0, 0, 0.004), sections=24, minor_sections=5), "foot_ring")
            if b.chance(0.5):
                b.add(g.tube(rt * 1.0 - t * 0.2, rt + 0.0015, h * 0.12, at=(0, 0, h * 0.8), sections=28), "band")
            if b.chance(0.5):
                a = b.u(2.0, 4.3)
                rm = (r + rt) / 2
                b.add(g.transform(g.box((0.002, r * 0.8, h * 0.3)),
                                  g.tf(at=(np.cos(a) * rm, np.sin(a) * rm, h * 0.5), rz=a)), "decal")
        with b.group("handle"):
            x = (r + rt) / 2 - t
            _handle_arc(b, (x, 0, h * 0.82), (x * 0.98, 0, h * 0.22), h * b.u(0.3, 0.45), r * 0.11)
        if b.chance(0.25):
            with b.group("lid"):
                b.add(g.cylinder(rt * 1.03, 0.01, at=(0, 0, h + 0.005), sections=28), "disc")
                b.add(g.box((r * 0.5, r * 0.2, 0.006), (rt * 0.6, 0, h + 0.013)), "sip_tab")
    if b.chance(0.4):
        with b.group("spoon", T=g.tf(at=(r * 1.4, -r * 0.8, zs + 0.005), rz=b.u(-1.2, -0.3))):
            b.add(g.sphere(1.0, at=(0, 0, 0.004), sections=10, scale=(r * 0.45, r * 0.3, 0.004)), "bowl")
            b.add(g.beam((r * 0.45, 0, 0.004), (r * 2.8, 0, 0.008), r * 0.12, 0.002), "stem")


def kettle(b: PartBuilder) -> None:
    r, h = b.u(0.07, 0.11), b.u(0.16, 0.25)
    with b.group("base"):
        b.add(g.cylinder(r * 1.15, 0.02, at=(0, 0, 0.01), sections=28), "plate")
        b.add(g.box((0.015, 0.02, 0.01), (-r * 1.15, 0, 0.01)), "cord_socket")
        b.add(g.segment((-r * 1.15, 0, 0.01), (-r * 1.15 - 0.08, 0.04, 0.004), 0.003, sections=5), "cord")
    z0 = 0.02
    shape = b.choice(["jug", "round", "cone"])
    if shape == "jug":
        prof = [(0, 0), (r, 0), (r * 1.02, h * 0.5), (r * 0.9, h), (0, h)]
    elif shape == "round":
        prof = [(0, 0), (r * 0.8, 0)] + [(r * np.cos(a) * 1.05,
                                          h * 0.45 + h * 0.5 * np.sin(a)) for a in np.linspace(-0.9, 1.2, 6)] + [(0, h)]
    else:
        prof = [(0, 0), (r * 1.1, 0), (r * 0.55, h), (0, h)]
    top_r = prof[-2][0]
    with b.group("kettle", T=g.tf(at=(0, 0, z0))):
        with b.group("body"):
            b.add(g.lathe(prof, 28), "shell")
            with b.group("gauge"):
                gx = -r * 0.95 if shape != "cone" else -r * 0.85
                b.add(g.box((0.006, r * 0.3, h * 0.5), (gx, r * 0.35, h * 0.4)), "window")
                for k in range(b.i(3, 5)):
                    b.add(g.box((0.004, r * 0.12, 0.003), (gx - 0.003, r * 0.35, h * (0.2 + 0.12 * k))), f"mark_{k}")
        with b.group("lid"):
            b.add(g.cylinder(top_r * 0.85, 0.012, at=(0, 0, h + 0.006), sections=24), "disc")
            b.add(g.sphere(top_r * 0.25, at=(0, 0, h + 0.02), sections=10, scale=(1, 1, 0.6)), "knob")
        with b.group("spout"):
            base = np.array([r * (0.95 if shape != "cone" else 0.8), 0, h * 0.55])
            tip = base + np.array([r * 0.7, 0, h * 0.35])
            b.add(g.segment(base - [r * 0.2, 0, 0], tip, r * 0.2, r_end=r * 0.09, sections=12), "pipe")
            b.add(g.box((0.004, r * 0.18, r * 0.12), tip + [0.0, 0, 0.0]), "filter")
        with b.group("handle"):
            if shape == "cone":
                b.add(g.torus(top_r * 1.2, r * 0.08, axis="y", at=(0, 0, h + top_r * 0.4), sections=16,
                              minor_sections=6), "grip")
                for s in range(2):
                    b.add(g.sphere(r * 0.1, at=((-1) ** s * top_r * 1.2, 0, h + top_r * 0.4), sections=8), f"pivot_{s}")
            else:
                with b.group(T=g.tf(rz=np.pi)):
                    _handle_arc(b, (r * 0.95, 0, h * 0.9), (r * 0.98, 0, h * 0.25), r * b.u(0.5, 0.8), r * 0.13)
                b.add(g.box((r * 0.15, r * 0.12, 0.01), (-r * 1.3, 0, h * 0.93)), "switch")


def guitar_parts(b: PartBuilder) -> None:
    """Guitar lying in the xy plane (strings up, +z), body at the origin, neck along +x."""
    bl = b.u(0.42, 0.52)
    th = b.u(0.08, 0.11) if b.chance(0.6) else 0.045  # acoustic or solid
    acoustic = th > 0.06
    r1, r2 = bl * b.u(0.36, 0.42), bl * b.u(0.27, 0.32)
    with b.group("body"):
        lower = g.cylinder(r1, th, at=(0, 0, 0), sections=32)
        upper = g.cylinder(r2, th, at=(bl * 0.55, 0, 0), sections=28)
        b.add(g.merge(lower, upper, g.box((bl * 0.4, r2 * 1.4, th), (bl * 0.3, 0, 0))), "shell")
        if acoustic:
            b.add(g.torus(r2 * 0.38, 0.005, at=(bl * 0.42, 0, th / 2), sections=24, minor_sections=5), "rosette")
            b.add(g.cylinder(r2 * 0.32, 0.004, at=(bl * 0.42, 0, th / 2 - 0.001), sections=24), "soundhole")
        else:
            with b.group("electronics"):
                for k in range(2):
                    b.add(g.box((0.04, 0.085, 0.012), (bl * (0.05 + 0.2 * k), 0, th / 2 + 0.006)), f"pickup_{k}")
                for k in range(b.i(2, 3)):
                    b.add(g.cylinder(0.013, 0.015, at=(-bl * 0.2 + 0.04 * k, -r1 * 0.55, th / 2 + 0.007),
                                     sections=10), f"knob_{k}")
        with b.group("bridge"):
            bx = -bl * 0.12
            b.add(g.box((0.035, 0.15, 0.008), (bx, 0, th / 2 + 0.004)), "plate")
            for k in range(6):
                b.add(g.cylinder(0.0035, 0.008, at=(bx - 0.008, (k - 2.5) * 0.011, th / 2 + 0.011), sections=6),
                      f"pin_{k}")
        if b.chance(0.5):
            b.add(g.prism([(0, 0), (0.1, -0.02), (0.12, 0.06), (0.02, 0.08)], 0.002,
                          at=(bl * 0.45, -r2 * 0.9, th / 2)), "pickguard")
    nl = b.u(0.44, 0.52)
    x0 = bl * 0.55 + r2 * 0.8
    nz = th / 2
    with b.group("neck"):
        b.add(g.box((nl, 0.05, 0.022), (x0 + nl / 2, 0, nz - 0.005)), "shaft")
        b.add(g.box((nl, 0.054, 0.006), (x0 + nl / 2, 0, nz + 0.009)), "fretboard")
        nf = b.i(12, 19)
        with b.group("frets"):
            scale_len = nl * 1.9
            for k in range(nf):
                x = x0 + nl - scale_len * (1 - 2 ** (-(k + 1) / 12)) * 0.95
                if x < x0:
                    break
                b.add(g.box((0.002, 0.054, 0.003), (x, 0, nz + 0.0135)), f"fret_{k}")
        with b.group("inlays"):
            for j, k in enumerate((3, 5, 7, 9, 12)):
                x = x0 + nl - scale_len * (1 - 2 ** (-(k - 0.5) / 12)) * 0.95
                if x > x0:
                    b.add(g.cylinder(0.004, 0.002, at=(x, 0, nz + 0.0125), sections=8), f"dot_{j}")
    hx = x0 + nl
    with b.group("head", T=g.tf(at=(hx, 0, nz), ry=b.u(0.0, 0.25))):
        hlen = b.u(0.15, 0.2)
        b.add(g.box((hlen, 0.085, 0.016), (hlen / 2, 0, 0)), "plate")
        b.add(g.box((0.006, 0.05, 0.008), (0.003, 0, 0.012)), "nut")
        with b.group("tuners"):
            six = b.chance(0.3)
            for k in range(6):
                if six:
                    x, y, side = hlen * (0.2 + 0.13 * k), 0.045, 1
                else:
                    x, y, side = hlen * (0.25 + 0.25 * (k % 3)), (-1) ** (k // 3) * 0.045, (-1) ** (k // 3)
                with b.group(f"tuner_{k}"):
                    b.add(g.cylinder(0.004, 0.02, at=(x, y * 0.6, 0.015), sections=6), "post")
                    b.add(g.box((0.012, 0.022, 0.008), (x, y + side * 0.012, 0.0)), "button")
    with b.group("strings"):
        for k in range(6):
            y0 = (k - 2.5) * 0.011
            y1 = (k - 2.5) * 0.008
            b.add(g.segment((-bl * 0.12, y0, th / 2 + 0.012), (hx + 0.003, y1, nz + 0.016), 0.0006 + 0.0002 * k,
                            sections=3), f"string_{k}")


def guitar(b: PartBuilder) -> None:
    if b.chance(0.5):  # on a stand, leaning back
        lean = b.u(0.15, 0.3)
        with b.group("stand"):
            for s in range(2):
                b.add(g.segment(((-1) ** s * 0.18, -0.15, 0.0), (0, 0.05, 0.55), 0.01, sections=6), f"leg_{s}")
            b.add(g.segment((0, 0.05, 0.55), (0, 0.25, 0.0), 0.01, sections=6), "rear_leg")
            b.add(g.box((0.36, 0.08, 0.03), (0, -0.12, 0.12)), "cradle")
            b.add(g.torus(0.035, 0.008, axis="z", at=(0, 0.04, 0.75), sections=12, minor_sections=5), "neck_rest")
        with b.group("guitar", T=g.tf(at=(0, -0.12, 0.2)) @ g.tf(rx=np.pi / 2 - lean) @ g.tf(rz=np.pi / 2)):
            guitar_parts(b)
    else:
        with b.group("guitar", T=g.tf(at=(0, 0, 0.06))):
            guitar_parts(b)
        with b.group("case"):
            b.add(g.box((1.1, 0.45, 0.02), (0.35, 0, -0.0)), "shell_bottom")
            for k in range(3):
                b.add(g.box((0.03, 0.05, 0.03), (0.15 + 0.3 * k, -0.235, 0.015)), f"latch_{k}")


def _hammer_parts(b: PartBuilder) -> None:
    """Hammer lying along +x (handle from the origin, head at x=L), head pointing along y."""
    L = b.u(0.28, 0.4)
    hr = b.u(0.013, 0.018)
    hl = b.u(0.1, 0.15)
    wood = b.chance(0.5)
    with b.group("handle"):
        b.add(g.segment((0, 0, 0), (L, 0, 0), hr * 1.1, r_end=hr * 0.85, sections=12), "shaft")
        if not wood:
            with b.group("grip"):
                b.add(g.capsule(hr * 1.35, L * 0.35, axis="x", at=(L * 0.2, 0, 0), sections=12), "sleeve")
                for k in range(b.i(3, 6)):
                    b.add(g.torus(hr * 1.35, hr * 0.2, axis="x", at=(L * (0.08 + 0.06 * k), 0, 0), sections=12,
                                  minor_sections=5),
                          f"ring_{k}")
        b.add(g.cylinder(hr * 1.2, 0.008, axis="x", at=(-0.004, 0, 0), sections=12), "end_cap")
    with b.group("head", T=g.tf(at=(L + 0.01, 0, 0))):
        b.add(g.box((0.032, hl * 0.5, 0.032), (0, 0, 0)), "eye")
        b.add(g.cylinder(0.016, hl * 0.45, axis="y", at=(0, hl * 0.47, 0), sections=14), "neck")
        b.add(g.cylinder(0.019, 0.012, axis="y", at=(0, hl * 0.7 + 0.006, 0), sections=14), "face")
        with b.group("claw"):
            for s in range(2):
                p = np.array([0, -hl * 0.25, (s - 0.5) * 0.014])
                q = p + [-0.02, -hl * 0.3, 0]
                b.add(g.merge(g.beam(p, q, 0.012, 0.01), g.beam(q, q + [-0.025, -hl * 0.15, 0], 0.01, 0.008)),
                      f"tine_{s}")
        if wood:
            b.add(g.box((0.004, 0.02, 0.034), (0, 0, 0.0)), "wedge")


def hammer(b: PartBuilder) -> None:
    with b.group(T=g.tf(at=(0, 0, 0.02))):
        _hammer_parts(b)


def _wrench_parts(b: PartBuilder) -> None:
    L = b.u(0.15, 0.3)
    w = L * b.u(0.06, 0.08)
    t = w * 0.3
    if b.chance(0.5):  # combination wrench
        with b.group("handle"):
            with b.group("shaft"):
                b.add(g.box((L, w, t), (0, 0, 0)), "bar")
                for k in range(b.i(1, 3)):
                    b.add(g.box((w * 0.4, w * 0.25, 0.0006), (-L * 0.1 + k * w * 0.5, 0, t / 2)), f"stamp_{k}")
        with b.group("ends"):
            with b.group("ring_end"):
                b.add(g.torus(w * 0.85, w * 0.35, at=(L / 2 + w * 0.7, 0, 0), sections=16, minor_sections=6,
                              squash=t / (w * 0.7)),
                      "ring")
                b.add(g.tube(w * 0.4, w * 0.55, t * 0.9, at=(L / 2 + w * 0.7, 0, 0), sections=12), "socket")
            with b.group("open_end"):
                c = np.array([-L / 2 - w * 0.6, 0, 0])
                b.add(g.box((w * 0.6, w * 1.8, t), c + [w * 0.3, 0, 0]), "throat")
                for s in range(2):
                    b.add(g.beam(c + [w * 0.3, (-1) ** s * w * 0.7, 0], c + [-w * 0.9, (-1) ** s * w * 0.65, 0],
                                 w * 0.5, t), f"jaw_{s}")
    else:  # adjustable wrench: two jaws pointing +x with an adjustable gap, worm screw in the head
        x0 = L / 2
        with b.group("body"):
            with b.group("handle"):
                b.add(g.box((L, w * 1.1, t), (0, 0, 0)), "bar")
                b.add(g.tube(w * 0.15, w * 0.3, t * 1.01, at=(-L / 2 + w * 0.4, 0, 0), sections=10), "hang_hole")
            b.add(g.box((w * 1.4, w * 2.0, t * 1.2), (x0 + w * 0.7, 0, 0)), "head")
            b.add(g.box((w * 1.3, w * 0.6, t * 1.2), (x0 + w * 2.05, w * 0.7, 0)), "fixed_jaw")
        with b.group("mechanism"):
            gap = b.u(0.2, 0.8) * w
            b.add(g.box((w * 1.2, w * 0.6, t * 1.1), (x0 + w * 2.0, w * 0.4 - gap - w * 0.3, 0)), "movable_jaw")
            with b.group("worm"):
                wx = x0 + w * 0.7
                b.add(g.cylinder(w * 0.28, w * 0.7, axis="y", at=(wx, -w * 0.55, 0), sections=10), "core")
                for k in range(5):
                    b.add(g.torus(w * 0.28, w * 0.05, axis="y", at=(wx, -w * 0.85 + k * w * 0.15, 0), sections=10,
                                  minor_sections=4),
                          f"thread_{k}")
            b.add(g.cylinder(w * 0.08, t * 1.3, at=(wx, w * 0.5, 0), sections=6), "pin")


def wrench(b: PartBuilder) -> None:
    with b.group(T=g.tf(at=(0, 0, 0.01))):
        _wrench_parts(b)


def _screwdriver_parts(b: PartBuilder) -> None:
    hl, sl = b.u(0.08, 0.12), b.u(0.06, 0.18)
    hr = b.u(0.012, 0.018)
    with b.group("handle"):
        b.add(g.lathe([(0, 0), (hr * 0.8, 0), (hr, hl * 0.1), (hr, hl * 0.85), (hr * 0.6, hl), (0, hl)], 16), "core")
        n = b.i(4, 8)
        with b.group("grip"):
            for k in range(n):
                a = 2 * np.pi * k / n
                b.add(g.beam((hr * np.cos(a), hr * np.sin(a), hl * 0.15), (hr * np.cos(a), hr * np.sin(a), hl * 0.8),
                             hr * 0.3, hr * 0.3),
                      f"rib_{k}")
            if b.chance(0.5):
                b.add(g.torus(hr * 1.05, hr * 0.12, at=(0, 0, hl * 0.12), sections=14, minor_sections=5), "band")
        b.add(g.cylinder(hr * 0.7, hl * 0.04, at=(0, 0, -hl * 0.02), sections=12), "cap")
    with b.group("blade"):
        b.add(g.frustum(hr * 0.55, hr * 0.3, hl * 0.12, at=(0, 0, hl), sections=12), "ferrule")
        sr = hr * b.u(0.2, 0.3)
        b.add(g.cylinder(sr, sl, at=(0, 0, hl + sl / 2), sections=8), "shank")
        with b.group("tip", T=g.tf(at=(0, 0, hl + sl))):
            if b.chance(0.5):
                b.add(g.frustum(sr, 0.0, sr * 3, sections=8), "point")
                for s in range(2):
                    b.add(g.box((sr * 2.2, sr * 0.4, sr * 2) if s == 0 else (sr * 0.4, sr * 2.2, sr * 2), (0, 0, sr)),
                          f"flute_{s}")
            else:
                b.add(g.box((sr * 2.4, sr * 0.5, sr * 3), (0, 0, sr * 1.5)), "flat")


def screwdriver(b: PartBuilder) -> None:
    with b.group(T=g.tf(at=(0, 0, 0.018), ry=np.pi / 2)):
        _screwdriver_parts(b)


def toolbox(b: PartBuilder) -> None:
    L, W, H = b.u(0.4, 0.6), b.u(0.2, 0.28), b.u(0.18, 0.28)
    open_lid = b.chance(0.4)
    with b.group("toolbox"):
        b.add(g.merge(g.box((L, W, 0.01), (0, 0, 0.005)), g.box((L, 0.01, H), (0, W / 2 - 0.005, H / 2)),
                      g.box((L, 0.01, H), (0, -W / 2 + 0.005, H / 2)), g.box((0.01, W, H), (L / 2 - 0.005, 0, H / 2)),
                      g.box((0.01, W, H), (-L / 2 + 0.005, 0, H / 2))), "body")
        lid_t = g.tf(at=(0, W / 2, H), rx=-1.9) if open_lid else g.tf(at=(0, W / 2, H))
        with b.group("lid", T=lid_t):
            b.add(g.box((L * 1.01, W * 1.01, 0.04), (0, -W / 2, 0.02)), "panel")
            with b.group("handle"):
                for s in range(2):
                    b.add(g.box((0.015, 0.02, 0.035), ((-1) ** s * L * 0.2, -W / 2, 0.055)), f"bracket_{s}")
                b.add(g.cylinder(0.012, L * 0.45, axis="x", at=(0, -W / 2, 0.075), sections=10), "grip")
            for s in range(2):
                b.add(g.cylinder(0.006, 0.04, axis="x", at=((-1) ** s * L * 0.3, 0.003, 0.0), sections=8), f"hinge_{s}")
        with b.group("latches"):
            for s in range(2):
                with b.group(f"latch_{s}"):
                    x = (-1) ** s * L * 0.3
                    b.add(g.box((0.03, 0.008, 0.04), (x, -W / 2 - 0.004, H - 0.015)), "plate")
                    b.add(g.box((0.02, 0.01, 0.015), (x, -W / 2 - 0.009, H - 0.03)), "clasp")
        if open_lid:
            with b.group("tray"):
                b.add(g.box((L * 0.95, W * 0.95, 0.04), (0, 0, H - 0.025)), "bin")
                for k in range(b.i(2, 6)):
                    screw(b, f"screw_{k}", (b.u(-L / 3, L / 3), b.u(-W / 3, W / 3), H - 0.005), "z", 0.004)
    tools = [("hammer", _hammer_parts), ("wrench", _wrench_parts), ("screwdriver", _screwdriver_parts)]
    order = b.rng.permutation(3)[: b.i(1, 3)]
    for k, j in enumerate(order):
        name, fn = tools[j]
        x = -L / 2 + k * 0.18
        ry = np.pi / 2 if name == "screwdriver" else 0.0
        z = 0.018 if name == "screwdriver" else 0.02
        with b.group(name, T=g.tf(at=(x, -W / 2 - 0.15 - 0.06 * k, z), rz=b.u(-0.4, 0.4)) @ g.tf(ry=ry)):
            fn(b)


def ladder(b: PartBuilder) -> None:
    h = b.u(1.0, 2.2)
    n = max(3, int(h / b.u(0.25, 0.32)))
    wb, wt = b.u(0.5, 0.65), b.u(0.38, 0.45)
    spread = h * b.u(0.35, 0.5)
    zt = h
    front = lambda s, f: np.array([(-1) ** s * (wb + (wt - wb) * f) / 2, -spread / 2 * (1 - f), zt * f])
    rear = lambda s, f: np.array([(-1) ** s * (wb + (wt - wb) * f) / 2, spread / 2 * (1 - f), zt * f])
    with b.group("front_frame"):
        with b.group("rails"):
            for s in range(2):
                b.add(g.beam(front(s, 0), front(s, 0.98), 0.06, 0.025), f"rail_{s}")
        with b.group("steps"):
            for k in range(n - 1):
                f = (k + 1) / n
                with b.group(f"step_{k}"):
                    p0, p1 = front(0, f), front(1, f)
                    b.add(g.box((abs(p0[0] - p1[0]) - 0.03, 0.09, 0.025), ((p0 + p1) / 2) + [0, 0.02, 0]), "tread")
                    for s, p in enumerate((p0, p1)):
                        screw(b, f"rivet_{s}", p + [-(-1) ** s * 0.0, 0, 0.0] + [(-1) ** s * 0.0, 0.02, 0.015], "z",
                              0.007,
                              head="dome")
        with b.group("feet"):
            for s in range(2):
                b.add(g.box((0.07, 0.05, 0.03), front(s, 0) + [0, 0, 0.015]), f"foot_{s}")
    with b.group("rear_frame"):
        with b.group("rails"):
            for s in range(2):
                b.add(g.beam(rear(s, 0), rear(s, 0.98), 0.045, 0.02), f"rail_{s}")
        with b.group("braces"):
            for k in range(b.i(1, 2)):
                f = 0.25 + 0.35 * k
                b.add(g.segment(rear(0, f), rear(1, f), 0.01, sections=6), f"brace_{k}")
        with b.group("feet"):
            for s in range(2):
                b.add(g.box((0.06, 0.045, 0.03), rear(s, 0) + [0, 0, 0.015]), f"foot_{s}")
    with b.group("top"):
        b.add(g.box((wt + 0.06, spread * 0.12 + 0.12, 0.04), (0, 0, zt + 0.02)), "cap")
        if b.chance(0.6):
            with b.group("tool_tray"):
                b.add(g.box((wt * 0.9, 0.2, 0.015), (0, spread * 0.25, zt * 0.75)), "shelf")
                b.add(g.box((wt * 0.9, 0.015, 0.04), (0, spread * 0.25 + 0.1, zt * 0.75 + 0.02)), "lip")
    with b.group("spreaders"):
        f = 0.45
        for s in range(2):
            p, q = front(s, f), rear(s, f)
            b.add(g.merge(g.beam(p, (p + q) / 2 + [0, 0, -0.02], 0.02, 0.006),
                          g.beam((p + q) / 2 + [0, 0, -0.02], q, 0.02, 0.006)), f"arm_{s}")


def alarm_clock(b: PartBuilder) -> None:
    r = b.u(0.05, 0.08)
    d = r * b.u(0.5, 0.8)
    zc = r * 1.25
    with b.group("case"):
        b.add(g.cylinder(r, d, axis="y", at=(0, 0, zc), sections=32), "body")
        b.add(g.torus(r, r * 0.07, axis="y", at=(0, -d / 2, zc), sections=32, minor_sections=6), "bezel")
        b.add(g.cylinder(r * 0.95, 0.002, axis="y", at=(0, -d / 2 - 0.001, zc), sections=32), "glass")
        for s in range(2):
            p = np.array([(-1) ** s * r * 0.6, 0, zc - r * 0.75])
            b.add(g.merge(g.segment(p, p * [1.5, 1, 0] + [0, 0, 0.004], r * 0.08, sections=8),
                          g.sphere(r * 0.12, at=p * [1.5, 1, 0] + [0, 0, r * 0.1], sections=8)), f"foot_{s}")
    with b.group("dial"):
        b.add(g.cylinder(r * 0.9, 0.002, axis="y", at=(0, -d / 2 + 0.004, zc), sections=32), "face")
        with b.group("markers"):
            for k in range(12):
                a = 2 * np.pi * k / 12
                big = k % 3 == 0
                m = g.box((r * (0.05 if big else 0.03), 0.002, r * (0.16 if big else 0.1)))
                b.add(g.transform(m, g.tf(at=(np.sin(a) * r * 0.75, -d / 2 + 0.002, zc + np.cos(a) * r * 0.75),
                                          ry=a)), f"marker_{k}")
    with b.group("hands"):
        for name, length, width, yy in (("hour", 0.45, 0.06, 0.0), ("minute", 0.7, 0.04, -0.002),
                                        ("second", 0.8, 0.015, -0.004)):
            a = b.u(0, 2 * np.pi)
            m = g.box((r * width, 0.0015, r * length), (0, 0, r * length / 2 - r * 0.1))
            b.add(g.transform(m, g.tf(at=(0, -d / 2 - 0.002 + yy, zc), ry=a)), name)
        b.add(g.cylinder(r * 0.05, 0.006, axis="y", at=(0, -d / 2 - 0.004, zc), sections=10), "pin")
    if b.chance(0.7):
        with b.group("bells"):
            for s in range(2):
                sg = (-1) ** s
                c = np.array([sg * r * 0.62, 0, zc + r * 0.95])
                with b.group(f"bell_{s}", T=g.tf(at=c, ry=sg * 0.6)):
                    br = r * 0.42
                    a = np.linspace(0, np.pi / 2, 6)
                    b.add(g.lathe([(0, 0)] + [(br * np.cos(t), br * np.sin(t)) for t in a[:-1]] + [(0, br)], 16),
                          "dome")
                    b.add(g.cylinder(br * 0.15, br * 0.3, at=(0, 0, br + br * 0.1), sections=8), "nut")
            with b.group("striker"):
                b.add(g.segment((0, 0, zc + r), (0, 0, zc + r * 1.3), r * 0.03, sections=6), "arm")
                b.add(g.sphere(r * 0.07, at=(0, 0, zc + r * 1.35), sections=8), "hammer")
    else:
        b.add(g.torus(r * 0.45, r * 0.06, axis="y", at=(0, 0, zc + r * 0.95), sections=20, minor_sections=6),
              "carry_handle")
    with b.group("back"):
        for k in range(2):
            with b.group(f"winder_{k}"):
                x = (k - 0.5) * r * 0.8
                b.add(g.cylinder(r * 0.04, r * 0.15, axis="y", at=(x, d / 2 + r * 0.075, zc), sections=6), "stem")
                b.add(g.box((r * 0.3, r * 0.04, r * 0.18), (x, d / 2 + r * 0.17, zc)), "key")
        b.add(g.cylinder(r * 0.08, r * 0.1, axis="y", at=(0, d / 2 + 0.02, zc + r * 0.55), sections=10), "alarm_knob")


CATEGORIES = {
    "mug": mug, "kettle": kettle, "guitar": guitar, "hammer": hammer, "wrench": wrench, "screwdriver": screwdriver,
    "toolbox": toolbox, "step_ladder": ladder, "alarm_clock": alarm_clock,
}
