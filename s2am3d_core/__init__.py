"""s2am3d core: scale-controllable part segmentation of 3D shapes (S2AM3D).

Typical use::

    from s2am3d_core import PartPredictor, ShapeSegmenter, load_shape
    shape = load_shape("chair.glb")
    seg = ShapeSegmenter(PartPredictor.from_pretrained())  # shipped weights in models/
    seg.set_shape(shape.vertices, shape.faces)             # sample, encode once, atoms
    mask = seg.predict([seg.nearest_point(shape.vertices[0])], scale=0.05)   # decoder + atoms
    mask.faces                                             # (F,) bool, follows the mesh's atoms

The names below are imported on first use, so that ``import s2am3d_core.<submodule>`` loads only
what that submodule needs (the dataset and file tools do not pull in torch).
"""
from __future__ import annotations

import importlib

from .errors import CheckpointError, InputError, PromptError, S2AM3DError

__version__ = "0.1.0"

_LAZY = {
    "load_model": "checkpoint", "save_model": "checkpoint",
    "ModelConfig": "config", "get_config": "config",
    "S2AM3D": "modeling",
    "PartPredictor": "predictor", "ShapeEmbedding": "predictor",
    "load_shape": "io", "shape_points": "io",
    "ShapeSegmenter": "segment",
}

__all__ = ["PartPredictor", "ShapeEmbedding", "S2AM3D", "ModelConfig", "get_config", "load_model", "save_model",
           "S2AM3DError", "InputError", "PromptError", "CheckpointError", "load_shape", "shape_points",
           "ShapeSegmenter"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
