"""Segmentation: interactive part masks and segmenting a whole shape.

:class:`ShapeSegmenter` is the one path used by the Python API, ``s2am3d-segment``, the viewer and
``s2am3d-eval``: it samples a shape, encodes it once, computes its atoms (:mod:`.atoms`: welded
pieces split at creases) and turns decoder probabilities into masks on atoms (:mod:`.select`) or
into a full labelling (:mod:`.everything`). ``mesh_aware=False`` keeps the point-level masks of
the decoder alone (:mod:`.autoseg` for segmenting everything).
"""
from .autoseg import part_tree, segment_all
from .segmenter import Mask, Segmentation, ShapeSegmenter

__all__ = ["ShapeSegmenter", "Mask", "Segmentation", "segment_all", "part_tree"]
