"""How learners fare on each question of a lesson's check, read from the graded answers.

Every figure comes from the answers' snapshots, so it describes what learners were actually
asked and chose, even after the question was edited (wrong answers are named as they read then).
"""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.quiz import service as quiz_service
from app.quiz.models import Attempt, AttemptAnswer, Question

EASY_SHARE = 0.9  # at or above: nearly everyone gets it right on the first try
HARD_SHARE = 0.1  # at or below: nearly everyone gets it wrong
MIN_LEARNERS_FOR_FLAG = 5  # fewer first tries say nothing either way


@dataclass(frozen=True)
class WrongAnswer:
    text: str
    image_url: str | None
    count: int  # answers that chose it
    share: float  # of all answers to the question


@dataclass(frozen=True)
class QuestionStats:
    question: Question
    attempts: int  # answers to this question, every retry counted
    learners: int  # distinct learners who answered it
    first_try_correct: float | None  # share of learners right on their first answer, 0..1
    correct_share: float | None  # share of all answers that were right, 0..1
    most_chosen_wrong: WrongAnswer | None
    flag: str | None  # "easy", "hard" or None

    @property
    def flag_label(self) -> str:
        """The flag in words for the table."""
        return {"easy": "nearly everyone right", "hard": "nearly everyone wrong"}.get(self.flag or "", "")


def _flag(first_try: float | None, learners: int) -> str | None:
    if first_try is None or learners < MIN_LEARNERS_FOR_FLAG:
        return None
    if first_try >= EASY_SHARE:
        return "easy"
    if first_try <= HARD_SHARE:
        return "hard"
    return None


def _wrong_choices(answer: AttemptAnswer) -> list[tuple[str, str | None]]:
    """The chosen choices short of the marks: any without marks, and partial credit on one-answer kinds."""
    chosen = set(answer.chosen_choice_ids or [])
    one_answer = answer.snapshot.get("kind") in {k.value for k in quiz_service.ONE_ANSWER_KINDS}
    full = quiz_service.FULL_MARKS
    return [
        (c.get("text", ""), c.get("image_path"))
        for c in answer.snapshot.get("choices", [])
        if c.get("id") in chosen and float(c.get("weight", 0)) < (full if one_answer else 1e-9)
    ]


def _stats_for(question: Question, rows: list[tuple[AttemptAnswer, int]]) -> QuestionStats:
    first: dict[int, bool] = {}
    wrong: Counter[tuple[str, str | None]] = Counter()
    for answer, user_id in rows:  # oldest first, so the first row per learner is the first try
        first.setdefault(user_id, answer.correct)
        wrong.update(_wrong_choices(answer))
    attempts = len(rows)
    first_try = sum(first.values()) / len(first) if first else None
    most = None
    if wrong:
        # most chosen; ties go to the choice met first
        (text, image), count = max(wrong.items(), key=lambda kv: kv[1])
        most = WrongAnswer(text=text, image_url=image, count=count, share=count / attempts)
    return QuestionStats(
        question=question,
        attempts=attempts,
        learners=len(first),
        first_try_correct=first_try,
        correct_share=sum(a.correct for a, _ in rows) / attempts if attempts else None,
        most_chosen_wrong=most,
        flag=_flag(first_try, len(first)),
    )


def lesson_stats(*, db: Session, lesson_number: int) -> list[QuestionStats]:
    """Per live question of the lesson, in check order: attempts, first-try share, top wrong answer."""
    questions = quiz_service.list_questions(db=db, lesson_number=lesson_number)
    rows: dict[int, list[tuple[AttemptAnswer, int]]] = {q.id: [] for q in questions}
    if questions:
        result = db.execute(
            select(AttemptAnswer, Attempt.user_id)
            .join(Attempt, AttemptAnswer.attempt_id == Attempt.id)
            .where(AttemptAnswer.question_id.in_(list(rows)))
            .order_by(Attempt.submitted_at, Attempt.id)
        )
        for answer, user_id in result.tuples():
            rows[answer.question_id].append((answer, user_id))
    return [_stats_for(q, rows[q.id]) for q in questions]
