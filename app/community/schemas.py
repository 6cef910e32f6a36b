"""What the community API takes and returns."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.community.models import PostKind, ReactionKind, ReportReason, ReportStatus
from app.forms import RawForm, Wording

TITLE_MAX = 140
BODY_MAX = 20_000
COMMENT_MAX = 10_000


class PostCreate(BaseModel):
    """A new post. Model posts name one of the poster's models and 2-4 of its samples."""

    model_config = ConfigDict(extra="forbid")

    kind: PostKind
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str = Field(default="", max_length=BODY_MAX)
    model_id: int | None = None
    job_id: int | None = None  # help threads: attach a job to show its settings and loss curve
    lesson: int | None = Field(default=None, ge=1, le=8)
    samples: list[str] = Field(default_factory=list, max_length=4)  # refs from /api/models/{id}/share-samples


class PostUpdate(BaseModel):
    """An edit: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: str | None = Field(default=None, max_length=BODY_MAX)
    lesson: int | None = Field(default=None, ge=1, le=8)


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=COMMENT_MAX)


class ReactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ReactionKind


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ReportReason
    note: str = Field(default="", max_length=500)


class HideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hidden: bool = True


class ResolveIn(BaseModel):
    """A moderator's decision on a report: hide the content, or dismiss the report."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern="^(hide|dismiss)$")


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suspended: bool = True


class ImageOut(BaseModel):
    url: str
    caption: str


class ModelShareOut(BaseModel):
    """The shared fields of a model post (a snapshot taken when it was shared)."""

    model_id: int | None
    name: str | None
    trigger: str | None
    class_word: str | None
    recommended_strength: float | None
    recommended_epoch: int | None
    approved: bool


class FeedItem(BaseModel):
    id: int
    kind: PostKind
    title: str
    author: str
    author_id: int
    created_at: datetime
    edited_at: datetime | None
    excerpt: str
    lesson: int | None
    comment_count: int
    reactions: dict[str, int]
    answered: bool
    hidden: bool
    url: str
    images: list[ImageOut]
    model: ModelShareOut | None


class CommentOut(BaseModel):
    id: int
    post_id: int
    author: str
    author_id: int
    body: str
    body_html: str
    accepted: bool
    hidden: bool
    created_at: datetime
    edited_at: datetime | None


class PostOut(FeedItem):
    body: str
    body_html: str
    job_id: int | None
    settings: dict[str, Any] | None
    losses: list[list[float]] | None
    my_reactions: list[ReactionKind]
    comments: list[CommentOut]


class ReactionsOut(BaseModel):
    reactions: dict[str, int]
    mine: list[ReactionKind]


class ReportOut(BaseModel):
    id: int
    status: ReportStatus
    reason: ReportReason
    note: str
    reporter: str
    post_id: int | None
    comment_id: int | None
    target_author_id: int | None
    target_hidden: bool
    excerpt: str
    created_at: datetime


class SampleChoice(BaseModel):
    """An image of a model the owner may put on a model post."""

    ref: str
    url: str
    label: str


# ---- the page forms as posted ----


class CommentForm(RawForm):
    body: str = ""


class EditForm(RawForm):
    """The edit form: the lesson is a number or blank."""

    title: str = ""
    body: str = ""
    lesson: str = ""


class ReportFields(RawForm):
    """The report form of a post or a comment (the reason is checked by the page)."""

    reason: str = ""
    note: str = ""


class SwitchFields(RawForm):
    """A switch button's form (accept, hide, suspend): its flag is "1" for on, "0" for off; a
    suspension's form also says where to go back to."""

    accepted: str = ""
    hidden: str = ""
    suspended: str = ""
    back: str = "/community/moderation"

    @property
    def on(self) -> bool:
        """The flag the button sent ("1" unless it sent "0"), whichever switch it is."""
        return (self.accepted or self.hidden or self.suspended or "1") == "1"


# How a bad field of the post forms reads to the writer (one message, the first).
POST_WORDING = Wording(
    hints={
        **{name: "Some fields are missing or not valid." for name in PostCreate.model_fields},
        "title": f"Give the post a title of at most {TITLE_MAX} characters.",
        "body": "The text is too long.",
        "lesson": "Choose a lesson from 1 to 8.",
        "samples": "Choose 2 to 4 sample images.",
    }
)
COMMENT_WORDING = Wording(hints={"body": f"Write a comment of at most {COMMENT_MAX:,} characters."})
