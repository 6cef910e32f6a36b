"""Photo sets for the dataset checks, derived from the real portraits in tests/photos.py:
a good set of one person (Grace Hopper) built by flips, crops, rotations, scale and light,
and single photos with one flaw each."""

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from tests.photos import astronaut, grace_hopper

SIDE = 1100  # above SDXL's 1024 so the resolution check passes


def _fit(im: Image.Image, side: int = SIDE) -> Image.Image:
    """Scale so the shorter side is `side` (upscaled with Lanczos where needed)."""
    scale = side / min(im.size)
    return im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)


def good_set(count: int = 12) -> list[Image.Image]:
    """`count` distinct-looking photos of one person: every one passes the per-photo checks."""
    base = grace_hopper()
    rng = random.Random(7)
    photos = []
    crops = [
        (0, 0, 512, 512),
        (0, 40, 512, 600),
        (30, 20, 482, 560),
        (0, 60, 470, 560),
        (40, 0, 512, 480),
        (10, 10, 500, 590),
        (60, 50, 512, 520),
    ]
    for i in range(count):
        im = base.crop(crops[i % len(crops)])
        if i % 2:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        angle = [-8, 0, 6, -4, 9][i % 5] + rng.uniform(-1, 1)
        im = im.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(90, 90, 100))
        im = ImageEnhance.Brightness(im).enhance(0.85 + 0.05 * (i % 5))
        im = ImageEnhance.Color(im).enhance(0.9 + 0.05 * (i % 4))
        photos.append(_fit(im, SIDE + 40 * (i % 4)))
    return photos


def _eyes(im: Image.Image):
    from app.trainer import faces

    face = faces.detect_faces(im)[0]
    return face, faces.eye_boxes(face, margin=0.35)


def with_sunglasses(im: Image.Image) -> Image.Image:
    """Dark lenses drawn over both eyes, joined by a bridge."""
    out = im.copy()
    face, boxes = _eyes(out)
    draw = ImageDraw.Draw(out)
    for left, top, right, bottom in boxes:
        draw.ellipse((left, top, right, bottom), fill=(12, 12, 16))
    (l1, t1, r1, b1), (l2, t2, r2, b2) = boxes
    draw.line((r1, (t1 + b1) // 2, l2, (t2 + b2) // 2), fill=(12, 12, 16), width=max(3, (b1 - t1) // 6))
    return out


def with_second_face(im: Image.Image) -> Image.Image:
    """Another real face (the astronaut's) pasted beside this one at a similar size, as in a
    photo of two people: the canvas is widened so neither face covers the other."""
    from app.trainer import faces

    face = faces.detect_faces(im)[0]
    other = astronaut()
    box = faces.detect_faces(other)[0].box
    pad = (box[2] - box[0]) // 3
    head = other.crop((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
    scale = 0.9 * face.width / (box[2] - box[0])
    head = head.resize((round(head.width * scale), round(head.height * scale)), Image.Resampling.LANCZOS)
    out = Image.new("RGB", (im.width + head.width + 20, im.height), (120, 120, 128))
    out.paste(im, (head.width + 20, 0))
    out.paste(head, (10, max(0, face.box[1] - round(pad * scale))))
    return out


def blurred(im: Image.Image) -> Image.Image:
    """Heavy Gaussian blur, like a missed focus."""
    return im.filter(ImageFilter.GaussianBlur(radius=im.width / 120))


def tiny(im: Image.Image) -> Image.Image:
    """Down to 300 px on the long side."""
    out = im.copy()
    out.thumbnail((300, 300), Image.Resampling.LANCZOS)
    return out


def other_person() -> Image.Image:
    """A different real person (the astronaut), upscaled past 1024."""
    return _fit(astronaut().crop((60, 0, 400, 340)), SIDE)


def jpeg_bytes(im: Image.Image, **save) -> bytes:
    """The photo as JPEG bytes (extra keyword arguments go to PIL's save)."""
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=90, **save)
    return buffer.getvalue()


def write(folder: Path, photos: list[Image.Image], prefix: str = "photo") -> list[Path]:
    """Save photos as JPEG files in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, im in enumerate(photos):
        path = folder / f"{prefix}_{i:02d}.jpg"
        path.write_bytes(jpeg_bytes(im))
        paths.append(path)
    return paths
