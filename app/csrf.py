"""CSRF: the token pages embed and the check of unsafe browser requests, side by side. The
security middleware gives each browser a seed cookie and puts the token on request.state."""

import hashlib
import hmac

from fastapi import Request

from app.errors import DomainError

CSRF_COOKIE = "loraface_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfFailed(DomainError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__(
            "The form expired or came from another site (missing CSRF token). Reload the page and try again."
        )


def csrf_token_for(secret_key: str, seed: str) -> str:
    """The token pages embed: an HMAC of the browser's seed cookie, so it cannot be guessed."""
    return hmac.new(secret_key.encode(), b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def is_form(request: Request) -> bool:
    """Whether the body is an HTML form (the kind a forged cross-site request can send)."""
    return request.headers.get("content-type", "").startswith(FORM_TYPES)


async def submitted_token(request: Request) -> str:
    """The token the request carries: the htmx header, else the form field."""
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    if is_form(request):
        form = await request.form()  # cached on the request; the route reads the same form
        value = form.get(CSRF_FORM_FIELD)
        if isinstance(value, str):
            return value
    return ""


async def check_csrf(request: Request) -> None:
    """Refuse the request unless it carries the token made for this browser's seed."""
    submitted = await submitted_token(request)
    expected = getattr(request.state, "csrf_token", "")
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise CsrfFailed()
