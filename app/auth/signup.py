"""Sign-up by emailed link, so the answer never tells whether an address is registered.

Whatever the address, the form answers "check your inbox". A new address gets a link that
creates the account when opened; a registered one gets a note to its owner instead. Both
requests hash the password, so they also take the same time.
"""

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import mail
from app.auth import service as auth_service
from app.auth.models import Role, SignupRequest, User
from app.db import utcnow
from app.errors import DomainError

LINK_HOURS = 24


class SignupLinkInvalid(DomainError):
    """The link is unknown, used or expired."""

    def __init__(self) -> None:
        super().__init__("This sign-up link is not valid any more (used or older than a day). Sign up again.")


def _valid_email(email: str) -> str:
    email = auth_service.normalize_email(email)
    local, at, domain = email.partition("@")
    if not at or not local or not domain or len(email) > 320 or "@" in domain:
        raise DomainError("Enter a valid email address.")
    return email


def request_signup(
    *,
    db: Session,
    data_dir: Path,
    email: str,
    password: str,
    display_name: str,
    link_base: str,
    next_path: str,
) -> str:
    """Mail a sign-up link (or, for a registered address, a note to its owner); returns the email."""
    email = _valid_email(email)
    name = display_name.strip()[:80]
    auth_service.validate_password(password, email=email, display_name=name)
    password_hash = auth_service.hash_password(password)  # in both cases: the same time taken
    if auth_service.get_user_by_email(db=db, email=email) is not None:
        mail.send(
            data_dir=data_dir,
            to=email,
            subject="Someone tried to sign up with your address",
            body=(
                "Someone (perhaps you) tried to create a LoRAFace account with this address, which "
                f"already has one. To use it, sign in at {link_base}/login. If it was not you, there "
                "is nothing to do: no new account was made."
            ),
        )
        return email
    raw = secrets.token_urlsafe(32)
    db.add(
        SignupRequest(
            token_hash=auth_service.token_digest(raw),
            email=email,
            display_name=name or email.split("@", 1)[0][:80],
            password_hash=password_hash,
            expires_at=utcnow() + timedelta(hours=LINK_HOURS),
        )
    )
    db.flush()
    mail.send(
        data_dir=data_dir,
        to=email,
        subject="Finish creating your LoRAFace account",
        body=(
            f"Open this link within {LINK_HOURS} hours to create your account:\n\n"
            f"{link_base}/signup/confirm?token={raw}&next={quote(next_path, safe='/')}\n\n"
            "If you did not sign up, ignore this message."
        ),
    )
    return email


def pending(*, db: Session, raw_token: str) -> SignupRequest:
    """The waiting sign-up for a link, or SignupLinkInvalid."""
    row = db.scalar(
        select(SignupRequest).where(SignupRequest.token_hash == auth_service.token_digest(raw_token))
    )
    if row is None or row.expires_at <= utcnow():
        raise SignupLinkInvalid()
    return row


def confirm_signup(*, db: Session, raw_token: str) -> User:
    """Create the account of a waiting sign-up; every other link for that address stops working."""
    row = pending(db=db, raw_token=raw_token)
    email = row.email
    if auth_service.get_user_by_email(db=db, email=email) is not None:  # another link won
        db.execute(delete(SignupRequest).where(SignupRequest.email == email))
        raise SignupLinkInvalid()
    user = User(
        email=email, display_name=row.display_name, password_hash=row.password_hash, role=Role.learner
    )
    db.add(user)
    db.execute(delete(SignupRequest).where(SignupRequest.email == email))
    db.flush()
    return user
