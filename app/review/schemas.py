"""JSON shapes of the review API (CONTRACT.md names kept; more fields added beside them)."""

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from app.forms import RawForm, Wording, form_of
from app.review.models import SubmissionStatus, Verdict

CRITERIA = ("likeness", "consistency", "flexibility", "image_quality")
CRITERION_LABELS = {
    "likeness": "Likeness",
    "consistency": "Consistency across angles and lighting",
    "flexibility": "Flexibility (follows prompts, no copying)",
    "image_quality": "Image quality (no deep-frying)",
}
LOW_MARK = 2  # a mark at or below this needs a comment


def _clean(value: str) -> str:
    return value.strip()


class SubmissionIn(BaseModel):
    """POST /api/submissions: the model, an optional epoch (default: the recommended one) and a note."""

    model_id: int
    note: str = Field(default="", max_length=2000)
    epoch: int | None = Field(default=None, ge=1)

    _strip = field_validator("note")(_clean)


class SubmissionCreated(BaseModel):
    id: int
    status: SubmissionStatus


class QueueItem(BaseModel):
    """One row of the reviewer queue."""

    id: int
    model_id: int
    learner: str
    submitted_at: datetime
    status: SubmissionStatus
    round: int
    epoch: int
    model_name: str
    reviewer: str | None


class RubricScores(BaseModel):
    likeness: int = Field(ge=1, le=5)
    consistency: int = Field(ge=1, le=5)
    flexibility: int = Field(ge=1, le=5)
    image_quality: int = Field(ge=1, le=5)


class ReviewIn(BaseModel):
    """POST /api/submissions/{id}/reviews; `comments` holds a comment per criterion (required for marks <= 2)."""

    scores: RubricScores
    verdict: Verdict
    comment: str = Field(default="", max_length=4000)
    comments: dict[str, str] = Field(default_factory=dict)

    _strip = field_validator("comment")(_clean)

    @field_validator("comments")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CRITERIA))
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; use {list(CRITERIA)}")
        if any(len(v) > 2000 for v in value.values()):
            raise ValueError("each comment may hold 2000 characters")
        return {k: v.strip() for k, v in value.items() if v and v.strip()}


class ReviewOut(BaseModel):
    id: int
    submission_id: int
    reviewer: str
    scores: RubricScores
    comments: dict[str, str]
    verdict: Verdict
    comment: str
    created_at: datetime


class RoundOut(BaseModel):
    """One of the learner's submissions, as the history lists it."""

    id: int
    round: int
    model_id: int
    model_name: str
    epoch: int
    status: SubmissionStatus
    submitted_at: datetime
    decided_at: datetime | None
    verdict: Verdict | None
    comment: str | None


class SubmissionOut(BaseModel):
    id: int
    model_id: int
    model_name: str
    learner: str
    round: int
    epoch: int
    note: str
    status: SubmissionStatus
    submitted_at: datetime
    claimed_at: datetime | None
    decided_at: datetime | None
    reviewer: str | None
    review: ReviewOut | None
    snapshot: dict
    settings: dict[str, str]
    lora_url: str
    rounds: list[RoundOut]


class SubmissionForm(RawForm):
    """The submit form as posted: the epoch field may be blank (the final LoRA)."""

    epoch: str = ""
    note: str = ""

    def submission_fields(self) -> dict:
        """The fields of SubmissionIn this form gives."""
        return {"note": self.note, "epoch": self.epoch.strip() or None}


class PromptForm(RawForm):
    """The review screen's generate box as posted (GenerateIn validates it)."""

    prompt: str = ""
    strength: str = "0.8"

    def generate_fields(self) -> dict[str, str]:
        """GenerateIn's fields: a blank strength is the usual 0.8."""
        return {"prompt": self.prompt, "strength": self.strength.strip() or "0.8"}


class _RubricForm(RawForm):
    def review_fields(self) -> dict:
        """ReviewIn's fields: a mark or verdict left blank is missing, not zero."""
        raw = self.typed()
        return {
            "scores": {name: raw[name] or None for name in CRITERIA},
            "comments": {name: raw[f"comment_{name}"] for name in CRITERIA},
            "verdict": raw["verdict"] or None,
            "comment": raw["comment"],
        }


VerdictForm = form_of(
    "VerdictForm",
    (*CRITERIA, *(f"comment_{name}" for name in CRITERIA), "verdict", "comment"),
    "The rubric form as posted: a mark and a comment per criterion, the verdict and its comment.",
    base=_RubricForm,
)
# How a bad field of the review forms reads to the reviewer.
WORDING = Wording(
    labels={**CRITERION_LABELS, "scores": "mark"},
    hints={
        "scores": "{label}: choose a mark from 1 to 5.",
        "verdict": "Choose a verdict: approve or request changes.",
    },
)
