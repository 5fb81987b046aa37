"""Metrics on hand-made label arrays: IoU, Hungarian mIoU, the interactive single-click protocol."""
import itertools

import numpy as np
import pytest

from s2am3d_core.errors import InputError
from s2am3d_core.data.prompts import click_point, interactive_prompts
from s2am3d_core.eval.metrics import interactive_protocol, iou, iou_matrix, miou_hungarian


def test_iou_exact():
    a = np.array([1, 1, 0, 0, 1], bool)
    b = np.array([1, 0, 1, 0, 1], bool)
    assert iou(a, b) == pytest.approx(2 / 4)
    assert iou(a, a) == 1.0
    assert iou(np.zeros(3, bool), np.zeros(3, bool)) == 1.0
    assert iou(np.ones(3, bool), np.zeros(3, bool)) == 0.0
    with pytest.raises(InputError, match="different shapes"):
        iou(a, b[:3])


def test_miou_hand_made():
    pred = np.array([0, 0, 1, 1, 2, 2])
    gt = np.array([0, 0, 0, 1, 1, -1])  # last point ignored
    # IoU: g0-p0 2/3, g0-p1 1/4, g1-p1 1/3, g1-p2 1/2 -> best matching g0-p0 + g1-p2
    value, matching = miou_hungarian(pred, gt, return_matching=True)
    assert value == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert matching == {0: (0, pytest.approx(2 / 3)), 1: (2, pytest.approx(1 / 2))}


def test_miou_perfect_permuted_and_unmatched():
    gt = np.array([0, 0, 1, 1, 2, 2])
    assert miou_hungarian(np.array([5, 5, 3, 3, 9, 9]), gt) == 1.0
    # a single predicted part: matched to one gt part (IoU 1/2), the other gt part counts 0
    assert miou_hungarian(np.zeros(4, int), np.array([0, 0, 1, 1])) == pytest.approx(0.25)
    # unassigned predictions (-1) are never matched
    assert miou_hungarian(np.array([-1, -1, 0, 0]), np.array([0, 0, 1, 1])) == pytest.approx(0.5)
    # nothing labelled
    assert miou_hungarian(np.array([0, 1]), np.array([-1, -1])) == 1.0
    with pytest.raises(InputError, match="different lengths"):
        miou_hungarian(np.zeros(3, int), np.zeros(4, int))


def test_hungarian_beats_greedy_and_matches_brute_force():
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = 40
        gt = rng.integers(-1, 4, n)
        pred = rng.integers(0, rng.integers(1, 6), n)
        ious, gt_ids, pred_ids = iou_matrix(pred, gt)
        g, p = ious.shape
        best = 0.0
        if p:
            for cols in itertools.permutations(range(max(p, g)), g):
                best = max(best, sum(ious[r, c] for r, c in enumerate(cols) if c < p))
        assert miou_hungarian(pred, gt) == pytest.approx(best / g), trial


def test_click_point_center_and_random():
    pts = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [10, 0, 0]], np.float32)
    mask = np.array([1, 1, 1, 0], bool)
    assert click_point(pts, mask, "center") == 1
    r = click_point(pts, mask, "random", np.random.default_rng(3))
    assert mask[r]
    with pytest.raises(InputError):
        click_point(pts, mask, "middle")
    with pytest.raises(InputError, match="empty"):
        click_point(pts, np.zeros(4, bool))


def test_interactive_protocol_exact():
    pts = np.array([[0, 0, 0], [0.1, 0, 0], [0.2, 0, 0], [5, 0, 0], [5.1, 0, 0], [5.2, 0, 0], [9, 0, 0]], np.float32)
    labels = np.array([[0, 0, 0, 1, 1, 1, -1],     # fine: 2 parts (last point unlabelled)
                       [0, 0, 0, 0, 0, 0, 0]])     # coarse: 1 part
    prompts = interactive_prompts(pts, labels)
    assert [(p["level"], p["part"], p["click"]) for p in prompts] == [(0, 0, 1), (0, 1, 4), (1, 0, 3)]
    assert [p["scale"] for p in prompts] == pytest.approx([3 / 7, 3 / 7, 1.0])

    def oracle(idx, scales, levels):
        return np.stack([labels[lv] == labels[lv][i] for i, lv in zip(idx, levels)])

    def everything(idx, scales, levels):
        return np.ones((len(idx), len(pts)), bool)

    res = interactive_protocol(pts, labels, {"oracle": oracle, "all": everything})
    assert res["oracle"]["overall"] == 1.0
    assert res["all"]["ious"] == pytest.approx([3 / 7, 3 / 7, 1.0])
    assert res["all"]["overall"] == pytest.approx((6 / 7 + 1) / 3)
    assert res["all"]["per_level"][0] == {"level": 0, "iou": pytest.approx(3 / 7), "num_parts": 2}
    assert res["all"]["per_level"][1] == {"level": 1, "iou": 1.0, "num_parts": 1}
    assert interactive_prompts(pts, labels, min_points=4) == [p for p in prompts if p["level"] == 1]
