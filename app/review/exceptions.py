"""Errors of the review domain, each with a message the user can act on."""

from app.errors import Conflict, DomainError, Forbidden, NotFound


class SubmissionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such submission.")


class ModelNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such model among yours.")


class EpochNotFound(DomainError):
    status_code = 422

    def __init__(self, epoch: int, available: list[int]) -> None:
        listed = ", ".join(str(e) for e in available) or "none"
        super().__init__(f"This model has no epoch {epoch}; its saved epochs are {listed}.")


class AlreadyOpen(Conflict):
    def __init__(self, round_: int) -> None:
        super().__init__(
            f"This model already has a submission in review (round {round_}). Wait for its verdict before submitting again."
        )


class AlreadyApproved(Conflict):
    def __init__(self) -> None:
        super().__init__("This model is already approved; there is nothing left to review.")


class AlreadyClaimed(Conflict):
    def __init__(self, name: str | None) -> None:
        who = name or "another art director"
        super().__init__(f"{who} already claimed this submission.")


class AlreadyDecided(Conflict):
    def __init__(self) -> None:
        super().__init__("This submission already has a verdict.")


class NotYourClaim(Conflict):
    def __init__(self) -> None:
        super().__init__("You have not claimed this submission.")


class OwnSubmission(Forbidden):
    def __init__(self) -> None:
        super().__init__("You cannot review your own submission.")


class RubricIncomplete(DomainError):
    """Low marks and a request for changes need words the learner can act on."""

    status_code = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self._problems = problems

    @property
    def problems(self) -> list[str]:
        return self._problems


class FileGone(NotFound):
    def __init__(self) -> None:
        super().__init__("This file is no longer there.")


class LoraFileMissing(DomainError):
    status_code = 409

    def __init__(self, epoch: int) -> None:
        super().__init__(
            f"The LoRA file of epoch {epoch} is missing, so it cannot be frozen for review. Train again."
        )
