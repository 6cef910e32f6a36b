"""What every `loraface` command shares: a database session and a one-line failure."""

import sys

import click
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import make_engine, make_sessionmaker


def session() -> Session:
    """A session on the configured database (the command commits)."""
    settings = get_settings()
    settings.ensure_data_dir()
    return make_sessionmaker(make_engine(settings.database_url))()


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit (2: bad input, per CONTRACT.md)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
