"""API shapes of datasets (see CONTRACT.md: POST /api/datasets, GET /api/datasets/{id})."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.forms import RawForm


class ProblemOut(BaseModel):
    code: str
    message: str
    lesson: int
    severity: str = "error"


class CropOut(BaseModel):
    left: int
    top: int
    size: int
    resolution: int
    url: str


class ImageOut(BaseModel):
    id: int
    filename: str
    accepted: bool
    kept_anyway: bool = False  # accepted because the learner overruled the checks
    problems: list[ProblemOut]
    width: int
    height: int
    pose: str
    caption: str
    caption_problems: list[ProblemOut]
    crop: CropOut | None
    thumbnail_url: str


class DatasetOut(BaseModel):
    id: int
    name: str
    trigger: str
    class_word: str
    base: str
    resolution: int
    usable: bool
    summary: str
    problems: list[ProblemOut]
    skipped: list[dict] = Field(default_factory=list)  # exact duplicates dropped from this upload
    photos_deleted_at: datetime | None = None  # set once the photos were deleted after training
    images: list[ImageOut]


class DatasetListItem(BaseModel):
    id: int
    name: str
    usable: bool
    summary: str
    images: int
    accepted: int
    photos_deleted_at: datetime | None = None


class NudgeIn(BaseModel):
    dx: float = Field(0.0, ge=-0.5, le=0.5)  # share of the crop side
    dy: float = Field(0.0, ge=-0.5, le=0.5)
    zoom: float = Field(1.0, ge=0.5, le=2.0)  # multiplies the current zoom
    reset: bool = False


class ImageUpdate(BaseModel):
    caption: str | None = Field(None, max_length=500)
    nudge: NudgeIn | None = None
    keep_anyway: bool | None = None  # overrule the photo's (overrulable) rejection, or take it back


class UploadForm(RawForm):
    """The lab's upload form as posted, beside its photos (the service checks the fields)."""

    name: str = ""
    trigger: str = "sks"
    class_word: str = "person"
    base: str = "sdxl"
    consent: bool = False  # a checkbox: consent recorded with this upload
    keep_photos: bool | None = None  # the retention choice, when the form asks for it

    def dataset_fields(self) -> dict[str, str]:
        """The fields the new dataset takes (service.create_dataset's names)."""
        return self.model_dump(include={"name", "trigger", "class_word", "base"})


class UploadFields(UploadForm):
    """POST /api/datasets' fields: the same, with the base one of the two the API names."""

    base: Literal["sdxl", "sd15"] = "sdxl"
