"""Machines and robots: robot arm, humanoid robot, fan, windmill, desk lamp, excavator, tower crane.

Local frames: z up, ground at z=0.
"""
from __future__ import annotations

import numpy as np

from . import geom as g
from .builder import PartBuilder
from .parts import screw


def robot_arm(b: PartBuilder) -> None:
    br = b.u(0.18, 0.3)
    with b.group("base"):
        with b.group("mount"):
            b.add(g.cylinder(br, 0.06, at=(0, 0, 0.03), sections=24), "plate")
            n = b.choice([4, 6, 8])
            for k in range(n):
                a = 2 * np.pi * k / n
                screw(b, f"bolt_{k}", (np.cos(a) * br * 0.82, np.sin(a) * br * 0.82, 0.06), "z", br * 0.05, head="hex")
        with b.group("turret"):
            b.add(g.cylinder(br * 0.7, 0.2, at=(0, 0, 0.16), sections=20), "housing")
            b.add(g.cylinder(br * 0.72, 0.03, at=(0, 0, 0.275), sections=20), "bearing_ring")
    p = np.array([0.0, 0.0, 0.29 + br * 0.4])
    ang = b.u(0.6, 1.3)
    n_links = b.i(2, 3)
    thick = br * b.u(0.35, 0.5)
    with b.group("arm"):
        for k in range(n_links):
            length = b.u(0.35, 0.7) * (1 - 0.2 * k)
            rr = thick * (1 - 0.2 * k)
            d = np.array([np.cos(ang), 0.0, np.sin(ang)])
            q = p + d * length
            with b.group(f"joint_{k}"):
                b.add(g.cylinder(rr * 1.15, rr * 2.2, axis="y", at=p, sections=20), "housing")
                b.add(g.cylinder(rr * 0.7, rr * 0.2, axis="y", at=p + [0, rr * 1.2, 0], sections=16), "motor_cap")
                for j in range(4):
                    a = np.pi / 2 * j + np.pi / 4
                    screw(b, f"screw_{j}", p + [np.cos(a) * rr * 0.85, rr * 1.1, np.sin(a) * rr * 0.85], "y",
                          rr * 0.07, head="flat")
            with b.group(f"link_{k}"):
                b.add(g.capsule(rr * 0.75, length * 0.75, axis=d, at=p + d * length / 2, sections=16), "shell")
                if b.chance(0.5):
                    b.add(g.segment(p + d * length * 0.25 + [0, rr * 0.8, 0],
                                    p + d * length * 0.75 + [0, rr * 0.8, 0], rr * 0.12, sections=6), "cable")
            p = q
            ang -= b.u(0.6, 1.4)
    d = np.array([np.cos(ang), 0.0, np.sin(ang)])
    rr = thick * 0.6
    with b.group("gripper"):
        with b.group("wrist"):
            b.add(g.cylinder(rr * 1.1, rr * 1.8, axis="y", at=p, sections=16), "joint")
            b.add(g.cylinder(rr, rr * 0.8, axis=d, at=p + d * rr * 0.9, sections=16), "flange")
        c = p + d * rr * 1.5
        side = np.array([0.0, 1.0, 0.0])
        with b.group("hand"):
            b.add(g.transform(g.box((rr * 0.8, rr * 2.6, rr * 1.2)), _frame(d, c + d * rr * 0.4)), "palm")
            opening = b.u(0.3, 1.0)
            for s in range(2):
                sg = (-1) ** s
                base = c + d * rr * 0.8 + side * sg * rr * opening
                with b.group(f"finger_{s}"):
                    b.add(g.transform(g.box((rr * 1.2, rr * 0.25, rr * 0.6)), _frame(d, base + d * rr * 0.6)),
                          "proximal")
                    b.add(g.transform(g.box((rr * 0.8, rr * 0.25, rr * 0.5)),
                                      _frame(d, base + d * rr * 1.6 - side * sg * rr * 0.15)), "tip")


def _frame(x_dir, at) -> np.ndarray:
    """Transform mapping local +x to ``x_dir`` (in the xz plane, y kept), then translating to ``at``."""
    x = np.asarray(x_dir, float) / np.linalg.norm(x_dir)
    y = np.array([0.0, 1.0, 0.0])
    z = np.cross(x, y)
    m = np.eye(4)
    m[:3, :3] = np.stack([x, y, z], 1)
    m[:3, 3] = at
    return m


def humanoid_robot(b: PartBuilder) -> None:
    hh = b.u(0.75, 1.0)       # hip height
    tw = b.u(0.3, 0.45)       # torso width
    th = b.u(0.45, 0.6)       # torso height
    td = tw * b.u(0.5, 0.7)
    lr = b.u(0.045, 0.07)     # limb radius
    with b.group("torso"):
        b.add(g.box((td, tw, th * 0.6), (0, 0, hh + 0.12 + th * 0.7)), "chest")
        b.add(g.box((td * 0.8, tw * 0.7, th * 0.25), (0, 0, hh + 0.12 + th * 0.27)), "abdomen")
        b.add(g.box((td * 0.9, tw * 0.85, 0.12), (0, 0, hh + 0.06)), "pelvis")
        with b.group("panel"):
            b.add(g.box((0.01, tw * 0.4, th * 0.2), (td / 2 + 0.005, 0, hh + 0.12 + th * 0.75)), "plate")
            for k in range(b.i(2, 4)):
                b.add(g.cylinder(0.012, 0.01, axis="x", at=(td / 2 + 0.012, (k - 1) * 0.04, hh + 0.12 + th * 0.7),
                                 sections=8),
                      f"button_{k}")
    top = hh + 0.12 + th
    with b.group("head", T=g.tf(at=(0, 0, top), rz=b.jitter(25))):
        b.add(g.cylinder(0.04, 0.06, at=(0, 0, 0.03), sections=10), "neck")
        hs = b.u(0.16, 0.24)
        if b.chance(0.5):
            b.add(g.box((hs, hs * 1.1, hs), (0, 0, 0.06 + hs / 2)), "skull")
        else:
            b.add(g.sphere(hs * 0.6, at=(0, 0, 0.06 + hs / 2), sections=14), "skull")
        with b.group("face"):
            for s in range(2):
                b.add(g.cylinder(hs * 0.1, 0.02, axis="x", at=(hs * 0.55, (s - 0.5) * hs * 0.45, 0.06 + hs * 0.6),
                                 sections=10),
                      f"eye_{s}")
            b.add(g.box((0.01, hs * 0.4, hs * 0.08), (hs * 0.55, 0, 0.06 + hs * 0.25)), "mouth")
        if b.chance(0.6):
            b.add(g.segment((0, 0, 0.06 + hs), (0, 0, 0.06 + hs * 1.5), 0.006, sections=6), "antenna")
        for s in range(2):
            b.add(g.cylinder(hs * 0.15, 0.03, axis="y", at=(0, (-1) ** s * hs * 0.58, 0.06 + hs / 2), sections=12),
                  f"ear_{s}")
    with b.group("arms"):
        for s in range(2):
            sg = (-1) ** s
            sh = np.array([0, sg * (tw / 2 + lr * 1.2), top - lr * 1.5])
            la = b.u(0.25, 0.35)
            swing, bend = b.u(-0.5, 0.6), b.u(0.0, 1.2)
            el = sh + la * np.array([np.sin(swing), 0.05 * sg, -np.cos(swing)])
            a2 = swing + bend
            wr = el + la * 0.9 * np.array([np.sin(a2), 0, -np.cos(a2)])
            with b.group(f"arm_{s}"):
                b.add(g.sphere(lr * 1.3, at=sh, sections=10), "shoulder")
                b.add(g.segment(sh, el, lr, sections=10), "upper_arm")
                b.add(g.sphere(lr * 1.05, at=el, sections=10), "elbow")
                b.add(g.segment(el, wr, lr * 0.85, sections=10), "forearm")
                with b.group("hand"):
                    dh = (wr - el) / np.linalg.norm(wr - el)
                    b.add(g.box((lr * 1.5, lr * 0.8, lr * 2), wr + dh * lr), "palm")
                    for f in range(b.choice([2, 3])):
                        base = wr + dh * lr * 2 + np.array([(f - 1) * lr * 0.5, 0, 0])
                        b.add(g.segment(base, base + dh * lr * 1.4, lr * 0.18, sections=6), f"finger_{f}")
    with b.group("legs"):
        for s in range(2):
            sg = (-1) ** s
            hip = np.array([0, sg * tw * 0.25, hh])
            step = b.u(-0.25, 0.25)
            kn = hip + [hh * 0.5 * np.sin(step), 0, -hh * 0.5 * np.cos(step)]
            an = np.array([kn[0] * 0.3, hip[1], 0.08])
            with b.group(f"leg_{s}"):
                b.add(g.sphere(lr * 1.4, at=hip, sections=10), "hip")
                b.add(g.segment(hip, kn, lr * 1.2, sections=10), "thigh")
                b.add(g.sphere(lr * 1.25, at=kn, sections=10), "knee")
                b.add(g.segment(kn, an, lr * 1.05, sections=10), "shin")
                b.add(g.box((0.24, lr * 2.4, 0.07), (an[0] + 0.04, hip[1], 0.035)), "foot")


def fan(b: PartBuilder) -> None:
    h = b.u(0.6, 1.3)
    rr = b.u(0.18, 0.3)
    with b.group("stand"):
        with b.group("base"):
            b.add(g.cylinder(b.u(0.15, 0.25), 0.05, at=(0, 0, 0.025), sections=24), "disc")
            for k in range(b.i(2, 4)):
                b.add(g.cylinder(0.015, 0.015, at=(0.06 + 0.04 * k, 0, 0.055), sections=8), f"button_{k}")
        with b.group("pole"):
            b.add(g.cylinder(0.022, h * 0.55, at=(0, 0, h * 0.275 + 0.05), sections=12), "lower")
            b.add(g.cylinder(0.015, h * 0.5, at=(0, 0, h * 0.72), sections=12), "upper")
            b.add(g.cylinder(0.03, 0.04, at=(0, 0, h * 0.55 + 0.05), sections=12), "clamp_knob")
    tilt = b.u(-0.2, 0.3)
    with b.group("head", T=g.tf(at=(0, 0, h), ry=-np.pi / 2 + tilt)):
        # local +z is the blowing direction (after the rotation: roughly +x)
        with b.group("motor"):
            b.add(g.capsule(0.07, 0.12, at=(0, 0, -0.12), sections=16), "housing")
            b.add(g.cylinder(0.012, 0.06, at=(0, 0, -0.02), sections=8), "shaft")
        n = b.i(3, 5)
        with b.group("rotor"):
            b.add(g.sphere(0.045, at=(0, 0, 0.02), sections=12, scale=(1, 1, 0.6)), "spinner")
            for k in range(n):
                blade = g.sphere(1.0, sections=10, scale=(rr * 0.45, rr * 0.22, 0.006))
                blade = g.transform(blade, g.tf(at=(rr * 0.5, 0, 0.02), rx=0.35))
                b.add(g.transform(blade, g.tf(rz=2 * np.pi * k / n)), f"blade_{k}")
        with b.group("guard"):
            b.add(g.torus(rr * 1.1, 0.008, at=(0, 0, 0.02), sections=32, minor_sections=6), "rim")
            nr = b.i(8, 16)
            for side, zz in (("front", 0.09), ("back", -0.07)):
                with b.group(side):
                    for k in range(nr):
                        a = 2 * np.pi * k / nr
                        d = np.array([np.cos(a), np.sin(a), 0.0])
                        b.add(g.segment(d * rr * 0.15 + [0, 0, zz], d * rr * 1.1 + [0, 0, 0.02], 0.003, sections=4),
                              f"rib_{k}")
                    b.add(g.cylinder(rr * 0.15, 0.01, at=(0, 0, zz), sections=14),
                          "badge" if side == "front" else "plate")


def windmill(b: PartBuilder) -> None:
    h, r = b.u(4.0, 8.0), b.u(1.2, 2.0)
    top_r = r * b.u(0.5, 0.7)
    n_sides = b.choice([8, 8, 12, 32])
    with b.group("tower"):
        b.add(g.lathe([(0, 0), (r, 0), (top_r, h), (0, h)], n_sides), "walls")
        b.add(g.cylinder(r * 1.05, 0.25, at=(0, 0, 0.125), sections=n_sides), "plinth")
        with b.group("openings"):
            b.add(g.box((0.08, 0.8, 1.6), (r * 0.97, 0, 1.0)), "door")
            for k in range(b.i(2, 5)):
                z = h * (0.3 + 0.55 * k / 5)
                a = b.u(-0.8, 0.8)
                rad = r + (top_r - r) * z / h
                b.add(g.transform(g.box((0.08, 0.45, 0.6)), g.tf(at=(rad * np.cos(a), rad * np.sin(a), z), rz=a)),
                      f"window_{k}")
        if b.chance(0.6):
            with b.group("gallery"):
                gz = h * 0.45
                gr = r + (top_r - r) * 0.45 + 0.6
                b.add(g.cylinder(gr, 0.1, at=(0, 0, gz), sections=24), "deck")
                b.add(g.torus(gr, 0.03, at=(0, 0, gz + 0.5), sections=24, minor_sections=6), "railing")
                for k in range(12):
                    a = 2 * np.pi * k / 12
                    b.add(g.cylinder(0.025, 0.5, at=(gr * np.cos(a), gr * np.sin(a), gz + 0.25), sections=6),
                          f"post_{k}")
    with b.group("cap", T=g.tf(at=(0, 0, h), rz=b.u(-0.5, 0.5))):
        b.add(g.sphere(top_r * 1.1, at=(0, 0, 0), sections=16, scale=(1.2, 1.0, 0.8)), "roof")
        b.add(g.cylinder(0.15, top_r * 1.3, axis="x", at=(top_r * 0.9, 0, top_r * 0.2), sections=12), "windshaft")
        with b.group("rotor", T=g.tf(at=(top_r * 1.6, 0, top_r * 0.2), rx=b.u(0, np.pi / 2))):
            b.add(g.cylinder(0.3, 0.3, axis="x", sections=16), "hub")
            sl = h * b.u(0.55, 0.8)
            sw = sl * b.u(0.18, 0.25)
            n_slats = b.i(5, 9)
            for k in range(4):
                a = np.pi / 2 * k
                with b.group(f"sail_{k}", T=g.tf(rx=a)):
                    b.add(g.box((0.15, 0.18, sl), (0.1, 0, sl / 2)), "stock")
                    b.add(g.box((0.05, sw, sl * 0.75), (0.2, sw / 2 + 0.1, sl * 0.58)), "lattice")
                    for j in range(n_slats):
                        z = sl * (0.22 + 0.75 * j / n_slats)
                        b.add(g.box((0.06, sw, 0.04), (0.24, sw / 2 + 0.1, z)), f"bar_{j}")


def lamp(b: PartBuilder) -> None:
    br = b.u(0.08, 0.15)
    with b.group("base"):
        b.add(g.cylinder(br, 0.03, at=(0, 0, 0.015), sections=24), "weight")
        b.add(g.box((0.03, 0.015, 0.012), (br * 0.6, 0, 0.036)), "switch")
        b.add(g.segment((-br, 0, 0.01), (-br * 1.4, 0, 0.005), 0.004, sections=6), "cable")
    p = np.array([0.0, 0.0, 0.03])
    n = b.i(1, 3)
    ang = b.u(0.1, 0.5)
    with b.group("arm"):
        for k in range(n):
            length = b.u(0.2, 0.4)
            q = p + length * np.array([np.sin(ang), 0, np.cos(ang)])
            with b.group(f"joint_{k}"):
                b.add(g.cylinder(0.018, 0.035, axis="y", at=p, sections=12), "hinge")
                b.add(g.cylinder(0.012, 0.012, axis="y", at=p + [0, 0.023, 0], sections=10), "knob")
            with b.group(f"segment_{k}"):
                for s in range(2):
                    b.add(g.segment(p + [0, (s - 0.5) * 0.02, 0], q + [0, (s - 0.5) * 0.02, 0], 0.006, sections=6),
                          f"rod_{s}")
                if b.chance(0.5):
                    mid = (p + q) / 2
                    b.add(g.segment(mid + [0, 0, 0.0], mid + np.array([np.cos(ang), 0, -np.sin(ang)]) * 0.03, 0.003,
                                    sections=4),
                          "spring")
            p = q
            ang = ang - b.u(0.6, 1.4) if k % 2 == 0 else ang + b.u(0.3, 1.0)
    tilt = b.u(1.7, 2.6)
    with b.group("head", T=g.tf(at=p, ry=tilt)):
        sr, sh = b.u(0.06, 0.12), b.u(0.08, 0.15)
        b.add(g.cylinder(0.018, 0.035, axis="y", sections=12), "pivot")
        b.add(g.lathe([(sr * 0.3, 0.01), (sr, sh), (sr - 0.004, sh), (sr * 0.3 - 0.004, 0.018)], 20, closed=True),
              "shade")
        b.add(g.cylinder(sr * 0.32, 0.03, at=(0, 0, 0.0), sections=12), "socket")
        b.add(g.sphere(sr * 0.35, at=(0, 0, sh * 0.45), sections=10), "bulb")


def excavator(b: PartBuilder) -> None:
    tl, tw, tg = b.u(3.0, 4.2), b.u(0.5, 0.7), b.u(2.0, 2.8)   # track length, width, gauge
    th = b.u(0.7, 0.9)
    with b.group("undercarriage"):
        b.add(g.box((tl * 0.5, tg - tw, 0.4), (0, 0, th * 0.55)), "center_frame")
        for s in range(2):
            y = (-1) ** s * tg / 2
            with b.group(f"track_{s}"):
                with b.group("frame"):
                    b.add(g.box((tl - th, tw * 0.5, th * 0.5), (0, y, th / 2)), "side_frame")
                    b.add(g.cylinder(th * 0.42, tw * 0.8, axis="y", at=(tl / 2 - th / 2, y, th / 2), sections=16),
                          "idler")
                    b.add(g.cylinder(th * 0.45, tw * 0.8, axis="y", at=(-tl / 2 + th / 2, y, th / 2), sections=12),
                          "sprocket")
                    nr = b.i(4, 7)
                    for k in range(nr):
                        x = (tl - 2 * th) * ((k + 0.5) / nr - 0.5)
                        b.add(g.cylinder(th * 0.16, tw * 0.7, axis="y", at=(x, y, th * 0.2), sections=10),
                              f"roller_{k}")
                with b.group("shoes"):
                    pitch = 0.2
                    # track loop: straight bottom and top runs joined by half circles at both ends
                    rr = th / 2
                    straight = tl - th
                    perim = 2 * straight + 2 * np.pi * rr
                    n_sh = int(perim / pitch)
                    for k in range(n_sh):
                        sdist = perim * k / n_sh
                        if sdist < straight:
                            pos, ang = np.array([-straight / 2 + sdist, y, 0.03]), 0.0
                        elif sdist < straight + np.pi * rr:
                            a = (sdist - straight) / rr
                            pos, ang = np.array([straight / 2 + rr * np.sin(a), y, rr - rr * np.cos(a) + 0.03]), -a
                        elif sdist < 2 * straight + np.pi * rr:
                            pos, ang = np.array([straight / 2 - (sdist - straight - np.pi * rr), y,
                                                 2 * rr + 0.03]), np.pi
                        else:
                            a = (sdist - 2 * straight - np.pi * rr) / rr
                            pos, ang = np.array([-straight / 2 - rr * np.sin(a), y,
                                                 rr + rr * np.cos(a) + 0.03]), np.pi - a
                        b.add(g.transform(g.box((pitch * 0.9, tw, 0.05)), g.tf(at=pos, ry=ang)), f"shoe_{k}")
        if b.chance(0.5):
            with b.group("blade"):
                b.add(g.box((0.15, tg + tw * 0.5, 0.5), (tl / 2 + 0.35, 0, 0.3)), "plate")
                for s in range(2):
                    b.add(g.beam((tl / 2 + 0.3, (-1) ** s * 0.5, 0.35), (tl / 2 - 0.4, (-1) ** s * 0.5, th * 0.6),
                                 0.12), f"arm_{s}")
    yaw = b.u(-0.6, 0.6)
    ul, uw = b.u(2.6, 3.4), tg * b.u(0.95, 1.1)
    zb = th + 0.25
    with b.group(T=g.tf(at=(0, 0, zb), rz=yaw)):  # the upper structure and the boom arm swing together
        with b.group("upper"):
            with b.group("house"):
                b.add(g.cylinder(0.7, 0.25, at=(0, 0, -0.125), sections=20), "swing_bearing")
                b.add(g.box((ul, uw, 0.25), (-0.2, 0, 0.125)), "deck")
                b.add(g.box((ul * 0.45, uw * 0.55, 1.0), (-ul * 0.4, -uw * 0.2, 0.75)), "engine_cover")
                b.add(g.box((0.5, uw, 0.8), (-0.2 - ul / 2 - 0.1, 0, 0.55)), "counterweight")
                with b.group("exhaust"):
                    b.add(g.cylinder(0.06, 0.5, at=(-ul * 0.5, -uw * 0.3, 1.45), sections=8), "pipe")
                    b.add(g.cylinder(0.08, 0.06, at=(-ul * 0.5, -uw * 0.3, 1.7), sections=8), "cap")
                with b.group("railings"):
                    for k in range(3):
                        b.add(g.cylinder(0.025, 0.6, at=(-ul * 0.6 + k * 0.4, -uw / 2 + 0.05, 1.55), sections=6),
                              f"post_{k}")
            with b.group("cab", T=g.tf(at=(ul * 0.15, uw * 0.25, 0.25))):
                ch = b.u(1.4, 1.8)
                b.add(g.box((1.0, 0.9, ch), (0, 0, ch / 2)), "shell")
                b.add(g.box((0.02, 0.8, ch * 0.55), (0.51, 0, ch * 0.62)), "windshield")
                b.add(g.box((0.7, 0.02, ch * 0.5), (0, 0.451, ch * 0.62)), "side_window")
                with b.group("door"):
                    b.add(g.box((0.6, 0.02, ch * 0.85), (0.05, 0.455, ch * 0.45)), "panel")
                    b.add(g.box((0.08, 0.04, 0.03), (-0.18, 0.47, ch * 0.5)), "handle")
                b.add(g.box((0.15, 0.2, 0.1), (0.3, -0.35, ch + 0.05)), "beacon")
        boom_l = b.u(2.8, 3.8)
        stick_l = boom_l * b.u(0.5, 0.7)
        a1 = b.u(0.5, 0.9)
        a2 = a1 - b.u(1.6, 2.4)
        p0 = np.array([ul * 0.2, -uw * 0.1, 0.4])
        p1 = p0 + boom_l * np.array([np.cos(a1), 0, np.sin(a1)])
        p2 = p1 + stick_l * np.array([np.cos(a2), 0, np.sin(a2)])
        def cylinder_pair(name, a, c, r):
            with b.group(name):
                mid = a + (c - a) * 0.55
                b.add(g.segment(a, mid, r, sections=10), "barrel")
                b.add(g.segment(mid - (c - a) * 0.05, c, r * 0.5, sections=8), "rod")
        with b.group("boom_arm"):
            with b.group("boom"):
                b.add(g.beam(p0, p1, 0.3, 0.45, up=(0, 1, 0)), "beam")
                b.add(g.cylinder(0.1, 0.45, axis="y", at=p0, sections=12), "foot_pin")
                cylinder_pair("hydraulic", p0 + [0.4, 0, -0.25], p0 + (p1 - p0) * 0.55 + [0, 0, -0.15], 0.09)
            with b.group("stick"):
                b.add(g.beam(p1, p2, 0.24, 0.35, up=(0, 1, 0)), "beam")
                b.add(g.cylinder(0.09, 0.4, axis="y", at=p1, sections=12), "pin")
                cylinder_pair("hydraulic", p0 + (p1 - p0) * 0.7 + [0, 0, 0.2], p1 + [-0.1, 0, 0.3], 0.07)
            with b.group("bucket", T=g.tf(at=p2, ry=-(a2 - 0.8))):
                bw = 0.8
                v, f = g.prism([(0, 0), (0.5, 0), (0.6, 0.35), (0.2, 0.6)], bw)
                bucket = g.transform((v, f), g.tf(at=(0, bw / 2, 0), rx=np.pi / 2))
                b.add(g.transform(bucket, g.tf(at=(-0.1, 0, -0.6), ry=0.3)), "shell")
                b.add(g.cylinder(0.08, bw * 0.9, axis="y", at=(0, 0, 0), sections=10), "pin")
                with b.group("teeth"):
                    nt = b.i(3, 6)
                    for k in range(nt):
                        y = bw * ((k + 0.5) / nt - 0.5)
                        b.add(g.transform(g.frustum(0.05, 0.015, 0.18, axis="x", sections=6),
                                          g.tf(at=(0.35, y, -0.62))), f"tooth_{k}")


def tower_crane(b: PartBuilder) -> None:
    n_sec = b.i(4, 8)
    sw, sec_h = b.u(1.4, 2.0), b.u(2.5, 3.5)
    cr = 0.06
    with b.group("foundation"):
        b.add(g.box((sw * 2.5, sw * 2.5, 0.6), (0, 0, 0.3)), "slab")
        for k, (x, y) in enumerate([(-1, -1), (1, -1), (1, 1), (-1, 1)]):
            screw(b, f"anchor_{k}", (x * sw / 2, y * sw / 2, 0.6), "z", 0.12, head="hex")
    corners = [np.array([x * sw / 2, y * sw / 2]) for x, y in [(-1, -1), (1, -1), (1, 1), (-1, 1)]]
    z0 = 0.6
    with b.group("mast"):
        for s in range(n_sec):
            za, zb = z0 + s * sec_h, z0 + (s + 1) * sec_h
            with b.group(f"section_{s}"):
                for c, p in enumerate(corners):
                    b.add(g.segment((*p, za), (*p, zb), cr, sections=6), f"chord_{c}")
                for c in range(4):
                    p, q = corners[c], corners[(c + 1) % 4]
                    b.add(g.segment((*p, za), (*q, zb), cr * 0.5, sections=4), f"brace_{c}")
                    b.add(g.segment((*p, zb), (*q, zb), cr * 0.5, sections=4), f"strut_{c}")
    top = z0 + n_sec * sec_h
    jl, cjl = b.u(12, 25), b.u(5, 9)
    with b.group(T=g.tf(at=(0, 0, top), rz=b.u(0, 2 * np.pi))):  # the slewing part turns as one
        with b.group("turntable"):
            b.add(g.cylinder(sw * 0.7, 0.4, at=(0, 0, 0.2), sections=20), "ring")
            b.add(g.box((1.2, 1.0, 1.2), (sw * 0.2, -sw * 0.8, 0.9)), "cab")
            b.add(g.box((0.02, 0.8, 0.6), (sw * 0.2 + 0.61, -sw * 0.8, 1.1)), "cab_window")
            with b.group("tower_head"):
                for c, p in enumerate(corners):
                    b.add(g.segment((*p * 0.5, 0.4), (0, 0, 0.4 + sec_h * 1.2), cr, sections=6), f"leg_{c}")
        jh = 1.0
        with b.group("jib"):
            n_j = int(jl / 2.0)
            for k in range(n_j):
                xa, xb = sw / 2 + k * jl / n_j, sw / 2 + (k + 1) * jl / n_j
                with b.group(f"segment_{k}"):
                    for s in (-1, 1):
                        b.add(g.segment((xa, s * 0.5, 0.4), (xb, s * 0.5, 0.4), cr, sections=4),
                              f"lower_chord_{(s + 1) // 2}")
                    b.add(g.segment((xa, 0, 0.4 + jh), (xb, 0, 0.4 + jh), cr, sections=4), "top_chord")
                    b.add(g.segment((xa, 0.5, 0.4), (xb, 0, 0.4 + jh), cr * 0.5, sections=4), "brace")
            with b.group("trolley", T=g.tf(at=(sw / 2 + jl * b.u(0.2, 0.9), 0, 0.4))):
                b.add(g.box((0.8, 1.2, 0.3), (0, 0, -0.15)), "carriage")
                hook_z = -b.u(3.0, top * 0.7)
                for s in (-1, 1):
                    b.add(g.segment((0, s * 0.15, -0.3), (0, s * 0.05, hook_z + 0.4), 0.015, sections=4),
                          f"cable_{(s + 1) // 2}")
                b.add(g.box((0.35, 0.3, 0.5), (0, 0, hook_z + 0.2)), "sheave_block")
                b.add(g.torus(0.12, 0.035, axis="y", at=(0, 0, hook_z - 0.15), sections=14, minor_sections=6), "hook")
        with b.group("counter_jib"):
            b.add(g.box((cjl, 1.0, 0.3), (-sw / 2 - cjl / 2, 0, 0.55)), "platform")
            for s in (-1, 1):
                b.add(g.segment((-sw / 2 - cjl, s * 0.5, 0.7), (0, 0, 0.4 + sec_h * 1.2), cr * 0.6, sections=4),
                      f"tie_{(s + 1) // 2}")
            with b.group("counterweights"):
                nw = b.i(2, 5)
                for k in range(nw):
                    b.add(g.box((0.45, 1.4, 1.8), (-sw / 2 - cjl + 0.3 + k * 0.5, 0, 0.4 - 0.5)), f"block_{k}")
            b.add(g.box((1.2, 0.8, 0.8), (-sw / 2 - cjl * 0.4, 0, 1.1)), "winch")


CATEGORIES = {
    "robot_arm": robot_arm, "humanoid_robot": humanoid_robot, "fan": fan, "windmill": windmill, "lamp": lamp,
    "excavator": excavator, "tower_crane": tower_crane,
}
