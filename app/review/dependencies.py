"""Load-or-404 dependencies and the reviewer gate of the review routes."""

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentUser, DbSession, require_role
from app.auth.models import Role, User
from app.review import submissions
from app.review.models import Submission

Reviewer = Annotated[User, Depends(require_role(Role.reviewer))]


def valid_viewable_submission(submission_id: int, db: DbSession, user: CurrentUser) -> Submission:
    """The caller's own submission, or any for reviewers; else 404."""
    return submissions.get_viewable(db=db, user=user, submission_id=submission_id)


def valid_reviewable_submission(submission_id: int, db: DbSession, user: Reviewer) -> Submission:
    """Any submission, for reviewers and admins only (403 before 404: the role decides first)."""
    return submissions.get_viewable(db=db, user=user, submission_id=submission_id)


ViewableSubmission = Annotated[Submission, Depends(valid_viewable_submission)]
ReviewableSubmission = Annotated[Submission, Depends(valid_reviewable_submission)]
