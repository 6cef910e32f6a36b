"""Quiz authoring: edit, delete and reorder a lesson's questions, and move them in and out as GIFT.

Edits change a question in place and raise its `version`; every graded answer keeps a snapshot
of the question as it was asked (see app/quiz/models.py), so past attempts and statistics never
read an edited text. Deleting only hides a question (deleted_at) for the same reason.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import limits
from app.db import utcnow
from app.lessons import service as lessons_service
from app.quiz import images
from app.quiz import service as quiz_service
from app.quiz.authoring_errors import GiftImportFailed, QuestionNotFound
from app.quiz.exceptions import InvalidQuestion
from app.quiz.gift import GiftChoice, GiftError, GiftQuestion, GiftSkipped, read_gift
from app.quiz.gift_writer import dump_gift
from app.quiz.models import Choice, Question, QuestionKind
from app.quiz.service import ChoiceSpec, QuestionSpec
from app.text_input import CONTROL

CATEGORY_PREFIX = "LoRAFace/Lesson "


# ---- checks shared by the editor, the API and GIFT import ----


def check_lesson(number: int) -> None:
    """Raise LessonNotFound unless the course has this lesson."""
    lessons_service.get_lesson(number)


def picture_problem(spec: QuestionSpec, *, data_dir: Path | None) -> str | None:
    """Why the question's pictures cannot be used, or None."""
    pictured = [c for c in spec.choices if c.image_path]
    if pictured and spec.kind != QuestionKind.image_choice:
        return "only image choice questions have pictures"
    for choice in pictured:
        problem = images.check_image_url(choice.image_path, data_dir=data_dir)
        if problem:
            return problem
    return None


def validate_spec(spec: QuestionSpec, *, data_dir: Path | None) -> None:
    """The engine's rules plus ours on pictures; raise InvalidQuestion on the first problem."""
    quiz_service.validate_question(spec)
    problem = picture_problem(spec, data_dir=data_dir)
    if problem:
        raise InvalidQuestion(problem[0].upper() + problem[1:] + ".")


# ---- the question bank ----


def get_question(*, db: Session, question_id: int) -> Question:
    """A live question, or QuestionNotFound (deleted ones are gone for authors too)."""
    question = db.get(Question, question_id)
    if question is None or question.deleted_at is not None:
        raise QuestionNotFound(question_id)
    return question


def add_question(*, db: Session, lesson_number: int, spec: QuestionSpec, data_dir: Path | None) -> Question:
    """A new question at the end of the lesson's check."""
    check_lesson(lesson_number)
    validate_spec(spec, data_dir=data_dir)
    limits.ensure_question_room(db=db, lesson_number=lesson_number, adding=1)
    return quiz_service.create_question(db=db, lesson_number=lesson_number, spec=spec)


def _content(question: Question) -> tuple:
    return (
        question.kind,
        question.title,
        question.prompt,
        question.general_feedback,
        question.fixed_order,
        tuple((c.text, c.image_path, round(c.weight, 6), c.feedback) for c in question.choices),
    )


def update_question(
    *,
    db: Session,
    question_id: int,
    spec: QuestionSpec,
    choice_ids: Sequence[int | None] | None = None,
    data_dir: Path | None,
) -> Question:
    """Rewrite a question; its version goes up when anything a learner sees or is graded on changes.

    `choice_ids` (parallel to spec.choices) says which stored choice each row edits, so ids stay
    stable for learners who have the check open; rows without an id are new choices and stored
    choices not named are removed. Without it, choices are matched by position."""
    question = get_question(db=db, question_id=question_id)
    validate_spec(spec, data_dir=data_dir)
    before = _content(question)
    existing = {c.id: c for c in question.choices}
    if choice_ids is None:
        ordered = list(question.choices)
        choice_ids = [ordered[i].id if i < len(ordered) else None for i in range(len(spec.choices))]
    if len(choice_ids) != len(spec.choices):
        raise InvalidQuestion("Each choice row needs its own id or none.")
    unknown = [cid for cid in choice_ids if cid is not None and cid not in existing]
    if unknown:
        raise InvalidQuestion(f"Choice {unknown[0]} does not belong to question {question_id}.")
    if len({cid for cid in choice_ids if cid is not None}) != len([c for c in choice_ids if c is not None]):
        raise InvalidQuestion("A choice appears twice.")

    question.kind = spec.kind
    question.title = spec.title
    question.prompt = spec.prompt
    question.general_feedback = spec.general_feedback
    question.fixed_order = spec.fixed_order
    kept: list[Choice] = []
    for position, (cid, row) in enumerate(zip(choice_ids, spec.choices, strict=True), start=1):
        choice = existing[cid] if cid is not None else Choice()
        choice.position = position
        choice.text = row.text
        choice.image_path = row.image_path
        choice.weight = row.weight
        choice.feedback = row.feedback
        kept.append(choice)
    question.choices = kept  # delete-orphan removes the rows no longer named
    if _content(question) != before:
        question.version += 1
    db.flush()
    db.refresh(question)
    return question


def delete_question(*, db: Session, question_id: int) -> None:
    """Take a question out of its check; it stays stored for past attempts and statistics."""
    question = get_question(db=db, question_id=question_id)
    question.deleted_at = utcnow()
    db.flush()


def _renumber(questions: Sequence[Question]) -> None:
    for position, question in enumerate(questions, start=1):
        question.position = position


def move_question(*, db: Session, question_id: int, offset: int) -> list[Question]:
    """Move a question up (offset -1) or down (+1) in its check; returns the new order."""
    question = get_question(db=db, question_id=question_id)
    questions = quiz_service.list_questions(db=db, lesson_number=question.lesson_number)
    index = questions.index(question)
    target = min(max(index + offset, 0), len(questions) - 1)
    questions.insert(target, questions.pop(index))
    _renumber(questions)
    db.flush()
    return questions


def reorder_questions(*, db: Session, lesson_number: int, question_ids: Sequence[int]) -> list[Question]:
    """Put the lesson's questions in the given order (every live question exactly once)."""
    check_lesson(lesson_number)
    questions = quiz_service.list_questions(db=db, lesson_number=lesson_number)
    by_id = {q.id: q for q in questions}
    if sorted(question_ids) != sorted(by_id):
        raise InvalidQuestion(
            f"Name each of lesson {lesson_number}'s questions exactly once: {sorted(by_id)}."
        )
    ordered = [by_id[qid] for qid in question_ids]
    _renumber(ordered)
    db.flush()
    return ordered


def set_pass_mark(*, db: Session, lesson_number: int, pass_mark: int) -> int:
    """Change the lesson's pass mark (percent); attempts already graded keep theirs."""
    check_lesson(lesson_number)
    return quiz_service.set_pass_mark(db=db, lesson_number=lesson_number, pass_mark=pass_mark).pass_mark


def question_counts(*, db: Session) -> dict[int, int]:
    """Live questions per lesson number."""
    rows = db.execute(
        select(Question.lesson_number, func.count(Question.id))
        .where(Question.deleted_at.is_(None))
        .group_by(Question.lesson_number)
    )
    return dict(rows.tuples().all())


# ---- GIFT ----


def to_gift(question: Question, *, category: str = "") -> GiftQuestion:
    """A stored question as a GIFT record."""
    return GiftQuestion(
        kind=question.kind.value,
        prompt=question.prompt,
        title=question.title,
        general_feedback=question.general_feedback,
        category=category,
        choices=[
            GiftChoice(text=c.text, weight=c.weight, feedback=c.feedback, image_url=c.image_path)
            for c in question.choices
        ],
    )


def spec_from_gift(question: GiftQuestion) -> QuestionSpec:
    """A parsed GIFT question as an author's QuestionSpec."""
    return QuestionSpec(
        kind=QuestionKind(question.kind),
        prompt=question.prompt,
        title=question.title,
        general_feedback=question.general_feedback,
        choices=[
            ChoiceSpec(text=c.text, weight=c.weight, feedback=c.feedback, image_path=c.image_url)
            for c in question.choices
        ],
    )


def export_gift(*, db: Session, lesson_number: int) -> str:
    """The lesson's check as a GIFT file."""
    lesson = lessons_service.get_lesson(lesson_number)
    questions = quiz_service.list_questions(db=db, lesson_number=lesson_number)
    pass_mark = quiz_service.get_pass_mark(db=db, lesson_number=lesson_number)
    header = (
        f"LoRAFace lesson {lesson.number}: {lesson.title}\n"
        f"{len(questions)} questions; pass mark {pass_mark}% (set in the app, not in GIFT)"
    )
    return dump_gift(
        [to_gift(q) for q in questions], category=f"{CATEGORY_PREFIX}{lesson.number}", header=header
    )


@dataclass(frozen=True)
class ImportPlan:
    """What an import brings in, and the questions of kinds we lack that it leaves out."""

    specs: list[QuestionSpec]
    skipped: list[GiftSkipped]


def plan_import(text: str, *, data_dir: Path | None, skip_unsupported: bool = False) -> ImportPlan:
    """Every question of a GIFT file as a spec (and, on request, the unsupported ones skipped),
    or GiftImportFailed listing every error by line."""
    read = read_gift(text, skip_unsupported=skip_unsupported)
    parsed, errors = read.questions, list(read.errors)
    specs = []
    for question in parsed:
        spec = spec_from_gift(question)
        try:
            validate_spec(spec, data_dir=data_dir)
        except InvalidQuestion as problem:
            errors.append(GiftError(line=question.line, message=problem.detail.rstrip(".")))
            continue
        specs.append(spec)
    if not parsed and not errors:
        only_skipped = " we can ask (every one is of a kind we lack)" if read.skipped else ""
        errors.append(GiftError(line=1, message=f"the file holds no questions{only_skipped}"))
    if errors:
        raise GiftImportFailed(sorted(errors, key=lambda e: e.line))
    return ImportPlan(specs=specs, skipped=read.skipped)


def parse_for_import(text: str, *, data_dir: Path | None) -> list[QuestionSpec]:
    """Every question of a GIFT file as a spec, or GiftImportFailed listing every error by line."""
    return plan_import(text, data_dir=data_dir).specs


def import_gift(
    *,
    db: Session,
    lesson_number: int,
    text: str,
    data_dir: Path | None,
    replace: bool = False,
    skip_unsupported: bool = False,
) -> tuple[list[Question], list[GiftSkipped]]:
    """Add a GIFT file's questions to the lesson's check (or replace its questions), all or nothing;
    returns the questions made and those skipped as kinds we lack (only when asked to skip)."""
    check_lesson(lesson_number)
    plan = plan_import(text, data_dir=data_dir, skip_unsupported=skip_unsupported)  # raises before writing
    specs = plan.specs
    limits.ensure_question_room(db=db, lesson_number=lesson_number, adding=len(specs), replacing=replace)
    if replace:
        for question in quiz_service.list_questions(db=db, lesson_number=lesson_number):
            question.deleted_at = utcnow()
    created = [quiz_service.create_question(db=db, lesson_number=lesson_number, spec=s) for s in specs]
    db.flush()
    return created, plan.skipped


def import_message(created: list[Question], skipped: list[GiftSkipped]) -> str:
    """What an import did, in a sentence for the instructor."""
    count = len(created)
    message = f"Imported {count} question{'s' if count != 1 else ''}."
    if skipped:
        message += f" Skipped {len(skipped)} of kinds we lack: " + "; ".join(str(s) for s in skipped) + "."
    return message


def decode_gift(data: bytes) -> str:
    """GIFT bytes as text (UTF-8, with or without a byte order mark)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GiftImportFailed([GiftError(line=line, message="the file is not UTF-8 text")]) from None
    found = CONTROL.search(text)
    if found:  # NUL and friends: refused here as in every other text field
        line = text[: found.start()].count("\n") + 1
        message = f"the file contains a control character (U+{ord(found.group()):04X}); remove it"
        raise GiftImportFailed([GiftError(line=line, message=message)])
    return text
