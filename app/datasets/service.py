"""Dataset services: create from an upload (all or nothing), report, edit captions, nudge crops,
and hand accepted crops to training. Services flush; the caller commits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import limits
from app.config import Settings
from app.datasets import exceptions as exc
from app.datasets import retention
from app.datasets.models import Dataset, DatasetImage
from app.datasets.staging import Staging, crop_names, stage_for
from app.lab import paths
from app.lab.models import TrainingJob
from app.trainer import faults
from app.trainer.photos import captions, checks, crops, ingest, prepare, set_checks
from app.trainer.photos.checks import BASE_RESOLUTION

WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$")
THUMB_SIDE = 256


def _check_fields(*, name: str, trigger: str, class_word: str, base: str) -> None:
    if not WORD.match(trigger):
        raise exc.InvalidDatasetField(
            "The trigger must be one word of letters, digits, - or _ (up to 40), like 'sks'."
        )
    if not WORD.match(class_word):
        raise exc.InvalidDatasetField("The class word must be one word, like 'woman', 'man' or 'person'.")
    if trigger.lower() == class_word.lower():
        raise exc.InvalidDatasetField("The trigger must differ from the class word (lesson 3).")
    if base not in BASE_RESOLUTION:
        raise exc.InvalidDatasetField("The base must be 'sdxl' or 'sd15'.")
    if len(name) > 120:
        raise exc.InvalidDatasetField("The name is longer than 120 characters.")


def create_dataset(
    *,
    db: Session,
    settings: Settings,
    user_id: int,
    files: list[tuple[str, bytes]],
    name: str = "",
    trigger: str = "sks",
    class_word: str = "person",
    base: str = "sdxl",
) -> tuple[Dataset, list[dict[str, str]]]:
    """Check and store an upload as a new dataset; returns it and the exact duplicates skipped.

    Everything is read and checked before the first byte is written; if writing fails
    half-way, the files written so far are removed again."""
    name, trigger, class_word = name.strip(), trigger.strip() or "sks", class_word.strip() or "person"
    _check_fields(name=name, trigger=trigger, class_word=class_word, base=base)
    limits.ensure_dataset_room(db=db, user_id=user_id)
    try:
        cleaned = ingest.clean_all([ingest.UploadFile(ingest.display_name(n), d) for n, d in files])
    except ingest.UploadTooLarge as error:
        raise exc.UploadTooLarge(error.message) from None
    except ingest.RejectedUpload as error:
        raise exc.UploadRejected(error.message) from None
    unique, skipped, seen = [], [], {}
    for image in cleaned:
        if image.sha256 in seen:
            skipped.append(
                {
                    "filename": image.filename,
                    "code": "duplicate",
                    "message": f"The same photo as {seen[image.sha256]}; kept once.",
                }
            )
            continue
        seen[image.sha256] = image.filename
        unique.append(image)
    analyses = prepare.analyze(unique, base=base)
    report = set_checks.check_set(analyses)

    dataset = Dataset(
        user_id=user_id,
        name=name or f"Dataset of {len(unique)} photos",
        trigger=trigger,
        class_word=class_word,
        base=base,
        resolution=checks.BASE_RESOLUTION[base],
    )
    db.add(dataset)
    db.flush()
    staging = stage_for(
        db, paths.datasets_dir(settings.data_dir, user_id)
    )  # moved into place when the rows commit
    try:
        for position, (image, analysis) in enumerate(zip(unique, report.photos, strict=True)):
            _store_photo(staging, image)
            if position == len(unique) // 2:
                faults.reach("upload_staging")
            row = DatasetImage(
                dataset_id=dataset.id,
                position=position,
                filename=image.filename,
                sha256=image.sha256,
                width=image.size[0],
                height=image.size[1],
                analysis={},
                accepted=False,
            )
            box, caption = prepare.crop_and_caption(
                image, analysis, resolution=dataset.resolution, trigger=trigger, class_word=class_word
            )
            row.caption = caption
            _apply_crop(staging, row, image.image, box)
            row.analysis = analysis.to_dict()
            row.accepted = analysis.accepted
            dataset.images.append(row)
        _apply_set_report(dataset, report)
        db.flush()
    except BaseException:
        staging.discard()
        raise
    return dataset, skipped


def _store_photo(staging: Staging, image) -> None:
    """Stage the cleaned JPEG unless the user already has this photo."""
    relative = f"photos/{image.sha256}.jpg"
    if not (staging.root / relative).exists():
        ingest.store(image, staging.path(relative).parent)


def _apply_crop(staging: Staging, row: DatasetImage, photo, box) -> None:
    """Cut the crop and its thumbnail into staging; files are named by photo and box, so they
    never change under a queued training job."""
    from PIL import Image

    row.crop_left, row.crop_top, row.crop_size = box.left, box.top, box.side
    crop_name, thumb_name = crop_names(row, box.resolution)
    if not (staging.root / crop_name).exists():
        square = crops.cut(photo, box)
        square.save(staging.path(crop_name))
        square.resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS).save(
            staging.path(thumb_name), quality=85
        )


def _apply_set_report(dataset: Dataset, report) -> None:
    dataset.usable = report.usable
    dataset.summary = report.summary
    dataset.problems = [p.to_dict() for p in report.problems]


def list_datasets(*, db: Session, user_id: int) -> list[Dataset]:
    """The user's datasets, newest first."""
    return list(db.scalars(select(Dataset).where(Dataset.user_id == user_id).order_by(Dataset.id.desc())))


def get_own_dataset(*, db: Session, user_id: int, dataset_id: int) -> Dataset:
    """The user's dataset, else DatasetNotFound (another user's answers the same)."""
    dataset = db.get(Dataset, dataset_id)
    if dataset is None or dataset.user_id != user_id:
        raise exc.DatasetNotFound()
    return dataset


def get_image(*, dataset: Dataset, image_id: int) -> DatasetImage:
    """A photo of this dataset, else ImageNotFound."""
    image = next((i for i in dataset.images if i.id == image_id), None)
    if image is None:
        raise exc.ImageNotFound()
    return image


def caption_problems(dataset: Dataset, image: DatasetImage) -> list[dict[str, Any]]:
    """The caption lint for one photo."""
    return [
        p.to_dict()
        for p in captions.lint(image.caption, trigger=dataset.trigger, class_word=dataset.class_word)
    ]


def ensure_photos_kept(dataset: Dataset) -> None:
    """Refuse edits and training once the photos were deleted after training."""
    if dataset.photos_deleted_at is not None:
        raise exc.PhotosDeleted()


def update_caption(*, db: Session, dataset: Dataset, image: DatasetImage, caption: str) -> DatasetImage:
    """Set a photo's caption (one line, trimmed); the lint is shown, not enforced."""
    ensure_photos_kept(dataset)
    text = " ".join(caption.split())
    if not text:
        raise exc.InvalidDatasetField("A caption cannot be empty: start it with the trigger and class word.")
    if len(text) > 500:
        raise exc.InvalidDatasetField("A caption is at most 500 characters.")
    image.caption = text
    db.flush()
    return image


def nudge_crop(
    *,
    db: Session,
    settings: Settings,
    dataset: Dataset,
    image: DatasetImage,
    dx: float = 0.0,
    dy: float = 0.0,
    zoom: float = 1.0,
    reset: bool = False,
) -> DatasetImage:
    """Move or zoom a photo's crop by a step and cut it again."""
    from PIL import Image

    ensure_photos_kept(dataset)
    current = crops.Nudge() if reset else crops.Nudge(image.nudge_dx, image.nudge_dy, image.nudge_zoom)
    nudge = current.moved(dx=dx, dy=dy, zoom=zoom)
    analysis = checks.PhotoAnalysis.from_dict(image.analysis)
    photo_path = paths.datasets_dir(settings.data_dir, dataset.user_id) / "photos" / f"{image.sha256}.jpg"
    box, _ = prepare.crop_and_caption(
        None,
        analysis,
        resolution=dataset.resolution,
        trigger=dataset.trigger,
        class_word=dataset.class_word,
        nudge=nudge,
    )
    staging = stage_for(db, paths.datasets_dir(settings.data_dir, dataset.user_id))
    with Image.open(photo_path) as photo:
        photo.load()
        _apply_crop(staging, image, photo.convert("RGB"), box)
    image.nudge_dx, image.nudge_dy, image.nudge_zoom = nudge.dx, nudge.dy, nudge.zoom
    image.analysis = analysis.to_dict()
    db.flush()
    return image


def update_image(*, db: Session, settings: Settings, dataset: Dataset, image: DatasetImage, change) -> None:
    """PATCH of one photo (an ImageUpdate): keep anyway, caption, nudge, each when given."""
    if change.keep_anyway is not None:
        keep_anyway(db=db, dataset=dataset, image=image, keep=change.keep_anyway)
    if change.caption is not None:
        update_caption(db=db, dataset=dataset, image=image, caption=change.caption)
    if change.nudge is not None:
        n = change.nudge
        nudge_crop(
            db=db,
            settings=settings,
            dataset=dataset,
            image=image,
            dx=n.dx,
            dy=n.dy,
            zoom=n.zoom,
            reset=n.reset,
        )


def can_keep_anyway(image: DatasetImage) -> bool:
    """True when the photo was rejected only by checks the learner may overrule."""
    return checks.PhotoAnalysis.from_dict(image.analysis).can_keep_anyway


def keep_anyway(*, db: Session, dataset: Dataset, image: DatasetImage, keep: bool) -> DatasetImage:
    """The learner overrules a rejection they judge wrong (a false second face, a squint read as
    closed eyes), or takes that back; the set checks then run again over the stored measurements
    (count, variety, near-duplicates, identity), as the upload ran them."""
    ensure_photos_kept(dataset)
    analysis = checks.PhotoAnalysis.from_dict(image.analysis)
    if keep and not analysis.can_keep_anyway:
        final = [p.message for p in analysis.errors if p.code not in checks.OVERRULABLE]
        raise exc.CannotKeepPhoto(
            final[0] if final else "This photo passed its checks: there is nothing to overrule."
        )
    analyses = [checks.PhotoAnalysis.from_dict(i.analysis) for i in dataset.images]
    for row, photo in zip(dataset.images, analyses, strict=True):
        if row.id == image.id:
            photo.kept_anyway = keep
    set_report = set_checks.check_set(analyses)
    for row, photo in zip(dataset.images, set_report.photos, strict=True):
        row.analysis, row.accepted = photo.to_dict(), photo.accepted
    _apply_set_report(dataset, set_report)
    db.flush()
    return image


def delete_dataset(*, db: Session, settings: Settings, dataset: Dataset) -> None:
    """Delete the dataset and the files no other dataset of the user still uses, with the copies
    its finished training jobs made (a running job keeps its own until it ends)."""
    user_id = dataset.user_id
    shas = {i.sha256 for i in dataset.images}
    for job in db.scalars(select(TrainingJob).where(TrainingJob.dataset_id == dataset.id)):
        if job.status.is_final:
            retention.remove_job_inputs(settings=settings, job=job)
    db.delete(dataset)
    db.flush()
    still_used = (
        set(
            db.scalars(
                select(DatasetImage.sha256)
                .join(Dataset)
                .where(Dataset.user_id == user_id, DatasetImage.sha256.in_(shas))
            )
        )
        if shas
        else set()
    )
    root = paths.datasets_dir(settings.data_dir, user_id)
    for sha in shas - still_used:
        (root / "photos" / f"{sha}.jpg").unlink(missing_ok=True)
        for folder in ("crops", "thumbs"):
            for path in (root / folder).glob(f"{sha}-*"):
                path.unlink(missing_ok=True)


def file_path(*, settings: Settings, dataset: Dataset, image: DatasetImage, kind: str) -> Path:
    """The stored photo, its crop or its thumbnail."""
    if dataset.photos_deleted_at is not None:
        raise exc.PhotoFileDeleted()
    root = paths.datasets_dir(settings.data_dir, dataset.user_id)
    if kind == "photo":
        return root / "photos" / f"{image.sha256}.jpg"
    crop_name, thumb_name = crop_names(image, dataset.resolution)
    return root / (crop_name if kind == "crop" else thumb_name)


def report(*, dataset: Dataset, skipped: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The dataset as the API reports it (CONTRACT.md), crop and caption per image."""
    base_url = f"/api/datasets/{dataset.id}/images"
    return {
        "id": dataset.id,
        "name": dataset.name,
        "trigger": dataset.trigger,
        "class_word": dataset.class_word,
        "base": dataset.base,
        "resolution": dataset.resolution,
        "usable": dataset.usable,
        "summary": dataset.summary,
        "problems": dataset.problems,
        "skipped": skipped or [],
        "photos_deleted_at": dataset.photos_deleted_at,
        "images": [
            {
                "id": i.id,
                "filename": i.filename,
                "accepted": i.accepted,
                "kept_anyway": bool(i.analysis.get("kept_anyway")),
                "problems": i.problems,
                "width": i.width,
                "height": i.height,
                "pose": i.analysis.get("pose", ""),
                "caption": i.caption,
                "caption_problems": caption_problems(dataset, i),
                "crop": {
                    "left": i.crop_left,
                    "top": i.crop_top,
                    "size": i.crop_size,
                    "resolution": dataset.resolution,
                    "url": f"{base_url}/{i.id}/crop",
                },
                "thumbnail_url": f"{base_url}/{i.id}/thumb",
            }
            for i in dataset.images
        ],
    }


def training_choices(*, db: Session, user_id: int) -> list[dict[str, Any]]:
    """Datasets with accepted photos still on disk, for the lab's form: id, name and accepted count."""
    rows = db.execute(
        select(Dataset.id, Dataset.name, func.count(DatasetImage.id))
        .join(DatasetImage, DatasetImage.dataset_id == Dataset.id)
        .where(
            Dataset.user_id == user_id, DatasetImage.accepted.is_(True), Dataset.photos_deleted_at.is_(None)
        )
        .group_by(Dataset.id, Dataset.name)
        .order_by(Dataset.id.desc())
    )
    return [{"id": id_, "name": name, "images": count} for id_, name, count in rows]


def training_images(*, db: Session, user_id: int, dataset_id: int) -> list[dict[str, Any]] | None:
    """The accepted crops (paths relative to the data dir) with captions; None if not the user's."""
    dataset = db.get(Dataset, dataset_id)
    if dataset is None or dataset.user_id != user_id:
        return None
    ensure_photos_kept(dataset)
    prefix = paths.datasets_folder(user_id)
    items = []
    for image in dataset.images:
        if not image.accepted:
            continue
        crop_name, _ = crop_names(image, dataset.resolution)
        items.append(
            {
                "path": str(prefix / crop_name),
                "caption": image.caption,
                "original_size": [image.height, image.width],
                "crop_top_left": [image.crop_top, image.crop_left],
                "crop_size": image.crop_size,
            }
        )
    return items
