"""Who is calling (session cookie or Bearer token), CSRF checks, and role gates."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app import csrf
from app.auth import service as auth_service
from app.auth.exceptions import LoginRequired
from app.auth.models import Role, User
from app.db import get_db
from app.errors import DomainError, Forbidden

SESSION_COOKIE = "loraface_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

# Closed as soon as the route returns (its response is already built), not after the response
# is sent: a slow download or a slow client never holds a pooled connection.
DbSession = Annotated[Session, Depends(get_db, scope="function")]


class InvalidToken(DomainError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("The API token is not valid or was revoked.")


def bearer_token(request: Request) -> str | None:
    """The raw token of an `Authorization: Bearer ...` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def load_user_and_check_csrf(request: Request, db: DbSession) -> None:
    """App-wide dependency: set request.state.user, and refuse unsafe browser requests
    that lack the page's CSRF token. Bearer-token calls carry no cookies, so need none."""
    request.state.user = None
    raw_bearer = bearer_token(request)
    if raw_bearer:
        user = auth_service.user_for_api_token(db=db, raw_token=raw_bearer)
        if user is None:
            raise InvalidToken()
        db.commit()  # last_used_at
        request.state.user = user
        request.state.via_token = True
        return

    raw_session = request.cookies.get(SESSION_COOKIE)
    if raw_session:
        request.state.user = auth_service.user_for_session(db=db, raw_token=raw_session)

    if request.method in SAFE_METHODS:
        return
    # A cookie-less JSON call cannot be a forged browser request (cross-site JSON needs CORS).
    if not raw_session and not csrf.is_form(request):
        return
    await csrf.check_csrf(request)


def current_user(request: Request) -> User:
    """The signed-in user; API callers without one get 401, pages go to the sign-in form."""
    user = getattr(request.state, "user", None)
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def optional_user(request: Request) -> User | None:
    """The signed-in user, or None for visitors."""
    return getattr(request.state, "user", None)


OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_role(*roles: Role):
    """A dependency that lets through the given roles (and admins), 403 for anyone else."""

    def check(user: CurrentUser) -> User:
        if not user.has_role(*roles):
            names = " or ".join(r.value for r in roles)
            raise Forbidden(f"Only a {names} can do this.")
        return user

    return check
