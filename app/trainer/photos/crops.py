"""Square training crops centred on the face with head and shoulders (lesson 4), at the base's
resolution; the learner can nudge a crop (move, zoom) and the numbers are kept."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

HEAD_AND_SHOULDERS = 3.2  # crop side over the face box width
MOST_CONTEXT = 5.0  # never so wide that the face becomes a small part of the crop
SHOULDER_SHIFT = 0.3  # move the centre down by this share of the face width, towards the shoulders
MAX_UPSCALE = 1.5  # blowing a crop up more than this gets a warning
ZOOM_RANGE = (0.5, 2.0)


@dataclass(frozen=True)
class Nudge:
    dx: float = 0.0  # share of the crop side to move right (negative: left)
    dy: float = 0.0  # share of the crop side to move down (negative: up)
    zoom: float = 1.0  # above 1: closer (smaller crop), below 1: wider

    def moved(self, *, dx: float = 0.0, dy: float = 0.0, zoom: float = 1.0) -> Nudge:
        """This nudge plus another step, zoom kept in range."""
        z = min(max(self.zoom * zoom, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        return Nudge(
            dx=max(-1.0, min(1.0, self.dx + dx)), dy=max(-1.0, min(1.0, self.dy + dy)), zoom=round(z, 4)
        )


@dataclass(frozen=True)
class CropBox:
    left: int
    top: int
    side: int  # square side in the original photo's pixels
    resolution: int  # side of the saved crop

    @property
    def upscale(self) -> float:
        """How much the crop is blown up to reach the resolution (1.0 or less: none)."""
        return self.resolution / self.side

    @property
    def upscaled_too_much(self) -> bool:
        """True when the crop is enlarged beyond MAX_UPSCALE."""
        return self.upscale > MAX_UPSCALE


def crop_box(
    size: tuple[int, int],
    *,
    resolution: int,
    face_box: tuple[int, int, int, int] | None,
    face_center: tuple[float, float] | None = None,
    nudge: Nudge = Nudge(),
) -> CropBox:
    """The square to cut from a photo of `size` (w, h): centred on the face, wide enough for
    head and shoulders, taking the full resolution's worth of pixels when the photo has them."""
    width, height = size
    short = min(width, height)
    if face_box is None:
        side = short
        cx, cy = width / 2, height / 2
    else:
        face_w = max(face_box[2] - face_box[0], 1)
        cx, cy = face_center or ((face_box[0] + face_box[2]) / 2, (face_box[1] + face_box[3]) / 2)
        cy += SHOULDER_SHIFT * face_w
        # Prefer not to upscale: widen up to MOST_CONTEXT face widths to reach `resolution` pixels.
        side = max(face_w * HEAD_AND_SHOULDERS, min(resolution, face_w * MOST_CONTEXT))
    # Zoom acts on the crop as shown, so "closer" always changes it even when the photo is tight.
    side = min(side, short) / nudge.zoom
    side = int(round(min(max(side, 16), short)))
    cx += nudge.dx * side
    cy += nudge.dy * side
    left = int(round(min(max(cx - side / 2, 0), width - side)))
    top = int(round(min(max(cy - side / 2, 0), height - side)))
    return CropBox(left=left, top=top, side=side, resolution=resolution)


def cut(image: Image.Image, box: CropBox) -> Image.Image:
    """The crop at box.resolution x box.resolution, RGB."""
    square = image.crop((box.left, box.top, box.left + box.side, box.top + box.side))
    if square.size != (box.resolution, box.resolution):
        square = square.resize((box.resolution, box.resolution), Image.Resampling.LANCZOS)
    return square.convert("RGB")
