"""Exceptions raised at the boundary of the public API.

Every error a user can cause (bad file, bad prompt, bad weights) is raised as one of
these with a message that names the file or argument and the problem, so callers and
the command-line tools can print it without a traceback.
"""
from __future__ import annotations


class S2AM3DError(ValueError):
    """Base class of every user-facing error in s2am3d."""


class InputError(S2AM3DError):
    """A shape, point cloud or label file that cannot be used (empty, NaNs, wrong fields...)."""


class PromptError(S2AM3DError):
    """A click/scale prompt that does not fit the current shape (index out of range, bad scale...)."""


class CheckpointError(S2AM3DError):
    """A weights file that cannot be read or does not match the model it is loaded into."""


class OutputError(S2AM3DError, OSError):
    """An output that cannot be written (full disk, read-only folder, bad name) or that would
    overwrite an input or a folder holding other files. Also an OSError, so code that handles
    failed writes as OSError keeps working; its message names the user's path, never a temporary one."""
