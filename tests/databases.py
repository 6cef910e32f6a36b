"""A brand-new, migrated database for one run: a SQLite file or a PostgreSQL database created on
the given server and dropped afterwards. Used by the test harness and benchmarks/faults.py."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from app.migrate import upgrade


@contextmanager
def fresh_database(
    *, pg_admin_url: str | None, data_dir: Path, prefix: str = "loraface_test"
) -> Iterator[str]:
    """Yield the URL of a new database migrated with Alembic (PostgreSQL when pg_admin_url is given)."""
    if pg_admin_url is None:
        url = f"sqlite:///{data_dir / f'{prefix}.db'}"
        upgrade(url)
        yield url
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
