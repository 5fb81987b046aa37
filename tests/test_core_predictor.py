"""Checkpoints, feature cache and the PartPredictor (encode once, decode many)."""
import numpy as np
import pytest
import torch

from s2am3d_core.cache import FeatureCache
from s2am3d_core.checkpoint import load_model, read_metadata, save_model
from s2am3d_core.config import get_config
from s2am3d_core.errors import CheckpointError, PromptError
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.predictor import PartPredictor


@pytest.fixture()
def model():
    torch.manual_seed(0)
    return S2AM3D(get_config("test-tiny")).eval()


@pytest.fixture()
def points():
    return np.random.default_rng(0).random((500, 3)).astype(np.float32) * [2, 1, 0.5]


def test_checkpoint_roundtrip(tmp_path, model):
    path = save_model(model, tmp_path / "m.safetensors", {"steps": 3})
    meta = read_metadata(path)
    assert meta["steps"] == "3" and "s2am3d_config" in meta
    loaded = load_model(path)
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert not list(tmp_path.glob("*.tmp*")), "atomic write left a temp file"


def test_checkpoint_errors(tmp_path, model):
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"this is not a safetensors file")
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        load_model(junk)
    from safetensors.torch import save_file
    other = tmp_path / "other.safetensors"
    save_file({"x": torch.zeros(2)}, str(other))
    with pytest.raises(CheckpointError, match="not an s2am3d model checkpoint"):
        load_model(other)
    # right metadata, wrong tensors
    meta = read_metadata(save_model(model, tmp_path / "ok.safetensors"))
    save_file({"x": torch.zeros(2)}, str(other), metadata=meta)
    with pytest.raises(CheckpointError, match="do not match"):
        load_model(other)


def test_predict_before_set_shape(model):
    p = PartPredictor(model, cache=False)
    with pytest.raises(PromptError, match="set_shape"):
        p.predict([0])


def test_predictor_encodes_once_and_validates(model, points, tmp_path):
    calls = []
    orig = model.encoder.planes
    model.encoder.planes = lambda x: (calls.append(1), orig(x))[1]
    p = PartPredictor(model, cache=FeatureCache(tmp_path))
    p.set_shape(points)
    assert p.last_encode_source == "encoder" and len(calls) == 1
    a = p.predict([1], [2], scale=0.1)
    b = p.predict([1], [2], scale=0.8)
    c = p.predict(1, scale=None)
    assert a.shape == (500,) and ((a >= 0) & (a <= 1)).all()
    assert not np.allclose(a, b), "the scale must change the mask"
    assert c.shape == (500,) and np.isfinite(c).all()
    assert len(calls) == 1, "predict must not re-run the encoder"
    many = p.predict_many([1, 5, 9], scale=0.1)
    assert many.shape == (3, 500) and np.allclose(many[0], p.predict([1], scale=0.1), atol=1e-5)
    one_by_one = p.predict_many([1, 5, 9], scale=[0.1, None, 0.3], batch_size=1)  # the one-prompt decoder
    assert np.allclose(one_by_one, p.predict_many([1, 5, 9], scale=[0.1, None, 0.3]), atol=1e-4)
    for bad, msg in [(dict(positive=[500]), "out of range"), (dict(positive=[-1]), "out of range"),
                     (dict(positive=[]), "at least one"), (dict(positive=[0], scale=1.5), "outside"),
                     (dict(positive=[0], negative=[10**6]), "negative click index"),
                     (dict(positive=[1.5]), "not a point index")]:
        with pytest.raises(PromptError, match=msg):
            p.predict(**bad)
    # same shape again: memory cache; new predictor: disk cache
    p.set_shape(points)
    assert p.last_encode_source == "memory" and len(calls) == 1
    p2 = PartPredictor(model, cache=FeatureCache(tmp_path))
    p2.set_shape(points)
    assert p2.last_encode_source == "disk" and len(calls) == 1
    assert np.allclose(p2.predict([1], [2], scale=0.1), a, atol=2e-2)  # cache stores float16


def test_cache_keyed_by_weights(model, points, tmp_path):
    p = PartPredictor(model, cache=FeatureCache(tmp_path))
    p.set_shape(points)
    torch.manual_seed(1)
    other = S2AM3D(get_config("test-tiny"))
    q = PartPredictor(other, cache=FeatureCache(tmp_path))
    q.set_shape(points)
    assert q.last_encode_source == "encoder"
    assert len(list(tmp_path.glob("*.safetensors"))) == 2


def test_corrupt_cache_entry_is_ignored(model, points, tmp_path):
    p = PartPredictor(model, cache=FeatureCache(tmp_path))
    p.set_shape(points)
    for f in tmp_path.glob("*.safetensors"):
        f.write_bytes(b"garbage")
    q = PartPredictor(model, cache=FeatureCache(tmp_path))
    q.set_shape(points)
    assert q.last_encode_source == "encoder"


def test_features_at_matches_point_features(model, points):
    p = PartPredictor(model, cache=False)
    p.set_shape(points)
    f = p.features_at(points[:10])
    assert np.allclose(f, p.features[:10].numpy(), atol=1e-4)


def test_embed_then_decode_embedded_is_the_one_path(model, points):
    """embed() caches a shape without touching the current one; decode_embedded == predict_logits on it;
    the same embedding decodes after the predictor has moved on to another shape."""
    from s2am3d_core.predictor import ShapeEmbedding

    p = PartPredictor(model, cache=False)
    other = points[::-1] * 2 + 1
    emb = p.embed(points)
    assert isinstance(emb, ShapeEmbedding) and not p.is_shape_set and emb.source == "encoder"
    assert emb.points.shape == (500, 3) and emb.tokens.shape[:2] == (1, 500) and emb.features.shape[:2] == (1, 500)
    p.set_shape(points)
    assert p.embedding.key == emb.key and p.last_encode_source == "memory"  # the tri-plane came from embed
    ref = p.predict_logits([3, 7], [11], scale=0.2)
    np.testing.assert_array_equal(p.decode_embedded(emb, [3, 7], [11], scale=0.2), ref)
    p.set_shape(other)
    np.testing.assert_array_equal(p.decode_embedded(emb, [3, 7], [11], scale=0.2), ref)
    assert not np.array_equal(p.predict_logits([3, 7], [11], scale=0.2), ref)
    with pytest.raises(PromptError, match="out of range"):
        p.decode_embedded(emb, [500])
    with pytest.raises(PromptError, match="positive click"):
        p.decode_embedded(emb, [])
    with pytest.raises(Exception, match="set_shape"):  # a bad shape leaves the current one in place
        p.set_shape(np.full((4, 3), np.nan, np.float32))
    assert p.embedding is not None and p.embedding.num_points == 500
