"""JSON shapes of the evaluate domain: the generate request and answer, sweeps."""

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from app.forms import RawForm
from app.lab.models import JobStatus

DEFAULT_SEED = 123456  # lesson 8: a fixed seed makes comparisons fair


class GenerateIn(BaseModel):
    """What POST /api/models/{id}/generate takes (CONTRACT.md), plus optional steps."""

    prompt: str = Field(min_length=1, max_length=500)
    strength: float = Field(default=0.8, ge=0.0, le=2.0)  # 0 is the base model alone
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=2**31 - 1)
    epoch: int | None = Field(default=None, ge=1)  # None: the final LoRA
    steps: int | None = Field(default=None, ge=1, le=60)  # None: the model's sample steps

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError('write a prompt, e.g. "photo of sks woman, smiling"')
        return value


class GenerateForm(RawForm):
    """The model page's generate form as posted (GenerateIn validates its filled fields)."""

    prompt: str = ""
    strength: str = "0.8"
    seed: str = str(DEFAULT_SEED)
    epoch: str = ""
    steps: str = ""


class GenerationOut(BaseModel):
    """The contract's answer {image_url, seed}, then the settings it was made with."""

    image_url: str
    seed: int
    id: int
    model_id: int
    prompt: str
    strength: float
    epoch: int | None
    steps: int
    resolution: int
    seconds: float
    page_url: str
    created_at: datetime


class SweepIn(BaseModel):
    """Optional settings of a sweep; the defaults are lesson 8's."""

    epochs: int = Field(default=4, ge=1, le=8)  # how many of the last epochs
    strengths: list[float] = Field(default=[0.5, 0.7, 0.9, 1.1], min_length=1, max_length=6)
    prompts: list[str] | None = Field(default=None, min_length=2, max_length=3)
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=2**31 - 1)
    steps: int | None = Field(default=None, ge=1, le=60)

    @field_validator("strengths")
    @classmethod
    def _in_range(cls, values: list[float]) -> list[float]:
        if any(not 0 < v <= 2 for v in values):
            raise ValueError("strengths must lie in (0, 2]")
        return sorted(set(values))

    @field_validator("prompts")
    @classmethod
    def _prompts(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        cleaned = [" ".join(v.split()) for v in values]
        if any(not v or len(v) > 300 for v in cleaned):
            raise ValueError("each prompt needs 1-300 characters")
        return cleaned


class SweepOut(BaseModel):
    id: int
    model_id: int
    status: JobStatus
    done: int
    total: int
    epochs: list[int]
    strengths: list[float]
    prompts: list[str]
    seed: int
    steps: int
    grid_url: str | None
    result: dict | None  # cells with scores, per epoch scores, recommendation
    error: str | None
    created_at: datetime
    finished_at: datetime | None
