"""The reviewer's own prompts: images from the submitted epoch, all on one fixed seed."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import Settings
from app.evaluate import service as evaluate_service
from app.evaluate.models import Generation
from app.lab.models import LoraModel
from app.review.models import Submission

GENERATE_SEED = 123456  # every reviewer prompt on one seed, so images compare fairly


def generate(
    *, db: Session, settings: Settings, user: User, submission: Submission, prompt: str, strength: float
):
    """One image from the submitted epoch with the reviewer's prompt, on the fixed review seed."""
    model = db.get(LoraModel, submission.model_id)
    return evaluate_service.generate(
        db=db,
        settings=settings,
        model=model,
        user=user,
        prompt=prompt,
        strength=strength,
        seed=GENERATE_SEED,
        epoch=submission.epoch,
    )


def generations(*, db: Session, submission: Submission, limit: int = 8) -> list[Generation]:
    """Images made from the submitted epoch since it was submitted, newest first."""
    return list(
        db.scalars(
            select(Generation)
            .where(
                Generation.model_id == submission.model_id,
                Generation.epoch == submission.epoch,
                Generation.created_at >= submission.submitted_at,
            )
            .order_by(Generation.id.desc())
            .limit(limit)
        )
    )
