"""The fast one-prompt path (SinglePromptDecoder, lazy atom growth, cached highlight colours) gives
the masks of the straightforward path: ``decode_prepared`` and the plain selection loop."""
import math

import numpy as np
import pytest
import torch
import trimesh

from s2am3d_core.config import get_config
from s2am3d_core.data import procedural
from s2am3d_core.modeling import S2AM3D
from s2am3d_core.modeling.single import FOLD_CONDITION_LIMIT, SinglePromptDecoder
from s2am3d_core.predictor import PartPredictor
from s2am3d_core.segment import ShapeSegmenter
from s2am3d_core.segment.segmenter import negative_atoms
from s2am3d_core.segment.select import CLOUD_SCORE_WEIGHT, SCORE_WEIGHT, WHOLE_PIECE, atom_scores, growth_units, select_with_scale

PROMPTS = [([1], [1], 0.1), ([5, 17], [1, 1], 0.6), ([5, 17, 200], [1, 0, 1], math.nan), ([9, 3], [1, 0], 0.003),
           ([42], [1], 1.0)]


def model_with(feature_skip: bool, context_points: int, seed: int = 0) -> S2AM3D:
    """test-tiny with every decoder weight moved off its initial value (FiLM is zero-initialised:
    an untrained model would hide the scale path)."""
    cfg = get_config("test-tiny")
    cfg.decoder.feature_skip, cfg.decoder.context_points = feature_skip, context_points
    torch.manual_seed(seed)
    model = S2AM3D(cfg).eval()
    model.decoder.set_calibration(0.5, 1.0, 2.0)  # every calibration term in play
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model


def reference_logits(model, tokens, idx, lab, scale):
    with torch.no_grad():
        return model.decoder.decode_prepared(tokens, torch.tensor([idx]), torch.tensor([lab]),
                                             torch.tensor([scale], dtype=torch.float32))[0]


@pytest.mark.parametrize("feature_skip,context_points", [(True, 64), (False, 0), (True, 0), (False, 1000)])
def test_single_prompt_decoder_computes_decode_prepared(feature_skip, context_points):
    model = model_with(feature_skip, context_points)
    pts = torch.rand(1, 300, 3) * 2 - 1
    with torch.no_grad():
        tokens = model.decoder.prepare(model.encode(pts), pts)
    single = SinglePromptDecoder(model.decoder, tokens)
    assert single.num_points == 300
    for idx, lab, s in PROMPTS:
        ref = reference_logits(model, tokens, idx, lab, s)
        got = single(torch.tensor(idx), torch.tensor(lab), s)
        assert got.shape == (300,)
        assert torch.allclose(got, ref, atol=1e-4, rtol=1e-4), (idx, lab, s, (got - ref).abs().max())


def test_badly_conditioned_points_are_normalised_directly():
    """Tokens far from zero (mean >> spread) would lose the folded variance to cancellation."""
    model = model_with(True, 64)
    pts = torch.rand(1, 300, 3) * 2 - 1
    with torch.no_grad():
        tokens = model.decoder.prepare(model.encode(pts), pts)
        tokens[0, ::2, : model.config.decoder.dim] += 40.0
    x = tokens[0, :, : model.config.decoder.dim].double()
    cond = (x * x).mean(1) / x.var(1, unbiased=False)
    assert (cond[::2] > FOLD_CONDITION_LIMIT).all() and (cond[1::2] < FOLD_CONDITION_LIMIT).all()
    single = SinglePromptDecoder(model.decoder, tokens)
    for idx, lab, s in PROMPTS:
        ref = reference_logits(model, tokens, idx, lab, s)
        assert torch.allclose(single(torch.tensor(idx), torch.tensor(lab), s), ref, atol=1e-3, rtol=1e-4)


def reference_growth_units(atoms, clicked, allowed, score, distance, whole_piece_up_to, reach):
    """The growth order written plainly, as (atoms, optional) units: the clicked piece's atoms by
    how far they reach (or whole), its copies together
    (optional), then the other pieces by nearest distance x (1.5 - area-weighted score)."""
    piece0 = atoms.piece[clicked[0]] if len(clicked) else -1
    inside = [i for i in range(atoms.num_atoms) if atoms.piece[i] == piece0 and allowed[i]]
    units = []
    if atoms.area[atoms.piece == piece0].sum() <= whole_piece_up_to:
        units += [(np.array(inside), False)] if inside else []
    else:
        def key(i):  # a cloud's atoms are ordered by distance x (1.5 - score), a mesh's by distance
            return reach[i] * (CLOUD_SCORE_WEIGHT - np.clip(score[i], 0, 1)) if atoms.face_atom is None else reach[i]
        inside = sorted(inside, key=key)
        if atoms.body is None:
            units += [(np.array([i]), False) for i in inside]
        else:  # the clicked bodies (whole when they fit), then the piece's other bodies whole
            own_bodies = set(atoms.body[clicked].tolist())
            own = [i for i in inside if atoms.body[i] in own_bodies]
            if own and atoms.area[own].sum() <= whole_piece_up_to:
                units.append((np.array(own), False))
            else:
                units += [(np.array([i]), False) for i in own]
            keyed_bodies = []
            for b in sorted(set(atoms.body[inside].tolist()) - own_bodies):
                members = [i for i in inside if atoms.body[i] == b]
                area = atoms.area[members]
                bscore = (area * np.clip(score[members], 0, 1)).sum() / area.sum()
                keyed_bodies.append((min(key(i) for i in members) * (SCORE_WEIGHT - bscore), b, members))
            for _, _, members in sorted(keyed_bodies, key=lambda k: (k[0], k[1])):
                units.append((np.array(members), False))
    copies, keyed = [], []
    for p in sorted(set(atoms.piece.tolist()) - {piece0}):
        members = [i for i in range(atoms.num_atoms) if atoms.piece[i] == p and allowed[i]]
        if not members:
            continue
        if atoms.piece_copy is not None and piece0 >= 0 and atoms.piece_copy[p] == atoms.piece_copy[piece0]:
            copies += members  # and below, one by one, like any other piece
        members = np.array(members, dtype=np.int64)
        area = atoms.area[members]
        pscore = np.clip(np.bincount(np.zeros(len(members), np.int64), weights=area * score[members])[0]
                         / np.bincount(np.zeros(len(members), np.int64), weights=area)[0], 0.0, 1.0)
        weight = SCORE_WEIGHT if atoms.face_atom is not None else CLOUD_SCORE_WEIGHT
        keyed.append((distance[members].min() * (weight - pscore), p, members))
    units += [(np.array(sorted(copies)), True)] if copies else []
    return units + [(m, False) for _, _, m in sorted(keyed, key=lambda k: (k[0], k[1]))]


def reference_select(atoms, clicked, blocked, score, distance, reach, scale):
    sel = np.zeros(atoms.num_atoms, dtype=bool)
    sel[clicked] = True
    sel[blocked] = False
    current = atoms.area[sel].sum()
    for unit, optional in reference_growth_units(atoms, clicked, ~blocked & ~sel, score, distance,
                                                 WHOLE_PIECE * scale, reach):
        if current >= scale:
            break
        unit = np.array([i for i in unit if not sel[i]], dtype=np.int64)
        if not len(unit):
            continue
        new = current + atoms.area[unit].sum()
        closer = abs(new - scale) < abs(current - scale)
        if optional and not (closer and 0.8 <= new / scale <= 1.25):
            continue
        if not closer:  # a unit too large: its closed bodies, when it has several, one by one
            bodies = sorted(set(atoms.body[unit].tolist())) if atoms.body is not None else []
            keyed = []
            for b in (bodies if len(bodies) > 1 else []):
                members = np.array([i for i in unit if atoms.body[i] == b])
                if atoms.body_closed[b]:
                    bscore = np.clip((atoms.area[members] * score[members]).sum() / atoms.area[members].sum(), 0, 1)
                    keyed.append((distance[members].min() * (SCORE_WEIGHT - bscore), b, members))
            for _, _, members in sorted(keyed, key=lambda k: (k[0], k[1])):
                new = current + atoms.area[members].sum()
                if not abs(new - scale) < abs(current - scale):
                    break
                sel[members] = True
                current = new
            break
        sel[unit] = True
        current = new
    if atoms.piece_copy is not None and len(clicked):  # the clicked piece's copies fill a selection that stopped short
        piece0 = atoms.piece[clicked[0]]
        rest = [i for i in range(atoms.num_atoms) if not sel[i] and not blocked[i] and atoms.piece[i] != piece0
                and atoms.piece_copy[atoms.piece[i]] == atoms.piece_copy[piece0]]
        new = current + atoms.area[rest].sum()
        if rest and abs(new - scale) < abs(current - scale) and new <= 1.25 * scale:
            sel[rest] = True
    return sel


@pytest.mark.parametrize("cloud", [False, True])
def test_masks_equal_the_straightforward_path(cloud):
    """On a small mesh and on a point cloud: masks from predict() (fast decoder, lazy growth,
    vectorised runs of one-atom units) are exactly those from decode_prepared's probabilities
    through the plain selection loop."""
    mesh = procedural.generate("chair", 0)
    model = model_with(True, 256, seed=1)
    seg = ShapeSegmenter(PartPredictor(model, cache=False))
    if cloud:
        pts, _ = trimesh.sample.sample_surface(trimesh.Trimesh(mesh.vertices, mesh.faces, process=False), 1500, seed=0)
        seg.set_shape(np.asarray(pts), None)
    else:
        seg.set_shape(mesh.vertices, mesh.faces, num_points=1500)
    a, pred = seg.atoms, seg.predictor
    assert a.num_pieces > 1 or cloud
    rng = np.random.default_rng(0)
    for k in range(6):
        pos = [int(rng.integers(seg.num_points))]
        neg = [int(rng.integers(seg.num_points))] if k % 2 else []
        clicked = np.unique(a.point_atom[pos])
        blocked = negative_atoms(a, clicked, a.point_atom[neg])
        clicked = clicked[~blocked[clicked]]
        dist, reach = seg.distances_from(pos[0]), seg.reach_from(pos[0])
        for s in (0.01, 0.05, 0.2, 0.5):
            mask = seg.predict(pos, neg, scale=s)
            probs = torch.sigmoid(reference_logits(model, pred.embedding.tokens, pos + neg, [1] * len(pos) + [0] * len(neg), s))
            score = atom_scores(a, probs.numpy(), seg._representative)
            s_eff = s  # a negative click removes its region from the mask at this scale
            if blocked.any():
                before = reference_select(a, clicked, np.zeros_like(blocked), score, dist, reach, s)
                s_eff = max(0.0, s - a.area[before & blocked].sum())
            ref = reference_select(a, clicked, blocked, score, dist, reach, s_eff)
            shown = ref[seg.label_source]  # atoms without points follow their source (label_source)
            assert np.array_equal(mask.atoms, shown)
            assert np.array_equal(mask.faces, shown[a.face_atom]) if not cloud else mask.faces is None
            assert np.array_equal(select_with_scale(a, clicked, blocked, score, dist, s_eff, reach=reach), ref)
            allowed = ~blocked
            allowed[clicked] = False
            fast = growth_units(a, clicked, allowed, score, dist, WHOLE_PIECE * s, reach)
            plain = reference_growth_units(a, clicked, allowed, score, dist, WHOLE_PIECE * s, reach)
            assert [k for _, k in fast] == ["optional" if o else "whole" for _, o in plain]
            assert all(np.array_equal(u, v) for (u, _), (v, _) in zip(fast, plain))


def test_predictor_follows_in_place_weight_changes():
    """PartPredictor keeps one SinglePromptDecoder per embedding and remakes it when the decoder's
    weights change in place (fine-tuning with the predictor alive)."""
    model = model_with(True, 64)
    pred = PartPredictor(model, cache=False)
    pred.set_shape(np.random.default_rng(0).random((300, 3)).astype(np.float32))
    tokens = pred.embedding.tokens
    before = pred.predict_logits([3], [7], 0.2)
    with torch.no_grad():
        model.decoder.layers[0].point_ffn[1].weight.mul_(1.5)
    after = pred.predict_logits([3], [7], 0.2)
    assert not np.allclose(before, after)
    assert np.allclose(after, reference_logits(model, tokens, [3, 7], [1, 0], 0.2).numpy(), atol=1e-4)
