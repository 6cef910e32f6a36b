"""What follows a training job's ending: a succeeded job's model is evaluated at once (its sweep
of epochs x strengths x prompts is queued, so scores and the recommendation arrive without a
click), then the photo retention is applied. The worker calls `after_job_hook(settings)`."""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import Settings
from app.datasets import retention
from app.errors import DomainError
from app.evaluate import service as evaluate_service
from app.evaluate.models import Sweep
from app.evaluate.schemas import SweepIn
from app.lab.models import JobStatus, LoraModel, TrainingJob

log = logging.getLogger("loraface.lab")


def after_job_hook(settings: Settings):
    """after_job_ended bound to the settings, in the shape the training worker calls."""
    return lambda db, job_id: after_job_ended(db=db, settings=settings, job_id=job_id)


def after_job_ended(*, db: Session, settings: Settings, job_id: int) -> None:
    """Queue the evaluation of a succeeded job's model, then apply the photo retention."""
    queue_evaluation(db=db, job_id=job_id)
    retention.after_job_ended(db=db, settings=settings, job_id=job_id)


def queue_evaluation(*, db: Session, job_id: int) -> Sweep | None:
    """Queue the default sweep of the job's model once (a model already swept is left alone)."""
    job = db.get(TrainingJob, job_id)
    if job is None or job.status != JobStatus.succeeded:
        return None
    model = db.scalar(select(LoraModel).where(LoraModel.job_id == job.id))
    if model is None or db.scalar(select(Sweep.id).where(Sweep.model_id == model.id).limit(1)):
        return None
    owner = db.get(User, job.user_id)
    try:
        with db.begin_nested():  # a refusal (no epochs saved) leaves the retention step its transaction
            return evaluate_service.start_sweep(db=db, model=model, user=owner, data=SweepIn())
    except DomainError as error:
        log.info("job %s: no automatic evaluation (%s)", job_id, error.detail)
        return None
