"""Safe ingest: decide what an upload is from its bytes, refuse hostile input, and turn every
photo into a plain RGB JPEG without metadata (EXIF orientation applied first, GPS gone).

Anything refused raises `RejectedUpload` with a message for the whole request; nothing here
writes a file except `store`, which callers use only once the whole upload has been accepted."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from app.trainer import images

MAX_FILE_BYTES = 40 * 1024 * 1024  # one photo; a 12 MP JPEG is 3-8 MB
MAX_FILES = 60  # per upload; the set check then says 40 at most are useful
MAX_PIXELS = 60_000_000  # about 9500 x 6300: above any phone's default photo
MAX_ZIP_TOTAL_BYTES = 400 * 1024 * 1024  # uncompressed content of one zip
MAX_ZIP_RATIO = 50  # photos are already compressed; a member that shrinks 50x is a bomb
STORE_QUALITY = 95

# Names that zip tools add and that are no photos: skipped quietly.
_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
# Markup inside an image file is a polyglot meant to be served as a page; a real photo's
# compressed data practically never spells these out.
_MARKUP = (
    b"<html",
    b"<script",
    b"<!doctype",
    b"<svg",
    b"<iframe",
    b"<body",
    b"<?php",
    b"javascript:",
    b"<object",
)

try:  # HEIC from iPhones, where the optional plugin is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIC = False


class RejectedUpload(Exception):
    """The upload is refused as a whole; the message tells the user why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UploadTooLarge(RejectedUpload):
    """Refused for its size (bytes, pixels or expansion)."""


@dataclass(frozen=True)
class UploadFile:
    filename: str  # base name only, as shown to the user
    data: bytes


@dataclass(frozen=True)
class CleanImage:
    filename: str
    image: Image.Image  # RGB, upright
    jpeg: bytes  # what gets stored: re-encoded, no EXIF, no ICC, no comments
    sha256: str  # of `jpeg`; the stored file's name
    source_sha256: str  # of the bytes as uploaded, to spot the same file sent twice

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the upright image."""
        return self.image.size


def sniff(data: bytes) -> str | None:
    """The file's kind from its first bytes: jpeg, png, webp, heic, zip, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if (
        len(data) >= 12
        and data[4:8] == b"ftyp"
        and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis")
    ):
        return "heic"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    return None


def display_name(name: str) -> str:
    """The base name of an uploaded or zipped file, as shown to the user."""
    return PurePosixPath(name.replace("\\", "/")).name[:200] or "photo"


def expand(files: list[UploadFile]) -> list[UploadFile]:
    """The photos in an upload: image files as they are, or the members of one zip."""
    if not files:
        raise RejectedUpload("No files were sent: choose some photos or one zip of them.")
    kinds = []
    for f in files:
        if not f.data:
            raise RejectedUpload(f"{f.filename} is empty (0 bytes).")
        kinds.append(sniff(f.data))
    if "zip" in kinds:
        if len(files) > 1:
            raise RejectedUpload("Send either photos or one zip of photos, not both.")
        files = _zip_members(files[0])
    if len(files) > MAX_FILES:
        raise UploadTooLarge(
            f"Too many files ({len(files)}): send at most {MAX_FILES}; 15-25 good photos are enough."
        )
    return files


def _zip_members(upload: UploadFile) -> list[UploadFile]:
    """The photos inside a zip, refusing traversal, links, nesting and ratio bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload.data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise RejectedUpload(f"{upload.filename} is not a readable zip file.") from None
    if len(infos) > MAX_FILES * 4:
        raise UploadTooLarge(f"{upload.filename} holds {len(infos)} entries: too many for a photo set.")
    members: list[UploadFile] = []
    total = 0
    with archive:
        for info in infos:
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise RejectedUpload(f"{upload.filename} contains a path that leaves the folder ({name!r}).")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise RejectedUpload(
                    f"{upload.filename} contains a symbolic link ({name!r}); only photos are accepted."
                )
            if (
                info.is_dir()
                or name.startswith(_JUNK_PREFIXES)
                or parts[-1].lower() in _JUNK_NAMES
                or parts[-1].startswith("._")
            ):
                continue
            if info.flag_bits & 0x1:
                raise RejectedUpload(f"{upload.filename} is password-protected; send an unencrypted zip.")
            if info.file_size > MAX_FILE_BYTES:
                raise UploadTooLarge(f"{name} in the zip is larger than {MAX_FILE_BYTES // 2**20} MB.")
            if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                raise UploadTooLarge(
                    f"{upload.filename} looks like a zip bomb ({name!r} expands {info.file_size // max(info.compress_size, 1)}x)."
                )
            total += info.file_size
            if total > MAX_ZIP_TOTAL_BYTES:
                raise UploadTooLarge(
                    f"{upload.filename} expands to more than {MAX_ZIP_TOTAL_BYTES // 2**20} MB."
                )
            data = _read_member(archive, info, upload.filename)
            if sniff(data) == "zip":
                raise RejectedUpload(
                    f"{upload.filename} contains another zip ({name!r}); send one flat zip of photos."
                )
            members.append(UploadFile(display_name(name), data))
    if not members:
        raise RejectedUpload(f"{upload.filename} holds no photos.")
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, zip_name: str) -> bytes:
    """A member's bytes, reading at most its declared size + 1 (headers can lie)."""
    try:
        with archive.open(info) as fh:
            data = fh.read(min(info.file_size, MAX_FILE_BYTES) + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        raise RejectedUpload(
            f"{info.filename} in {zip_name} cannot be read (damaged or an unsupported compression)."
        ) from None
    if len(data) > info.file_size or len(data) > MAX_FILE_BYTES:
        raise RejectedUpload(f"{zip_name} lies about the size of {info.filename!r}.")
    return data


def clean(upload: UploadFile, *, encode: bool = True) -> CleanImage:
    """Decode one photo safely and re-encode it upright, in sRGB, with no metadata
    (`encode=False` skips the JPEG for callers that only check, leaving jpeg empty)."""
    name, data = upload.filename, upload.data
    if not data:
        raise RejectedUpload(f"{name} is empty (0 bytes).")
    if len(data) > MAX_FILE_BYTES:
        raise UploadTooLarge(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
    kind = sniff(data)
    if kind is None or kind == "zip":
        raise RejectedUpload(
            f"{name} is not a photo: send JPEG, PNG or WebP files{' (or HEIC)' if HEIC else ''}, or one zip of them."
        )
    if kind == "heic" and not HEIC:
        raise RejectedUpload(f"{name} is HEIC, which this server cannot read: export it as JPEG.")
    lowered = data.lower()
    if any(marker in lowered for marker in _MARKUP):
        raise RejectedUpload(f"{name} carries web page code inside the image data; it is refused.")
    try:
        with Image.open(io.BytesIO(data)) as im:
            # The header gives the size before any pixel is decoded: refuse bombs here.
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise UploadTooLarge(
                    f"{name} claims {width}x{height} pixels, over the {MAX_PIXELS // 1_000_000} MP limit."
                )
            if getattr(im, "n_frames", 1) > 1 and kind != "heic":
                im.seek(0)
            fmt = (im.format or "").lower()
            if {"jpeg": "jpeg", "png": "png", "webp": "webp", "heif": "heic", "heic": "heic"}.get(
                fmt
            ) != kind:
                raise RejectedUpload(f"{name} is not the kind of image its first bytes say.")
            im.load()
            rgb = images.normalize(im)  # upright, 8-bit sRGB, no metadata (shared with quiz and community)
    except RejectedUpload:
        raise
    except Image.DecompressionBombError:
        raise UploadTooLarge(f"{name} is too many pixels to open safely.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
        reason = (
            "it is cut short (truncated)"
            if "truncat" in str(error).lower()
            else "it is damaged or not a real image"
        )
        raise RejectedUpload(f"{name} cannot be read: {reason}.") from None
    jpeg = b""
    if encode:
        buffer = io.BytesIO()
        rgb.save(buffer, format="JPEG", quality=STORE_QUALITY)
        jpeg = buffer.getvalue()
    return CleanImage(
        filename=name,
        image=rgb,
        jpeg=jpeg,
        sha256=hashlib.sha256(jpeg).hexdigest() if encode else "",
        source_sha256=hashlib.sha256(data).hexdigest(),
    )


def clean_all(files: list[UploadFile]) -> list[CleanImage]:
    """Every photo of an upload, cleaned; one hostile file refuses the whole upload."""
    return [clean(f) for f in expand(files)]


def store(image: CleanImage, folder: Path) -> Path:
    """Write the cleaned JPEG as folder/<sha256>.jpg (atomic; an existing copy is kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{image.sha256}.jpg"
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(image.jpeg)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
