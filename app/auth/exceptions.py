"""Errors of the auth domain."""

from app.errors import Conflict, DomainError


class InvalidCredentials(DomainError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("Wrong email or password.")


class LoginRequired(DomainError):
    """Raised by dependencies: API callers get 401, pages redirect to the sign-in form."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("Sign in first.")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("An account with that email already exists.")


class AccountSuspended(DomainError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__("This account is suspended.")
