"""Masks on atoms: from decoder probabilities and a click to a set of atoms.

With a scale ``s`` (the part's fraction of the shape's area, what the decoder was trained on) the
selection grows in units, each added while it brings the selected area closer to ``s``; the first
unit that does not ends the growth (:func:`select_with_scale`). In order:

1. the clicked atoms, always;
2. the rest of the clicked connected piece: whole when it is at most ``WHOLE_PIECE * s``, else atom
   by atom by how far each atom reaches from the click (:func:`.geodesic.reach`; on a point cloud
   times ``CLOUD_SCORE_WEIGHT - score``). On a mesh a split piece grows body by body
   (``Atoms.body``: faces stitched edge to edge): the clicked body first, then the piece's other
   bodies as whole units, ordered as other pieces are;
3. the other pieces the user clicked, each whole, in click order, each only when it brings the
   area closer (else it is skipped, without ending the growth);
4. the copies of the clicked piece (its moved, rotated or mirrored instances), together, only when
   the selection then holds ``COPIES_FIT`` to ``1 / COPIES_FIT`` times ``s``; otherwise they are
   skipped as a group, without ending the growth, and come again one by one below;
5. every other piece as a whole unit, by ``distance * (weight - score)``: its nearest atom's
   distance (on a mesh ``PIECE_GAP_WEIGHT`` of it is the gap to the clicked piece, the rest the
   distance from the click: :meth:`.SurfaceDistance.near_and_reach`) and its area-weighted
   decoder score, ``SCORE_WEIGHT`` on meshes (the score decides, distance breaks ties),
   ``CLOUD_SCORE_WEIGHT`` on point clouds. A piece too large
   to join whole ends the growth, after its closed bodies (solids welded into it) had their turn
   one by one;
6. when the growth ended short of ``s``, the copies of the clicked piece not yet taken, together,
   when they bring the area closer and keep it within ``1 / COPIES_FIT`` times ``s``.

Without a scale (:func:`select_without_scale`): the clicked piece when it is at most
``NO_SCALE_PIECE`` of the shape, plus the atoms whose score passes the threshold and that connect
to the clicked atoms through touching atoms that pass; a click on a solid welded into a larger
piece takes that solid, unless it is nearly the whole shape (:func:`clicked_solids`). Negatively
clicked atoms are never taken (and the segmenter lowers ``s`` by the area they would have held).

Why these rules and not others, with the figures before and after each one and the orders that
were tried and not taken: ``docs/MEASUREMENTS.md`` ("Selection rules").
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from .atoms import Atoms

NO_SCALE_PIECE = 0.5  # without a scale, a clicked piece up to this fraction of the shape is taken whole
NO_SCALE_SOLID = 0.9  # ... and a clicked solid welded into a larger piece, unless it is nearly the whole shape
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
                 reach: np.ndarray | None = None) -> list[tuple[np.ndarray, str]]:
    """The order in which a scaled selection grows, as (atoms, kind) units: atoms of the first
    clicked piece one by one by ``reach`` (by ``distance`` without it; on a point cloud times
    ``CLOUD_SCORE_WEIGHT - score``), then the other clicked pieces (``CLICKED``: skipped, not
    stopping the growth, when they overshoot), then the clicked piece's copies together
    (``OPTIONAL``: skipped unless they fit), then every other piece (its allowed atoms
    together) by ``distance * (weight - score)`` (``SCORE_WEIGHT`` on meshes, ``CLOUD_SCORE_WEIGHT`` on clouds; piece distance = its nearest atom's, piece score =
    area-weighted mean). A clicked piece no larger than ``whole_piece_up_to`` is one unit: it is split
    only when it is clearly larger than the part."""
    units = []
    for atoms_, kind in iter_growth_runs(atoms, clicked, allowed, score, distance, whole_piece_up_to, reach):
        if kind == EACH:
            units += [(np.array([i]), WHOLE) for i in atoms_]
        else:
            units.append((atoms_, kind))
    return units


EACH, WHOLE, OPTIONAL, CLICKED = "each", "whole", "optional", "clicked"  # kinds of a growth run


def iter_growth_runs(atoms: Atoms, clicked: np.ndarray, allowed: np.ndarray, score: np.ndarray,
                     distance: np.ndarray, whole_piece_up_to: float | None = None,
                     reach: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, str]]:
    """:func:`growth_units`, made lazily (a selection stops early; a slider move makes only the
    units it takes) and in runs: ``(atoms, EACH)`` is one unit per atom in that order (the clicked
    piece's atoms, consumed by :func:`select_with_scale` in one vectorised step), ``(atoms, WHOLE)``
    one unit, ``(atoms, OPTIONAL)`` / ``(atoms, CLICKED)`` one unit that may be skipped. ``clicked``
    is in click order: the growth starts from the first click's piece. Per-piece sums run over all atoms with zero
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
    for p in dict.fromkeys(atoms.piece[clicked].tolist()):  # the other clicked pieces, in click order
        members = order[bounds[p]:bounds[p + 1]]
        if p != piece0 and other[members].any():
            yield members[other[members]], CLICKED
    rest = ~np.isin(pieces, atoms.piece[clicked])
    copy = np.zeros(len(pieces), dtype=bool)
    if atoms.piece_copy is not None and piece0 >= 0:
        copy = rest & (atoms.piece_copy[pieces] == atoms.piece_copy[piece0])
    if copy.any():
        yield np.flatnonzero(other & np.isin(atoms.piece, pieces[copy])), OPTIONAL
    for k in np.argsort(key, kind="stable"):  # copies too: one by one, when they did not join together
        if rest[k]:
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
    ``distance`` does. A selection that stopped short may then take the clicked piece's remaining
    copies (:func:`_copies_to_fill`)."""
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
        if kind == CLICKED and not closer:  # a clicked piece that does not fit: its clicked atom stays
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
    sel |= _copies_to_fill(atoms, clicked, ok & ~sel, current, target)
    return sel


def _copies_to_fill(atoms: Atoms, clicked: np.ndarray, free: np.ndarray, current: float,
                    target: float) -> np.ndarray:
    """(A,) bool: the ``free`` atoms of the clicked piece's copies, when together they bring the
    selected area ``current`` closer to ``target`` and keep it within ``target / COPIES_FIT``; none
    otherwise. The growth may stop short of the scale at a piece too large to join; the copies
    then fill the gap, so a mask does not lose instances of the clicked piece while the scale
    grows (the four legs of a chair at 10 % and at 16 %)."""
    none = np.zeros(atoms.num_atoms, dtype=bool)
    if atoms.piece_copy is None or not len(clicked):
        return none
    piece0 = atoms.piece[clicked[0]]
    rest = free & (atoms.piece_copy[atoms.piece] == atoms.piece_copy[piece0]) & (atoms.piece != piece0)
    new = current + float(atoms.area[rest].sum())
    if rest.any() and abs(new - target) < abs(current - target) and new <= target / COPIES_FIT:
        return rest
    return none


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
    solid (:meth:`.Atoms.in_welded_solid`) takes that body, unless the body is nearly the whole shape
    (above ``NO_SCALE_SOLID``: a scan with a few tiny closed shells welded to it, where every click
    took the whole scan). Point clouds, pieces of one body and open surfaces have none."""
    handled = atoms.in_welded_solid()[clicked]
    sel = np.zeros(atoms.num_atoms, dtype=bool)
    if handled.any():
        body_area = np.bincount(atoms.body, weights=atoms.area, minlength=len(atoms.body_closed))
        handled &= body_area[atoms.body[clicked]] <= NO_SCALE_SOLID
        sel[np.isin(atoms.body, atoms.body[clicked[handled]])] = True
    return sel, handled
