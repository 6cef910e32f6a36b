"""The question editor's HTML form: rows of choices in, a QuestionSpec out, and back again.

Each choice row carries a random key (`row` fields, in order), so htmx can add a row without the
page counting rows in JavaScript. Pictures are stored as soon as they arrive, so a form sent back
with an error keeps them."""

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import FormData, UploadFile

from app.errors import DomainError
from app.quiz import images
from app.quiz.exceptions import InvalidQuestion
from app.quiz.models import Question, QuestionKind
from app.quiz.service import ONE_ANSWER_KINDS, ChoiceSpec, QuestionSpec, is_full_marks

MAX_ROWS = 12
BLANK_ROWS = {QuestionKind.single: 4, QuestionKind.multiple: 4, QuestionKind.image_choice: 4}


@dataclass
class Row:
    """One choice row as the form shows it."""

    key: str = field(default_factory=lambda: secrets.token_hex(4))
    id: int | None = None
    text: str = ""
    weight: str = ""  # percent as typed, multiple answers only
    feedback: str = ""
    image_path: str | None = None
    right: bool = False

    @property
    def blank(self) -> bool:
        return not (self.text.strip() or self.feedback.strip() or self.image_path)


@dataclass
class QuestionForm:
    """The editor's state: what the instructor typed, ready to render again."""

    kind: QuestionKind
    title: str = ""
    prompt: str = ""
    general_feedback: str = ""
    fixed_order: bool = False  # learners see the choices as written, not shuffled
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # pictures that could not be stored

    @property
    def one_answer(self) -> bool:
        return self.kind in ONE_ANSWER_KINDS


def blank_form(kind: QuestionKind) -> QuestionForm:
    """An empty editor for a new question of this kind (true/false comes with its two choices)."""
    if kind == QuestionKind.true_false:
        return QuestionForm(kind=kind, rows=[Row(text="True", right=True), Row(text="False")])
    return QuestionForm(kind=kind, rows=[Row() for _ in range(BLANK_ROWS[kind])])


def form_of(question: Question) -> QuestionForm:
    """The editor filled in from a stored question, with one spare row to add a choice."""
    rows = [
        Row(
            id=c.id,
            text=c.text,
            weight=f"{round(c.weight * 100, 5):g}",
            feedback=c.feedback,
            image_path=c.image_path,
            right=is_full_marks(c.weight) if question.kind in ONE_ANSWER_KINDS else c.weight > 0,
        )
        for c in question.choices
    ]
    if question.kind != QuestionKind.true_false:
        rows.append(Row())
    return QuestionForm(
        kind=question.kind,
        title=question.title,
        prompt=question.prompt,
        general_feedback=question.general_feedback,
        fixed_order=question.fixed_order,
        rows=rows,
    )


def _text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def read_form(form: FormData, kind: QuestionKind, *, data_dir: Path) -> QuestionForm:
    """The submitted editor; uploaded pictures are re-encoded and stored on the way in."""
    state = QuestionForm(
        kind=kind,
        title=_text(form, "title", 200),
        prompt=_text(form, "prompt"),
        general_feedback=_text(form, "general_feedback"),
        fixed_order=bool(form.get("fixed_order")),
    )
    right_key = _text(form, "right")
    for key in form.getlist("row")[:MAX_ROWS]:
        if not isinstance(key, str) or not key.isalnum():
            continue
        if form.get(f"remove-{key}"):
            continue
        raw_id = _text(form, f"id-{key}")
        row = Row(
            key=key,
            id=int(raw_id) if raw_id.isdigit() else None,
            text=_text(form, f"text-{key}", 2000),
            weight=_text(form, f"weight-{key}", 20),
            feedback=_text(form, f"feedback-{key}"),
            image_path=_text(form, f"image_path-{key}", 500) or None,
            right=(right_key == key) if state.one_answer else bool(form.get(f"right-{key}")),
        )
        upload = form.get(f"image-{key}")
        if kind == QuestionKind.image_choice and isinstance(upload, UploadFile) and upload.filename:
            try:
                row.image_path = images.store_image(data_dir=data_dir, data=upload.file.read())
            except DomainError as exc:
                state.errors.append(f"{upload.filename}: {exc.detail}")
        state.rows.append(row)
    return state


def _weight(row: Row, right_count: int) -> float:
    if not row.weight:
        return (1.0 / right_count if right_count else 0.0) if row.right else 0.0
    try:
        percent = float(row.weight)
    except ValueError:
        raise InvalidQuestion(
            f"The marks {row.weight!r} are not a number; write a percentage such as 50."
        ) from None
    if row.right and percent <= 0:
        raise InvalidQuestion("A right answer earns a positive share of the marks.")
    if not row.right and percent > 0:
        raise InvalidQuestion("A wrong answer earns no marks (0) or loses some (a negative percentage).")
    return percent / 100


def _partial_credit(row: Row) -> float:
    """A wrong single-choice answer's share of the marks (GIFT's ~%50%), 0 when left empty."""
    if not row.weight:
        return 0.0
    try:
        percent = float(row.weight)
    except ValueError:
        raise InvalidQuestion(
            f"The marks {row.weight!r} are not a number; write a percentage such as 50."
        ) from None
    if not -100 <= percent < 100:
        raise InvalidQuestion("Partial credit on a wrong answer lies from -100% up to (not including) 100%.")
    return percent / 100


def to_spec(state: QuestionForm) -> tuple[QuestionSpec, list[int | None]]:
    """The question to store and which stored choice each row edits; blank rows are dropped."""
    if state.errors:
        raise InvalidQuestion(" ".join(state.errors))
    rows = [r for r in state.rows if not r.blank]
    right_count = sum(r.right for r in rows)
    choices = []
    for row in rows:
        if state.kind == QuestionKind.single:
            weight = 1.0 if row.right else _partial_credit(row)
        elif state.one_answer:
            weight = 1.0 if row.right else 0.0
        else:
            weight = _weight(row, right_count)
        choices.append(
            ChoiceSpec(text=row.text, weight=weight, feedback=row.feedback, image_path=row.image_path)
        )
    spec = QuestionSpec(
        kind=state.kind,
        prompt=state.prompt,
        title=state.title,
        general_feedback=state.general_feedback,
        fixed_order=state.fixed_order,
        choices=choices,
    )
    return spec, [r.id for r in rows]
