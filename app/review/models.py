"""Tables of the review domain: a learner's submission of one epoch of a LoRA, and its review.

A submission freezes what the reviewer judges (a copy of the epoch's LoRA file, its samples and
the sweep grid under the learner's folder, a JSON snapshot of scores and settings), so training
again or running a new sweep never changes a round already in the queue."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class SubmissionStatus(str, enum.Enum):
    """waiting for a reviewer, claimed by one, or decided (the last two)."""

    waiting = "waiting"
    claimed = "claimed"
    approved = "approved"
    changes_requested = "changes_requested"

    @property
    def is_open(self) -> bool:
        return self in (SubmissionStatus.waiting, SubmissionStatus.claimed)


class Verdict(str, enum.Enum):
    """What a review decides."""

    approved = "approved"
    changes_requested = "changes_requested"


OPEN_STATUSES = ("waiting", "claimed")
_OPEN_WHERE = "status IN ('waiting', 'claimed')"


class Submission(Base):
    """One round: a learner asks the art directors to check one epoch of one of their models."""

    __tablename__ = "review_submission"
    __table_args__ = (
        # One open submission per model, kept by the database even when two requests race.
        Index(
            "uq_review_submission_one_open_per_model",
            "model_id",
            unique=True,
            sqlite_where=text(_OPEN_WHERE),
            postgresql_where=text(_OPEN_WHERE),
        ),
        UniqueConstraint("user_id", "round", name="uq_review_submission_user_id_round"),
        Index("ix_review_submission_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("lora_models.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)  # the learner's 1st, 2nd, ... submission
    epoch: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SubmissionStatus] = mapped_column(
        Enum(SubmissionStatus, native_enum=False, length=20, name="submission_status"),
        default=SubmissionStatus.waiting,
    )
    folder: Mapped[str] = mapped_column(String(1000))  # frozen files, relative to the data directory
    lora_file: Mapped[str] = mapped_column(String(300))  # name of the frozen .safetensors inside folder
    snapshot: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # scores, recommendation, sweep row, samples, crops
    settings: Mapped[dict[str, str]] = mapped_column(JSON)  # the LoRA's ss_* metadata
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True, default=None
    )
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    verdict_seen_at: Mapped[datetime | None] = mapped_column(default=None)  # the learner opened the verdict

    review: Mapped["Review | None"] = relationship(
        back_populates="submission", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )


class Review(Base):
    """A reviewer's rubric (1-5 per criterion, comments required for low marks) and verdict."""

    __tablename__ = "review_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("review_submission.id", ondelete="CASCADE"), unique=True
    )
    # The learner keeps the feedback even if the reviewer's account goes.
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True, default=None
    )
    reviewer_name: Mapped[str] = mapped_column(String(80))
    likeness: Mapped[int] = mapped_column(Integer)
    consistency: Mapped[int] = mapped_column(Integer)
    flexibility: Mapped[int] = mapped_column(Integer)
    image_quality: Mapped[int] = mapped_column(Integer)
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # per criterion
    verdict: Mapped[Verdict] = mapped_column(
        Enum(Verdict, native_enum=False, length=20, name="review_verdict")
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="review")
