"""Errors of the evaluate domain, each mapped once to a 4xx by the app."""

from app.errors import Conflict, DomainError, Forbidden, NotFound


class GenerationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such image.")


class SweepNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such sweep.")


class EpochNotFound(NotFound):
    def __init__(self, epoch: int) -> None:
        super().__init__(f"This model has no saved epoch {epoch}.")


class NoEpochs(DomainError):
    def __init__(self) -> None:
        super().__init__("This model has no saved epochs to compare.")


class SweepAlreadyRunning(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "A sweep of this model is already waiting or running; its grid appears when it ends."
        )


class OwnerOnly(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only the model's owner can run a sweep of it.")


class FileGone(NotFound):
    def __init__(self) -> None:
        super().__init__("That file is no longer on the server.")


class GenerationFailed(DomainError):
    """The base model could not be loaded or the LoRA file is unusable; the message says which."""

    status_code = 422
