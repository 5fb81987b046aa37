"""Automatic segmentation: NMS/assignment logic on a stub predictor with designed masks, and plumbing
on a random test-tiny model."""
import json

import numpy as np
import pytest
import torch

from s2am3d_core.config import get_config
from s2am3d_core.data import procedural, sampling
from s2am3d_core.errors import PromptError
from s2am3d_core.segment.autoseg import (farthest_point_sampling, fill_nearest, greedy_assign, labels_from_probs,
                                      mask_nms, part_tree, relabel_by_size, score_masks, segment_all)
from s2am3d_core.eval.metrics import miou_hungarian
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor


CENTERS = np.array([[0, 0, 0], [1, 0, 0], [10, 0, 0], [11, 0, 0]], np.float32)  # two pairs of blobs


def blobs(per=40, seed=0):
    rng = np.random.default_rng(seed)
    pts = np.concatenate([c + rng.normal(scale=0.1, size=(per, 3)) for c in CENTERS]).astype(np.float32)
    return pts, np.repeat(np.arange(4), per)


class StubPredictor:
    """Designed masks: at a scale < 0.3 (or no scale) the blob of the click, else the pair of blobs."""

    def __init__(self, points, blob):
        self.points, self.blob, self.is_shape_set = points, blob, True
        self.calls = []

    def predict_many(self, indices, scale=None):
        self.calls.append((list(indices), scale))
        out = []
        for i in indices:
            b = self.blob[i]
            mask = (self.blob == b) if scale is None or scale < 0.3 else (self.blob // 2 == b // 2)
            out.append(np.where(mask, 0.9, 0.05))
        return np.array(out, np.float32)


def test_granularity_follows_scale_with_designed_masks():
    pts, blob = blobs()
    stub = StubPredictor(pts, blob)
    fine = segment_all(stub, 0.1, num_prompts=8)
    coarse = segment_all(stub, 0.5, num_prompts=8)
    assert fine.shape == coarse.shape == (len(pts),)
    assert sorted(np.unique(fine)) == [0, 1, 2, 3]
    assert sorted(np.unique(coarse)) == [0, 1]
    assert miou_hungarian(fine, blob) == 1.0
    assert miou_hungarian(coarse, blob // 2) == 1.0
    assert all(s == 0.1 for _, s in stub.calls[:1])


def test_fps_spreads_prompts_and_is_seeded():
    pts, blob = blobs()
    idx = farthest_point_sampling(pts, 4, seed=0)
    assert sorted(blob[idx]) == [0, 1, 2, 3]
    assert np.array_equal(idx, farthest_point_sampling(pts, 4, seed=0))
    assert len(farthest_point_sampling(pts, 10_000)) == len(pts)


def test_score_nms_assign_fill_relabel():
    probs = np.array([[0.9, 0.9, 0.9, 0.1, 0.1, 0.1],
                      [0.95, 0.95, 0.6, 0.1, 0.1, 0.1],   # overlaps mask 0 with IoU 2/3 (drops), less stable
                      [0.1, 0.1, 0.1, 0.85, 0.85, 0.1],
                      [0.1, 0.1, 0.1, 0.1, 0.1, 0.2]])    # empty
    masks, scores = score_masks(probs)
    assert scores[3] == 0.0 and scores[0] == pytest.approx(0.9)
    assert scores[1] == pytest.approx((0.95 + 0.95 + 0.6) / 3 * (2 / 3))
    keep = mask_nms(masks, scores, 0.5)
    assert list(keep) == [0, 2]
    labels = np.full(6, -1)
    nxt = greedy_assign(labels, masks, keep, min_points=1, next_label=0)
    assert nxt == 2 and list(labels) == [0, 0, 0, 1, 1, -1]
    # claims below min_points are skipped
    labels2 = np.full(6, -1)
    greedy_assign(labels2, masks, keep, min_points=3, next_label=0)
    assert list(labels2) == [0, 0, 0, -1, -1, -1]
    pts = np.arange(6, dtype=np.float32)[:, None] * [1, 0, 0]
    assert list(fill_nearest(pts, labels)) == [0, 0, 0, 1, 1, 1]
    assert list(fill_nearest(pts, np.full(6, -1))) == [0] * 6
    assert list(relabel_by_size(np.array([7, 3, 3, 3, 7, 9]))) == [1, 0, 0, 0, 1, 2]


def test_tiny_leftovers_are_merged():
    pts = np.arange(10, dtype=np.float32)[:, None] * [1, 0, 0]
    big = np.r_[np.full(8, 0.9), 0.1, 0.1]
    tiny = np.r_[np.full(8, 0.1), 0.9, 0.1]  # a 1-point part
    lab = labels_from_probs(pts, np.stack([big, tiny]), min_points=2)
    assert list(lab) == [0] * 10


@pytest.fixture(scope="module")
def tiny_predictor():
    torch.manual_seed(0)
    p = PartPredictor(S2AM3D(get_config("test-tiny")).eval(), cache=False)
    p.set_shape(np.random.default_rng(0).random((600, 3)).astype(np.float32) * [2, 1, 0.5])
    return p


def test_segment_all_real_model_full_consecutive_labelling(tiny_predictor):
    for scale in (0.02, 0.5, None):
        lab = segment_all(tiny_predictor, scale, num_prompts=16)
        assert lab.shape == (600,) and lab.dtype == np.int64
        assert lab.min() == 0 and set(np.unique(lab)) == set(range(lab.max() + 1))
        counts = np.bincount(lab)
        assert (np.diff(counts) <= 0).all(), "labels are ordered by size"
    assert np.array_equal(segment_all(tiny_predictor, 0.1, num_prompts=16),
                          segment_all(tiny_predictor, 0.1, num_prompts=16))


def test_segment_all_errors(tiny_predictor):
    with pytest.raises(PromptError, match="outside"):
        segment_all(tiny_predictor, 1.5)
    with pytest.raises(PromptError, match="set_shape"):
        segment_all(PartPredictor(tiny_predictor.model, cache=False), 0.1)


def test_part_tree_nested_and_json(tiny_predictor):
    seen = []
    tree = part_tree(tiny_predictor, scales=(0.5, 0.05), num_prompts=12, include_labels=True,
                     progress=lambda f, m: seen.append(f))
    json.dumps(tree)
    assert tree["scales"] == [0.05, 0.5] and tree["num_points"] == 600
    assert seen and seen[-1] == pytest.approx(1.0)
    fine, coarse = (np.array(x) for x in tree["labels"])
    top = tree["root"]["children"]
    assert sum(c["num_points"] for c in top) == 600
    assert len(top) == tree["levels"][1]["num_parts"]
    kids = [k for c in top for k in c["children"]]
    assert len(kids) == tree["levels"][0]["num_parts"]
    assert sum(k["num_points"] for k in kids) == 600
    for c in top:
        for k in c["children"]:
            overlap = np.mean(coarse[fine == k["label"]] == c["label"])
            assert k["overlap"] == pytest.approx(overlap)
            assert np.bincount(coarse[fine == k["label"]]).argmax() == c["label"]


def test_granularity_on_stub_tree():
    pts, blob = blobs()
    tree = part_tree(StubPredictor(pts, blob), scales=(0.1, 0.5), num_prompts=8)
    assert [lv["num_parts"] for lv in tree["levels"]] == [4, 2]
    assert [len(c["children"]) for c in tree["root"]["children"]] == [2, 2]


def test_granularity_with_shipped_weights():
    """With the shipped weights (models/s2am3d-base.safetensors): finer scale, more parts."""
    p = PartPredictor.from_pretrained(cache=False)
    p.set_shape(sampling.mesh_to_points(procedural.generate("chair", 2_000_008), 1024).points)
    fine = segment_all(p, 0.02, num_prompts=32)
    coarse = segment_all(p, 0.6, num_prompts=32)
    assert fine.max() + 1 > coarse.max() + 1
