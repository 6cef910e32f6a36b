"""The retention choice across domains: switching to deletion purges the photos of every
dataset already done (privacy decides, datasets' retention deletes)."""

from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import Settings
from app.datasets import retention


def set_keep_photos(*, db: Session, settings: Settings, user: User, keep: bool) -> int:
    """Keep training photos until the user deletes them, or delete them once a model is done.
    Switching to delete applies at once to datasets already done; returns how many were purged."""
    user.keep_photos = keep
    db.flush()
    return 0 if keep else retention.purge_done_datasets(db=db, settings=settings, user_id=user.id)
