"""`loraface train` (the whole pipeline on a folder of photos, no web app) and `loraface bench train`.

Bad input (a missing base, a file that is not a model, a folder without images, an output
folder that cannot be written) ends with one line on stderr, exit code 2, and nothing written."""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import click

from app.trainer.cli_recipe import recipe_fields, recipe_options

STRENGTHS = (0.0, 0.5, 0.8, 1.0)  # the sweep lesson 8 reads: 0 is the base model
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


class BadInput(Exception):
    """A problem with the command's arguments; the message is the one line the user sees."""


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def readable_photos(folder: Path) -> list[Path]:
    """The image files directly in `folder` that Pillow can open, sorted by name."""
    from PIL import Image, UnidentifiedImageError

    photos = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
        try:
            with Image.open(path) as im:
                im.verify()
        except (UnidentifiedImageError, OSError, SyntaxError):
            continue
        photos.append(path)
    return photos


def prepare_images(
    photos: list[Path], out: Path, *, resolution: int, caption: str, buckets: bool = False, mask: str = "off"
) -> list:
    """Square training crops with captions, made by the upload's own code: the dataset checks
    (printed per photo), face-centred crops and "<trigger> <class>, ..." captions. Photos that
    fail a check are still trained on here, with the reason printed; unreadable ones are not."""
    from app.trainer.photos import prepare
    from app.trainer.pipeline import TrainImage

    trigger, _, class_word = caption.partition(" ")
    items, report = prepare.prepare(
        photos,
        out,
        trigger=trigger,
        class_word=class_word,
        resolution=resolution,
        keep_rejected=True,
        buckets=buckets,
        mask=mask,
    )
    for photo in report.photos:
        for p in photo.problems:
            click.echo(
                f"{'warning' if p.severity == 'warning' or photo.size != (0, 0) else 'skipped'}: {photo.filename}: {p.message} [{p.code}, lesson {p.lesson}]",
                err=True,
            )
    click.echo(f"dataset: {report.summary}", err=True)
    return [
        TrainImage(
            path=i.path,
            caption=i.caption,
            original_size=i.original_size,
            crop_top_left=i.crop_top_left,
            crop_size=i.crop_size,
            crop_hw=i.crop_hw,
            mask_path=i.mask_path,
        )
        for i in items
    ]


def _check_out_dir(out: Path) -> str:
    """How OUT is used: "new" (we create it), "empty" (exists, empty) or "resume" (holds a checkpoint)."""
    from app.trainer.checkpoints import checkpoint_dir

    if out.exists() and not out.is_dir():
        raise BadInput(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not (checkpoint_dir(out) / "state.pt").exists():
            raise BadInput(f"{out} is not empty; choose a new folder (a folder with a checkpoint resumes)")
        state = "resume"
    else:
        state = "empty" if out.exists() else "new"
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise BadInput(f"{out} is not writable")
    try:  # root passes os.access everywhere; only a real write tells (read-only mounts, quotas)
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        _undo(out, state)
        raise BadInput(f"{out} is not writable ({exc.strerror or exc})") from None
    return state


def _undo(out: Path, state: str) -> None:
    """Remove what this command wrote (a resumable checkpoint is kept)."""
    if state == "new":
        shutil.rmtree(out, ignore_errors=True)
    elif state == "empty" and out.is_dir():
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


@click.command()
@click.argument("photos", type=click.Path(path_type=Path))
@click.option("--trigger", required=True, help='rare token that names the face, e.g. "sks"')
@click.option("--class-word", "class_word", required=True, help='what the face is, e.g. "woman"')
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="output folder (new, empty, or one to resume)",
)
@click.option("--steps", type=int, default=None, help="optimizer steps (instead of --epochs)")
@click.option("--epochs", type=int, default=None, help="passes over the photos x repeats [default: 10]")
@click.option("--repeats", type=int, default=1, show_default=True, help="times each photo is seen per epoch")
@click.option("--batch-size", type=int, default=1, show_default=True)
@click.option("--rank", type=int, default=16, show_default=True)
@click.option("--alpha", type=float, default=None, help="LoRA alpha [default: the rank]")
@click.option("--lr", "learning_rate", type=float, default=1e-4, show_default=True)
@click.option("--resolution", type=int, default=None, help="crop size in pixels [default: the base model's]")
@click.option(
    "--base",
    default=None,
    envvar="LORAFACE_BASE_MODEL",
    help="diffusers folder or .safetensors [default: LORAFACE_BASE_MODEL, else the tiny demo]",
)
@click.option(
    "--data-dir",
    "data_dir",
    type=click.Path(path_type=Path),
    default=Path("./var"),
    envvar="LORAFACE_DATA_DIR",
    show_default=True,
    help="the app's data folder: the tiny demo base is built once under its cache/ [env: LORAFACE_DATA_DIR]",
)
@click.option("--seed", type=int, default=123456, show_default=True)
@click.option(
    "--train-text-encoder",
    "train_text_encoder",
    is_flag=True,
    help="LoRA on the text encoder(s) too (lesson 5: helps a trigger the base reads as something else)",
)
@click.option(
    "--text-encoder-lr",
    "text_encoder_lr",
    type=float,
    default=None,
    help="learning rate of the text encoder adapters [default: --lr]",
)
@click.option("--name", default=None, help="file name of the LoRA [default: <trigger>_<class>]")
@click.option("--device", default=None, help="cuda or cpu [default: cuda when present]")
@recipe_options
def train(
    photos,
    trigger,
    class_word,
    out,
    steps,
    epochs,
    repeats,
    batch_size,
    rank,
    alpha,
    learning_rate,
    resolution,
    base,
    data_dir,
    seed,
    train_text_encoder,
    text_encoder_lr,
    name,
    device,
    **recipe,
):
    """Crop, caption, train, export, sample and score: the whole pipeline on a folder of photos."""
    base = base or None  # an empty LORAFACE_BASE_MODEL means the demo, as in the web app
    started = time.perf_counter()
    try:
        photo_files, model = _check_inputs(photos, base, steps, epochs, repeats, rank)
        state = _check_out_dir(out)
    except BadInput as exc:
        _fail(str(exc))
    try:
        _quiet_libraries()
        cache_dir = data_dir / "cache"
        if model is None:  # the tiny demo, built on first use (after the cheap checks above)
            from app.trainer import base_models

            model = base_models.resolve(None, cache_dir)
            _one_thread_on_cpu(device)
        report = _run(
            photo_files,
            out,
            model,
            base,
            cache_dir,
            device,
            trigger=trigger,
            class_word=class_word,
            steps=steps,
            epochs=epochs,
            repeats=repeats,
            batch_size=batch_size,
            rank=rank,
            alpha=alpha,
            learning_rate=learning_rate,
            resolution=resolution,
            seed=seed,
            train_text_encoder=train_text_encoder,
            text_encoder_lr=text_encoder_lr,
            name=name,
            recipe=recipe,
        )
    except KeyboardInterrupt:
        click.echo("\nstopped; run the same command again to resume from the last finished epoch", err=True)
        sys.exit(130)
    except Exception as exc:
        from app.trainer.errors import TrainingError

        _undo(out, state)
        if isinstance(exc, TrainingError):
            _fail(str(exc))
        raise
    report["seconds"] = round(time.perf_counter() - started, 1)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    click.echo(
        f"done in {report['seconds']} s: {out / report['files']['kohya']} (webui: {report['webui_prompt']})"
    )


def _check_inputs(photos: Path, base, steps, epochs, repeats, rank):
    """The readable photos and the base model (None: the tiny demo), or BadInput."""
    from app.trainer import base_models
    from app.trainer.errors import BaseModelError

    if not photos.is_dir():
        raise BadInput(f"{photos} is not a folder of photos")
    photo_files = readable_photos(photos)
    if not photo_files:
        raise BadInput(f"{photos} holds no images Pillow can read (.jpg, .png, .webp)")
    if rank < 1 or repeats < 1 or (steps is not None and steps < 1) or (epochs is not None and epochs < 1):
        raise BadInput("rank, repeats, steps and epochs must be at least 1")
    if not base:
        return photo_files, None
    try:  # reads only a file header or model_index.json: no weights, no torch
        return photo_files, base_models.resolve(base, Path("."))
    except BaseModelError as exc:
        raise BadInput(str(exc)) from None


def _run(
    photo_files,
    out,
    model,
    base,
    cache_dir,
    device,
    *,
    trigger,
    class_word,
    steps,
    epochs,
    repeats,
    batch_size,
    rank,
    alpha,
    learning_rate,
    resolution,
    seed,
    train_text_encoder,
    text_encoder_lr,
    name,
    recipe,
) -> dict:
    from tqdm import tqdm

    from app.trainer import sampling
    from app.trainer.config import TrainConfig, plan
    from app.trainer.pipeline import run_training

    cfg = TrainConfig(
        trigger=trigger,
        class_word=class_word,
        resolution=resolution or model.default_resolution,
        rank=rank,
        alpha=float(alpha if alpha is not None else rank),
        learning_rate=learning_rate,
        epochs=None if steps else (epochs or 10),
        max_steps=steps,
        repeats=repeats,
        batch_size=batch_size,
        seed=seed,
        train_text_encoder=train_text_encoder,
        text_encoder_lr=text_encoder_lr,
        name=name or f"{trigger}_{class_word}".replace(" ", "_"),
        sample_steps=model.default_sample_steps,
        **recipe_fields(recipe, model.family),
    )
    images = prepare_images(
        photo_files,
        out / "crops",
        resolution=cfg.resolution,
        caption=cfg.instance_prompt,
        buckets=cfg.buckets,
        mask=cfg.mask,
    )
    per_epoch, total, epochs_total = plan(cfg, len(images))
    click.echo(
        f"{len(images)} photos x {cfg.repeats} repeats / batch {cfg.batch_size} = {per_epoch} steps per epoch; "
        f"{epochs_total} epochs, {total} steps at {cfg.resolution}px, rank {cfg.rank}, alpha {cfg.alpha:g} "
        f"on {model.path} ({'tiny demo' if model.is_demo else model.family})"
    )
    bar = tqdm(total=total, unit="step", dynamic_ncols=True)

    def on_progress(p) -> None:
        bar.set_postfix(
            epoch=f"{p.epoch}/{p.total_epochs}", loss=f"{p.loss:.4f}", img_s=f"{p.images_per_second:.1f}"
        )
        bar.update(p.step - bar.n)

    try:
        outcome = run_training(
            cfg=cfg,
            images=images,
            out_dir=out,
            base_model=base,
            cache_dir=cache_dir,
            on_progress=on_progress,
            device=device,
        )
    finally:
        bar.close()
    # The strength_row lesson 8 teaches, from the exported file loaded as users load it, on one seed.
    pipe = sampling.cached_pipeline(base, cache_dir, device)
    prompt = f"photo of {cfg.instance_prompt}"
    strength_row = sampling.sweep_with(
        pipe,
        lora_path=outcome.lora_path,
        prompts=[prompt],
        strengths=list(STRENGTHS),
        seed=seed,
        steps=cfg.sample_steps,
        resolution=cfg.resolution,
    )
    samples, effect = {}, {}
    for strength, (image,) in zip(STRENGTHS, strength_row, strict=True):
        path = out / "samples" / f"strength_{strength:.1f}.png"
        image.save(path)
        samples[f"{strength:.1f}"] = str(path.relative_to(out))
        effect[f"{strength:.1f}"] = round(_mean_abs_difference(image, strength_row[0][0]), 2)
    # Lesson 8 for the learner: the last epochs x strengths, every cell scored, one recommendation.
    from app.trainer import sweep

    click.echo("comparing the last epochs at strengths 0.5-1.1 (likeness, copying, prompts, colour)")
    evaluation = sweep.run_sweep(
        pipe=pipe,
        epoch_loras={e.epoch: e.lora_path for e in outcome.epochs[-sweep.LAST_EPOCHS :]},
        training_images=[i.path for i in images],
        prompts=sweep.sweep_prompts(trigger, class_word),
        out_dir=out / "samples" / "strength_row",
        seed=seed,
        steps=cfg.sample_steps,
        resolution=cfg.resolution,
        name=cfg.name,
    )
    rec = evaluation.recommendation
    return {
        "name": cfg.name,
        "base_model": str(model.path),
        "family": model.family,
        "settings": json.loads(cfg.to_json()),
        "images": len(images),
        "steps": outcome.steps,
        "epochs": len(outcome.epochs),
        "final_loss": outcome.final_loss,
        "scores": {"strength_effect": effect, **evaluation.recommended_scores()},
        "recommended_strength": rec.strength,
        "recommended_epoch": rec.epoch,
        "recommendation": rec.reasoning,
        "strength_row": {
            "grid": "samples/strength_row/grid.png",
            "cells": "samples/strength_row/strength_row.json",
        },
        "files": {
            "kohya": f"{cfg.name}.safetensors",
            "diffusers": "diffusers/pytorch_lora_weights.safetensors",
        },
        "epoch_samples": {
            str(e.epoch): [str(p.relative_to(out)) for p in e.sample_paths] for e in outcome.epochs
        },
        "strength_samples": samples,
        "prompt": prompt,
        "webui_prompt": f"{prompt} <lora:{cfg.name}:{rec.strength:g}>",
    }


def _one_thread_on_cpu(device: str | None) -> None:
    """The demo model's ops are too small to gain from several CPU threads, and on a busy machine
    the threads' spin-waits make it many times slower; one thread is the fast choice."""
    import torch

    if (device or ("cuda" if torch.cuda.is_available() else "cpu")) == "cpu":
        torch.set_num_threads(1)


def _quiet_libraries() -> None:
    """Keep the terminal to our own progress bar: diffusers and transformers log every load."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # before diffusers imports transformers' image classes
    from diffusers.utils import logging as diffusers_logging

    for lib in (diffusers_logging, transformers_logging):
        lib.set_verbosity_error()
        lib.disable_progress_bar()


def _mean_abs_difference(a, b) -> float:
    """Mean absolute pixel difference (0-255) between two images of the same size."""
    import numpy as np

    return float(np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)).mean())


@click.group()
def bench():
    """Print speed figures, with a reference measured in the same run."""


@bench.command(
    "train",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def bench_train(ctx):
    """Our training loop against the plain diffusers-example loop on the same model (see --help)."""
    import runpy

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "train_speed.py"
    if not script.exists():
        _fail(f"{script} is missing: the benchmark runs from a source checkout")
    sys.argv = [str(script), *ctx.args]
    runpy.run_path(str(script), run_name="__main__")
