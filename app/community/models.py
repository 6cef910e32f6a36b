"""Tables of the community: posts (shared models and help threads), their images, comments,
reactions, reports, and the action log that rate limits are counted from.

Posts keep a snapshot of what they share (model settings, chosen samples copied under the
author's folder), so a post still reads right after the model or job behind it is deleted."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

import app.lab.models  # noqa: F401  (lora_models and training_jobs, targets of our foreign keys)
from app.auth.models import User
from app.db import Base, utcnow


class PostKind(str, enum.Enum):
    """A shared LoRA, or a question asking for help."""

    model = "model"
    help = "help"


class ReactionKind(str, enum.Enum):
    """The small fixed set of reactions; the value is what the API takes."""

    like = "like"
    helpful = "helpful"
    love = "love"
    wow = "wow"

    @property
    def emoji(self) -> str:
        return {"like": "👍", "helpful": "💡", "love": "❤️", "wow": "😮"}[self.value]


class ReportReason(str, enum.Enum):
    """Why a post or comment was reported."""

    spam = "spam"
    abuse = "abuse"
    private_photos = "private_photos"
    off_topic = "off_topic"
    other = "other"


class ReportStatus(str, enum.Enum):
    open = "open"
    resolved = "resolved"  # a moderator acted on the content
    dismissed = "dismissed"  # nothing to act on


class ActionKind(str, enum.Enum):
    """What the rate limits count."""

    post = "post"
    comment = "comment"
    report = "report"


class Post(Base):
    """One feed entry: a shared model or a help thread."""

    __tablename__ = "community_post"
    __table_args__ = (
        Index("ix_community_post_kind_id", "kind", "id"),
        Index("ix_community_post_lesson_number_id", "lesson_number", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PostKind] = mapped_column(Enum(PostKind, native_enum=False, length=20, name="post_kind"))
    title: Mapped[str] = mapped_column(String(140))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown as written
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised once, on write
    lesson_number: Mapped[int | None] = mapped_column(Integer, default=None)

    # What the post shares or asks about; SET NULL so deleting the model keeps the post readable.
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("lora_models.id", ondelete="SET NULL"), index=True, default=None
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_jobs.id", ondelete="SET NULL"), index=True, default=None
    )
    model_name: Mapped[str | None] = mapped_column(String(100), default=None)
    trigger: Mapped[str | None] = mapped_column(String(60), default=None)
    class_word: Mapped[str | None] = mapped_column(String(60), default=None)
    recommended_strength: Mapped[float | None] = mapped_column(Float, default=None)
    recommended_epoch: Mapped[int | None] = mapped_column(Integer, default=None)
    # Training settings and loss points of the attached job, so helpers can diagnose inline.
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    losses: Mapped[list[list[float]] | None] = mapped_column(JSON, default=None)
    total_steps: Mapped[int | None] = mapped_column(Integer, default=None)

    hidden_at: Mapped[datetime | None] = mapped_column(default=None)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    images: Mapped[list["PostImage"]] = relationship(
        back_populates="post",
        order_by="PostImage.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="post", order_by="Comment.id", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class PostImage(Base):
    """A picture on a post: a chosen sample of a shared model, or a photo on a help thread.
    The file is a copy under the author's folder, re-encoded, path relative to the data dir."""

    __tablename__ = "community_post_image"
    __table_args__ = (
        UniqueConstraint("post_id", "position", name="uq_community_post_image_post_id_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_post.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(1000))
    caption: Mapped[str] = mapped_column(String(200), default="")

    post: Mapped[Post] = relationship(back_populates="images")


class Comment(Base):
    """An answer or remark on a post; on a help thread the author may accept one."""

    __tablename__ = "community_comment"
    __table_args__ = (Index("ix_community_comment_post_id_id", "post_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_post.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    accepted: Mapped[bool] = mapped_column(default=False)
    hidden_at: Mapped[datetime | None] = mapped_column(default=None)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    post: Mapped[Post] = relationship(back_populates="comments")

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class Reaction(Base):
    """One user's reaction of one kind on a post (at most one of each kind per user)."""

    __tablename__ = "community_reaction"
    __table_args__ = (
        UniqueConstraint("post_id", "user_id", "kind", name="uq_community_reaction_post_id_user_id_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReactionKind] = mapped_column(
        Enum(ReactionKind, native_enum=False, length=20, name="reaction_kind")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Report(Base):
    """A user's report of a post or a comment, waiting in the moderators' queue."""

    __tablename__ = "community_report"
    __table_args__ = (Index("ix_community_report_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_post.id", ondelete="CASCADE"), index=True, default=None
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_comment.id", ondelete="CASCADE"), index=True, default=None
    )
    reason: Mapped[ReportReason] = mapped_column(
        Enum(ReportReason, native_enum=False, length=20, name="report_reason")
    )
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[ReportStatus] = mapped_column(
        Enum(ReportStatus, native_enum=False, length=20, name="report_status"), default=ReportStatus.open
    )
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), default=None
    )
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")
    post: Mapped[Post | None] = relationship(foreign_keys=[post_id])
    comment: Mapped[Comment | None] = relationship(foreign_keys=[comment_id])


class Action(Base):
    """One post, comment or report written by a user; kept when the content is deleted, so
    deleting does not reset a rate limit, and counted in the database so every process agrees."""

    __tablename__ = "community_action"
    __table_args__ = (Index("ix_community_action_user_id_kind_at", "user_id", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[ActionKind] = mapped_column(
        Enum(ActionKind, native_enum=False, length=20, name="action_kind")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
