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
