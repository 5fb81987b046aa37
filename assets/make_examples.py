"""Rebuild the bundled example shapes from the project's procedural generator.

    python assets/make_examples.py            # writes assets/example_{car,chair,bicycle}.glb

Each GLB keeps the part hierarchy as its node tree ("body/grille/bar_0" -> nodes body > grille >
bar_0 holding that part's triangles), so ``s2am3d_core.data.gltf.load_gltf_parts`` reads the parts
back. The generator's random yaw is undone (longest horizontal axis along x, standing on z = 0,
z up) and sizes are normalised to about one unit, so every example opens in the same pose; the
files store that pose Y-up, as glTF requires (``load_shape`` turns them back Z-up).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import trimesh

from s2am3d_core.data import procedural
from s2am3d_core.io.up import from_z_up

HERE = Path(__file__).resolve().parent
EXAMPLES = {"car": ("car", 0), "chair": ("chair", 0), "bicycle": ("bicycle", 0)}  # file stem -> (category, seed)


def canonical(vertices: np.ndarray) -> np.ndarray:
    """Rotate about z so the main horizontal axis is x, centre in xy, floor at z = 0, length ~ 1."""
    v = np.asarray(vertices, np.float64)
    xy = v[:, :2] - v[:, :2].mean(0)
    _, vecs = np.linalg.eigh(xy.T @ xy)
    a = vecs[:, -1]  # main axis
    rot = np.array([[a[0], a[1]], [-a[1], a[0]]])
    out = v.copy()
    out[:, :2] = xy @ rot.T
    lo, hi = out.min(0), out.max(0)
    out[:, :2] -= (lo[:2] + hi[:2]) / 2
    out[:, 2] -= lo[2]
    return (out / (hi - lo).max()).astype(np.float32)


def build(category: str, seed: int) -> trimesh.Scene:
    mesh = procedural.generate(category, seed)
    verts = from_z_up(canonical(mesh.vertices), "y")  # glTF is Y-up
    finest, names = mesh.face_labels[0], mesh.part_names[0] if mesh.part_names else {}
    scene = trimesh.Scene()
    made: set[str] = set()
    for label in np.unique(finest):
        path = names.get(int(label), f"part_{int(label)}") if label >= 0 else "unlabelled"
        parts = path.split("/")
        for depth in range(1, len(parts)):  # group nodes for every ancestor
            node = "/".join(parts[:depth])
            if node not in made:
                parent = "/".join(parts[:depth - 1]) or None
                scene.graph.update(frame_to=node, frame_from=parent or scene.graph.base_frame)
                made.add(node)
        part = trimesh.Trimesh(verts, mesh.faces[finest == label], process=False)
        part.remove_unreferenced_vertices()
        parent = "/".join(parts[:-1]) or None
        scene.add_geometry(part, node_name=path, geom_name=path, parent_node_name=parent)
    return scene


def main(argv: list[str] | None = None) -> int:
    out_dir = Path(argv[0]) if argv else HERE
    for stem, (category, seed) in EXAMPLES.items():
        target = out_dir / f"example_{stem}.glb"
        scene = build(category, seed)
        target.write_bytes(scene.export(file_type="glb"))
        faces = sum(len(g.faces) for g in scene.geometry.values())
        print(f"{target}: {category} seed {seed}, {len(scene.geometry)} parts, {faces} faces, "
              f"{target.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
