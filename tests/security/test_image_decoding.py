"""One decoder for every uploaded picture (dataset photos, quiz pictures, community pictures):
no metadata segment survives (comments, XMP, EXIF, ICC), and 16-bit or unusual modes keep
their real brightness instead of turning white."""

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageCms

from app.trainer import images
from tests import dataset_photos as dp
from tests.photos import astronaut, square

ADDRESS = b"12 Rue de Rivoli, Paris"
SECRET = ADDRESS + b" <script>alert(1)</script>"
XMP = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><rdf:Description GPSLatitude='48.85'/></x:xmpmeta>"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_everything(im: Image.Image, comment: bytes = SECRET) -> bytes:
    """A JPEG carrying a comment, EXIF, XMP and an ICC profile, as phones and editors write them."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    im.save(out, "JPEG", quality=92, exif=exif.tobytes(), icc_profile=icc, comment=comment)
    data = out.getvalue()
    return data[:2] + _segment(0xE1, XMP) + data[2:]  # XMP right after SOI


def header_markers(data: bytes) -> list[int]:
    """The JPEG marker codes before the image data (SOS), in order."""
    markers, i = [], 2
    while i < len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return markers


def assert_clean_jpeg(data: bytes) -> None:
    markers = header_markers(data)
    assert 0xFE not in markers, "a COM segment survived"
    assert not {m for m in markers if 0xE1 <= m <= 0xEF}, f"an APPn segment survived: {markers}"
    assert ADDRESS not in data and b"PhoneMaker" not in data and b"xmpmeta" not in data


def sixteen_bit_grey_png(size: int = 512) -> tuple[bytes, float]:
    """The astronaut as a 16-bit greyscale PNG (mode I;16) and its true mean brightness (0-255)."""
    grey = np.asarray(square(astronaut(), size).convert("L"), dtype=np.uint16)
    out = io.BytesIO()
    Image.fromarray(grey * 257).save(out, "PNG")
    assert Image.open(io.BytesIO(out.getvalue())).mode == "I;16"
    return out.getvalue(), float(grey.mean())


def mean_brightness(data: bytes) -> float:
    return float(np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float64).mean())


def test_a_quiz_picture_keeps_no_comment_xmp_exif_or_icc(api_as, settings):
    instructor = api_as("instructor")
    upload = jpeg_with_everything(square(astronaut(), 256))
    assert header_markers(upload).count(0xFE) == 1  # the hostile input really has them

    response = instructor.post("/api/quiz/images", files={"file": ("street.jpg", upload, "image/jpeg")})
    served = instructor.get(response.json()["image_url"])

    assert response.status_code == 201 and served.status_code == 200
    assert_clean_jpeg(served.content)


def test_a_dataset_photo_keeps_no_comment_xmp_exif_or_icc(api_as):
    learner = api_as("learner")
    # The dataset path refuses markup inside image data outright, so only the address here.
    upload = jpeg_with_everything(dp.good_set(1)[0], comment=ADDRESS)

    response = learner.post("/api/datasets", files=[("files", ("me.jpg", upload, "image/jpeg"))])
    image = response.json()["images"][0]
    stored = learner.get(f"/api/datasets/{response.json()['id']}/images/{image['id']}/photo")

    assert response.status_code == 201, response.text
    assert_clean_jpeg(stored.content)


def test_a_community_picture_keeps_no_comment_xmp_exif_or_icc(client_as):
    learner = client_as("learner")
    upload = jpeg_with_everything(square(astronaut(), 200))

    posted = learner.post(
        "/community/posts",
        data={"kind": "help", "title": "Eyes melt", "csrf_token": learner.csrf},
        files=[("images", ("a.jpg", upload, "image/jpeg"))],
    )
    post = learner.get("/api/feed").json()[0]
    served = learner.get(post["images"][0]["url"])

    assert posted.status_code == 303
    assert_clean_jpeg(served.content)


def test_a_16_bit_grey_photo_is_a_face_in_the_dataset_not_a_white_square(api_as):
    learner = api_as("learner")
    png, true_mean = sixteen_bit_grey_png()

    response = learner.post("/api/datasets", files=[("files", ("grey16.png", png, "image/png"))])
    image = response.json()["images"][0]
    stored = learner.get(f"/api/datasets/{response.json()['id']}/images/{image['id']}/photo")

    assert response.status_code == 201, response.text
    assert "no_face" not in {p["code"] for p in image["problems"]}, image["problems"]
    assert abs(mean_brightness(stored.content) - true_mean) < 4


def test_a_16_bit_grey_quiz_picture_keeps_its_brightness(api_as):
    instructor = api_as("instructor")
    png, true_mean = sixteen_bit_grey_png(256)

    response = instructor.post("/api/quiz/images", files={"file": ("grey16.png", png, "image/png")})
    served = instructor.get(response.json()["image_url"])

    assert response.status_code == 201
    assert abs(mean_brightness(served.content) - true_mean) < 4


def _encoded(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


GREY = np.linspace(0, 1, 64 * 64).reshape(64, 64)


@pytest.mark.parametrize(
    "make, fmt",
    [
        (lambda: Image.fromarray((GREY * 65535).astype(np.uint16)), "PNG"),  # I;16
        (lambda: Image.fromarray((GREY * 65535).astype(np.int32)), "TIFF"),  # I holding 16-bit values
        (lambda: Image.fromarray(GREY.astype(np.float32)), "TIFF"),  # F in 0..1
        (lambda: Image.fromarray((GREY * 255).astype(np.uint8)).convert("LA"), "PNG"),
        (lambda: Image.fromarray((GREY * 255).astype(np.uint8)).convert("CMYK"), "JPEG"),
        (lambda: Image.fromarray((GREY * 255).astype(np.uint8)).convert("P"), "PNG"),
    ],
    ids=["I;16", "I", "F", "LA", "CMYK", "P"],
)
def test_unusual_modes_decode_to_8_bit_rgb_with_their_brightness(make, fmt):
    decoded, _ = images.decode(
        _encoded(make(), fmt), max_pixels=10**6, formats=frozenset({"PNG", "TIFF", "JPEG"})
    )
    assert decoded.mode == "RGB" and not decoded.info
    mean = np.asarray(decoded.convert("L"), dtype=np.float64).mean()
    expected = 255 - GREY.mean() * 255 if fmt == "JPEG" else GREY.mean() * 255  # CMYK from L is inverted
    assert abs(mean - expected) < 6, (mean, expected)


def test_a_picture_over_the_pixel_limit_is_refused_from_its_header():
    with pytest.raises(images.ImageTooLarge):
        images.decode(_encoded(Image.new("RGB", (2000, 2000))), max_pixels=1_000_000)
