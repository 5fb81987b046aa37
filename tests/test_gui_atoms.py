"""Viewer masks on atoms (the mesh-aware segmentation layer) with the shipped weights on the bundled
chair: negative clicks remove their atoms, the points-only toggle keeps point-level masks."""
import numpy as np
import pytest
import torch

from s2am3d_core.checkpoint import default_weights_path
from s2am3d_core.examples import example_path
from s2am3d_core.io import load_shape
from s2am3d_core.io.sample import DEFAULT_POINTS
from s2am3d_core.predictor import PartPredictor
from s2am3d_gui.app import DEFAULT_EXAMPLE
from s2am3d_gui.controller import Controller

pytestmark = pytest.mark.skipif(not default_weights_path().is_file(), reason="needs the shipped weights")


@pytest.fixture(scope="module")
def chair():
    torch.manual_seed(0)
    ctl = Controller(PartPredictor.from_pretrained(cache=False), load_shape(DEFAULT_EXAMPLE), DEFAULT_POINTS)
    pts, atoms = ctl.points, ctl.segmenter.atoms
    z = pts[:, 2]
    low = np.flatnonzero(z < 0.05)
    c = pts[low, :2].mean(0)
    quad = (pts[low, 0] > c[0]).astype(int) * 2 + (pts[low, 1] > c[1]).astype(int)
    feet = [int(low[quad == q][np.argmin(z[low[quad == q]])]) for q in range(4)]  # lowest point per corner
    legs = [atoms.point_atom == atoms.point_atom[f] for f in feet]                 # each foot's atom
    return ctl, feet, legs


def _legs_in_mask(ctl, legs):
    return [bool(ctl.mask[leg].mean() > 0.9) for leg in legs]


def test_negative_clicks_on_three_legs_leave_one(chair):
    ctl, feet, legs = chair
    ctl.clear()
    ctl.click(feet[0], decode=False)
    for scale in (0.05, 0.08, 0.1, 0.12, 0.15):          # the scale where one click gives all four legs
        ctl.set_scale(scale)
        if all(_legs_in_mask(ctl, legs)):
            break
    else:
        pytest.fail("no scale gives all four legs from one click")
    for f in feet[1:]:
        ctl.click(f, negative=True)
    assert _legs_in_mask(ctl, legs) == [True, False, False, False]
    assert not ctl.display_mask()[ctl.segmenter.atoms.face_atom == ctl.segmenter.atoms.point_atom[feet[1]]].any()
    ctl.undo()                                         # the last negative click undone: its leg is back
    assert _legs_in_mask(ctl, legs) == [True, False, False, True]


def test_points_only_toggle_and_atom_face_labels(chair):
    ctl, feet, legs = chair
    ctl.clear()
    ctl.click(feet[0], decode=False)
    ctl.set_scale(0.1)
    on_atoms = ctl.mask.copy()
    assert ctl.mask_fraction == pytest.approx(ctl.current_mask().fraction)
    ctl.set_mesh_aware(False)
    assert not ctl.mesh_aware and ctl.current_mask().atoms is None
    assert np.array_equal(ctl.mask, (ctl.probs > ctl.state.threshold))  # the decoder's own points
    ctl.set_mesh_aware(True)
    assert np.array_equal(ctl.mask, on_atoms)
    part = ctl.accept_part("legs")
    faces = ctl.face_labels()
    a = ctl.segmenter.atoms
    for atom in np.unique(a.face_atom[faces == part.label]):  # whole atoms: faces follow atom boundaries
        assert (faces[a.face_atom == atom] == part.label).all()


def test_parts_list_shows_each_parts_share_of_the_surface(chair):
    """The panel lists a part's share of the shape as the scale counts it: the area of its faces,
    which for an accepted mask is what the mask line said (the mask's atoms)."""
    ctl, feet, legs = chair
    ctl.clear()
    ctl.click(feet[0], decode=False)
    ctl.set_scale(0.1)
    covered = ctl.mask_fraction
    part = ctl.accept_part("legs")
    share = ctl.part_shares()[part.label]
    assert share == pytest.approx(covered, abs=0.005)
    assert share == pytest.approx(ctl.face_areas[ctl.face_labels() == part.label].sum() / ctl.face_areas.sum())


def test_accept_keeps_exactly_the_faces_of_the_mask():
    """The viewer keeps parts as labels of its sampled points; masks follow the same rule for atoms
    without points (the bundled car has 45 of 243), so accepting changes none of the mask's faces."""
    ctl = Controller(PartPredictor.from_pretrained(cache=False), load_shape(example_path("car")), DEFAULT_POINTS)
    atoms = ctl.segmenter.atoms
    assert (np.bincount(atoms.point_atom, minlength=atoms.num_atoms) == 0).sum() > 10
    rng = np.random.default_rng(0)
    for i in rng.choice(len(ctl.points), 30, replace=False):
        ctl.clear()
        ctl.click(int(i), decode=False)
        ctl.set_scale(float(rng.choice([0.01, 0.05, 0.1])))
        shown = ctl.display_mask().copy()
        part = ctl.accept_part("x")
        assert np.array_equal(ctl.face_labels() == part.label, shown)
        ctl.undo()


def test_the_scale_line_says_when_the_clicked_region_is_the_smallest_mask(chair):
    from types import SimpleNamespace

    from s2am3d_gui.commands import CommandsMixin

    ctl, _, _ = chair
    atoms = ctl.segmenter.atoms
    big = int(np.argmax(np.where(np.bincount(atoms.point_atom, minlength=atoms.num_atoms) > 0, atoms.area, 0)))
    ctl.clear()
    ctl.click(int(np.flatnonzero(atoms.point_atom == big)[0]), decode=False)
    assert ctl.clicked_region_fraction == pytest.approx(atoms.area[big])
    line = lambda: CommandsMixin.scale_text(SimpleNamespace(ctl=ctl))  # noqa: E731
    ctl.set_scale(atoms.area[big] / 4)
    assert ctl.mask_fraction >= atoms.area[big] and "clicked region alone: " in line()
    ctl.set_scale(min(1.0, atoms.area[big] * 1.2))
    assert "\n" not in line()
    ctl.set_mesh_aware(False)                          # points only: no region, no such line
    ctl.set_scale(atoms.area[big] / 4)
    assert ctl.clicked_region_fraction is None and "\n" not in line()
    ctl.set_mesh_aware(True)
    ctl.clear()


def test_dragging_the_scale_up_from_a_leg_never_drops_a_leg(chair):
    """The bundled chair, the viewer's first shape: from one leg to the four legs, the mask only
    grows (before, three legs, or one, came back at 0.16-0.2 after four at 0.12)."""
    ctl, feet, legs = chair
    for foot in feet:
        ctl.clear()
        ctl.click(foot, decode=False)
        counts, sizes = [], []
        for scale in np.geomspace(0.02, 0.3, 12):
            ctl.set_scale(float(scale))
            counts.append(sum(_legs_in_mask(ctl, legs)))
            sizes.append(ctl.mask_fraction)
        assert counts == sorted(counts) and counts[-1] == 4, counts
        assert all(b >= 0.9 * a for a, b in zip(sizes, sizes[1:])), np.round(sizes, 3)
    ctl.clear()
