"""The example shapes shipped with s2am3d (made by ``assets/make_examples.py``).

>>> from s2am3d_core.examples import example_path, example_names
>>> example_names()
['bicycle', 'car', 'chair']
>>> example_path("chair").name
'example_chair.glb'

The paths work from any directory, in a source checkout and in an installed package.
"""
from __future__ import annotations

from pathlib import Path

from .resources import resource_names, resource_path

PREFIX, SUFFIX = "example_", ".glb"


def example_names() -> list[str]:
    """Names of the bundled examples (``"chair"`` for ``example_chair.glb``), sorted."""
    return [n[len(PREFIX):-len(SUFFIX)] for n in resource_names("examples", SUFFIX) if n.startswith(PREFIX)]


def example_path(name: str = "chair") -> Path:
    """Absolute path of the bundled example shape ``name`` (``"chair"``, ``"car"``, ``"bicycle"``).

    Raises:
        ValueError: no bundled example has that name (the message lists those that exist).
    """
    path = resource_path("examples", f"{PREFIX}{name}{SUFFIX}")
    if not path.is_file():
        raise ValueError(f"no bundled example named {name!r} (available: {', '.join(example_names()) or 'none'})")
    return path
