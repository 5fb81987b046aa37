"""Procedural objects with real part hierarchies (training and evaluation data).

``generate(category, seed)`` builds one object from primitives with random proportions and pose;
``face_labels`` holds at least three nested levels (finest first), e.g. bolt < wheel < axle assembly.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..types import PartMesh
from . import furniture, machines
from .builder import PartBuilder

_BUILDERS = {**furniture.CATEGORIES, **machines.CATEGORIES}
CATEGORIES: list[str] = sorted(_BUILDERS)


def generate(category: str, seed: int) -> PartMesh:
    """Build one object of ``category`` deterministically from ``seed``."""
    if category not in _BUILDERS:
        raise ValueError(f"unknown category {category!r}; choose one of {CATEGORIES}")
    rng = np.random.default_rng([seed, CATEGORIES.index(category)])
    b = PartBuilder(rng)
    _BUILDERS[category](b)
    return b.build(name=f"{category}_{seed:06d}", category=category)


def generate_many(n: int, seed: int = 0, categories: list[str] | None = None) -> Iterator[PartMesh]:
    """``n`` objects cycling through ``categories`` (default: all), seeds seed, seed+1, ..."""
    cats = list(categories) if categories else CATEGORIES
    for unknown in set(cats) - set(CATEGORIES):
        raise ValueError(f"unknown category {unknown!r}; choose from {CATEGORIES}")
    for i in range(n):
        yield generate(cats[i % len(cats)], seed + i)
