"""Errors of the quiz engine; each maps to a 4xx with a message the user can act on."""

from app.errors import DomainError


class InvalidQuestion(DomainError):
    """A question that cannot be asked as written (no right answer, weights off, ...)."""


class InvalidAnswers(DomainError):
    """Submitted answers that do not fit the check (unknown question, foreign choice, ...)."""


class NoQuestions(DomainError):
    """A check with nothing in it cannot be passed; an instructor has to add questions."""

    status_code = 409
