"""Errors of the training lab, each mapped once to a 4xx by the app."""

from app.errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests


class LessonNotPassed(Forbidden):
    def __init__(self) -> None:
        super().__init__("The trainer opens once you pass lesson 6's check (training parameters).")


class JobNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such training job.")


class ModelNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such model.")


class DatasetNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such dataset.")


class DatasetNotUsable(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class JobAlreadyFinished(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"The job has already {status}; there is nothing to stop.")


class QueueFull(TooManyRequests):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class FileGone(NotFound):
    def __init__(self) -> None:
        super().__init__("That file is no longer on the server.")


class BadFormat(DomainError):
    def __init__(self) -> None:
        super().__init__("format must be kohya or diffusers")


class JobTooCostly(DomainError):
    """Over a cost limit (steps, pixels, rank or memory); the message names what to lower."""

    status_code = 422


class PresetNotForBase(DomainError):
    """A preset made for another base family (an SD 1.5 preset on an SDXL server)."""

    status_code = 422


class FamilyNotForBase(DomainError):
    """A family the server cannot train: another than its base's, or one without a demo base."""

    status_code = 422


class NotForFamily(DomainError):
    """A setting the job's family does not train with (flux_mlp on SDXL, prior images on FLUX.1)."""

    status_code = 422


class NoKohyaFile(NotFound):
    def __init__(self, reason: str) -> None:
        super().__init__(f"This model has no kohya file: {reason} Download format=diffusers instead.")
