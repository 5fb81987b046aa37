"""Hierarchy helpers, area sampling and the DBSCAN split."""
import numpy as np
import pytest

from s2am3d_core.data import procedural
from s2am3d_core.data.dbscan import split_disconnected
from s2am3d_core.data.hierarchy import (clean_levels, compact, is_nested, levels_from_paths, same_partition,
                                        select_levels)
from s2am3d_core.data.sampling import mesh_to_points, resample_points
from s2am3d_core.data.toy import toy_many, toy_object
from s2am3d_core.data.types import PartPoints
from s2am3d_core.errors import InputError


def test_levels_from_paths_nested_and_deduplicated():
    paths = [("a", "x", "1"), ("a", "x", "2"), ("a", "y"), ("b",), ("b2", "only", "leaf")]
    lab, names = levels_from_paths(paths, max_levels=None)
    assert is_nested(lab)
    # cut 3: all 5 separate; cut 2: x merges; cut 1: a merges -> b2's chain gives no duplicate levels
    assert [len(np.unique(r)) for r in lab] == [5, 4, 3]
    assert names[2][lab[2][0]] == "a" and names[1][lab[1][0]] == "a/x"
    lab2, _ = levels_from_paths([("r", "a"), ("r", "b")])
    assert lab2.shape == (1, 2)  # the root level is trivial and dropped
    assert levels_from_paths([("r",)])[0].shape == (0, 1)
    with pytest.raises(ValueError):
        levels_from_paths([("a",), ("a",)])


def test_select_levels_keeps_ends():
    assert select_levels([100, 90, 80, 50, 20, 10, 4, 2], 4)[0] == 0
    sel = select_levels([100, 90, 80, 50, 20, 10, 4, 2], 4)
    assert sel[-1] == 7 and len(sel) == 4 and sel == sorted(sel)
    assert select_levels([5, 3], 5) == [0, 1]


def test_compact_clean_same_partition():
    lab = np.array([[5, 5, 9, -1], [7, 7, 3, -1], [1, 1, 1, -1], [0, 0, 0, 0]])
    assert compact(lab[0]).tolist() == [0, 0, 1, -1]
    assert same_partition(lab[0], lab[1]) and not same_partition(lab[0], lab[2])
    out = clean_levels(lab)
    assert out.tolist() == [[0, 0, 1, -1], [0, 0, 0, -1]]  # duplicate and all-in-one levels dropped
    assert not is_nested(np.array([[0, 0, 1], [0, 1, 1]]))
    assert is_nested(np.array([[0, 1, -1], [0, 0, 1]]))


def test_mesh_to_points():
    m = toy_object("table", 0)
    pp = mesh_to_points(m, 2000, seed=3)
    assert pp.points.shape == (2000, 3) and pp.points.dtype == np.float32
    assert pp.labels.shape == (m.num_levels, 2000) and pp.labels.dtype == np.int64
    assert np.abs(pp.points).max() == pytest.approx(1.0, abs=1e-5)
    assert pp.name == m.name and pp.category == "table"
    assert is_nested(pp.labels)
    # labels follow faces: points of the top part are the highest
    top = [k for k, v in m.part_names[0].items() if v == "top"][0]
    assert pp.points[pp.labels[0] == top, 2].min() > pp.points[pp.labels[0] != top, 2].mean()
    # area weighting: the top (largest area) gets the most points
    assert np.bincount(pp.labels[0]).argmax() == top
    again = mesh_to_points(m, 2000, seed=3)
    np.testing.assert_array_equal(again.points, pp.points)
    with pytest.raises(InputError):
        mesh_to_points(m, 0)


def test_resample_points():
    pp = PartPoints(np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32), np.zeros((1, 50), np.int64))
    assert resample_points(pp, 20).points.shape == (20, 3)
    big = resample_points(pp, 80)
    assert big.points.shape == (80, 3) and big.labels.shape == (1, 80)


def test_split_disconnected_table_legs():
    m = toy_object("table", 1)
    pp = mesh_to_points(m, 4096, seed=0)
    legs_level = pp.labels[1]  # top / legs
    new = split_disconnected(pp.points, legs_level)
    assert len(np.unique(new)) == 5  # top + four legs
    assert is_nested(np.stack([new, legs_level]))
    # finest level: every part is connected -> unchanged partition
    assert same_partition(split_disconnected(pp.points, pp.labels[0]), pp.labels[0])


def test_split_disconnected_noise_and_unlabelled():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, -0.5, size=(400, 3))
    b = rng.uniform(0.5, 1, size=(400, 3))
    stray = np.array([[0.0, 0.0, 0.0], [0.05, 0, 0]])  # two isolated points: reassigned, not parts
    pts = np.concatenate([a, b, stray, rng.uniform(-1, 1, size=(10, 3))])
    lab = np.r_[np.zeros(802, int), -np.ones(10, int)]
    new = split_disconnected(pts, lab)
    assert (new[-10:] == -1).all()
    assert len(np.unique(new[:802])) == 2 and new[0] != new[400]
    with pytest.raises(ValueError):
        split_disconnected(pts, lab[:5])


def test_procedural_levels_survive_sampling():
    for m in procedural.generate_many(5, seed=11):
        pp = mesh_to_points(m, 1024, seed=0)
        assert is_nested(pp.labels)
        assert pp.labels.shape[0] == m.num_levels


def test_toy_objects_nested():
    for m in toy_many(8):
        assert m.num_levels >= 2 and is_nested(m.face_labels)


def test_subset_indices_is_the_one_point_count_rule():
    from s2am3d_core.io.sample import subset_indices

    rng = np.random.default_rng(0)
    idx = subset_indices(100, 10, rng)
    assert len(idx) == 10 and len(set(idx.tolist())) == 10 and (np.diff(idx) > 0).all()
    assert subset_indices(5, 10, rng).tolist() == [0, 1, 2, 3, 4]       # fewer: all of them
    rep = subset_indices(5, 12, rng, repeat=True)                        # or all + random repeats
    assert len(rep) == 12 and rep[:5].tolist() == [0, 1, 2, 3, 4] and rep.max() < 5
    assert subset_indices(7, 7, rng, repeat=True).tolist() == list(range(7))
    unsorted = subset_indices(1000, 50, np.random.default_rng(1), sort=False)
    assert sorted(unsorted.tolist()) == subset_indices(1000, 50, np.random.default_rng(1)).tolist()
    with pytest.raises(InputError):
        subset_indices(5, 0, rng)


def test_check_surface_finds_area_in_any_chunk():
    from s2am3d_core.io import sample

    v = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    flat = np.zeros((sample._CHUNK + 5, 3), dtype=np.int64)  # more than one chunk of point triangles
    sample.check_surface(v, np.vstack([flat, [[0, 1, 2]]]), "late.obj")  # the only area is in the last chunk
    sample.check_surface(v, np.zeros((0, 3), dtype=np.int64), "none.obj")  # no triangles: not this check's job
    with pytest.raises(InputError, match="flat.obj: the mesh has zero surface area"):
        sample.check_surface(v, flat, "flat.obj")
