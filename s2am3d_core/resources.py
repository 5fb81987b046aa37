"""Where the shipped files live: model weights and example shapes.

From a source checkout (``pip install -e .`` or running in the repository) they are the
repository's ``models/*.safetensors`` and ``assets/*.glb``. A regular install (``pip install .``,
a wheel) carries copies inside the package, under ``s2am3d_core/_bundled/{models,examples}/``
(``setup.py`` copies them there at build time). Files are found by name, so new weights in
``models/`` are picked up without code changes.

This module is a leaf: it imports nothing from the project.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
REPO_DIR = PACKAGE_DIR.parent

#: bundle name -> (folder in the repository, folder in an installed package)
LOCATIONS: dict[str, tuple[Path, Path]] = {
    "models": (REPO_DIR / "models", BUNDLED_DIR / "models"),
    "examples": (REPO_DIR / "assets", BUNDLED_DIR / "examples"),
}


def _dirs(kind: str) -> tuple[Path, Path]:
    if kind not in LOCATIONS:
        raise ValueError(f"unknown resource kind {kind!r} (choose from {', '.join(sorted(LOCATIONS))})")
    repo, bundled = LOCATIONS[kind]
    return bundled, repo  # an installed copy wins over a folder that merely sits next to the package


def resource_path(kind: str, name: str) -> Path:
    """Path of the shipped file ``name`` of ``kind`` ("models" or "examples").

    Returns the installed copy if there is one, else the repository's file. When neither exists the
    repository path is returned, so that callers report a "not found" error naming a real location.
    """
    dirs = _dirs(kind)
    for d in dirs:
        if (d / name).is_file():
            return d / name
    return dirs[1] / name


def resource_names(kind: str, suffix: str) -> list[str]:
    """Sorted names of the shipped files of ``kind`` that end with ``suffix`` (both locations)."""
    names = set()
    for d in _dirs(kind):
        if d.is_dir():
            names.update(p.name for p in d.iterdir() if p.is_file() and p.name.endswith(suffix))
    return sorted(names)


def weights_path(name: str) -> Path:
    """Path of the shipped weights file ``name`` (e.g. ``"s2am3d-base.safetensors"``)."""
    return resource_path("models", name)


DEFAULT_WEIGHTS_NAME = "s2am3d-base.safetensors"


def default_weights_path() -> Path:
    """$S2AM3D_WEIGHTS if set, else the shipped ``s2am3d-base.safetensors``."""
    env = os.environ.get("S2AM3D_WEIGHTS")
    return Path(env) if env else weights_path(DEFAULT_WEIGHTS_NAME)
