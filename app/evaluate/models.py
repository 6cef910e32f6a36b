"""Tables of the evaluate domain: every generation with its settings, and sweep runs.

File paths are relative to the data directory and live under the model owner's folder, so
erasing the owner's account erases them."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


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


class SweepStatus(str, enum.Enum):
    """Where a sweep is in its life; the last three are final."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (SweepStatus.succeeded, SweepStatus.failed, SweepStatus.cancelled)


class Sweep(Base):
    """An epochs x strengths sweep of one model, run in the background, and its scored result."""

    __tablename__ = "sweep"
    __table_args__ = (Index("ix_sweep_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("lora_models.id", ondelete="CASCADE"), index=True)
    status: Mapped[SweepStatus] = mapped_column(
        Enum(SweepStatus, native_enum=False, length=20, name="sweep_status"), default=SweepStatus.queued
    )
    epochs: Mapped[list[int]] = mapped_column(JSON)
    strengths: Mapped[list[float]] = mapped_column(JSON)
    prompts: Mapped[list[str]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer)
    steps: Mapped[int] = mapped_column(Integer)
    resolution: Mapped[int] = mapped_column(Integer)
    folder: Mapped[str] = mapped_column(String(1000))  # relative to the data directory
    done: Mapped[int] = mapped_column(Integer, default=0)  # images generated so far
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # SweepResult.to_dict()
    error: Mapped[str | None] = mapped_column(Text, default=None)
    worker_id: Mapped[str | None] = mapped_column(String(200), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
