"""Prompt sampling: masks, scales, click placement, nesting, determinism, collation."""
import numpy as np
import pytest
import torch

from s2am3d_core.data.prompts import Prompt, collate_prompts, sample_prompt
from s2am3d_core.data.sampling import mesh_to_points
from s2am3d_core.data.toy import toy_object


@pytest.fixture(scope="module")
def cart():
    return mesh_to_points(toy_object("cart", 2), 1500, seed=0)


def test_prompt_fields(cart):
    rng = np.random.default_rng(0)
    labels = cart.labels
    L, n = labels.shape
    levels_seen = set()
    for _ in range(300):
        p = sample_prompt(labels, rng, max_pos=3, max_neg=2, whole_object_prob=0.05)
        assert isinstance(p, Prompt)
        assert p.target.shape == (n,) and p.target.dtype == bool
        assert p.click_idx.dtype == np.int64 and p.click_label.dtype == np.int64
        assert len(p.click_idx) == len(p.click_label) and len(set(p.click_idx.tolist())) == len(p.click_idx)
        pos = p.click_idx[p.click_label == 1]
        neg = p.click_idx[p.click_label == 0]
        assert p.click_label[0] == 1 and 1 <= len(pos) <= 3 and len(neg) <= 2
        assert p.target[pos].all() and not p.target[neg].any()
        assert p.scale == pytest.approx(p.target.mean())
        levels_seen.add(p.level)
        if p.level == L:
            assert p.target.all() and p.scale == 1.0 and len(neg) == 0
            continue
        # the target is one part of its level, containing the first click
        part = labels[p.level][p.click_idx[0]]
        np.testing.assert_array_equal(p.target, labels[p.level] == part)
        assert p.target.sum() >= 8
        # nesting: the target lies inside the part of the next level that holds the first click
        if p.level + 1 < L:
            parent = labels[p.level + 1] == labels[p.level + 1][p.click_idx[0]]
            assert parent[p.target].all()
    assert levels_seen == set(range(L + 1))  # every level and the whole object are sampled


def test_hard_negatives_come_from_parent(cart):
    rng = np.random.default_rng(1)
    labels = cart.labels
    hard = total = 0
    for _ in range(300):
        p = sample_prompt(labels, rng, max_neg=2, whole_object_prob=0.0, hard_negative_prob=1.0)
        if p.level + 1 >= len(labels):
            continue
        parent = labels[p.level + 1] == labels[p.level + 1][p.click_idx[0]]
        has_siblings = (parent & ~p.target).any()
        for j in p.click_idx[p.click_label == 0]:
            total += 1
            hard += bool(parent[j]) or not has_siblings
    assert total > 50 and hard == total


def test_small_parts_not_starved_and_skipped():
    # one big part (990 points), ten small parts of 1 point (skipped) and one of 10
    lab = np.r_[np.zeros(990, int), np.arange(1, 11), np.full(10, 11)][None]
    rng = np.random.default_rng(0)
    parts = [sample_prompt(lab, rng, whole_object_prob=0).target for _ in range(400)]
    small = sum(int(t[-1]) for t in parts)
    assert all(t.sum() >= 8 for t in parts)
    assert 15 < small < 100  # sqrt weighting: 10**0.5 / (990**0.5 + 10**0.5) ~ 9 % (area weighting: 1 %)


def test_determinism(cart):
    a = [sample_prompt(cart.labels, np.random.default_rng(7)) for _ in range(3)]
    b = [sample_prompt(cart.labels, np.random.default_rng(7)) for _ in range(3)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.click_idx, y.click_idx)
        np.testing.assert_array_equal(x.target, y.target)
        assert x.scale == y.scale and x.level == y.level


def test_unlabelled_points_and_no_levels():
    rng = np.random.default_rng(0)
    lab = np.r_[np.zeros(50, int), np.ones(50, int), -np.ones(100, int)][None]
    for _ in range(50):
        p = sample_prompt(lab, rng, whole_object_prob=0)
        assert p.scale == pytest.approx(0.5)  # fraction of the labelled points
        neg = p.click_idx[p.click_label == 0]
        assert (lab[0][neg] >= 0).all()
    p = sample_prompt(np.zeros((0, 30), np.int64), rng)
    assert p.level == 0 and p.target.all() and p.scale == 1.0


def test_collate(cart):
    rng = np.random.default_rng(3)
    prompts = [sample_prompt(cart.labels, rng) for _ in range(6)]
    batch = collate_prompts(prompts)
    k = max(len(p.click_idx) for p in prompts)
    assert batch["click_idx"].shape == (6, k) and batch["click_idx"].dtype == torch.long
    assert batch["target"].shape == (6, 1500) and batch["scale"].shape == (6,)
    for i, p in enumerate(prompts):
        m = len(p.click_idx)
        assert batch["click_label"][i, m:].eq(-1).all()
        assert batch["click_idx"][i, :m].tolist() == p.click_idx.tolist()
    assert collate_prompts(prompts, k=7)["click_label"].shape == (6, 7)
    with pytest.raises(ValueError):
        collate_prompts(prompts, k=0)
    with pytest.raises(ValueError):
        collate_prompts([])
