"""Rate limits on community writes (posts, comments, reports), counted from the database."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.community import exceptions as exc
from app.community.models import Action, ActionKind
from app.db import utcnow

# (most actions, per minutes) for each kind of write, counted from the database.
RATE_LIMITS: dict[ActionKind, tuple[int, int]] = {
    ActionKind.post: (5, 10),
    ActionKind.comment: (20, 10),
    ActionKind.report: (10, 10),
}
_LIMIT_WORDS = {ActionKind.post: "posts", ActionKind.comment: "comments", ActionKind.report: "reports"}


def check_rate_limit(*, db: Session, user: User, kind: ActionKind) -> None:
    """Record one action, or raise RateLimited when the user has used up the window."""
    limit, minutes = RATE_LIMITS[kind]
    # Lock the user's row so two requests of the same user count one after the other
    # (PostgreSQL; SQLite already runs one writer at a time).
    db.execute(select(User.id).where(User.id == user.id).with_for_update())
    since = utcnow() - timedelta(minutes=minutes)
    recent = select(Action.created_at).where(
        Action.user_id == user.id, Action.kind == kind, Action.created_at >= since
    )
    count = db.scalar(select(func.count()).select_from(recent.subquery()))
    if count >= limit:
        oldest = db.scalar(select(func.min(recent.subquery().c.created_at)))
        wait = max(1, int((oldest + timedelta(minutes=minutes) - utcnow()).total_seconds()) + 1)
        raise exc.RateLimited(_LIMIT_WORDS[kind], limit, minutes, wait)
    db.add(Action(user_id=user.id, kind=kind))
    db.flush()
