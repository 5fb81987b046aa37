"""Vehicles, machines, robots, tools and household objects."""
from __future__ import annotations

import numpy as np

from .builder import PartBuilder, box, cone, cylinder, rot, segment, sphere, torus
from .parts import wheel


def car(b: PartBuilder, long: bool = False) -> None:
    lx = b.uniform(3.5, 4.5) * (1.5 if long else 1.0)
    ly, bh = b.uniform(1.6, 1.9), b.uniform(0.5, 0.7)
    wr, ww = b.uniform(0.3, 0.4), b.uniform(0.2, 0.3)
    z0 = wr * 0.9
    b.add(box((lx, ly, bh), (0, 0, z0 + bh / 2)), "body", "shell", "lower")
    cab_l = lx * (0.35 if long else 0.5)
    cab_x = (lx / 2 - cab_l / 2 - 0.1) if long else b.uniform(-0.2, 0.2)
    b.add(box((cab_l, ly * 0.9, bh * 0.8), (cab_x, 0, z0 + bh * 1.4)), "body", "cabin", "roof")
    b.add(box((0.03, ly * 0.8, bh * 0.6), (cab_x + cab_l / 2 + 0.01, 0, z0 + bh * 1.4)), "body", "cabin", "windshield")
    for i in range(2):
        y = (-1) ** i * ly * 0.3
        b.add(sphere(0.1, (lx / 2, y, z0 + bh * 0.6), subdivisions=1), "body", "lights", f"headlight_{i}")
        b.add(box((0.04, 0.15, 0.06), (-lx / 2, y, z0 + bh * 0.7)), "body", "lights", f"taillight_{i}")
    if long:
        b.add(box((lx * 0.55, ly * 0.95, bh * 1.5), (-lx * 0.2, 0, z0 + bh * 1.6)), "cargo", "container", "box")
    axles = [lx / 2 - wr * 1.5, -lx / 2 + wr * 1.5] + ([-lx / 2 + wr * 3.7] if long else [])
    for a, x in enumerate(axles):
        b.add(cylinder(0.04, ly, (x, 0, wr), axis="y"), "chassis", f"axle_{a}", "shaft")
        for s in range(2):
            y = (-1) ** s * (ly / 2 + ww / 2)
            wheel(b, ("chassis", f"axle_{a}", f"wheel_{s}"), (x, y, wr), wr, ww, axis="y", bolts=b.integer(4, 6))


def truck(b: PartBuilder) -> None:
    car(b, long=True)


def bicycle(b: PartBuilder) -> None:
    wr = b.uniform(0.3, 0.37)
    wb = b.uniform(1.0, 1.15)
    rear, front = np.array([-wb / 2, 0, wr]), np.array([wb / 2, 0, wr])
    bb = np.array([-wb * 0.05, 0, wr * 0.9])
    seat = np.array([-wb * 0.2, 0, wr + 0.55])
    head = np.array([wb * 0.38, 0, wr + 0.55])
    tubes = {"down": (bb, head), "seat_tube": (bb, seat), "top": (seat, head), "chain_stay": (bb, rear),
             "seat_stay": (seat, rear)}
    for n, (p, q) in tubes.items():
        b.add(segment(p, q, 0.018), "frame", "main", n)
    b.add(segment(head, front, 0.015), "frame", "fork", "blades")
    b.add(segment(head, head + [0, 0, 0.15], 0.015), "steering", "stem", "stem")
    b.add(cylinder(0.012, 0.5, head + [0, 0, 0.15], axis="y"), "steering", "handlebar", "bar")
    for s in range(2):
        b.add(cylinder(0.018, 0.1, head + [0, (-1) ** s * 0.22, 0.15], axis="y"), "steering", "handlebar", f"grip_{s}")
    b.add(segment(seat, seat + [0, 0, 0.1], 0.012), "saddle", "post", "post")
    b.add(box((0.25, 0.12, 0.05), seat + [0, 0, 0.12]), "saddle", "seat", "seat")
    for i, c in enumerate((rear, front)):
        wheel(b, ("wheels", f"wheel_{i}"), c, wr, 0.05, axis="y", bolts=0, spokes=b.integer(8, 16))
    b.add(cylinder(0.09, 0.01, bb + [0, 0.05, 0], axis="y"), "drivetrain", "crank", "chainring")
    for s in range(2):
        sgn = (-1) ** s
        p = bb + [sgn * 0.15, sgn * 0.08, 0]
        b.add(segment(bb, p, 0.01), "drivetrain", f"pedal_{s}", "arm")
        b.add(box((0.08, 0.06, 0.02), p + [0, sgn * 0.04, 0]), "drivetrain", f"pedal_{s}", "pedal")


def airplane(b: PartBuilder) -> None:
    lx, r = b.uniform(6, 10), b.uniform(0.4, 0.6)
    b.add(cylinder(r, lx, (0, 0, 0), axis="x", sections=20), "fuselage", "body", "tube")
    nose = cone(r, r * 2, sections=20)
    nose.apply_transform(rot("y", np.pi / 2))
    nose.apply_translation((lx / 2, 0, 0))
    b.add(nose, "fuselage", "body", "nose")
    span, chord = b.uniform(6, 10), b.uniform(1.0, 1.6)
    for s in range(2):
        y = (-1) ** s * (span / 4 + r / 2)
        b.add(box((chord, span / 2, 0.1), (0, y, -r * 0.3)), "wings", f"wing_{s}", "panel")
        b.add(box((chord * 0.25, span / 4, 0.06), (-chord * 0.62, y, -r * 0.3)), "wings", f"wing_{s}", "flap")
        ey = (-1) ** s * span * 0.22
        b.add(cylinder(r * 0.35, chord * 0.9, (chord * 0.2, ey, -r * 0.75), axis="x"), "wings", f"wing_{s}", "engine")
    b.add(box((chord * 0.8, 0.08, r * 2.2), (-lx / 2 + 0.4, 0, r * 1.3)), "tail", "fin", "vertical")
    for s in range(2):
        b.add(box((chord * 0.6, span / 6, 0.06), (-lx / 2 + 0.4, (-1) ** s * span / 12, 0)), "tail", "stabilizers", f"stab_{s}")


def rocket(b: PartBuilder) -> None:
    h, r = b.uniform(4, 8), b.uniform(0.3, 0.5)
    n = b.integer(2, 3)
    z = 0.0
    for k in range(n):
        sh = h / n
        b.add(cylinder(r, sh, (0, 0, z + sh / 2), sections=20), "stack", f"stage_{k}", "tank")
        b.add(torus(r, 0.03, (0, 0, z + sh), axis="z"), "stack", f"stage_{k}", "ring")
        z += sh
    b.add(cone(r, r * 2.5, (0, 0, z), sections=20), "stack", "payload", "fairing")
    for i in range(b.integer(3, 4)):
        a = 2 * np.pi * i / 4
        fin = box((0.05, r * 1.2, r * 1.5))
        fin.apply_translation((0, r * 1.3, r * 0.9))
        fin.apply_transform(rot("z", a))
        b.add(fin, "base", "fins", f"fin_{i}")
    b.add(cone(r * 0.6, r * 0.8, (0, 0, -r * 0.4), flip=False), "base", "engine", "nozzle")


def robot_arm(b: PartBuilder) -> None:
    b.add(cylinder(b.uniform(0.25, 0.35), 0.15, (0, 0, 0.075)), "base", "mount", "plate")
    b.add(cylinder(0.15, 0.25, (0, 0, 0.27)), "base", "mount", "turret")
    p = np.array([0, 0, 0.4])
    ang = b.uniform(0.2, 0.9)
    n = b.integer(2, 3)
    for k in range(n):
        length = b.uniform(0.4, 0.7)
        d = np.array([np.cos(ang), 0, np.sin(ang)])
        q = p + d * length
        b.add(sphere(0.09, p, subdivisions=1), "arm", f"link_{k}", "joint")
        b.add(segment(p, q, 0.06), "arm", f"link_{k}", "beam")
        p = q
        ang -= b.uniform(0.5, 1.2)
    b.add(sphere(0.07, p, subdivisions=1), "gripper", "wrist", "joint")
    b.add(box((0.06, 0.2, 0.05), p + [0.05, 0, 0]), "gripper", "wrist", "palm")
    for s in range(2):
        b.add(box((0.12, 0.02, 0.04), p + [0.14, (-1) ** s * 0.08, 0]), "gripper", "fingers", f"finger_{s}")


def humanoid(b: PartBuilder) -> None:
    hh = b.uniform(0.8, 1.0)  # hip height
    tw = b.uniform(0.3, 0.45)
    b.add(box((0.2, tw, 0.5), (0, 0, hh + 0.3)), "body", "torso", "chest")
    b.add(box((0.18, tw * 0.8, 0.12), (0, 0, hh)), "body", "torso", "pelvis")
    b.add(cylinder(0.05, 0.1, (0, 0, hh + 0.6)), "body", "head", "neck")
    b.add(box((0.22, 0.2, 0.24), (0, 0, hh + 0.77)), "body", "head", "skull")
    for s in range(2):
        ey = (-1) ** s * 0.05
        b.add(sphere(0.025, (0.11, ey, hh + 0.8), subdivisions=1), "body", "head", f"eye_{s}")
    for s in range(2):
        y = (-1) ** s * (tw / 2 + 0.06)
        sh = np.array([0, y, hh + 0.5])
        el = sh + [b.uniform(-0.1, 0.15), 0, -0.3]
        wr = el + [b.uniform(0, 0.25), 0, -0.25]
        b.add(segment(sh, el, 0.045), "arms", f"arm_{s}", "upper")
        b.add(segment(el, wr, 0.04), "arms", f"arm_{s}", "lower")
        b.add(box((0.08, 0.05, 0.1), wr + [0, 0, -0.05]), "arms", f"arm_{s}", "hand")
        hip = np.array([0, (-1) ** s * tw * 0.25, hh - 0.05])
        kn = hip + [b.uniform(-0.05, 0.1), 0, -hh / 2]
        an = np.array([0, hip[1], 0.06])
        b.add(segment(hip, kn, 0.06), "legs", f"leg_{s}", "thigh")
        b.add(segment(kn, an, 0.05), "legs", f"leg_{s}", "shin")
        b.add(box((0.25, 0.1, 0.06), (0.05, hip[1], 0.03)), "legs", f"leg_{s}", "foot")


def lamp(b: PartBuilder) -> None:
    b.add(cylinder(b.uniform(0.1, 0.2), 0.03, (0, 0, 0.015)), "base", "foot", "disc")
    b.add(cylinder(0.025, 0.04, (0, 0, 0.05)), "base", "foot", "switch")
    p = np.array([0, 0, 0.03])
    n = b.integer(1, 3)
    for k in range(n):
        q = p + [b.uniform(-0.15, 0.15), 0, b.uniform(0.25, 0.45)]
        b.add(segment(p, q, 0.012), "arm", f"segment_{k}", "rod")
        b.add(sphere(0.025, q, subdivisions=1), "arm", f"segment_{k}", "joint")
        p = q
    shade = cone(b.uniform(0.1, 0.18), b.uniform(0.12, 0.2), p + [0, 0, -0.12], sections=20)
    b.add(shade, "head", "shade", "shade")
    b.add(sphere(0.035, p + [0, 0, -0.1], subdivisions=1), "head", "bulb", "bulb")


def fan(b: PartBuilder) -> None:
    h = b.uniform(0.8, 1.4)
    b.add(cylinder(0.2, 0.05, (0, 0, 0.025)), "stand", "base", "disc")
    b.add(cylinder(0.02, h, (0, 0, h / 2)), "stand", "pole", "rod")
    b.add(cylinder(0.08, 0.18, (0, 0, h + 0.05), axis="x"), "head", "motor", "housing")
    n = b.integer(3, 5)
    for i in range(n):
        blade = box((0.01, 0.08, 0.2))
        blade.apply_translation((0, 0, 0.14))
        blade.apply_transform(rot("x", 2 * np.pi * i / n))
        blade.apply_translation((0.12, 0, h + 0.05))
        b.add(blade, "head", "rotor", f"blade_{i}")
    b.add(torus(0.3, 0.01, (0.13, 0, h + 0.05), axis="x"), "head", "guard", "ring")


def hammer(b: PartBuilder) -> None:
    L = b.uniform(0.25, 0.4)
    b.add(cylinder(0.015, L, (0, 0, L / 2)), "handle", "shaft", "shaft")
    for k in range(b.integer(2, 4)):
        b.add(torus(0.016, 0.004, (0, 0, 0.03 + 0.03 * k)), "handle", "grip", f"ring_{k}")
    hl = b.uniform(0.1, 0.15)
    b.add(box((hl, 0.03, 0.03), (0, 0, L + 0.015)), "head", "body", "block")
    b.add(cylinder(0.018, 0.02, (hl / 2 + 0.01, 0, L + 0.015), axis="x"), "head", "face", "strike")
    b.add(box((0.04, 0.01, 0.02), (-hl / 2 - 0.02, 0, L + 0.02)), "head", "claw", "claw")


def wrench(b: PartBuilder) -> None:
    L = b.uniform(0.15, 0.3)
    b.add(box((L, 0.02, 0.006), (0, 0, 0)), "body", "shaft", "bar")
    b.add(torus(0.015, 0.005, (L / 2 + 0.012, 0, 0), axis="z"), "ends", "ring_end", "ring")
    b.add(box((0.02, 0.01, 0.006), (-L / 2 - 0.01, 0.012, 0)), "ends", "open_end", "jaw_0")
    b.add(box((0.02, 0.01, 0.006), (-L / 2 - 0.01, -0.012, 0)), "ends", "open_end", "jaw_1")
    b.add(cylinder(0.004, 0.012, (-L / 2 + 0.02, 0, 0.003), axis="z", sections=8), "body", "markings", "rivet")


def screwdriver(b: PartBuilder) -> None:
    hl, sl = b.uniform(0.08, 0.12), b.uniform(0.08, 0.15)
    b.add(cylinder(0.015, hl, (0, 0, hl / 2)), "handle", "core", "body")
    for k in range(b.integer(4, 6)):
        a = 2 * np.pi * k / 6
        b.add(box((0.004, 0.004, hl * 0.8), (0.015 * np.cos(a), 0.015 * np.sin(a), hl / 2)), "handle", "ribs", f"rib_{k}")
    b.add(cylinder(0.003, sl, (0, 0, hl + sl / 2), sections=8), "tip", "shank", "rod")
    b.add(box((0.008, 0.002, 0.012), (0, 0, hl + sl + 0.006)), "tip", "blade", "blade")


def ladder(b: PartBuilder) -> None:
    h, w = b.uniform(1.5, 3.0), b.uniform(0.35, 0.5)
    for s in range(2):
        b.add(box((0.05, 0.02, h), ((-1) ** s * w / 2, 0, h / 2)), "frame", "rails", f"rail_{s}")
        b.add(box((0.07, 0.05, 0.03), ((-1) ** s * w / 2, 0, 0.015)), "frame", "feet", f"foot_{s}")
    n = int(h / 0.28)
    for k in range(n):
        b.add(cylinder(0.015, w, (0, 0, 0.25 + 0.28 * k), axis="x"), "steps", "rungs", f"rung_{k}")


def windmill(b: PartBuilder) -> None:
    h, r = b.uniform(3, 6), b.uniform(0.5, 0.9)
    b.add(cone(r, h * 1.3, (0, 0, 0), sections=12), "tower", "body", "walls")
    b.add(box((0.05, 0.4, 0.7), (r * 0.9, 0, 0.35)), "tower", "body", "door")
    top = np.array([0, 0, h])
    b.add(box((0.6, 0.5, 0.5), top), "tower", "cap", "nacelle")
    hub = top + [0.4, 0, 0]
    b.add(cylinder(0.12, 0.2, hub, axis="x"), "rotor", "hub", "hub")
    for i in range(4):
        blade = box((0.04, 0.3, h * 0.45))
        blade.apply_translation((0, 0, h * 0.25))
        blade.apply_transform(rot("x", np.pi / 2 * i + b.uniform(0, 0.3)))
        blade.apply_translation(hub + [0.1, 0, 0])
        b.add(blade, "rotor", "sails", f"sail_{i}")


def mug(b: PartBuilder) -> None:
    r, h = b.uniform(0.04, 0.06), b.uniform(0.08, 0.12)
    b.add(cylinder(r, h, (0, 0, h / 2), sections=24), "cup", "body", "wall")
    b.add(cylinder(r * 1.02, 0.008, (0, 0, 0.004), sections=24), "cup", "body", "foot")
    b.add(torus(r, 0.004, (0, 0, h), axis="z"), "cup", "lip", "rim")
    handle = torus(h * 0.3, 0.008, (0, 0, 0), axis="y")
    handle.apply_translation((r + h * 0.15, 0, h / 2))
    b.add(handle, "handle", "loop", "loop")
    if b.rng.random() < 0.5:
        b.add(cylinder(r * 1.05, 0.01, (0, 0, h + 0.01), sections=24), "lid", "cover", "disc")
        b.add(sphere(0.008, (0, 0, h + 0.02), subdivisions=1), "lid", "cover", "knob")


def guitar(b: PartBuilder) -> None:
    bl = b.uniform(0.45, 0.55)
    b.add(cylinder(bl * 0.42, 0.09, (0, 0, 0), sections=24), "body", "soundbox", "lower_bout")
    b.add(cylinder(bl * 0.32, 0.09, (bl * 0.45, 0, 0), sections=24), "body", "soundbox", "upper_bout")
    b.add(box((0.1, 0.12, 0.01), (-bl * 0.15, 0, 0.05)), "body", "bridge", "bridge")
    nl = b.uniform(0.45, 0.55)
    b.add(box((nl, 0.05, 0.02), (bl * 0.7 + nl / 2, 0, 0.04)), "neck", "fretboard", "board")
    for k in range(b.integer(8, 14)):
        b.add(box((0.003, 0.05, 0.004), (bl * 0.75 + k * nl / 15, 0, 0.052)), "neck", "frets", f"fret_{k}")
    hx = bl * 0.7 + nl + 0.08
    b.add(box((0.16, 0.08, 0.02), (hx, 0, 0.04)), "head", "headstock", "plate")
    for k in range(6):
        b.add(cylinder(0.006, 0.03, (hx - 0.05 + 0.04 * (k % 3), (-1) ** (k // 3) * 0.05, 0.04), axis="y", sections=8),
              "head", "tuners", f"peg_{k}")


def wheelbarrow(b: PartBuilder) -> None:
    L = b.uniform(1.2, 1.5)
    tray = cone(0.45, 0.4, (0, 0, 0), sections=4)
    tray.apply_transform(rot("x", np.pi))
    tray.apply_translation((0, 0, 0.75))
    b.add(tray, "body", "tray", "bin")
    for s in range(2):
        y = (-1) ** s * 0.25
        b.add(segment((L * 0.45, 0, 0.25), (-L * 0.55, y, 0.6), 0.02), "frame", "handles", f"handle_{s}")
        b.add(cylinder(0.025, 0.12, (-L * 0.55 + 0.06, y, 0.6), axis="x"), "frame", "handles", f"grip_{s}")
        b.add(segment((-L * 0.2, y, 0.4), (-L * 0.2, y, 0.0), 0.02), "frame", "legs", f"leg_{s}")
    wheel(b, ("front", "wheel"), (L * 0.45, 0, 0.22), 0.22, 0.08, axis="y", bolts=4)


CATEGORIES = {
    "car": car, "truck": truck, "bicycle": bicycle, "airplane": airplane, "rocket": rocket,
    "robot_arm": robot_arm, "humanoid_robot": humanoid, "lamp": lamp, "fan": fan, "hammer": hammer,
    "wrench": wrench, "screwdriver": screwdriver, "ladder": ladder, "windmill": windmill, "mug": mug,
    "guitar": guitar, "wheelbarrow": wheelbarrow,
}
