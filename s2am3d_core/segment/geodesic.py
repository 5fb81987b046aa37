"""Surface distance from a click, with potpourri3d's heat method.

Meshes use ``MeshHeatMethodDistanceSolver`` on the welded mesh (degenerate faces dropped); point
clouds use ``PointCloudHeatSolver`` on the sampled points. Distance is only meaningful inside the
connected piece of the click: elsewhere the straight-line distance is used (a gap is crossed in a
straight line), so far pieces still come after near ones: ``1 - PIECE_GAP_WEIGHT`` of the
distance to the click plus ``PIECE_GAP_WEIGHT`` of the gap to the clicked piece, so a piece that
touches the clicked one comes nearer wherever on it the click fell. On meshes one solver is
built per connected piece and kept (precompute once, query many): the large pieces' while the
shape loads (:meth:`SurfaceDistance.prepare`), a small piece's on the first click on it, so a click
on a bolt factorises the bolt, not the engine. A piece of more than ``MAX_MESH_SOLVER_FACES`` faces
(a 1.3 M-face scan took 207 s to factorise and 140 s per query) uses the point-cloud solver on its
sampled points instead. Point clouds build one solver, while the shape loads.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
from scipy.spatial import cKDTree

from .atoms import Atoms, weld_vertices

MAX_MESH_SOLVER_FACES = 200_000  # larger pieces: point-cloud heat solver on their sampled points
PREPARE_MIN_FACES = 2_000  # pieces this large get their solver while the shape loads ...
PREPARE_BUDGET_S = 1.0     # ... until this much time is spent (the first piece's always)
PIECE_GAP_WEIGHT = 0.25    # meshes, other pieces: this share of the distance is the gap to the clicked piece


class SurfaceDistance:
    """Per-atom surface distance from a click.

    Args:
        atoms: the shape's atoms.
        points: (N, 3) the sampled points (shape coordinates).
        vertices, faces: the mesh, or None for a point cloud.
    """

    def __init__(self, atoms: Atoms, points: np.ndarray, vertices: np.ndarray | None = None,
                 faces: np.ndarray | None = None):
        self.atoms = atoms
        self.points = np.asarray(points, dtype=np.float64)
        self.is_mesh = faces is not None and atoms.face_atom is not None
        self._solvers: dict[int, object] = {}  # piece (mesh) or -1 (cloud) -> solver, or None if it failed
        if self.is_mesh:
            weld = weld_vertices(vertices)
            nw = int(weld.max()) + 1
            self._welded = np.zeros((nw, 3))
            self._welded[weld] = np.asarray(vertices, dtype=np.float64)
            wf = weld[np.asarray(faces, dtype=np.int64)]
            ok = (wf[:, 0] != wf[:, 1]) & (wf[:, 1] != wf[:, 2]) & (wf[:, 0] != wf[:, 2])
            self._wfaces = wf[ok]
            self._face_atom_ok = atoms.face_atom[ok]
            self._face_piece_ok = atoms.piece[self._face_atom_ok]
            self._local: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # Euclidean fallback per atom uses its sampled points, or its centroid when it has none
        self._has_points = np.bincount(atoms.point_atom, minlength=atoms.num_atoms) > 0

    def prepare(self) -> None:
        """Build and factorise, while the shape loads, the heat solvers first clicks would wait for:
        the cloud's, or on a mesh its pieces of ``PREPARE_MIN_FACES`` faces or more, most faces first,
        until ``PREPARE_BUDGET_S`` seconds are spent (the first always; smaller pieces factorise
        on their first click in a few ms). A first query factorises: 0.7 s of the first click on a
        20k-point cloud, 1.0 s on a 1.3 M-face sphere, 0.13 s on a 11k-face piece of the engine;
        later clicks 0.01-0.05 s."""
        a = self.atoms
        if not self.is_mesh:
            if len(self.points):
                self._warm(0)
            return
        faces = np.bincount(self._face_piece_ok, minlength=a.num_pieces)
        area = np.bincount(a.piece, weights=a.area, minlength=a.num_pieces)
        first_point = np.full(a.num_pieces, -1)
        first_point[a.piece[a.point_atom][::-1]] = np.arange(len(self.points))[::-1]
        start = time.perf_counter()
        for rank, piece in enumerate(np.lexsort((-area, -faces))):  # most faces first, then largest
            if rank and (faces[piece] < PREPARE_MIN_FACES or time.perf_counter() - start > PREPARE_BUDGET_S):
                break
            if first_point[piece] >= 0:
                self._warm(int(first_point[piece]))

    def _warm(self, index: int) -> None:
        """One surface-distance query from sampled point ``index``: builds and factorises the
        solver of its piece (or of the cloud), nothing else."""
        self._surface_distance(index, self.euclidean(self.points[index]))

    def _solver_for(self, piece: int):
        """The heat-method solver of one piece (meshes) or of the cloud (piece -1), built once."""
        if piece in self._solvers:
            return self._solvers[piece]
        import potpourri3d as pp3d

        solver = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if self.is_mesh:
                    sel = np.flatnonzero(self._face_piece_ok == piece)
                    if len(sel) > MAX_MESH_SOLVER_FACES:
                        idx = np.flatnonzero(self.atoms.piece[self.atoms.point_atom] == piece)
                        self._local[piece] = (idx, None, None)
                        if len(idx) >= 3:
                            solver = pp3d.PointCloudHeatSolver(self.points[idx])
                    else:
                        used, local = np.unique(self._wfaces[sel], return_inverse=True)
                        self._local[piece] = (used, local.reshape(-1, 3), sel)
                        if len(sel):
                            solver = pp3d.MeshHeatMethodDistanceSolver(self._welded[used], local.reshape(-1, 3))
                else:
                    solver = pp3d.PointCloudHeatSolver(self.points)
        except Exception:  # a piece potpourri3d cannot handle: Euclidean distance there (documented)
            solver = None
        self._solvers[piece] = solver
        return solver

    def euclidean(self, click_xyz: np.ndarray) -> np.ndarray:
        """(A,) distance from ``click_xyz`` to the nearest sampled point (or centroid) of each atom."""
        return self.euclidean_span(click_xyz)[0]

    def euclidean_span(self, click_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A,) distances from ``click_xyz`` to the nearest and to the farthest sampled point of each
        atom (both the centroid's for an atom without points)."""
        a = self.atoms
        xyz = np.asarray(click_xyz, dtype=np.float64)[None]
        d_pts = np.linalg.norm(self.points - xyz, axis=1)
        near = np.full(a.num_atoms, np.inf)
        np.minimum.at(near, a.point_atom, d_pts)
        far = np.zeros(a.num_atoms)
        np.maximum.at(far, a.point_atom, d_pts)
        cen = np.linalg.norm(a.centroid - xyz, axis=1)
        return np.where(self._has_points, near, cen), np.where(self._has_points, far, cen)

    def from_point(self, index: int) -> np.ndarray:
        """(A,) distance of every atom from sampled point ``index``: geodesic inside the clicked
        piece (never smaller than the straight-line distance); on a mesh's other pieces partly the
        straight-line distance to the click and partly their gap to the clicked piece
        (``PIECE_GAP_WEIGHT``), on a cloud's the straight-line distance to the click."""
        return self.near_and_reach(index)[0]

    def near_and_reach(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(A,) :meth:`from_point`'s distance of every atom and how far the atom reaches from sampled
        point ``index`` (:func:`reach`: with the straight-line distance to its farthest point)."""
        euclid, far = self.euclidean_span(self.points[int(index)])
        near = self._surface_distance(index, euclid)
        if self.is_mesh:
            near = self._with_piece_gap(int(index), near)
        return near, reach(near, far)

    def _with_piece_gap(self, index: int, near: np.ndarray) -> np.ndarray:
        """``near`` with the atoms of the other pieces at ``(1 - PIECE_GAP_WEIGHT) * near +
        PIECE_GAP_WEIGHT * gap``, the gap being their straight-line distance from the clicked
        piece's nearest sampled point."""
        a = self.atoms
        piece0 = a.piece[a.point_atom[index]]
        tree = cKDTree(self.points[a.piece[a.point_atom] == piece0])
        gap = np.full(a.num_atoms, np.inf)
        np.minimum.at(gap, a.point_atom, tree.query(self.points)[0])
        if not self._has_points.all():
            gap[~self._has_points] = tree.query(a.centroid[~self._has_points])[0]
        w = PIECE_GAP_WEIGHT
        return np.where(a.piece != piece0, (1.0 - w) * near + w * gap, near)

    def _surface_distance(self, index: int, euclid: np.ndarray) -> np.ndarray:
        a = self.atoms
        xyz = self.points[int(index)]
        piece = int(a.piece[a.point_atom[int(index)]]) if self.is_mesh else -1
        solver = self._solver_for(piece)
        if solver is None:
            return euclid
        geo = np.full(a.num_atoms, np.inf)
        try:
            if self.is_mesh and self._local[piece][1] is None:  # large piece: its sampled points
                idx = self._local[piece][0]
                src = int(np.argmin(np.linalg.norm(self.points[idx] - xyz[None], axis=1)))
                dv = np.asarray(solver.compute_distance(src), dtype=np.float64)
                np.minimum.at(geo, self.atoms.point_atom[idx], dv)
            elif self.is_mesh:
                used, local, sel = self._local[piece]
                src = int(np.argmin(np.linalg.norm(self._welded[used] - xyz[None], axis=1)))
                dv = np.asarray(solver.compute_distance(src), dtype=np.float64)
                np.minimum.at(geo, self._face_atom_ok[sel], dv[local].min(axis=1))
            else:
                dv = np.asarray(solver.compute_distance(int(index)), dtype=np.float64)
                np.minimum.at(geo, a.point_atom, dv)
        except Exception:
            return euclid
        same = a.piece == a.piece[a.point_atom[int(index)]]
        good = same & np.isfinite(geo)
        return np.where(good, np.maximum(geo, euclid), euclid)


def reach(nearest: np.ndarray, farthest: np.ndarray) -> np.ndarray:
    """(A,) how far each atom reaches from a click: the mean of the distance to its nearest point and
    the straight-line distance to its farthest (never less than the nearest)."""
    return 0.5 * (nearest + np.maximum(farthest, nearest))
