"""A regular (non-editable) install works from any directory: weights and examples travel in the wheel.

Builds the wheel from a copy of the source tree, installs it into a fresh virtual environment that
borrows the already installed dependencies (``--system-site-packages --no-deps``), and runs one
``s2am3d-segment`` on a bundled example from an unrelated directory.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from s2am3d_core.io.export import read_labelled_ply

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "s2am3d_core", "s2am3d_gui",
           "models", "assets"]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{cmd} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def test_wheel_installs_and_segments_from_another_directory(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        p = REPO / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "_bundled", "*.egg-info"))
        else:
            shutil.copy2(p, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "S2AM3D_WEIGHTS", "VIRTUAL_ENV")}
    env["S2AM3D_CACHE_DIR"] = str(tmp_path / "cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(wheels)], cwd=src, env=env)
    (wheel,) = wheels.glob("s2am3d-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "s2am3d_core/_bundled/models/s2am3d-base.safetensors" in names
    assert {f"s2am3d_core/_bundled/examples/example_{n}.glb" for n in ("chair", "car", "bicycle")} <= set(names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    # the outer interpreter's pip installs into the venv: --prefix would miss the venv's scheme, so
    # run pip as a module of the venv's interpreter (pip is visible there through the system site)
    _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--force-reinstall", str(wheel)],
         cwd=tmp_path, env=env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = ("import json, s2am3d_core; from s2am3d_core.examples import example_path, example_names; "
             "from s2am3d_core.resources import default_weights_path; "
             "print(json.dumps({'pkg': s2am3d_core.__file__, 'weights': str(default_weights_path()), "
             "'chair': str(example_path('chair')), 'names': example_names()}))")
    info = json.loads(_run([str(py), "-c", probe], cwd=elsewhere, env=env).stdout.strip().splitlines()[-1])
    site = Path(info["pkg"]).resolve().parent
    assert Path(info["pkg"]).resolve().is_relative_to(env_dir.resolve()), info
    assert Path(info["weights"]).resolve() == site / "_bundled" / "models" / "s2am3d-base.safetensors"
    assert Path(info["chair"]).resolve() == site / "_bundled" / "examples" / "example_chair.glb"
    assert info["names"] == ["bicycle", "car", "chair"]

    out = elsewhere / "chair_parts.ply"
    res = _run([str(bindir / "s2am3d-segment"), info["chair"], "-o", out.name, "--auto", "--scale", "0.1",
                "--points", "4000", "--threads", "1", "-q"], cwd=elsewhere, env=env)
    vertices, faces, labels = read_labelled_ply(out)
    assert faces is not None and len(labels) == len(faces), res.stdout
    assert len(np.unique(labels)) >= 2, "the chair came back as a single part"
