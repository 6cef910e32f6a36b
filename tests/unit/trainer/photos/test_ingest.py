"""Safe ingest: hostile files are refused with a message; photos come out upright and bare."""

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from app.trainer.photos import ingest
from app.trainer.photos.ingest import RejectedUpload, UploadFile, UploadTooLarge
from tests.photos import grace_hopper


def jpeg(im: Image.Image | None = None, **save) -> bytes:
    buffer = io.BytesIO()
    (im or grace_hopper()).save(buffer, format="JPEG", quality=90, **save)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (with a tiny, valid IDAT)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def zipped(
    entries: dict[str, bytes], *, symlink: str | None = None, compression=zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            z.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_sniff_reads_magic_bytes_not_names():
    assert ingest.sniff(jpeg()) == "jpeg"
    assert ingest.sniff(png_header(10, 10)) == "png"
    assert ingest.sniff(b"MZ\x90\x00" + b"\x00" * 100) is None
    assert ingest.sniff(zipped({"a.jpg": jpeg()})) == "zip"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.jpg", b"", "empty"),
        ("setup.jpg", b"MZ\x90\x00\x03" + b"\x00" * 2000, "not a photo"),
        ("cut.jpg", jpeg()[:4000], "truncated"),
        ("page.jpg", jpeg(comment=b"<html><script>alert(1)</script></html>"), "web page code"),
        ("notes.txt", b"hello there", "not a photo"),
    ],
)
def test_hostile_single_files_are_refused(name, data, words):
    with pytest.raises(RejectedUpload) as error:
        ingest.clean_all([UploadFile(name, data)])
    assert words in error.value.message


def test_polyglot_with_html_after_the_image_is_refused():
    data = jpeg() + b"<!DOCTYPE html><html><body>hi</body></html>"
    with pytest.raises(RejectedUpload, match="web page code"):
        ingest.clean(UploadFile("poly.jpg", data))


def test_pixel_bomb_is_refused_from_the_header():
    with pytest.raises(UploadTooLarge, match="20000x20000|too many pixels"):
        ingest.clean(UploadFile("bomb.png", png_header(20000, 20000)))


def test_zip_with_parent_paths_is_refused():
    with pytest.raises(RejectedUpload, match="leaves the folder"):
        ingest.expand([UploadFile("set.zip", zipped({"ok.jpg": jpeg(), "../../evil.jpg": jpeg()}))])


def test_zip_with_a_symlink_is_refused():
    with pytest.raises(RejectedUpload, match="symbolic link"):
        ingest.expand([UploadFile("set.zip", zipped({"ok.jpg": jpeg()}, symlink="link.jpg"))])


def test_zip_bomb_is_refused_before_expanding():
    bomb = zipped({"big.jpg": b"\x00" * (30 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(UploadTooLarge, match="zip bomb"):
        ingest.expand([UploadFile("bomb.zip", bomb)])


def test_empty_zip_and_zero_byte_zip_are_refused():
    with pytest.raises(RejectedUpload, match="empty"):
        ingest.expand([UploadFile("set.zip", b"")])
    with pytest.raises(RejectedUpload, match="no photos"):
        ingest.expand([UploadFile("set.zip", zipped({}))])


def test_zip_members_become_photos_and_junk_is_skipped():
    data = zipped({"holiday/a.jpg": jpeg(), "__MACOSX/._a.jpg": b"junk", ".DS_Store": b"junk"})
    files = ingest.expand([UploadFile("set.zip", data)])
    assert [f.filename for f in files] == ["a.jpg"]


def test_exif_orientation_is_applied_and_all_metadata_removed():
    im = grace_hopper()  # 512 wide, 600 high
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees to show
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 30.0)
    data = jpeg(im, exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif().get_ifd(0x8825)  # the upload does carry GPS
    clean = ingest.clean(UploadFile("phone.jpg", data))
    assert clean.size == (600, 512)  # turned upright
    with Image.open(io.BytesIO(clean.jpeg)) as stored:
        assert not stored.getexif()
        assert "exif" not in stored.info and "icc_profile" not in stored.info
    assert b"Exif" not in clean.jpeg[:200]


def test_png_with_alpha_becomes_rgb_on_white():
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    clean = ingest.clean(UploadFile("clear.png", buffer.getvalue()))
    assert clean.image.mode == "RGB" and clean.image.getpixel((5, 5)) == (255, 255, 255)


def test_store_is_content_addressed(tmp_path):
    clean = ingest.clean(UploadFile("a.jpg", jpeg()))
    path = ingest.store(clean, tmp_path)
    assert path.name == f"{clean.sha256}.jpg" and path.read_bytes() == clean.jpeg
    assert ingest.store(clean, tmp_path) == path
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_too_many_files_is_refused():
    one = jpeg()
    with pytest.raises(UploadTooLarge, match="Too many files"):
        ingest.expand([UploadFile(f"{i}.jpg", one) for i in range(ingest.MAX_FILES + 1)])
