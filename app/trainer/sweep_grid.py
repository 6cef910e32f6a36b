"""The sweep's grid image: a row per epoch (and the base model), a column per strength, the
prompts side by side in each cell, a coloured band per score and the recommended cell outlined."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from app.trainer.sweep_result import SweepResult
from app.trainer.sweep_scores import SCORE_NAMES, Cell

BAND_COLOURS = {
    "good": (46, 160, 67),
    "warn": (212, 160, 23),
    "bad": (207, 34, 46),
    "unknown": (140, 140, 140),
}

THUMB_MAX = 160  # px per prompt image in the grid
THUMB_MIN = 96  # small demo images are enlarged so the score labels fit under them
LABEL_W = 90
HEAD_H = 28
SCORE_H = 34
GAP = 6
LEGEND_H = 22


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without scalable default font
        return ImageFont.load_default()


def draw_grid(result: SweepResult, folder: Path) -> Image.Image:
    """One labelled image: a row per epoch (and the base model), a column per strength; each cell
    holds the prompts side by side and a colour band per score under them."""
    n = len(result.prompts)
    thumb = max(THUMB_MIN, min(THUMB_MAX, result.resolution))
    cell_w, cell_h = n * thumb + (n - 1) * 2, thumb + SCORE_H
    cols, rows = len(result.strengths), len(result.epochs) + 1
    width = max(LABEL_W + cols * (cell_w + GAP) + GAP, 640)  # at least the legend's width
    height = HEAD_H + rows * (cell_h + GAP) + GAP + LEGEND_H
    grid = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(grid)
    font, small = _font(14), _font(11)
    rec = result.recommendation

    def paste_images(names: list[str], x: int, y: int) -> None:
        for i, name in enumerate(names):
            with Image.open(folder / name) as im:
                grid.paste(im.convert("RGB").resize((thumb, thumb), Image.LANCZOS), (x + i * (thumb + 2), y))

    for col, strength in enumerate(result.strengths):
        x = LABEL_W + GAP + col * (cell_w + GAP)
        draw.text((x + 4, 6), f"strength {strength:g}", fill=(20, 20, 20), font=font)
    y = HEAD_H
    draw.text((6, y + thumb // 2 - 8), "base (0)", fill=(20, 20, 20), font=font)
    paste_images(result.base_images, LABEL_W + GAP, y)
    draw.text(
        (LABEL_W + GAP, y + thumb + 4), "the base model alone, same seed", fill=(90, 90, 90), font=small
    )
    for row, epoch in enumerate(result.epochs, start=1):
        y = HEAD_H + row * (cell_h + GAP)
        draw.text((6, y + thumb // 2 - 8), f"epoch {epoch}", fill=(20, 20, 20), font=font)
        for col, strength in enumerate(result.strengths):
            x = LABEL_W + GAP + col * (cell_w + GAP)
            cell = result.cell(epoch, strength)
            paste_images(cell.images, x, y)
            _draw_scores(draw, cell, x, y + thumb + 3, cell_w, small)
            if (epoch, strength) == (rec.epoch, rec.strength):
                draw.rectangle((x - 3, y - 3, x + cell_w + 2, y + cell_h - 1), outline=(37, 99, 235), width=3)
    draw.text(
        (6, height - LEGEND_H + 4),
        "bars under each cell: likeness | copying | prompt following | deep-fried  (green good, amber watch, red problem)",
        fill=(70, 70, 70),
        font=small,
    )
    return grid


def _draw_scores(draw: ImageDraw.ImageDraw, cell: Cell, x: int, y: int, width: int, font) -> None:
    """Four coloured bands, one per score in SCORE_NAMES order (the legend names them), each with its value."""
    part = width // len(SCORE_NAMES)
    for i, name in enumerate(SCORE_NAMES):
        score = cell.scores[name]
        left = x + i * part
        draw.rectangle((left, y, left + part - 3, y + 6), fill=BAND_COLOURS[score.band])
        value = "-" if score.value is None else f"{score.value:.2f}"
        draw.text((left, y + 9), value, fill=(40, 40, 40), font=font)
