"""Pure parts of quiz authoring: picture re-encoding, picture addresses, flags, editor rows."""

import io

import pytest
from PIL import Image

from app.errors import PayloadTooLarge
from app.quiz import authoring_forms, images, stats
from app.quiz.authoring_errors import InvalidImage
from app.quiz.exceptions import InvalidQuestion
from app.quiz.models import QuestionKind


def encoded(mode: str, size=(50, 40), fmt="PNG", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format=fmt, **save)
    return out.getvalue()


def test_transparent_pictures_stay_png_and_metadata_is_dropped(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Secret camera"  # Make
    url = images.store_image(data_dir=tmp_path, data=encoded("RGBA", exif=exif.tobytes()))
    assert url.startswith(images.URL_PREFIX) and url.endswith(".png")
    with Image.open(tmp_path / "quiz_images" / url.rsplit("/", 1)[1]) as img:
        assert img.mode == "RGBA" and not img.getexif()


def test_bad_pictures_are_refused(tmp_path):
    with pytest.raises(InvalidImage):
        images.store_image(data_dir=tmp_path, data=b"GIF89a but not really")
    with pytest.raises(InvalidImage):
        images.store_image(data_dir=tmp_path, data=b"")
    with pytest.raises(PayloadTooLarge):
        images.store_image(data_dir=tmp_path, data=b"0" * (images.MAX_IMAGE_BYTES + 1))
    bomb = encoded("1", size=(8000, 6000))  # 48 megapixels, a few kB on disk
    with pytest.raises(InvalidImage, match="too many pixels"):
        images.store_image(data_dir=tmp_path, data=bomb)
    assert not (tmp_path / "quiz_images").exists() or not any((tmp_path / "quiz_images").iterdir())


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("/static/generated/lessons/check-good.jpg", True),
        ("/quiz/images/" + "a" * 64 + ".png", True),
        ("https://example.com/a.png", False),
        ("//example.com/a.png", False),
        ("/static/../app/config.py", False),
        ("/static/x.png?onerror=1", False),
        ("javascript:alert(1)", False),
    ],
)
def test_picture_addresses(url, ok):
    assert (images.check_image_url(url) is None) is ok


@pytest.mark.parametrize(
    ("share", "learners", "flag"),
    [
        (0.95, 5, "easy"),
        (0.9, 10, "easy"),
        (0.5, 10, None),
        (0.1, 5, "hard"),
        (0.0, 4, None),
        (None, 0, None),
    ],
)
def test_flags(share, learners, flag):
    assert stats._flag(share, learners) == flag


def test_editor_rows_to_spec():
    form = authoring_forms.QuestionForm(
        kind=QuestionKind.multiple,
        prompt="p",
        rows=[
            authoring_forms.Row(text="a", right=True, weight="75"),
            authoring_forms.Row(text="b", right=True, weight="25"),
            authoring_forms.Row(text="c", weight="-100"),
            authoring_forms.Row(),  # blank rows are dropped
        ],
    )
    spec, ids = authoring_forms.to_spec(form)
    assert [c.weight for c in spec.choices] == [0.75, 0.25, -1.0] and ids == [None, None, None]
    form.rows[2].weight = "ten"
    with pytest.raises(InvalidQuestion, match="not a number"):
        authoring_forms.to_spec(form)
    form.rows[2].weight = "20"
    with pytest.raises(InvalidQuestion, match="wrong answer earns no marks"):
        authoring_forms.to_spec(form)
