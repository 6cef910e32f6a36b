"""Consent to storing face photos and the retention choice, kept on the user. Services flush;
the caller commits."""

from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import Settings
from app.db import utcnow
from app.privacy.exceptions import ConsentRequired

# Bump when the statement in templates/privacy/_privacy.html promises something new: everyone agrees again.
STATEMENT_VERSION = 2  # 2: photos stay while you iterate, deleted N days after last use


def has_consented(user: User) -> bool:
    """True when the user agreed to the statement as it reads today."""
    return user.consented_at is not None and user.consent_version == STATEMENT_VERSION


def require_consent(user: User) -> None:
    """Refuse (403) until the user has agreed to the current statement."""
    if not has_consented(user):
        raise ConsentRequired()


def record_consent(*, db: Session, user: User) -> User:
    """Store the user's agreement to the current statement (agreeing again to the same version
    keeps the first date)."""
    if not has_consented(user):
        user.consented_at, user.consent_version = utcnow(), STATEMENT_VERSION
    db.flush()
    return user


def privacy_out(user: User, settings: Settings | None = None) -> dict:
    """The user's privacy settings as GET /api/me/privacy answers them."""
    agreed = has_consented(user)
    return {
        "consented_at": user.consented_at if agreed else None,
        "statement_version": user.consent_version if agreed else None,
        "current_statement_version": STATEMENT_VERSION,
        "keep_photos": user.keep_photos,
        "delete_on_approval": user.delete_photos_on_approval,
        "retention_days": settings.photo_retention_days if settings else None,
    }
