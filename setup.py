"""Build hook (metadata lives in pyproject.toml).

A regular build (``pip install .``, ``pip wheel .``) copies the shipped weights (``models/*.safetensors``)
and example shapes (``assets/*.glb``) into the package as ``s2am3d_core/_bundled/{models,examples}/``,
where :mod:`s2am3d_core.resources` finds them. Editable installs read the repository's folders directly.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLES = {"models": ("models", "*.safetensors"), "examples": ("assets", "*.glb")}


class BuildPyWithBundles(build_py):
    """``build_py`` that also places the bundled data files in the build tree."""

    def run(self) -> None:
        super().run()
        if self.dry_run or getattr(self, "editable_mode", False):
            return
        for name, (folder, pattern) in BUNDLES.items():
            files = sorted((ROOT / folder).glob(pattern))
            if not files:
                raise SystemExit(f"error: {ROOT / folder}: no {pattern} files to bundle")
            dest = Path(self.build_lib) / "s2am3d_core" / "_bundled" / name
            dest.mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copyfile(f, dest / f.name)


setup(cmdclass={"build_py": BuildPyWithBundles})
