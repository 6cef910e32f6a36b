"""The track's rules: which lessons are passed, unlocked or current, progress, and checks."""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.flows import milestones
from app.lessons import catalog, images
from app.lessons.catalog import TOTAL_LESSONS, Lesson
from app.lessons.exceptions import LessonLocked, LessonNotFound
from app.quiz import service as quiz_service
from app.quiz.models import Attempt, Choice, Question, QuestionKind

PASSED, CURRENT, LOCKED = "passed", "current", "locked"


@dataclass(frozen=True)
class Node:
    """A lesson as one learner sees it on the track."""

    lesson: Lesson
    state: str  # passed | current | locked
    milestone: str | None = None  # e.g. "approved", from app.flows.milestones

    @property
    def unlocked(self) -> bool:
        return self.state != LOCKED


@dataclass(frozen=True)
class Progress:
    passed: int
    total: int
    step: int  # the "step N / 8" the learner is on
    current: int | None  # the lesson to do next; None once all are passed

    @property
    def complete(self) -> bool:
        return self.passed >= self.total


# ---- progress and unlock rules ----


def passed_numbers(*, db: Session, user_id: int) -> set[int]:
    """The lessons whose check the user has passed."""
    numbers = quiz_service.passed_lesson_numbers(db=db, user_id=user_id)
    return {n for n in numbers if 1 <= n <= TOTAL_LESSONS}


def has_passed(*, db: Session, user_id: int, number: int) -> bool:
    """True once the user has passed lesson `number`'s check."""
    return number in passed_numbers(db=db, user_id=user_id)


def is_unlocked(number: int, passed: set[int]) -> bool:
    """Lesson 1 is always open; every other lesson opens when the one before it is passed."""
    return number == 1 or (number - 1) in passed


def progress_of(passed: set[int]) -> Progress:
    """Progress from the set of passed lessons."""
    remaining = [n for n in range(1, TOTAL_LESSONS + 1) if n not in passed]
    current = remaining[0] if remaining else None
    return Progress(passed=len(passed), total=TOTAL_LESSONS, step=current or TOTAL_LESSONS, current=current)


def progress(*, db: Session, user_id: int) -> Progress:
    """How far the user is along the track."""
    return progress_of(passed_numbers(db=db, user_id=user_id))


def state_of(number: int, passed: set[int]) -> str:
    """passed, current (open, not yet passed) or locked."""
    if number in passed:
        return PASSED
    return CURRENT if is_unlocked(number, passed) else LOCKED


def nodes(*, db: Session, user_id: int | None, passed: set[int] | None = None) -> list[Node]:
    """Every lesson with its state for this user (a visitor sees lesson 1 open, the rest locked).
    `passed`: the user's passed lessons when the caller already has them (saves a query)."""
    if passed is None:
        passed = passed_numbers(db=db, user_id=user_id) if user_id else set()
    return [
        Node(
            lesson=lesson,
            state=state_of(lesson.number, passed),
            milestone=milestones.milestone(db=db, user_id=user_id, number=lesson.number) if user_id else None,
        )
        for lesson in catalog.lessons()
    ]


def get_lesson(number: int) -> Lesson:
    """The lesson, or LessonNotFound."""
    lesson = catalog.lesson(number)
    if lesson is None:
        raise LessonNotFound(number)
    return lesson


def open_lesson(*, db: Session, user_id: int, number: int, passed: set[int] | None = None) -> Lesson:
    """The lesson if this user has unlocked it; LessonLocked names the lesson to pass first."""
    lesson = get_lesson(number)
    if passed is None:
        passed = passed_numbers(db=db, user_id=user_id)
    if not is_unlocked(number, passed):
        previous = get_lesson(number - 1)
        raise LessonLocked(number, lesson.title, previous.number, previous.title)
    return lesson


# ---- checks ----


def check_questions(*, db: Session, user_id: int, number: int) -> list[Question]:
    """The questions of an unlocked lesson's check."""
    open_lesson(db=db, user_id=user_id, number=number)
    return quiz_service.list_questions(db=db, lesson_number=number)


def check_for(*, db: Session, user_id: int, number: int) -> tuple[list[Question], dict[int, list[Choice]]]:
    """The check's questions and, per question, its choices in the order this user's next attempt shows."""
    questions = quiz_service.list_questions(db=db, lesson_number=number)
    key = quiz_service.order_key(db=db, user_id=user_id, lesson_number=number)
    return questions, quiz_service.shown_orders(questions, key=key)


def submit_check(*, db: Session, user_id: int, number: int, answers: Mapping[int, list[int]]) -> Attempt:
    """Grade and record an attempt at an unlocked lesson's check; a pass unlocks the next lesson."""
    open_lesson(db=db, user_id=user_id, number=number)
    return quiz_service.grade(db=db, user_id=user_id, lesson_number=number, answers=answers)


# ---- seeding from the content files ----


def question_spec(raw: dict) -> quiz_service.QuestionSpec:
    """A check question as written in a lesson's front matter, as a quiz QuestionSpec.

    `right: true` marks the right choices (sharing the marks equally for multiple answers);
    `weight:` may give a share explicitly; `image:` names a generated course picture."""
    kind = QuestionKind(raw["kind"])
    right_count = sum(1 for c in raw["choices"] if c.get("right"))
    choices = [
        quiz_service.ChoiceSpec(
            text=str(c["text"]),
            weight=float(c.get("weight", (1.0 / right_count) if c.get("right") else 0.0)),
            feedback=c.get("feedback", ""),
            image_path=images.url(c["image"]) if c.get("image") else None,
        )
        for c in raw["choices"]
    ]
    return quiz_service.QuestionSpec(
        kind=kind,
        prompt=raw["prompt"],
        choices=choices,
        title=raw.get("title", ""),
        general_feedback=raw.get("general_feedback", ""),
        fixed_order=bool(raw.get("fixed_order", False)),
    )


def seed_checks(*, db: Session) -> int:
    """Copy each lesson's check from its content file into the quiz tables, but only for lessons
    that never had questions, so instructors' edits survive restarts. Returns questions added."""
    added = 0
    for lesson in catalog.lessons():
        if quiz_service.count_all_questions(db=db, lesson_number=lesson.number):
            continue
        for position, raw in enumerate(lesson.check.get("questions", []), start=1):
            quiz_service.create_question(
                db=db, lesson_number=lesson.number, spec=question_spec(raw), position=position
            )
            added += 1
        if "pass_mark" in lesson.check:
            quiz_service.set_pass_mark(
                db=db, lesson_number=lesson.number, pass_mark=int(lesson.check["pass_mark"])
            )
    return added
