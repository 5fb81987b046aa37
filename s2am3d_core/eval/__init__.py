"""Evaluation: metrics, baselines, ``s2am3d-eval`` and ``s2am3d-bench``.

``metrics`` holds IoU, Hungarian mIoU and the single-click interactive protocol; ``baselines`` the
PartField-style feature clustering and learning-free geometric baselines. Segmentation itself
(interactive masks and segmenting everything) lives in :mod:`s2am3d_core.segment`.
"""
from .metrics import interactive_iou, iou, miou_hungarian

__all__ = ["iou", "miou_hungarian", "interactive_iou"]
