"""The order in which queued jobs are served: the learner who waited longest first, then each
learner's jobs one at a time, then age; and a job's place in that line."""

from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from app.db import UTCDateTime
from app.lab.models import JobStatus, TrainingJob

NEVER = datetime(2000, 1, 1, tzinfo=UTC)  # "last started" of a learner who never trained


def _owner_last_start():
    """When the job's owner last had a job started (long ago if never). Ordering by it first
    serves the learner who waited longest, so one learner's full queue cannot starve another."""
    earlier = aliased(TrainingJob)
    last = (
        select(func.max(earlier.started_at))
        .where(earlier.user_id == TrainingJob.user_id)
        .correlate(TrainingJob)
        .scalar_subquery()
    )
    return func.coalesce(last, literal(NEVER, UTCDateTime()))


def _rank_in_owner_queue():
    """How many of the owner's waiting jobs are ahead of this one (0 = their next)."""
    earlier = aliased(TrainingJob)
    return (
        select(func.count())
        .select_from(earlier)
        .where(
            earlier.user_id == TrainingJob.user_id,
            earlier.status == JobStatus.queued,
            earlier.id < TrainingJob.id,
        )
        .correlate(TrainingJob)
        .scalar_subquery()
    )


@lru_cache(maxsize=1)
def fair_order():
    """Longest-waiting learner first, then each learner's jobs one at a time, then age. Built
    once: making these correlated subqueries costs ~5 ms of Python, a job page polls it often."""
    return (_owner_last_start(), _rank_in_owner_queue(), TrainingJob.id)


def queue_position(*, db: Session, job: TrainingJob) -> int | None:
    """1 when the job is next in line; None once it is no longer waiting."""
    if job.status != JobStatus.queued:
        return None
    key = db.execute(select(*fair_order()).where(TrainingJob.id == job.id)).one()
    ahead = db.scalar(
        select(func.count())
        .select_from(TrainingJob)
        .where(TrainingJob.status == JobStatus.queued, tuple_(*fair_order()) < tuple_(*key))
    )
    return ahead + 1
