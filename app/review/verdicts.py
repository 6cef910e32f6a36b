"""Verdicts: the rubric's required comments and recording a reviewer's marks and verdict."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.review import exceptions as exc
from app.review import queue, submissions
from app.review.models import Review, Submission, SubmissionStatus, Verdict
from app.review.schemas import CRITERIA, CRITERION_LABELS, LOW_MARK, ReviewIn


def rubric_problems(data: ReviewIn) -> list[str]:
    """What a review still needs: a comment for each mark of 2 or less, and an overall comment
    when asking for changes (the learner must know what to change)."""
    problems = []
    for name in CRITERIA:
        mark = getattr(data.scores, name)
        if mark <= LOW_MARK and not data.comments.get(name):
            problems.append(f"{CRITERION_LABELS[name]} got {mark}/5: say what is wrong in its comment.")
    if data.verdict == Verdict.changes_requested and not data.comment:
        problems.append("Requesting changes needs an overall comment telling the learner what to change.")
    return problems


def review(*, db: Session, user: User, submission: Submission, data: ReviewIn) -> Review:
    """Record the rubric and verdict. The reviewer must hold the claim (a waiting submission is
    claimed on the way); a missing required comment refuses the whole review."""
    queue.ensure_not_own(user, submission)
    problems = rubric_problems(data)
    if problems:
        raise exc.RubricIncomplete(problems)
    if submission.status == SubmissionStatus.waiting:
        queue.claim(db=db, user=user, submission=submission)
    status = SubmissionStatus(data.verdict.value)
    decided = db.execute(
        update(Submission)
        .where(
            Submission.id == submission.id,
            Submission.status == SubmissionStatus.claimed,
            Submission.reviewer_id == user.id,
        )
        .values(status=status, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.flush()
    db.refresh(submission)
    if not decided:
        if not submission.status.is_open:
            raise exc.AlreadyDecided()
        raise exc.AlreadyClaimed(
            submissions.names(db=db, user_ids={submission.reviewer_id}).get(submission.reviewer_id)
        )
    row = Review(
        submission_id=submission.id,
        reviewer_id=user.id,
        reviewer_name=user.display_name,
        **data.scores.model_dump(),
        comments={k: v for k, v in data.comments.items() if v},
        verdict=data.verdict,
        comment=data.comment,
    )
    db.add(row)
    db.flush()
    return row


def review_of(*, db: Session, submission: Submission) -> Review | None:
    """The submission's review, if it has one."""
    return db.scalar(select(Review).where(Review.submission_id == submission.id))
