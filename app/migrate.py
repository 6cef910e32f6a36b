"""Apply Alembic migrations programmatically (used by `loraface migrate`, `serve` and tests)."""

from alembic import command
from alembic.config import Config

from app.web import ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str) -> None:
    """Bring the database to the newest schema (every domain branch: `heads`)."""
    command.upgrade(alembic_config(database_url), "heads")
