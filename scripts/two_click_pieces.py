"""Two positive clicks on two different pieces, with the scale of both pieces together: how often
does the mask hold both pieces whole? Random first clicks, the second on another piece within a
tenth of the shape's size, pairs up to 20 % of the shape; shipped weights, 20,000 points.

    python scripts/two_click_pieces.py ../shared/data/2CylinderEngine.glb
"""
import argparse

import numpy as np
import torch

from s2am3d_core import PartPredictor, ShapeSegmenter, load_shape


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shapes", nargs="+", help="meshes to open")
    ap.add_argument("--tries", type=int, default=40, help="first clicks per shape (default 40)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    seg = ShapeSegmenter(PartPredictor.from_pretrained())
    for path in args.shapes:
        shape = load_shape(path)
        seg.set_shape(shape.vertices, shape.faces)
        atoms, rng = seg.atoms, np.random.default_rng(args.seed)
        piece_area = np.bincount(atoms.piece, weights=atoms.area)
        point_piece = atoms.piece[atoms.point_atom]
        both = pairs = 0
        for _ in range(args.tries):
            i = int(rng.integers(seg.num_points))
            d = np.linalg.norm(seg.points - seg.points[i], axis=1)
            near = np.flatnonzero((point_piece != point_piece[i]) & (d < 0.1 * d.max()))
            if not len(near):
                continue
            j = int(rng.choice(near))
            scale = float(piece_area[point_piece[i]] + piece_area[point_piece[j]])
            if scale > 0.2:
                continue
            mask = seg.predict([i, j], scale=scale)
            pairs += 1
            both += all(mask.atoms[atoms.piece == point_piece[k]].all() for k in (i, j))
        print(f"{path}: both clicked pieces whole in {both} of {pairs} two-click masks")


if __name__ == "__main__":
    main()
