"""Part validator (train/save/load/score) and the dataset-building pipeline."""
import json

import numpy as np
import pytest
import trimesh
from safetensors.numpy import save_file

from s2am3d_core.data import procedural
from s2am3d_core.data.hierarchy import is_nested
from s2am3d_core.data.pipeline import apply_validator, build_dataset, process_object
from s2am3d_core.data.sampling import mesh_to_points
from s2am3d_core.data.shards import ShardDataset, split_of
from s2am3d_core.data.toy import assemble, toy_many, toy_object
from s2am3d_core.data.types import PartPoints
from s2am3d_core.data.validator import PartValidator, make_training_examples, train_validator
from s2am3d_core.errors import CheckpointError, InputError


@pytest.fixture(scope="module")
def tiny_validator(tmp_path_factory):
    path = tmp_path_factory.mktemp("val") / "v.safetensors"
    v = train_validator(list(toy_many(6)), steps=4, out_path=path, points_per_object=256, batch_size=8,
                        progress=False)
    return v, path


def test_validator_train_save_load(tiny_validator):
    v, path = tiny_validator
    assert path.is_file() and 0.0 <= v.threshold <= 0.5
    info = v.info
    assert info["objects"] == 6 and info["positives"] > 0 and info["negatives"] > 0 and info["steps"] == 4
    w = PartValidator.load(path)
    assert w.threshold == pytest.approx(v.threshold) and w.info["examples"] == info["examples"]
    pp = mesh_to_points(toy_object("table", 9), 512, seed=0)
    masks = [pp.labels[0] == p for p in np.unique(pp.labels[0])]
    a, b = v.score_masks(pp.points, masks), w.score_masks(pp.points, masks)
    assert a.shape == (len(masks),) and a.dtype == np.float32 and ((a >= 0) & (a <= 1)).all()
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(v.score([pp.points[m] for m in masks], object_points=pp.points), a, atol=1e-6)
    assert v.score([]).shape == (0,)


def test_validator_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        PartValidator.load(tmp_path / "none.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"nonsense")
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        PartValidator.load(junk)
    other = tmp_path / "other.safetensors"
    save_file({"x": np.zeros(3, np.float32)}, str(other))
    with pytest.raises(CheckpointError, match="not a part-validator"):
        PartValidator.load(other)


def test_training_examples_negatives_are_not_parts():
    pp = mesh_to_points(toy_object("cart", 0), 1024, seed=0)
    masks, y = make_training_examples(pp, np.random.default_rng(0))
    assert y.sum() > 0 and (y == 0).sum() > 0
    true_parts = {tuple(np.flatnonzero(row == p)) for row in pp.labels for p in np.unique(row)}
    for m, t in zip(masks, y):
        assert m.dtype == bool and m.sum() >= 16
        assert (tuple(np.flatnonzero(m)) in true_parts) == bool(t)


class FixedScores(PartValidator):
    """Scores 0 for the masks equal to the part of level ``l`` holding point ``i`` for (l, i) in ``bad``."""

    def __init__(self, bad, labels_ref):
        super().__init__()
        self.threshold = 0.5
        self.bad = [labels_ref[l] == labels_ref[l][i] for l, i in bad]

    def score_masks(self, points, masks, seed=0):
        return np.array([0.0 if any(np.array_equal(m, b) for b in self.bad) else 1.0 for m in masks], np.float32)


def test_apply_validator_merge_into_sibling():
    m = toy_object("table", 1)
    pp = mesh_to_points(m, 1024, seed=0)
    names = m.part_names[0]
    leg0 = [k for k, v in names.items() if v == "legs/leg0"][0]
    top = [k for k, v in names.items() if v == "top"][0]
    i_leg0 = int(np.flatnonzero(pp.labels[0] == leg0)[0])
    i_top = int(np.flatnonzero(pp.labels[0] == top)[0])
    fake = FixedScores([(0, i_leg0)], pp.labels)
    lab, dropped = apply_validator(pp.points, pp.labels, fake, policy="merge")
    assert dropped == [1, 0]  # leg0 merged into a neighbouring leg
    assert is_nested(lab)
    assert len(np.unique(lab[0])) == 4 and lab[0][i_leg0] != lab[0][i_top]
    merged_into = lab[0][i_leg0]
    assert merged_into != leg0 and names[int(merged_into)].startswith("legs/")
    np.testing.assert_array_equal(lab[1], pp.labels[1])
    # the top is the same region at both levels: at level 0 it has no sibling (kept), at level 1 it
    # merges with the legs, which makes level 1 trivial
    fake = FixedScores([(0, i_leg0), (0, i_top)], pp.labels)
    lab, dropped = apply_validator(pp.points, pp.labels, fake, policy="merge")
    assert dropped == [1, 1] and len(np.unique(lab[1])) == 1 and len(np.unique(lab[0])) == 4
    # unlabel policy
    lab2, dropped2 = apply_validator(pp.points, pp.labels, fake, policy="unlabel")
    assert dropped2 == [2, 1] and (lab2[0][pp.labels[0] == leg0] == -1).all() and is_nested(lab2)
    # a bad part at the coarsest level merges with the rest -> the level becomes trivial and is dropped
    fake_top = FixedScores([(1, i_leg0)], pp.labels)
    out, stats = process_object(m, 1024, seed=0, validator=fake_top, split=False)
    assert stats["dropped"] == [0, 1] and out.labels.shape[0] == 1
    with pytest.raises(ValueError):
        apply_validator(pp.points, pp.labels, fake, policy="nope")


def test_process_object_adds_split_level():
    # a single-level labelling top / legs: the legs split into four parts at a new finest level
    m = toy_object("table", 2)
    m.face_labels = m.face_labels[1:]  # keep only top / legs
    out, stats = process_object(m, 2048, seed=0)
    assert stats["added_level"] and stats["split_parts"] == 3
    assert out.labels.shape == (2, 2048) and is_nested(out.labels)
    assert [len(np.unique(r)) for r in out.labels] == [5, 2]
    # an object without levels gets its connected pieces ...
    balls = assemble([(trimesh.creation.icosphere(radius=0.5).apply_translation((3 * i, 0, 0)), (f"b{i}",))
                      for i in range(3)], "balls", "")
    balls.face_labels = balls.face_labels[:0]
    out, _ = process_object(balls, 1024, seed=0)
    assert out.labels.shape == (1, 1024) and len(np.unique(out.labels[0])) == 3
    # ... unless it is in one piece (the table: legs touch the top), or the split is off
    m.face_labels = m.face_labels[:0]
    assert process_object(m, 1024, seed=0)[0] is None
    assert process_object(balls, 1024, seed=0, split=False)[0] is None


def test_build_dataset(tmp_path, tiny_validator):
    v, vpath = tiny_validator
    sources = list(toy_many(8, seed=3)) + [PartPoints(np.random.default_rng(0).normal(size=(300, 3)),
                                                      np.zeros((1, 300), np.int64), "", "")]
    summary = build_dataset(sources, tmp_path / "ds", points_per_object=512, validator=vpath,
                            eval_fraction=0.3, progress=False, threshold=0.0)
    assert summary["objects_in"] == 9
    assert summary["skipped"] == {"no_parts": 1}  # the unlabelled blob
    w = summary["objects_written"]
    assert w["train"] + w["eval"] == 8
    assert summary["dropped_parts_per_level"] and sum(summary["dropped_parts_per_level"]) == 0  # threshold 0
    assert json.loads((tmp_path / "ds" / "summary.json").read_text())["objects_in"] == 9
    seen = set()
    for split in ("train", "eval"):
        ds = ShardDataset(tmp_path / "ds", split)
        assert len(ds) == w[split]
        for i in range(len(ds)):
            it = ds[i]
            assert split_of(it.name, 0.3) == split and it.name not in seen
            seen.add(it.name)
            assert it.points.shape == (512, 3) and is_nested(it.labels) and it.labels.shape[0] >= 2
    with pytest.raises(InputError):
        build_dataset(sources, tmp_path / "x", drop_policy="drop")


def test_build_dataset_procedural(tmp_path):
    summary = build_dataset(procedural.generate_many(6, seed=1), tmp_path, points_per_object=1024,
                            progress=False, eval_fraction=0.5)
    assert sum(summary["objects_written"].values()) == 6
    assert len(summary["parts_per_level"]) >= 3
    for split in ("train", "eval"):
        ds = ShardDataset(tmp_path, split)
        for i in range(len(ds)):
            assert ds[i].labels.shape[0] >= 3 and is_nested(ds[i].labels)
