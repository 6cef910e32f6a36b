"""Comments and answers on posts: read, write, edit, delete, accept the answer of a help thread."""

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth.models import User
from app.community import exceptions as exc
from app.community import markdown, permissions, posts, rate_limits
from app.community.models import ActionKind, Comment, Post, PostKind
from app.community.schemas import CommentCreate
from app.db import utcnow


def get_comment(*, db: Session, viewer: User | None, comment_id: int) -> Comment:
    """A comment the viewer may see, on a post they may open."""
    comment = db.get(Comment, comment_id)
    if comment is None:
        raise exc.CommentNotFound()
    posts.get_post(db=db, viewer=viewer, post_id=comment.post_id)
    if comment.hidden and not (
        permissions.is_moderator(viewer) or (viewer is not None and viewer.id == comment.author_id)
    ):
        raise exc.CommentNotFound()
    return comment


def visible_comments(*, db: Session, viewer: User | None, post: Post) -> list[Comment]:
    """A post's comments in order; hidden ones only for moderators and their author."""
    query = select(Comment).where(Comment.post_id == post.id).order_by(Comment.id)
    if not permissions.is_moderator(viewer):
        own = Comment.author_id == viewer.id if viewer is not None else False
        query = query.where((Comment.hidden_at.is_(None)) | own)
    return list(db.scalars(query).unique())


def comment_counts(*, db: Session, post_ids: list[int]) -> dict[int, int]:
    """Visible comments per post."""
    if not post_ids:
        return {}
    rows = db.execute(
        select(Comment.post_id, func.count())
        .where(Comment.post_id.in_(post_ids), Comment.hidden_at.is_(None))
        .group_by(Comment.post_id)
    )
    return dict(rows.all())


def answered_ids(*, db: Session, post_ids: list[int]) -> set[int]:
    """Help threads among these posts that have an accepted answer."""
    if not post_ids:
        return set()
    return set(
        db.scalars(select(Comment.post_id).where(Comment.post_id.in_(post_ids), Comment.accepted.is_(True)))
    )


def add_comment(*, db: Session, post: Post, author: User, data: CommentCreate) -> Comment:
    """A comment or answer on a post."""
    body = data.body.strip()
    if not body:
        raise exc.InvalidPost("Write something first.")
    rate_limits.check_rate_limit(db=db, user=author, kind=ActionKind.comment)
    comment = Comment(post_id=post.id, author_id=author.id, body=body, body_html=markdown.render(body))
    db.add(comment)
    db.flush()
    db.refresh(comment)
    return comment


def update_comment(*, db: Session, comment: Comment, editor: User, data: CommentCreate) -> Comment:
    """Edit a comment (its author, or a moderator)."""
    permissions.ensure_author_or_moderator(comment, editor, "comment")
    body = data.body.strip()
    if not body:
        raise exc.InvalidPost("A comment cannot be empty; delete it instead.")
    comment.body, comment.body_html, comment.edited_at = body, markdown.render(body), utcnow()
    db.flush()
    return comment


def delete_comment(*, db: Session, comment: Comment, user: User) -> None:
    """Delete a comment (its author, or a moderator)."""
    permissions.ensure_author_or_moderator(comment, user, "comment")
    db.delete(comment)
    db.flush()


def accept_answer(*, db: Session, comment: Comment, user: User, accepted: bool = True) -> Comment:
    """Mark (or unmark) the answer that solved a help thread; one per thread."""
    post = comment.post
    if post.kind != PostKind.help:
        raise exc.InvalidPost("Only help threads have an accepted answer.")
    if post.author_id != user.id and not permissions.is_moderator(user):
        raise exc.NotAuthor("thread")
    if accepted and comment.hidden:
        raise exc.InvalidPost("A hidden comment cannot be the accepted answer.")
    if accepted:
        db.execute(
            update(Comment).where(Comment.post_id == post.id, Comment.id != comment.id).values(accepted=False)
        )
    comment.accepted = accepted
    db.flush()
    return comment
