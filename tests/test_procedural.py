"""Procedural objects: every category builds, hierarchies are nested, deterministic and fast."""
import time

import numpy as np
import pytest
import trimesh

from s2am3d_core.data import procedural
from s2am3d_core.data.procedural import geom
from s2am3d_core.data.procedural.builder import PartBuilder, derive_levels

SEEDS = (0, 1, 7)
# categories whose finest level holds screws / bolts / knobs / rivets / buttons
WITH_SMALL_PARTS = ["car", "truck", "cabinet", "bench", "office_chair", "robot_arm", "drone", "bicycle", "desk",
                    "tower_crane", "step_ladder", "alarm_clock", "guitar", "excavator"]


def is_nested(labels: np.ndarray) -> bool:
    """Every level-l part lies inside exactly one level-(l+1) part."""
    for fine, coarse in zip(labels[:-1], labels[1:]):
        pairs = np.unique(np.stack([fine, coarse]), axis=1)
        if pairs.shape[1] != len(np.unique(fine)):
            return False
    return True


def part_area_fractions(m) -> np.ndarray:
    area = trimesh.Trimesh(m.vertices, m.faces, process=False).area_faces
    return np.bincount(m.face_labels[0], weights=area) / area.sum()


@pytest.fixture(scope="module")
def objects():
    return {(c, s): procedural.generate(c, s) for c in procedural.CATEGORIES for s in SEEDS}


def test_at_least_twenty_categories():
    assert len(procedural.CATEGORIES) >= 20
    assert len(set(procedural.CATEGORIES)) == len(procedural.CATEGORIES)


@pytest.mark.parametrize("category", procedural.CATEGORIES)
def test_category_hierarchy(category, objects):
    for seed in SEEDS:
        m = objects[(category, seed)]
        assert m.name == f"{category}_{seed:06d}" and m.category == category
        assert m.num_levels >= 3, (category, seed)
        assert m.face_labels.dtype == np.int64 and m.faces.dtype == np.int64 and m.vertices.dtype == np.float32
        assert m.face_labels.shape == (m.num_levels, len(m.faces))
        assert is_nested(m.face_labels), (category, seed)
        counts = []
        for lvl, names in zip(m.face_labels, m.part_names):
            ids = np.unique(lvl)
            assert ids[0] == 0 and ids[-1] == len(ids) - 1  # consecutive ids, none unlabelled
            assert len(ids) >= 2  # no whole-object level
            assert sorted(names) == list(range(len(ids))) and all(isinstance(n, str) and n for n in names.values())
            counts.append(len(ids))
        assert all(a > b for a, b in zip(counts, counts[1:]))  # each level strictly coarser
        assert len(m.part_names) == m.num_levels
        assert np.isfinite(m.vertices).all()
        assert 500 <= len(m.faces) <= 20000, (category, seed, len(m.faces))
        assert m.faces.min() >= 0 and m.faces.max() < len(m.vertices)


def test_part_names_follow_the_paths(objects):
    m = objects[("car", 0)]
    fine, coarse = m.face_labels[0], m.face_labels[1]
    for part in np.unique(fine):
        parent = coarse[fine == part][0]
        assert m.part_names[0][int(part)].startswith(m.part_names[1][int(parent)])
    assert any("bolt" in n for n in m.part_names[0].values())
    assert set(m.part_names[-1].values()) == {"body", "cabin", "doors", "chassis"}


def test_upright_and_posed(objects):
    for (c, _), m in objects.items():
        ext = m.vertices.max(0) - m.vertices.min(0)
        assert ext.min() > 0, c
    # random pose: the same category at different seeds is turned and scaled differently
    a, b = objects[("table", 0)], objects[("table", 1)]
    assert not np.allclose(a.vertices.max(0) - a.vertices.min(0), b.vertices.max(0) - b.vertices.min(0))


def test_deterministic_and_varied():
    for c in ("car", "chair", "drone"):
        a, b, d = procedural.generate(c, 3), procedural.generate(c, 3), procedural.generate(c, 4)
        assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)
        assert np.array_equal(a.face_labels, b.face_labels) and a.part_names == b.part_names
        assert a.vertices.shape != d.vertices.shape or not np.allclose(a.vertices, d.vertices)


@pytest.mark.parametrize("category", WITH_SMALL_PARTS)
def test_small_parts_exist(category, objects):
    for seed in SEEDS:
        assert part_area_fractions(objects[(category, seed)]).min() < 0.02, (category, seed)


def test_deep_hierarchies_exist(objects):
    depth = {c: max(objects[(c, s)].num_levels for s in SEEDS) for c in procedural.CATEGORIES}
    assert max(depth.values()) >= 5
    assert sum(d >= 4 for d in depth.values()) >= len(depth) // 2


def test_generate_many():
    items = list(procedural.generate_many(len(procedural.CATEGORIES) + 5, seed=5))
    assert {m.category for m in items} == set(procedural.CATEGORIES)
    assert len({m.name for m in items}) == len(items)
    assert items[0].name == f"{procedural.CATEGORIES[0]}_{5:06d}"
    again = list(procedural.generate_many(3, seed=5))
    assert [m.name for m in again] == [m.name for m in items[:3]]
    assert np.array_equal(again[2].vertices, items[2].vertices)
    sub = list(procedural.generate_many(4, seed=0, categories=["mug", "car"]))
    assert [m.category for m in sub] == ["mug", "car", "mug", "car"]


def test_unknown_category_lists_valid_names():
    with pytest.raises(ValueError, match="unknown category 'spaceship'.*car"):
        procedural.generate("spaceship", 0)
    with pytest.raises(ValueError, match="unknown category"):
        list(procedural.generate_many(2, categories=["car", "spaceship"]))


def test_generation_is_fast():
    t = time.perf_counter()
    items = list(procedural.generate_many(20, seed=0))
    assert len(items) == 20
    assert time.perf_counter() - t < 5.0


# ----------------------------------------------------------------------------- building blocks

def test_derive_levels_pads_short_paths_and_drops_duplicates():
    paths = [("chassis", "wheel_0", "tyre"), ("chassis", "wheel_0", "bolt_0"), ("chassis", "wheel_1", "tyre"),
             ("body", "shell"), ("body", "shell"), ("antenna",)]
    labels, names = derive_levels(paths)
    assert labels.tolist() == [[0, 1, 2, 3, 3, 4], [0, 0, 1, 2, 2, 3], [0, 0, 0, 1, 1, 2]]
    assert names[0][1] == "chassis/wheel_0/bolt_0" and names[0][3] == "body/shell" and names[0][4] == "antenna"
    assert names[1] == {0: "chassis/wheel_0", 1: "chassis/wheel_1", 2: "body/shell", 3: "antenna"}
    assert names[2] == {0: "chassis", 1: "body", 2: "antenna"}
    # a level equal to the next finer one is not repeated; a single-group level is not stored
    labels, _ = derive_levels([("a", "x", "x1"), ("a", "y", "y1"), ("b", "z", "z1")])
    assert labels.tolist() == [[0, 1, 2], [0, 0, 1]]


def test_builder_groups_transform_and_nest():
    b = PartBuilder(np.random.default_rng(0))
    with b.group("left", T=geom.tf(at=(10, 0, 0))):
        b.add(geom.box((1, 1, 1)), "a", "x")
        with b.group("b", T=geom.tf(at=(0, 5, 0))):
            b.add(geom.box((1, 1, 1)), "y")
            b.add(geom.box((1, 1, 1), at=(0, 0, 2)), "z")
    b.add(geom.sphere(0.5), "right", "ball")
    assert [p for _, _, p in b.items] == [("left", "a", "x"), ("left", "b", "y"), ("left", "b", "z"), ("right", "ball")]
    assert np.allclose(b.items[1][0].mean(0), (10, 5, 0)) and np.allclose(b.items[2][0].mean(0), (10, 5, 2))
    m = b.build("t", "test", target_faces=100)
    assert m.num_levels == 3 and is_nested(m.face_labels)
    with pytest.raises(ValueError):
        PartBuilder(np.random.default_rng(0)).build("empty", "test")


@pytest.mark.parametrize("mesh", [
    geom.box((1, 2, 3)), geom.cylinder(0.5, 2, "x"), geom.frustum(1, 0.5, 2, "-y"), geom.frustum(1, 0, 1),
    geom.sphere(1, scale=(1, 2, 0.5)), geom.capsule(0.3, 1, (1, 1, 0)), geom.torus(1, 0.2, "y", squash=2),
    geom.tube(0.5, 0.7, 0.3), geom.segment((0, 0, 0), (1, 2, 3), 0.1, r_end=0.05),
    geom.beam((0, 0, 0), (0, 0, 2), 0.1, 0.2),
    geom.wing(2, 1, 5, 0.2, 1), geom.prism([(0, 0), (1, 0), (1.2, 1), (0, 1.5)], 0.3),
    geom.subdivide(geom.cylinder(1, 1)), geom.lathe([(0, 0), (1, 0), (1, 1), (0.8, 1), (0.8, 0.1), (0, 0.1)], 12),
])
def test_primitives_are_closed_with_outward_normals(mesh):
    t = trimesh.Trimesh(*mesh, process=True)
    assert t.is_watertight and t.is_winding_consistent
    assert t.volume > 0


def test_preview_renders(tmp_path):
    from s2am3d_core.data.procedural import preview
    img = preview.render(procedural.generate("chair", 0), level=1, size=64, points=2000)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8 and (img < 255).any()
    out = tmp_path / "sheet.png"
    assert preview.main([str(out), "--categories", "mug", "--seeds", "1", "--size", "48"]) == 0
    assert out.stat().st_size > 0
