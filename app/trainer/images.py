"""The one way an uploaded picture becomes pixels: dataset photos, quiz pictures, community pictures.

`decode` opens the first frame, refuses decompression bombs from the header, turns it upright,
converts every mode Pillow can open to 8-bit (16-bit greyscale scaled, not clipped to white),
converts an embedded colour profile to sRGB, and returns a fresh image built from the pixels
alone, so no metadata segment (EXIF, XMP, ICC, JPEG comments, PNG text) can reach a saved copy.
Here, in the trainer library, because dataset ingestion lives here and imports nothing of the app.
"""

import io

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

WHITE = (255, 255, 255)
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


class ImageError(ValueError):
    """A picture we refuse; each caller words its own message from the kind."""


class ImageTooLarge(ImageError):
    """More pixels than allowed (known from the header, before decoding)."""


class ImageUnreadable(ImageError):
    """Not a picture, damaged, cut short, or of a format the caller does not accept."""


def _eight_bit_grey(im: Image.Image) -> Image.Image:
    """I;16, I and F greyscale as 8-bit L: scaled from their real range, never clipped."""
    values = np.asarray(im, dtype=np.float64)
    if im.mode in _SIXTEEN_BIT:
        scale = 65535.0
    elif im.mode == "F" and values.size and np.nanmax(values) <= 1.0:
        scale = 1.0
    else:  # mode I holds 16-bit PNGs on older Pillow, and arbitrary ints otherwise
        peak = float(np.nanmax(values)) if values.size else 0.0
        scale = 255.0 if peak <= 255 else (65535.0 if peak <= 65535 else peak)
    grey = np.clip(np.nan_to_num(values) / scale * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(grey, mode="L")


def _to_rgb(im: Image.Image, keep_alpha: bool) -> Image.Image:
    """RGB (or RGBA when asked and present), alpha otherwise laid on white."""
    if im.mode in _SIXTEEN_BIT or im.mode in ("I", "F"):
        im = _eight_bit_grey(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        if keep_alpha:
            return rgba
        base = Image.new("RGB", rgba.size, WHITE)
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return im if im.mode == "RGB" else im.convert("RGB")


def _profile_to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if not icc:
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode=im.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im  # a broken or non-RGB profile: keep the pixels as they are


def _pixels_only(im: Image.Image) -> Image.Image:
    """A new image from the pixel bytes alone: nothing of the source's info or EXIF survives."""
    return Image.frombytes(im.mode, im.size, im.tobytes())


def normalize(im: Image.Image, *, keep_alpha: bool = False) -> Image.Image:
    """A loaded image as upright 8-bit sRGB RGB (RGBA with keep_alpha) with no metadata."""
    icc = im.info.get("icc_profile")
    was_cmyk = im.mode == "CMYK"
    im = ImageOps.exif_transpose(im) or im
    im = _to_rgb(im, keep_alpha)
    if not was_cmyk and im.mode in ("RGB", "RGBA"):  # a CMYK profile cannot map RGB pixels
        im = _profile_to_srgb(im, icc)
    return _pixels_only(im)


def decode(
    data: bytes,
    *,
    max_pixels: int,
    formats: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP"}),
    keep_alpha: bool = False,
) -> tuple[Image.Image, str]:
    """Decode the first frame of `data` (one of `formats`) into a clean image; returns it and
    the format. Raises ImageTooLarge or ImageUnreadable."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format not in formats:
                raise ImageUnreadable(f"format {im.format} is not accepted")
            if im.width * im.height > max_pixels:
                raise ImageTooLarge(f"{im.width}x{im.height} pixels")
            fmt = im.format
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)
            im.load()
            return normalize(im, keep_alpha=keep_alpha), fmt
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageTooLarge("too many pixels to open safely") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
        raise ImageUnreadable(str(error) or type(error).__name__) from None


def encode(im: Image.Image, fmt: str, *, quality: int = 90) -> bytes:
    """JPEG or PNG bytes of a clean image, with no metadata segment of any kind."""
    out = io.BytesIO()
    if fmt == "PNG":
        im.save(out, format="PNG", optimize=True)
    else:
        im.convert("RGB").save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
