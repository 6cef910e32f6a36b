"""What a post takes from the training lab: a model's or job's shareable fields, the sample
images its owner may choose from, and the picture files copied under the author's folder.

Everything read from other domains goes through here, so the rest of the community code
depends on a handful of plain values, not on the trainer's tables."""

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.community import exceptions as exc
from app.lab.models import JobKind, LoraModel, LoraModelEpoch, TrainingJob
from app.review import submissions as review_submissions
from app.trainer import images

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MAX_SIDE = 1536  # pictures are shrunk to this; a post needs no more
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})

# Training settings worth showing to helpers; paths, prompts and internals stay private.
SHARED_SETTINGS = (
    "trigger", "class_word", "resolution", "rank", "alpha", "learning_rate", "epochs", "max_steps",
    "repeats", "batch_size", "seed", "lr_scheduler", "warmup_steps", "min_snr_gamma", "noise_offset",
    "train_text_encoder",
)  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """The fields a post keeps of a model or job, taken when it is shared."""

    model_id: int | None
    job_id: int | None
    model_name: str | None
    trigger: str | None
    class_word: str | None
    recommended_strength: float | None
    recommended_epoch: int | None
    settings: dict[str, Any]
    losses: list[list[float]]
    total_steps: int | None


@dataclass(frozen=True)
class SampleSource:
    """An image of a model that its owner may put on a post."""

    ref: str  # "epoch-3" or "generation-12"
    path: str  # relative to the data directory
    preview_url: str  # where the owner sees it now
    label: str


def shared_settings(config: dict[str, Any] | None, photos: int | None) -> dict[str, Any]:
    """The public subset of a TrainConfig dict, plus how many photos were used."""
    out = {k: config[k] for k in SHARED_SETTINGS if config and config.get(k) is not None}
    if photos is not None:
        out["photos"] = photos
    return out


def own_model(*, db: Session, user: User, model_id: int) -> LoraModel:
    """The poster's own model; ModelNotFound for anyone else's (we never say which)."""
    model = db.get(LoraModel, model_id)
    if model is None or model.user_id != user.id:
        raise exc.ModelNotFound()
    return model


def own_job(*, db: Session, user: User, job_id: int) -> TrainingJob:
    """The poster's own training job; JobNotFound for anyone else's."""
    job = db.get(TrainingJob, job_id)
    if job is None or job.user_id != user.id or job.kind != JobKind.train:
        raise exc.JobNotFound()
    return job


def snapshot(*, model: LoraModel | None = None, job: TrainingJob | None = None) -> Snapshot:
    """Copy the shareable fields of a model (and its job), or of a job alone."""
    job = job or (model.job if model is not None else None)
    config = (model.config if model is not None else None) or (job.config if job is not None else None)
    return Snapshot(
        model_id=model.id if model else None,
        job_id=job.id if job else None,
        model_name=model.name if model else None,
        trigger=model.trigger if model else (config or {}).get("trigger"),
        class_word=model.class_word if model else (config or {}).get("class_word"),
        recommended_strength=model.recommended_strength if model else None,
        recommended_epoch=model.recommended_epoch if model else None,
        settings=shared_settings(
            config, len(job.images) if job is not None and job.images is not None else None
        ),
        losses=list(job.losses or []) if job else [],
        total_steps=(job.total_steps or None) if job else (model.steps if model else None),
    )


def list_user_models(*, db: Session, user: User) -> list[LoraModel]:
    """The user's models, newest first, for the share form."""
    return list(
        db.scalars(select(LoraModel).where(LoraModel.user_id == user.id).order_by(LoraModel.id.desc()))
    )


def list_user_jobs(*, db: Session, user: User, limit: int = 20) -> list[TrainingJob]:
    """The user's recent jobs, newest first, to attach to a help thread."""
    return list(
        db.scalars(
            select(TrainingJob)
            .where(TrainingJob.user_id == user.id, TrainingJob.kind == JobKind.train)
            .order_by(TrainingJob.id.desc())
            .limit(limit)
        )
    )


def sample_sources(*, db: Session, model: LoraModel) -> list[SampleSource]:
    """Per-epoch samples and the owner's own generations with this model (never training photos)."""
    sources = [
        SampleSource(
            ref=f"epoch-{row.epoch}",
            path=row.sample_path,
            preview_url=f"/lab/jobs/{model.job_id}/samples/{row.epoch}",
            label=f"Epoch {row.epoch} sample",
        )
        for row in db.scalars(
            select(LoraModelEpoch).where(LoraModelEpoch.job_id == model.job_id).order_by(LoraModelEpoch.epoch)
        )
        if row.sample_path
    ]
    return sources + _generation_sources(db=db, model=model)


def _generation_sources(*, db: Session, model: LoraModel) -> list[SampleSource]:
    try:
        from app.evaluate.models import Generation
    except ImportError:  # the evaluate domain is optional for sharing
        return []
    rows = db.scalars(
        select(Generation)
        .where(Generation.model_id == model.id, Generation.user_id == model.user_id)
        .order_by(Generation.id.desc())
        .limit(24)
    )
    return [
        SampleSource(
            ref=f"generation-{g.id}",
            path=g.image_path,
            preview_url=f"/api/generations/{g.id}/image",
            label=f"Strength {g.strength:g}, seed {g.seed}",
        )
        for g in rows
    ]


def approved_model_ids(*, db: Session, model_ids: list[int]) -> set[int]:
    """Models an art director approved, for the badge on model posts."""
    return {mid for mid in set(model_ids) if review_submissions.is_approved(db=db, model_id=mid)}


# ---- files ----


def _reencode(data: bytes) -> tuple[Image.Image, str]:
    """Decode, check and strip an image (metadata and anything hidden in it are dropped)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise exc.InvalidPost(f"Each picture may be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    try:
        img, fmt = images.decode(data, max_pixels=MAX_IMAGE_PIXELS, formats=ACCEPTED_FORMATS)
    except images.ImageTooLarge:
        raise exc.InvalidPost("That picture has too many pixels.") from None
    except images.ImageUnreadable as err:
        raise exc.InvalidPost("That file is not a picture we can read (PNG, JPEG or WebP).") from err
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    return img, ("png" if fmt == "PNG" else "jpg")


def store_image(*, folder: Path, position: int, data: bytes) -> Path:
    """Write a checked, re-encoded copy of the picture into the post's folder."""
    img, ext = _reencode(data)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{position}.{ext}"
    img.save(target, "PNG" if ext == "png" else "JPEG", quality=90)
    return target


def read_source(data_dir: Path, source: SampleSource) -> bytes:
    """The bytes of a sample, refusing anything outside the data directory or missing."""
    root = Path(data_dir).resolve()
    path = (root / source.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise exc.InvalidPost(f"The file of {source.label.lower()} is gone; choose another sample.")
    return path.read_bytes()


def remove_folder(folder: Path) -> None:
    """Delete a post's pictures (after the rows are gone)."""
    shutil.rmtree(folder, ignore_errors=True)
