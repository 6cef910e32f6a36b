"""Control characters are refused in every text a request carries, with a 400 naming the field.

An app-wide dependency looks at the query string, the path, a JSON body, a form's fields and
uploaded file names before any route runs, so NUL and friends never reach a database (PostgreSQL
refuses NUL in text; SQLite would store it) and the answer is the same on every backend. Tab,
newline and carriage return stay allowed: they are how people write multi-line text.
"""

import json
import re

from fastapi import Request
from starlette.datastructures import UploadFile

from app.errors import DomainError

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_BODIES = ("text/plain", "text/gift")


class ControlCharacter(DomainError):
    """A text field holds a control character (NUL, escape, ...)."""

    status_code = 400

    def __init__(self, field: str, char: str) -> None:
        self.field = field
        super().__init__(
            f"The field {field!r} contains a control character (U+{ord(char):04X}); remove it and send it again."
        )


def check_text(field: str, value: str) -> None:
    """Raise ControlCharacter when `value` holds one."""
    found = CONTROL.search(value)
    if found:
        raise ControlCharacter(field, found.group())


def _walk(value, path: str) -> None:
    if isinstance(value, str):
        check_text(path or "body", value)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(f"{path}.{key}" if path else str(key), str(key))
            _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]")


async def _check_body(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()  # cached: the route's parser reads the same bytes
        try:
            _walk(json.loads(raw), "") if raw else None
        except (ValueError, RecursionError):
            return  # not JSON: the route's own validation answers 422
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()  # cached on the request, as for the CSRF check
        for name, value in form.multi_items():
            check_text(name, name)
            if isinstance(value, UploadFile):
                check_text(f"{name} (file name)", value.filename or "")
            else:
                check_text(name, value)
    elif content_type in TEXT_BODIES:
        check_text("body", (await request.body()).decode("utf-8", "replace"))


async def refuse_control_characters(request: Request) -> None:
    """App-wide dependency: 400 for a control character in any field, query or path parameter."""
    for name, value in request.query_params.multi_items():
        check_text(name, name)
        check_text(name, value)
    for name, value in request.path_params.items():
        check_text(name, str(value))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await _check_body(request)
