"""Errors of the community domain."""

from app.errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests


class PostNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That post does not exist or was removed.")


class CommentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That comment does not exist or was removed.")


class ReportNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That report does not exist.")


class ModelNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("You have no model with that id.")


class JobNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("You have no training job with that id.")


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no such account.")


class NotAuthor(Forbidden):
    def __init__(self, what: str = "post") -> None:
        super().__init__(f"Only the author of this {what} or a moderator can change it.")


class NotModerator(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only reviewers and administrators can moderate the community.")


class CannotSuspend(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "Only an administrator can suspend a reviewer, and no one can suspend an administrator."
        )


class InvalidPost(DomainError):
    """Bad input in a post or comment; the message says what to fix."""


class AlreadyReported(Conflict):
    def __init__(self) -> None:
        super().__init__("You have already reported this; a moderator will look at it.")


class RateLimited(TooManyRequests):
    def __init__(self, what: str, limit: int, minutes: int, wait_seconds: int) -> None:
        wait = f"{wait_seconds} seconds" if wait_seconds < 120 else f"{(wait_seconds + 59) // 60} minutes"
        super().__init__(
            f"You can write at most {limit} {what} every {minutes} minutes. Please wait {wait} and try again."
        )
        self.retry_after = wait_seconds
