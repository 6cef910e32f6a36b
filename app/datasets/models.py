"""Tables: a learner's dataset and its photos (files live under data_dir/users/<id>/datasets)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(60), default="sks")
    class_word: Mapped[str] = mapped_column(String(60), default="person")
    base: Mapped[str] = mapped_column(String(10), default="sdxl")  # sdxl | sd15: resolution and crop size
    resolution: Mapped[int] = mapped_column(Integer, default=1024)
    usable: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str] = mapped_column(String(500), default="")
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # set-level findings
    # Set when the photos, crops and thumbnails were deleted after training (retention.py);
    # the rows stay so pages can say what happened, but the set can no longer train.
    photos_deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # "Delete photos now": done at once, or when an open review of a model trained on it ends.
    delete_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    images: Mapped[list["DatasetImage"]] = relationship(
        back_populates="dataset",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="DatasetImage.position",
    )


class DatasetImage(Base):
    __tablename__ = "dataset_image"
    __table_args__ = (UniqueConstraint("dataset_id", "sha256", name="uq_dataset_image_dataset_id_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored, metadata-free JPEG: its file name
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[bool] = mapped_column(default=False)
    analysis: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # checks.PhotoAnalysis.to_dict(), problems included
    caption: Mapped[str] = mapped_column(String(500), default="")
    crop_left: Mapped[int] = mapped_column(Integer, default=0)
    crop_top: Mapped[int] = mapped_column(Integer, default=0)
    crop_size: Mapped[int] = mapped_column(Integer, default=0)
    nudge_dx: Mapped[float] = mapped_column(Float, default=0.0)
    nudge_dy: Mapped[float] = mapped_column(Float, default=0.0)
    nudge_zoom: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="images")

    @property
    def problems(self) -> list[dict[str, Any]]:
        """Findings of the checks (errors and warnings)."""
        return list(self.analysis.get("problems", []))
