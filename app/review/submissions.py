"""A learner's submissions: submit one epoch of a model for review, read the rounds, the status
the course shows, and which verdicts are still unread. Plain functions; they flush, the caller
commits."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.flows import submissions as submission_flows
from app.lab.models import LoraModel, LoraModelEpoch
from app.review import exceptions as exc
from app.review.models import Submission, SubmissionStatus

# ---- submitting ----


def _owned_model(db: Session, user: User, model_id: int) -> LoraModel:
    model = db.get(LoraModel, model_id)
    if model is None or model.user_id != user.id:
        raise exc.ModelNotFound()
    return model


def epoch_rows(*, db: Session, model: LoraModel) -> list[LoraModelEpoch]:
    """The model's saved epochs in order."""
    return list(
        db.scalars(
            select(LoraModelEpoch).where(LoraModelEpoch.job_id == model.job_id).order_by(LoraModelEpoch.epoch)
        )
    )


def default_epoch(*, db: Session, model: LoraModel) -> int | None:
    """The epoch a submission takes unless the learner picks one: the recommended, else the last."""
    epochs = [e.epoch for e in epoch_rows(db=db, model=model)]
    if model.recommended_epoch in epochs:
        return model.recommended_epoch
    return epochs[-1] if epochs else None


def open_submission(*, db: Session, model_id: int) -> Submission | None:
    """The model's submission still in review, if any."""
    return db.scalar(
        select(Submission).where(
            Submission.model_id == model_id,
            Submission.status.in_([SubmissionStatus.waiting, SubmissionStatus.claimed]),
        )
    )


def is_approved(*, db: Session, model_id: int) -> bool:
    """True when an art director approved a submission of this model (the community badge)."""
    return (
        db.scalar(
            select(Submission.id)
            .where(Submission.model_id == model_id, Submission.status == SubmissionStatus.approved)
            .limit(1)
        )
        is not None
    )


def submit(
    *, db: Session, settings: Settings, user: User, model_id: int, note: str = "", epoch: int | None = None
) -> Submission:
    """Queue one epoch of the learner's model for review, freezing its LoRA file, samples,
    sweep row and scores under the learner's folder. One open submission per model."""
    model = _owned_model(db, user, model_id)
    if is_approved(db=db, model_id=model.id):
        raise exc.AlreadyApproved()
    current = open_submission(db=db, model_id=model.id)
    if current is not None:
        raise exc.AlreadyOpen(current.round)
    rows = epoch_rows(db=db, model=model)
    epoch = epoch or default_epoch(db=db, model=model)
    chosen = next((r for r in rows if r.epoch == epoch), None)
    if chosen is None:
        raise exc.EpochNotFound(epoch or 0, [r.epoch for r in rows])
    last_round = db.scalar(select(func.max(Submission.round)).where(Submission.user_id == user.id)) or 0
    sub = Submission(
        user_id=user.id,
        model_id=model.id,
        round=last_round + 1,
        epoch=chosen.epoch,
        note=note,
        status=SubmissionStatus.waiting,
        folder="",
        lora_file="",
        snapshot={},
        settings={},
    )
    try:
        with db.begin_nested():
            db.add(sub)
    except IntegrityError:
        # Two submits raced: the database kept one (one open per model, one per round).
        raise exc.AlreadyOpen(last_round + 1) from None
    submission_flows.freeze_submission(
        db=db, settings=settings, submission=sub, model=model, chosen=chosen, epochs=rows
    )
    db.flush()
    return sub


# ---- reading submissions ----


def get_viewable(*, db: Session, user: User, submission_id: int) -> Submission:
    """The submission for its learner and for reviewers; SubmissionNotFound for anyone else."""
    sub = db.get(Submission, submission_id)
    if sub is None or not (sub.user_id == user.id or user.has_role(Role.reviewer)):
        raise exc.SubmissionNotFound()
    return sub


def learner_submissions(*, db: Session, user_id: int) -> list[Submission]:
    """Every round of the learner, newest first."""
    return list(
        db.scalars(select(Submission).where(Submission.user_id == user_id).order_by(Submission.round.desc()))
    )


def model_submissions(*, db: Session, model_id: int) -> list[Submission]:
    """The model's submissions, newest first."""
    return list(
        db.scalars(select(Submission).where(Submission.model_id == model_id).order_by(Submission.id.desc()))
    )


def names(*, db: Session, user_ids: set[int | None]) -> dict[int, str]:
    """Display names by user id."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def model_names(*, db: Session, model_ids: set[int]) -> dict[int, str]:
    """Model names by id."""
    if not model_ids:
        return {}
    return dict(db.execute(select(LoraModel.id, LoraModel.name).where(LoraModel.id.in_(model_ids))).all())


def learner_status(*, db: Session, user_id: int) -> str | None:
    """What the course's last node shows: "approved" once any model is approved, else the latest
    round's status ("waiting", "claimed", "changes_requested"), None before a first submission."""
    if db.scalar(
        select(Submission.id)
        .where(Submission.user_id == user_id, Submission.status == SubmissionStatus.approved)
        .limit(1)
    ):
        return SubmissionStatus.approved.value
    latest = db.scalar(
        select(Submission.status)
        .where(Submission.user_id == user_id)
        .order_by(Submission.round.desc())
        .limit(1)
    )
    return latest.value if latest is not None else None


def unseen_verdicts(*, db: Session, user_id: int) -> int:
    """Verdicts on the learner's submissions they have not opened yet (the nav notification)."""
    return db.scalar(
        select(func.count(Submission.id)).where(
            Submission.user_id == user_id,
            Submission.decided_at.is_not(None),
            Submission.verdict_seen_at.is_(None),
        )
    )


def mark_verdicts_seen(*, db: Session, user: User, submissions: list[Submission]) -> None:
    """The learner has now read these verdicts."""
    now = utcnow()
    for sub in submissions:
        if sub.user_id == user.id and sub.decided_at is not None and sub.verdict_seen_at is None:
            sub.verdict_seen_at = now
    db.flush()


def node_milestone(db: Session, user_id: int) -> str | None:
    """Lesson 8's node label: "approved" once an art director approved one of the learner's LoRAs."""
    return "approved" if learner_status(db=db, user_id=user_id) == SubmissionStatus.approved.value else None
