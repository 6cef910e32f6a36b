"""Builders that create test data through the real services."""

import itertools

from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role, User

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(
    db: Session,
    *,
    role: str = "learner",
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
) -> User:
    """A user of the given role, created the way sign-up creates one."""
    n = next(_counter)
    return auth_service.create_user(
        db=db,
        email=email or f"{role}{n}@example.com",
        password=password,
        display_name=display_name or f"{role.title()} {n}",
        role=Role(role),
    )


def make_token(db: Session, user: User, name: str = "test") -> str:
    """A raw API token for the user."""
    _, raw = auth_service.create_api_token(db=db, user=user, name=name)
    return raw
