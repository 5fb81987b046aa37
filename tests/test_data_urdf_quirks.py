"""URDF quirks from the wild: accepted with a warning naming file/element/assumption, or the
broken element skipped (never the whole robot)."""
import warnings

import numpy as np
import pytest
import trimesh

from s2am3d_core.data.urdf import load_urdf_parts
from tests.test_data_urdf import ARM

HAND = "meshes/hand.stl"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "meshes").mkdir()
    trimesh.creation.box((1, 1, 1)).export(tmp_path / "meshes" / "hand.stl")
    return tmp_path


def _load(folder, text, raw: bytes | None = None):
    p = folder / "r.urdf"
    if raw is not None:
        p.write_bytes(raw)
    else:
        p.write_text(text)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = load_urdf_parts(p)
    return m, [str(x.message) for x in w]


def test_clean_file_has_no_warnings(folder):
    m, w = _load(folder, ARM.format(hand=HAND))
    assert w == [] and m.num_levels == 3


@pytest.mark.parametrize("edit,expect", [
    (lambda t: t.replace('xyz="0 0.05 0.1"', 'xyz="0, 0.05, 0.1"'), "comma-separated"),
    (lambda t: t.replace('xyz="0 0 0.5"', 'xyz="0 0 $(optenv ARM_LEN 0.5)"'), "assumed '0 0 0.5'"),
    (lambda t: t.replace(f'filename="{HAND}"', 'filename="$(find arm)/meshes/hand.stl"'), "package://arm"),
])
def test_unambiguous_quirks_are_accepted_with_a_warning(folder, edit, expect):
    clean, _ = _load(folder, ARM.format(hand=HAND))
    m, w = _load(folder, edit(ARM.format(hand=HAND)))
    assert any(expect in x and "r.urdf" in x for x in w), w
    np.testing.assert_allclose(m.vertices, clean.vertices, atol=1e-6)


def test_whitespace_before_declaration_and_trailing_nul(folder):
    clean, _ = _load(folder, ARM.format(hand=HAND))
    raw = b"\n  " + ARM.format(hand=HAND).encode() + b"\x00\x00"
    m, w = _load(folder, None, raw=raw)
    assert any("whitespace before the XML declaration" in x for x in w)
    assert any("NUL" in x for x in w)
    np.testing.assert_allclose(m.vertices, clean.vertices)


@pytest.mark.parametrize("edit,lost", [
    (lambda t: t.replace('<sphere radius="0.05"/>', '<sphere radius="0"/>'), "lamp"),
    (lambda t: t.replace('scale="0.1 0.1 0.1"', 'scale="0.1 0.1 0.1 1"'), "hand"),
    (lambda t: t.replace('<origin xyz="0 0 0.25"/>', '<origin xyz="0 0 0.25" rpy="0 0 0 1"/>'), "upper"),
    (lambda t: t.replace(f'filename="{HAND}"', 'filename="gone.stl"'), "hand"),
    (lambda t: t.replace('<sphere radius="0.05"/>', '<sphere radius="${r}"/>'), "lamp"),
])
def test_broken_element_is_skipped_not_the_robot(folder, edit, lost):
    clean, _ = _load(folder, ARM.format(hand=HAND))
    m, w = _load(folder, edit(ARM.format(hand=HAND)))
    assert any("skipped this <visual>" in x and f"link {lost!r}" in x and "r.urdf" in x for x in w), w
    assert 0 < len(m.faces) < len(clean.faces)
    assert not any(v.endswith(lost) for v in m.part_names[0].values())


def test_broken_joint_origin_is_identity(folder):
    m, w = _load(folder, ARM.format(hand=HAND).replace('xyz="0.3 0 0"/>', 'xyz="0.3 0 0" rpy="1 2 3 4"/>'))
    assert any("joint 'jlamp'" in x and "identity" in x for x in w)
    assert len(m.faces) > 0
