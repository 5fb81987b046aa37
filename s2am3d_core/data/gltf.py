"""Part hierarchies from glTF/GLB scene graphs.

Every node subtree of the scene graph is a part and the nesting of nodes gives the levels:

* level 0: one part per geometry instance (a leaf mesh node; trimesh splits a glTF mesh with
  several primitives into one child node per primitive, so those are separate level-0 parts that
  merge one level up);
* coarser levels: the subtree of each ancestor node at decreasing depth (items shallower than the
  cut depth stay on their own), see :func:`s2am3d_core.data.hierarchy.levels_from_paths`.

Levels identical to the previous one (long chains of transform-only nodes in CAD exports) and the
trivial whole-object level are dropped; at most ``max_levels`` levels are kept (finest and coarsest
always, the others spread evenly in log part count). Each instance is transformed into world
coordinates and all instances are concatenated into one mesh.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import trimesh

from ..errors import InputError
from ..io.mesh_file import check_faces, load_gltf_scene
from .hierarchy import DEFAULT_MAX_LEVELS, levels_from_paths
from .types import PartMesh

GLTF_EXTENSIONS: tuple[str, ...] = (".glb", ".gltf")


def load_gltf_parts(path: str | os.PathLike, max_levels: int = DEFAULT_MAX_LEVELS) -> PartMesh:
    """Load a GLB/glTF file as a :class:`PartMesh` whose levels follow the scene graph.

    Args:
        path: ``.glb`` or ``.gltf`` file.
        max_levels: cap on the number of levels kept (>= 1).

    Returns:
        PartMesh with vertices (V, 3) float32 in world coordinates, faces (F, 3) int64,
        face_labels (L, F) int64 (finest first, nested; ``L`` is 0 when the scene has a single
        geometry instance or no grouping), ``name`` = file stem, ``category`` = "" and
        ``part_names[l]`` = ``{id: "node/child/..."}`` scene-graph paths.

    Raises:
        InputError: missing/unreadable file, no triangle geometry, bad face indices.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    if p.suffix.lower() not in GLTF_EXTENSIONS:
        raise InputError(f"{p}: not a glTF file (expected .glb or .gltf)")
    try:
        scene = load_gltf_scene(p)
    except InputError:
        raise
    except Exception as e:  # trimesh raises many exception types on bad input
        raise InputError(f"{p}: could not read glTF scene ({type(e).__name__}: {e})") from e

    graph = scene.graph
    parents = graph.transforms.parents
    base = graph.base_frame
    prim_names = _primitive_nodes(graph)
    verts, faces, paths = [], [], []
    offset = 0
    for node in graph.nodes_geometry:
        try:
            transform, geom_name = graph.get(node)
        except Exception as e:
            raise InputError(f"{p}: broken scene graph at node {node!r} ({type(e).__name__}: {e})") from e
        geom = scene.geometry.get(geom_name)
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue  # points, lines, empty meshes
        f = check_faces(geom.faces, len(geom.vertices), p)
        v = np.asarray(geom.vertices, dtype=np.float64)
        v = v @ np.asarray(transform, dtype=np.float64)[:3, :3].T + np.asarray(transform)[:3, 3]
        verts.append(v)
        faces.append(f + offset)
        offset += len(v)
        paths.append(_node_path(node, parents, base, prim_names))
    if not faces:
        raise InputError(f"{p}: the glTF scene contains no triangle meshes")

    vertices = np.concatenate(verts).astype(np.float32)
    if not np.isfinite(vertices).all():
        raise InputError(f"{p}: the scene has NaN or infinite vertex coordinates")
    all_faces = np.concatenate(faces).astype(np.int64)
    item_labels, names = levels_from_paths(paths, max_levels=max_levels)
    owner = np.repeat(np.arange(len(faces)), [len(f) for f in faces])
    face_labels = item_labels[:, owner] if len(item_labels) else np.zeros((0, len(all_faces)), np.int64)
    return PartMesh(vertices=vertices, faces=all_faces, face_labels=face_labels.astype(np.int64),
                    name=p.stem, category="", part_names=names)


def _primitive_nodes(graph) -> dict[str, tuple[str, str]]:
    """``{node: (mesh group name, stable name)}`` for the child frames trimesh invents per primitive.

    trimesh loads a glTF mesh with several primitives as a geometry-less node with one child
    frame per primitive, named ``f"{node}_{6 random hex}"``. Those random names are replaced by
    ``"{node}:primitive{k}"`` and the primitives are grouped under a virtual ``"{node}:mesh"`` node,
    so a node's own mesh is a part of its own, beside the subtrees of its child nodes.
    """
    parents = graph.transforms.parents
    geometry_nodes = set(graph.nodes_geometry)
    children: dict[str, list[str]] = {}
    for node, parent in parents.items():
        children.setdefault(parent, []).append(node)
    out: dict[str, tuple[str, str]] = {}
    for parent, kids in children.items():
        if parent in geometry_nodes:
            continue
        pattern = re.compile(re.escape(str(parent)) + r"_[0-9a-f]{6}")
        prims = [k for k in kids if k in geometry_nodes and k not in children and pattern.fullmatch(str(k))]
        for i, k in enumerate(prims):
            out[k] = (f"{parent}:mesh", f"{parent}:primitive{i}")
    return out


def _node_path(node: str, parents: dict, base: str, prim_names: dict | None = None) -> tuple[str, ...]:
    """Node names from the top of the scene graph (excluding the base frame) down to ``node``."""
    prim = (prim_names or {}).get(node)
    chain = [prim[1], prim[0]] if prim else [node]
    seen = {node}
    cur = node
    while cur in parents and parents[cur] != base:
        cur = parents[cur]
        if cur in seen:  # defensive: a cycle would loop forever
            break
        seen.add(cur)
        chain.append(cur)
    return tuple(reversed(chain))
