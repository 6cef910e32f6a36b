"""The course's pictures, derived from two photos that ship inside installed packages.

scikit-image ships a portrait of astronaut Eileen Collins and matplotlib one of Grace Hopper;
from them we draw lesson 1's good and bad dataset examples and an illustration beside each
`prompt_gen.txt` card. Nothing is downloaded. Run `python -m app.lessons.images` (make install
does) or let the app create them on start when they are missing.

The two photos never change, so the face geometry below was measured once on them
(a landmark detector's eye centres and face box) and is written down as numbers.
"""

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from app.web import STATIC_DIR

log = logging.getLogger("loraface")

OUT_DIR = STATIC_DIR / "generated" / "lessons"
URL_PREFIX = "/static/generated/lessons/"
SIZE = 384  # side of a square example picture

# Measured on skimage.data.astronaut() (512x512): eye centres, face box (left, top, right, bottom).
ASTRONAUT_EYES = ((203, 101), (246, 104))
ASTRONAUT_FACE = (175, 76, 265, 166)
# Measured on matplotlib's sample grace_hopper.jpg (512 wide, 600 high).
HOPPER_EYES = ((224, 192), (305, 189))
HOPPER_FACE = (180, 139, 366, 325)


# ---- the source photos ----


def astronaut() -> Image.Image:
    """The astronaut portrait shipped with scikit-image."""
    from skimage import data

    return Image.fromarray(data.astronaut()).convert("RGB")


def grace_hopper() -> Image.Image:
    """The Grace Hopper portrait shipped with matplotlib."""
    from matplotlib import cbook

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as img:
        return img.convert("RGB")


def face_crop(
    img: Image.Image, face: tuple[int, int, int, int], scale: float, size: int = SIZE
) -> Image.Image:
    """A square crop centred on the face box, `scale` times its width, resized to `size`."""
    left, top, right, bottom = face
    cx, cy = (left + right) / 2, (top + bottom) / 2 + (bottom - top) * 0.08
    half = (right - left) * scale / 2
    half = min(half, cx, cy, img.width - cx, img.height - cy)  # stay inside the photo
    box = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
    return img.crop(box).resize((size, size), Image.LANCZOS)


def _crop_transform(face: tuple[int, int, int, int], scale: float, img: Image.Image, size: int = SIZE):
    """Maps a point of the photo into the crop made by face_crop with the same arguments."""
    left, top, right, bottom = face
    cx, cy = (left + right) / 2, (top + bottom) / 2 + (bottom - top) * 0.08
    half = min((right - left) * scale / 2, cx, cy, img.width - cx, img.height - cy)
    k = size / (2 * half)
    return lambda x, y: ((x - (cx - half)) * k, (y - (cy - half)) * k)


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled scalable font (no system fonts needed)."""
    return ImageFont.load_default(size=size)


def label(img: Image.Image, text: str, *, size: int = 20) -> Image.Image:
    """The picture with a caption strip underneath."""
    strip = size + 16
    out = Image.new("RGB", (img.width, img.height + strip), (24, 24, 36))
    out.paste(img, (0, 0))
    draw = ImageDraw.Draw(out)
    draw.text(
        (img.width / 2, img.height + strip / 2), text, fill=(240, 240, 250), font=font(size), anchor="mm"
    )
    return out


def row(images: list[Image.Image], gap: int = 12, background=(24, 24, 36)) -> Image.Image:
    """Pictures side by side on a dark background."""
    height = max(i.height for i in images)
    width = sum(i.width for i in images) + gap * (len(images) + 1)
    out = Image.new("RGB", (width, height + 2 * gap), background)
    x = gap
    for img in images:
        out.paste(img, (x, gap))
        x += img.width + gap
    return out


# ---- lesson 1: good and bad dataset pictures ----


def good() -> Image.Image:
    """A sharp, evenly lit, head-and-shoulders crop of one face: what a dataset wants."""
    return face_crop(astronaut(), ASTRONAUT_FACE, 2.4)


def good_daylight() -> Image.Image:
    """The same face, tighter and in warmer, brighter light: variety a dataset wants."""
    img = face_crop(astronaut(), ASTRONAUT_FACE, 1.9)
    warm = np.asarray(img).astype(np.float32) * np.array([1.06, 1.0, 0.9])
    img = Image.fromarray(np.clip(warm, 0, 255).astype(np.uint8))
    return ImageEnhance.Brightness(img).enhance(1.08)


def good_studio() -> Image.Image:
    """The same face, framed wider, in cooler studio light, seen mirrored (another angle of view)."""
    img = ImageOps.mirror(face_crop(astronaut(), ASTRONAUT_FACE, 3.2))
    cool = np.asarray(img).astype(np.float32) * np.array([0.94, 0.99, 1.08])
    return ImageEnhance.Contrast(Image.fromarray(np.clip(cool, 0, 255).astype(np.uint8))).enhance(1.1)


def blurred() -> Image.Image:
    """Heavy blur: the model would learn soft, smeared skin as part of the face."""
    return good().filter(ImageFilter.GaussianBlur(9))


def sunglasses() -> Image.Image:
    """Dark glasses drawn over the measured eyes: the most telling part of the face is hidden."""
    photo = astronaut()
    to_crop = _crop_transform(ASTRONAUT_FACE, 2.4, photo)
    img = good()
    draw = ImageDraw.Draw(img)
    (lx, ly), (rx, ry) = (to_crop(*p) for p in ASTRONAUT_EYES)
    radius = (rx - lx) * 0.42
    for x, y in ((lx, ly), (rx, ry)):
        draw.ellipse((x - radius, y - radius * 0.8, x + radius, y + radius * 0.8), fill=(12, 12, 16))
        draw.ellipse(
            (x - radius * 0.55, y - radius * 0.6, x - radius * 0.15, y - radius * 0.3), fill=(70, 70, 90)
        )
    draw.line((lx + radius, ly, rx - radius, ry), fill=(12, 12, 16), width=max(3, round(radius / 5)))
    draw.line((lx - radius, ly, lx - radius * 1.7, ly - radius * 0.3), fill=(12, 12, 16), width=4)
    draw.line((rx + radius, ry, rx + radius * 1.7, ry - radius * 0.3), fill=(12, 12, 16), width=4)
    return img


def low_resolution() -> Image.Image:
    """A 40-pixel thumbnail blown up: blocks instead of skin, eyes and hair."""
    return good().resize((40, 40), Image.BILINEAR).resize((SIZE, SIZE), Image.NEAREST)


def watermarked() -> Image.Image:
    """A stock-photo style watermark across the face: the model would learn the letters too."""
    img = good().convert("RGBA")
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for y in range(10, SIZE, 84):
        draw.text((SIZE / 2, y), "© PREVIEW · STOCK", fill=(255, 255, 255, 175), font=font(36), anchor="mt")
    return Image.alpha_composite(img, layer.rotate(-20, center=(SIZE / 2, SIZE / 2))).convert("RGB")


def two_faces() -> Image.Image:
    """A second person pasted beside the subject: whose face is the model meant to learn?"""
    img = good()
    other = face_crop(grace_hopper(), HOPPER_FACE, 1.5, size=170)
    mask = Image.new("L", other.size, 0)
    ImageDraw.Draw(mask).ellipse((6, 6, other.width - 6, other.height - 6), fill=255)
    img.paste(
        other, (SIZE - other.width - 8, SIZE - other.height - 8), mask.filter(ImageFilter.GaussianBlur(4))
    )
    return img


# ---- the AI Preview illustrations beside the worked examples ----


EDITED_NOTE = "Edited photos, not model output"


def edited(img: Image.Image, note: str = EDITED_NOTE) -> Image.Image:
    """The picture under a strip that says it is an edited photo, so no one mistakes it for a sample."""
    strip = 30
    out = Image.new("RGB", (img.width, img.height + strip), (24, 24, 36))
    out.paste(img, (0, strip))
    ImageDraw.Draw(out).text((10, strip / 2), note, fill=(250, 214, 120), font=font(16), anchor="lm")
    return out


def deep_fried(img: Image.Image) -> Image.Image:
    """Crushed contrast and burnt colour: shadows clipped to black, highlights blown, colour over-saturated."""
    burnt = ImageEnhance.Color(img).enhance(3.2)
    crushed = ImageEnhance.Contrast(burnt).enhance(2.6)
    return ImageOps.posterize(crushed.filter(ImageFilter.UnsharpMask(radius=3, percent=260, threshold=0)), 4)


def new_shot(size: int) -> Image.Image:
    """The subject as a sample that learned her but copies nothing: mirrored, tighter, warmer light."""
    crop = ImageOps.mirror(face_crop(astronaut(), ASTRONAUT_FACE, 1.7, size=size))
    return Image.fromarray(np.clip(np.asarray(crop) * np.array((1.08, 1.0, 0.86)), 0, 255).astype(np.uint8))


def preview_one_photo() -> Image.Image:
    """Lesson 1: six crops of ONE photo: same smile, suit and backdrop, so not a varied set."""
    photo = astronaut()
    tiles = [label(face_crop(photo, ASTRONAUT_FACE, scale, size=180), f"crop {i}", size=14)
             for i, scale in enumerate((1.8, 2.2, 2.6, 3.0, 3.4, 3.8), start=1)]  # fmt: skip
    return edited(_grid(tiles, columns=3), "One photo cropped six ways: edited, not a varied set")


def preview_lora_matrices() -> Image.Image:
    """Lesson 2: the frozen weight W beside the small trainable pair B and A."""
    img = Image.new("RGB", (640, 360), (250, 250, 253))
    draw = ImageDraw.Draw(img)
    draw.rectangle((30, 60, 250, 280), fill=(205, 208, 222), outline=(90, 90, 120), width=3)
    draw.text((140, 155), "W", fill=(40, 40, 60), font=font(48), anchor="mm")
    draw.text((140, 205), "frozen (d x d)", fill=(70, 70, 90), font=font(18), anchor="mm")
    draw.text((290, 170), "+", fill=(40, 40, 60), font=font(48), anchor="mm")
    draw.rectangle((330, 60, 370, 280), fill=(91, 75, 234), outline=(60, 45, 180), width=3)
    draw.text((350, 170), "B", fill=(255, 255, 255), font=font(28), anchor="mm")
    draw.text((350, 300), "d x r", fill=(70, 70, 90), font=font(18), anchor="mm")
    draw.text((400, 170), "·", fill=(40, 40, 60), font=font(48), anchor="mm")
    draw.rectangle((430, 150, 610, 190), fill=(139, 127, 255), outline=(60, 45, 180), width=3)
    draw.text((520, 170), "A", fill=(255, 255, 255), font=font(28), anchor="mm")
    draw.text((520, 215), "r x d", fill=(70, 70, 90), font=font(18), anchor="mm")
    draw.text((320, 28), "output = W x + (alpha / r) · B A x", fill=(40, 40, 60), font=font(22), anchor="mm")
    draw.text(
        (320, 340),
        "only B and A train: megabytes beside gigabytes",
        fill=(70, 70, 90),
        font=font(18),
        anchor="mm",
    )
    return img


def preview_trigger() -> Image.Image:
    """Lesson 3: the class word covers every woman; the trigger points at one face."""
    a = face_crop(astronaut(), ASTRONAUT_FACE, 2.2, size=200)
    h = face_crop(grace_hopper(), HOPPER_FACE, 1.6, size=200)
    left = row([label(h, '"woman"'), label(a, '"woman"')])
    right = row([label(ImageOps.expand(a, border=6, fill=(139, 127, 255)).resize((200, 200)), '"sks woman"')])
    return row([left, right], gap=24, background=(250, 250, 253))


def preview_crop() -> Image.Image:
    """Lesson 4: the square crop centred on the face, and the sizes it is saved at."""
    photo = astronaut()
    marked = photo.copy()
    left, top, right, bottom = ASTRONAUT_FACE
    cx, cy = (left + right) / 2, (top + bottom) / 2 + (bottom - top) * 0.08
    half = min((right - left) * 2.4 / 2, cx, cy)
    ImageDraw.Draw(marked).rectangle(
        (cx - half, cy - half, cx + half, cy + half), outline=(139, 127, 255), width=5
    )
    marked = marked.resize((300, 300))
    crop = face_crop(photo, ASTRONAUT_FACE, 2.4, size=300)
    return row([label(marked, "photo, face found"), label(crop, "1024x1024 SDXL · 512x512 SD 1.5", size=16)])


def preview_category() -> Image.Image:
    """Lesson 5: a Character LoRA learns a face; a Style LoRA learns a look (here a flat palette)."""
    crop = face_crop(astronaut(), ASTRONAUT_FACE, 2.4, size=260)
    style = ImageOps.posterize(ImageEnhance.Color(crop).enhance(1.6), 2).filter(ImageFilter.SMOOTH_MORE)
    return row([label(crop, "Character: this face"), label(style, "Style: this look")])


def preview_fit() -> Image.Image:
    """Lesson 6: under-fit is someone else (a different real photo), over-fit a copied training
    shot, deep-fried crushed contrast and burnt colour; each tile labelled."""
    training_shot = good().resize((200, 200))
    someone_else = face_crop(grace_hopper(), HOPPER_FACE, 1.6, size=200)
    return edited(
        row(
            [
                label(someone_else, "under-fit: someone else", size=15),
                label(new_shot(200), "about right: her, new shot", size=15),
                label(training_shot, "over-fit: training photo", size=15),
                label(deep_fried(training_shot), "deep-fried", size=15),
            ]
        )
    )


def preview_epochs() -> Image.Image:
    """Lesson 7: what per-epoch samples tend to show, epoch by epoch, as labelled edited photos."""
    training_shot = good().resize((170, 170))
    tiles = [
        label(face_crop(grace_hopper(), HOPPER_FACE, 1.6, size=170), "epoch 2: someone else", size=13),
        label(new_shot(170), "epoch 6: her", size=13),
        label(training_shot, "epoch 8: a training copy", size=13),
        label(deep_fried(training_shot), "epoch 10: fried", size=13),
    ]
    return edited(row(tiles))


def preview_strength() -> Image.Image:
    """Lesson 8: one seed at four strengths as a labelled row (never a cross-fade of two faces)."""
    face = new_shot(170)
    heavy = ImageEnhance.Contrast(ImageEnhance.Color(face).enhance(1.5)).enhance(1.35)
    tiles = [
        label(face_crop(grace_hopper(), HOPPER_FACE, 1.6, size=170), "0.0: base model's woman", size=13),
        label(face, "0.8: the learned face", size=13),
        label(heavy, "1.1: heavier colour", size=13),
        label(deep_fried(face), "1.5: fried", size=13),
    ]
    return edited(row(tiles))


def _grid(tiles: list[Image.Image], columns: int, gap: int = 8) -> Image.Image:
    w, h = tiles[0].size
    rows = (len(tiles) + columns - 1) // columns
    out = Image.new("RGB", (columns * w + (columns + 1) * gap, rows * h + (rows + 1) * gap), (24, 24, 36))
    for i, tile in enumerate(tiles):
        out.paste(tile, (gap + (i % columns) * (w + gap), gap + (i // columns) * (h + gap)))
    return out


PICTURES: dict[str, Callable[[], Image.Image]] = {
    "check-good.jpg": good,
    "check-daylight.jpg": good_daylight,
    "check-studio.jpg": good_studio,
    "check-blur.jpg": blurred,
    "check-sunglasses.jpg": sunglasses,
    "check-lowres.jpg": low_resolution,
    "check-watermark.jpg": watermarked,
    "check-two-faces.jpg": two_faces,
    "preview-one-photo.jpg": preview_one_photo,
    "preview-lora-matrices.png": preview_lora_matrices,
    "preview-trigger.jpg": preview_trigger,
    "preview-crop.jpg": preview_crop,
    "preview-category.jpg": preview_category,
    # new names when a picture's meaning changes: ensure_built only draws missing files
    "preview-fit-labelled.jpg": preview_fit,
    "preview-epochs-labelled.jpg": preview_epochs,
    "preview-strength-row.jpg": preview_strength,
}


def url(name: str) -> str:
    """The site path a generated picture is served at."""
    return URL_PREFIX + name


def _save(img: Image.Image, path: Path) -> None:
    """Write through a temporary file so a second process never reads half a picture."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    try:
        img.save(tmp, quality=88) if path.suffix == ".jpg" else img.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a proxy serving /static must read it
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def build(out_dir: Path = OUT_DIR, *, force: bool = False) -> list[Path]:
    """Write every picture into out_dir (only the missing ones unless force); returns those written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in PICTURES.items():
        path = out_dir / name
        if force or not path.exists():
            _save(make(), path)
            written.append(path)
    return written


def ensure_built(out_dir: Path = OUT_DIR) -> None:
    """Create missing pictures on app start; without scikit-image/matplotlib, say so and go on."""
    if all((out_dir / name).exists() for name in PICTURES):
        return
    try:
        build(out_dir)
    except (ImportError, OSError) as exc:
        # A missing extra or a read-only install must not stop the server; the pages show alt text.
        log.warning("course pictures not built (%s); install the ml extra and run make install", exc)


if __name__ == "__main__":
    paths = build(force="--force" in sys.argv[1:])
    print(f"wrote {len(paths)} course pictures into {OUT_DIR}")
