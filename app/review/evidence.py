"""The frozen evidence of a submission on disk: its LoRA file, samples, sweep images and the
training crops still stored, each only from inside its own folder."""

from pathlib import Path

from app.config import Settings
from app.lab import paths
from app.review import exceptions as exc
from app.review.models import Submission


def _inside(base: Path, path: Path) -> bool:
    return path.is_relative_to(base) and path.is_file()


def frozen_file(*, settings: Settings, submission: Submission, name: str) -> Path:
    """A file of the submission's frozen evidence, by its name inside the folder."""
    folder = (settings.data_dir / submission.folder).resolve()
    path = (folder / name).resolve()
    if ".." in Path(name).parts or not _inside(folder, path):
        raise exc.FileGone()
    return path


def lora_path(*, settings: Settings, submission: Submission) -> Path:
    """The frozen LoRA file."""
    return frozen_file(settings=settings, submission=submission, name=submission.lora_file)


def crop_file(*, settings: Settings, submission: Submission, index: int) -> Path:
    """One training crop of the submitted model, only from the learner's own folder."""
    crops = submission.snapshot.get("crops") or []
    if not 0 <= index < len(crops) or not crops[index].get("path"):
        raise exc.FileGone()
    base = paths.user_dir(settings.data_dir, submission.user_id).resolve()
    path = (settings.data_dir / crops[index]["path"]).resolve()
    if not _inside(base, path):
        raise exc.FileGone()
    return path


def crops_on_disk(*, settings: Settings, submission: Submission) -> list[tuple[int, dict[str, str]]]:
    """(index, crop) of the training crops still stored; the others were deleted after training
    (the learner's privacy setting) or with their dataset."""
    kept = []
    for index, crop in enumerate(submission.snapshot.get("crops") or []):
        try:
            path = crop_file(settings=settings, submission=submission, index=index)
        except exc.FileGone:
            continue
        if path.is_file():
            kept.append((index, crop))
    return kept
