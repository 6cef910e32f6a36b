"""dlib faces: models found by path, landmarks, identity, pose and eyes on real photos."""

import numpy as np
from PIL import Image

from app.trainer import faces
from tests.photos import astronaut, grace_hopper


def test_models_are_found_inside_the_package_folder():
    folder = faces.models_dir()
    assert (folder / "shape_predictor_68_face_landmarks.dat").is_file()
    assert (folder / "dlib_face_recognition_resnet_model_v1.dat").is_file()


def test_detects_one_confident_face_with_68_landmarks():
    found = faces.detect_faces(grace_hopper())
    assert len(found) == 1
    face = found[0]
    assert face.landmarks.shape == (68, 2) and face.score > 0.5
    left, top, right, bottom = face.box
    assert (left <= face.center[0] <= right) and (top <= face.center[1] <= bottom)


def test_embeddings_tell_two_people_apart_and_match_a_mirror_image():
    g, a = grace_hopper(), astronaut()
    eg = faces.face_embedding(g, faces.detect_faces(g)[0])
    ea = faces.face_embedding(a, faces.detect_faces(a)[0])
    mirrored = g.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    em = faces.face_embedding(mirrored, faces.detect_faces(mirrored)[0])
    assert eg.shape == (128,)
    assert faces.face_distance(eg, em) < 0.4 < 0.6 < faces.face_distance(eg, ea)


def test_yaw_is_near_zero_frontal_and_grows_when_the_nose_moves_aside():
    face = faces.detect_faces(grace_hopper())[0]
    yaw = faces.head_yaw(face.landmarks)
    assert abs(yaw) < 15 and faces.pose_label(yaw) == "front"
    turned = face.landmarks.copy()
    span = turned[16][0] - turned[0][0]
    turned[30][0] = turned[0][0] + 0.8 * span  # nose tip well towards the image's right
    assert 30 < faces.head_yaw(turned) < 45 and faces.pose_label(faces.head_yaw(turned)) == "three-quarter"
    assert faces.pose_label(60) == "profile"


def test_eye_openness_drops_when_lids_close():
    face = faces.detect_faces(grace_hopper())[0]
    open_ = faces.eye_openness(face.landmarks)
    closed = face.landmarks.copy()
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        mid = (closed[upper] + closed[lower]) / 2
        closed[upper] = closed[lower] = mid
    assert open_ > 0.2 and faces.eye_openness(closed) == 0.0
    assert isinstance(faces.eye_openness(np.asarray(closed)), float)
