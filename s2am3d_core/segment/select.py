"""Masks on atoms: from decoder probabilities and a click to a set of atoms.

With a scale ``s`` (the part's fraction of the shape, what the decoder was trained on) the clicked
atoms are always in. Then, in order, the other atoms of the clicked connected piece (by how far
they reach from the click: the mean of the surface distance to their nearest point and the
straight-line distance to their farthest, so a compact region beside the click comes before a long
strip that starts as near; see ``reach`` below), then the copies of the clicked piece together
(its moved, rotated or mirrored instances: the other leg, the left and right arm), then the other
pieces as whole units (by distance from the click times how weakly the decoder scores them:
``d * (1.02 - score)`` on a mesh, ``SCORE_WEIGHT``: the decoder's mean score over a piece decides,
distance breaks ties; ``d * (1.5 - score)`` on a point cloud, ``CLOUD_SCORE_WEIGHT``). On a point
cloud, whose atoms are about one point each, the atoms of the clicked piece are ordered by their
reach times ``(1.5 - score)``: by distance alone the growth is a
geodesic ball that ignores the decoder (with atoms of four points, 12 procedural objects sampled as
clouds: 46.1 by distance, 49.9 with the score; the five CAD GLBs: 28.2 and 28.7; on meshes, whose
atoms inside a piece are crease regions, the score there moved the CAD GLBs from 75.5 to 75.1, and
78.1 to 76.8 with the reach order, so meshes keep the order without it).
On a mesh the clicked piece, when it is split, grows body by body (its bodies: surfaces stitched
edge to edge, ``Atoms.body``; solids welded into one mesh meet only at vertices): first the clicked
body (whole up to 1.5 ``s``, else atom by atom as above), then the piece's other bodies as whole
units by ``d * (SCORE_WEIGHT - score)``, as other pieces are. Without a scale a click on a closed body of a
piece welded from several bodies takes that body (a solid welded into a larger mesh: a table leg,
a fin; :func:`clicked_solids`). Measured (``s2am3d-eval``, distinct parts, 2026-11-27), before ->
after the bodies: 40 procedural objects, whose touching parts are welded, with scale 82.5 -> 88.6
and no scale 57.2 -> 81.2; the five CAD GLBs 77.8 -> 77.8 and 69.6 -> 70.0; seven held-out robots
88.4 -> 88.9 and 63.0 -> 65.2. (Cutting closed bodies out as pieces of their own everywhere,
instead of ordering bodies inside the clicked piece, scored 88.5 on 12 of the procedural objects
against 87.5 but lost on the robots, 87.7 against 88.9, in a scratch harness: at their coarser
levels the welded piece is the link, so other pieces must join whole. Ordering the clicked piece's
atoms by the concave junctions between them and the click, the minima rule, gained 0.1-0.3 on those
12 objects: 39 % of the touching atom pairs of different parts meet at a concave junction there,
and 11 % of the pairs inside one part.)
The mesh weight fell from 1.5 to 1.02 on 2026-11-27 (~16:10 UTC), once the decoder's sizes were
calibrated with the ball prior and welded pieces came apart into bodies: in a scratch sweep on the
development sets, 12 procedural objects scored 87.9 / 88.1 / 88.4 / 88.6 / 88.7 / 88.7 at 2.0 /
1.5 / 1.25 / 1.1 / 1.02 / 1.0 and the CAD GLBs 82.1 / 82.1 / 82.4 / 82.5 / 82.6 / 82.6 (harness
prompts); ``s2am3d-eval`` then: CAD 77.8 -> 78.4, 40 procedural objects 89.2 -> 89.7, robots 89.6
-> 92.1 (they were in the first sweep, 1.1-2.0, beside the development sets; 1.02 was chosen on
those). Point clouds lost with it (CAD clouds 33.8 -> 33.6, robot clouds 58.5 -> 57.7): they keep 1.5.
A piece too large to join whole (the first unit that does not bring the area closer) offers its
solids, when it is welded from several closed bodies, one by one in the same order before the
growth ends: a part welded into a larger mesh can still join (``s2am3d-eval``: 40 procedural
objects 88.6 -> 89.2, robots 88.9 -> 89.6, CAD 77.8 -> 77.8).
Each unit is added while it brings the selected area closer to ``s``; the first unit that would
not stops the growth. The copies are an exception: together they join only when the selection
then holds 0.8-1.25 x ``s`` (the scale asks for all the instances); otherwise they are skipped as a
group, not stopping the growth, and come again one by one in the distance order. Without a scale,
the atoms whose score passes the threshold and that connect to the clicked atoms through touching
atoms are taken, and a clicked piece up to ``NO_SCALE_PIECE`` (half) of the
shape is taken whole (on the CAD GLBs the clicked piece alone scores 69 % where connected
above-threshold atoms score 29-68 %; a larger piece, such as a single-piece scan, is not a part on
its own). Half rather than a quarter: a robot's or a machine's largest link is often a quarter to a
third of its surface (seven robot descriptions of KUKA, Franka and UR arms at 4096 points, no
scale: 60.3 -> 63.0; the five CAD GLBs 69.4 -> 69.6; 17 procedural objects of other seeds, a
scratch harness: 67.2 -> 66.5). Negatively clicked atoms are never taken (and the segmenter lowers ``s`` by the area they
would have held, so a negative click removes its region from the mask at that scale).

Measured on the five CAD GLBs (10k points, centroid clicks, distinct parts, shipped weights):
piece-first growth beats growing atom by atom in any order (about 71 % vs 40-43 % IoU), and
stopping at the first unit that overshoots beats skipping it (70.7 vs 66.2). Taking the copies of
the clicked piece as one unit raised the five files from 71.5 to 75.5 and 20 procedural objects of
other seeds from 82.6 to 83.1 (BrainStem, whose parts often hold a mirrored left and right piece:
38.1 to 55.4). Taking them whenever they bring the area closer scored about the same on average
(75.5, 83.4) but swung single files far more (BrainStem 61.7, while VC, whose tiny screws are
copies that are separate parts, fell from 70.9 to 58.6 instead of 68.2); the fit rule also keeps a
click on the left upper arm at the scale of the whole arm from taking the right upper arm.
Ordering the clicked piece's atoms by their reach instead of their nearest point raised the five
files from 76.9 to 78.1 (VC, whose largest pieces are many crease regions, 77.7 to 85.2) and 40
procedural objects from 80.4 to 82.6 (the same order with the surface distance to the farthest
point: 77.4 on the five files, VC 81.6).

Tried on 2026-11-27 (~17:00-17:50 UTC) and not taken, scratch harness, shipped weights, one click at
each distinct part's centroid point with its true scale (CAD GLBs: 363 parts of at least one point;
seven robots: 104; 12 procedural objects of seed 0: 394), today's order -> the change:

* a learned order of the other pieces: a gradient-boosted classifier ("is this piece mostly inside
  the part") on 12 features per piece (its decoder score, mean and maximum, distance from the click
  and from the clicked piece, in units of the shape's diagonal and of the scale's radius, size
  against the scale and against the clicked piece, encoder-feature cosine, copy flag, today's rank),
  trained on 60 procedural objects of other seeds (AUC 0.99 on held-out objects against 0.97 for
  the decoder score alone), pieces then joining by its probability: CAD 82.6 -> 79.2 (BrainStem
  +3.9 and the truck +21, the engine -5.7, VC -10), robots 92.1 -> 90.5, procedural 88.7 -> 87.7;
  its probability in place of the score in ``d * (1.02 - p)``: CAD 82.4, robots 91.0;
* the clicked piece's copies before all other pieces (one by one, when together they overshoot):
  BrainStem 54.3 -> 60.1 and the truck 54.9 -> 75.9 (a wheel pair on one axle), but the engine
  90.7 -> 88.6, VC 90.6 -> 86.7, robots 92.1 -> 89.5; half their key instead: the same as today;
  a tenth (the eval's 266 CAD parts, 1617 procedural): CAD 78.4 -> 78.7 (BrainStem +2.3, VC -1.4),
  random clicks 74.0 -> 74.5, robots 92.1 either way (random clicks 83.2 -> 83.3), procedural 89.7
  either way: no general gain;
* the decoder clicked at the clicked piece's own centre point (or there and at the click) when the
  piece is taken whole: robots with clicks at a random point of the part 83.2 -> 85.9 (84.7), but
  with centroid clicks 92.1 -> 89.1 (91.0);
* a second decode with the centre points of the first mask's nearest 2, 4 or 8 other pieces as
  further positive clicks, the mask then made again from its scores (or their mean with the
  first's): CAD (the eval's 266 parts) 78.4 -> 78.1-78.4, robots 92.1 -> 91.7-92.1, random clicks
  83.2 -> 83.8-84.3;
* the encoder's features: the pieces' mean-feature cosine to the clicked piece's, mixed into the
  score (``a * score + (1 - a) * cosine``, a = 0.75 / 0.5 / 0.25): CAD (the eval's 266 parts) 78.4
  -> 78.0 / 77.9 / 78.1, robots 91.9 / 91.1 / 89.8 (random clicks 83.7 / 83.7 / 83.8).
In the losses that remain, parts made of several pieces dominate: on the CAD GLBs 16 of the 22
IoU points lost (113 of 266 parts, mean 62 %; BrainStem alone 50 of its 59 parts), on the robots
with random clicks 15 of 17 (own pieces score 0.62 on average there, the nearest other pieces 0.40;
with centroid clicks 0.76 and 0.31).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from .atoms import Atoms

NO_SCALE_PIECE = 0.5  # without a scale, a clicked piece up to this fraction of the shape is taken whole
WHOLE_PIECE = 1.5  # a clicked piece up to 1.5 x the scale is taken whole, never split
COPIES_FIT = 0.8  # the copies join only when the selection then holds 0.8-1.25 x the scale
SCORE_WEIGHT = 1.02  # meshes: distance multiplier is (SCORE_WEIGHT - score): high-scoring pieces come nearer
CLOUD_SCORE_WEIGHT = 1.5  # point clouds: the same, for their kNN pieces and one-point atoms


def atom_scores(atoms: Atoms, probs: np.ndarray, representative: np.ndarray) -> np.ndarray:
    """(A,) mean probability of each atom's sampled points; atoms without points take the
    probability of their ``representative`` point (the sampled point nearest their centroid)."""
    probs = np.asarray(probs, dtype=np.float64)
    na = atoms.num_atoms
    total = np.bincount(atoms.point_atom, weights=probs, minlength=na)
    count = np.bincount(atoms.point_atom, minlength=na)
    return np.where(count > 0, total / np.maximum(count, 1), probs[representative])


def growth_units(atoms: Atoms, clicked: np.ndarray, allowed: np.ndarray, score: np.ndarray,
                 distance: np.ndarray, whole_piece_up_to: float | None = None,
                 reach: np.ndarray | None = None) -> list[tuple[np.ndarray, bool]]:
    """The order in which a scaled selection grows, as (atoms, optional) units: atoms of the clicked
    piece one by one by ``reach`` (by ``distance`` without it; on a point cloud times
    ``CLOUD_SCORE_WEIGHT - score``), then the clicked piece's copies together (``optional``: skipped, not stopping
    the growth, when they overshoot), then every other piece (its allowed atoms
    together) by ``distance * (weight - score)`` (``SCORE_WEIGHT`` on meshes, ``CLOUD_SCORE_WEIGHT`` on clouds; piece distance = its nearest atom's, piece score =
    area-weighted mean). A clicked piece no larger than ``whole_piece_up_to`` is one unit: it is split
    only when it is clearly larger than the part."""
    units = []
    for atoms_, kind in iter_growth_runs(atoms, clicked, allowed, score, distance, whole_piece_up_to, reach):
        if kind == EACH:
            units += [(np.array([i]), False) for i in atoms_]
        else:
            units.append((atoms_, kind == OPTIONAL))
    return units


EACH, WHOLE, OPTIONAL = "each", "whole", "optional"  # kinds of a growth run


def iter_growth_runs(atoms: Atoms, clicked: np.ndarray, allowed: np.ndarray, score: np.ndarray,
                     distance: np.ndarray, whole_piece_up_to: float | None = None,
                     reach: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, str]]:
    """:func:`growth_units`, made lazily (a selection stops early; a slider move makes only the
    units it takes) and in runs: ``(atoms, EACH)`` is one unit per atom in that order (the clicked
    piece's atoms, consumed by :func:`select_with_scale` in one vectorised step), ``(atoms, WHOLE)``
    one unit, ``(atoms, OPTIONAL)`` one optional unit. Per-piece sums run over all atoms with zero
    weight outside ``allowed``, which gives the same sums, bit for bit, as summing the allowed atoms
    alone."""
    piece0 = atoms.piece[clicked[0]] if len(clicked) else -1
    in_piece0 = atoms.piece == piece0
    inside = np.flatnonzero(in_piece0 & allowed)
    if whole_piece_up_to is not None and atoms.area[in_piece0].sum() <= whole_piece_up_to:
        if len(inside):
            yield inside, WHOLE
    else:
        key = (distance if reach is None else reach)[inside]
        if atoms.face_atom is None:  # a cloud's atoms are about one point: the decoder orders them too
            key = key * (CLOUD_SCORE_WEIGHT - np.clip(score[inside], 0.0, 1.0))
        order = np.argsort(key, kind="stable")
        if atoms.body is None:
            yield inside[order], EACH
        else:
            yield from _body_runs(atoms, clicked, inside[order], key[order], score, whole_piece_up_to)
    other = allowed & ~in_piece0
    if not other.any():
        return
    order, bounds = atoms.piece_groups()
    npieces = atoms.num_pieces
    area = np.bincount(atoms.piece, weights=np.where(other, atoms.area, 0.0), minlength=npieces)
    weighted = np.bincount(atoms.piece, weights=np.where(other, atoms.area * score, 0.0), minlength=npieces)
    pieces = np.flatnonzero(np.bincount(atoms.piece[other], minlength=npieces))  # ascending, as np.unique
    pscore = weighted[pieces] / np.maximum(area[pieces], 1e-300)
    pdist = np.minimum.reduceat(np.where(other, distance, np.inf)[order], bounds[:-1])[pieces]
    weight = SCORE_WEIGHT if atoms.face_atom is not None else CLOUD_SCORE_WEIGHT
    key = pdist * (weight - np.clip(pscore, 0.0, 1.0))
    copy = np.zeros(len(pieces), dtype=bool)
    if atoms.piece_copy is not None and piece0 >= 0:
        copy = atoms.piece_copy[pieces] == atoms.piece_copy[piece0]
    if copy.any():
        yield np.flatnonzero(other & np.isin(atoms.piece, pieces[copy])), OPTIONAL
    for k in np.argsort(key, kind="stable"):  # copies too: one by one, when they did not join together
        members = order[bounds[pieces[k]]:bounds[pieces[k] + 1]]
        yield members[other[members]], WHOLE


def _body_runs(atoms: Atoms, clicked: np.ndarray, inside: np.ndarray, key: np.ndarray, score: np.ndarray,
               whole_up_to: float | None) -> Iterator[tuple[np.ndarray, str]]:
    """Runs of a split clicked piece (``inside`` its allowed atoms sorted by ``key``), which treat
    its bodies as pieces: the clicked bodies (whole up to ``whole_up_to``, else atom by atom),
    then the piece's other bodies as whole units by ``key * (SCORE_WEIGHT - score)`` (a body's key: its
    nearest atom's; its score: area-weighted), as the other pieces. Consecutive one-atom bodies
    form one run of single-atom units (the same selection, vectorised)."""
    own = np.isin(atoms.body[inside], atoms.body[clicked])
    if own.any():
        whole = whole_up_to is not None and atoms.area[inside[own]].sum() <= whole_up_to
        yield inside[own], WHOLE if whole else EACH
    rest = inside[~own]
    if not len(rest):
        return
    members, bounds = _bodies_in_order(atoms, rest, key[~own], score)
    nb = len(bounds) - 1
    start = 0
    for multi in np.r_[np.flatnonzero(np.diff(bounds) > 1), nb]:
        if multi > start:  # bodies start..multi-1 hold one atom each
            yield members[bounds[start]:bounds[multi]], EACH
        if multi < nb:
            yield members[bounds[multi]:bounds[multi + 1]], WHOLE
        start = multi + 1


def select_with_scale(atoms: Atoms, clicked: np.ndarray, blocked: np.ndarray, score: np.ndarray,
                      distance: np.ndarray, scale: float, allowed: np.ndarray | None = None,
                      reach: np.ndarray | None = None) -> np.ndarray:
    """(A,) bool: the clicked atoms, then :func:`growth_units` while each brings the selected area
    closer to ``scale`` (the first that does not ends the growth, after its solids, when it is a
    piece welded from several, had their turn one by one; an optional unit that does not is
    skipped). ``blocked`` atoms (negative clicks) and atoms outside ``allowed`` (default all) are
    never added. ``reach`` (A,), how far each atom reaches from the click
    (:meth:`.SurfaceDistance.near_and_reach`), orders the clicked piece's atoms; without it their
    ``distance`` does."""
    sel = np.zeros(atoms.num_atoms, dtype=bool)
    sel[clicked] = True
    sel[blocked] = False
    ok = ~blocked & ~sel
    if allowed is not None:
        ok &= allowed
    current = float(atoms.area[sel].sum())
    target = float(scale)
    for unit, kind in iter_growth_runs(atoms, clicked, ok, score, distance, WHOLE_PIECE * target, reach):
        if current >= target:
            break
        unit = unit[~sel[unit]]  # copies that joined together come again one by one
        if not len(unit):
            continue
        if kind == EACH:  # the loop below for one-atom units, vectorised (same sums, same order)
            totals = np.cumsum(np.concatenate([[current], atoms.area[unit]]))
            before, after = totals[:-1], totals[1:]
            fails = (before >= target) | ~(np.abs(after - target) < np.abs(before - target))
            take = int(np.argmax(fails)) if fails.any() else len(unit)
            sel[unit[:take]] = True
            current = float(totals[take])
            if take < len(unit):
                break
            continue
        new = current + float(atoms.area[unit].sum())
        closer = abs(new - target) < abs(current - target)
        if kind == OPTIONAL and not (closer and COPIES_FIT <= new / target <= 1.0 / COPIES_FIT):
            continue
        if not closer:  # too large to join whole: its solids may still join, then the growth ends
            for solid in _solids_of(atoms, unit, score, distance):
                new = current + float(atoms.area[solid].sum())
                if not abs(new - target) < abs(current - target):
                    break
                sel[solid] = True
                current = new
            break
        sel[unit] = True
        current = new
    return sel


def _solids_of(atoms: Atoms, unit: np.ndarray, score: np.ndarray, distance: np.ndarray) -> list[np.ndarray]:
    """The closed bodies of a unit of several bodies (solids welded into one piece), ordered as
    pieces are (:func:`_bodies_in_order` by ``distance``); none for a unit of one body or without
    bodies (point clouds)."""
    if atoms.body is None or atoms.body_closed is None or len(np.unique(atoms.body[unit])) < 2:
        return []
    solid = unit[atoms.body_closed[atoms.body[unit]]]
    if not len(solid):
        return []
    members, bounds = _bodies_in_order(atoms, solid, distance[solid], score)
    return [members[bounds[j]:bounds[j + 1]] for j in range(len(bounds) - 1)]


def _bodies_in_order(atoms: Atoms, idx: np.ndarray, key: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The atoms ``idx`` grouped by body, the bodies ordered as pieces are: by their atoms' smallest
    ``key`` times (``SCORE_WEIGHT`` - their area-weighted score), ties by body number. Returns
    (members, bounds): the j-th body is ``members[bounds[j]:bounds[j + 1]]``, its atoms in the order
    of ``idx``."""
    bodies, local = np.unique(atoms.body[idx], return_inverse=True)
    local = local.reshape(-1)
    area = atoms.area[idx]
    barea = np.bincount(local, weights=area, minlength=len(bodies))
    bscore = np.bincount(local, weights=area * np.clip(score[idx], 0.0, 1.0), minlength=len(bodies))
    bkey = np.full(len(bodies), np.inf)
    np.minimum.at(bkey, local, key)
    bkey = bkey * (SCORE_WEIGHT - bscore / np.maximum(barea, 1e-300))
    rank = np.empty(len(bodies), dtype=np.int64)
    rank[np.argsort(bkey, kind="stable")] = np.arange(len(bodies))
    members = idx[np.argsort(rank[local], kind="stable")]
    return members, np.r_[0, np.cumsum(np.bincount(rank[local], minlength=len(bodies)))]


def select_without_scale(atoms: Atoms, clicked: np.ndarray, blocked: np.ndarray, score: np.ndarray,
                         threshold: float = 0.5) -> np.ndarray:
    """(A,) bool: clicked atoms plus the atoms with ``score > threshold`` connected to them through
    touching atoms that also pass; every atom of a clicked piece no larger than ``NO_SCALE_PIECE``
    passes, and a clicked closed body inside a piece welded from several bodies is taken whole,
    alone (:func:`clicked_solids`). Negatively clicked atoms never pass."""
    clicked = np.atleast_1d(clicked)
    solid, handled = clicked_solids(atoms, clicked)
    rest = clicked[~handled]
    ok = (score > threshold) & ~blocked
    ok[rest] = True
    piece_area = np.bincount(atoms.piece, weights=atoms.area, minlength=atoms.num_pieces)
    small = piece_area[atoms.piece[rest]] <= NO_SCALE_PIECE
    ok[np.isin(atoms.piece, atoms.piece[rest[small]])] = True
    ok[blocked] = False
    idx = np.flatnonzero(ok)
    sub = atoms.neighbors[idx][:, idx]
    sel = np.zeros(atoms.num_atoms, dtype=bool)
    local = {int(a): i for i, a in enumerate(idx)}
    for a in rest:
        if int(a) not in local or sel[a]:
            continue
        reached = breadth_first_order(sp.csr_matrix(sub), local[int(a)], directed=False,
                                      return_predecessors=False)
        sel[idx[reached]] = True
    sel |= solid & ~blocked
    sel[clicked[handled]] = True
    return sel


def clicked_solids(atoms: Atoms, clicked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A,) bool atoms of the clicked solids and (K,) bool which clicks hit one: a click on a welded
    solid (:meth:`.Atoms.in_welded_solid`) takes that body. Point clouds, pieces of one body and
    open surfaces have none."""
    handled = atoms.in_welded_solid()[clicked]
    sel = np.zeros(atoms.num_atoms, dtype=bool)
    if handled.any():
        sel[np.isin(atoms.body, atoms.body[clicked[handled]])] = True
    return sel, handled
