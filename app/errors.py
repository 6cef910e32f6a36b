"""Domain errors: services raise these, app.main maps them once to a 4xx page or JSON."""


class DomainError(Exception):
    """A problem the user can fix; carries the HTTP status it maps to."""

    status_code = 400
    headers: dict[str, str] | None = None  # sent with the answer (Retry-After on a throttle)

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail

    @property
    def problems(self) -> list[str]:
        """The messages a form shows beside its fields (one, unless a subclass knows more)."""
        return [self.detail]


class NotFound(DomainError):
    """The object does not exist, or is not the caller's (we never tell which)."""

    status_code = 404


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status_code = 403


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a second open item)."""

    status_code = 409


class TooManyRequests(DomainError):
    """Rate limited."""

    status_code = 429


class PayloadTooLarge(DomainError):
    """An upload over the configured size."""

    status_code = 413
