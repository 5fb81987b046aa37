"""Does the viewer keep what the user sees? Headless, shipped weights, 20,000 points.

For a mesh, three checks:
  * accept: click random sampled points at random scales (0.01, 0.05, 0.1), accept each mask and
    count the faces whose label then differs from the mask shown (the viewer keeps parts as labels
    of its sampled points; faces take them back through the atoms);
  * two clicks: a random click and a second one on another piece within a tenth of the shape's
    size, with the scale of both pieces together (pairs up to 20 % of the shape): how often the
    mask holds both clicked pieces whole;
  * slider: random clicks, the scale dragged up over 24 steps from 0.005 to 0.6: how many clicks see
    their mask shrink (below 0.9 of the largest it held at a smaller scale) while the slider grows.
For a labelled PLY (a result to review): open it as the viewer does and count the faces that an
export without any edit puts into another part than the file did.

    python scripts/viewer_fidelity.py ../shared/data/2CylinderEngine.glb assets/example_car.glb
    python scripts/viewer_fidelity.py saw_points_only_labelled.ply
"""
import argparse

import numpy as np
import torch

from s2am3d_core.cli.util import run_main
from s2am3d_core.io import load_shape
from s2am3d_core.io.parts import is_labelled, load_labelled
from s2am3d_core.predictor import PartPredictor
from s2am3d_gui.controller import Controller


def accept(ctl: Controller, clicks: int, seed: int) -> str:
    atoms = ctl.segmenter.atoms
    empty = np.bincount(atoms.point_atom, minlength=atoms.num_atoms) == 0
    rng = np.random.default_rng(seed)
    changed, shown = [], []
    for i in rng.choice(len(ctl.points), clicks, replace=False):
        ctl.clear()
        ctl.click(int(i), decode=False)
        ctl.set_scale(float(rng.choice([0.01, 0.05, 0.1])))
        mask = ctl.display_mask().copy()
        part = ctl.accept_part("x")
        changed.append(int((mask != (ctl.face_labels() == part.label)).sum()))
        shown.append(int(mask.sum()))
        ctl.undo()
    return (f"{atoms.num_atoms} atoms, {int(empty.sum())} without a sampled point; faces changed by "
            f"Accept: mean {np.mean(changed):.1f} of {np.mean(shown):.1f} mask faces, in "
            f"{int(np.sum(np.array(changed) > 0))} of {clicks} clicks")


def two_clicks(ctl: Controller, tries: int, seed: int) -> str:
    seg = ctl.segmenter
    atoms, rng = seg.atoms, np.random.default_rng(seed)
    piece_area = np.bincount(atoms.piece, weights=atoms.area)
    point_piece = atoms.piece[atoms.point_atom]
    both = pairs = 0
    for _ in range(tries):
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
    return f"both clicked pieces whole in {both} of {pairs} two-click masks"


SLIDER_STEPS = np.geomspace(0.005, 0.6, 24)


def slider(ctl: Controller, clicks: int, seed: int) -> str:
    seg = ctl.segmenter
    rng = np.random.default_rng(seed)
    shrink = 0
    for i in rng.choice(seg.num_points, clicks, replace=False):
        sizes = np.array([seg.predict([int(i)], scale=float(s)).fraction for s in SLIDER_STEPS])
        shrink += bool(np.any(sizes[1:] < 0.9 * np.maximum.accumulate(sizes)[:-1]))
    return f"mask shrinks while the scale slider grows in {shrink} of {clicks} clicks"


def reopen(predictor: PartPredictor, path: str) -> None:
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


CHECKS = ("accept", "two", "slider")


def check_names(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in CHECKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{text!r}: choose among {', '.join(CHECKS)}")
    return names


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shapes", nargs="+", help="meshes, or labelled PLYs to reopen")
    ap.add_argument("--clicks", type=int, default=30, help="accepted clicks per mesh (default 30)")
    ap.add_argument("--tries", type=int, default=40, help="first clicks of the two-click check (default 40)")
    ap.add_argument("--checks", default="accept,two,slider", type=check_names,
                    help="comma-separated checks of a mesh (default accept,two,slider)")
    ap.add_argument("--slider-clicks", type=int, default=12, help="clicks of the slider check (default 12)")
    ap.add_argument("--seed", type=int, default=0,
                    help="accept check's seed; the two-click check uses seed + 1, the slider check seed + 2")
    return run_main(run, ap.parse_args())


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    predictor = PartPredictor.from_pretrained()
    for path in args.shapes:
        if is_labelled(path):
            reopen(predictor, path)
            continue
        ctl = Controller(predictor, load_shape(path), 20000)
        checks = args.checks
        if "accept" in checks:
            print(f"{path}: {accept(ctl, args.clicks, args.seed)}")
        if "two" in checks:
            print(f"{path}: {two_clicks(ctl, args.tries, args.seed + 1)}")
        if "slider" in checks:
            print(f"{path}: {slider(ctl, args.slider_clicks, args.seed + 2)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
