"""Dataset files are written to a staging folder and moved into place only once their rows commit.

An upload (or a crop nudge) writes into `<datasets>/.staging/<id>/`, mirroring the final layout
(photos/, crops/, thumbs/), while holding an exclusive lock on the folder. When the session
commits, every staged file is renamed into place; a rollback removes the folder. A process killed
anywhere leaves either an unlocked staging folder (removed, or finished when its rows did commit)
or files that no row names; `sweep` at start-up clears both and logs each file it removed.
"""

import fcntl
import logging
import os
import secrets
import shutil
import time
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.datasets.models import Dataset, DatasetImage
from app.lab.models import TrainingJob
from app.trainer import faults

log = logging.getLogger("loraface.datasets")
STAGING = ".staging"
LOCK = ".lock"
FOLDERS = ("photos", "crops", "thumbs")
ORPHAN_GRACE_SECONDS = 60  # a file this young may belong to another process's commit in flight


class Staging:
    """One upload's staging folder, locked while this process may still publish it."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / STAGING / f"{time.time_ns()}-{secrets.token_hex(4)}"
        self.folder.mkdir(parents=True)
        self._lock = open(self.folder / LOCK, "w")  # noqa: SIM115 (held until publish or discard)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.files: list[str] = []

    def path(self, relative: str) -> Path:
        """Where to write the file that will live at root/relative."""
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(relative)
        return target

    def publish(self) -> None:
        """Rename every staged file into place (a file already there is kept), then drop the folder."""
        for i, relative in enumerate(self.files):
            _move_into_place(self.folder / relative, self.root / relative)
            if i == len(self.files) // 2:
                faults.reach("upload_publishing")
        self.discard()

    def discard(self) -> None:
        """Remove the folder and what is left in it (again: nothing happens)."""
        if not self._lock.closed:
            shutil.rmtree(self.folder, ignore_errors=True)
            self._lock.close()


def _move_into_place(source: Path, target: Path) -> None:
    if not source.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        source.unlink()
    else:
        os.replace(source, target)


def stage_for(db: Session, root: Path) -> Staging:
    """A staging folder published when `db` commits and removed when it rolls back."""
    staging = Staging(root)

    def on_commit(_session) -> None:
        faults.reach("upload_committed")
        try:
            staging.publish()
        except OSError:  # the start-up sweep finishes what a failed rename left
            log.exception("publishing staged files from %s failed", staging.folder)

    def on_end(_session, transaction) -> None:
        if transaction.parent is None:  # rolled back, or closed uncommitted (after a commit: gone already)
            staging.discard()

    event.listen(db, "after_commit", on_commit, once=True)
    event.listen(db, "after_transaction_end", on_end)
    return staging


def crop_names(row: DatasetImage, resolution: int) -> tuple[str, str]:
    """The crop's and thumbnail's paths under the datasets folder, named by photo and box."""
    stem = f"{row.sha256}-{row.crop_left}-{row.crop_top}-{row.crop_size}-{resolution}"
    return f"crops/{stem}.png", f"thumbs/{stem}.jpg"


# ---- the start-up sweep ----


def _named_files(db: Session, user_id: int) -> set[str]:
    """Paths under the user's datasets folder that a row names (datasets, and jobs not yet ended)."""
    named = set()
    rows = db.execute(
        select(DatasetImage, Dataset.resolution).join(Dataset).where(Dataset.user_id == user_id)
    )
    for image, resolution in rows:
        named.add(f"photos/{image.sha256}.jpg")
        named.update(crop_names(image, resolution))
    prefix = f"users/{user_id}/datasets/"
    for images in db.scalars(select(TrainingJob.images).where(TrainingJob.user_id == user_id)):
        named.update(i["path"][len(prefix) :] for i in images or [] if i.get("path", "").startswith(prefix))
    return named


def _unlocked(folder: Path) -> bool:
    """True when no live process holds the folder's lock (its writer is gone)."""
    lock = folder / LOCK
    if not lock.exists():
        return True
    with open(lock, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def sweep_user(*, db: Session, root: Path, user_id: int) -> list[Path]:
    """Finish or remove dead staging folders and delete files no row names; returns what went."""
    named = _named_files(db, user_id)
    removed: list[Path] = []
    staging_root = root / STAGING
    for folder in sorted(staging_root.iterdir()) if staging_root.is_dir() else []:
        if not _unlocked(folder):
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != LOCK):
            relative = str(path.relative_to(folder))
            if relative in named:  # its rows committed before the crash: finish the move
                _move_into_place(path, root / relative)
            else:
                removed.append(path)
        shutil.rmtree(folder, ignore_errors=True)
    now = time.time()
    for name in FOLDERS:
        for path in sorted((root / name).glob("*")) if (root / name).is_dir() else []:
            relative = f"{name}/{path.name}"
            if relative not in named and path.is_file() and now - path.stat().st_mtime > ORPHAN_GRACE_SECONDS:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def sweep(*, db: Session, settings: Settings) -> int:
    """Every user's datasets folder swept (start-up); logs each removed file, returns the count."""
    users = settings.data_dir / "users"
    total = 0
    for user_folder in sorted(users.iterdir()) if users.is_dir() else []:
        root = user_folder / "datasets"
        if not user_folder.name.isdigit() or not root.is_dir():
            continue
        for path in sweep_user(db=db, root=root, user_id=int(user_folder.name)):
            log.warning("start-up sweep removed %s (no row names it)", path)
            total += 1
    if total:
        log.warning("start-up sweep removed %d dataset files left by an interrupted upload", total)
    return total
