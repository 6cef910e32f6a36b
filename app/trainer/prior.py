"""Prior preservation: class images ("photo of a woman") made by the base model before training
and trained beside the face, so the class word keeps meaning any woman, not only this one.

The images are cached per base model, class word, resolution, sampling steps and seed: a second
run on the same base reuses them, and a run that asks for more generates only the missing ones."""

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.trainer import interrupt, sampling
from app.trainer.errors import TrainingCancelled


@dataclass(frozen=True)
class ClassImages:
    paths: list[Path]  # one PNG per class image, in order
    prompt: str  # the prompt they were made from (also their caption)
    generated: int  # how many this run made (the rest came from the cache)
    seconds: float  # time spent making them


def class_prompt(class_word: str) -> str:
    """The class prompt without the trigger: "photo of a woman", "photo of an old man"."""
    article = "an" if class_word[:1].lower() in "aeiou" else "a"
    return f"photo of {article} {class_word}"


def cache_folder(
    cache_dir: Path, *, base: str, class_word: str, resolution: int, steps: int, seed: int
) -> Path:
    """The folder holding the class images of one (base, class word, resolution, steps, seed)."""
    key = json.dumps([base, class_word, resolution, steps, seed])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "-", class_word.lower()).strip("-") or "class"
    return Path(cache_dir) / "prior" / f"{slug}-{resolution}px-seed{seed}-{digest}"


def image_path(folder: Path, index: int) -> Path:
    """Where class image `index` lives; image i is drawn from seed + i, so any count extends the set."""
    return folder / f"{index:04d}.png"


def ensure_class_images(
    pipe,
    *,
    folder: Path,
    count: int,
    prompt: str,
    seed: int,
    steps: int,
    resolution: int,
    device: str,
    on_image: Callable[[int, int, float, bool], None] = lambda done, total, seconds, made: None,
    should_cancel: Callable[[], bool] = lambda: False,
) -> ClassImages:
    """The first `count` class images of `folder`, generating the missing ones with `pipe` (the
    base, without adapters). on_image(done, total, seconds so far, made) follows each image; a
    cancel stops between images (and between denoising steps) and keeps the finished ones."""
    import torch

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prior.json").write_text(json.dumps({"prompt": prompt, "seed": seed, "steps": steps}))
    paths, generated = [], 0
    on_cuda = str(device).startswith("cuda")
    for index in range(count):
        if should_cancel():
            raise TrainingCancelled()
        interrupt.check()
        path = image_path(folder, index)
        made = not path.is_file()
        if made:
            if generated == 0:
                _to_device(pipe, device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda), torch.no_grad():
                (image,) = sampling.run_pipe(
                    pipe, prompts=[prompt], seed=seed + index, steps=steps, resolution=resolution
                )
            partial = path.with_suffix(".part.png")
            image.save(partial)
            os.replace(partial, path)  # a crash never leaves a half-written class image in the cache
            generated += 1
        paths.append(path)
        on_image(index + 1, count, time.perf_counter() - started, made)
    return ClassImages(paths=paths, prompt=prompt, generated=generated, seconds=time.perf_counter() - started)


def _to_device(pipe, device: str) -> None:
    """The whole pipeline on the device for sampling (the UNet in the dtype the loop trains it in)."""
    import torch

    on_cuda = str(device).startswith("cuda")
    pipe.unet.to(device, dtype=torch.bfloat16 if on_cuda else torch.float32)
    pipe.vae.to(device)
    for encoder in (pipe.text_encoder, getattr(pipe, "text_encoder_2", None)):
        if encoder is not None:
            encoder.to(device)
