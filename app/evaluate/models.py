"""Tables of the evaluate domain: every generation with its settings, and sweep runs.

File paths are relative to the data directory and live under the model owner's folder, so
erasing the owner's account erases them."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.lab.models import JobStatus, TrainingJob


class Generation(Base):
    """One image made with a LoRA: who asked, with which prompt, strength, seed, epoch and steps."""

    __tablename__ = "generation"
    __table_args__ = (Index("ix_generation_model_id_id", "model_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("lora_models.id", ondelete="CASCADE"))
    epoch: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the final LoRA
    prompt: Mapped[str] = mapped_column(Text)
    strength: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    steps: Mapped[int] = mapped_column(Integer)
    resolution: Mapped[int] = mapped_column(Integer)
    image_path: Mapped[str] = mapped_column(String(1000))
    seconds: Mapped[float] = mapped_column(Float)  # generation time, shown beside the image
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Sweep(Base):
    """An epochs x strengths sweep of one model and its scored result. It runs as a job on the
    training queue (kind "sweep"): the job holds its status, progress, claim and times."""

    __tablename__ = "sweep"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("lora_models.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("training_jobs.id", ondelete="CASCADE"), unique=True)
    epochs: Mapped[list[int]] = mapped_column(JSON)
    strengths: Mapped[list[float]] = mapped_column(JSON)
    prompts: Mapped[list[str]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer)
    steps: Mapped[int] = mapped_column(Integer)
    resolution: Mapped[int] = mapped_column(Integer)
    folder: Mapped[str] = mapped_column(String(1000))  # relative to the data directory
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # SweepResult.to_dict()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[TrainingJob] = relationship(lazy="joined")

    @property
    def status(self) -> JobStatus:
        return self.job.status

    @property
    def done(self) -> int:
        """Images generated so far."""
        return self.job.step

    @property
    def total(self) -> int:
        return self.job.total_steps

    @property
    def error(self) -> str | None:
        return self.job.error

    @property
    def started_at(self) -> datetime | None:
        return self.job.started_at

    @property
    def finished_at(self) -> datetime | None:
        return self.job.finished_at
