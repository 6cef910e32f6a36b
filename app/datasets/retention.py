"""How long training photos live. Unless the learner chose to keep them, a dataset's stored photos,
crops and thumbnails, and the copies its training jobs made (jobs/<id>/inputs), are deleted once a
model trained on it is done: a job on it succeeded and nothing that reads the photos is still
waiting or running (another job on the same set, or a sweep, whose likeness and copying scores
compare new images with them). The rows stay, marked, so pages say why the pictures are gone.

Called after every job ending, sweeps included (the worker's `after_job`), and when the learner
switches to deletion; each call is idempotent and touches only the owner's folder."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.auth.models import User
from app.config import Settings
from app.datasets.models import Dataset, DatasetImage
from app.db import utcnow
from app.lab import paths
from app.lab.models import JobKind, JobStatus, LoraModel, TrainingJob

UNFINISHED = (JobStatus.queued, JobStatus.running)


def deletes_photos(user: User | None) -> bool:
    """True when the user agreed to the statement and chose deletion after training (the default)."""
    from app.privacy import service as privacy_service

    return user is not None and privacy_service.has_consented(user) and not user.keep_photos


def after_job_hook(settings: Settings):
    """after_job_ended bound to the settings, in the shape the training worker calls."""
    return lambda db, job_id: after_job_ended(db=db, settings=settings, job_id=job_id)


def after_job_ended(*, db: Session, settings: Settings, job_id: int) -> None:
    """The worker's hook once a job ended: apply the retention choice, and drop the copies of a
    job whose dataset the learner deleted while it ran."""
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
        return
    purge_if_done(db=db, settings=settings, job_id=job_id)


def purge_if_done(*, db: Session, settings: Settings, job_id: int) -> bool:
    """After a job ended or a sweep of its model finished: delete the photos of the job's dataset
    if the owner did not keep them and nothing still reads them. True when they were purged."""
    job = db.get(TrainingJob, job_id)
    if job is None or job.dataset_id is None or not deletes_photos(db.get(User, job.user_id)):
        return False
    dataset = db.get(Dataset, job.dataset_id)
    if dataset is None or not is_done(db=db, dataset=dataset):
        return False
    purge_training_photos(db=db, settings=settings, dataset=dataset)
    return True


def purge_done_datasets(*, db: Session, settings: Settings, user_id: int) -> int:
    """Purge every dataset of the user that is done (when they switch to deletion); returns how many."""
    purged = 0
    for dataset in db.scalars(
        select(Dataset).where(Dataset.user_id == user_id, Dataset.photos_deleted_at.is_(None))
    ):
        if is_done(db=db, dataset=dataset):
            purge_training_photos(db=db, settings=settings, dataset=dataset)
            purged += 1
    return purged


def is_done(*, db: Session, dataset: Dataset) -> bool:
    """A model trained on the set exists and no job or sweep still reads its photos."""
    jobs = db.execute(
        select(TrainingJob.id, TrainingJob.status).where(TrainingJob.dataset_id == dataset.id)
    ).all()
    if not any(status == JobStatus.succeeded for _, status in jobs):
        return False
    if any(status in UNFINISHED for _, status in jobs):
        return False
    return not _sweep_open(db, [job_id for job_id, _ in jobs])


def _trained_job_of_sweep(db: Session, sweep_job_id: int) -> int | None:
    from app.evaluate.models import Sweep

    return db.scalar(
        select(LoraModel.job_id)
        .join(Sweep, Sweep.model_id == LoraModel.id)
        .where(Sweep.job_id == sweep_job_id)
    )


def _sweep_open(db: Session, job_ids: list[int]) -> bool:
    from app.evaluate.models import Sweep

    sweep_job = aliased(TrainingJob)
    open_sweep = db.scalar(
        select(Sweep.id)
        .join(LoraModel, LoraModel.id == Sweep.model_id)
        .join(sweep_job, sweep_job.id == Sweep.job_id)
        .where(LoraModel.job_id.in_(job_ids), sweep_job.status.in_(UNFINISHED))
        .limit(1)
    )
    return open_sweep is not None


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
    import shutil

    owner_dir = paths.user_dir(settings.data_dir, job.user_id).resolve()
    inputs = paths.job_inputs_dir(settings.data_dir, job.user_id, job.id)
    if Path(inputs).resolve().is_relative_to(owner_dir):  # never anyone else's folder
        shutil.rmtree(inputs, ignore_errors=True)
