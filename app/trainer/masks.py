"""Face and head masks from the 68 landmarks the dataset checks find, and the per-latent-pixel
loss weight they give: clothes and backgrounds then teach the LoRA little or nothing."""

import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from app.trainer import faces

log = logging.getLogger(__name__)

JAW, BROWS = slice(0, 17), slice(17, 27)  # dlib's 68-point layout
FOREHEAD = 0.45  # the outline goes this share of the brow-to-chin height above the brows
HEAD_WIDTH, HEAD_TOP = (
    1.35,
    0.9,
)  # head ellipse: face width x this; top this share of the face height above the brows


def region_mask(size: tuple[int, int], landmarks, mode: str) -> Image.Image:
    """An "L" mask of the photo's size (w, h): 255 on the face (jaw line up to the forehead) or
    on the head (an ellipse holding face, hair and ears), 0 elsewhere."""
    pts = np.asarray(landmarks, dtype=np.float64)
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    chin_y, brow_y = float(pts[JAW, 1].max()), float(pts[BROWS, 1].min())
    face_h = max(chin_y - brow_y, 1.0)
    if mode == "face":
        forehead = pts[BROWS][::-1] - [0, FOREHEAD * face_h]  # brows raised, walked back across
        outline = np.concatenate([pts[JAW], forehead])
        draw.polygon([tuple(p) for p in outline], fill=255)
    elif mode == "head":
        left, right = pts[:, 0].min(), pts[:, 0].max()
        cx, half_w = (left + right) / 2, (right - left) / 2 * HEAD_WIDTH
        top = brow_y - HEAD_TOP * face_h
        draw.ellipse((cx - half_w, top, cx + half_w, chin_y + 0.05 * face_h), fill=255)
    else:
        raise ValueError(f"unknown mask {mode!r}")
    return mask.filter(ImageFilter.GaussianBlur(max(1.0, face_h / 40)))  # soft edge, no hard seam


def crop_mask(mask: Image.Image, box: tuple[int, int, int, int], out_size: tuple[int, int]) -> Image.Image:
    """The mask cut like the training crop: box (left, top, width, height) resized to out_size (w, h)."""
    left, top, w, h = box
    return mask.crop((left, top, left + w, top + h)).resize(out_size, Image.Resampling.BILINEAR)


def mask_for_crop(image_path: Path, mode: str) -> Image.Image | None:
    """A mask found on a finished crop itself (when the photo's landmarks are not at hand); None
    when no face is found in it."""
    with Image.open(image_path) as im:
        rgb = im.convert("RGB")
    found = faces.detect_faces(rgb, upsample=2 if max(rgb.size) < 300 else None)
    if not found:
        log.warning("no face found in %s: its loss is not masked", Path(image_path).name)
        return None
    return region_mask(rgb.size, found[0].landmarks, mode)


def save_preview(mask: Image.Image, crop_path: Path) -> Path:
    """The mask beside its crop (`<crop>.mask.png`), so a learner can see what the loss looks at."""
    path = crop_path.with_name(crop_path.stem + ".mask.png")
    mask.save(path)
    return path


def latent_weight(mask: Image.Image, latent_hw: tuple[int, int], background: float):
    """Loss weight per latent pixel (1, 1, h, w): 1 on the mask, `background` off it, mixed at the
    edges (each latent pixel averages the 8x8 image pixels it encodes)."""
    import torch

    small = mask.convert("L").resize((latent_hw[1], latent_hw[0]), Image.Resampling.BOX)
    inside = torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0)
    return (background + (1.0 - background) * inside)[None, None]


def masked_mse(pred, target, weight):
    """Per-sample squared error weighted per pixel and normalised by the weight's mean, so the loss
    keeps its scale; pixels of weight 0 give no gradient at all. weight None: plain mean."""
    error = (pred.float() - target.float()) ** 2
    if weight is None:
        return error.mean(dim=(1, 2, 3))
    weighted = (error * weight).mean(dim=(1, 2, 3))
    return weighted / weight.mean(dim=(1, 2, 3)).clamp_min(1e-6)
