"""Load-or-404 dependencies for community routes."""

from typing import Annotated

from fastapi import Depends, Request

from app.auth.dependencies import CurrentUser, DbSession
from app.community import comments, moderation, posts
from app.community.models import Comment, Post, Report


def valid_post(post_id: int, db: DbSession, user: CurrentUser) -> Post:
    """A post the signed-in user may open (hidden ones: moderators and the author only)."""
    return posts.get_post(db=db, viewer=user, post_id=post_id)


def valid_comment(comment_id: int, db: DbSession, user: CurrentUser) -> Comment:
    """A comment the signed-in user may see."""
    return comments.get_comment(db=db, viewer=user, comment_id=comment_id)


def valid_report(report_id: int, db: DbSession, user: CurrentUser) -> Report:
    """A report, for moderators (403 for everyone else)."""
    return moderation.get_report(db=db, moderator=user, report_id=report_id)


VisiblePost = Annotated[Post, Depends(valid_post)]
VisibleComment = Annotated[Comment, Depends(valid_comment)]
ModeratedReport = Annotated[Report, Depends(valid_report)]


ON_WORDS = frozenset({"hide", "suspend", "accept"})  # POST .../hide turns hiding on, .../restore off


def switched_on(request: Request) -> bool:
    """Which way a switch route goes: on for POST .../hide, .../suspend and .../accept; off for
    .../restore, .../unsuspend and DELETE .../accept (one route function serves both)."""
    return request.method == "POST" and request.url.path.rsplit("/", 1)[-1] in ON_WORDS


SwitchedOn = Annotated[bool, Depends(switched_on)]
