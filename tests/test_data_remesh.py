"""Scan-like remeshing of labelled meshes (s2am3d_core.data.remesh, s2am3d-eval --remesh)."""
import json

import numpy as np
import pytest

from s2am3d_core.data.remesh import check_remesh_available, remesh_part_mesh
from s2am3d_core.data.types import PartMesh
from s2am3d_core.errors import InputError

pytestmark = pytest.mark.skipif(check_remesh_available() is not None, reason="scikit-image is not installed")


def touching_boxes() -> PartMesh:
    """Two unit boxes that touch face to face (separate pieces), labelled 0 / 1; level 1 joins them."""
    import trimesh

    a, b = trimesh.creation.box((1, 1, 1)), trimesh.creation.box((1, 1, 1))
    b.apply_translation((1, 0, 0))
    both = trimesh.util.concatenate([a, b])
    side = np.repeat([0, 1], len(a.faces))
    return PartMesh(np.asarray(both.vertices, np.float32), np.asarray(both.faces), np.stack([side, 0 * side]),
                    name="boxes")


def test_touching_parts_become_one_labelled_surface():
    import trimesh

    pm = touching_boxes()
    scan = remesh_part_mesh(pm, resolution=32)
    mesh = trimesh.Trimesh(scan.vertices, scan.faces, process=True)
    assert len(mesh.split(only_watertight=False)) == 1  # one surface where the boxes touch
    assert scan.face_labels.shape == (2, len(scan.faces)) and scan.name == "boxes"
    assert np.allclose(mesh.bounds, [[-0.5, -0.5, -0.5], [1.5, 0.5, 0.5]], atol=0.1)
    centre_x = mesh.triangles_center[:, 0]
    far = np.abs(centre_x - 0.5) > 0.2  # away from the seam, each face keeps its box's label
    assert (scan.face_labels[0][far] == (centre_x[far] > 0.5)).all()
    assert (scan.face_labels[1] == 0).all()


@pytest.mark.parametrize("resolution", [4, 1000])
def test_remesh_rejects_a_grid_too_coarse_or_too_large(resolution):
    with pytest.raises(InputError, match="must be 8-384 cells"):
        remesh_part_mesh(touching_boxes(), resolution=resolution)


def test_eval_scores_the_remeshed_file(tmp_path, capsys):
    """`s2am3d-eval --remesh` scores the scan-like surface: the two boxes are one piece there, so
    the clicked piece (the mesh baseline) is no longer the part."""
    import torch

    from s2am3d_core.checkpoint import save_model
    from s2am3d_core.config import get_config
    from s2am3d_core.eval import cli
    from s2am3d_core.io import write_labelled_mesh, write_labelled_points
    from s2am3d_core.modeling import S2AM3D

    torch.manual_seed(0)
    weights = save_model(S2AM3D(get_config("test-tiny")), tmp_path / "tiny.safetensors")
    mine = tmp_path / "mine"
    mine.mkdir()
    pm = touching_boxes()
    write_labelled_mesh(mine / "boxes.ply", pm.vertices, pm.faces, pm.face_labels[0])
    cloud = np.random.default_rng(0).random((300, 3))
    write_labelled_points(mine / "cloud.ply", cloud, (cloud[:, 0] > 0.5).astype(np.int64))
    out = tmp_path / "res.json"
    assert cli.main(["--weights", str(weights), "--user-dir", str(mine), "--remesh", "24", "--points", "256",
                     "--num-prompts", "8", "--baselines", "none", "--out", str(out), "-q"]) == 0
    report = json.loads(out.read_text())
    ds = report["datasets"][f"user-dir:{mine}"]
    assert report["settings"]["remesh"] == 24
    assert ds["num_objects"] == 1 and ds["objects"][0]["num_pieces"] == 1
    assert ds["skipped_objects"] == [{"file": "cloud", "reason": "--remesh needs a mesh; this is a point cloud"}]
    assert ds["interactive"]["piece_noscale"]["distinct"] < 0.7
    assert "remeshed as scans at 24 cells" in capsys.readouterr().out
    assert cli.main(["--weights", str(weights), "--user-dir", str(mine), "--remesh", "4"]) == 2
    assert "error: --remesh: need 8-384 cells (memory grows as the cube), got 4" in capsys.readouterr().err
