"""The feed: posts newest first in cursor pages, filters, polling, and a lesson's help threads."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.community import permissions
from app.community.models import Post, PostKind

FEED_PAGE = 20
MAX_PAGE = 50


def visible_posts(viewer: User | None):
    """A select of the posts this viewer may see in lists: hidden ones only for moderators."""
    query = select(Post)
    if not permissions.is_moderator(viewer):
        query = query.where(Post.hidden_at.is_(None))
    return query


def feed(
    *,
    db: Session,
    viewer: User | None,
    kind: PostKind | None = None,
    before: int | None = None,
    after: int | None = None,
    lesson: int | None = None,
    limit: int = FEED_PAGE,
) -> list[Post]:
    """Posts newest first. `before` pages to older posts (the cursor is the last id seen);
    `after` returns only posts newer than an id, for polling. Ids only grow, so pages never
    shift when new posts arrive."""
    query = visible_posts(viewer)
    if kind is not None:
        query = query.where(Post.kind == kind)
    if lesson is not None:
        query = query.where(Post.lesson_number == lesson)
    if before is not None:
        query = query.where(Post.id < before)
    if after is not None:
        query = query.where(Post.id > after)
    limit = max(1, min(limit, MAX_PAGE))
    return list(db.scalars(query.order_by(Post.id.desc()).limit(limit)).unique())


def next_cursor(posts: list[Post], limit: int) -> int | None:
    """The `before` value for the next page, or None when this page was the last."""
    return posts[-1].id if posts and len(posts) >= max(1, min(limit, MAX_PAGE)) else None


def related_threads(*, db: Session, lesson_number: int, limit: int = 5) -> list[Post]:
    """Visible help threads tagged with a lesson, newest first, for the lesson page."""
    return list(
        db.scalars(
            select(Post)
            .where(Post.kind == PostKind.help, Post.lesson_number == lesson_number, Post.hidden_at.is_(None))
            .order_by(Post.id.desc())
            .limit(limit)
        ).unique()
    )
