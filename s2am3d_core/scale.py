"""The part scale: a part's fraction of the object's points, in [0, 1].

"Scale" means only this in s2am3d (the normalisation of a shape is its *extent*). "No scale" is
written ``None`` in Python APIs and ``NaN`` in tensors. :func:`check_scale` is the one check of a
scale prompt, used by the predictor, the segmentation layer, the viewer and the command lines.
"""
from __future__ import annotations

import math

from .errors import PromptError


def check_scale(scale: float | None) -> float | None:
    """The one check of a scale prompt: ``scale`` (the part's fraction of the shape) as a float in
    [0, 1], or None ("no scale"); PromptError otherwise."""
    if scale is None:
        return None
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise PromptError(f"scale {scale!r} is not a number in [0, 1] (or None for no scale)") from None
    if not 0.0 <= s <= 1.0 or math.isnan(s):
        raise PromptError(f"scale {s} is outside [0, 1] (or pass None for no scale)")
    return s
