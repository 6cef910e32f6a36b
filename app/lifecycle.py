"""What starts and stops with the server: content seeding and the in-process worker."""

import asyncio
import logging

from fastapi import FastAPI

from app.datasets import retention, retention_clock, staging
from app.db import make_engine, make_sessionmaker
from app.lab import after_run
from app.lab.worker import Worker
from app.lessons.images import ensure_built
from app.seed import seed_all

log = logging.getLogger("loraface")


async def startup(app: FastAPI) -> None:
    """Seed course content (idempotent) and start the worker thread when enabled."""
    ensure_built()  # the course pictures, when `make install` has not drawn them yet
    with app.state.sessionmaker() as db:
        seed_all(db=db, settings=app.state.settings)
        db.commit()
    with app.state.sessionmaker() as db:  # what an upload killed mid-way left behind
        staging.sweep(db=db, settings=app.state.settings)
        retention.purge_due(db=db, settings=app.state.settings)  # photos whose time passed while down
        db.commit()
    app.state.retention_clock = asyncio.create_task(
        retention_clock.purge_periodically(app.state.sessionmaker, app.state.settings)
    )
    if app.state.start_worker:
        # Its own connection pool: a burst of page requests must never starve the lease heartbeat.
        app.state.worker_engine = make_engine(app.state.settings.database_url)

        app.state.worker = Worker(
            sessions=make_sessionmaker(app.state.worker_engine),
            settings=app.state.settings,
            after_job=after_run.after_job_hook(app.state.settings),
        )
        app.state.worker.start_thread()


async def shutdown(app: FastAPI) -> None:
    """Stop background work and release connections."""
    clock = getattr(app.state, "retention_clock", None)
    if clock is not None:
        clock.cancel()
    worker = getattr(app.state, "worker", None)
    if worker is not None:
        # A running job stops at its next step and goes back to the queue to resume later.
        await asyncio.to_thread(worker.stop)
        app.state.worker_engine.dispose()
    app.state.engine.dispose()
