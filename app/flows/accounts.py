"""Erasing an account: every row of the user, then every file under their folder."""

import shutil

from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import User
from app.config import Settings
from app.lab import paths


def erase_account(*, db: Session, settings: Settings, user: User) -> None:
    """Delete the user's rows and commit, then their files (a failed commit keeps the files)."""
    folder = paths.user_dir(settings.data_dir, user.id)
    auth_service.delete_user(db=db, user=user)
    db.commit()
    shutil.rmtree(folder, ignore_errors=True)
