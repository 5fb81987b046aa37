"""Procedural objects with real part hierarchies (training and evaluation data).

``generate(category, seed)`` builds one object from primitives (boxes, cylinders, cones, spheres,
tori, lathed profiles) with random proportions, part counts and small random rotations, then poses
it: z up, standing on z=0 before a random rotation about z and a random overall scale (NOT
normalised: downstream code normalises). Optionally mild vertex noise.

``face_labels`` holds at least three nested levels, finest first: level 0 are individual parts
(a bolt, a spoke, a leg), coarser levels are functional groups (a wheel, the leg set, a drawer) and
assemblies (the chassis with its wheels). Nesting holds by construction (see :mod:`.builder`).
``part_names[l]`` maps each id of level ``l`` to its path, e.g. ``"chassis/axle_0/wheel_1/hub/bolt_3"``.

Modules: :mod:`.geom` (numpy primitives), :mod:`.builder` (PartBuilder, level derivation),
:mod:`.parts` (wheels, drawers, doors, screws, ...), and the category modules :mod:`.furniture`,
:mod:`.vehicles`, :mod:`.machines`, :mod:`.household`, :mod:`.assemblies` (CAD-like: fasteners,
fins, ribs, bevels, thin shells, welded pieces, long-tailed part sizes). ``python -m s2am3d_core.data.procedural.preview``
renders a contact sheet.
"""
from __future__ import annotations

import zlib
from typing import Callable, Iterator

import numpy as np

from ..types import PartMesh
from . import assemblies, furniture, household, machines, vehicles
from .builder import PartBuilder

_BUILDERS: dict[str, Callable[[PartBuilder], None]] = {}
for _module in (furniture, vehicles, machines, household, assemblies):
    _BUILDERS.update(_module.CATEGORIES)

CATEGORIES: list[str] = sorted(_BUILDERS)


def _rng(category: str, seed: int) -> np.random.Generator:
    # keyed by the category *name*, so adding categories never changes existing objects
    return np.random.default_rng([int(seed), zlib.crc32(category.encode())])


def generate(category: str, seed: int) -> PartMesh:
    """Build one object of ``category`` deterministically from ``seed`` (named ``f"{category}_{seed:06d}"``)."""
    if category not in _BUILDERS:
        raise ValueError(f"unknown category {category!r}; valid categories: {', '.join(CATEGORIES)}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    b = PartBuilder(_rng(category, seed))
    _BUILDERS[category](b)
    pose = np.random.default_rng([int(seed), zlib.crc32(category.encode()), 1])
    noise = 0.0 if pose.random() < 0.6 else float(pose.uniform(0.001, 0.004))
    weld = 0.0 if pose.random() < 0.4 else float(pose.uniform(0.005, 0.02))
    return b.build(name=f"{category}_{seed:06d}", category=category, noise=noise, weld=weld,
                   scale=float(np.exp(pose.uniform(np.log(0.5), np.log(2.0)))),
                   yaw=float(pose.uniform(0.0, 2 * np.pi)))


def generate_many(n: int, seed: int = 0, categories: list[str] | None = None) -> Iterator[PartMesh]:
    """``n`` objects cycling round-robin through ``categories`` (default: all); object ``i`` uses seed ``seed + i``."""
    cats = list(categories) if categories else list(CATEGORIES)
    unknown = [c for c in cats if c not in _BUILDERS]
    if unknown:
        raise ValueError(f"unknown category {unknown[0]!r}; valid categories: {', '.join(CATEGORIES)}")
    for i in range(n):
        yield generate(cats[i % len(cats)], seed + i)


__all__ = ["CATEGORIES", "generate", "generate_many", "PartBuilder"]
