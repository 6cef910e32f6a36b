"""Submissions, reviews and the queue as the API and the pages show them (the shapes of
schemas.py)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.review import verdicts
from app.review.models import Review, Submission
from app.review.schemas import CRITERIA, QueueItem, ReviewOut, RoundOut, RubricScores, SubmissionOut
from app.review.submissions import learner_submissions, model_names, names


def review_out(row: Review) -> ReviewOut:
    """A review as JSON."""
    return ReviewOut(
        id=row.id,
        submission_id=row.submission_id,
        reviewer=row.reviewer_name,
        scores=RubricScores(**{name: getattr(row, name) for name in CRITERIA}),
        comments=row.comments or {},
        verdict=row.verdict,
        comment=row.comment,
        created_at=row.created_at,
    )


def rounds(*, db: Session, user_id: int) -> list[RoundOut]:
    """The learner's every round, oldest first, each with its verdict and overall comment."""
    subs = sorted(learner_submissions(db=db, user_id=user_id), key=lambda s: s.round)
    reviews = {
        r.submission_id: r
        for r in db.scalars(select(Review).where(Review.submission_id.in_([s.id for s in subs])))
    }
    models = model_names(db=db, model_ids={s.model_id for s in subs})
    return [
        RoundOut(
            id=s.id,
            round=s.round,
            model_id=s.model_id,
            model_name=models.get(s.model_id, ""),
            epoch=s.epoch,
            status=s.status,
            submitted_at=s.submitted_at,
            decided_at=s.decided_at,
            verdict=reviews[s.id].verdict if s.id in reviews else None,
            comment=reviews[s.id].comment if s.id in reviews else None,
        )
        for s in subs
    ]


def submission_out(*, db: Session, submission: Submission) -> SubmissionOut:
    """The submission with its frozen evidence, its review and the learner's every round."""
    who = names(db=db, user_ids={submission.user_id, submission.reviewer_id})
    row = verdicts.review_of(db=db, submission=submission)
    return SubmissionOut(
        id=submission.id,
        model_id=submission.model_id,
        model_name=model_names(db=db, model_ids={submission.model_id}).get(submission.model_id, ""),
        learner=who.get(submission.user_id, ""),
        round=submission.round,
        epoch=submission.epoch,
        note=submission.note,
        status=submission.status,
        submitted_at=submission.submitted_at,
        claimed_at=submission.claimed_at,
        decided_at=submission.decided_at,
        reviewer=who.get(submission.reviewer_id) if submission.reviewer_id else None,
        review=review_out(row) if row else None,
        snapshot=submission.snapshot,
        settings=submission.settings,
        lora_url=f"/api/submissions/{submission.id}/lora",
        rounds=rounds(db=db, user_id=submission.user_id),
    )


def queue_items(*, db: Session, submissions: list[Submission]) -> list[QueueItem]:
    """Queue rows as the contract lists them."""
    who = names(db=db, user_ids={s.user_id for s in submissions} | {s.reviewer_id for s in submissions})
    models = model_names(db=db, model_ids={s.model_id for s in submissions})
    return [
        QueueItem(
            id=s.id,
            model_id=s.model_id,
            learner=who.get(s.user_id, ""),
            submitted_at=s.submitted_at,
            status=s.status,
            round=s.round,
            epoch=s.epoch,
            model_name=models.get(s.model_id, ""),
            reviewer=who.get(s.reviewer_id) if s.reviewer_id else None,
        )
        for s in submissions
    ]
