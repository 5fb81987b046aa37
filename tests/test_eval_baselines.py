"""Baselines recover obvious clusters (two far-apart blobs)."""
import numpy as np
import pytest

from s2am3d_core.errors import InputError
from s2am3d_core.eval.baselines import (BaselineSuite, agglomerative_labels, ball_mask, connected_pieces,
                                        geometric_labels, kmeans_labels)
from s2am3d_core.eval.metrics import interactive_protocol, miou_hungarian


@pytest.fixture()
def two_blobs():
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(size=(60, 3)) * 0.1, rng.normal(size=(40, 3)) * 0.1 + [3, 0, 0]])
    return pts.astype(np.float32), np.repeat([0, 1], [60, 40])


def test_feature_clusterings_recover_blobs(two_blobs):
    pts, gt = two_blobs
    feats = np.concatenate([pts, np.ones((len(pts), 1))], axis=1)  # offset so normalised features differ
    assert miou_hungarian(kmeans_labels(feats, 2), gt) == 1.0
    assert miou_hungarian(agglomerative_labels(feats, 2, pts), gt) == 1.0
    assert miou_hungarian(agglomerative_labels(feats, 2, pts, max_points=30), gt) == 1.0
    assert (kmeans_labels(feats, 1) == 0).all()
    with pytest.raises(InputError, match=">= 1"):
        kmeans_labels(feats, 0)


def test_geometric_recovers_merges_and_splits(two_blobs):
    pts, gt = two_blobs
    assert len(np.unique(connected_pieces(pts))) >= 2
    assert miou_hungarian(geometric_labels(pts, 2), gt) == 1.0
    assert (geometric_labels(pts, 1) == 0).all()
    three = geometric_labels(pts, 3)
    assert len(np.unique(three)) == 3
    # the split happens inside the larger blob
    assert len(np.unique(three[gt == 0])) == 2 and len(np.unique(three[gt == 1])) == 1


def test_ball_mask_size(two_blobs):
    pts, _ = two_blobs
    m = ball_mask(pts, 0, 0.25)
    assert m.sum() == 25 and m[0]
    assert ball_mask(pts, 0, 0.0).sum() == 1


def test_suite_interactive_fns(two_blobs):
    pts, gt = two_blobs
    suite = BaselineSuite(pts, np.concatenate([pts, np.ones((100, 1))], 1))
    fns = suite.interactive_fns(gt[None])
    assert set(fns) == {"kmeans", "agglo", "geometric_scale", "geometric_noscale"}
    res = interactive_protocol(pts, gt[None], fns)
    for name in ("kmeans", "agglo", "geometric_scale", "geometric_noscale"):
        assert res[name]["overall"] == pytest.approx(1.0), name
    with pytest.raises(InputError, match="unknown baseline"):
        BaselineSuite(pts, None, names=("magic",))
    with pytest.raises(InputError, match="features"):
        BaselineSuite(pts, None, names=("kmeans",))
