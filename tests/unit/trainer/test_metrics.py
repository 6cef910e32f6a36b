"""Each score on real photos: Eileen Collins (scikit-image) and Grace Hopper (matplotlib)."""

import pytest
from PIL import Image, ImageEnhance

from app.trainer import metrics
from app.trainer.sweep_scores import TrainingSet, face_identity
from tests.photos import astronaut, grace_hopper, square


@pytest.fixture(scope="module")
def collins_training_set():
    """Two training shots of one person: a square crop and its mirror image."""
    shot = square(astronaut(), 384)
    return [shot, shot.transpose(Image.FLIP_LEFT_RIGHT)]


@pytest.fixture(scope="module")
def training(collins_training_set):
    return TrainingSet.from_images(collins_training_set)


def test_the_training_faces_are_found(training):
    assert all(e is not None for e in training.embeddings)
    assert training.reference is not None


def test_likeness_is_high_for_another_crop_of_the_same_person(training):
    other_crop = astronaut().crop((120, 10, 380, 270))  # tighter, off-centre, different size
    score = metrics.likeness([face_identity(other_crop)], training.reference)
    assert score.band == "good" and score.value > 0.6
    assert score.details["same_person"] == 1
    assert "matches the training photos" in score.sentence


def test_likeness_is_low_for_another_person(training):
    score = metrics.likeness([face_identity(grace_hopper())], training.reference)
    assert score.band == "bad" and score.value < metrics.LIKENESS_WARN
    assert score.details["same_person"] == 0


def test_a_missing_face_counts_as_a_miss(training):
    same = face_identity(astronaut())
    blank = Image.new("RGB", (256, 256), (128, 128, 128))
    both = metrics.likeness([same, face_identity(blank)], training.reference)
    alone = metrics.likeness([same], training.reference)
    assert both.details["faces_found"] == 1
    assert both.value == pytest.approx(alone.value / 2, abs=1e-3)
    assert "No face was found in 1" in both.sentence


def test_likeness_is_unknown_without_training_faces():
    score = metrics.likeness([None], None)
    assert score.value is None and score.band == "unknown"


def test_copying_flags_an_exact_training_image(collins_training_set, training):
    hopper = square(grace_hopper(), 384)
    images = [hopper, collins_training_set[1]]
    score = metrics.copying(
        images,
        training.hashes,
        embeddings=[face_identity(im) for im in images],
        training_embeddings=training.embeddings,
    )
    assert score.band == "bad"
    assert score.details["training_photo"] == 2 and score.details["hash_bits"] == 0
    assert "reproduces training photo 2" in score.sentence


def test_copying_does_not_flag_another_picture_of_the_same_person(training):
    fresh = astronaut().crop((60, 0, 460, 400)).rotate(8, resample=Image.BICUBIC)
    score = metrics.copying(
        [fresh], training.hashes, embeddings=[face_identity(fresh)], training_embeddings=training.embeddings
    )
    assert score.band != "bad"


def test_copying_does_not_flag_another_person(training):
    hopper = square(grace_hopper(), 384)
    score = metrics.copying([hopper], training.hashes)
    assert score.band == "good"


def test_deep_fried_flags_an_over_saturated_over_contrasted_photo_and_not_the_original():
    for photo in (astronaut(), grace_hopper()):
        fried = ImageEnhance.Contrast(ImageEnhance.Color(photo).enhance(3.0)).enhance(2.5)
        assert metrics.deep_fried([photo]).band == "good"
        score = metrics.deep_fried([fried])
        assert score.band == "bad" and "burnt colour" in score.sentence
        assert score.value > metrics.deep_fried([photo]).value + 0.5


def test_deep_fried_reports_the_worst_image():
    photo = grace_hopper()
    fried = ImageEnhance.Contrast(ImageEnhance.Color(photo).enhance(3.0)).enhance(2.5)
    score = metrics.deep_fried([photo, fried])
    assert score.details["worst_image"] == 1 and score.band == "bad"


def test_prompt_following_is_high_when_prompts_change_the_picture_as_much_as_the_base():
    a, g = square(astronaut(), 256), square(grace_hopper(), 256)
    score = metrics.prompt_following([a, g], [a, g])
    assert score.value == pytest.approx(1.0) and score.band == "good"


def test_prompt_following_is_low_when_every_prompt_gives_the_same_picture():
    a, g = square(astronaut(), 256), square(grace_hopper(), 256)
    near_same = ImageEnhance.Brightness(a).enhance(1.03)
    score = metrics.prompt_following([a, near_same], [a, g])
    assert score.band == "bad" and "Prompts ignored" in score.sentence


def test_image_distance_orders_same_similar_and_different():
    a, g = square(astronaut(), 256), square(grace_hopper(), 256)
    assert metrics.image_distance(a, a) == 0
    assert metrics.image_distance(a, ImageEnhance.Brightness(a).enhance(1.1)) < metrics.image_distance(a, g)
