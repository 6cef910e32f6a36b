"""Alembic environment: the URL comes from the caller's config or from LORAFACE_ settings."""

from alembic import context

from app.config import get_settings
from app.db import Base, UTCDateTime, make_engine
from app.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable, url)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection, url)
    engine.dispose()


def _render_item(type_, obj, autogen_context):
    """Write our UTC wrapper as the plain timezone-aware DateTime it is in the database."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection, url: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table.
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
