"""The course pictures are really derived from the shipped photos, and the bad ones are bad."""

import numpy as np
from PIL import Image, ImageFilter

from app.lessons import images


def sharpness(img: Image.Image) -> float:
    """Variance of edges: high for a sharp photo, low for a blurred one."""
    edges = np.asarray(img.convert("L").filter(ImageFilter.FIND_EDGES), dtype=np.float32)[4:-4, 4:-4]
    return float(edges.var())


def test_build_writes_every_picture(tmp_path):
    written = images.build(tmp_path)
    assert {p.name for p in written} == set(images.PICTURES)
    assert images.build(tmp_path) == []  # only missing ones are drawn again
    for name in images.PICTURES:
        with Image.open(tmp_path / name) as img:
            assert img.width >= 300


def test_bad_examples_differ_from_the_good_one_as_described():
    good = images.good()
    assert good.size == (images.SIZE, images.SIZE)
    assert sharpness(images.blurred()) < sharpness(good) / 5
    # the low-resolution picture is made of 40x40 blocks
    low = np.asarray(images.low_resolution())
    block = images.SIZE // 40
    assert (low[: block - 1, : block - 1] == low[0, 0]).all()
    # the sunglasses darken the measured eye region
    photo = images.astronaut()
    to_crop = images._crop_transform(images.ASTRONAUT_FACE, 2.4, photo)
    x, y = (round(v) for v in to_crop(*images.ASTRONAUT_EYES[0]))
    eye_good = np.asarray(good.convert("L"))[y - 5 : y + 5, x - 5 : x + 5].mean()
    eye_glasses = np.asarray(images.sunglasses().convert("L"))[y - 5 : y + 5, x - 5 : x + 5].mean()
    assert eye_glasses < 40 < eye_good
    # the watermark and the second face change the picture
    assert np.abs(np.asarray(images.watermarked(), dtype=int) - np.asarray(good, dtype=int)).mean() > 3
    corner = (slice(images.SIZE - 170, images.SIZE), slice(images.SIZE - 170, images.SIZE))
    diff = np.abs(np.asarray(images.two_faces(), dtype=int) - np.asarray(good, dtype=int))
    assert diff[corner].mean() > 20


def test_fit_pictures_show_what_their_labels_say():
    """Under-fit is another person, over-fit the training shot itself, deep-fried scores as fried."""
    from app.trainer import metrics

    training = images.good().resize((200, 200))
    someone_else = images.face_crop(images.grace_hopper(), images.HOPPER_FACE, 1.6, size=200)
    fried = images.deep_fried(training)
    assert metrics.fry_value(fried) > metrics.FRIED_BAD > metrics.fry_value(training)
    assert metrics.fry_value(images.new_shot(200)) < metrics.FRIED_WARN
    picture = np.asarray(images.preview_fit(), dtype=int)
    tiles = [picture[30 + 12 : 30 + 12 + 200, 12 + i * 212 : 12 + i * 212 + 200] for i in range(4)]
    assert np.array_equal(tiles[0], np.asarray(someone_else, dtype=int))  # a different real photo
    assert np.array_equal(tiles[2], np.asarray(training, dtype=int))  # the copied training shot
    assert np.abs(tiles[1] - tiles[2]).mean() > 20  # "about right" is not the training shot


def test_strength_is_a_labelled_row_not_a_cross_fade():
    picture = np.asarray(images.preview_strength(), dtype=int)
    base = np.asarray(images.face_crop(images.grace_hopper(), images.HOPPER_FACE, 1.6, size=170), dtype=int)
    learned = np.asarray(images.new_shot(170), dtype=int)
    tile = lambda i: picture[30 + 12 : 30 + 12 + 170, 12 + i * 182 : 12 + i * 182 + 170]  # noqa: E731
    assert np.array_equal(tile(0), base) and np.array_equal(tile(1), learned)


def test_every_preview_photo_is_labelled_as_edited():
    for name in ("preview-one-photo.jpg", "preview-fit-labelled.jpg", "preview-epochs-labelled.jpg",
                 "preview-strength-row.jpg"):  # fmt: skip
        top = np.asarray(images.PICTURES[name]().convert("RGB"), dtype=int)[:30]
        assert (top[..., 0] > 200).any(), f"{name} has no note strip"  # the yellow note text
