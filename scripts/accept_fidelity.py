"""How faithfully the viewer keeps labels it holds as labels of its sampled points (faces take them
back through the atoms). For a mesh: click random sampled points at random scales (0.01, 0.05,
0.1), accept each mask and count the faces whose label then differs from the mask shown before.
For a labelled PLY (a result to review): open it and count the faces that an export without any
edit puts into another part than the file did. Headless, shipped weights.

    python scripts/accept_fidelity.py ../shared/data/2CylinderEngine.glb assets/example_car.glb
    python scripts/accept_fidelity.py saw_points_only_labelled.ply
"""
import argparse

import numpy as np
import torch

from s2am3d_core.io import load_shape
from s2am3d_core.io.parts import is_labelled, load_labelled
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
        if is_labelled(path):
            reopen(predictor, path)
            continue
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


def reopen(predictor: PartPredictor, path: str) -> None:
    """Open a labelled file as the viewer does and count the faces an unedited export moves."""
    labelled = load_labelled(path)
    file_labels = np.asarray(labelled.labels)
    for mesh_aware in (True, False):
        ctl = Controller(predictor, labelled.shape, 20000, mesh_aware=mesh_aware)
        ctl.import_labels(labelled.labels, labelled.parts)
        out = ctl.export_labels()[0]
        moved = sum(int((file_labels == k).sum() - np.bincount(out[file_labels == k] + 1).max())
                    for k in np.unique(file_labels))
        print(f"{path} ({'atoms' if mesh_aware else 'points only'}): {moved} of {len(file_labels)} faces "
              f"in another part after opening and exporting without edits")


if __name__ == "__main__":
    main()
