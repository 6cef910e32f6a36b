"""What `loraface train` checks and prepares before it trains: the photos, the base model, the
output folder and the job's cost. Bad input raises BadInput, whose message is the one line shown."""

import os
import shutil
from pathlib import Path

import click

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


class BadInput(Exception):
    """A problem with the command's arguments; the message is the one line the user sees."""


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


def check_out_dir(out: Path) -> str:
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
        undo(out, state)
        raise BadInput(f"{out} is not writable ({exc.strerror or exc})") from None
    return state


def undo(out: Path, state: str) -> None:
    """Remove what this command wrote (a resumable checkpoint is kept)."""
    if state == "new":
        shutil.rmtree(out, ignore_errors=True)
    elif state == "empty" and out.is_dir():
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def check_inputs(photos: Path, base, steps, epochs, repeats, rank, family=None):
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
        model = base_models.resolve(base, Path("."))
    except BaseModelError as exc:
        raise BadInput(str(exc)) from None
    if family and (family == "flux") != (model.family == "flux"):
        raise BadInput(f"--family {family} does not match {base}, a {model.family} base")
    return photo_files, model


def check_cost(cfg, photos: int, model) -> None:
    """The job cost limits the web app applies (app.trainer.limits), before any photo is touched."""
    from app.trainer import limits
    from app.trainer.errors import TrainingError

    # The same budget the web app reads from its settings, by the same variable.
    budget = limits.JobLimits(
        memory_budget_gb=float(
            os.environ.get("LORAFACE_JOB_MEMORY_BUDGET_GB", limits.JobLimits.memory_budget_gb)
        )
    )
    try:
        limits.check_job(limits.job_size(cfg, photos, limits.family_of(model)), budget)
    except limits.JobTooCostly as error:
        raise TrainingError(str(error)) from None
