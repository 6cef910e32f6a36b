"""The periodic retention check: photos whose period ended go even when nothing else happens.

Every other trigger (a job or sweep ending, a verdict, a changed choice, start-up) needs activity;
a learner who stops coming back would otherwise keep their photos past the date the dataset page
promised. Any number of servers may run it: a purge is idempotent and a row is purged once.
"""

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.datasets import retention

log = logging.getLogger("loraface")


def purge_once(sessions: sessionmaker[Session], settings: Settings) -> int:
    """One check over every learner; returns how many datasets lost their photos."""
    with sessions() as db:
        purged = retention.purge_due(db=db, settings=settings)
        db.commit()
    if purged:
        log.info("retention: deleted the training photos of %d dataset(s) whose period ended", purged)
    return purged


async def purge_periodically(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Run `purge_once` every `retention_check_seconds` until cancelled (at shutdown)."""
    while True:
        await asyncio.sleep(settings.retention_check_seconds)
        try:
            await asyncio.to_thread(purge_once, sessions, settings)
        except Exception:  # a failed check is retried next time; it must not end the loop
            log.exception("retention: the periodic check failed")
