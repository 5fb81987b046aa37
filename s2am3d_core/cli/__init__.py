"""Command-line entry points (``s2am3d-segment``) and the helpers every CLI shares (:mod:`.util`)."""
