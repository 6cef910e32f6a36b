"""HTML form posts, the one way: validate -> service -> on a problem re-render with the messages ->
commit -> the htmx block or a redirect.

A page form is posted as strings: a `RawForm` subclass names its fields once (FastAPI reads it with
`Annotated[MyForm, Form()]`), keeps what was typed for the re-render, and hands the filled fields
to the JSON schema that validates them, so the page and the API apply the same rules.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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


def form_of(name: str, fields: Iterable[str], doc: str, base: type[RawForm] = RawForm) -> type[RawForm]:
    """A RawForm (or `base` subclass) of the fields named, each blank unless posted: for a form
    whose fields are a list the domain keeps, so the names are spelled once."""
    return create_model(name, __base__=base, __doc__=doc, **{field: (str, "") for field in fields})


@dataclass(frozen=True)
class Wording:
    """How a form's bad fields read to people: `labels` name a field (matched from the innermost
    part of its place outwards), `hints` replace pydantic's words for a top-level field
    ("{label}" stands for its label)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)


PLAIN = Wording()


def field_messages(error: ValidationError, wording: Wording = PLAIN) -> list[str]:
    """pydantic's errors as one line per field: "steps: Input should be greater than 0"."""
    out = []
    for e in error.errors():
        loc = [str(p) for p in e["loc"]]
        label = next(
            (wording.labels[p] for p in reversed(loc) if p in wording.labels), ".".join(loc) or "form"
        )
        hint = wording.hints.get(loc[0]) if loc else None
        out.append(hint.format(label=label) if hint else f"{label}: {e['msg']}")
    return out


def problems(error: ValidationError | DomainError, wording: Wording = PLAIN) -> tuple[list[str], int]:
    """The messages and the status of a bad field (422) or a domain error (its own)."""
    if isinstance(error, ValidationError):
        return field_messages(error, wording), 422
    return error.problems, error.status_code


def submit(
    db: Session,
    act: Callable[[], Result],
    *,
    rejected: Callable[[list[str], int], Response],
    done: Callable[[Result], Response],
    keep_rejected: bool = False,
    wording: Wording = PLAIN,
) -> Response:
    """Run `act` (validation and the service call); on a bad field or a domain error roll back and
    answer `rejected(messages, status)` (with the error's headers), otherwise commit and answer
    `done(result)`. `keep_rejected` commits what a failing `act` wrote (a failed sign-in is counted);
    `wording` words the field messages."""
    try:
        result = act()
    except (ValidationError, DomainError) as error:
        if keep_rejected and isinstance(error, DomainError):
            db.commit()
        else:
            db.rollback()
        response = rejected(*problems(error, wording))
        response.headers.update(getattr(error, "headers", None) or {})
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
