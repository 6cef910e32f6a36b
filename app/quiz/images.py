"""Pictures for image choice questions: uploads re-encoded with Pillow, size-capped, and stored
by content hash under data_dir/quiz_images/ (course content, not any user's private files)."""

import hashlib
import re
from pathlib import Path

from app.errors import PayloadTooLarge
from app.quiz.authoring_errors import InvalidImage
from app.trainer import images

IMAGE_DIR = "quiz_images"
URL_PREFIX = "/quiz/images/"
MAX_IMAGE_BYTES = 8 * 1024 * 1024  # one uploaded picture, before re-encoding
MAX_SOURCE_PIXELS = 40_000_000  # refuse decompression bombs before decoding them
MAX_SIDE = 1024  # stored pictures are at most this wide and high
QUIZ_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"})
NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg)$")
# Course pictures that ship with the app, and uploaded ones: the only places a choice may point.
LOCAL_PATH = re.compile(r"^/(static|quiz/images)/[A-Za-z0-9_\-./]+\.(png|jpg|jpeg|webp|gif|svg)$")


def image_dir(data_dir: Path) -> Path:
    """The folder holding uploaded quiz pictures."""
    return data_dir / IMAGE_DIR


def store_image(*, data_dir: Path, data: bytes) -> str:
    """Re-encode an uploaded picture (metadata dropped, at most MAX_SIDE px) and return its URL."""
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge(f"A picture may be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise InvalidImage("The picture is empty.")
    try:
        img, _ = images.decode(data, max_pixels=MAX_SOURCE_PIXELS, formats=QUIZ_FORMATS, keep_alpha=True)
    except images.ImageTooLarge:
        raise InvalidImage("The picture has too many pixels; scale it down first.") from None
    except images.ImageUnreadable:
        raise InvalidImage("The file is not a picture we can read (use PNG, JPEG, WebP or GIF).") from None
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    ext = "png" if img.mode == "RGBA" else "jpg"
    encoded = images.encode(img, "PNG" if ext == "png" else "JPEG", quality=88)
    name = f"{hashlib.sha256(encoded).hexdigest()}.{ext}"
    folder = image_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(encoded)
        tmp.replace(target)  # atomic: a reader never sees half a picture
    return URL_PREFIX + name


def image_file(*, data_dir: Path, name: str) -> Path | None:
    """The stored picture with this name, or None (names are hashes, never paths)."""
    if not NAME.match(name):
        return None
    path = image_dir(data_dir) / name
    return path if path.is_file() else None


def check_image_url(url: str, *, data_dir: Path | None = None) -> str | None:
    """Why `url` cannot be a choice's picture, or None when it can."""
    if not LOCAL_PATH.match(url) or ".." in url or "//" in url:
        return f"the picture {url!r} is not on this site: upload it first and use its /quiz/images/ address"
    if url.startswith(URL_PREFIX) and data_dir is not None:
        if image_file(data_dir=data_dir, name=url[len(URL_PREFIX) :]) is None:
            return f"the picture {url!r} was never uploaded here"
    return None
