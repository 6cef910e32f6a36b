"""The reviewers' queue: what waits, what each reviewer holds, and claiming or releasing a
submission (guarded updates, so exactly one reviewer wins a claim)."""

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.db import utcnow
from app.review import exceptions as exc
from app.review import submissions
from app.review.models import Submission, SubmissionStatus

FILTERS = ("waiting", "mine", "done")


def queue(*, db: Session, user: User, filter: str = "waiting", limit: int = 200) -> list[Submission]:
    """Reviewer queue, oldest first: waiting (unclaimed), mine (claimed by me, open) or done (decided)."""
    query = select(Submission)
    if filter == "mine":
        query = query.where(Submission.status == SubmissionStatus.claimed, Submission.reviewer_id == user.id)
    elif filter == "done":
        query = query.where(
            Submission.status.in_([SubmissionStatus.approved, SubmissionStatus.changes_requested])
        )
    else:
        query = query.where(Submission.status == SubmissionStatus.waiting)
    return list(db.scalars(query.order_by(Submission.submitted_at, Submission.id).limit(limit)))


def queue_counts(*, db: Session, user: User) -> dict[str, int]:
    """How many submissions each queue filter holds for this reviewer."""
    waiting, mine, done = db.execute(
        select(
            func.count(case((Submission.status == SubmissionStatus.waiting, 1))),
            func.count(
                case(
                    ((Submission.status == SubmissionStatus.claimed) & (Submission.reviewer_id == user.id), 1)
                )
            ),
            func.count(
                case(
                    (
                        Submission.status.in_(
                            [SubmissionStatus.approved, SubmissionStatus.changes_requested]
                        ),
                        1,
                    )
                )
            ),
        )
    ).one()
    return {"waiting": waiting, "mine": mine, "done": done}


def ensure_not_own(user: User, sub: Submission) -> None:
    """Raise OwnSubmission when a reviewer would act on their own submission."""
    if sub.user_id == user.id:
        raise exc.OwnSubmission()


def claim(*, db: Session, user: User, submission: Submission) -> Submission:
    """Take a waiting submission for this reviewer; a guarded UPDATE lets exactly one claimant win."""
    ensure_not_own(user, submission)
    taken = db.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == SubmissionStatus.waiting)
        .values(status=SubmissionStatus.claimed, reviewer_id=user.id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.flush()
    db.refresh(submission)
    if not taken:
        if submission.status == SubmissionStatus.claimed and submission.reviewer_id == user.id:
            return submission  # claiming twice is harmless
        if not submission.status.is_open:
            raise exc.AlreadyDecided()
        raise exc.AlreadyClaimed(
            submissions.names(db=db, user_ids={submission.reviewer_id}).get(submission.reviewer_id)
        )
    return submission


def release(*, db: Session, user: User, submission: Submission) -> Submission:
    """Give a claimed submission back to the waiting queue (the claimant, or an admin)."""
    query = update(Submission).where(
        Submission.id == submission.id, Submission.status == SubmissionStatus.claimed
    )
    if user.role != Role.admin:
        query = query.where(Submission.reviewer_id == user.id)
    changed = db.execute(
        query.values(status=SubmissionStatus.waiting, reviewer_id=None, claimed_at=None).execution_options(
            synchronize_session=False
        )
    ).rowcount
    db.flush()
    db.refresh(submission)
    if not changed:
        raise exc.NotYourClaim()
    return submission
