"""The training lab's logic: who may train, starting and reading jobs, models and their files."""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.config import Settings
from app.datasets import service as datasets_service
from app.evaluate import score_notes
from app.lab import exceptions as exc
from app.lab import fair_order, families, job_store, queue, retrain
from app.lab.models import JobKind, JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from app.lab.schemas import EpochOut, JobCreate, JobOut, ModelOut
from app.lessons import service as lessons_service
from app.trainer import base_models, limits, presets
from app.trainer.config import TrainConfig, steps_per_epoch
from app.trainer.flux.tiny import TINY_FLUX_RESOLUTION
from app.trainer.tiny import TINY_RESOLUTION

GATE_LESSON = 6  # the training-parameters lesson unlocks the trainer
FORMATS = ("kohya", "diffusers")


# ---- who may train ----


def may_train(*, db: Session, user: User) -> bool:
    """True once the learner has passed lesson 6's check."""
    return lessons_service.has_passed(db=db, user_id=user.id, number=GATE_LESSON)


def ensure_may_train(*, db: Session, user: User) -> None:
    """Raise LessonNotPassed unless the learner passed lesson 6."""
    if not may_train(db=db, user=user):
        raise exc.LessonNotPassed()


# ---- the steps arithmetic of lesson 6 ----


@dataclass(frozen=True)
class Plan:
    images: int
    repeats: int
    batch_size: int
    steps_per_epoch: int
    epochs: int
    total_steps: int
    by_steps: bool  # the learner gave a step count; epochs follow from it


def plan(*, images: int, repeats: int, batch_size: int, epochs: int | None, steps: int | None) -> Plan:
    """steps = images x repeats x epochs / batch size (or epochs from a given step count)."""
    per_epoch = steps_per_epoch(max(images, 1), max(repeats, 1), max(batch_size, 1))
    if steps:
        return Plan(images, repeats, batch_size, per_epoch, math.ceil(steps / per_epoch), steps, True)
    epochs = epochs or 10
    return Plan(images, repeats, batch_size, per_epoch, epochs, per_epoch * epochs, False)


def default_resolution(settings: Settings, family: str | None = None) -> int:
    """The base model's native size: 1024 SDXL and FLUX.1, 512 SD 1.5, small for a demo base."""
    if not settings.base_model:
        return TINY_FLUX_RESOLUTION if family == "flux" else TINY_RESOLUTION
    try:
        return base_models.resolve(settings.base_model, settings.data_dir / "cache").default_resolution
    except Exception:  # a misconfigured base fails the job with its own message
        return 1024


def job_limits(settings: Settings) -> limits.JobLimits:
    """The cost limits every job is checked against (the memory budget is a setting)."""
    return limits.JobLimits(memory_budget_gb=settings.job_memory_budget_gb)


def check_cost(*, settings: Settings, cfg, images: int, family: str) -> None:
    """Refuse a job over a cost limit (JobTooCostly, 422) before it is queued."""
    estimate_family = families.limits_family(settings, family)
    try:
        limits.check_job(limits.job_size(cfg, images, estimate_family), job_limits(settings))
    except limits.JobTooCostly as error:
        raise exc.JobTooCostly(str(error)) from None


# ---- datasets ----


def user_datasets(*, db: Session, user: User) -> list[dict[str, Any]]:
    """The learner's datasets for the form: id, name, accepted image count."""
    return datasets_service.training_choices(db=db, user_id=user.id)


def training_images(*, db: Session, user: User, dataset_id: int) -> list[dict[str, Any]]:
    """The dataset's accepted, prepared crops (paths relative to the data directory) and captions."""
    images = datasets_service.training_images(db=db, user_id=user.id, dataset_id=dataset_id)
    if images is None:
        raise exc.DatasetNotFound()
    if not images:
        raise exc.DatasetNotUsable(
            "This dataset has no accepted photos yet: fix the flagged ones or add more."
        )
    return images


# ---- jobs ----

RECIPE_FIELDS = (  # JobCreate fields that pass to TrainConfig under the same name
    "buckets",
    "mask",
    "mask_background_weight",
    "prior_images",
    "prior_loss_weight",
    "ema_decay",
    "optimizer",
    "network",
    "base_precision",
)


def with_preset(*, data: JobCreate, family: str) -> tuple[JobCreate, dict[str, Any]]:
    """The request with its preset's values in every setting it leaves unset, and the preset's
    TrainConfig values the request has no field for (gradient checkpointing, VAE tiling)."""
    if data.preset is None:
        return data, {}
    preset = presets.get(data.preset)
    if preset.family and preset.family != family:
        raise exc.PresetNotForBase(
            f"The preset {preset.name!r} is for {preset.family} bases; this one is {family}."
        )
    to_config = {api: field for field, api in presets.API_NAMES.items()}  # steps -> max_steps
    given = {to_config.get(k, k) for k in data.model_fields_set}
    fills = presets.unset_values(data.preset, given)  # in TrainConfig names
    in_request = {presets.API_NAMES.get(k, k): v for k, v in fills.items()}
    in_request = {k: v for k, v in in_request.items() if k in JobCreate.model_fields}
    only_config = {k: v for k, v in fills.items() if presets.API_NAMES.get(k, k) not in in_request}
    return data.model_copy(update=in_request), only_config


def start_job(*, db: Session, settings: Settings, user: User, data: JobCreate) -> TrainingJob:
    """Check the gate and the dataset, then queue a job with the learner's settings."""
    ensure_may_train(db=db, user=user)
    data, changed = retrain.resolve(db=db, user=user, data=data)
    family = families.job_family(settings, data.family)
    data, preset_only = with_preset(data=data, family=family)
    families.check_settings(data, family)
    images = training_images(db=db, user=user, dataset_id=data.dataset_id)
    p = plan(
        images=len(images) + data.prior_images,  # class images are examples of each epoch too
        repeats=data.repeats,
        batch_size=data.batch_size,
        epochs=data.epochs,
        steps=data.steps,
    )
    cfg = TrainConfig(
        trigger=data.trigger,
        class_word=data.class_word,
        resolution=data.resolution or default_resolution(settings, family),
        rank=data.rank,
        alpha=float(data.alpha if data.alpha is not None else data.rank),
        learning_rate=data.learning_rate,
        epochs=None if data.steps else p.epochs,
        max_steps=data.steps,
        repeats=data.repeats,
        batch_size=data.batch_size,
        seed=data.seed,
        sample_steps=data.sample_steps,
        name=f"{data.trigger}_{data.class_word}",
        **{field: getattr(data, field) for field in RECIPE_FIELDS},
        target_modules=families.target_modules(data, family),
        preset=data.preset,
        **preset_only,
    )
    check_cost(settings=settings, cfg=cfg, images=len(images), family=family)
    try:
        job = job_store.enqueue(
            db=db,
            user_id=user.id,
            dataset_id=data.dataset_id,
            config=json.loads(cfg.to_json()),
            images=images,
            base_model=settings.base_model,
            total_steps=p.total_steps,
            total_epochs=p.epochs,
            family=family,
        )
    except job_store.QueueFull as error:
        raise exc.QueueFull(str(error)) from None
    job.based_on_id, job.changes = data.based_on, changed
    db.flush()
    if settings.uses_procrastinate:
        # In this transaction: the delivery exists exactly when the job does.
        queue.deliver(db, job_id=job.id, user_id=user.id)
    return job


def get_own_job(*, db: Session, user: User, job_id: int) -> TrainingJob:
    """The learner's job, or JobNotFound (another learner's job looks the same as none)."""
    job = db.get(TrainingJob, job_id)
    if job is None or job.user_id != user.id or job.kind != JobKind.train:
        raise exc.JobNotFound()
    return job


def list_jobs(*, db: Session, user: User, limit: int = 20) -> list[TrainingJob]:
    """The learner's jobs, newest first."""
    return list(
        db.scalars(
            select(TrainingJob)
            .where(TrainingJob.user_id == user.id, TrainingJob.kind == JobKind.train)
            .order_by(TrainingJob.id.desc())
            .limit(limit)
        )
    )


def active_job(*, db: Session, user: User) -> TrainingJob | None:
    """The learner's running job, else their oldest waiting one."""
    return db.scalar(
        select(TrainingJob)
        .where(
            TrainingJob.user_id == user.id,
            TrainingJob.kind == JobKind.train,
            TrainingJob.status.in_([JobStatus.running, JobStatus.queued]),
        )
        .order_by((TrainingJob.status == JobStatus.running).desc(), TrainingJob.id)
        .limit(1)
    )


def sample_url(job_id: int, epoch: int) -> str:
    return f"/lab/jobs/{job_id}/samples/{epoch}"


def job_status(*, db: Session, job: TrainingJob) -> JobOut:
    """Everything the status endpoint and the live panel show, in one read."""
    epochs = list(
        db.scalars(
            select(LoraModelEpoch).where(LoraModelEpoch.job_id == job.id).order_by(LoraModelEpoch.epoch)
        )
    )
    model_id = db.scalar(select(LoraModel.id).where(LoraModel.job_id == job.id))
    return JobOut(
        id=job.id,
        status=job.status,
        step=job.step,
        total_steps=job.total_steps,
        loss=job.loss,
        eta_seconds=job.eta_seconds,
        samples=[sample_url(job.id, e.epoch) for e in epochs if e.sample_path],
        model_id=model_id,
        error=job.error,
        epoch=job.epoch,
        total_epochs=job.total_epochs,
        learning_rate=job.learning_rate,
        images_per_second=job.images_per_second,
        queue_position=fair_order.queue_position(db=db, job=job),
        attempt=job.attempt,
        resumed_from_step=job.resumed_from_step,
        cancel_requested=job.cancel_requested,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        based_on=job.based_on_id,
        changes=job.changes,
    )


def cancel_job(*, db: Session, job: TrainingJob) -> TrainingJob:
    """Stop a waiting or running job; JobAlreadyFinished for one that has ended."""
    if job.status.is_final:
        raise exc.JobAlreadyFinished(job.status.value)
    job = job_store.request_cancel(db=db, job=job)
    queue.withdraw(db, job_id=job.id)  # the running worker also sees cancel_requested itself
    if job.status.is_final and job.status != JobStatus.cancelled:
        raise exc.JobAlreadyFinished(job.status.value)
    return job


def epoch_rows(*, db: Session, job_id: int) -> list[LoraModelEpoch]:
    """A job's finished epochs in order."""
    return list(
        db.scalars(
            select(LoraModelEpoch).where(LoraModelEpoch.job_id == job_id).order_by(LoraModelEpoch.epoch)
        )
    )


def sample_file(*, db: Session, settings: Settings, job: TrainingJob, epoch: int) -> Path:
    """The sample image of one epoch of the job."""
    row = db.scalar(
        select(LoraModelEpoch).where(LoraModelEpoch.job_id == job.id, LoraModelEpoch.epoch == epoch)
    )
    if row is None or not row.sample_path:
        raise exc.FileGone()
    return _existing(settings, row.sample_path)


# ---- models ----


def get_viewable_model(*, db: Session, user: User, model_id: int) -> LoraModel:
    """The model for its owner and for reviewers; ModelNotFound for anyone else."""
    model = db.get(LoraModel, model_id)
    if model is None or not (model.user_id == user.id or user.has_role(Role.reviewer)):
        raise exc.ModelNotFound()
    return model


def get_viewable_job(*, db: Session, user: User, job_id: int) -> TrainingJob:
    """A job for its owner, or for reviewers once it produced a model (its samples are the model's)."""
    job = db.get(TrainingJob, job_id)
    if job is None:
        raise exc.JobNotFound()
    if job.user_id == user.id:
        return job
    if user.has_role(Role.reviewer) and db.scalar(select(LoraModel.id).where(LoraModel.job_id == job.id)):
        return job
    raise exc.JobNotFound()


def download_name(model: LoraModel, fmt: str, epoch: int | None) -> str:
    suffix = f"-{epoch:03d}" if epoch else ""
    return (
        f"{model.name}{suffix}.safetensors"
        if fmt == "kohya"
        else f"{model.name}{suffix}_diffusers.safetensors"
    )


def model_out(*, db: Session, model: LoraModel) -> ModelOut:
    """The model as JSON: its epochs with sample and download links."""
    epochs = [
        EpochOut(
            epoch=e.epoch,
            step=e.step,
            loss=e.loss,
            sample_url=sample_url(model.job_id, e.epoch) if e.sample_path else None,
            download_kohya=f"/api/models/{model.id}/download?format=kohya&epoch={e.epoch}"
            if e.kohya_path
            else None,
            download_diffusers=f"/api/models/{model.id}/download?format=diffusers&epoch={e.epoch}",
        )
        for e in epoch_rows(db=db, job_id=model.job_id)
    ]
    return ModelOut(
        id=model.id,
        name=model.name,
        trigger=model.trigger,
        class_word=model.class_word,
        family=model.family,
        steps=model.steps,
        final_loss=model.final_loss,
        job_id=model.job_id,
        download_kohya=f"/api/models/{model.id}/download?format=kohya" if model.kohya_path else None,
        download_diffusers=f"/api/models/{model.id}/download?format=diffusers",
        kohya_note=None if model.kohya_path else no_kohya_reason(model),
        epochs=epochs,
        scores=model.scores,
        score_notes=score_notes.notes_for(db=db, model=model),
        recommended_strength=model.recommended_strength,
        recommended_epoch=model.recommended_epoch,
        created_at=model.created_at,
    )


def model_file(
    *, db: Session, settings: Settings, model: LoraModel, fmt: str, epoch: int | None = None
) -> Path:
    """The final (or one epoch's) LoRA file in the asked format."""
    if fmt not in FORMATS:
        raise exc.BadFormat()
    row = model
    if epoch is not None:
        row = db.scalar(
            select(LoraModelEpoch).where(LoraModelEpoch.job_id == model.job_id, LoraModelEpoch.epoch == epoch)
        )
        if row is None:
            raise exc.ModelNotFound()
    if fmt == "kohya" and not row.kohya_path:
        raise exc.NoKohyaFile(no_kohya_reason(model))
    return _existing(settings, row.kohya_path if fmt == "kohya" else row.diffusers_path)


def no_kohya_reason(model: LoraModel) -> str:
    """Why the model has no kohya file, in one sentence."""
    if model.family == "flux":
        return families.NO_KOHYA_FLUX[:1].upper() + families.NO_KOHYA_FLUX[1:]
    return "The trainer wrote none for this model."


def _existing(settings: Settings, relative: str) -> Path:
    path = (settings.data_dir / relative).resolve()
    # Paths come from our own rows, but never serve anything outside the data directory.
    if not path.is_relative_to(settings.data_dir.resolve()) or not path.is_file():
        raise exc.FileGone()
    return path
