"""Label transfer between points, faces and vertices (s2am3d_core.io.labels)."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from s2am3d_core.errors import InputError
from s2am3d_core.io import (
    faces_from_point_labels,
    points_from_face_labels,
    sample_surface,
    vertices_from_point_labels,
)


def test_majority_vote_ties_and_unlabelled_points():
    face_index = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])
    labels = np.array([5, 5, 2, 7, 3, -1, -1, 4, -1])
    out = faces_from_point_labels(5, face_index, labels)
    assert out.dtype == np.int64 and out.shape == (5,)
    # face 0: 5 beats 2; face 1: tie 7/3 -> smallest; face 2: the -1 points do not vote;
    # face 3: only an unlabelled point; face 4: no point at all
    np.testing.assert_array_equal(out, [5, 3, 4, -1, -1])


def test_unsampled_faces_take_nearest_labelled_point():
    face_index = np.array([0, 1, 1])
    labels = np.array([1, 2, -1])
    points = np.array([[0.0, 0, 0], [10.0, 0, 0], [4.0, 0, 0]])
    centers = np.array([[0.0, 0, 0], [10.0, 0, 0], [3.0, 0, 0], [8.0, 0, 0]])
    out = faces_from_point_labels(4, face_index, labels, points=points, face_centers=centers)
    # face 2's nearest point overall is the unlabelled one at x=4; it must be ignored
    np.testing.assert_array_equal(out, [1, 2, 1, 2])
    # without geometry, unsampled faces stay -1
    np.testing.assert_array_equal(faces_from_point_labels(4, face_index, labels), [1, 2, -1, -1])


def test_no_labelled_points_gives_all_unlabelled():
    out = faces_from_point_labels(3, np.array([0, 1]), np.array([-1, -1]),
                                  points=np.zeros((2, 3)), face_centers=np.zeros((3, 3)))
    np.testing.assert_array_equal(out, [-1, -1, -1])
    np.testing.assert_array_equal(faces_from_point_labels(2, np.zeros(0, np.int64), np.zeros(0, np.int64)), [-1, -1])


def test_transfer_on_sampled_mesh_recovers_face_labels():
    # two separated boxes: label faces by box, sample, vote back -> same labels
    a = trimesh.creation.box()
    b = trimesh.creation.box()
    b.apply_translation([3.0, 0, 0])
    mesh = trimesh.util.concatenate([a, b])
    truth = np.repeat([0, 1], 12)
    pts, fi = sample_surface(mesh.vertices, mesh.faces, 400, seed=0)
    point_labels = points_from_face_labels(truth, fi)
    np.testing.assert_array_equal(point_labels, truth[fi])
    faces = faces_from_point_labels(len(mesh.faces), fi, point_labels, pts, mesh.triangles_center)
    np.testing.assert_array_equal(faces, truth)
    verts = vertices_from_point_labels(mesh.vertices, pts, point_labels)
    np.testing.assert_array_equal(verts, (mesh.vertices[:, 0] > 1.5).astype(np.int64))


def test_vertices_from_point_labels_skips_unlabelled():
    points = np.array([[0.0, 0, 0], [1.0, 0, 0], [5.0, 0, 0]])
    labels = np.array([3, -1, 9])
    verts = np.array([[0.9, 0, 0], [4.0, 0, 0], [-2.0, 0, 0]])
    out = vertices_from_point_labels(verts, points, labels)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [3, 9, 3])
    np.testing.assert_array_equal(vertices_from_point_labels(verts, points, np.full(3, -1)), [-1, -1, -1])


def test_float_labels_with_whole_values_are_accepted():
    out = faces_from_point_labels(1, np.array([0, 0]), np.array([2.0, 2.0]))
    np.testing.assert_array_equal(out, [2])


@pytest.mark.parametrize(
    "call",
    [
        lambda: faces_from_point_labels(3, np.array([0, 1]), np.array([0])),          # lengths differ
        lambda: faces_from_point_labels(2, np.array([0, 2]), np.array([0, 1])),       # face out of range
        lambda: faces_from_point_labels(2, np.array([0, 1]), np.array([0.5, 1.0])),   # non-integer labels
        lambda: faces_from_point_labels(2, np.array([0, 1]), np.array([0, 1]),
                                        points=np.zeros((3, 3)), face_centers=np.zeros((2, 3))),
        lambda: faces_from_point_labels(2, np.array([0, 1]), np.array([0, 1]),
                                        points=np.zeros((2, 3)), face_centers=np.zeros((5, 3))),
        lambda: vertices_from_point_labels(np.zeros((2, 3)), np.zeros((3, 3)), np.array([0, 1])),
        lambda: vertices_from_point_labels(np.zeros((2, 2)), np.zeros((2, 3)), np.array([0, 1])),
        lambda: points_from_face_labels(np.array([0, 1]), np.array([0, 2])),
        lambda: points_from_face_labels(np.array([[0, 1]]), np.array([0])),
    ],
)
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()
