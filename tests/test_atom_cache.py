"""Mesh atoms on disk: computed once across sessions, validated on read, failed writes are warnings."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from s2am3d_core.cache import FeatureCache
from s2am3d_core.config import get_config
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor
from s2am3d_core.segment import ShapeSegmenter
from s2am3d_core.segment import segmenter as segmenter_mod
from s2am3d_core.segment.atom_cache import AtomCache
from test_segment_atoms import box, merge


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return S2AM3D(get_config("test-tiny"))


def two_boxes():
    v, f, _ = merge(box([0, 0, 0], [1, 1, 1]), box([3, 0, 0], [4, 1, 1]))
    return v, f


def opened(model, folder, v, f) -> ShapeSegmenter:
    seg = ShapeSegmenter(PartPredictor(model, cache=FeatureCache(folder)))
    seg.set_shape(v, f, num_points=1000)
    return seg


def same_atoms(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k))
               for k in ("point_atom", "area", "piece", "centroid", "face_atom", "vertex_atom", "piece_copy",
                         "body", "body_closed")) \
        and (a.neighbors != b.neighbors).nnz == 0


def test_atoms_are_read_back_instead_of_recomputed(model, tmp_path, monkeypatch):
    v, f = two_boxes()
    first = opened(model, tmp_path, v, f)
    files = list((tmp_path / "atoms").glob("*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(segmenter_mod, "mesh_atoms", lambda *a, **k: pytest.fail("atoms recomputed"))
    again = opened(model, tmp_path, v, f)  # a new session: nothing in memory
    assert same_atoms(first.atoms, again.atoms)
    assert again.predict([0], scale=0.5).faces.tolist() == first.predict([0], scale=0.5).faces.tolist()


def test_a_bad_entry_is_deleted_and_recomputed(model, tmp_path, capsys):
    v, f = two_boxes()
    good = opened(model, tmp_path, v, f).atoms
    path = next((tmp_path / "atoms").glob("*.npz"))
    path.write_bytes(path.read_bytes()[:100])                      # truncated
    assert same_atoms(opened(model, tmp_path, v, f).atoms, good)
    assert "atoms cache" in capsys.readouterr().err and path.exists()  # rewritten
    cache = AtomCache(tmp_path / "atoms")
    key = path.stem
    assert cache.get(key, 1000, len(f) + 1, len(v)) is None          # does not fit this mesh: a miss
    assert "face_atom: shape" in capsys.readouterr().err and not path.exists()


def test_an_unwritable_cache_is_a_warning(model, tmp_path, capsys):
    (tmp_path / "atoms").write_text("a file where the folder should be")
    v, f = two_boxes()
    seg = opened(model, tmp_path, v, f)
    assert seg.atoms.num_pieces == 2
    assert "warning: atoms cache: could not write" in capsys.readouterr().err


def test_no_feature_cache_means_no_atom_cache(model):
    seg = ShapeSegmenter(PartPredictor(model, cache=False))
    assert seg.atom_cache is None


def test_an_entry_whose_bodies_do_not_fit_is_a_miss(model, tmp_path, capsys):
    v, f = two_boxes()
    opened(model, tmp_path, v, f)
    path = next((tmp_path / "atoms").glob("*.npz"))
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["body_closed"] = arrays["body_closed"][:1]  # a body without its closed flag
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    assert AtomCache(tmp_path / "atoms").get(path.stem, 1000, len(f), len(v)) is None
    assert "indices out of range" in capsys.readouterr().err and not path.exists()
