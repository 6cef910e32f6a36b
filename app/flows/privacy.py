"""The retention choice across domains: switching to deletion purges the photos of every
dataset already due (privacy decides, datasets' retention deletes)."""

from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import Settings
from app.datasets import retention


def set_keep_photos(
    *, db: Session, settings: Settings, user: User, keep: bool, delete_on_approval: bool | None = None
) -> int:
    """Keep training photos until the user deletes them, or delete them a set time after their last
    use (and, if chosen, once a submission is approved). Applies at once; returns how many went."""
    user.keep_photos = keep
    if delete_on_approval is not None:
        user.delete_photos_on_approval = delete_on_approval
    db.flush()
    return 0 if keep else retention.purge_done_datasets(db=db, settings=settings, user_id=user.id)
