"""Surface distance from a click, with potpourri3d's heat method.

Meshes use ``MeshHeatMethodDistanceSolver`` on the welded mesh (degenerate faces dropped); point
clouds use ``PointCloudHeatSolver`` on the sampled points. Distance is only meaningful inside the
connected piece of the click: elsewhere the Euclidean distance to the click is used (a gap is
crossed in a straight line), so far pieces still come after near ones. The solver is built once
per shape, on the first query (precompute once, query many).
"""
from __future__ import annotations

import warnings

import numpy as np

from .atoms import Atoms, weld_vertices


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
        self._solver = None
        self._failed = False
        if self.is_mesh:
            weld = weld_vertices(vertices)
            nw = int(weld.max()) + 1
            self._welded = np.zeros((nw, 3))
            self._welded[weld] = np.asarray(vertices, dtype=np.float64)
            wf = weld[np.asarray(faces, dtype=np.int64)]
            ok = (wf[:, 0] != wf[:, 1]) & (wf[:, 1] != wf[:, 2]) & (wf[:, 0] != wf[:, 2])
            self._wfaces = wf[ok]
            self._face_atom_ok = atoms.face_atom[ok]
        # Euclidean fallback per atom uses its sampled points, or its centroid when it has none
        self._has_points = np.bincount(atoms.point_atom, minlength=atoms.num_atoms) > 0

    def _build(self):
        if self._solver is not None or self._failed:
            return self._solver
        import potpourri3d as pp3d

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if self.is_mesh:
                    self._solver = pp3d.MeshHeatMethodDistanceSolver(self._welded, self._wfaces)
                else:
                    self._solver = pp3d.PointCloudHeatSolver(self.points)
        except Exception:  # a mesh potpourri3d cannot handle: Euclidean distance only (documented)
            self._failed = True
            self._solver = None
        return self._solver

    def precompute(self) -> None:
        """Build the heat-method solver now (otherwise on the first query)."""
        self._build()

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
        solver = self._build()
        if solver is None:
            return euclid
        try:
            if self.is_mesh:
                src = int(np.argmin(np.linalg.norm(self._welded - xyz[None], axis=1)))
                dv = np.asarray(solver.compute_distance(src), dtype=np.float64)
                geo = np.full(a.num_atoms, np.inf)
                fd = dv[self._wfaces].min(axis=1)
                np.minimum.at(geo, self._face_atom_ok, fd)
            else:
                dv = np.asarray(solver.compute_distance(int(index)), dtype=np.float64)
                geo = np.full(a.num_atoms, np.inf)
                np.minimum.at(geo, a.point_atom, dv)
        except Exception:
            return euclid
        same = a.piece == a.piece[a.point_atom[int(index)]]
        good = same & np.isfinite(geo)
        return np.where(good, np.maximum(geo, euclid), euclid)
