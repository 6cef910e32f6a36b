"""Lesson 8 done for the learner: a sweep of the last epochs x strengths on one seed and a few
prompts that vary scene and style, every cell scored (sweep_scores), one labelled grid image
(sweep_grid), and a recommendation (epoch and strength) with its reasoning (sweep_recommend).

A library like the rest of app/trainer: plain values in, files and a JSON-ready result out."""

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from app.trainer import sampling
from app.trainer.sweep_grid import draw_grid
from app.trainer.sweep_recommend import recommend
from app.trainer.sweep_result import SweepResult
from app.trainer.sweep_scores import Cell, TrainingSet, epoch_summary, face_identity, score_cell

STRENGTHS = (0.5, 0.7, 0.9, 1.1)  # lesson 8: 0.5-0.8 when rigid, 1.0-1.1 when the face is weak
LAST_EPOCHS = 4
SEED = 123456
SCENES = (  # scene and style vary; the subject stays, so only the LoRA's grip changes between cells
    "photo of {subject}, smiling, on a beach at sunset",
    "oil painting of {subject}, in a forest, soft light",
    "photo of {subject}, city street at night, neon lights",
)


def sweep_prompts(trigger: str, class_word: str, count: int = 3) -> list[str]:
    """2-3 prompts with the trigger and class, each a different scene and style."""
    subject = f"{trigger} {class_word}"
    return [p.format(subject=subject) for p in SCENES[: max(2, min(count, len(SCENES)))]]


def last_epochs(epochs: Sequence[int], count: int = LAST_EPOCHS) -> list[int]:
    """The last `count` epochs in order (over-fitting shows at the end, so that is where to look)."""
    return sorted(epochs)[-count:]


class SweepCancelled(Exception):
    """The caller asked the sweep to stop."""


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


def _open(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")
