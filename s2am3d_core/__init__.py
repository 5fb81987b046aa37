"""s2am3d core: scale-controllable part segmentation of 3D shapes (S2AM3D).

Typical use::

    from s2am3d_core import PartPredictor, load_shape, shape_points
    predictor = PartPredictor.from_pretrained()          # shipped weights in models/
    points, _ = shape_points(load_shape("chair.glb"), 20000)
    predictor.set_shape(points)                          # encoder runs once
    mask = predictor.predict([123], scale=0.05) > 0.5    # decoder only
"""
from .checkpoint import load_model, save_model
from .config import ModelConfig, get_config
from .errors import CheckpointError, InputError, PromptError, S2AM3DError
from .modeling import S2AM3D
from .predictor import PartPredictor

__version__ = "0.1.0"

__all__ = ["PartPredictor", "S2AM3D", "ModelConfig", "get_config", "load_model", "save_model",
           "S2AM3DError", "InputError", "PromptError", "CheckpointError", "load_shape", "shape_points"]


def __getattr__(name):  # IO helpers are imported lazily (trimesh is slow to import)
    if name in ("load_shape", "shape_points"):
        from . import io
        return getattr(io, name)
    raise AttributeError(name)
