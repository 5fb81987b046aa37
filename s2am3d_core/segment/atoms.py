"""Atoms: the smallest surface regions a mask is built from.

A mask that follows the shape's real parts is a union of atoms. Atoms come from geometry only
(never from scene-graph nodes or links):

* meshes: coincident vertices are welded; faces that share an edge are joined unless the edge is
  a crease (dihedral angle above ``crease_deg``) or non-manifold (more than two faces). A face
  repeated on the same vertices (double-sided meshes, whose back copy is wound the other way) counts
  once, and a flipped triangle is compared with its normal reversed: the visual meshes of robot
  descriptions often have both, and every face of such a piece used to be an atom of its own (a
  UR5 with a Robotiq gripper: 19,214 atoms, now 326; KUKA KR 210: 12,936, now 462). The
  resulting regions are the atoms; regions too small to matter (slivers from T-junctions, the
  chamfer strip of a bolt) are merged into the welded neighbour they touch most. Separate
  connected pieces never share an atom, and a piece that spans several parts (welded CAD,
  characters, scans) is split along its creases. A piece without creases (one region holding
  ``CREASELESS`` of it and more than ``LARGE_REGION`` of the surface: a smooth scan, an organic
  model) is cut into patches of about ``PATCH_AREA`` grown along the face graph as below, so a
  click on it follows the scale instead of taking the whole piece. Patches hold about two sampled
  points at 10,000 points: at ten times that size (0.2 %, until 2026-11-28) a click on a small
  part of a scan took a whole patch, several times the part (the five CAD GLBs remeshed as scans,
  ``s2am3d-eval --glb ../shared/data/*.glb --remesh 128``, mesh-aware with scale: 26.2 -> 36.4,
  against 35.0 for the ball of the true size; docs/MEASUREMENTS.md).
  Each atom also knows its **body**: faces joined through edges that exactly two faces share,
  creases included (a surface stitched edge to edge, like trimesh's face-adjacency components).
  Solids that touch or interpenetrate and were welded into one mesh share vertices, or edges
  held by four faces, but no such edge, so a welded piece falls apart into its bodies; a body
  without boundary edges (edges of one face) is closed: a solid's shell. On 12 procedural
  objects, whose touching parts are welded, bodies are 94-100 % pure in the finest parts (area
  of each body's main part) where welded pieces are 26-100 %; a mesh exported face by face (every
  CAD face triangulated on its own, with T-junctions between faces, as the engine GLB) has open
  bodies of about one face each, so only closed bodies are cut out of a piece
  (:meth:`Atoms.with_solids_as_pieces`).
* point clouds: pieces are the components of a k-nearest-neighbour graph whose edges are shorter
  than a gap distance; atoms are small regions grown from evenly spread seeds (about
  ``CLOUD_POINTS_PER_ATOM`` points each, at most ``MAX_CLOUD_ATOMS`` atoms) along that graph, where
  an edge across a crease (normals estimated by local PCA) costs several times its length, so
  region borders prefer creases. Up to 20,000 points an atom is about one point: a click grows
  point by point, so a small part is not rounded to a few patches (the five CAD GLBs sampled as
  10,000-point clouds, click + scale: 29.5 with atoms of about four points, 32.1 with two, 33.7
  with one, against 32.8 for the ball of the true size; 40 procedural clouds 45.5 -> 47.3, ball
  42.6; the loss was on parts of 5-20 points).
  (Joining neighbours unless their normals differ by the crease angle, as on meshes, leaks around
  every curved corner of a sampled surface: on the five CAD GLBs sampled as clouds one atom held
  97-100 % of the points.)

Every sampled point, face and vertex knows its atom.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from ..errors import InputError

DEFAULT_CREASE_DEG = 60.0
DEFAULT_MIN_ATOM_AREA = 1e-5  # atoms below this fraction of the surface merge into a neighbour (slivers)
LARGE_REGION = 0.25  # mesh regions above this fraction of the surface are split into patches ...
PATCH_AREA = 0.0002  # ... of about this fraction of the surface (two sampled points in 10,000), when they hold at least
CREASELESS = 0.9     # this fraction of their piece (a piece without creases)
CLOUD_POINTS_PER_ATOM = 1  # point-cloud atoms hold about this many points, and there are at most
MAX_CLOUD_ATOMS = 20000    # this many (a larger cloud's atoms hold more points; selection cost stays bounded)
NORMAL_NEIGHBORS = 12      # a point's normal: PCA of its 12 nearest neighbours (itself included)
CREASE_COST = 4.0    # a graph edge across a crease costs 1 + CREASE_COST times its length


@dataclass
class Atoms:
    """Atoms of one shape.

    Attributes:
        point_atom: (N,) int64 atom of each sampled point.
        area: (A,) float64 fraction of the shape's surface (point clouds: of its points); sums to 1.
        piece: (A,) int64 connected piece of each atom (atoms of one piece touch each other).
        centroid: (A, 3) float64 area-weighted centre of each atom (the shape's coordinates).
        neighbors: (A, A) sparse bool, atoms that touch (share a welded vertex or are kNN neighbours).
        face_atom: (F,) int64 atom of each face, or None for a point cloud.
        vertex_atom: (V,) int64 atom of each input vertex (meshes: of one of its faces; clouds: of the
            input point), or None when unknown.
        piece_copy: (P,) int64 copy group of each connected piece: pieces that are copies of each
            other (the same face count, area and principal extents: moved, rotated or mirrored
            instances such as four legs or a left and right arm) share a group; None = unknown
            (point clouds), every piece on its own.
        body: (A,) int64 body of each atom (meshes): faces joined through edges that exactly two
            faces share, creases included, i.e. a surface stitched edge to edge (a solid's closed
            shell). Bodies welded into one piece meet only at vertices or non-manifold edges, which
            is where parts that touch or were merged into one mesh meet. An atom takes the body of
            most of its area. None for point clouds.
        body_closed: (B,) bool, bodies whose atoms have no boundary edge (an edge of one face only):
            closed shells, i.e. solids. A mesh exported face by face (every CAD face triangulated on
            its own, T-junctions between them) has open bodies of one face each. None for point clouds.
    """

    point_atom: np.ndarray
    area: np.ndarray
    piece: np.ndarray
    centroid: np.ndarray
    neighbors: sp.csr_matrix
    face_atom: np.ndarray | None = None
    vertex_atom: np.ndarray | None = None
    piece_copy: np.ndarray | None = None
    body: np.ndarray | None = None
    body_closed: np.ndarray | None = None

    @property
    def num_atoms(self) -> int:
        return int(len(self.area))

    @property
    def num_pieces(self) -> int:
        return int(self.piece.max() + 1) if len(self.piece) else 0

    def piece_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Atoms grouped by piece: ``order`` (A,) atom indices sorted by piece (ascending index within
        a piece) and ``bounds`` (num_pieces + 1,): piece k is ``order[bounds[k]:bounds[k + 1]]``.
        Computed once per Atoms (the piece labels must not change afterwards)."""
        groups = self.__dict__.get("_piece_groups")
        if groups is None:
            order = np.argsort(self.piece, kind="stable")
            groups = (order, np.searchsorted(self.piece[order], np.arange(self.num_pieces + 1)))
            self.__dict__["_piece_groups"] = groups
        return groups

    def in_welded_solid(self) -> np.ndarray:
        """(A,) bool atoms of a closed body inside a piece welded from several bodies (a solid merged
        into a larger mesh: a leg welded to a table top); all False without bodies (clouds).
        Computed once per Atoms (pieces and bodies must not change afterwards)."""
        solid = self.__dict__.get("_in_welded_solid")
        if solid is None:
            solid = np.zeros(self.num_atoms, dtype=bool)
            if self.body is not None and self.body_closed is not None:
                nb = len(self.body_closed)
                bodies_per_piece = np.bincount(np.unique(self.piece * nb + self.body) // nb, minlength=self.num_pieces)
                solid = (bodies_per_piece[self.piece] > 1) & self.body_closed[self.body]
            self.__dict__["_in_welded_solid"] = solid
        return solid

    def with_solids_as_pieces(self) -> "Atoms":
        """These atoms with every welded solid (:meth:`in_welded_solid`) made a piece of its own, the
        rest of each piece staying one piece. Pieces kept whole keep their copy group; cut-out
        solids are groups of their own. The same atoms when there is nothing to cut (clouds too)."""
        solid = self.in_welded_solid()
        if not solid.any():
            return self
        _, piece = np.unique(np.where(solid, self.num_pieces + self.body, self.piece), return_inverse=True)
        piece = piece.reshape(-1).astype(np.int64)
        copy = None
        if self.piece_copy is not None:
            copy = np.empty(int(piece.max()) + 1, dtype=np.int64)
            copy[piece] = np.where(solid, int(self.piece_copy.max()) + 1 + piece, self.piece_copy[self.piece])
        return dataclasses.replace(self, piece=piece, piece_copy=copy)

    def points_of(self) -> list[np.ndarray]:
        """Indices of the sampled points of each atom (A lists)."""
        order = np.argsort(self.point_atom, kind="stable")
        bounds = np.searchsorted(self.point_atom[order], np.arange(self.num_atoms + 1))
        return [order[bounds[a]:bounds[a + 1]] for a in range(self.num_atoms)]

    def spread_labels(self, labels: np.ndarray, known: np.ndarray) -> np.ndarray:
        """In place: atoms not ``known`` take the label of a touching known atom, wave after wave
        through the atoms that touch (so inside a piece, never across a gap). Returns the (A,) bool
        atoms labelled now; those of a piece without any known atom stay unknown."""
        known = np.asarray(known, dtype=bool).copy()
        nb = self.neighbors.tocoo()
        for _ in range(256):
            grab = ~known[nb.row] & known[nb.col]
            if not grab.any():
                break
            labels[nb.row[grab]] = labels[nb.col[grab]]
            known[nb.row[grab]] = True
        return known

    def label_sources(self, gap: np.ndarray, representative: np.ndarray) -> np.ndarray:
        """(A,) int64 the atom whose label each atom takes when labels come from the sampled points
        (masks, point labels back to faces, segment everything): an atom with sampled points itself;
        one without, the source of an atom it touches (:meth:`spread_labels`); every atom of a piece
        without sampled points, the atom of the sampled point nearest to that piece
        (``representative`` (A,): each atom's sampled point nearest its centroid, ``gap`` (A,) how
        far). So a labelling of the sampled points says everything about the faces."""
        sampled = np.bincount(self.point_atom, minlength=self.num_atoms) > 0
        source = np.arange(self.num_atoms, dtype=np.int64)
        lost = np.flatnonzero(~self.spread_labels(source, sampled))
        if len(lost):
            piece = self.piece[lost]
            order = np.lexsort((gap[lost], piece))  # by piece, its atom nearest a sampled point first
            first = order[np.r_[True, piece[order][1:] != piece[order][:-1]]]
            nearest = np.zeros(self.num_pieces, dtype=np.int64)
            nearest[piece[first]] = self.point_atom[representative[lost[first]]]
            source[lost] = nearest[piece]
        return source


# --------------------------------------------------------------------------- union-find helpers
def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (n,) of the graph with edges (a[i], b[i])."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    g = sp.coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(g, directed=False)[1].astype(np.int64)


def weld_vertices(vertices: np.ndarray) -> np.ndarray:
    """(V,) index of each vertex's welded (exactly coincident) representative, 0..W-1."""
    v = np.ascontiguousarray(np.asarray(vertices, dtype=np.float64))
    if len(v) == 0:
        return np.zeros(0, dtype=np.int64)
    return _unique_rows(v + 0.0)[1]  # + 0.0: -0.0 and 0.0 weld


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, inv) of the distinct rows of a 2-D array: the first row of each (U,) and, for every
    row, the index into ``first`` of its copy (int64)."""
    a = np.ascontiguousarray(a)
    rows = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).reshape(-1)
    _, first, inv = np.unique(rows, return_index=True, return_inverse=True)
    return first, inv.reshape(-1).astype(np.int64)


def face_normals_areas(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (F, 3) (zero for degenerate faces) and areas (F,) in float64."""
    p = np.asarray(vertices, dtype=np.float64)[faces]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    length = np.linalg.norm(n, axis=1)
    area = 0.5 * length
    n = n / np.maximum(length, 1e-300)[:, None]
    n[length <= 0] = 0.0
    return n, area


def _merge_small(labels: np.ndarray, area: np.ndarray, pair_a: np.ndarray, pair_b: np.ndarray,
                 weight: np.ndarray, min_area: float) -> np.ndarray:
    """Merge regions with ``area < min_area`` into the touching region with the largest ``weight``
    (summed over touching pairs); repeated until no small region has a neighbour. Returns new labels."""
    for _ in range(8):
        k = int(labels.max()) + 1
        reg_area = np.bincount(labels, weights=area, minlength=k)
        ra, rb = labels[pair_a], labels[pair_b]
        keep = ra != rb
        ra, rb, w = ra[keep], rb[keep], weight[keep]
        if len(ra) == 0:
            break
        # both directions, summed per (small region, neighbour)
        src = np.concatenate([ra, rb])
        dst = np.concatenate([rb, ra])
        ww = np.concatenate([w, w])
        small = reg_area[src] < min_area
        if not small.any():
            break
        src, dst, ww = src[small], dst[small], ww[small]
        key = src * k + dst
        ukey, inv = np.unique(key, return_inverse=True)
        tot = np.bincount(inv.reshape(-1), weights=ww)
        # prefer heavier contact, then the larger neighbour
        s, d = ukey // k, ukey % k
        order = np.lexsort((-reg_area[d], -tot, s))
        s, d = s[order], d[order]
        first = np.r_[True, s[1:] != s[:-1]]
        s, d = s[first], d[first]
        # merge smallest first; a region already merged into is not merged away in the same round
        order = np.argsort(reg_area[s], kind="stable")
        target = np.arange(k)
        absorbed = np.zeros(k, dtype=bool)
        moved = np.zeros(k, dtype=bool)
        for i in order:
            a, b = int(s[i]), int(d[i])
            if absorbed[a] or moved[b]:
                continue
            target[a] = b
            moved[a] = True
            absorbed[b] = True
        # resolve chains
        for _ in range(4):
            target = target[target]
        _, labels = np.unique(target[labels], return_inverse=True)
        labels = labels.reshape(-1)
    return labels.astype(np.int64)


# --------------------------------------------------------------------------- meshes
def mesh_atoms(vertices: np.ndarray, faces: np.ndarray, face_index: np.ndarray, points: np.ndarray,
               crease_deg: float = DEFAULT_CREASE_DEG, min_area: float = DEFAULT_MIN_ATOM_AREA) -> Atoms:
    """Atoms of a triangle mesh (module docstring).

    Args:
        vertices: (V, 3) coordinates.
        faces: (F, 3) int vertex indices.
        face_index: (N,) face of each sampled point.
        points: (N, 3) the sampled points (same coordinates as ``vertices``).
        crease_deg: dihedral angle (degrees) above which a shared edge separates two atoms.
        min_area: atoms below this fraction of the total surface area merge into a neighbour.

    Returns:
        Atoms with ``face_atom`` and ``vertex_atom`` set.
    """
    faces = np.asarray(faces, dtype=np.int64)
    nf = len(faces)
    if nf == 0:
        raise InputError("mesh atoms: the mesh has no faces")
    if not 0.0 < crease_deg <= 180.0:
        raise InputError(f"crease angle {crease_deg} must be in (0, 180] degrees")
    weld = weld_vertices(vertices)
    wf = weld[faces]
    normals, area = face_normals_areas(vertices, faces)
    total = float(area.sum())
    if not total > 0:
        raise InputError("mesh atoms: the mesh has zero surface area")
    frac = area / total
    nw = int(weld.max()) + 1

    # pieces: faces joined through shared welded vertices
    fv_face = np.repeat(np.arange(nf), 3)
    piece_all = _components(nf + nw, fv_face, nf + wf.reshape(-1))
    _, piece = np.unique(piece_all[:nf], return_inverse=True)
    piece = piece.reshape(-1)

    centers = np.asarray(vertices, dtype=np.float64)[faces].mean(axis=1)
    # a face repeated on the same welded vertices (double-sided meshes, in either winding) is one
    # face for the regions: otherwise each of its edges has four faces and joins nothing
    first, inv = _unique_rows(np.sort(wf, axis=1))
    edges = _manifold_edges(wf[first], nw)
    region = _crease_regions(wf[first], normals[first], area[first], np.bincount(inv, weights=frac),
                             piece[first], centers[first], total, nw, crease_deg, min_area, edges)
    face_atom = region[inv].astype(np.int64)
    face_body = _components(len(first), edges[0], edges[1])[inv]
    return _finish_atoms(face_atom, frac, piece, np.asarray(vertices, dtype=np.float64), faces, centers,
                         np.asarray(face_index, dtype=np.int64), wf, nw, face_body, edges[3][inv])


def _manifold_edges(wf: np.ndarray, nw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Faces (f1, f2) that share an edge no other face has, whether the two walk it the same way
    (then they are wound against each other: a flipped triangle, the back copy of a double-sided
    face), and (F,) bool faces with a boundary edge (one that no other face has)."""
    e = np.stack([wf[:, [0, 1]], wf[:, [1, 2]], wf[:, [2, 0]]], axis=1).reshape(-1, 2)
    forward = e[:, 0] < e[:, 1]  # the direction each face walks the edge
    e.sort(axis=1)
    key = e[:, 0] * nw + e[:, 1]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    counts = np.diff(np.r_[starts, len(ks)])
    two = starts[counts == 2]
    open_face = np.zeros(len(wf), dtype=bool)
    open_face[order[starts[counts == 1]] // 3] = True
    return order[two] // 3, order[two + 1] // 3, forward[order[two]] == forward[order[two + 1]], open_face


def _crease_regions(wf: np.ndarray, normals: np.ndarray, area: np.ndarray, frac: np.ndarray, piece: np.ndarray,
                    centers: np.ndarray, total: float, nw: int, crease_deg: float, min_area: float,
                    edges: tuple[np.ndarray, ...]) -> np.ndarray:
    """(F,) region 0..K-1 of each (distinct) face: faces sharing an edge of exactly two faces
    (``edges``, :func:`_manifold_edges`) join unless it is a crease; tiny regions merge into a
    neighbour; crease-less large pieces are cut into patches (module docstring)."""
    nf = len(wf)
    f1, f2, same_way, _ = edges
    # faces wound against each other: compare one normal reversed
    cos = (normals[f1] * normals[f2]).sum(1) * np.where(same_way, -1.0, 1.0)
    degenerate = (area[f1] <= 0) | (area[f2] <= 0)
    join = degenerate | (cos >= np.cos(np.radians(crease_deg)))
    region = _components(nf, f1[join], f2[join])

    # tiny regions merge into the neighbour of the same piece they share most vertices with
    pa, pb, w = _vertex_contacts(wf, region, nw)
    region = _merge_small(region, frac, pa, pb, w, min_area)
    _, region = np.unique(region, return_inverse=True)
    region = _split_large_regions(region.reshape(-1), piece, frac, centers, f1, f2, cos, total, crease_deg)
    return region


def _split_large_regions(region: np.ndarray, piece: np.ndarray, frac: np.ndarray, centers: np.ndarray,
                         f1: np.ndarray, f2: np.ndarray, cos: np.ndarray, total: float, crease_deg: float) -> np.ndarray:
    """A region above ``LARGE_REGION`` of the surface that is (nearly) its whole piece, i.e. a piece
    without creases (a smooth scan or organic model: one region, so every click took all of it), is
    split into patches of about ``PATCH_AREA``: faces join the seed nearest along the face graph, an
    edge costing its length, more when it bends (as :func:`cloud_atoms`). Large regions bounded by
    creases stay whole (a side of a box, a leg of an L). Returns labels 0..K-1."""
    k = int(region.max()) + 1
    region_area = np.bincount(region, weights=frac, minlength=k)
    region_piece = np.zeros(k, dtype=np.int64)
    region_piece[region] = piece
    piece_area = np.bincount(piece, weights=frac)
    big = (region_area > LARGE_REGION) & (region_area >= CREASELESS * piece_area[region_piece])
    inside = big[region]
    if not inside.any():
        return region
    idx = np.flatnonzero(inside)
    local = np.full(len(region), -1, dtype=np.int64)
    local[idx] = np.arange(len(idx))
    same = (region[f1] == region[f2]) & inside[f1]
    a, b = local[f1[same]], local[f2[same]]
    length = np.linalg.norm(centers[idx][a] - centers[idx][b], axis=1)
    graph = sp.coo_matrix((_edge_cost(length, cos[same], crease_deg), (a, b)), shape=(len(idx), len(idx))).tocsr()
    source = _grow_patches(graph, centers[idx], region[idx], (PATCH_AREA * total) ** 0.5)
    out = region.copy()
    reached = source >= 0
    out[idx[reached]] = k + idx[source[reached]]  # a patch is named by its seed face; unreached faces keep the region
    _, out = np.unique(out, return_inverse=True)
    return out.reshape(-1)


def _vertex_contacts(wf: np.ndarray, region: np.ndarray, nw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of faces (a, b) of different regions that share a welded vertex, with weight 1 each
    (one representative face per (region, vertex))."""
    nf = len(wf)
    fv = wf.reshape(-1)
    fr = np.repeat(region, 3)
    fidx = np.repeat(np.arange(nf), 3)
    # one face per (vertex, region)
    k = fv.astype(np.int64) * (int(region.max()) + 1) + fr
    _, first = np.unique(k, return_index=True)
    fv, fr, fidx = fv[first], fr[first], fidx[first]
    order = np.argsort(fv, kind="stable")
    fv, fr, fidx = fv[order], fr[order], fidx[order]
    new_group = np.r_[True, fv[1:] != fv[:-1]]
    starts = np.flatnonzero(new_group)
    gid = np.cumsum(new_group) - 1
    counts = np.diff(np.r_[starts, len(fv)])
    # pair each region at a vertex with the first region there (a star; enough for contact counts)
    members = np.flatnonzero((counts[gid] >= 2) & ~new_group)
    reps = starts[gid[members]]
    return fidx[reps], fidx[members], np.ones(len(members))


def _finish_atoms(face_atom: np.ndarray, face_frac: np.ndarray, face_piece: np.ndarray, vertices: np.ndarray,
                  faces: np.ndarray, centers: np.ndarray, face_index: np.ndarray, wf: np.ndarray, nw: int,
                  face_body: np.ndarray, open_face: np.ndarray) -> Atoms:
    na = int(face_atom.max()) + 1
    area = np.bincount(face_atom, weights=face_frac, minlength=na)
    centroid = np.stack([np.bincount(face_atom, weights=face_frac * centers[:, j], minlength=na)
                         for j in range(3)], axis=1) / np.maximum(area, 1e-300)[:, None]
    piece = np.zeros(na, dtype=np.int64)
    piece[face_atom] = face_piece
    # neighbours: atoms sharing a welded vertex
    fv = wf.reshape(-1)
    fa = np.repeat(face_atom, 3)
    inc = sp.csr_matrix((np.ones(len(fv), dtype=np.float32), (fa, fv)), shape=(na, nw))
    inc.data[:] = 1.0
    nb = (inc @ inc.T).tocsr()
    nb.setdiag(0)
    nb.eliminate_zeros()
    nb = (nb > 0).astype(bool).tocsr()
    vertex_atom = np.full(len(vertices), -1, dtype=np.int64)
    vertex_atom[faces.reshape(-1)] = np.repeat(face_atom, 3)
    body = majority_label(face_atom, face_body, face_frac, na)
    body_closed = np.ones(int(body.max()) + 1, dtype=bool)
    body_closed[body[face_atom[open_face]]] = False
    return Atoms(point_atom=face_atom[face_index], area=area, piece=piece, centroid=centroid, neighbors=nb,
                 face_atom=face_atom, vertex_atom=vertex_atom,
                 piece_copy=piece_copies(face_piece, face_frac, centers), body=body, body_closed=body_closed)


def majority_label(group: np.ndarray, label: np.ndarray, weight: np.ndarray, num_groups: int) -> np.ndarray:
    """(num_groups,) the label holding most ``weight`` in each group (ties go to the smaller label),
    the winning labels renumbered 0..K-1 in their sorted order; -1 for an empty group."""
    _, label = np.unique(label, return_inverse=True)
    label = label.reshape(-1)
    nl = int(label.max()) + 1 if len(label) else 1
    pair, inv = np.unique(group.astype(np.int64) * nl + label, return_inverse=True)
    total = np.bincount(inv.reshape(-1), weights=weight)
    g, lab = pair // nl, pair % nl
    order = np.lexsort((lab, -total, g))  # per group: most weight first, then the smaller label
    first = np.r_[True, g[order][1:] != g[order][:-1]]
    out = np.full(num_groups, -1, dtype=np.int64)
    out[g[order][first]] = lab[order][first]
    _, out[out >= 0] = np.unique(out[out >= 0], return_inverse=True)
    return out


COPY_TOLERANCE = 0.01  # copies: area and principal extents equal within 1 % of the piece's size


def piece_copies(face_piece: np.ndarray, face_frac: np.ndarray, face_centers: np.ndarray,
                 tol: float = COPY_TOLERANCE) -> np.ndarray:
    """(P,) copy group of each piece: pieces with the same face count whose square-root area and
    principal extents (the square roots of the eigenvalues of the area-weighted covariance of their
    face centres, invariant to moves, rotations and mirroring) agree within ``tol`` of the piece's
    size share a group. Pieces are sorted by (face count, area) and each is compared with the next."""
    face_piece = np.asarray(face_piece, dtype=np.int64)
    npc = int(face_piece.max()) + 1
    nfaces = np.bincount(face_piece, minlength=npc)
    area = np.bincount(face_piece, weights=face_frac, minlength=npc)
    w = face_frac / np.maximum(area[face_piece], 1e-300)
    mean = np.stack([np.bincount(face_piece, weights=w * face_centers[:, k], minlength=npc) for k in range(3)], 1)
    d = face_centers - mean[face_piece]
    cov = np.empty((npc, 3, 3))
    for i in range(3):
        for j in range(i, 3):
            cov[:, i, j] = cov[:, j, i] = np.bincount(face_piece, weights=w * d[:, i] * d[:, j], minlength=npc)
    desc = np.column_stack([np.sqrt(area), np.sqrt(np.maximum(np.linalg.eigvalsh(cov), 0.0))])
    order = np.lexsort((area, nfaces))
    a, b = order[:-1], order[1:]
    size = np.maximum(desc[a].max(1), desc[b].max(1))
    same = (nfaces[a] == nfaces[b]) & np.all(np.abs(desc[a] - desc[b]) <= tol * size[:, None], axis=1)
    return _components(npc, a[same], b[same])


# --------------------------------------------------------------------------- patches (meshes and clouds)
def _edge_cost(length: np.ndarray, cos: np.ndarray, crease_deg: float) -> np.ndarray:
    """Cost of graph edges for patch growing: the length, times 1 + CREASE_COST where the two normals
    (cosine ``cos``) differ by the crease angle (proportionally in between)."""
    bend = np.clip(1.0 - cos, 0.0, None) / max(1.0 - np.cos(np.radians(min(crease_deg, 90.0))), 1e-6)
    return np.maximum(length, 1e-12) * (1.0 + CREASE_COST * bend)


def _cell_for_count(points: np.ndarray, count: int) -> float:
    """Size of the grid cells of which about ``count`` are occupied by ``points`` (a surface)."""
    lo = points.min(axis=0)
    size = float((points.max(axis=0) - lo).max() or 1.0) / max(count, 1) ** 0.5  # cells ~ (span / size)^2
    for _ in range(4):  # a few multiplicative corrections of the cell size towards ``count``
        cell = np.floor((points - lo) / size).astype(np.int64)
        ratio = len(np.unique(np.ravel_multi_index(cell.T, cell.max(axis=0) + 1))) / max(count, 1)
        if 0.8 <= ratio <= 1.25:
            break
        size *= ratio ** 0.5
    return size


def _grow_patches(graph: sp.csr_matrix, xyz: np.ndarray, group: np.ndarray, cell: float) -> np.ndarray:
    """(n,) the seed each of the graph's n elements joins, -1 where none is reachable: the seeds are,
    per ``group`` and cell of a grid of size ``cell``, the element nearest the cell's centre (so every
    group has one), and every element joins the seed nearest along ``graph`` (edge weights)."""
    lo = xyz.min(axis=0)
    grid = np.floor((xyz - lo) / cell).astype(np.int64)
    _, rank = np.unique(group, return_inverse=True)
    rank = rank.reshape(-1)
    dims = (int(rank.max()) + 1, *(int(x) for x in grid.max(axis=0) + 1))
    _, inv = np.unique(np.ravel_multi_index((rank, *grid.T), dims), return_inverse=True)
    inv = inv.reshape(-1)
    off = np.linalg.norm(xyz - (lo + (grid + 0.5) * cell), axis=1)
    order = np.lexsort((off, inv))
    seeds = np.sort(order[np.r_[True, inv[order][1:] != inv[order][:-1]]])
    _, _, source = dijkstra(graph, directed=False, indices=seeds, min_only=True, return_predecessors=True)
    return np.where(source >= 0, source, -1)


# --------------------------------------------------------------------------- point clouds
def estimate_normals(points: np.ndarray, k: int = NORMAL_NEIGHBORS, tree: cKDTree | None = None,
                     neighbors: np.ndarray | None = None) -> np.ndarray:
    """Unoriented unit normals (N, 3) by PCA of each point's k nearest neighbours (or of the given
    ``neighbors`` (N, K) indices, each row holding the point itself)."""
    pts = np.asarray(points, dtype=np.float64)
    k = int(min(k, len(pts))) if neighbors is None else neighbors.shape[1]
    if k < 3:
        return np.tile([0.0, 0.0, 1.0], (len(pts), 1))
    if neighbors is None:
        tree = tree or cKDTree(pts)
        _, neighbors = tree.query(pts, k=k)
    nb = pts[neighbors] - pts[neighbors].mean(axis=1, keepdims=True)
    cov = np.einsum("nki,nkj->nij", nb, nb)
    _, vecs = np.linalg.eigh(cov)
    return vecs[:, :, 0]


def cloud_atoms(points: np.ndarray, k: int = 10, crease_deg: float = DEFAULT_CREASE_DEG,
                min_area: float = DEFAULT_MIN_ATOM_AREA, gap: float | None = None,
                points_per_atom: int = CLOUD_POINTS_PER_ATOM) -> Atoms:
    """Atoms of a point cloud (module docstring); ``area`` is the fraction of points.

    Args:
        points: (N, 3).
        k: neighbours per point in the graph.
        gap: neighbours farther apart than this are never joined (default twice the median
            distance to the k-th neighbour; 3 x the mean nearest-neighbour distance cut a uniformly
            sampled sphere of 200k points into 315 pieces, 296 of them specks).
        points_per_atom: about how many points an atom holds (the seeds' spacing).
    """
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    if n == 0:
        raise InputError("point-cloud atoms: no points")
    tree = cKDTree(pts)
    near_d, near = tree.query(pts, k=int(min(max(k + 1, NORMAL_NEIGHBORS), n)))  # one query: graph and normals
    near_d, near = np.atleast_2d(near_d), np.atleast_2d(near)
    kk = int(min(k + 1, n))
    dist, nn = near_d[:, 1:kk], near[:, 1:kk]
    if gap is None:  # twice the typical k-th neighbour distance: sampling holes do not cut pieces
        gap = 2.0 * float(np.median(dist[:, -1])) if dist.size else 1.0
    a = np.repeat(np.arange(n), dist.shape[1])
    b = nn.reshape(-1)
    d = dist.reshape(-1)
    close = d <= gap
    a, b, d = a[close], b[close], d[close]
    piece = _components(n, a, b)
    normals = estimate_normals(pts, neighbors=near[:, :NORMAL_NEIGHBORS])
    cos = np.abs((normals[a] * normals[b]).sum(1))
    # seeded region growing: every point joins the seed nearest along the graph
    graph = sp.coo_matrix((_edge_cost(d, cos, crease_deg), (a, b)), shape=(n, n)).tocsr()
    count = max(1, min(MAX_CLOUD_ATOMS, n // max(1, int(points_per_atom))))
    source = _grow_patches(graph, pts, piece, _cell_for_count(pts, count))
    region = np.where(source >= 0, source, np.arange(n))  # unreached points (none: every piece has a seed)
    _, region = np.unique(region, return_inverse=True)
    region = region.reshape(-1).astype(np.int64)
    frac = np.full(n, 1.0 / n)
    region = _merge_small(region, frac, a, b, np.ones(len(a)), min_area)
    _, region = np.unique(region, return_inverse=True)
    atom = region.reshape(-1).astype(np.int64)
    na = int(atom.max()) + 1
    area = np.bincount(atom, weights=frac, minlength=na)
    centroid = np.stack([np.bincount(atom, weights=frac * pts[:, j], minlength=na) for j in range(3)],
                        axis=1) / area[:, None]
    # pieces after the merge: an atom's piece is the piece of its points (merging stays inside pieces
    # because only neighbours closer than the gap are paired)
    ap = np.zeros(na, dtype=np.int64)
    ap[atom] = piece
    ia, ib = atom[a], atom[b]
    keep = ia != ib
    nb = sp.coo_matrix((np.ones(int(keep.sum()), dtype=bool), (ia[keep], ib[keep])), shape=(na, na)).tocsr()
    nb = ((nb + nb.T) > 0).tocsr()
    return Atoms(point_atom=atom, area=area, piece=ap, centroid=centroid, neighbors=nb,
                 face_atom=None, vertex_atom=None)
