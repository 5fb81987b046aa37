"""s2am3d core: scale-controllable part segmentation of 3D shapes (S2AM3D).

Typical use::

    from s2am3d_core import PartPredictor, ShapeSegmenter, load_shape
    shape = load_shape("chair.glb")
    seg = ShapeSegmenter(PartPredictor.from_pretrained())  # shipped weights in models/
    seg.set_shape(shape.vertices, shape.faces)             # sample, encode once, atoms
    mask = seg.predict([seg.nearest_point(shape.vertices[0])], scale=0.05)   # decoder + atoms
    mask.faces                                             # (F,) bool, follows the mesh's atoms
"""
from .checkpoint import load_model, save_model
from .config import ModelConfig, get_config
from .errors import CheckpointError, InputError, PromptError, S2AM3DError
from .modeling import S2AM3D
from .predictor import PartPredictor, ShapeEmbedding

__version__ = "0.1.0"

__all__ = ["PartPredictor", "ShapeEmbedding", "S2AM3D", "ModelConfig", "get_config", "load_model", "save_model",
           "S2AM3DError", "InputError", "PromptError", "CheckpointError", "load_shape", "shape_points",
           "ShapeSegmenter"]


def __getattr__(name):  # IO and segmentation are imported lazily (trimesh is slow to import)
    if name in ("load_shape", "shape_points"):
        from . import io
        return getattr(io, name)
    if name == "ShapeSegmenter":
        from .segment import ShapeSegmenter
        return ShapeSegmenter
    raise AttributeError(name)
