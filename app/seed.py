"""Content every installation starts with (lessons, checks, glossary). Safe to run repeatedly."""

from sqlalchemy.orm import Session

from app.config import Settings
from app.lessons import service as lessons_service


def seed_all(*, db: Session, settings: Settings) -> None:
    """Bring seeded content up to date; each domain's seeder is idempotent."""
    lessons_service.seed_checks(db=db)
