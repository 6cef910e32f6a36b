"""Who may do what in the community: moderators (reviewers and administrators), authors."""

from app.auth.models import Role, User
from app.community import exceptions as exc


def is_moderator(user: User | None) -> bool:
    """Reviewers and administrators moderate the community."""
    return user is not None and user.has_role(Role.reviewer)


def ensure_author_or_moderator(post_or_comment, user: User, what: str) -> None:
    """Raise NotAuthor unless the user wrote it or moderates."""
    if post_or_comment.author_id != user.id and not is_moderator(user):
        raise exc.NotAuthor(what)


def require_moderator(user: User) -> None:
    """Raise NotModerator unless the user moderates."""
    if not is_moderator(user):
        raise exc.NotModerator()
