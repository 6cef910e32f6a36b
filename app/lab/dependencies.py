"""Load-or-404 dependencies of the lab routes."""

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentUser, DbSession
from app.lab import service
from app.lab.models import LoraModel, TrainingJob


def valid_own_job(job_id: int, db: DbSession, user: CurrentUser) -> TrainingJob:
    """The caller's own job, else 404."""
    return service.get_own_job(db=db, user=user, job_id=job_id)


def valid_viewable_job(job_id: int, db: DbSession, user: CurrentUser) -> TrainingJob:
    """The caller's job, or a finished one a reviewer may see, else 404."""
    return service.get_viewable_job(db=db, user=user, job_id=job_id)


def valid_viewable_model(model_id: int, db: DbSession, user: CurrentUser) -> LoraModel:
    """A model of the caller's, or any model for reviewers, else 404."""
    return service.get_viewable_model(db=db, user=user, model_id=model_id)


OwnJob = Annotated[TrainingJob, Depends(valid_own_job)]
ViewableJob = Annotated[TrainingJob, Depends(valid_viewable_job)]
ViewableModel = Annotated[LoraModel, Depends(valid_viewable_model)]
