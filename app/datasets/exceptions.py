"""Errors of the datasets domain."""

from app.errors import DomainError, NotFound, PayloadTooLarge


class DatasetNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such dataset.")


class ImageNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such photo in this dataset.")


class UploadRejected(DomainError):
    """The whole upload is refused (hostile or unreadable input); nothing was stored."""


class UploadTooLarge(PayloadTooLarge):
    """The upload is over a size, count or pixel limit; nothing was stored."""


class InvalidDatasetField(DomainError):
    """A trigger, class word, name or base that cannot be used."""
