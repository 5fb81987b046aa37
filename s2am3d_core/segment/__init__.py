"""Segmentation: interactive part masks and segmenting a whole shape.

``autoseg.segment_all`` / ``autoseg.part_tree`` turn the interactive model into a full segmenter
(the way SAM's automatic mask generator does for images).
"""
from .autoseg import part_tree, segment_all

__all__ = ["segment_all", "part_tree"]
