"""Mechanical assemblies that look like real CAD: flanged housings, heat sinks, motors, enclosures.

What the furniture/vehicle categories lack and real assemblies have: many fasteners (bolt circles,
screw rows with washers and nuts), fins and ribs, bevelled and filleted solids, thin shells, a
long-tailed part-size distribution (dozens of parts under 1 % of the object next to a few large
ones), repeated identical parts, and parts cut from one continuous mesh (a rib welded to its plate,
a housing with its cast-on feet) so that connected pieces span several parts.

Local frames: z up, ground at z=0.
"""
from __future__ import annotations

import numpy as np

from . import geom as g
from .builder import PartBuilder
from .parts import screw


def _bolt(b: PartBuilder, name: str, at, axis, r: float, nut_below: float | None = None) -> None:
    """Bolt group on a surface at ``at`` facing ``axis``: ``washer``, ``head`` (hex), optional ``nut``."""
    d = np.asarray(g._AXES[axis] if isinstance(axis, str) else axis, float)
    at = np.asarray(at, float)
    with b.group(name):
        if b.chance(0.6):
            b.add(g.orient(g.tube(r * 1.1, r * 1.9, r * 0.25, at=(0, 0, r * 0.125), sections=10), d, at), "washer")
            at = at + d * r * 0.25
        b.add(g.orient(g.cylinder(r * 1.5, r * 0.8, at=(0, 0, r * 0.4), sections=6), d, at), "head")
        if nut_below is not None:
            b.add(g.orient(g.cylinder(r * 1.5, r * 0.9, at=(0, 0, -nut_below - r * 0.45), sections=6), d, at), "nut")


def _ribbed_plate(b: PartBuilder, lx: float, ly: float, t: float, ribs: int, rib_h: float, name: str) -> None:
    """Plate with ``ribs`` fins on top as ONE continuous mesh (parts ``name/plate``, ``name/fin_k``)."""
    fw = min(lx / ribs * 0.35, t * 0.8)
    (v, f), part = g.comb(lx, t, ribs, rib_h, fw, ly)
    v = v - [0, ly / 2, 0]
    b.add_split((v, f), part, [(name, "plate")] + [(name, f"fin_{k}") for k in range(ribs)])


def flange_housing(b: PartBuilder) -> None:
    """Bevelled base plate, a filleted boss with a bolted flange (bolt circle), gussets, a shaft."""
    lx, ly, t = b.u(0.8, 1.4), b.u(0.6, 1.0), b.u(0.04, 0.09)
    with b.group("base"):
        b.add(g.beveled_box((lx, ly, t), t * b.u(0.15, 0.4), at=(0, 0, t / 2)), "plate")
        n = b.choice([4, 6])
        for k, (x, y) in enumerate([(sx * lx * 0.42, sy * ly * 0.4) for sx in (-1, 1) for sy in (-1, 1)][:4]
                                   + [(0, sy * ly * 0.4) for sy in (-1, 1)][: n - 4]):
            _bolt(b, f"anchor_{k}", (x, y, t), "z", t * 0.25, nut_below=t)
    r = min(lx, ly) * b.u(0.22, 0.32)
    h = b.u(0.3, 0.6)
    fil = r * b.u(0.1, 0.3)
    arc = [(r + fil - fil * np.sin(a), t + fil - fil * np.cos(a)) for a in np.linspace(0, np.pi / 2, 4)]
    prof = [(0, t), (r + fil * 1.0, t)] + arc[1:] + [(r, t + h), (r * 0.45, t + h), (r * 0.45, t + h * 0.8), (0, t + h * 0.8)]
    boss = g.lathe(prof, sections=28)
    with b.group("housing"):
        b.add(boss, "boss")
        fr = r * b.u(1.25, 1.5)
        ft = h * b.u(0.08, 0.14)
        b.add(g.tube(r * 0.45, fr, ft, at=(0, 0, t + h + ft / 2), sections=28), "flange")
        nb = b.choice([6, 8, 10, 12])
        with b.group("flange_bolts"):
            for k in range(nb):
                a = 2 * np.pi * k / nb
                _bolt(b, f"bolt_{k}", (np.cos(a) * fr * 0.8, np.sin(a) * fr * 0.8, t + h + ft), "z", fr * 0.045)
        if b.chance(0.8):
            ng = b.choice([2, 4])
            with b.group("gussets"):
                for k in range(ng):
                    a = 2 * np.pi * k / ng + np.pi / 4
                    d = np.array([np.cos(a), np.sin(a)])
                    perp = np.array([-d[1], d[0]]) * t * 0.3
                    poly = [d * r * 0.95 - perp, d * r * 1.9 - perp, d * r * 1.9 + perp, d * r * 0.95 + perp]
                    tri = g.prism(poly if g._signed_area(poly) > 0 else poly[::-1], h * 0.6, at=(0, 0, t))
                    v, f = tri
                    top = v[:, 2] > t + 1e-9  # slope: outer top edge down to the plate
                    rad = np.linalg.norm(v[:, :2], axis=1)
                    v = v.copy()
                    v[top, 2] = t + h * 0.6 * np.clip((r * 1.9 - rad[top]) / (r * 0.95), 0.05, 1)
                    b.add((v, f), f"gusset_{k}")
    with b.group("shaft"):
        sr = r * 0.3
        sl = b.u(0.2, 0.5)
        b.add(g.cylinder(sr, sl + h * 0.3, at=(0, 0, t + h + (sl - h * 0.3) / 2 + h * 0.1), sections=16), "shaft")
        b.add(g.box((sr * 0.4, sr * 0.3, sl * 0.4), at=(sr, 0, t + h + sl * 0.6)), "key")
        b.add(g.tube(sr * 1.01, sr * 1.5, sr * 0.5, at=(0, 0, t + h + sl * 0.2), sections=16), "collar")
        screw(b, "set_screw", (sr * 1.5, 0, t + h + sl * 0.2), "x", sr * 0.12, head="hex")


def heat_sink(b: PartBuilder) -> None:
    """Base block with many thin fins (one continuous mesh), screws, a clip and an optional fan."""
    lx, ly = b.u(0.6, 1.0), b.u(0.5, 0.9)
    t = b.u(0.04, 0.08)
    nf = b.i(8, 22)
    fh = b.u(0.2, 0.45)
    with b.group("sink"):
        _ribbed_plate(b, lx, ly, t, nf, fh, "body")
        with b.group("screws"):
            for k, (x, y) in enumerate([(sx * lx * 0.47, sy * ly * 0.42) for sx in (-1, 1) for sy in (-1, 1)]):
                with b.group(f"screw_{k}"):
                    b.add(g.cylinder(t * 0.35, t * 0.25, at=(x, y, t + t * 0.125), sections=10), "head")
                    b.add(g.segment((x, y, t), (x, y, -t * 0.8), t * 0.12, sections=6), "spring")
    if b.chance(0.6):
        fs = min(lx, ly) * 0.9
        z0 = t + fh
        with b.group("fan", T=g.tf(at=(0, 0, z0))):
            fr = fs * 0.1
            frame_v, frame_f = g.merge(*[g.box((fs, fr, fs * 0.15), at=(0, s * (fs - fr) / 2, fs * 0.075)) for s in (-1, 1)],
                                       *[g.box((fr, fs - 2 * fr, fs * 0.15), at=(s * (fs - fr) / 2, 0, fs * 0.075))
                                         for s in (-1, 1)])
            b.add((frame_v, frame_f), "frame")
            b.add(g.cylinder(fs * 0.14, fs * 0.12, at=(0, 0, fs * 0.075), sections=16), "hub")
            nbl = b.i(5, 9)
            with b.group("rotor"):
                for k in range(nbl):
                    blade = g.wing(fs * 0.15, fs * 0.1, fs * 0.3, fs * 0.01, sweep=fs * 0.04)
                    blade = g.transform(blade, g.tf(at=(0, fs * 0.12, fs * 0.075), ry=0.4))
                    b.add(g.transform(blade, g.tf(rz=2 * np.pi * k / nbl)), f"blade_{k}")
            for k, (x, y) in enumerate([(sx * (fs / 2 - fr / 2), sy * (fs / 2 - fr / 2)) for sx in (-1, 1) for sy in (-1, 1)]):
                screw(b, f"fan_screw_{k}", (x, y, fs * 0.15), "z", fr * 0.25, head="flat")


def electric_motor(b: PartBuilder) -> None:
    """Thin-shell housing with cooling fins and cast-on feet (one mesh), end caps, bolts, terminal box."""
    r, length = b.u(0.25, 0.4), b.u(0.6, 1.1)
    zc = r * 1.25
    nfin = b.i(10, 24)
    with b.group("stator"):
        shell = g.orient(g.tube(r * 0.9, r, length, sections=32), "x", (0, 0, zc))
        meshes, owner = [shell], [0]
        for k in range(nfin):  # axial fins around the shell
            a = 2 * np.pi * (k + 0.5) / nfin
            n = np.array([0, np.cos(a), np.sin(a)])
            c = np.array([0, 0, zc]) + n * r * 1.06
            fin = g.beam(c - [length * 0.45, 0, 0], c + [length * 0.45, 0, 0], r * 0.03, r * 0.12,
                         up=tuple(n))
            meshes.append(fin)
            owner.append(1)
        for k, s in enumerate((-1, 1)):  # feet
            meshes.append(g.beveled_box((length * 0.7, r * 0.35, zc - r * 0.7), r * 0.04,
                                        at=(0, s * r * 0.75, (zc - r * 0.7) / 2)))
            owner.append(2 + k)
        v, f = g.merge(*meshes)
        b.add_split((v, f), np.repeat(owner, [len(m[1]) for m in meshes]), ["housing", "fins", "foot_0", "foot_1"])
        with b.group("foot_bolts"):
            for k, (x, s) in enumerate([(x, s) for x in (-1, 1) for s in (-1, 1)]):
                _bolt(b, f"bolt_{k}", (x * length * 0.28, s * r * 0.85, zc - r * 0.7), "z", r * 0.05)
    for side in (-1, 1):
        with b.group(f"end_cap_{'de' if side > 0 else 'nde'}"):
            x = side * length / 2
            b.add(g.orient(g.cylinder(r * 1.02, r * 0.12, sections=32), "x", (x + side * r * 0.06, 0, zc)), "cap")
            nb = b.choice([4, 6])
            for k in range(nb):
                a = 2 * np.pi * k / nb
                screw(b, f"screw_{k}", (x + side * r * 0.12, np.cos(a) * r * 0.85, zc + np.sin(a) * r * 0.85),
                      "x" if side > 0 else "-x", r * 0.05, head="hex")
    with b.group("rotor"):
        x = length / 2 + r * 0.12
        b.add(g.orient(g.cylinder(r * 0.14, r * 0.8, sections=16), "x", (x + r * 0.4, 0, zc)), "shaft")
        b.add(g.box((r * 0.3, r * 0.06, r * 0.05), at=(x + r * 0.55, 0, zc + r * 0.14)), "key")
        if b.chance(0.5):
            b.add(g.orient(g.tube(r * 0.15, r * 0.45, r * 0.2, sections=20), "x", (x + r * 0.6, 0, zc)), "pulley")
    with b.group("terminal_box", T=g.tf(at=(0, 0, zc + r * 1.1))):
        bw = r * b.u(0.6, 0.9)
        b.add(g.beveled_box((bw, bw, r * 0.3), r * 0.03, at=(0, 0, 0)), "box")
        b.add(g.box((bw * 1.05, bw * 1.05, r * 0.05), at=(0, 0, r * 0.17)), "lid")
        for k, (x, y) in enumerate([(sx * bw * 0.42, sy * bw * 0.42) for sx in (-1, 1) for sy in (-1, 1)]):
            screw(b, f"lid_screw_{k}", (x, y, r * 0.195), "z", r * 0.025, head="flat")
        b.add(g.orient(g.cylinder(r * 0.08, r * 0.2, sections=10), "y", (0, bw / 2 + r * 0.1, 0)), "cable_gland")


def enclosure(b: PartBuilder) -> None:
    """Thin-walled box (walls and floor one mesh), screwed lid, standoffs, a PCB with many tiny components."""
    lx, ly, h = b.u(0.7, 1.2), b.u(0.5, 0.9), b.u(0.2, 0.45)
    w = b.u(0.01, 0.025)
    with b.group("case"):
        parts = [g.box((lx, ly, w), at=(0, 0, w / 2)),
                 g.box((w, ly, h), at=(-lx / 2 + w / 2, 0, h / 2)), g.box((w, ly, h), at=(lx / 2 - w / 2, 0, h / 2)),
                 g.box((lx - 2 * w, w, h), at=(0, -ly / 2 + w / 2, h / 2)), g.box((lx - 2 * w, w, h), at=(0, ly / 2 - w / 2, h / 2))]
        v, f = g.merge(*parts)
        b.add_split((v, f), np.repeat([0, 1, 1, 1, 1], [len(p[1]) for p in parts]), ["floor", "walls"])
        if b.chance(0.7):
            with b.group("lid", T=g.tf(at=(0, 0, h))):
                b.add(g.beveled_box((lx, ly, w * 1.5), w * 0.5, at=(0, 0, w * 0.75)), "panel")
                ns = b.choice([4, 6, 8])
                xs = np.linspace(-lx / 2 + w * 2, lx / 2 - w * 2, ns // 2)
                for k, (x, s) in enumerate([(x, s) for x in xs for s in (-1, 1)]):
                    screw(b, f"screw_{k}", (x, s * (ly / 2 - w * 2), w * 1.5), "z", w * 0.6, head="flat")
    with b.group("pcb", T=g.tf(at=(0, 0, w + h * 0.15))):
        px, py, pt = lx * 0.8, ly * 0.8, w * 0.6
        b.add(g.box((px, py, pt), at=(0, 0, pt / 2)), "board")
        for k, (x, y) in enumerate([(sx * px * 0.45, sy * py * 0.45) for sx in (-1, 1) for sy in (-1, 1)]):
            b.add(g.cylinder(w * 0.8, h * 0.15, at=(x, y, -h * 0.075), sections=8), f"standoff_{k}")
        with b.group("components"):
            nc = b.i(12, 40)
            for k in range(nc):
                x, y = b.u(-px * 0.42, px * 0.42), b.u(-py * 0.42, py * 0.42)
                kind = b.choice(["chip", "cap", "res", "res", "conn"])
                s = min(px, py) * b.u(0.02, 0.12)
                if kind == "chip":
                    b.add(g.box((s * 1.5, s, s * 0.3), at=(x, y, pt + s * 0.15)), f"chip_{k}")
                elif kind == "cap":
                    b.add(g.cylinder(s * 0.35, s, at=(x, y, pt + s / 2), sections=10), f"capacitor_{k}")
                elif kind == "res":
                    b.add(g.box((s * 0.5, s * 0.25, s * 0.15), at=(x, y, pt + s * 0.075)), f"resistor_{k}")
                else:
                    b.add(g.box((s * 2, s * 0.8, s * 0.8), at=(x, y, pt + s * 0.4)), f"connector_{k}")


CATEGORIES = {
    "flange_housing": flange_housing,
    "heat_sink": heat_sink,
    "electric_motor": electric_motor,
    "enclosure": enclosure,
}
