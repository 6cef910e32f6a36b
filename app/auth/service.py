"""Accounts, sign-in, sessions and API tokens. Plain functions; the caller commits."""

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app import limits
from app.auth import passwords, throttle
from app.auth.exceptions import (
    AccountSuspended,
    EmailTaken,
    InvalidCredentials,
)
from app.auth.models import ApiToken, LoginAttempt, Role, User, UserSession
from app.db import utcnow
from app.errors import DomainError, NotFound
from app.lab import queue

# argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("loraface-no-such-user")

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(raw: str) -> str:
    """What we store for a session cookie or API token: its SHA-256, never the token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def validate_password(password: str, *, email: str = "", display_name: str = "") -> None:
    """Refuse passwords that are too short, common, or built from the person's email or name."""
    passwords.check(password, email=email, display_name=display_name)


def get_user(*, db: Session, user_id: int) -> User | None:
    """The user with that id, or None."""
    return db.get(User, user_id)


def get_user_by_email(*, db: Session, email: str) -> User | None:
    """The user with that email, or None."""
    return db.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(
    *,
    db: Session,
    email: str,
    password: str,
    display_name: str | None = None,
    role: Role = Role.learner,
) -> User:
    """A new account; raises EmailTaken if the email is in use."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 320 or email.startswith("@") or email.endswith("@"):
        raise DomainError("Enter a valid email address.")
    validate_password(password, email=email, display_name=display_name or "")
    if get_user_by_email(db=db, email=email):
        raise EmailTaken()
    name = (display_name or "").strip() or email.split("@", 1)[0]
    user = User(email=email, display_name=name[:80], password_hash=hash_password(password), role=role)
    db.add(user)
    db.flush()
    return user


def set_role(*, db: Session, user: User, role: Role) -> User:
    """Change what a user may do."""
    user.role = role
    db.flush()
    return user


def authenticate(
    *,
    db: Session,
    email: str,
    password: str,
    address: str,
    per_account: int = 5,
    per_address: int = 20,
    window_minutes: int = 15,
) -> User:
    """The user for these credentials. A failure is recorded (and committed by the caller);
    `per_account` failures of one account from one address are free, then waits double."""
    email = normalize_email(email)
    policy = throttle.ThrottlePolicy(
        free_failures=per_account, per_address=per_address, window=timedelta(minutes=window_minutes)
    )
    throttle.check(db=db, email=email, address=address, policy=policy)
    user = get_user_by_email(db=db, email=email)
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not user or not ok:
        throttle.record_failure(db=db, email=email, address=address)
        raise InvalidCredentials()
    if user.suspended_at is not None:
        raise AccountSuspended()
    # A success clears this address's failures so a later typo starts a fresh count.
    throttle.clear(db=db, email=user.email, address=address)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(*, db: Session, user: User, max_age_days: int) -> str:
    """A new session for the user; returns the raw cookie value (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            token_hash=token_digest(raw),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=max_age_days),
        )
    )
    db.flush()
    return raw


def end_session(*, db: Session, raw_token: str) -> None:
    """Forget the session with this cookie value."""
    db.execute(delete(UserSession).where(UserSession.token_hash == token_digest(raw_token)))


def user_for_session(*, db: Session, raw_token: str) -> User | None:
    """The signed-in user for a session cookie, or None if unknown, expired or suspended."""
    row = db.scalar(select(UserSession).where(UserSession.token_hash == token_digest(raw_token)))
    if row is None or row.expires_at <= utcnow():
        return None
    user = row.user
    return None if user.suspended_at is not None else user


def change_password(
    *, db: Session, user: User, current: str, new: str, keep_session: str | None, keep_tokens: bool = False
) -> None:
    """Set a new password, sign out every other session and, unless kept, revoke the API tokens."""
    if not verify_password(user.password_hash, current):
        raise DomainError("The current password is not right.")
    validate_password(new, email=user.email, display_name=user.display_name)
    user.password_hash = hash_password(new)
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_session:
        stmt = stmt.where(UserSession.token_hash != token_digest(keep_session))
    db.execute(stmt)
    if not keep_tokens:  # a leaked password may have minted tokens: they go with it
        db.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    db.flush()


def create_api_token(*, db: Session, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token; returns the row and the raw token, shown to the user once."""
    limits.ensure_token_room(db=db, user_id=user.id)
    raw = "lf_" + secrets.token_urlsafe(32)
    token = ApiToken(token_hash=token_digest(raw), user_id=user.id, name=name[:80])
    db.add(token)
    db.flush()
    return token, raw


def user_for_api_token(*, db: Session, raw_token: str) -> User | None:
    """The user of a live API token, or None."""
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(raw_token)))
    if token is None or token.revoked_at is not None:
        return None
    if token.user.suspended_at is not None:
        return None
    now = utcnow()
    # Touch at most once a minute: a script polling a job should not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user


def list_api_tokens(*, db: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_api_token(*, db: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens; another user's token is NotFound."""
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.flush()
    return token


def delete_user(*, db: Session, user: User) -> None:
    """Erase the account's rows (every table of theirs cascades from `user`; failed sign-ins,
    which name the email rather than the user, go by address). The caller removes
    paths.user_dir() after the commit, so a failed commit keeps the files."""
    # Task-queue deliveries (PostgreSQL) name the learner in their own tables, which cascade from nothing.
    queue.withdraw_learner(db, user_id=user.id)
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    db.delete(user)
    db.flush()


def list_users(*, db: Session, limit: int = 200, offset: int = 0) -> list[User]:
    """Users by id, for administrators."""
    return list(db.scalars(select(User).order_by(User.id).limit(limit).offset(offset)))


def set_suspended(*, db: Session, user: User, suspended: bool) -> User:
    """Suspend (sign out everywhere, refuse sign-in and tokens) or restore an account."""
    if suspended and user.suspended_at is None:
        user.suspended_at = utcnow()
        db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    elif not suspended:
        user.suspended_at = None
    db.flush()
    return user
