"""Errors of the course track."""

from app.errors import DomainError, Forbidden, NotFound


class LessonNotFound(NotFound):
    def __init__(self, number: int | str) -> None:
        super().__init__(f"There is no lesson {number}; the course has lessons 1 to 8.")


class ArticleNotFound(NotFound):
    def __init__(self, slug: str) -> None:
        super().__init__(f"There is no article called {slug!r}.")


class LessonLocked(Forbidden):
    """A node the learner has not reached; the message names the lesson to pass first."""

    def __init__(self, number: int, title: str, previous: int, previous_title: str) -> None:
        super().__init__(
            f"Lesson {number} ({title}) is locked. Pass lesson {previous} ({previous_title}) first."
        )
        self.number = number
        self.previous = previous


class ToolInputInvalid(DomainError):
    """A lesson tool (calculator, trigger checker) got a value it cannot work with (400)."""


class ToolNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no lesson tool called {name!r}; the tools are steps, alpha and trigger.")
