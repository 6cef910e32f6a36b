"""What starts and stops with the server: content seeding and the in-process worker."""

import logging

from fastapi import FastAPI

log = logging.getLogger("loraface")


async def startup(app: FastAPI) -> None:
    """Seed course content (idempotent) and start the worker thread when enabled."""
    from app.seed import seed_all

    with app.state.sessionmaker() as db:
        seed_all(db=db, settings=app.state.settings)
        db.commit()


async def shutdown(app: FastAPI) -> None:
    """Stop background work and release connections."""
    app.state.engine.dispose()
