"""Generate with a LoRA and sweep its epochs and strengths: the logic, with no HTTP in it."""

import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.config import Settings
from app.evaluate import exceptions as exc
from app.evaluate.models import Generation, Sweep
from app.evaluate.schemas import GenerationOut, SweepIn, SweepOut
from app.lab import job_store, paths, queue
from app.lab.models import JobKind, JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from app.trainer import sampling, sweep
from app.trainer.errors import TrainingError
from app.trainer.tiny import TINY_RESOLUTION

HISTORY = 24  # generations listed on the model page


# ---- files ----


def existing_file(settings: Settings, relative: str) -> Path:
    """An absolute path inside the data directory that exists, else FileGone."""
    path = (settings.data_dir / relative).resolve()
    if not path.is_relative_to(settings.data_dir.resolve()) or not path.is_file():
        raise exc.FileGone()
    return path


def model_resolution(model: LoraModel) -> int:
    """The size the LoRA was trained at: it draws best there."""
    return int(model.config.get("resolution") or TINY_RESOLUTION)


def model_steps(model: LoraModel) -> int:
    """Denoising steps when none are asked for: the training samples' count."""
    return int(model.config.get("sample_steps") or 20)


# ---- epochs ----


def epoch_rows(*, db: Session, model: LoraModel) -> list[LoraModelEpoch]:
    """The model's saved epochs in order."""
    return list(
        db.scalars(
            select(LoraModelEpoch).where(LoraModelEpoch.job_id == model.job_id).order_by(LoraModelEpoch.epoch)
        )
    )


def lora_file(*, db: Session, settings: Settings, model: LoraModel, epoch: int | None) -> Path:
    """The diffusers-format LoRA of that epoch (None: the final one)."""
    if epoch is None:
        return existing_file(settings, model.diffusers_path)
    row = db.scalar(
        select(LoraModelEpoch).where(LoraModelEpoch.job_id == model.job_id, LoraModelEpoch.epoch == epoch)
    )
    if row is None:
        raise exc.EpochNotFound(epoch)
    return existing_file(settings, row.diffusers_path)


# ---- generate ----


def generate(
    *,
    db: Session,
    settings: Settings,
    model: LoraModel,
    user: User,
    prompt: str,
    strength: float,
    seed: int,
    epoch: int | None = None,
    steps: int | None = None,
    device: str | None = None,
) -> Generation:
    """Make one image with the LoRA file (as users load it) and keep it with its settings."""
    lora = lora_file(db=db, settings=settings, model=model, epoch=epoch)
    steps = steps or model_steps(model)
    resolution = model_resolution(model)
    started = time.perf_counter()
    try:
        image = sampling.generate(
            base_model=model.base_model,
            cache_dir=settings.data_dir / "cache",
            lora_path=lora,
            prompts=[prompt],
            strength=strength,
            seed=seed,
            steps=steps,
            resolution=resolution,
            device=device,
            family=model.family,  # picks the tiny FLUX.1 demo for a FLUX.1 model without a base
        )[0]
    except TrainingError as error:
        raise exc.GenerationFailed(f"The image could not be made: {error}") from None
    seconds = time.perf_counter() - started
    row = Generation(
        user_id=user.id,
        model_id=model.id,
        epoch=epoch,
        prompt=prompt,
        strength=strength,
        seed=seed,
        steps=steps,
        resolution=resolution,
        image_path="",
        seconds=round(seconds, 3),
    )
    db.add(row)
    db.flush()
    relative = paths.model_folder(model.user_id, model.id) / "generations" / f"{row.id}.png"
    target = settings.data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target)
    row.image_path = str(relative)
    db.flush()
    return row


def generation_out(row: Generation) -> GenerationOut:
    """The contract's {image_url, seed} and the settings."""
    return GenerationOut(
        image_url=f"/api/generations/{row.id}/image",
        seed=row.seed,
        id=row.id,
        model_id=row.model_id,
        prompt=row.prompt,
        strength=row.strength,
        epoch=row.epoch,
        steps=row.steps,
        resolution=row.resolution,
        seconds=row.seconds,
        page_url=f"/generations/{row.id}",
        created_at=row.created_at,
    )


def history(*, db: Session, model: LoraModel, limit: int = HISTORY) -> list[Generation]:
    """The model's latest generations, newest first."""
    return list(
        db.scalars(
            select(Generation)
            .where(Generation.model_id == model.id)
            .order_by(Generation.id.desc())
            .limit(limit)
        )
    )


def get_viewable_generation(*, db: Session, user: User, generation_id: int) -> Generation:
    """A generation for the model's owner, whoever made it, and for reviewers; else 404."""
    row = db.get(Generation, generation_id)
    if row is None:
        raise exc.GenerationNotFound()
    owner = db.scalar(select(LoraModel.user_id).where(LoraModel.id == row.model_id))
    if not (owner == user.id or row.user_id == user.id or user.has_role(Role.reviewer)):
        raise exc.GenerationNotFound()
    return row


# ---- sweeps ----


def start_sweep(
    *, db: Session, model: LoraModel, user: User, data: SweepIn, settings: Settings | None = None
) -> Sweep:
    """Queue a row of the model's last epochs x strengths on one seed (owner only, one at a time):
    a job of kind "sweep" on the training queue, with the sweep's spec in its own row."""
    if model.user_id != user.id:
        raise exc.OwnerOnly()
    epochs = [row.epoch for row in epoch_rows(db=db, model=model)]
    if not epochs:
        raise exc.NoEpochs()
    open_sweep = db.scalar(
        select(Sweep.id)
        .join(TrainingJob, TrainingJob.id == Sweep.job_id)
        .where(Sweep.model_id == model.id, TrainingJob.status.in_([JobStatus.queued, JobStatus.running]))
    )
    if open_sweep is not None:
        raise exc.SweepAlreadyRunning()
    chosen = sweep.last_epochs(epochs, data.epochs)
    prompts = data.prompts or sweep.sweep_prompts(model.trigger, model.class_word)
    job = job_store.enqueue(
        db=db,
        user_id=user.id,
        kind=JobKind.sweep,
        dataset_id=None,
        config={},
        images=[],
        base_model=model.base_model,
        total_steps=(1 + len(chosen) * len(data.strengths)) * len(prompts),
        total_epochs=0,
        max_queued=None,  # one open sweep per model is the limit
    )
    row = Sweep(
        user_id=user.id,
        model_id=model.id,
        job=job,
        epochs=chosen,
        strengths=data.strengths,
        prompts=prompts,
        seed=data.seed,
        steps=data.steps or model_steps(model),
        resolution=model_resolution(model),
        folder="",
    )
    db.add(row)
    db.flush()
    row.folder = str(paths.sweep_folder(model.user_id, model.id, row.id))
    db.flush()
    if settings is None or settings.uses_procrastinate:
        # In this transaction: the delivery exists exactly when the job does (PostgreSQL only).
        queue.deliver(db, job_id=job.id, user_id=user.id)
    return row


def latest_sweep(*, db: Session, model: LoraModel) -> Sweep | None:
    """The model's newest sweep, whatever its status."""
    return db.scalar(select(Sweep).where(Sweep.model_id == model.id).order_by(Sweep.id.desc()).limit(1))


def get_viewable_sweep(*, db: Session, user: User, sweep_id: int) -> Sweep:
    """A sweep for the model's owner and for reviewers; else 404."""
    sweep = db.get(Sweep, sweep_id)
    if sweep is None or not (sweep.user_id == user.id or user.has_role(Role.reviewer)):
        raise exc.SweepNotFound()
    return sweep


def sweep_out(sweep: Sweep) -> SweepOut:
    """The sweep as JSON, with the grid's address once it exists."""
    return SweepOut(
        id=sweep.id,
        model_id=sweep.model_id,
        status=sweep.status,
        done=sweep.done,
        total=sweep.total,
        epochs=sweep.epochs,
        strengths=sweep.strengths,
        prompts=sweep.prompts,
        seed=sweep.seed,
        steps=sweep.steps,
        grid_url=f"/api/sweeps/{sweep.id}/grid" if sweep.result else None,
        result=sweep.result,
        error=sweep.error,
        created_at=sweep.created_at,
        finished_at=sweep.finished_at,
    )


def sweep_file(*, settings: Settings, sweep: Sweep, name: str) -> Path:
    """One image of a finished sweep (the grid or a cell's image), by its plain file name."""
    if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".png"):
        raise exc.FileGone()
    return existing_file(settings, str(Path(sweep.folder) / name))


# ---- the background side (called by the worker) ----


def sweep_of_job(*, db: Session, job_id: int) -> Sweep | None:
    """The sweep a job of kind "sweep" runs."""
    return db.scalar(select(Sweep).where(Sweep.job_id == job_id))


def store_result(*, db: Session, sweep: Sweep, result: dict) -> None:
    """Keep the scored result; the model gets its scores and recommendation."""
    sweep.result = result
    apply_to_model(db=db, model=db.get(LoraModel, sweep.model_id), result=result)
    db.flush()


def apply_to_model(*, db: Session, model: LoraModel, result: dict) -> None:
    """The model keeps the recommended cell's scores and the recommended epoch and strength
    (what GET /api/models/{id} and the model page show)."""
    rec = result["recommendation"]
    model.scores = {k: v for k, v in result["scores"].items()}
    model.recommended_epoch = int(rec["epoch"])
    model.recommended_strength = float(rec["strength"])
    db.flush()
