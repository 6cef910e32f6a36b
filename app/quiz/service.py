"""The quiz engine: questions per lesson, validation, grading and recorded attempts."""

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session, selectinload

from app.quiz.exceptions import InvalidAnswers, InvalidQuestion, NoQuestions
from app.quiz.models import (
    DEFAULT_PASS_MARK,
    Attempt,
    AttemptAnswer,
    Choice,
    LessonCheckSettings,
    Question,
    QuestionKind,
)

WEIGHT_TOLERANCE = 0.005  # GIFT weights are percentages such as 33.33333
ONE_ANSWER_KINDS = {QuestionKind.single, QuestionKind.true_false, QuestionKind.image_choice}
FULL_MARKS = 1.0 - WEIGHT_TOLERANCE  # a one-answer choice at or above this is the right answer


def is_full_marks(weight: float) -> bool:
    """A one-answer question's right choice earns all its marks; others may earn partial credit."""
    return weight >= FULL_MARKS


@dataclass(frozen=True)
class ChoiceSpec:
    """A choice as an author writes it, before it is stored."""

    text: str
    weight: float = 0.0
    feedback: str = ""
    image_path: str | None = None


@dataclass(frozen=True)
class QuestionSpec:
    """A question as an author writes it (content files, GIFT, the authoring form)."""

    kind: QuestionKind
    prompt: str
    choices: list[ChoiceSpec] = field(default_factory=list)
    title: str = ""
    general_feedback: str = ""
    fixed_order: bool = False  # keep the choices in the written order instead of shuffling


# ---- questions ----


def validate_question(spec: QuestionSpec) -> None:
    """Raise InvalidQuestion unless the question can be asked and graded."""
    if not spec.prompt.strip():
        raise InvalidQuestion("A question needs a prompt.")
    if len(spec.choices) < 2:
        raise InvalidQuestion("A question needs at least two choices.")
    if any(not c.text.strip() and not c.image_path for c in spec.choices):
        raise InvalidQuestion("Every choice needs a text or a picture.")
    if any(not -1.0 <= c.weight <= 1.0 for c in spec.choices):
        raise InvalidQuestion("Choice weights lie between -100% and 100%.")
    right = [c for c in spec.choices if c.weight > 0]
    if not right:
        raise InvalidQuestion("Mark at least one choice as right.")
    if spec.kind in ONE_ANSWER_KINDS:
        if len([c for c in spec.choices if is_full_marks(c.weight)]) != 1:
            raise InvalidQuestion(f"A {spec.kind.value} question has exactly one right choice (100%).")
        if spec.kind == QuestionKind.true_false and len(right) != 1:
            raise InvalidQuestion("A true/false question gives no partial credit.")
    elif abs(sum(c.weight for c in right) - 1.0) > WEIGHT_TOLERANCE:
        raise InvalidQuestion("The weights of the right choices of a multiple question add up to 100%.")
    if spec.kind == QuestionKind.true_false and sorted(c.text.lower() for c in spec.choices) != [
        "false",
        "true",
    ]:
        raise InvalidQuestion("A true/false question has the two choices True and False.")
    if spec.kind == QuestionKind.image_choice and not all(c.image_path for c in spec.choices):
        raise InvalidQuestion("Every choice of an image choice question has a picture.")


def create_question(
    *, db: Session, lesson_number: int, spec: QuestionSpec, position: int | None = None
) -> Question:
    """Store a validated question at the end of the lesson's check (or at `position`)."""
    validate_question(spec)
    if position is None:
        last = db.scalar(select(func.max(Question.position)).where(Question.lesson_number == lesson_number))
        position = (last or 0) + 1
    question = Question(
        lesson_number=lesson_number,
        position=position,
        kind=spec.kind,
        title=spec.title,
        prompt=spec.prompt,
        general_feedback=spec.general_feedback,
        fixed_order=spec.fixed_order,
        choices=[
            Choice(position=i, text=c.text, weight=c.weight, feedback=c.feedback, image_path=c.image_path)
            for i, c in enumerate(spec.choices, start=1)
        ],
    )
    db.add(question)
    db.flush()
    return question


def list_questions(*, db: Session, lesson_number: int) -> list[Question]:
    """The live questions of a lesson's check, in order, with their choices."""
    return list(
        db.scalars(
            select(Question)
            .where(Question.lesson_number == lesson_number, Question.deleted_at.is_(None))
            .order_by(Question.position, Question.id)
            .options(selectinload(Question.choices))
        )
    )


def count_all_questions(*, db: Session, lesson_number: int) -> int:
    """Every question the lesson ever had, deleted ones included (seeding asks this)."""
    return db.scalar(select(func.count(Question.id)).where(Question.lesson_number == lesson_number)) or 0


def snapshot(question: Question, shown: list[Choice] | None = None) -> dict:
    """The question exactly as asked (choices in the order shown), kept with every answer to it."""
    return {
        "shown_order": [c.id for c in (shown or question.choices)],
        "kind": question.kind.value,
        "title": question.title,
        "prompt": question.prompt,
        "general_feedback": question.general_feedback,
        "choices": [
            {
                "id": c.id,
                "text": c.text,
                "image_path": c.image_path,
                "weight": c.weight,
                "feedback": c.feedback,
            }
            for c in question.choices
        ],
    }


# ---- choice order ----


def order_key(*, db: Session, user_id: int, lesson_number: int) -> str:
    """What the next attempt's shuffle is drawn from: the user, the lesson and how many attempts
    came before, so a reload shows the same order and every new attempt a new one."""
    done = db.scalar(
        select(func.count(Attempt.id)).where(
            Attempt.user_id == user_id, Attempt.lesson_number == lesson_number
        )
    )
    return f"{user_id}:{lesson_number}:{done or 0}"


def shown_choices(question: Question, *, key: str) -> list[Choice]:
    """The question's choices in the order this attempt shows them.

    True/false keeps True first and an author may fix the order; others are shuffled."""
    choices = list(question.choices)
    if question.fixed_order or question.kind == QuestionKind.true_false:
        return choices
    seed = hashlib.sha256(f"{key}:{question.id}".encode()).digest()
    random.Random(seed).shuffle(choices)
    return choices


def shown_orders(questions: Iterable[Question], *, key: str) -> dict[int, list[Choice]]:
    """Each question's choices as this attempt shows them, by question id."""
    return {q.id: shown_choices(q, key=key) for q in questions}


# ---- pass marks ----


def get_pass_mark(*, db: Session, lesson_number: int) -> int:
    """The percentage needed to pass the lesson's check."""
    row = db.get(LessonCheckSettings, lesson_number)
    return row.pass_mark if row else DEFAULT_PASS_MARK


def set_pass_mark(*, db: Session, lesson_number: int, pass_mark: int) -> LessonCheckSettings:
    """Change the pass mark of a lesson's check (past attempts keep the mark they were graded at)."""
    if not 1 <= pass_mark <= 100:
        raise InvalidQuestion("The pass mark is a percentage from 1 to 100.")
    row = db.get(LessonCheckSettings, lesson_number)
    if row is None:
        row = LessonCheckSettings(lesson_number=lesson_number, pass_mark=pass_mark)
        db.add(row)
    row.pass_mark = pass_mark
    db.flush()
    return row


# ---- grading ----


def score_answer(question: Question, chosen_ids: Iterable[int]) -> tuple[float, bool]:
    """(score 0..1, fully right) for the chosen choices of one question.

    Multiple answers add up their weights; a wrong choice written with weight 0 costs as much
    as one right share, so ticking every box never earns full marks."""
    chosen = set(chosen_ids)
    if not chosen:
        return 0.0, False
    if question.kind in ONE_ANSWER_KINDS:
        choice = next(c for c in question.choices if c.id in chosen)
        return max(choice.weight, 0.0), is_full_marks(choice.weight)  # partial credit is not "right"
    right = {c.id for c in question.choices if c.weight > 0}
    share = 1.0 / len(right)
    total = sum(c.weight if c.weight != 0 else -share for c in question.choices if c.id in chosen)
    score = min(max(total, 0.0), 1.0)
    return score, chosen == right


def feedback_for(question: Question, chosen_ids: Iterable[int]) -> str:
    """What the learner reads after answering: each chosen choice's feedback, then the general one."""
    chosen = set(chosen_ids)
    parts = [c.feedback for c in question.choices if c.id in chosen and c.feedback]
    if not chosen:
        parts.append("No answer was chosen.")
    if question.general_feedback:
        parts.append(question.general_feedback)
    return " ".join(parts)


def _check_answers(questions: list[Question], answers: Mapping[int, list[int]]) -> None:
    by_id = {q.id: q for q in questions}
    for question_id, choice_ids in answers.items():
        question = by_id.get(question_id)
        if question is None:
            raise InvalidAnswers(f"Question {question_id} is not part of this check.")
        own = {c.id for c in question.choices}
        foreign = [cid for cid in choice_ids if cid not in own]
        if foreign:
            raise InvalidAnswers(f"Choice {foreign[0]} does not belong to question {question_id}.")
        if question.kind in ONE_ANSWER_KINDS and len(set(choice_ids)) > 1:
            raise InvalidAnswers(f"Question {question_id} takes one answer.")


def grade(*, db: Session, user_id: int, lesson_number: int, answers: Mapping[int, list[int]]) -> Attempt:
    """Grade and record an attempt at a lesson's check; unanswered questions score zero.

    Grading goes by choice id, so the shuffled order never changes a score; the order the
    learner saw is kept in each answer's snapshot."""
    questions = list_questions(db=db, lesson_number=lesson_number)
    if not questions:
        raise NoQuestions(f"Lesson {lesson_number}'s check has no questions yet.")
    _check_answers(questions, answers)
    orders = shown_orders(questions, key=order_key(db=db, user_id=user_id, lesson_number=lesson_number))
    pass_mark = get_pass_mark(db=db, lesson_number=lesson_number)
    rows = []
    for question in questions:
        chosen = sorted(set(answers.get(question.id, [])))
        score, correct = score_answer(question, chosen)
        rows.append(
            AttemptAnswer(
                question_id=question.id,
                question_version=question.version,
                chosen_choice_ids=chosen,
                score=score,
                correct=correct,
                feedback=feedback_for(question, chosen),
                snapshot=snapshot(question, orders[question.id]),
            )
        )
    total = sum(r.score for r in rows) / len(rows)
    attempt = Attempt(
        user_id=user_id,
        lesson_number=lesson_number,
        score=total,
        pass_mark=pass_mark,
        # a hair of tolerance so 4 of 5 at an 80% mark passes despite float rounding
        passed=total * 100 + 1e-9 >= pass_mark,
        answers=rows,
    )
    db.add(attempt)
    db.flush()
    return attempt


def right_answers(question: Question) -> list[int]:
    """The ids of the choices that earn full marks (for builders and instructor previews)."""
    if question.kind in ONE_ANSWER_KINDS:
        return [c.id for c in question.choices if is_full_marks(c.weight)]
    return [c.id for c in question.choices if c.weight > 0]


# ---- attempts ----


def passed_lesson_numbers(*, db: Session, user_id: int) -> set[int]:
    """The lessons whose check the user has passed at least once."""
    rows = db.scalars(
        select(Attempt.lesson_number).where(Attempt.user_id == user_id, Attempt.passed.is_(True)).distinct()
    )
    return set(rows)


@dataclass(frozen=True)
class AttemptSummary:
    """How a user has fared at one lesson's check."""

    attempts: int
    best_score: float | None  # 0..1
    passed: bool


def attempt_summary(*, db: Session, user_id: int, lesson_number: int) -> AttemptSummary:
    """Number of attempts, best score and whether any passed."""
    count, best, passed = db.execute(
        select(
            func.count(Attempt.id), func.max(Attempt.score), func.max(cast(Attempt.passed, Integer))
        ).where(Attempt.user_id == user_id, Attempt.lesson_number == lesson_number)
    ).one()
    return AttemptSummary(attempts=count or 0, best_score=best, passed=bool(passed))
