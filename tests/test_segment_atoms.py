"""Mesh-aware segmentation: atoms, surface distance, selection on atoms, segment everything."""
import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from s2am3d_core.config import get_config
from s2am3d_core.errors import PromptError
from s2am3d_core.io.sample import sample_surface
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor
from s2am3d_core.segment import ShapeSegmenter
from s2am3d_core.segment.atoms import Atoms, cloud_atoms, mesh_atoms, piece_copies, weld_vertices
from s2am3d_core.segment.geodesic import SurfaceDistance
from s2am3d_core.segment.select import select_with_scale, select_without_scale


# ----------------------------------------------------------------------------- small meshes
def quad_grid(origin, u, v, nu=2, nv=2):
    """Vertices and faces of a planar quad [origin, origin+u, origin+u+v, origin+v] split into a
    nu x nv grid of triangle pairs (normal = u x v)."""
    o, u, v = map(np.asarray, (origin, u, v))
    verts = np.array([o + u * i / nu + v * j / nv for j in range(nv + 1) for i in range(nu + 1)], dtype=np.float64)
    faces = []
    for j in range(nv):
        for i in range(nu):
            a = j * (nu + 1) + i
            b, c, d = a + 1, a + nu + 2, a + nu + 1
            faces += [[a, b, c], [a, c, d]]
    return verts, np.array(faces)


def merge(*parts):
    verts, faces, owner, off = [], [], [], 0
    for k, (v, f) in enumerate(parts):
        verts.append(v)
        faces.append(f + off)
        owner.append(np.full(len(f), k))
        off += len(v)
    return np.concatenate(verts), np.concatenate(faces), np.concatenate(owner)


def box(lo, hi, n=2):
    """An axis-aligned box surface of 6 grid quads (outward normals); vertices not shared between sides."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    dx, dy, dz = hi - lo
    x, y, z = np.eye(3)
    sides = [
        quad_grid(lo, y * dy, x * dx, n, n),                               # bottom (-z)
        quad_grid(lo + z * dz, x * dx, y * dy, n, n),                      # top (+z)
        quad_grid(lo, x * dx, z * dz, n, n),                               # -y
        quad_grid(lo + y * dy, z * dz, x * dx, n, n),                      # +y
        quad_grid(lo, z * dz, y * dy, n, n),                               # -x
        quad_grid(lo + x * dx, y * dy, z * dz, n, n),                      # +x
    ]
    v, f, _ = merge(*sides)
    return v, f


def atoms_of(v, f, **kw):
    pts, fi = sample_surface(v.astype(np.float32), f, 2000, seed=0)
    return mesh_atoms(v, f, fi, pts, **kw)


def test_touching_boxes_without_shared_vertices_are_separate_pieces():
    a = box([0, 0, 0], [1, 1, 1], n=3)
    b = box([1, 0.1, 0.1], [2, 0.9, 0.9], n=2)  # touches a's +x side; no vertex coincides
    v, f, owner = merge(a, b)
    at = atoms_of(v, f)
    assert at.num_pieces == 2
    for atom in range(at.num_atoms):
        assert len(np.unique(owner[at.face_atom == atom])) == 1


def test_welded_boxes_are_one_piece_split_at_the_crease():
    # a 3x3-grid cube with a small block welded onto its central top cell (no interior faces)
    big = box([0, 0, 0], [3, 3, 1], n=3)
    v, f = big
    top_center = np.abs(v[f].mean(1) - [1.5, 1.5, 1.0]).max(1) < 0.51
    f = f[~top_center]
    block_sides = [
        quad_grid([1, 1, 1], [1, 0, 0], [0, 0, 1], 1, 1), quad_grid([1, 2, 1], [0, 0, 1], [1, 0, 0], 1, 1),
        quad_grid([1, 1, 1], [0, 0, 1], [0, 1, 0], 1, 1), quad_grid([2, 1, 1], [0, 1, 0], [0, 0, 1], 1, 1),
        quad_grid([1, 1, 2], [1, 0, 0], [0, 1, 0], 1, 1),
    ]
    bv, bf, _ = merge(*block_sides)
    v, f, owner = merge((v, f), (bv, bf))
    at = atoms_of(v, f)
    assert len(np.unique(weld_vertices(v))) < len(v)
    assert at.num_pieces == 1
    for atom in range(at.num_atoms):
        assert len(np.unique(owner[at.face_atom == atom])) == 1, "an atom crosses the welded crease"


def test_l_shaped_single_piece_splits_at_its_crease(monkeypatch):
    leg1 = quad_grid([0, 0, 0], [2, 0, 0], [0, 1, 0], 4, 2)
    leg2 = quad_grid([0, 0, 0], [0, 1, 0], [0, 0, 2], 2, 4)  # shares the x=0 edge, folded 90 degrees
    v, f, owner = merge(leg1, leg2)
    at = atoms_of(v, f)
    assert at.num_pieces == 1 and at.num_atoms == 2
    assert len(np.unique(at.face_atom[owner == 0])) == 1 and len(np.unique(at.face_atom[owner == 1])) == 1
    # a gentler fold is no crease: one region, the whole piece, so it is cut into patches instead
    soft = quad_grid([0, 0, 0], [0, 1, 0], [-2, 0, 0.4], 2, 4)
    v2, f2, _ = merge(leg1, soft)
    assert atoms_of(v2, f2).num_atoms > 2
    monkeypatch.setattr("s2am3d_core.segment.atoms.LARGE_REGION", 1.0)
    assert atoms_of(v2, f2).num_atoms == 1


def test_double_sided_and_flipped_faces_split_at_creases_as_a_clean_mesh():
    """Real files repeat faces (double-sided meshes, the back copy wound the other way: the visual
    meshes of many robot descriptions) and flip single triangles; the atoms stay the box's sides."""
    v, f = box([0, 0, 0], [2, 1, 1], n=3)
    w = weld_vertices(v)
    f = w[f]  # one welded vertex per corner, as an indexed file has it
    v = v[np.unique(w, return_index=True)[1]]
    clean = atoms_of(v, f)
    assert clean.num_atoms == 6
    flipped = f.copy()
    flipped[::7] = flipped[::7, ::-1]
    double = np.concatenate([f, f[:, ::-1]])
    for faces in (flipped, double, np.concatenate([flipped, f[:, ::-1]])):
        at = atoms_of(v, faces)
        assert at.num_atoms == 6 and at.num_pieces == 1
        n = np.abs(np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]]))
        axis = n.argmax(1)  # which side a face is on: its normal's axis and the end of the box it lies at
        side = axis * 2 + (v[faces].mean(1)[np.arange(len(faces)), axis] > 0.5)  # 0 or the far end
        for atom in range(at.num_atoms):
            assert len(np.unique(side[at.face_atom == atom])) == 1
    d = atoms_of(v, double)
    assert (d.face_atom[:len(f)] == d.face_atom[len(f):]).all()  # a face and its back copy: one atom


def test_smooth_single_piece_mesh_is_split_into_patches():
    """A scan-like surface has no creases: one region, which every click took whole. Regions above a
    quarter of the surface become patches, so a click follows the scale."""
    import trimesh
    m = trimesh.creation.icosphere(subdivisions=4)
    v, f = np.asarray(m.vertices), np.asarray(m.faces)
    at = atoms_of(v, f)
    assert at.num_pieces == 1 and at.num_atoms > 100 and at.area.max() < 0.01
    # a crease-bounded region below a quarter stays one atom: a cube's faces
    cube_v, cube_f = box([0, 0, 0], [1, 1, 1], n=6)
    assert atoms_of(cube_v, cube_f).num_atoms == 6


def test_non_manifold_fin_and_degenerate_faces_do_not_crash():
    plate_l = quad_grid([-1, 0, 0], [1, 0, 0], [0, 1, 0], 2, 2)
    plate_r = quad_grid([0, 0, 0], [1, 0, 0], [0, 1, 0], 2, 2)
    fin = quad_grid([0, 0, 0], [0, 1, 0], [0, 0, 1], 2, 2)  # three faces meet along x=0
    v, f, owner = merge(plate_l, plate_r, fin)
    f = np.concatenate([f, [[0, 0, 1], [2, 2, 2]]])  # degenerate triangles
    at = atoms_of(v, f)
    assert at.face_atom.shape == (len(f),)
    assert len(np.unique(at.face_atom[:len(owner)][owner == 2])) == 1
    assert not np.isin(at.face_atom[:len(owner)][owner == 2], at.face_atom[:len(owner)][owner < 2]).any()


def test_point_cloud_atoms_split_two_planes():
    rng = np.random.default_rng(0)
    a = np.c_[rng.random((600, 2)), np.zeros(600)]
    b = np.c_[np.zeros(600), rng.random((600, 2))]  # folded at x=0
    at = cloud_atoms(np.concatenate([a, b]), k=10, points_per_atom=8)  # a large cloud's several-point atoms
    assert at.face_atom is None
    assert np.isclose(at.area.sum(), 1.0)
    assert at.num_pieces == 1
    plane = np.r_[np.zeros(600), np.ones(600)]
    purity = [max(plane[at.point_atom == i].mean(), 1 - plane[at.point_atom == i].mean()) for i in range(at.num_atoms)]
    assert np.mean(np.array(purity) == 1.0) > 0.9  # regions seldom straddle the fold


def test_point_cloud_atoms_are_small_and_pieces_only_cut_at_gaps():
    """A uniformly sampled sphere is one piece of many small atoms (joining neighbours with similar
    normals made one atom of the whole surface; a gap of 3x the mean neighbour distance cut it into
    specks); two spheres far apart are two pieces."""
    rng = np.random.default_rng(1)
    sphere = rng.normal(size=(4000, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    at = cloud_atoms(sphere)
    assert at.num_pieces == 1
    assert at.area.max() < 0.01 and at.num_atoms > 400
    two = cloud_atoms(np.concatenate([sphere, sphere + [5.0, 0, 0]]))
    assert two.num_pieces == 2


def test_point_cloud_atoms_are_about_one_point_up_to_the_atom_budget(monkeypatch):
    rng = np.random.default_rng(2)
    sphere = rng.normal(size=(3000, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    at = cloud_atoms(sphere)
    assert at.num_atoms > 0.6 * len(sphere)  # grid seeds: a few atoms hold two or three points
    monkeypatch.setattr("s2am3d_core.segment.atoms.MAX_CLOUD_ATOMS", 300)
    few = cloud_atoms(sphere)
    assert 200 <= few.num_atoms <= 450  # a larger cloud: atoms of about ten points


# ----------------------------------------------------------------------------- surface distance
def u_strip(segments=12):
    """A U-shaped strip (two arms joined by a faceted half circle) in the xz plane, extruded in y."""
    r = 0.15
    ang = np.linspace(np.pi, 2 * np.pi, segments + 1)
    arm = np.linspace(2.0, 0.0, 21)[:-1]
    curve = [np.array([-r, 0, z]) for z in arm] + [np.array([r * np.cos(t), 0, r * np.sin(t)]) for t in ang] + \
            [np.array([r, 0, z]) for z in arm[::-1]]
    curve = np.array(curve)
    v = np.concatenate([curve, curve + [0, 0.3, 0]])
    m = len(curve)
    f = np.array([t for i in range(m - 1) for t in ([i, i + 1, m + i + 1], [i, m + i + 1, m + i])])
    owner = np.repeat(np.arange(m - 1), 2)
    return v, f, owner


@pytest.mark.parametrize("max_faces", [None, 10])  # 10: the point-cloud solver of a large piece
def test_geodesic_distance_goes_round_the_u_not_across_the_gap(max_faces, monkeypatch):
    if max_faces is not None:
        monkeypatch.setattr("s2am3d_core.segment.geodesic.MAX_MESH_SOLVER_FACES", max_faces)
    v, f, owner = u_strip()
    pts, fi = sample_surface(v.astype(np.float32), f, 3000, seed=0)
    at = mesh_atoms(v, f, fi, pts, crease_deg=10)
    assert at.num_pieces == 1
    left_tip = int(np.argmin(np.linalg.norm(pts - [-0.15, 0.15, 2.0], axis=1)))
    sd = SurfaceDistance(at, pts, v, f)
    geo = sd.from_point(left_tip)
    euc = sd.euclidean(pts[left_tip])
    right_arm = at.face_atom[np.flatnonzero(owner == owner.max())[0]]
    bottom = at.face_atom[np.flatnonzero(owner == owner.max() // 2)[0]]
    assert right_arm != bottom
    assert euc[right_arm] < euc[bottom]      # straight across the gap, the other arm is nearer
    assert geo[right_arm] > geo[bottom]      # along the surface it is the farthest
    assert geo[right_arm] > 2.0 > 0.5 > euc[right_arm]  # round the bend, not across the 0.3 gap


# ----------------------------------------------------------------------------- selection
def toy_atoms(areas, pieces):
    n = len(areas)
    pieces = np.asarray(pieces)
    chain = np.eye(n, k=1) + np.eye(n, k=-1)
    nb = sp.csr_matrix(chain * (pieces[:, None] == pieces[None, :])).astype(bool)  # atoms touch within a piece
    return Atoms(point_atom=np.arange(n), area=np.asarray(areas, float), piece=np.asarray(pieces),
                 centroid=np.zeros((n, 3)), neighbors=nb)


def test_selection_respects_the_budget_and_negative_atoms():
    at = toy_atoms([0.1, 0.1, 0.1, 0.2, 0.5], [0, 0, 0, 1, 2])
    dist = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    score = np.full(5, 0.5)
    none = np.zeros(5, dtype=bool)
    # a clicked piece clearly larger than the scale (0.3 > 1.5 x 0.18) grows atom by atom
    sel = select_with_scale(at, np.array([0]), none, score, dist, 0.18)
    assert sel.tolist() == [True, True, False, False, False]
    # one no larger than 1.5 x the scale is a single unit, then whole pieces by distance
    assert select_with_scale(at, np.array([0]), none, score, dist, 0.25).tolist() == [True, True, True, False, False]
    sel = select_with_scale(at, np.array([0]), none, score, dist, 0.5)
    assert sel.tolist() == [True, True, True, True, False]  # 0.5 exactly: piece 1 joins, piece 2 would overshoot
    blocked = np.array([False, True, False, False, False])
    sel = select_with_scale(at, np.array([0]), blocked, score, dist, 0.18)
    assert sel.tolist() == [True, False, True, False, False]
    # without a scale, in a clicked piece above half of the shape: connected atoms above the
    # threshold, never a blocked one
    score = np.array([0.9, 0.9, 0.2, 0.9, 0.9])
    large = toy_atoms([0.2, 0.2, 0.2, 0.1, 0.3], [0, 0, 0, 1, 2])
    sel = select_without_scale(large, np.array([0]), none, score)
    assert sel.tolist() == [True, True, False, False, False]  # atom 2 fails the threshold
    assert select_without_scale(large, np.array([0]), blocked, score).tolist() == [True, False, False, False, False]
    # a clicked piece no larger than half of the shape is taken whole
    for areas in ([0.05, 0.05, 0.1, 0.3, 0.5], [0.2, 0.2, 0.1, 0.2, 0.3]):
        small = toy_atoms(areas, [0, 0, 0, 1, 2])
        assert select_without_scale(small, np.array([0]), none, score).tolist() == [True, True, True, False, False]


def test_atoms_without_points_take_a_touching_atoms_label(predictor):
    """Point labels back to atoms: an atom without sampled points takes the label of an atom it
    touches (its piece's), not of the sampled point nearest its centre, which may lie on another
    piece across a gap; a piece without any points takes the label of the point nearest to it."""
    at = toy_atoms([0.2, 0.1, 0.2, 0.3, 0.1, 0.1], [0, 0, 0, 1, 2, 2])  # atoms 0-1-2 and 4-5 touch
    at.point_atom = np.array([0, 0, 2, 3, 3])                   # atoms 1, 4 and 5 hold no point
    representative = np.array([0, 3, 2, 3, 3, 2])              # atom 1's nearest point: on piece 1
    source = at.label_sources(np.array([0, 0, 0, 0, 0.5, 0.1]), representative)
    assert source[[0, 2, 3]].tolist() == [0, 2, 3] and source[1] in (0, 2)
    assert source[4] == source[5] == 2                          # piece 2 follows its atom nearest a point
    seg = ShapeSegmenter(predictor)
    seg.atoms, seg._source = at, source
    assert seg.atom_labels(np.array([1, 1, 1, 0, 0])).tolist() == [1, 1, 1, 0, 1, 1]
    labels = np.array([5, -1, 7, -1, -1, -1])
    assert at.spread_labels(labels, labels >= 0).tolist() == [True, True, True, False, False, False]
    assert labels[:3].tolist() in ([5, 5, 7], [5, 7, 7])


def test_every_clicked_piece_joins_whole_when_it_fits():
    """Two positive clicks on two pieces: the growth starts from the first click's piece (not the
    lower atom number) and the second clicked piece comes next, whole, before nearer pieces; a
    clicked piece that does not fit is skipped without ending the growth (its clicked atom stays)."""
    at = toy_atoms([0.05, 0.05, 0.1, 0.1, 0.3, 0.4], [0, 0, 1, 2, 2, 3])
    dist = np.array([2.0, 2.0, 1.5, 0.0, 0.0, 9.0])  # distances from the first click, on atom 3
    score = np.full(6, 0.5)
    none = np.zeros(6, dtype=bool)
    sel = select_with_scale(at, np.array([3, 0]), none, score, dist, 0.5)  # atoms 3-4, then piece 0
    assert sel.tolist() == [True, True, False, True, True, False]     # before the nearer piece 1
    big = toy_atoms([0.1, 0.05, 0.5, 0.1, 0.25], [0, 1, 1, 2, 3])  # the second click on a large piece
    dist = np.array([0.0, 0.2, 0.2, 0.3, 2.0])
    sel = select_with_scale(big, np.array([0, 1]), np.zeros(5, bool), np.full(5, 0.5), dist, 0.3)
    assert sel.tolist() == [True, True, False, True, False]  # its rest skipped, the growth goes on


def test_inside_the_clicked_piece_compact_regions_come_before_long_ones():
    # one piece: the clicked atom, a long strip starting next to the click, a compact flap a little
    # further away, and the far rest of the piece
    at = toy_atoms([0.1, 0.1, 0.1, 0.3], [0, 0, 0, 0])
    near = np.array([0.0, 0.5, 0.8, 3.0])
    far = np.array([0.3, 5.0, 1.2, 6.0])
    score = np.full(4, 0.5)
    none = np.zeros(4, dtype=bool)
    # by the nearest point alone the strip joins; by the mean of nearest and farthest the flap does
    assert select_with_scale(at, np.array([0]), none, score, near, 0.2).tolist() == [True, True, False, False]
    assert select_with_scale(at, np.array([0]), none, score, near, 0.2, reach=far).tolist() == [True, False, True, False]


def test_reach_is_between_the_nearest_and_the_farthest_point():
    # on the U strip, from the left tip: an atom reaches at least as far as its nearest point (round
    # the bend) and halfway to its farthest point (straight)
    v, f, owner = u_strip()
    pts, fi = sample_surface(v.astype(np.float32), f, 3000, seed=0)
    at = mesh_atoms(v, f, fi, pts, crease_deg=10)
    left_tip = int(np.argmin(np.linalg.norm(pts - [-0.15, 0.15, 2.0], axis=1)))
    sd = SurfaceDistance(at, pts, v, f)
    near, reach = sd.near_and_reach(left_tip)
    assert np.array_equal(near, sd.from_point(left_tip))
    _, far = sd.euclidean_span(pts[left_tip])
    assert np.all(reach >= near) and np.all(reach >= 0.5 * (near + far) - 1e-12)
    clicked = at.point_atom[left_tip]
    assert near[clicked] == 0.0 and np.isclose(reach[clicked], 0.5 * far[clicked]) and far[clicked] > 0.1
    right_arm = at.face_atom[np.flatnonzero(owner == owner.max())[0]]
    assert reach[right_arm] == near[right_arm] > far[right_arm]  # round the bend is longer than straight across


def test_a_piece_touching_the_clicked_one_comes_nearer_than_its_distance_from_the_click():
    # a bar along x clicked at its left end; piece B sits at the bar's right end (4.0 from the click,
    # a 0.001 gap), piece C floats 3.5 from the click and from the bar: straight from the click C is
    # nearer, but B touches the clicked piece, so B comes first
    bar, b, c = box([0, 0, 0], [4, 1, 1]), box([4.001, 0, 0], [4.5, 1, 1]), box([-4, 0, 0], [-3.5, 1, 1])
    v, f, owner = merge(bar, b, c)
    pts, fi = sample_surface(v.astype(np.float32), f, 3000, seed=0)
    at = mesh_atoms(v, f, fi, pts)
    assert at.num_pieces == 3
    click = int(np.argmin(np.linalg.norm(pts - [0.0, 0.5, 0.5], axis=1)))
    sd = SurfaceDistance(at, pts, v, f)
    euclid = sd.euclidean(pts[click])
    near = sd.from_point(click)
    atom_b, atom_c = at.face_atom[np.flatnonzero(owner == 1)], at.face_atom[np.flatnonzero(owner == 2)]
    assert euclid[atom_b].min() > euclid[atom_c].min()
    assert near[atom_b].min() < near[atom_c].min()
    assert np.allclose(near[atom_c], euclid[atom_c], atol=0.05)  # about 3.5 from the click and from the bar
    bar_atoms = np.unique(at.face_atom[owner == 0])
    assert np.all(near[bar_atoms] >= euclid[bar_atoms] - 1e-9)  # inside the clicked piece: surface distance


def test_copies_of_a_piece_are_found_moved_rotated_or_mirrored():
    v, f = box([0, 0, 0], [1, 2, 3])
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    moved = v @ rot.T + [10.0, 0.0, 0.0]                    # rotated and moved
    mirrored = v * [-1.0, 1.0, 1.0] + [0.0, 20.0, 0.0]      # mirrored (faces flipped to keep normals out)
    scaled = v * 1.5 + [0.0, 0.0, 30.0]                      # same shape, larger: not a copy
    other = box([0, 0, 40], [1, 1, 6])[0]                    # same face count and area, other proportions
    parts = [(v, f), (moved, f), (mirrored, f[:, ::-1]), (scaled, f), (other, f)]
    verts, faces, owner = merge(*parts)
    at = atoms_of(verts, faces)
    group = at.piece_copy[at.piece[at.face_atom]]
    first = [group[owner == k][0] for k in range(5)]
    assert first[0] == first[1] == first[2]
    assert len({first[0], first[3], first[4]}) == 3
    # the grouping needs only face pieces, face areas and face centres
    direct = piece_copies(owner, np.ones(len(owner)) / len(owner), verts[faces].mean(1))
    assert direct[0] == direct[1] == direct[2] != direct[3]


def test_copies_join_the_clicked_piece_as_one_unit_or_are_skipped():
    # piece 0 is clicked; piece 1 a near neighbour; pieces 2 and 3 copies of piece 0, far away;
    # piece 4 a larger piece nearer than the copies
    at = toy_atoms([0.1, 0.1, 0.1, 0.1, 0.3], [0, 1, 2, 3, 4])
    at.piece_copy = np.array([0, 1, 0, 0, 2])
    dist = np.array([0.0, 1.0, 5.0, 6.0, 2.0])
    score = np.full(5, 0.5)
    none = np.zeros(5, dtype=bool)
    assert select_with_scale(at, np.array([0]), none, score, dist, 0.1).tolist() == [True, False, False, False, False]
    # three instances asked for: the copies, not the nearer pieces
    assert select_with_scale(at, np.array([0]), none, score, dist, 0.3).tolist() == [True, False, True, True, False]
    # two asked for: the copies together would overshoot, so they are skipped and the neighbour joins
    assert select_with_scale(at, np.array([0]), none, score, dist, 0.2).tolist() == [True, True, False, False, False]
    # four asked for: the three instances would come closer but hold only 0.75 of it, so the copies
    # are skipped (they join together only for 0.8-1.25 x the scale) and the growth goes on by distance
    assert select_with_scale(at, np.array([0]), none, score, dist, 0.4).tolist() == [True, True, False, False, True]
    # a skipped copy still joins on its own when the distance order reaches it
    far = toy_atoms([0.1, 0.1, 0.1, 0.1, 0.3], [0, 1, 2, 3, 4])
    far.piece_copy = at.piece_copy
    near_copy = np.array([0.0, 3.0, 1.0, 6.0, 9.0])
    assert select_with_scale(far, np.array([0]), none, score, near_copy, 0.2).tolist() == [True, False, True, False, False]
    # without copy groups (point clouds) the nearest pieces come first
    at.piece_copy = None
    assert select_with_scale(at, np.array([0]), none, score, dist, 0.3).tolist() == [True, True, False, False, False]


def test_copies_fill_a_mask_that_stops_short_so_it_does_not_shrink_while_the_scale_grows():
    # piece 0 clicked, pieces 2 and 3 its copies (far), piece 1 a large piece nearer than them
    at = toy_atoms([0.1, 0.7, 0.1, 0.1], [0, 1, 2, 3])
    at.piece_copy = np.array([0, 1, 0, 0])
    dist = np.array([0.0, 1.0, 5.0, 6.0])
    score = np.full(4, 0.5)
    none = np.zeros(4, dtype=bool)
    sizes = []
    for s in (0.1, 0.3, 0.35, 0.42):
        sel = select_with_scale(at, np.array([0]), none, score, dist, s)
        sizes.append(float(at.area[sel].sum()))
    # 0.3 asks for the three instances; at 0.35 and 0.42 the large piece would overshoot, the growth
    # stops and the copies fill it again (before: the clicked piece alone, 0.1)
    assert np.allclose(sizes, [0.1, 0.3, 0.3, 0.3])
    # copies that would take the mask past 1.25 x the scale do not fill it
    assert select_with_scale(at, np.array([0]), none, score, dist, 0.2).tolist() == [True, False, False, False]
    # nor blocked ones (a negative click on a copy)
    blocked = np.array([False, False, True, False])
    assert select_with_scale(at, np.array([0]), blocked, score, dist, 0.4).tolist() == [True, False, False, True]


# ----------------------------------------------------------------------------- ShapeSegmenter
@pytest.fixture(scope="module")
def predictor():
    torch.manual_seed(0)
    return PartPredictor(S2AM3D(get_config("test-tiny")), cache=False)


def table_with_legs():
    """Four separate leg boxes at the corners of a square and a large slab far away."""
    parts = [box([x, y, 0], [x + 0.2, y + 0.2, 1]) for x in (0, 1) for y in (0, 1)]
    parts.append(box([8, 0, 0], [12, 4, 0.5]))
    return merge(*parts)


def test_negative_clicks_remove_their_legs(predictor):
    v, f, owner = table_with_legs()
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    legs_area = seg.atoms.area[np.unique(seg.atoms.face_atom[owner < 4])].sum()
    leg_points = [seg.nearest_point(np.r_[x + 0.1, y + 0.1, 0.5]) for x in (0, 1) for y in (0, 1)]
    mask = seg.predict([leg_points[0]], scale=legs_area)
    assert set(np.unique(owner[mask.faces])) == {0, 1, 2, 3}
    mask = seg.predict([leg_points[0]], leg_points[1:], scale=legs_area)
    assert set(np.unique(owner[mask.faces])) == {0}
    assert mask.faces[owner == 0].all()
    assert mask.fraction == pytest.approx(seg.atoms.area[mask.atoms].sum())


def test_clicks_reach_the_selection_in_click_order(predictor, monkeypatch):
    """The growth starts from the first click's piece, whatever the atoms' numbering."""
    from s2am3d_core.segment import segmenter as segmenter_module

    v, f, _ = table_with_legs()
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    slab, leg = seg.nearest_point([10, 2, 0.5]), seg.nearest_point([0.1, 0.1, 0.5])
    seen = []
    real = segmenter_module.select_with_scale
    monkeypatch.setattr(segmenter_module, "select_with_scale", lambda a, clicked, *rest, **kw: (
        seen.append(clicked.tolist()), real(a, clicked, *rest, **kw))[1])
    for clicks in ([slab, leg], [leg, slab]):
        seg.predict(clicks, scale=0.2)
        assert seen[-1] == seg.atoms.point_atom[clicks].tolist()


def test_faces_follow_atoms_and_segment_all_labels_every_face(predictor):
    v, f, owner = table_with_legs()
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    mask = seg.predict([seg.nearest_point([10, 2, 0.5])], scale=0.3)
    assert np.array_equal(mask.faces, mask.atoms[seg.atoms.face_atom])
    assert np.array_equal(mask.points, mask.atoms[seg.atoms.point_atom])
    result = seg.segment_all(0.05)
    assert result.faces.shape == (len(f),) and (result.faces >= 0).all()
    for atom in range(seg.atoms.num_atoms):
        assert len(np.unique(result.faces[seg.atoms.face_atom == atom])) == 1
    assert result.num_parts >= 5  # the four legs are never merged into the slab
    for leg in range(4):
        assert len(np.unique(result.faces[owner == leg])) == 1
    tree = seg.part_tree([0.05, 0.5])
    assert [lv["scale"] for lv in tree["levels"]] == [0.05, 0.5]


@pytest.mark.parametrize("back", [0.9, 0.2])
def test_segment_all_merges_touching_parts_the_decoder_puts_together(predictor, monkeypatch, back):
    """Two touching boxes join when each one's click scores the other high (both ways), not one way."""
    from s2am3d_core.segment import everything

    boxes = [box([0, 0, 0], [1, 1, 1], n=3), box([1, 0.1, 0.1], [2, 0.9, 0.9]), box([5, 0, 0], [6, 1, 1]),
             box([8, 0, 0], [9, 1, 1])]
    v, f, owner = merge(*boxes)
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    which = np.digitize(seg.points[:, 0], [1.0, 3.0, 7.0])  # box of each sampled point
    assert seg.atoms.num_pieces == 4

    def fake_decode(_, clicks, scale):  # box 0 scores box 1 at 0.9, box 1 scores box 0 at `back`
        out = np.full((len(clicks), len(which)), 0.1, dtype=np.float32)
        for r, c in enumerate(clicks):
            out[r, which == which[c]] = 1.0
            if which[c] in (0, 1):
                out[r, which == 1 - which[c]] = 0.9 if which[c] == 0 else back
        return out

    monkeypatch.setattr(everything, "decode_many", fake_decode)
    faces = seg.segment_all(0.32).faces  # every box below the granularity, two together within 1.5 x
    joined = len(np.unique(faces[owner <= 1])) == 1
    assert joined == (back > everything.AGREE)
    assert len(np.unique(faces)) == (3 if joined else 4)


@pytest.mark.parametrize("scale", [0.05, None])
def test_segment_all_gives_pieces_too_small_to_be_sampled_to_a_sampled_part(predictor, scale):
    """Every part holds sampled points, so the part count is the same on points and faces: tiny
    separate pieces that no sampled point falls on join, each whole, the nearest sampled part."""
    screws = [box([x, 0.5, 1.0], [x + 0.01, 0.51, 1.01]) for x in (0.5, 3.0, 6.0, 9.0)]
    v, f, owner = merge(box([0, 0, 0], [10, 10, 1]), box([20, 0, 0], [22, 2, 2]), *screws)
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=500)
    assert not np.isin(seg.face_index, np.flatnonzero(owner >= 2)).any()  # no screw is sampled
    result = seg.segment_all(scale)
    parts = np.unique(result.faces)
    assert np.array_equal(parts, np.unique(result.points)) and np.array_equal(parts, np.arange(len(parts)))
    assert result.num_parts == len(parts)
    assert np.array_equal(seg.face_labels(result.points), result.faces)  # the points say it all
    for screw in range(2, 6):
        assert len(np.unique(result.faces[owner == screw])) == 1
        assert result.faces[owner == screw][0] in set(result.faces[owner == 0])  # the slab they sit on


def test_segment_all_keeps_a_piece_up_to_half_of_the_shape_whole(predictor):
    # a block of 23 % of the surface (one welded piece, six crease-separated sides) beside a slab of 77 %
    v, f, owner = merge(box([0, 0, 0], [2, 2, 0.5]), box([5, 0, 0], [9, 4, 0.5]))
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    assert seg.atoms.num_pieces == 2 and len(np.unique(seg.atoms.face_atom[owner == 0])) == 6
    result = seg.segment_all(0.01)
    assert len(np.unique(result.faces[owner == 0])) == 1      # the block stays one part
    assert len(np.unique(result.faces[owner == 1])) > 1       # the slab, above half, is split


def test_points_only_mode_and_meshes_without_faces(predictor):
    v, f, owner = table_with_legs()
    seg = ShapeSegmenter(predictor, mesh_aware=False)
    seg.set_shape(v, f, num_points=2000)
    mask = seg.predict([0], scale=0.1)
    assert mask.atoms is None and mask.faces.shape == (len(f),)
    assert np.array_equal(mask.points, mask.probs > 0.5)
    # a negative click removes the points nearer to it than to the positive click
    pos, neg = seg.nearest_point([0.1, 0.1, 0.5]), seg.nearest_point([1.1, 1.1, 0.5])
    seg.predictor.predict = lambda *a, **k: np.ones(seg.num_points, dtype=np.float32)  # decoder says "all"
    m = seg.predict([pos], [neg], scale=0.5)
    near_neg = np.linalg.norm(seg.points - seg.points[neg], axis=1) < np.linalg.norm(seg.points - seg.points[pos], axis=1)
    assert not m.points[near_neg].any() and m.points[~near_neg].all()
    del seg.predictor.predict
    cloud = ShapeSegmenter(predictor)
    cloud.set_shape(v, np.zeros((0, 3), dtype=np.int64), num_points=500)
    assert not cloud.is_mesh and cloud.atoms.face_atom is None
    m = cloud.predict([0], scale=0.2)
    assert m.faces is None and m.points.shape == (len(cloud.points),)
    assert 0.1 < m.fraction < 0.3  # about the scale, not the whole cloud


def test_segment_all_on_cloud_atoms_numbers_the_parts_that_remain(predictor, monkeypatch):
    """A point label outvoted in every atom it touches disappears; the rest are numbered 0..K-1."""
    from s2am3d_core.segment import segmenter as segmenter_module

    monkeypatch.setattr("s2am3d_core.segment.atoms.MAX_CLOUD_ATOMS", 50)  # atoms of several points
    v, _, _ = table_with_legs()
    cloud = ShapeSegmenter(predictor)
    cloud.set_shape(v, np.zeros((0, 3), dtype=np.int64), num_points=1000)
    point_atom = cloud.atoms.point_atom
    lonely = int(np.flatnonzero(np.bincount(point_atom)[point_atom] >= 3)[0])  # a point of a 3+ point atom

    def labels(predictor, scale, **kw):  # part 0: the lonely point, outvoted in its atom; 1, 2: halves
        out = np.where(np.arange(len(point_atom)) % 2 == 0, 1, 2)
        out[point_atom == point_atom[lonely]] = 2
        out[lonely] = 0
        return out

    monkeypatch.setattr(segmenter_module, "segment_points", labels)
    result = cloud.segment_all(0.1)
    assert sorted(np.unique(result.points)) == [0, 1] and result.num_parts == 2


def test_the_first_clicks_surface_distance_solver_is_built_while_loading(predictor, monkeypatch):
    """A cloud's heat solver, and a mesh's for its large pieces, are built when the shape opens;
    a mesh's small pieces get theirs on the first click there."""
    import potpourri3d as pp3d
    built = []
    real_cloud, real_mesh = pp3d.PointCloudHeatSolver, pp3d.MeshHeatMethodDistanceSolver
    monkeypatch.setattr(pp3d, "PointCloudHeatSolver", lambda pts: built.append(("cloud", len(pts))) or real_cloud(pts))
    monkeypatch.setattr(pp3d, "MeshHeatMethodDistanceSolver",
                        lambda v, f: built.append(("mesh", len(f))) or real_mesh(v, f))
    v, f, owner = table_with_legs()
    cloud = ShapeSegmenter(predictor)
    cloud.set_shape(v, None, num_points=400)
    assert built == [("cloud", len(cloud.points))]       # at load, not on the first click
    cloud.predict([0], scale=0.2)
    assert len(built) == 1
    built.clear()
    mesh = ShapeSegmenter(predictor)
    mesh.set_shape(v, f, num_points=2000)
    assert built == [("mesh", int((owner == 4).sum()))]  # the slab, the largest piece
    mesh.predict([mesh.nearest_point([10, 2, 0.5])], scale=0.3)
    assert len(built) == 1
    mesh.predict([mesh.nearest_point([0.1, 0.1, 0.5])], scale=0.01)  # a leg: its solver now
    assert len(built) == 2
    built.clear()
    monkeypatch.setattr("s2am3d_core.segment.geodesic.PREPARE_MIN_FACES", int((owner == 0).sum()))
    mesh = ShapeSegmenter(predictor)
    mesh.set_shape(v, f, num_points=2000)  # now the legs are large enough: all five at load
    assert sorted(built) == sorted(("mesh", int((owner == k).sum())) for k in range(5))
    monkeypatch.setattr("s2am3d_core.segment.geodesic.PREPARE_BUDGET_S", 0.0)
    built.clear()
    mesh = ShapeSegmenter(predictor)
    mesh.set_shape(v, f, num_points=2000)  # no time to spend: the largest piece's only
    assert built == [("mesh", int((owner == 4).sum()))]


def test_a_click_on_a_smooth_mesh_follows_the_scale(predictor):
    import trimesh
    m = trimesh.creation.icosphere(subdivisions=4)
    seg = ShapeSegmenter(predictor)
    seg.set_shape(np.asarray(m.vertices), np.asarray(m.faces), num_points=2000)
    for s in (0.05, 0.3):
        assert seg.predict([0], scale=s).fraction == pytest.approx(s, abs=0.01)


def test_a_small_part_of_a_smooth_mesh_is_not_rounded_up_to_a_patch(predictor):
    """A scan's small parts (a screw head, a fingertip) are a few tenths of a percent of its surface
    or less: its patches are finer than that, so a click at a small scale gives about that size."""
    import trimesh
    m = trimesh.creation.icosphere(subdivisions=5)  # 20,480 faces of 0.005 % each
    seg = ShapeSegmenter(predictor)
    seg.set_shape(np.asarray(m.vertices), np.asarray(m.faces), num_points=4000)
    assert seg.atoms.area.max() < 0.0005
    for s in (0.0005, 0.002):
        assert seg.predict([0], scale=s).fraction == pytest.approx(s, rel=0.5)


def test_atom_scores_are_the_mean_probability_of_each_atoms_points(predictor):
    v, f, _ = table_with_legs()
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=800)
    a = seg.atoms
    probs = (seg.points[:, 0] > 4).astype(np.float32)  # 1 on the slab, 0 on the legs
    score = seg.atom_scores(probs)
    has_points = np.bincount(a.point_atom, minlength=a.num_atoms) > 0
    slab = a.centroid[:, 0] > 4
    assert score.shape == (a.num_atoms,)
    assert np.all(score[has_points & slab] == 1.0) and np.all(score[has_points & ~slab] == 0.0)
    # atoms without points take their representative point's probability, never NaN
    assert np.isfinite(score).all()


def test_atom_scores_need_a_mesh_aware_shape(predictor):
    seg = ShapeSegmenter(predictor, mesh_aware=False)
    with pytest.raises(PromptError, match="no shape"):
        seg.atom_scores(np.zeros(3))
    v, f, _ = table_with_legs()
    seg.set_shape(v, f, num_points=300)
    with pytest.raises(PromptError, match="points-only"):
        seg.atom_scores(np.zeros(300))


# ----------------------------------------------------------------------------- bodies
def bar_and_block():
    """A long closed bar and a closed block welded to its end at one shared corner vertex: one
    piece (welded vertices), two bodies (no edge shared by exactly two faces between them)."""
    return merge(box([0, 0, 0], [3, 0.2, 0.2]), box([3, 0.2, 0], [3.6, 0.8, 0.6]))


def test_bodies_split_a_piece_welded_at_a_vertex_and_are_closed():
    v, f, owner = bar_and_block()
    a = atoms_of(v, f)
    assert a.num_pieces == 1
    body_of_face = a.body[a.face_atom]
    assert len(np.unique(a.body)) == 2
    assert all(len(np.unique(body_of_face[owner == k])) == 1 for k in (0, 1))
    assert body_of_face[owner == 0][0] != body_of_face[owner == 1][0]
    assert a.body_closed.tolist() == [True, True]


def two_sheets():
    """Two open sheets meeting at a corner vertex: one piece, two open bodies."""
    return merge(quad_grid([0, 0, 0], [1, 0, 0], [0, 1, 0]), quad_grid([1, 1, 0], [1, 0, 0], [0, 0, 1]))


def test_open_surfaces_are_open_bodies():
    v, f, _ = two_sheets()
    a = atoms_of(v, f)
    assert a.num_pieces == 1 and len(np.unique(a.body)) == 2
    assert not a.body_closed.any()


def test_a_click_with_scale_takes_its_body_before_nearer_atoms_of_another(predictor):
    v, f, owner = bar_and_block()
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    a = seg.atoms
    bar_area = a.area[np.unique(a.face_atom[owner == 0])].sum()
    click = seg.nearest_point([2.4, 0.1, 0.2])  # on the bar's top, near the block
    mask = seg.predict([click], scale=bar_area)
    assert set(np.unique(owner[mask.faces])) == {0} and mask.faces[owner == 0].all()
    # by reach alone (no bodies) the block's near sides come before the bar's far sides
    seg.atoms = dataclasses.replace(a, body=None, body_closed=None)
    mask = seg.predict([click], scale=bar_area)
    assert 1 in set(np.unique(owner[mask.faces]))


def test_a_click_without_scale_takes_its_closed_body(predictor):
    v, f, owner = bar_and_block()
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    for xyz, k in (([1.5, 0.1, 0.2], 0), ([3.3, 0.5, 0.6], 1)):
        mask = seg.predict([seg.nearest_point(xyz)])
        assert np.array_equal(mask.faces, owner == k)
    # open bodies (faces triangulated one by one, as some CAD exports) keep the rule without bodies
    click = seg.nearest_point([1.5, 0.1, 0.2])
    atoms = seg.atoms
    seg.atoms = dataclasses.replace(atoms, body_closed=np.zeros_like(atoms.body_closed))
    open_mask = seg.predict([click]).faces
    seg.atoms = dataclasses.replace(atoms, body=None, body_closed=None)
    assert np.array_equal(open_mask, seg.predict([click]).faces)
    assert not np.array_equal(open_mask, owner == 0)


def test_a_click_without_scale_never_takes_a_welded_solid_that_is_nearly_the_whole_shape(predictor):
    """A remeshed scan can keep a few tiny closed shells welded to its surface: its main shell is
    then "a solid welded into a larger piece", and without the bound every click took the whole
    scan."""
    import trimesh
    ball = trimesh.creation.icosphere(subdivisions=4)
    top = int(np.argmax(ball.vertices[:, 2]))
    speck = trimesh.creation.icosphere(subdivisions=1, radius=0.02)
    speck.apply_translation(ball.vertices[top] - speck.vertices[int(np.argmin(speck.vertices[:, 2]))])
    v, f, _ = merge((np.asarray(ball.vertices), np.asarray(ball.faces)),
                    (np.asarray(speck.vertices), np.asarray(speck.faces)))
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    a = seg.atoms
    assert a.num_pieces == 1 and len(np.unique(a.body)) == 2 and a.in_welded_solid().all()
    mask = seg.predict([seg.nearest_point([0.0, 0.0, -1.0])])  # on the ball, far from the speck
    assert mask.fraction < 0.9


def test_with_solids_as_pieces_cuts_closed_bodies_out_of_welded_pieces():
    v, f, owner = bar_and_block()
    a = atoms_of(v, f)
    u = a.with_solids_as_pieces()
    assert u.num_pieces == 2 and a.num_pieces == 1
    assert all(len(np.unique(u.piece[a.face_atom[owner == k]])) == 1 for k in (0, 1))
    assert len(u.piece_copy) == 2 and u.piece_copy[0] != u.piece_copy[1]
    # nothing to cut: the same object (open bodies, separate pieces)
    sheets = atoms_of(*two_sheets()[:2])
    assert sheets.with_solids_as_pieces() is sheets
    boxes = atoms_of(*merge(box([0, 0, 0], [1, 1, 1]), box([3, 0, 0], [4, 1, 1]))[:2])
    assert boxes.with_solids_as_pieces() is boxes


def test_segment_everything_gives_each_welded_solid_its_own_part(predictor):
    v, f, owner = bar_and_block()
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    for scale in (None, 0.3):  # the bar is 53 % of the surface, the block 47 %
        labels = seg.segment_all(scale).faces
        assert len(np.unique(labels)) == 2
        assert all(len(np.unique(labels[owner == k])) == 1 for k in (0, 1))


def test_a_welded_piece_too_large_to_join_whole_offers_its_solids(predictor):
    # the bar and block of bar_and_block (one welded piece), and a separate small box beside the block
    v, f, owner = merge(box([0, 0, 0], [3, 0.2, 0.2]), box([3, 0.2, 0], [3.6, 0.8, 0.6]),
                        box([4.0, 0.3, 0], [4.3, 0.6, 0.3]))
    seg = ShapeSegmenter(predictor)
    seg.set_shape(v, f, num_points=3000)
    a = seg.atoms
    area = [a.area[np.unique(a.face_atom[owner == k])].sum() for k in range(3)]  # bar, block, small box
    click = seg.nearest_point([4.15, 0.45, 0.3])
    mask = seg.predict([click], scale=area[1] + area[2])
    assert np.array_equal(mask.faces, owner >= 1)  # the small box and the welded block, not the bar
    seg.atoms = dataclasses.replace(a, body=None, body_closed=None)  # one unit: too large, the growth stops
    assert np.array_equal(seg.predict([click], scale=area[1] + area[2]).faces, owner == 2)
