"""What the My work page lists, read from the domains that own each thing."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset
from app.lab import service as lab_service
from app.lab.models import LoraModel
from app.review import submissions as review_submissions


def overview(*, db: Session, user: User) -> dict:
    """The learner's datasets, jobs, models and submissions, newest first."""
    datasets = list(db.scalars(select(Dataset).where(Dataset.user_id == user.id).order_by(Dataset.id.desc())))
    models = list(
        db.scalars(select(LoraModel).where(LoraModel.user_id == user.id).order_by(LoraModel.id.desc()))
    )
    return {
        "datasets": datasets,
        "jobs": lab_service.list_jobs(db=db, user=user, limit=50),
        "models": models,
        "submissions": review_submissions.learner_submissions(db=db, user_id=user.id),
    }
