"""Questions, their choices, pass marks per lesson, and graded attempts.

Questions are edited, reordered and versioned by instructors; an attempt never points at a
question's current text. Each answered question keeps a snapshot of exactly what was asked and
chosen, so past attempts (and the statistics built from them) stay true after an edit.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, String, Text, false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

DEFAULT_PASS_MARK = 80  # percent


class QuestionKind(str, enum.Enum):
    """How a question is answered."""

    single = "single"  # one right choice, radio buttons
    multiple = "multiple"  # several right choices with weights that add up to 1, checkboxes
    true_false = "true_false"  # the two choices True and False
    image_choice = "image_choice"  # one right picture among pictures


class LessonCheckSettings(Base):
    """Per-lesson settings of its check; a lesson without a row uses DEFAULT_PASS_MARK."""

    __tablename__ = "quiz_lesson_settings"

    lesson_number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    pass_mark: Mapped[int] = mapped_column(default=DEFAULT_PASS_MARK)  # percent needed to pass
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Question(Base):
    """One question of a lesson's check. `version` goes up on every edit; soft-deleted
    questions (deleted_at set) leave the check but stay for past attempts and statistics."""

    __tablename__ = "quiz_question"
    __table_args__ = (Index("ix_quiz_question_lesson_position", "lesson_number", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_number: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(
        Enum(QuestionKind, native_enum=False, length=20, name="question_kind")
    )
    title: Mapped[str] = mapped_column(String(200), default="")  # GIFT ::title::
    prompt: Mapped[str] = mapped_column(Text)
    general_feedback: Mapped[str] = mapped_column(Text, default="")
    # learners see the choices shuffled per attempt unless the author fixes the order
    # (for "all of the above", or a scale that reads in order)
    fixed_order: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    choices: Mapped[list["Choice"]] = relationship(
        back_populates="question",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(Choice.position, Choice.id)",
    )


class Choice(Base):
    """An answer on offer. `weight` is the fraction of the question's marks it earns
    (1 for the right answer of a single choice; shares adding up to 1 for multiple answers;
    0 or negative for a wrong one), as in GIFT."""

    __tablename__ = "quiz_choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_question.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    image_path: Mapped[str | None] = mapped_column(String(500), default=None)  # a site path, /static/...
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    feedback: Mapped[str] = mapped_column(Text, default="")

    question: Mapped[Question] = relationship(back_populates="choices")

    @hybrid_property
    def is_correct(self) -> bool:
        """A right answer earns a positive share of the marks."""
        return self.weight > 0


class Attempt(Base):
    """One submitted check: unlimited retries, every one kept."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (Index("ix_quiz_attempt_user_lesson", "user_id", "lesson_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    lesson_number: Mapped[int]
    score: Mapped[float] = mapped_column(Float)  # 0..1, the mean of the question scores
    pass_mark: Mapped[int]  # the pass mark in force when it was graded
    passed: Mapped[bool]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    answers: Mapped[list["AttemptAnswer"]] = relationship(
        back_populates="attempt",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="AttemptAnswer.id",
    )


class AttemptAnswer(Base):
    """The answer to one question within an attempt, with a snapshot of the question as asked."""

    __tablename__ = "quiz_attempt_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"), index=True)
    # SET NULL: deleting a question for good must not erase learners' history.
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_question.id", ondelete="SET NULL"), index=True
    )
    question_version: Mapped[int]
    chosen_choice_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(Float)  # 0..1
    correct: Mapped[bool]
    feedback: Mapped[str] = mapped_column(Text, default="")  # what the learner was told
    # {"kind", "title", "prompt", "general_feedback", "choices": [{"id", "text", "image_path",
    #  "weight", "feedback"}], "shown_order": [choice ids as the learner saw them]}: the question
    #  exactly as it was asked.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
