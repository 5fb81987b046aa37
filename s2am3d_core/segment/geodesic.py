"""Surface distance from a click, with potpourri3d's heat method.

Meshes use ``MeshHeatMethodDistanceSolver`` on the welded mesh (degenerate faces dropped); point
clouds use ``PointCloudHeatSolver`` on the sampled points. Distance is only meaningful inside the
connected piece of the click: elsewhere the Euclidean distance to the click is used (a gap is
crossed in a straight line), so far pieces still come after near ones. On meshes one solver is
built per connected piece, on the first click on that piece, and kept (precompute once, query
many): opening a shape costs nothing here, and a click on a bolt factorises the bolt, not the
engine. A piece of more than ``MAX_MESH_SOLVER_FACES`` faces (a 1.3 M-face scan took 207 s to
factorise and 140 s per query) uses the point-cloud solver on its sampled points instead. Point
clouds build one solver on the first click.
"""
from __future__ import annotations

import warnings

import numpy as np

from .atoms import Atoms, weld_vertices

MAX_MESH_SOLVER_FACES = 200_000  # larger pieces: point-cloud heat solver on their sampled points


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
        """Build and factorise, while the shape loads, the heat solver a first click needs most: the
        cloud's, or the largest piece's of a mesh (other pieces get theirs on the first click
        there). Its first query factorises: 0.7 s of the first click on a 20k-point cloud and 1.0 s
        on a 1.3 M-face sphere, later clicks 0.05 s."""
        a = self.atoms
        on = np.arange(len(self.points))
        if self.is_mesh:
            largest = int(np.argmax(np.bincount(a.piece, weights=a.area)))
            on = np.flatnonzero(a.piece[a.point_atom] == largest)
        if len(on):
            self.from_point(int(on[0]))

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
        a = self.atoms
        d_pts = np.linalg.norm(self.points - np.asarray(click_xyz, dtype=np.float64)[None], axis=1)
        out = np.full(a.num_atoms, np.inf)
        np.minimum.at(out, a.point_atom, d_pts)
        cen = np.linalg.norm(a.centroid - np.asarray(click_xyz, dtype=np.float64)[None], axis=1)
        return np.where(self._has_points, out, cen)

    def from_point(self, index: int) -> np.ndarray:
        """(A,) distance of every atom from sampled point ``index``: geodesic inside the clicked
        piece, Euclidean elsewhere (never smaller than the Euclidean distance)."""
        a = self.atoms
        xyz = self.points[int(index)]
        euclid = self.euclidean(xyz)
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
