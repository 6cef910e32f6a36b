"""How long training photos live. They stay while the learner iterates on them, and a dataset's
stored photos, crops and thumbnails, and the copies its training jobs made (jobs/<id>/inputs), are
deleted when the first of these comes:
- `photo_retention_days` after a job last used the dataset (after the upload if none did), unless
  the learner keeps them;
- at once when the learner asks ("Delete photos now");
- when a submission of a model trained on them is approved, if the learner chose that.
Nothing is deleted while a job or sweep still reads the photos, nor while a submission of a
model trained on them waits for its review (the reviewer looks at those crops). The rows stay,
marked, so pages say why the pictures are gone.

Called after every job ending, sweeps included (the worker's `after_job`), after every verdict, at
start-up and when the learner changes the choice; each call is idempotent and touches only owners'
folders."""

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.auth.models import User
from app.config import Settings
from app.datasets.models import Dataset, DatasetImage
from app.db import utcnow
from app.evaluate.models import Sweep
from app.lab import paths
from app.lab.models import JobKind, JobStatus, LoraModel, TrainingJob
from app.review.models import OPEN_STATUSES, Submission, SubmissionStatus

UNFINISHED = (JobStatus.queued, JobStatus.running)


def after_job_hook(settings: Settings):
    """after_job_ended bound to the settings, in the shape the training worker calls."""
    return lambda db, job_id: after_job_ended(db=db, settings=settings, job_id=job_id)


def after_job_ended(*, db: Session, settings: Settings, job_id: int) -> None:
    """The worker's hook once a job ended: drop the copies of a job whose dataset the learner
    deleted while it ran, then delete whatever of the owner's photos is due."""
    job = db.get(TrainingJob, job_id)
    if job is None or not job.status.is_final:
        return
    if job.kind == JobKind.sweep:  # a sweep read the training photos of its model's job
        trained = _trained_job_of_sweep(db, job_id)
        if trained is not None:
            purge_if_done(db=db, settings=settings, job_id=trained)
        return
    if job.dataset_id is None:
        remove_job_inputs(settings=settings, job=job)
    purge_due(db=db, settings=settings, user_id=job.user_id)


def after_review(*, db: Session, settings: Settings, user_id: int) -> None:
    """A verdict ends the hold of an open submission (and may be the approval the learner waited
    for); runs in its own commit after the verdict's, so a failure here never loses the verdict."""
    if purge_due(db=db, settings=settings, user_id=user_id):
        db.commit()


def purge_if_done(*, db: Session, settings: Settings, job_id: int) -> bool:
    """After a sweep of a job's model ended: purge the owner's due datasets; True if any went."""
    job = db.get(TrainingJob, job_id)
    return job is not None and purge_due(db=db, settings=settings, user_id=job.user_id) > 0


def purge_done_datasets(*, db: Session, settings: Settings, user_id: int) -> int:
    """Apply a changed choice of the user at once; returns how many datasets were purged."""
    return purge_due(db=db, settings=settings, user_id=user_id)


def purge_due(
    *, db: Session, settings: Settings, user_id: int | None = None, now: datetime | None = None
) -> int:
    """Purge every dataset (of one user, or everyone's) whose photos are due; returns how many."""
    now = now or utcnow()
    query = select(Dataset).where(Dataset.photos_deleted_at.is_(None))
    if user_id is not None:
        query = query.where(Dataset.user_id == user_id)
    purged = 0
    for dataset in list(db.scalars(query)):
        if why_due(db=db, settings=settings, dataset=dataset, now=now):
            purge_training_photos(db=db, settings=settings, dataset=dataset)
            purged += 1
    return purged


def why_due(*, db: Session, settings: Settings, dataset: Dataset, now: datetime) -> str | None:
    """Why the dataset's photos are to go now ("asked", "approved", "expired"), None to keep them."""
    if dataset.photos_deleted_at is not None or in_use(db=db, dataset=dataset):
        return None
    if dataset.delete_requested_at is not None:
        return "asked"
    owner = db.get(User, dataset.user_id)
    if owner is None or owner.keep_photos:
        return None
    if owner.delete_photos_on_approval and _approved(db, dataset):
        return "approved"
    if now >= deletion_date(db=db, settings=settings, dataset=dataset):
        return "expired"
    return None


def _trained_job_of_sweep(db: Session, sweep_job_id: int) -> int | None:
    return db.scalar(
        select(LoraModel.job_id)
        .join(Sweep, Sweep.model_id == LoraModel.id)
        .where(Sweep.job_id == sweep_job_id)
    )


def last_used(*, db: Session, dataset: Dataset) -> datetime:
    """When a job last used the dataset (queued or ended), else when it was uploaded."""
    times = db.execute(
        select(func.max(TrainingJob.created_at), func.max(TrainingJob.finished_at)).where(
            TrainingJob.dataset_id == dataset.id
        )
    ).one()
    return max([t for t in times if t is not None] + [dataset.created_at])


def deletion_date(*, db: Session, settings: Settings, dataset: Dataset) -> datetime:
    """When the default choice deletes the photos (if nothing uses them by then)."""
    return last_used(db=db, dataset=dataset) + timedelta(days=settings.photo_retention_days)


def in_use(*, db: Session, dataset: Dataset) -> bool:
    """A job or sweep still reads the photos, or an open submission shows their crops."""
    job_ids = list(db.scalars(select(TrainingJob.id).where(TrainingJob.dataset_id == dataset.id)))
    if not job_ids:
        return False
    unfinished = select(TrainingJob.id).where(TrainingJob.id.in_(job_ids), TrainingJob.status.in_(UNFINISHED))
    sweep_job = aliased(TrainingJob)  # a sweep's state lives on its own job row
    open_sweep = (
        select(Sweep.id)
        .join(LoraModel, LoraModel.id == Sweep.model_id)
        .join(sweep_job, sweep_job.id == Sweep.job_id)
        .where(LoraModel.job_id.in_(job_ids), sweep_job.status.in_(UNFINISHED))
    )
    open_review = (
        select(Submission.id)
        .join(LoraModel, LoraModel.id == Submission.model_id)
        .where(LoraModel.job_id.in_(job_ids), Submission.status.in_(OPEN_STATUSES))
    )
    return any(db.scalar(q.limit(1)) is not None for q in (unfinished, open_sweep, open_review))


def _approved(db: Session, dataset: Dataset) -> bool:
    return (
        db.scalar(
            select(Submission.id)
            .join(LoraModel, LoraModel.id == Submission.model_id)
            .join(TrainingJob, TrainingJob.id == LoraModel.job_id)
            .where(TrainingJob.dataset_id == dataset.id, Submission.status == SubmissionStatus.approved)
            .limit(1)
        )
        is not None
    )


def request_deletion(*, db: Session, settings: Settings, dataset: Dataset) -> bool:
    """ "Delete photos now": purge at once, or as soon as what reads them ends. True if gone now."""
    if dataset.delete_requested_at is None:
        dataset.delete_requested_at = utcnow()
    db.flush()
    if why_due(db=db, settings=settings, dataset=dataset, now=utcnow()):
        purge_training_photos(db=db, settings=settings, dataset=dataset)
    return dataset.photos_deleted_at is not None


def purge_training_photos(*, db: Session, settings: Settings, dataset: Dataset) -> None:
    """Delete the dataset's stored photos, crops and thumbnails and its jobs' input copies, and mark
    it. Safe to repeat; a photo another live dataset of the same learner still uses stays."""
    shas = {image.sha256 for image in dataset.images}
    still_used = (
        select(DatasetImage.sha256)
        .join(Dataset)
        .where(
            Dataset.user_id == dataset.user_id,
            Dataset.id != dataset.id,
            Dataset.photos_deleted_at.is_(None),
            DatasetImage.sha256.in_(shas),
        )
    )
    shared = set(db.scalars(still_used))
    root = paths.datasets_dir(settings.data_dir, dataset.user_id)
    for sha in shas - shared:
        (root / "photos" / f"{sha}.jpg").unlink(missing_ok=True)
        for folder in ("crops", "thumbs"):
            for path in (root / folder).glob(f"{sha}-*"):
                path.unlink(missing_ok=True)
    for job in db.scalars(select(TrainingJob).where(TrainingJob.dataset_id == dataset.id)):
        if job.status not in UNFINISHED:
            remove_job_inputs(settings=settings, job=job)
    if dataset.photos_deleted_at is None:
        dataset.photos_deleted_at = utcnow()
    db.flush()


def remove_job_inputs(*, settings: Settings, job: TrainingJob) -> None:
    """Delete the resized copies of the training crops a worker made for this job."""
    owner_dir = paths.user_dir(settings.data_dir, job.user_id).resolve()
    inputs = paths.job_inputs_dir(settings.data_dir, job.user_id, job.id)
    if Path(inputs).resolve().is_relative_to(owner_dir):  # never anyone else's folder
        shutil.rmtree(inputs, ignore_errors=True)


def status(*, db: Session, settings: Settings, dataset: Dataset) -> dict:
    """What the dataset page says about its photos: when they go, and what holds them."""
    owner = db.get(User, dataset.user_id)
    return {
        "deleted_at": dataset.photos_deleted_at,
        "requested_at": dataset.delete_requested_at,
        "kept": bool(owner and owner.keep_photos),
        "on_approval": bool(owner and owner.delete_photos_on_approval),
        "in_use": dataset.photos_deleted_at is None and in_use(db=db, dataset=dataset),
        "deletes_on": deletion_date(db=db, settings=settings, dataset=dataset),
        "days": settings.photo_retention_days,
    }
