"""Lesson 8 done for the learner: a sweep of the last epochs x strengths on one seed and a few
prompts that vary scene and style, every cell scored, one labelled grid image, and a
recommendation (epoch and strength) with its reasoning.

A library like the rest of app/trainer: plain values in, files and a JSON-ready result out."""

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from app.trainer import metrics
from app.trainer.metrics import Score

STRENGTHS = (0.5, 0.7, 0.9, 1.1)  # lesson 8: 0.5-0.8 when rigid, 1.0-1.1 when the face is weak
LAST_EPOCHS = 4
SEED = 123456
SCENES = (  # scene and style vary; the subject stays, so only the LoRA's grip changes between cells
    "photo of {subject}, smiling, on a beach at sunset",
    "oil painting of {subject}, in a forest, soft light",
    "photo of {subject}, city street at night, neon lights",
)
SCORE_NAMES = ("likeness", "copying", "prompt_following", "deep_fried")
BAND_COLOURS = {
    "good": (46, 160, 67),
    "warn": (212, 160, 23),
    "bad": (207, 34, 46),
    "unknown": (140, 140, 140),
}


def sweep_prompts(trigger: str, class_word: str, count: int = 3) -> list[str]:
    """2-3 prompts with the trigger and class, each a different scene and style."""
    subject = f"{trigger} {class_word}"
    return [p.format(subject=subject) for p in SCENES[: max(2, min(count, len(SCENES)))]]


def last_epochs(epochs: Sequence[int], count: int = LAST_EPOCHS) -> list[int]:
    """The last `count` epochs in order (over-fitting shows at the end, so that is where to look)."""
    return sorted(epochs)[-count:]


# ---- faces ----


def face_identity(image: Image.Image):
    """The 128-d embedding of the largest face, or None when no face is found (a miss)."""
    from app.trainer import faces

    # Demo-size images (128 px) hold faces below the detector's 80 px window: look closer.
    upsample = 2 if max(image.size) < 300 else None
    found = faces.detect_faces(image, upsample=upsample)
    return faces.face_embedding(image, found[0]) if found else None


@dataclass(frozen=True)
class TrainingSet:
    """What the scores compare against: each training photo's hash and face, and their mean face."""

    hashes: list
    embeddings: list
    reference: object  # mean embedding, None when no face was found

    @classmethod
    def from_images(cls, images: Sequence[Image.Image], identity: Callable = face_identity) -> "TrainingSet":
        """Hash and embed every training image once."""
        embeddings = [identity(im) for im in images]
        return cls(
            hashes=[metrics.perceptual_hash(im) for im in images],
            embeddings=embeddings,
            reference=metrics.mean_embedding(embeddings),
        )


# ---- scoring ----


def score_cell(
    images: Sequence[Image.Image],
    base_images: Sequence[Image.Image],
    training: TrainingSet,
    identity: Callable = face_identity,
) -> dict[str, Score]:
    """The four scores of one cell (one epoch at one strength, one image per prompt)."""
    embeddings = [identity(im) for im in images]
    return {
        "likeness": metrics.likeness(embeddings, training.reference),
        "copying": metrics.copying(
            images, training.hashes, embeddings=embeddings, training_embeddings=training.embeddings
        ),
        "prompt_following": metrics.prompt_following(images, base_images),
        "deep_fried": metrics.deep_fried(images),
    }


@dataclass
class Cell:
    epoch: int
    strength: float
    images: list[str]  # paths relative to the sweep folder, one per prompt
    scores: dict[str, Score]

    def to_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "strength": self.strength,
            "images": self.images,
            "scores": {k: v.to_dict() for k, v in self.scores.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Cell":
        return cls(
            data["epoch"],
            data["strength"],
            data["images"],
            {k: Score.from_dict(v) for k, v in data["scores"].items()},
        )


def epoch_summary(cells: Sequence[Cell]) -> dict[str, Score]:
    """One epoch's scores across its strengths: its best likeness and its worst over-fitting signs."""
    pick = {
        "likeness": max,
        "copying": max,
        "prompt_following": min,
        "deep_fried": max,
    }
    summary = {}
    for name, choose in pick.items():
        measured = [c.scores[name] for c in cells if c.scores[name].value is not None]
        summary[name] = choose(measured, key=lambda s: s.value) if measured else cells[0].scores[name]
    return summary


@dataclass(frozen=True)
class Recommendation:
    epoch: int
    strength: float
    reasoning: str
    acceptable: bool  # False: every cell shows over-fitting; the pick is the least bad


def _value(score: Score) -> float:
    return score.value if score.value is not None else 0.0


def recommend(cells: Sequence[Cell], name: str = "face_lora") -> Recommendation:
    """The cell with the best likeness among those that follow prompts, do not copy and are not
    deep-fried; ties go to the strength nearest 0.8 (lesson 8's default), then the earlier epoch."""

    def key(c: Cell):
        return (
            round(_value(c.scores["likeness"]), 2),
            -round(_value(c.scores["deep_fried"]), 1),
            -abs(c.strength - 0.8),
            -c.epoch,
        )

    clean = [c for c in cells if not metrics.problems(c.scores)]
    if clean:
        best = max(clean, key=key)
    else:  # least bad: fewest problems, then the same order
        best = max(cells, key=lambda c: (-len(metrics.problems(c.scores)), *key(c)))
    return Recommendation(best.epoch, best.strength, _reasoning(best, cells, bool(clean), name), bool(clean))


def _cell_phrase(c: Cell) -> str:
    like = c.scores["likeness"]
    parts = []
    if like.value is None:
        parts.append("likeness not measurable")
    else:
        found, total = like.details.get("faces_found", 0), like.details.get("images", 0)
        parts.append(f"likeness {like.value:.2f} ({found} of {total} faces found)")
    follow = c.scores["prompt_following"]
    if follow.value is not None:
        parts.append(
            "prompts followed"
            if follow.band == "good"
            else "prompts partly followed"
            if follow.band == "warn"
            else "prompts ignored"
        )
    copy = c.scores["copying"]
    parts.append(
        "copying not measurable"
        if copy.value is None
        else f"copies training photo {copy.details.get('training_photo')}"
        if copy.band == "bad"
        else "no copying"
    )
    fried = c.scores["deep_fried"]
    parts.append(
        "colour not measurable"
        if fried.value is None
        else "deep-fried colour"
        if fried.band == "bad"
        else "strong colour"
        if fried.band == "warn"
        else "natural colour"
    )
    return ", ".join(parts)


def _first_problem(cells: Sequence[Cell]) -> str | None:
    """What goes wrong first in these cells, in words ("starts copying training photo 4")."""
    for c in sorted(cells, key=lambda c: c.strength):
        bad = metrics.problems(c.scores)
        if "copying" in bad:
            return f"starts copying training photo {c.scores['copying'].details.get('training_photo')} at {c.strength:g}"
        if "prompt_following" in bad:
            return f"stops following prompts at {c.strength:g}"
        if "deep_fried" in bad:
            return f"turns deep-fried at {c.strength:g}"
    return None


def _reasoning(best: Cell, cells: Sequence[Cell], clean: bool, name: str) -> str:
    """One paragraph in lesson 6/8 terms: why this epoch and strength, and what the others do."""
    sentences = [f"Epoch {best.epoch} at {best.strength:g}: {_cell_phrase(best)}."]
    faces_anywhere = any(c.scores["likeness"].details.get("faces_found", 0) for c in cells)
    by_epoch: dict[int, list[Cell]] = {}
    for c in cells:
        by_epoch.setdefault(c.epoch, []).append(c)
    for epoch in sorted(by_epoch):
        if epoch == best.epoch:
            continue
        problem = _first_problem(by_epoch[epoch])
        top = max(_value(c.scores["likeness"]) for c in by_epoch[epoch])
        if problem:
            sentences.append(f"Epoch {epoch} {problem}.")
        elif not faces_anywhere:
            continue
        elif epoch < best.epoch and top < _value(best.scores["likeness"]):
            sentences.append(f"Epoch {epoch} is less alike (best likeness {top:.2f}): still under-fit.")
        elif epoch > best.epoch:
            sentences.append(
                f"Epoch {epoch} adds no likeness (best {top:.2f}), so the earlier, less over-fit epoch wins."
            )
    if not faces_anywhere and best.scores["likeness"].value is not None:
        sentences.append(
            "No face was found in any generated image, so likeness could not decide; the pick rests on "
            "the over-fitting scores alone."
        )
    if best.scores["likeness"].value is None:
        sentences.append("No face was found in the training photos, so likeness could not decide.")
    if not clean:
        sentences.append(
            "Every cell shows over-fitting (lesson 6: too many epochs or too high a learning rate); "
            "this is the least bad one. Train again with fewer epochs or a lower learning rate."
        )
    sentences.append(
        f"Use it as <lora:{name}:{best.strength:g}>; lower towards 0.5-0.7 if results look rigid, "
        "raise to 1.0-1.1 if the face does not come through (lesson 8)."
    )
    return " ".join(sentences)


# ---- the sweep ----


@dataclass
class SweepResult:
    epochs: list[int]
    strengths: list[float]
    prompts: list[str]
    seed: int
    steps: int
    resolution: int
    base_images: list[str]  # strength 0 (the base model alone), one per prompt
    cells: list[Cell]
    per_epoch: dict[int, dict[str, Score]]
    recommendation: Recommendation
    grid: str = "grid.png"
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def cell(self, epoch: int, strength: float) -> Cell:
        """The cell of that epoch and strength."""
        return next(c for c in self.cells if c.epoch == epoch and abs(c.strength - strength) < 1e-9)

    def recommended_scores(self) -> dict[str, float | None]:
        """The recommended cell's four values (what a model row keeps)."""
        best = self.cell(self.recommendation.epoch, self.recommendation.strength)
        return {name: best.scores[name].value for name in SCORE_NAMES}

    def to_dict(self) -> dict:
        """JSON-ready (epoch keys become strings)."""
        return {
            "epochs": self.epochs,
            "strengths": self.strengths,
            "prompts": self.prompts,
            "seed": self.seed,
            "steps": self.steps,
            "resolution": self.resolution,
            "base_images": self.base_images,
            "cells": [c.to_dict() for c in self.cells],
            "per_epoch": {str(e): {k: v.to_dict() for k, v in s.items()} for e, s in self.per_epoch.items()},
            "recommendation": asdict(self.recommendation),
            "grid": self.grid,
            "seconds": self.seconds,
            "scores": self.recommended_scores(),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SweepResult":
        """The inverse of to_dict."""
        return cls(
            epochs=data["epochs"],
            strengths=data["strengths"],
            prompts=data["prompts"],
            seed=data["seed"],
            steps=data["steps"],
            resolution=data["resolution"],
            base_images=data["base_images"],
            cells=[Cell.from_dict(c) for c in data["cells"]],
            per_epoch={
                int(e): {k: Score.from_dict(v) for k, v in s.items()} for e, s in data["per_epoch"].items()
            },
            recommendation=Recommendation(**data["recommendation"]),
            grid=data["grid"],
            seconds=data["seconds"],
        )


def run_sweep(
    *,
    pipe,
    epoch_loras: dict[int, Path],
    training_images: Sequence[Path],
    prompts: Sequence[str],
    out_dir: Path,
    strengths: Sequence[float] = STRENGTHS,
    seed: int = SEED,
    steps: int = 20,
    resolution: int,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    should_cancel: Callable[[], bool] = lambda: False,
    identity: Callable = face_identity,
    name: str = "face_lora",
) -> SweepResult:
    """Generate every epoch x strength cell (plus the base model at strength 0) on one seed,
    score each cell, draw the grid and pick the recommendation. Writes images, grid.png and
    sweep.json into out_dir. Raises SweepCancelled when should_cancel() turns true."""
    import time

    from app.trainer import sampling

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    prompts, strengths = list(prompts), [float(s) for s in strengths]
    epochs = sorted(epoch_loras)
    total, done = (1 + len(epochs) * len(strengths)) * len(prompts), 0

    def save(images: list[Image.Image], stem: str) -> list[str]:
        names = []
        for i, im in enumerate(images):
            name = f"{stem}_p{i + 1}.png"
            im.save(out_dir / name)
            names.append(name)
        return names

    training = TrainingSet.from_images([_open(p) for p in training_images], identity)
    base = sampling.generate_with(
        pipe, lora_path=None, prompts=prompts, strength=0.0, seed=seed, steps=steps, resolution=resolution
    )
    base_names = save(base, "base")
    done += len(prompts)
    on_progress(done, total)
    cells: list[Cell] = []
    for epoch in epochs:
        for strength in strengths:
            if should_cancel():
                raise SweepCancelled()
            images = sampling.generate_with(
                pipe,
                lora_path=epoch_loras[epoch],
                prompts=prompts,
                strength=strength,
                seed=seed,
                steps=steps,
                resolution=resolution,
            )
            names = save(images, f"e{epoch:03d}_s{strength:.2f}")
            cells.append(Cell(epoch, strength, names, score_cell(images, base, training, identity)))
            done += len(prompts)
            on_progress(done, total)
    per_epoch = {e: epoch_summary([c for c in cells if c.epoch == e]) for e in epochs}
    result = SweepResult(
        epochs=epochs,
        strengths=strengths,
        prompts=prompts,
        seed=seed,
        steps=steps,
        resolution=resolution,
        base_images=base_names,
        cells=cells,
        per_epoch=per_epoch,
        recommendation=recommend(cells, name),
    )
    draw_grid(result, out_dir).save(out_dir / result.grid)
    result.seconds = round(time.perf_counter() - started, 2)
    (out_dir / "sweep.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result


class SweepCancelled(Exception):
    """The caller asked the sweep to stop."""


def _open(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


# ---- the grid image ----

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
