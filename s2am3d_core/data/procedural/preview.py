"""Render a contact sheet of procedural objects (point splats coloured by part) to a PNG.

    python -m s2am3d_core.data.procedural.preview OUT.png [--categories car,chair] [--seeds 3] [--level 0]

Columns are seeds, rows categories; ``--level`` picks the label level (finest = 0, clipped per object).
Needs only numpy and Pillow.
"""
from __future__ import annotations

import argparse

import numpy as np

from ...io.atomic import atomic_path
from . import CATEGORIES, generate


def _palette(n: int, rng: np.random.Generator) -> np.ndarray:
    hues = (np.arange(n) * 0.61803398875 + rng.uniform()) % 1.0
    h6 = hues * 6
    c = np.stack([np.abs(h6 - 3) - 1, 2 - np.abs(h6 - 2), 2 - np.abs(h6 - 4)], 1).clip(0, 1)
    return 0.25 + 0.7 * c


def render(pm, level: int = 0, size: int = 256, points: int = 60000, azim: float = 0.6,
           elev: float = 0.45) -> np.ndarray:
    """(size, size, 3) uint8 image of a PartMesh: area-sampled points, orthographic view, Lambert shading."""
    v, f = pm.vertices.astype(np.float64), pm.faces
    tri = v[f]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(n, axis=1) / 2
    n = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(0)
    fi = rng.choice(len(f), points, p=area / area.sum())
    r1, r2 = np.sqrt(rng.random(points)), rng.random(points)
    p = tri[fi, 0] * (1 - r1)[:, None] + tri[fi, 1] * (r1 * (1 - r2))[:, None] + tri[fi, 2] * (r1 * r2)[:, None]
    ca, sa, ce, se = np.cos(azim), np.sin(azim), np.cos(elev), np.sin(elev)
    right = np.array([ca, sa, 0.0])
    view = np.array([sa * ce, -ca * ce, se])  # towards the camera (in front, -y, and above)
    up = np.cross(view, right)
    xy = np.stack([p @ right, p @ up], 1)
    depth = p @ view
    lo, hi = xy.min(0), xy.max(0)
    s = (size - 8) / max((hi - lo).max(), 1e-9)
    pix = ((xy - (lo + hi) / 2) * s + size / 2).astype(int)
    lab = pm.face_labels[min(level, pm.num_levels - 1)][fi]
    col = _palette(int(lab.max()) + 1, np.random.default_rng(1))[lab]
    light = np.array([0.3, -0.5, 0.8])
    shade = 0.45 + 0.55 * np.abs(n[fi] @ (light / np.linalg.norm(light)))
    col = (col * shade[:, None] * 255).astype(np.uint8)
    img = np.full((size, size, 3), 255, np.uint8)
    order = np.argsort(depth)
    for dx in (0, 1):
        for dy in (0, 1):
            x = np.clip(pix[order, 0] + dx, 0, size - 1)
            y = np.clip(size - 1 - pix[order, 1] - dy, 0, size - 1)
            img[y, x] = col[order]
    return img


def main(argv=None) -> int:
    from ...cli.util import ArgumentParser

    ap = ArgumentParser(prog="python -m s2am3d_core.data.procedural.preview", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output PNG")
    ap.add_argument("--categories", default=",".join(CATEGORIES))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--level", type=int, default=0)
    ap.add_argument("--size", type=int, default=200)
    args = ap.parse_args(argv)
    from PIL import Image, ImageDraw

    cats = [c for c in args.categories.split(",") if c]
    rows = []
    for c in cats:
        tiles = []
        for seed in range(args.seeds):
            tile = Image.fromarray(render(generate(c, seed), args.level, args.size))
            ImageDraw.Draw(tile).text((4, 2), f"{c} {seed}", fill=(0, 0, 0))
            tiles.append(np.asarray(tile))
        rows.append(np.concatenate(tiles, 1))
    sheet = np.concatenate(rows, 0)
    with atomic_path(args.out) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
    print(f"wrote {args.out} ({len(cats)} categories x {args.seeds} seeds, level {args.level})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
