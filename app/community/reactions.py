"""Reactions on posts: counts, the viewer's own, give and take back."""

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import User
from app.community.models import Post, Reaction, ReactionKind


def reaction_counts(*, db: Session, post_ids: list[int]) -> dict[int, dict[str, int]]:
    """{post_id: {kind: count}} for every reaction kind (zeros included, in a fixed order)."""
    out = {pid: {k.value: 0 for k in ReactionKind} for pid in post_ids}
    if post_ids:
        rows = db.execute(
            select(Reaction.post_id, Reaction.kind, func.count())
            .where(Reaction.post_id.in_(post_ids))
            .group_by(Reaction.post_id, Reaction.kind)
        )
        for post_id, kind, count in rows:
            out[post_id][ReactionKind(kind).value] = count
    return out


def my_reactions(*, db: Session, post_id: int, user: User | None) -> list[ReactionKind]:
    """The reaction kinds this user gave this post."""
    if user is None:
        return []
    kinds = db.scalars(select(Reaction.kind).where(Reaction.post_id == post_id, Reaction.user_id == user.id))
    return sorted((ReactionKind(k) for k in kinds), key=list(ReactionKind).index)


def add_reaction(*, db: Session, post: Post, user: User, kind: ReactionKind) -> bool:
    """Give a reaction; returns False when the user had already given it."""
    exists = db.scalar(
        select(Reaction.id).where(
            Reaction.post_id == post.id, Reaction.user_id == user.id, Reaction.kind == kind
        )
    )
    if exists:
        return False
    try:
        with db.begin_nested():
            db.add(Reaction(post_id=post.id, user_id=user.id, kind=kind))
    except IntegrityError:  # a double click that raced us
        return False
    return True


def remove_reaction(*, db: Session, post: Post, user: User, kind: ReactionKind) -> None:
    """Take a reaction back (nothing happens if it was not given)."""
    db.execute(
        delete(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == user.id, Reaction.kind == kind
        )
    )
    db.flush()


def toggle_reaction(*, db: Session, post: Post, user: User, kind: ReactionKind) -> None:
    """Give the reaction, or take it back if it was given (the buttons on the page)."""
    if not add_reaction(db=db, post=post, user=user, kind=kind):
        remove_reaction(db=db, post=post, user=user, kind=kind)
