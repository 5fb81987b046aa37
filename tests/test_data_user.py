"""User labelled files: labelled PLY (mesh / point cloud), GLB, URDF, folders."""
import warnings

import numpy as np
import pytest
import trimesh

from s2am3d_core.data.hierarchy import is_nested
from s2am3d_core.data.types import PartMesh, PartPoints
from s2am3d_core.data.user import load_folder, load_labelled_file, load_labelled_points
from s2am3d_core.errors import InputError
from s2am3d_core.io import write_labelled_mesh, write_labelled_points


def two_boxes_and_bar():
    """Mesh: two separate boxes labelled 0 together, a bar labelled 1, a few faces unlabelled."""
    a = trimesh.creation.box((1, 1, 1), transform=trimesh.transformations.translation_matrix((-2, 0, 0)))
    b = trimesh.creation.box((1, 1, 1), transform=trimesh.transformations.translation_matrix((2, 0, 0)))
    c = trimesh.creation.box((5, 0.3, 0.3), transform=trimesh.transformations.translation_matrix((0, 0, 1)))
    m = trimesh.util.concatenate([a, b, c])
    labels = np.array([0] * 12 + [0] * 12 + [1] * 12)
    labels[-1] = -1
    return m, labels


def test_labelled_mesh_ply_split(tmp_path):
    m, labels = two_boxes_and_bar()
    path = write_labelled_mesh(tmp_path / "mine.ply", m.vertices, m.faces, labels)
    pm = load_labelled_file(path)
    assert isinstance(pm, PartMesh) and pm.name == "mine"
    assert pm.num_levels == 2 and is_nested(pm.face_labels)
    fine, coarse = pm.face_labels
    assert len(np.unique(fine[fine >= 0])) == 3 and len(np.unique(coarse[coarse >= 0])) == 2
    assert fine[-1] == -1 and coarse[-1] == -1
    assert fine[0] != fine[12]  # the two boxes are separate parts at level 0 ...
    assert coarse[0] == coarse[12]  # ... and one part at level 1
    one = load_labelled_file(path, split=False)
    assert one.num_levels == 1


def test_labelled_mesh_duplicated_vertices_stays_connected(tmp_path):
    box = trimesh.creation.box((1, 1, 1))
    soup = trimesh.Trimesh(box.vertices[box.faces].reshape(-1, 3), np.arange(36).reshape(-1, 3), process=False)
    labels = np.r_[np.zeros(6, int), np.ones(6, int)]
    pm = load_labelled_file(write_labelled_mesh(tmp_path / "soup.ply", soup.vertices, soup.faces, labels))
    assert pm.num_levels == 1  # no split: the triangle soup is still two connected halves


def test_labelled_points_ply(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 3)) * 0.1 + [-2, 0, 0]
    b = rng.normal(size=(300, 3)) * 0.1 + [2, 0, 0]
    c = rng.normal(size=(300, 3)) * 0.1 + [0, 3, 0]
    pts = np.concatenate([a, b, c])
    labels = np.r_[np.zeros(600, int), np.ones(300, int)]
    path = write_labelled_points(tmp_path / "cloud.ply", pts, labels)
    pp = load_labelled_file(path)
    assert isinstance(pp, PartPoints) and pp.points.shape == (900, 3)
    assert np.abs(pp.points).max() == pytest.approx(1.0, abs=1e-5)
    assert pp.labels.shape == (2, 900) and is_nested(pp.labels)
    assert len(np.unique(pp.labels[0])) == 3
    assert load_labelled_points(path, split=False).labels.shape == (1, 900)
    # one part and nothing unlabelled: no information -> no level
    single = write_labelled_points(tmp_path / "single.ply", a, np.zeros(300, int))
    assert load_labelled_points(single).labels.shape == (0, 300)


def test_load_folder(tmp_path):
    m, labels = two_boxes_and_bar()
    write_labelled_mesh(tmp_path / "a.ply", m.vertices, m.faces, labels)
    s = trimesh.Scene()
    s.add_geometry(trimesh.creation.box((1, 1, 1)), node_name="p0")
    s.add_geometry(trimesh.creation.icosphere(), node_name="p1", transform=trimesh.transformations.translation_matrix((3, 0, 0)))
    s.export(tmp_path / "b.glb")
    (tmp_path / "notes.xyz").write_text("1 2 3\n")
    (tmp_path / "texture.png").write_bytes(b"")
    with pytest.warns(UserWarning, match="notes.xyz"):
        items = load_folder(tmp_path, progress=False)
    assert [i.name for i in items] == ["a", "b"]
    assert items[1].num_levels == 1
    (tmp_path / "c.ply").write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
                                    "property float y\nproperty float z\nend_header\n0 0 0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError, match="c.ply"):
            load_folder(tmp_path, progress=False)
    with pytest.raises(InputError, match="folder not found"):
        load_folder(tmp_path / "nope")


def test_unsupported_and_missing(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_labelled_file(tmp_path / "x.ply")
    p = tmp_path / "x.obj"
    trimesh.creation.box().export(p)
    with pytest.raises(InputError, match="unsupported file type .obj"):
        load_labelled_file(p)
