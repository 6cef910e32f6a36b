"""Errors of the datasets domain."""

from app.errors import Conflict, DomainError, NotFound, PayloadTooLarge


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


class CannotKeepPhoto(Conflict):
    """ "Keep anyway" on a photo whose rejection is final (no face to crop) or that was not rejected."""


DELETED_NOTE = "The photos of this dataset were deleted (your privacy setting or your request)."


class PhotosDeleted(Conflict):
    """The set's photos were purged after training (retention.py): it cannot be edited or trained on."""

    def __init__(self) -> None:
        super().__init__(f"{DELETED_NOTE} Upload them again to train another LoRA.")


class PhotoFileDeleted(NotFound):
    """A photo, crop or thumbnail asked for after the purge."""

    def __init__(self) -> None:
        super().__init__(DELETED_NOTE)
