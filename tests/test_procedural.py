"""Procedural objects: every category builds, hierarchies are nested and deterministic."""
import time

import numpy as np
import pytest

from s2am3d_core.data import procedural


def nested(labels: np.ndarray) -> bool:
    for fine, coarse in zip(labels[:-1], labels[1:]):
        for part in np.unique(fine):
            if len(np.unique(coarse[fine == part])) != 1:
                return False
    return True


def test_at_least_twenty_categories():
    assert len(procedural.CATEGORIES) >= 20


@pytest.mark.parametrize("category", procedural.CATEGORIES)
def test_category_hierarchy(category):
    for seed in (0, 7):
        m = procedural.generate(category, seed)
        assert m.num_levels >= 3, category
        assert m.face_labels.shape == (m.num_levels, len(m.faces))
        assert nested(m.face_labels)
        for lvl in m.face_labels:
            ids = np.unique(lvl)
            assert ids.min() == 0 and ids.max() == len(ids) - 1  # consecutive ids
            assert len(ids) >= 2  # no whole-object level
        assert np.isfinite(m.vertices).all()
        assert 50 <= len(m.faces) <= 20000
        assert m.faces.max() < len(m.vertices)
        assert len(m.part_names) == m.num_levels


def test_deterministic_and_varied():
    a, b, c = procedural.generate("car", 3), procedural.generate("car", 3), procedural.generate("car", 4)
    assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.face_labels, b.face_labels)
    assert a.vertices.shape != c.vertices.shape or not np.allclose(a.vertices, c.vertices)


def test_small_parts_exist():
    import trimesh
    m = procedural.generate("car", 0)
    area = trimesh.Trimesh(m.vertices, m.faces, process=False).area_faces
    frac = np.array([area[m.face_labels[0] == p].sum() for p in np.unique(m.face_labels[0])]) / area.sum()
    assert frac.min() < 0.02  # bolts
    assert max(procedural.generate(c, 0).num_levels for c in procedural.CATEGORIES) >= 4


def test_generate_many_and_errors():
    items = list(procedural.generate_many(30, seed=5))
    assert len({m.category for m in items}) == len(procedural.CATEGORIES)
    assert len({m.name for m in items}) == 30
    with pytest.raises(ValueError, match="unknown category"):
        procedural.generate("spaceship", 0)


def test_generation_is_fast():
    t = time.perf_counter()
    list(procedural.generate_many(20, seed=0))
    assert time.perf_counter() - t < 10
