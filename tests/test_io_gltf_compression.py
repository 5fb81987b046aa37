"""Compressed glTF meshes: Draco is decoded (DracoPy), a compression without a decoder is a clear
error, never a mesh of zeros (trimesh only logs a warning and fills the geometry with zeros)."""
import json

import numpy as np
import pytest
import trimesh

from s2am3d_core.cli import segment as segment_cli
from s2am3d_core.data.gltf import load_gltf_parts
from s2am3d_core.errors import InputError
from s2am3d_core.io import load_shape
from s2am3d_core.io import mesh_file


def _scene():
    s = trimesh.Scene()
    s.add_geometry(trimesh.creation.box((1.0, 0.4, 0.2)), node_name="body", geom_name="body")
    s.add_geometry(trimesh.creation.cylinder(0.1, 0.6, sections=16), node_name="axle", geom_name="axle",
                   transform=trimesh.transformations.translation_matrix([0.0, 0.0, 0.5]))
    return s


@pytest.fixture
def glbs(tmp_path):
    plain, draco = tmp_path / "plain.glb", tmp_path / "draco.glb"
    plain.write_bytes(_scene().export(file_type="glb"))
    draco.write_bytes(_scene().export(file_type="glb", extension_draco=True))
    return plain, draco


def test_draco_meshes_read_as_the_uncompressed_file(glbs):
    plain, draco = glbs
    assert "KHR_draco_mesh_compression" in mesh_file.unpack_glb(draco.read_bytes())[0]["extensionsRequired"]
    a, b = load_shape(plain), load_shape(draco)
    assert a.faces.shape == b.faces.shape and a.vertices.shape == b.vertices.shape
    span = float(np.ptp(a.vertices, axis=0).max())
    assert np.allclose(a.vertices, b.vertices, atol=span * 2.0 ** -12)  # Draco quantises positions
    assert np.abs(b.vertices).max() > 0.1  # not the zeros of an undecoded file
    pa, pb = load_gltf_parts(plain), load_gltf_parts(draco)
    assert np.array_equal(pa.face_labels, pb.face_labels) and pa.face_labels.max() == 1


def test_draco_without_its_decoder_is_a_clear_error(glbs, monkeypatch, tmp_path, capsys):
    _, draco = glbs
    real = mesh_file.importlib.util.find_spec
    monkeypatch.setattr(mesh_file.importlib.util, "find_spec", lambda name, *a: None if name == "DracoPy" else real(name, *a))
    for load in (load_shape, load_gltf_parts):
        with pytest.raises(InputError, match=r"draco\.glb: .*KHR_draco_mesh_compression.*pip install DracoPy"):
            load(draco)
    assert segment_cli.main([str(draco), "-o", str(tmp_path / "out.ply"), "--auto", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {draco}: its meshes are compressed") and "Traceback" not in err
    assert not (tmp_path / "out.ply").exists()


def test_meshopt_is_refused_in_glb_and_gltf(glbs, tmp_path):
    plain, _ = glbs
    doc, binary = mesh_file.unpack_glb(plain.read_bytes())
    doc["extensionsUsed"] = doc["extensionsRequired"] = ["EXT_meshopt_compression"]
    glb = tmp_path / "meshopt.glb"
    glb.write_bytes(mesh_file.pack_glb(doc, binary))
    gltf = tmp_path / "meshopt.gltf"
    gltf.write_text(json.dumps({"asset": {"version": "2.0"}, "extensionsRequired": ["EXT_meshopt_compression"]}))
    for path in (glb, gltf):
        for load in (load_shape, load_gltf_parts):
            with pytest.raises(InputError, match=rf"{path.name}: .*EXT_meshopt_compression, which s2am3d cannot decode"):
                load(path)
    # an extension that is only used (the file has a fallback) or is not about compression passes
    doc["extensionsRequired"] = ["KHR_materials_unlit"]
    glb.write_bytes(mesh_file.pack_glb(doc, binary))
    assert len(load_shape(glb).faces) == len(load_shape(plain).faces)
