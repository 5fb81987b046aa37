"""On-disk cache of mesh atoms: a mesh's atoms are computed once across sessions, like its features.

Entries are ``<shape key>.npz`` files in the ``atoms/`` folder inside the feature cache folder
(:func:`~s2am3d_core.cache.default_cache_dir`), bounded like the feature cache. The shape key hashes the vertices,
faces, sampled points and atom settings (:meth:`ShapeSegmenter` computes it). As every cache here,
it is only a shortcut: an entry is checked when read (format, sizes that match the shape, indices in
range) and a bad one is deleted and recomputed; a failed write is a warning.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..cache import BoundedFolder, FeatureCache, check_arrays
from ..io.atomic import atomic_path
from .atoms import Atoms

ATOMS_FORMAT = "s2am3d-atoms/5"  # part of every shape key: change it when mesh_atoms changes


class AtomCache(BoundedFolder):
    """get/put of :class:`~.atoms.Atoms` by shape key, in a folder bounded in size (least recently
    used entries go first)."""

    suffix = ".npz"

    @classmethod
    def beside(cls, features: FeatureCache) -> "AtomCache":
        """The atom cache of a feature cache: its ``atoms/`` folder, with the same size bound."""
        return cls(features.directory / "atoms", features.max_bytes)

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.npz"

    def get(self, key: str, num_points: int, num_faces: int, num_vertices: int) -> Atoms | None:
        """The cached atoms of the mesh, or None on a miss (a bad entry is deleted with a warning)."""
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            atoms, problem = _atoms_from(arrays, key, num_points, num_faces, num_vertices)
        except Exception as exc:  # noqa: BLE001 - any unreadable entry is a miss, never a failure
            atoms, problem = None, f"unreadable ({type(exc).__name__}: {exc})"
        if problem is not None:
            self.drop(path, problem, "atoms")
            return None
        self.touch(path)
        return atoms

    def put(self, key: str, atoms: Atoms) -> Path | None:
        """Store a mesh's atoms (``face_atom``, ``vertex_atom``, ``piece_copy``, ``body`` and ``body_closed`` set) atomically, then evict old entries beyond the size bound; None when the write
        failed (a warning, never an error)."""
        nb = atoms.neighbors.tocsr()
        arrays = {
            "format": np.array(ATOMS_FORMAT), "key": np.array(key),
            "point_atom": atoms.point_atom.astype(np.int32), "area": atoms.area, "piece": atoms.piece.astype(np.int32),
            "centroid": atoms.centroid, "nb_indptr": nb.indptr.astype(np.int64), "nb_indices": nb.indices.astype(np.int32),
            "face_atom": atoms.face_atom.astype(np.int32), "vertex_atom": atoms.vertex_atom.astype(np.int32),
            "piece_copy": atoms.piece_copy.astype(np.int32), "body": atoms.body.astype(np.int32),
            "body_closed": atoms.body_closed,
        }
        path = self.path_for(key)
        try:
            with atomic_path(path, fsync=False) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, **arrays)
        except Exception as exc:  # noqa: BLE001 - a cache write never stops the run
            self.write_failed(path, exc, "atoms")
            return None
        self.evict(keep=path)
        return path


def _atoms_from(z: dict[str, np.ndarray], key: str, num_points: int, num_faces: int,
                num_vertices: int) -> tuple[Atoms | None, str | None]:
    """(atoms, None) from an entry's arrays, or (None, why the entry does not fit this shape)."""
    if str(z.get("format", "")) != ATOMS_FORMAT:
        return None, f"format {str(z.get('format', ''))!r} is not {ATOMS_FORMAT!r}"
    if str(z.get("key", "")) != key:
        return None, "the entry belongs to another shape"
    na = len(z.get("area", ()))
    spec = {"format": ((), "U"), "key": ((), "U"), "point_atom": ((num_points,), "i"), "area": ((na,), "f"),
            "piece": ((na,), "i"), "centroid": ((na, 3), "f"), "nb_indptr": ((na + 1,), "i"),
            "nb_indices": ((None,), "i"), "face_atom": ((num_faces,), "i"),
            "vertex_atom": ((num_vertices,), "i"), "piece_copy": ((None,), "i"), "body": ((na,), "i"),
            "body_closed": ((None,), "b")}
    problem = check_arrays(z, spec)
    if problem is not None:
        return None, problem
    if na == 0 or num_points == 0 or num_faces == 0 or num_vertices == 0:
        return None, "holds no atoms"
    npieces = int(z["piece"].max()) + 1
    ok = (0 <= z["point_atom"].min() and z["point_atom"].max() < na and z["piece"].min() >= 0
          and (len(z["nb_indices"]) == 0 or (z["nb_indices"].min() >= 0 and z["nb_indices"].max() < na))
          and z["nb_indptr"][0] == 0 and z["nb_indptr"][-1] == len(z["nb_indices"])
          and bool(np.all(np.diff(z["nb_indptr"]) >= 0))
          and 0 <= z["face_atom"].min() and z["face_atom"].max() < na
          and z["vertex_atom"].min() >= -1 and z["vertex_atom"].max() < na
          and len(z["piece_copy"]) == npieces and z["piece_copy"].min() >= 0
          and z["body"].min() >= 0 and z["body"].max() < len(z["body_closed"]))
    if not ok:
        return None, "indices out of range"
    nb = sp.csr_matrix((np.ones(len(z["nb_indices"]), dtype=bool), z["nb_indices"], z["nb_indptr"]), shape=(na, na))
    ints = {k: z[k].astype(np.int64) for k in ("point_atom", "piece", "face_atom", "vertex_atom", "piece_copy", "body")}
    return Atoms(area=z["area"].astype(np.float64), centroid=z["centroid"].astype(np.float64), neighbors=nb,
                 body_closed=z["body_closed"].astype(bool), **ints), None
