"""Tables of the training queue: jobs, the LoRA models they produce, and each epoch's files.

File paths are stored relative to the data directory, so the directory can move."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class JobStatus(str, enum.Enum):
    """Where a job is in its life; the last three are final."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


class JobKind(str, enum.Enum):
    """What a job runs: a training run, or a sweep of a trained model (its spec in `sweep`)."""

    train = "train"
    sweep = "sweep"


class TrainingJob(Base):
    """One background job asked for by a learner (a training run or a sweep), claimed by one
    worker attempt at a time."""

    __tablename__ = "training_jobs"
    __table_args__ = (
        Index("ix_training_jobs_status_id", "status", "id"),
        # At most one running job per learner, enforced by the database even under races.
        Index(
            "uq_training_jobs_one_running_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset.id", ondelete="SET NULL"), index=True, default=None
    )
    kind: Mapped[JobKind] = mapped_column(
        Enum(JobKind, native_enum=False, length=20, name="job_kind"),
        default=JobKind.train,
        server_default=JobKind.train.value,
    )
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=20, name="job_status"), default=JobStatus.queued
    )
    config: Mapped[dict[str, Any]] = mapped_column(JSON)  # TrainConfig fields
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # snapshot of the prepared crops
    base_model: Mapped[str | None] = mapped_column(String(1000), default=None)
    # The family it trains ("sdxl", "sd15", "flux"): picks the tiny demo when base_model is unset.
    family: Mapped[str | None] = mapped_column(String(20), default=None)
    # "Train again with changes": the job this one started from and the settings that changed.
    # A plain id, not a foreign key: adding one would rebuild this table on SQLite; same owner only.
    based_on_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # {setting: [old, new]}

    # Claiming and fencing: every worker write names the attempt it belongs to.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker_id: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_requested: Mapped[bool] = mapped_column(default=False)

    # Progress, written by the worker a few times per second at most.
    step: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    total_epochs: Mapped[int] = mapped_column(Integer, default=0)
    loss: Mapped[float | None] = mapped_column(Float, default=None)
    learning_rate: Mapped[float | None] = mapped_column(Float, default=None)
    images_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    eta_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    losses: Mapped[list[list[float]]] = mapped_column(JSON, default=list)  # [[step, loss], ...]
    resumed_from_step: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    epochs: Mapped[list["LoraModelEpoch"]] = relationship(
        back_populates="job",
        order_by="LoraModelEpoch.epoch",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    model: Mapped["LoraModel | None"] = relationship(back_populates="job", uselist=False)


class LoraModel(Base):
    """The LoRA a successful job produced: final files in both formats and its epochs."""

    __tablename__ = "lora_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("training_jobs.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(60))
    class_word: Mapped[str] = mapped_column(String(60))
    family: Mapped[str] = mapped_column(String(20))  # "sdxl", "sd15" or "flux"
    base_model: Mapped[str | None] = mapped_column(String(1000), default=None)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    steps: Mapped[int] = mapped_column(Integer)
    final_loss: Mapped[float | None] = mapped_column(Float, default=None)
    # None: no kohya file was written (FLUX.1 on the tiny demo base, see app/lab/families.py)
    kohya_path: Mapped[str | None] = mapped_column(String(1000), default=None)
    diffusers_path: Mapped[str] = mapped_column(String(1000))
    # Filled by evaluation (identity and overfitting scores) once it has run.
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    recommended_strength: Mapped[float | None] = mapped_column(Float, default=None)
    recommended_epoch: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[TrainingJob] = relationship(back_populates="model")
    epochs: Mapped[list["LoraModelEpoch"]] = relationship(
        back_populates="model", order_by="LoraModelEpoch.epoch", viewonly=True
    )


class LoraModelEpoch(Base):
    """One epoch's exports and sample; written while the job runs, tied to the model at the end."""

    __tablename__ = "lora_model_epoch"
    __table_args__ = (UniqueConstraint("job_id", "epoch", name="uq_lora_model_epoch_job_epoch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("training_jobs.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("lora_models.id", ondelete="CASCADE"), index=True, default=None
    )
    epoch: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)
    loss: Mapped[float | None] = mapped_column(Float, default=None)
    diffusers_path: Mapped[str] = mapped_column(String(1000))
    kohya_path: Mapped[str | None] = mapped_column(String(1000), default=None)  # None: not written
    sample_path: Mapped[str | None] = mapped_column(String(1000), default=None)
    # Which claim of the job wrote this row: the fault suite checks no stale attempt ever did.
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[TrainingJob] = relationship(back_populates="epochs")
    model: Mapped[LoraModel | None] = relationship(back_populates="epochs", viewonly=True)
