"""An instructor's preview of a check: the learner's own template, graded the learner's way,
but nothing is recorded (no attempt, no unlock, no statistics)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.quiz import service as quiz_service
from app.quiz.exceptions import InvalidAnswers
from app.quiz.models import Question
from app.quiz.service import ONE_ANSWER_KINDS, AttemptSummary


@dataclass(frozen=True)
class PreviewAnswer:
    """What the check template reads of a graded answer."""

    question_id: int
    chosen_choice_ids: list[int]
    score: float
    correct: bool
    feedback: str


@dataclass(frozen=True)
class PreviewAttempt:
    """What the check template reads of a graded attempt."""

    score: float
    pass_mark: int
    passed: bool
    answers: list[PreviewAnswer]


def grade_preview(
    questions: Sequence[Question], answers: Mapping[int, list[int]], *, pass_mark: int
) -> PreviewAttempt:
    """Grade answers exactly as a learner's attempt is graded, without storing anything."""
    by_id = {q.id: q for q in questions}
    for question_id, chosen in answers.items():
        question = by_id.get(question_id)
        if question is None or not set(chosen) <= {c.id for c in question.choices}:
            raise InvalidAnswers("The answers do not fit this preview; reload it and try again.")
        if question.kind in ONE_ANSWER_KINDS and len(set(chosen)) > 1:
            raise InvalidAnswers(f"Question {question_id} takes one answer.")
    graded = []
    for question in questions:
        chosen = sorted(set(answers.get(question.id, [])))
        score, correct = quiz_service.score_answer(question, chosen)
        feedback = quiz_service.feedback_for(question, chosen)
        graded.append(PreviewAnswer(question.id, chosen, score, correct, feedback))
    total = sum(a.score for a in graded) / len(graded) if graded else 0.0
    return PreviewAttempt(
        score=total, pass_mark=pass_mark, passed=total * 100 + 1e-9 >= pass_mark, answers=graded
    )


def check_context(
    *,
    db: Session,
    lesson_number: int,
    questions: Sequence[Question],
    answers: Mapping[int, list[int]] | None,
    action: str,
) -> dict:
    """The variables quiz/_check.html needs, for a preview posting back to `action`."""
    pass_mark = quiz_service.get_pass_mark(db=db, lesson_number=lesson_number)
    attempt = grade_preview(questions, answers, pass_mark=pass_mark) if answers is not None else None
    return {
        "questions": list(questions),
        "pass_mark": pass_mark,
        "summary": AttemptSummary(attempts=0, best_score=None, passed=False),
        "attempt": attempt,
        "results": {a.question_id: a for a in attempt.answers} if attempt else {},
        "check_action": action,
    }
