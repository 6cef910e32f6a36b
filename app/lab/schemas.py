"""JSON shapes of the training lab: the job form, job status and model pages."""

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.lab.models import JobStatus
from app.trainer import presets

_TOKEN = re.compile(r"^[A-Za-z0-9_\-]+$")


class JobCreate(BaseModel):
    """The settings lesson 6 teaches; steps wins over epochs when both are given. With based_on
    (one of the learner's jobs), every setting left out is that job's (app/lab/retrain.py)."""

    based_on: int | None = Field(default=None, ge=1)  # "train again with changes" from this job
    dataset_id: int | None = None  # required unless based_on
    trigger: str | None = Field(default=None, min_length=2, max_length=40)  # a rare token, e.g. "sks"
    class_word: str | None = Field(default=None, min_length=2, max_length=40)  # e.g. "woman"
    steps: int | None = Field(default=None, ge=1, le=20000)
    epochs: int | None = Field(default=None, ge=1, le=200)
    repeats: int = Field(default=1, ge=1, le=100)
    batch_size: int = Field(default=1, ge=1, le=16)
    rank: int = Field(default=16, ge=1, le=256)
    alpha: float | None = Field(default=None, gt=0, le=1024)  # default: the rank
    learning_rate: float = Field(default=1e-4, gt=0, le=0.1)
    resolution: int | None = Field(default=None, ge=64, le=2048)  # default: the base model's
    seed: int = Field(default=123456, ge=0, le=2**31 - 1)
    sample_steps: int = Field(default=20, ge=1, le=60)  # denoising steps of each epoch's sample
    # the face recipe (lab: under "Advanced"); names as `loraface train` spells them
    buckets: bool = False  # aspect-ratio buckets (web crops are square today: one bucket)
    mask: Literal["off", "face", "head"] = "off"
    mask_background_weight: float = Field(default=0.1, ge=0, le=1)
    prior_images: int = Field(default=0, ge=0, le=200)  # class images made by the base, cached per base
    prior_loss_weight: float = Field(default=1.0, ge=0, le=10)
    ema_decay: float = Field(default=0.0, ge=0, lt=1)
    optimizer: Literal["adamw", "adamw8bit", "prodigy", "adafactor"] = "adamw"
    network: Literal["lora", "locon", "dora"] = "lora"
    preset: str | None = None  # "SDXL face, 12 GB", ...: its values fill every setting left out
    # Without a configured base: which tiny demo trains (sdxl unless given); with one: its family or unset.
    family: Literal["sdxl", "sd15", "flux"] | None = None
    flux_mlp: bool = False  # FLUX.1 only: the adapter also on the blocks' MLPs, not just attention
    base_precision: Literal["bf16", "fp8"] = "bf16"  # FLUX.1 only: fp8 stores the frozen base in 8 bits

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in presets.PRESETS:
            raise ValueError(f"unknown preset: use one of {', '.join(presets.PRESETS)}")
        return value

    @field_validator("trigger", "class_word")
    @classmethod
    def _one_word(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not _TOKEN.match(value):
            raise ValueError("use one word: letters, digits, - or _")
        return value

    @field_validator("resolution")
    @classmethod
    def _multiple_of_8(cls, value: int | None) -> int | None:
        if value is not None and value % 8:
            raise ValueError("the resolution must be a multiple of 8 (e.g. 512 or 1024)")
        return value

    @model_validator(mode="after")
    def _distinct_words(self) -> "JobCreate":
        missing = [f for f in ("dataset_id", "trigger", "class_word") if getattr(self, f) is None]
        if missing and self.based_on is None:
            raise ValueError(f"{', '.join(missing)} required (or based_on: a job to start from)")
        if self.trigger and self.class_word and self.trigger.lower() == self.class_word.lower():
            raise ValueError("the trigger must differ from the class word (lesson 3)")
        return self


class JobCreated(BaseModel):
    id: int
    status: JobStatus
    based_on: int | None = None
    changes: dict | None = None  # {setting: [before, after]} against based_on


class JobOut(BaseModel):
    """Status of one job; the contract's fields first, then extras the lab page shows."""

    id: int
    status: JobStatus
    step: int
    total_steps: int
    loss: float | None
    eta_seconds: float | None
    samples: list[str]
    model_id: int | None
    error: str | None
    epoch: int
    total_epochs: int
    learning_rate: float | None
    images_per_second: float | None
    queue_position: int | None
    attempt: int
    resumed_from_step: int | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    based_on: int | None = None
    changes: dict | None = None


class EpochOut(BaseModel):
    epoch: int
    step: int
    loss: float | None
    sample_url: str | None
    download_kohya: str | None  # None: no kohya file was written (ModelOut.kohya_note says why)
    download_diffusers: str


class ModelOut(BaseModel):
    id: int
    name: str
    trigger: str
    class_word: str
    family: str
    steps: int
    final_loss: float | None
    job_id: int
    download_kohya: str | None  # the final kohya file, None when none was written
    download_diffusers: str
    kohya_note: str | None  # why there is no kohya file, in one sentence
    epochs: list[EpochOut]
    scores: dict | None
    score_notes: dict[str, str] = {}  # why a score is null (or how far to trust it), one sentence each
    recommended_strength: float | None
    recommended_epoch: int | None
    created_at: datetime
