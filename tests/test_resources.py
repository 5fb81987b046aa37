"""Shipped files are found by name from any working directory (source checkout case)."""
import os

import pytest

from s2am3d_core import checkpoint
from s2am3d_core.examples import example_names, example_path
from s2am3d_core.resources import resource_path, weights_path


def test_examples_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert example_names() == ["bicycle", "car", "chair"]
    for name in example_names():
        p = example_path(name)
        assert p.is_absolute() and p.is_file() and p.name == f"example_{name}.glb"


def test_unknown_example_names_the_available_ones():
    with pytest.raises(ValueError, match="bicycle, car, chair"):
        example_path("sofa")


def test_default_weights_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("S2AM3D_WEIGHTS", raising=False)
    assert checkpoint.default_weights_path() == weights_path(checkpoint.DEFAULT_WEIGHTS_NAME)
    assert checkpoint.default_weights_path().is_file()
    monkeypatch.setenv("S2AM3D_WEIGHTS", os.fspath(tmp_path / "w.safetensors"))
    assert checkpoint.default_weights_path() == tmp_path / "w.safetensors"


def test_missing_resource_points_at_the_repository_folder():
    p = resource_path("models", "no-such-weights.safetensors")
    assert not p.exists() and p.parent.name == "models"
    with pytest.raises(ValueError, match="unknown resource kind"):
        resource_path("weights", "x")
