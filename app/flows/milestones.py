"""Milestones beyond "passed" that a node of the track shows, each from the domain that knows
it: lesson 8's node says "approved" once an art director approved one of the learner's LoRAs."""

from collections.abc import Callable

from sqlalchemy.orm import Session

from app.review import submissions as review_submissions

# lesson number -> (db, user_id) -> label or None
MILESTONES: dict[int, Callable[[Session, int], str | None]] = {8: review_submissions.node_milestone}


def milestone(*, db: Session, user_id: int, number: int) -> str | None:
    """The label this lesson's node shows for this user, if any."""
    lookup = MILESTONES.get(number)
    return lookup(db, user_id) if lookup else None
