"""Part datasets: labelled objects, loaders, the dataset-building pipeline, shards and prompts.

Submodules (imported on demand, so ``import s2am3d_core.data.types`` stays light):

* :mod:`.types` - ``PartMesh``, ``PartPoints``; :mod:`.hierarchy` - nested label-stack helpers
* :mod:`.procedural` - procedural objects; :mod:`.toy` - tiny primitive objects
* :mod:`.gltf` - ``load_gltf_parts`` (scene graphs); :mod:`.urdf` - ``load_urdf_parts`` (robots)
* :mod:`.user` - ``load_labelled_file``, ``load_labelled_points``, ``load_folder``
* :mod:`.sampling` - ``mesh_to_points``; :mod:`.dbscan` - ``split_disconnected``
* :mod:`.validator` - ``PartValidator``, ``train_validator``; :mod:`.pipeline` - ``build_dataset``
* :mod:`.shards` - ``write_shards``, ``ShardDataset``, ``split_of``; :mod:`.prompts` - ``sample_prompt``
* :mod:`.cli` - the ``s2am3d-data`` command
"""
from __future__ import annotations

import importlib

from .types import PartMesh, PartPoints

_LAZY = {
    "load_gltf_parts": "gltf",
    "load_urdf_parts": "urdf",
    "load_labelled_file": "user",
    "load_labelled_points": "user",
    "load_folder": "user",
    "mesh_to_points": "sampling",
    "split_disconnected": "dbscan",
    "PartValidator": "validator",
    "train_validator": "validator",
    "build_dataset": "pipeline",
    "write_shards": "shards",
    "ShardDataset": "shards",
    "split_of": "splits",
    "Prompt": "prompts",
    "sample_prompt": "prompts",
    "collate_prompts": "prompts",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PartMesh", "PartPoints", *_LAZY]
