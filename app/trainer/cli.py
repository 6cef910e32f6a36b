"""`loraface train`: the whole pipeline on a folder of photos, no web app.

Bad input (a missing base, a file that is not a model, a folder without images, an output
folder that cannot be written) ends with one line on stderr, exit code 2, and nothing written."""

import json
import sys
import time
from pathlib import Path

import click

from app.trainer import cli_inputs
from app.trainer.cli_recipe import recipe_fields, recipe_options, with_preset

STRENGTHS = (0.0, 0.5, 0.8, 1.0)  # the sweep lesson 8 reads: 0 is the base model
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


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
@click.option("--family", type=click.Choice(["sdxl", "flux"]), help="tiny demo base without --base [sdxl]")
@click.option("--flux-mlp", is_flag=True, help="FLUX.1: LoRA on the MLPs too, not only the attention")
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
    family,
    flux_mlp,
    name,
    device,
    **recipe,
):
    """Crop, caption, train, export, sample and score: the whole pipeline on a folder of photos."""
    base = base or None  # an empty LORAFACE_BASE_MODEL means the demo, as in the web app
    started = time.perf_counter()
    try:
        photo_files, model = cli_inputs.check_inputs(photos, base, steps, epochs, repeats, rank, family)
        state = cli_inputs.check_out_dir(out)
    except cli_inputs.BadInput as exc:
        _fail(str(exc))
    try:
        _quiet_libraries()
        cache_dir = data_dir / "cache"
        if model is None:  # the tiny demo, built on first use (after the cheap checks above)
            from app.trainer import base_models

            model = base_models.resolve(None, cache_dir, family)
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
            family=family,
            flux_mlp=flux_mlp,
            recipe=recipe,
        )
    except KeyboardInterrupt:
        click.echo("\nstopped; run the same command again to resume from the last finished epoch", err=True)
        sys.exit(130)
    except Exception as exc:
        from app.trainer.errors import TrainingError

        cli_inputs.undo(out, state)
        if isinstance(exc, TrainingError):
            _fail(str(exc))
        raise
    report["seconds"] = round(time.perf_counter() - started, 1)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    click.echo(
        f"done in {report['seconds']} s: {out / (report['files']['kohya'] or report['files']['diffusers'])} "
        f"(webui: {report['webui_prompt']})"
    )


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
    family=None,
    flux_mlp=False,
    recipe,
) -> dict:
    from tqdm import tqdm

    from app.trainer import precision, sampling
    from app.trainer.config import UNET_TARGETS, TrainConfig, plan
    from app.trainer.flux.lora import FLUX_ATTENTION, FLUX_MLP
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
        target_modules=FLUX_ATTENTION + FLUX_MLP if flux_mlp and model.family == "flux" else UNET_TARGETS,
        **recipe_fields(recipe, model.family),
    )
    cfg = with_preset(cfg, model.family)
    cli_inputs.check_cost(cfg, len(photo_files), model)
    images = cli_inputs.prepare_images(
        photo_files,
        out / "crops",
        resolution=cfg.resolution,
        caption=cfg.instance_prompt,
        buckets=cfg.buckets,
        mask=cfg.mask,
    )
    per_epoch, total, epochs_total = plan(cfg, len(images))
    click.echo(
        f"{len(images)} photos{f' + {cfg.prior_images} class images' if cfg.prior_images else ''} x {cfg.repeats} repeats / batch {cfg.batch_size} = {per_epoch} steps per epoch; "
        f"{epochs_total} epochs, {total} steps at {cfg.resolution}px, rank {cfg.rank}, alpha {cfg.alpha:g} "
        f"on {model.path} ({'tiny demo' if model.is_demo else model.family})"
        + (f"; preset {cfg.preset!r}" if cfg.preset else "")
    )
    bar = tqdm(total=total, unit="step", dynamic_ncols=True)

    phases = {}  # phase -> its last message (the prior's class images: how long they took)

    def on_progress(p) -> None:
        if p.phase != "training":  # the prior's class images, made before the first step
            phases[p.phase] = p.message
            bar.write(p.message) if p.step == p.total_steps else bar.set_description(p.message)
            return
        if bar.desc:
            bar.set_description("")
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
            family=family,
        )
    finally:
        bar.close()
    # The strength_row lesson 8 teaches, from the exported file loaded as users load it, on one seed.
    pipe = sampling.cached_pipeline(base, cache_dir, device, family)
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
        "phases": phases,
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
            "kohya": f"{cfg.name}.safetensors" if outcome.kohya_path else None,  # demo FLUX: diffusers only
            "diffusers": "diffusers/pytorch_lora_weights.safetensors",
        },
        "kohya_note": outcome.kohya_note,  # why files.kohya is null, when it is
        "base_precision": precision.effective(cfg.base_precision, sampling.pick_device(device)),
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
