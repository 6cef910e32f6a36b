"""How much one account may keep: API tokens, datasets, questions per lesson (waiting training jobs
are capped by the queue itself, app.lab.job_store). Each cap answers a 409 that says what to do."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiToken
from app.datasets.models import Dataset
from app.errors import Conflict
from app.quiz.models import Question

MAX_API_TOKENS = 20  # live tokens per account
MAX_DATASETS = 30  # datasets per learner
MAX_QUESTIONS_PER_LESSON = 100  # live questions in one lesson's check (pages stay small)


class OverLimit(Conflict):
    """An account or lesson already holds the most allowed."""


def ensure_token_room(*, db: Session, user_id: int) -> None:
    """Refuse a new API token past MAX_API_TOKENS live ones."""
    live = db.scalar(select(func.count()).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)))
    if live >= MAX_API_TOKENS:
        raise OverLimit(f"You already have {MAX_API_TOKENS} API tokens; revoke one you no longer use first.")


def ensure_dataset_room(*, db: Session, user_id: int) -> None:
    """Refuse a new dataset past MAX_DATASETS."""
    count = db.scalar(select(func.count()).where(Dataset.user_id == user_id))
    if count >= MAX_DATASETS:
        raise OverLimit(f"You already have {MAX_DATASETS} datasets; delete one you no longer need first.")


def ensure_question_room(*, db: Session, lesson_number: int, adding: int, replacing: bool = False) -> None:
    """Refuse questions that would take a lesson past MAX_QUESTIONS_PER_LESSON."""
    live = 0
    if not replacing:
        live = db.scalar(
            select(func.count()).where(Question.lesson_number == lesson_number, Question.deleted_at.is_(None))
        )
    if live + adding > MAX_QUESTIONS_PER_LESSON:
        raise OverLimit(
            f"A lesson's check holds at most {MAX_QUESTIONS_PER_LESSON} questions; it has {live} and this "
            f"adds {adding}. Split the file or remove questions first."
        )
