"""Evaluation: automatic segmentation, metrics, baselines, ``s2am3d-eval`` and ``s2am3d-bench``.

``autoseg.segment_all`` / ``autoseg.part_tree`` turn the interactive model into a full segmenter;
``metrics`` holds IoU, Hungarian mIoU and the single-click interactive protocol; ``baselines`` the
PartField-style feature clustering and a learning-free geometric baseline.
"""
from .autoseg import part_tree, segment_all
from .metrics import interactive_iou, iou, miou_hungarian

__all__ = ["segment_all", "part_tree", "iou", "miou_hungarian", "interactive_iou"]
