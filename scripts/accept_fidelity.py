"""How faithfully the viewer keeps a mask when it is accepted: click random sampled points at random
scales (0.01, 0.05, 0.1), accept each mask and count the faces whose label then differs from the
mask shown before (the viewer keeps parts as labels of its sampled points, and faces take them back
through the atoms). Headless, shipped weights.

    python scripts/accept_fidelity.py ../shared/data/2CylinderEngine.glb assets/example_car.glb
"""
import argparse

import numpy as np
import torch

from s2am3d_core.io import load_shape
from s2am3d_core.predictor import PartPredictor
from s2am3d_gui.controller import Controller


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shapes", nargs="+", help="meshes to open")
    ap.add_argument("--clicks", type=int, default=30, help="clicks per shape (default 30)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    predictor = PartPredictor.from_pretrained()
    for path in args.shapes:
        ctl = Controller(predictor, load_shape(path), 20000)
        atoms = ctl.segmenter.atoms
        empty = np.bincount(atoms.point_atom, minlength=atoms.num_atoms) == 0
        rng = np.random.default_rng(args.seed)
        changed, shown = [], []
        for i in rng.choice(len(ctl.points), args.clicks, replace=False):
            ctl.clear()
            ctl.click(int(i), decode=False)
            ctl.set_scale(float(rng.choice([0.01, 0.05, 0.1])))
            mask = ctl.display_mask().copy()
            part = ctl.accept_part("x")
            changed.append(int((mask != (ctl.face_labels() == part.label)).sum()))
            shown.append(int(mask.sum()))
            ctl.undo()
        print(f"{path}: {atoms.num_atoms} atoms, {int(empty.sum())} without a sampled point; "
              f"faces changed by Accept: mean {np.mean(changed):.1f} of {np.mean(shown):.1f} mask faces, "
              f"in {int(np.sum(np.array(changed) > 0))} of {args.clicks} clicks")


if __name__ == "__main__":
    main()
