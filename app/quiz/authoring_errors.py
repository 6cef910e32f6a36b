"""Errors of quiz authoring (editor, pictures, GIFT import); each maps to a clear 4xx."""

from app.errors import DomainError, NotFound
from app.quiz.gift import GiftError


class InvalidImage(DomainError):
    """An upload that is not a picture we can read."""


class QuestionNotFound(NotFound):
    def __init__(self, question_id: int) -> None:
        super().__init__(f"There is no question {question_id}.")


class GiftImportFailed(DomainError):
    """A GIFT file with errors: nothing was imported; `errors` lists each with its line."""

    def __init__(self, errors: list[GiftError]) -> None:
        count = len(errors)
        super().__init__(
            f"The file has {count} error{'s' if count != 1 else ''}; nothing was imported. "
            + " ".join(f"Line {e.line}: {e.message}." for e in errors[:20])
        )
        self.errors = errors
