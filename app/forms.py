"""HTML form posts, the one way: validate -> service -> on a problem re-render with the messages ->
commit -> the htmx block or a redirect.

A page form is posted as strings: a `RawForm` subclass names its fields once (FastAPI reads it with
`Annotated[MyForm, Form()]`), keeps what was typed for the re-render, and hands the filled fields
to the JSON schema that validates them, so the page and the API apply the same rules.
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.web import is_htmx, redirect, render

Result = TypeVar("Result")


class RawForm(BaseModel):
    """A form as the browser posts it: every field a string, blank when left empty. Fields a form
    does not name (the CSRF token) are ignored."""

    model_config = ConfigDict(extra="ignore")

    def typed(self) -> dict[str, str]:
        """What the user typed, as it was (for the re-render)."""
        return self.model_dump()

    def filled(self) -> dict[str, str]:
        """The fields given, stripped: a blank field means "use the default"."""
        return {k: v.strip() for k, v in self.model_dump().items() if isinstance(v, str) and v.strip()}


def form_of(name: str, fields: Iterable[str], doc: str) -> type[RawForm]:
    """A RawForm of the fields named (each blank unless posted): for a form whose fields are a
    list the domain keeps, so the names are spelled once."""
    return create_model(name, __base__=RawForm, __doc__=doc, **{field: (str, "") for field in fields})


def field_messages(error: ValidationError) -> list[str]:
    """pydantic's errors as one line per field: "steps: Input should be greater than 0"."""
    return [f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in error.errors()]


def submit(
    db: Session,
    act: Callable[[], Result],
    *,
    rejected: Callable[[list[str], int], Response],
    done: Callable[[Result], Response],
    keep_rejected: bool = False,
) -> Response:
    """Run `act` (validation and the service call); on a bad field or a domain error roll back and
    answer `rejected(messages, status)` (with the error's headers), otherwise commit and answer
    `done(result)`. `keep_rejected` commits what a failing `act` wrote (a failed sign-in is counted)."""
    try:
        result = act()
    except ValidationError as error:
        db.rollback()
        return rejected(field_messages(error), 422)
    except DomainError as error:
        if keep_rejected:
            db.commit()
        else:
            db.rollback()
        response = rejected(error.problems, error.status_code)
        response.headers.update(error.headers or {})
        return response
    db.commit()
    return done(result)


def block_or_redirect(
    request: Request,
    *,
    template: str,
    context: dict[str, Any],
    block: str,
    url: str,
    message: str,
) -> Response:
    """After a successful post: htmx swaps in the one block; a plain browser follows a redirect
    (post/redirect/get) and sees `message` there."""
    if is_htmx(request):
        return render(request, template, context, block=block)
    return redirect(request, url, message=message, category="success")
