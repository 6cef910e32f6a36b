"""Training jobs delivered through procrastinate on PostgreSQL.

`training_jobs` stays the source of truth for status, lease and fencing. A procrastinate job
(a "delivery") only carries a training job's id to some worker. A delivery is a hint, never an
order: the worker still claims the job through `job_store.claim_job`, so a duplicate, late or
retried delivery finds nothing to do and ends. What procrastinate adds is what a home-made
network queue would get wrong: instant wake-up (LISTEN/NOTIFY), one running job per learner
(its `lock`), worker heartbeats, stalled-job retry and abort.

Every worker also runs the sweeper, which keeps the two tables in step:
1. deliveries held by dead workers (no heartbeat) go back to todo (procrastinate's retry);
2. jobs whose lease ran out go back to queued (`job_store.requeue_expired`);
3. every queued job without a pending delivery gets one (a defer lost with a crashed web
   process, a job handed back by a stopping worker, a retry that found the job still leased).
"""

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.lab import job_store
from app.lab.models import JobStatus, TrainingJob

log = logging.getLogger("loraface.queue")

TASK_NAME = "loraface.train"
QUEUE_NAME = "training"


def delivery_lock(job_id: int) -> str:
    """At most one delivery of a job waits at a time (procrastinate's queueing lock)."""
    return f"training-job-{job_id}"


def learner_lock(user_id: int) -> str:
    """A learner's deliveries run one after another, never side by side."""
    return f"learner-{user_id}"


def conninfo(database_url: str) -> str:
    """libpq connection string for procrastinate from our SQLAlchemy URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(connector):
    """A procrastinate App with the training task registered."""
    import procrastinate

    queue_app = procrastinate.App(connector=connector)
    queue_app.task(name=TASK_NAME, queue=QUEUE_NAME, pass_context=True)(_train_delivered)
    return queue_app


def _train_delivered(context, job_id: int) -> None:
    """The task: run the named job if it is still waiting (see ProcrastinateWorker)."""
    runner: ProcrastinateWorker = context.additional_context["runner"]
    runner.run_delivered(job_id, should_abort=context.should_abort)


@lru_cache
def _deferring_app():
    """An App that only writes deliveries on a connection it is handed (never opens a pool)."""
    from procrastinate import SyncPsycopgConnector

    return build_app(SyncPsycopgConnector())


def _driver_connection(db: Session):
    return db.connection().connection.driver_connection


def deliver(db: Session, *, job_id: int, user_id: int) -> bool:
    """Write a delivery in the caller's transaction, so it exists exactly when the job row does.
    False (and nothing written) when one already waits for this job."""
    if db.get_bind().dialect.name != "postgresql":
        return False
    from procrastinate.exceptions import AlreadyEnqueued

    task = _deferring_app().tasks[TASK_NAME]
    try:
        with db.begin_nested():  # a clash on the queueing lock must not spoil the caller's transaction
            task.configure(
                lock=learner_lock(user_id),
                queueing_lock=delivery_lock(job_id),
                connection=_driver_connection(db),
            ).defer(job_id=job_id)
    except AlreadyEnqueued:
        return False
    return True


def withdraw(db: Session, *, job_id: int) -> None:
    """The learner cancelled: drop a waiting delivery, ask a running one to abort."""
    _withdraw_where(db, "queueing_lock = :lock", delivery_lock(job_id))


def withdraw_learner(db: Session, *, user_id: int) -> None:
    """An account is erased: drop or abort every delivery of theirs, including one left waiting
    for a job that already ended (a polling worker ran it) or whose row is gone."""
    _withdraw_where(db, "lock = :lock", learner_lock(user_id))


def _withdraw_where(db: Session, condition: str, lock: str) -> None:
    if db.get_bind().dialect.name != "postgresql":
        return
    manager = _deferring_app().job_manager
    pending = db.execute(
        text(
            f"SELECT id, status::text FROM procrastinate_jobs WHERE {condition} AND status IN ('todo', 'doing')"
        ),
        {"lock": lock},
    ).all()
    for delivery_id, status in pending:
        manager.cancel_job_by_id(
            delivery_id,
            abort=status == "doing",
            delete_job=status == "todo",
            connection=_driver_connection(db),
        )


def undelivered_jobs(db: Session) -> list[tuple[int, int]]:
    """(job id, user id) of queued jobs with no delivery waiting or running."""
    rows = db.execute(
        text(
            "SELECT tj.id, tj.user_id FROM training_jobs tj "
            "WHERE tj.status = 'queued' AND NOT EXISTS ("
            "  SELECT 1 FROM procrastinate_jobs pj"
            "  WHERE pj.queueing_lock = 'training-job-' || tj.id AND pj.status IN ('todo', 'doing'))"
            " ORDER BY tj.id"
        )
    ).all()
    return [(job_id, user_id) for job_id, user_id in rows]


def sweep_training_table(db: Session) -> dict[str, int]:
    """Steps 2 and 3 of the sweep (step 1 needs procrastinate's async manager). Commits."""
    requeued = job_store.requeue_expired(db=db)
    for job_id, status in requeued:
        log.warning("job %s lost its worker: now %s", job_id, status.value)
    db.commit()
    delivered = 0
    for job_id, user_id in undelivered_jobs(db):
        delivered += deliver(db, job_id=job_id, user_id=user_id)
    db.commit()
    return {"requeued": len(requeued), "delivered": delivered}


class ProcrastinateWorker:
    """`loraface worker` on PostgreSQL: a procrastinate worker whose one task runs our Worker
    on the delivered job, plus the sweeper."""

    def __init__(
        self,
        *,
        worker,  # app.lab.worker.Worker: claims, trains, reports, finishes
        sessions: sessionmaker[Session],
        database_url: str,
        sweep_seconds: float = 5.0,
        heartbeat_seconds: float | None = None,
        stalled_seconds: float | None = None,
    ):
        self.worker, self.sessions, self.database_url = worker, sessions, database_url
        self.sweep_seconds = sweep_seconds
        # A worker is presumed dead after as long as a job's lease lasts.
        self.stalled_seconds = stalled_seconds or worker.lease_seconds
        self.heartbeat_seconds = heartbeat_seconds or max(0.5, self.stalled_seconds / 4)
        self.ran = 0
        self._queue_worker = None
        self._stopping = threading.Event()

    # ---- the task ----

    def run_delivered(self, job_id: int, *, should_abort: Callable[[], bool]) -> None:
        """Claim the delivered job and train it; nothing to do if it is not waiting any more."""
        with self.sessions() as db:
            claim = job_store.claim_job(
                db=db, job_id=job_id, worker_id=self.worker.worker_id, lease_seconds=self.worker.lease_seconds
            )
        if claim is None:
            log.info("delivery of job %s: nothing to do (not waiting any more)", job_id)
            return
        log.info("worker %s claimed job %s (attempt %s)", self.worker.worker_id, claim.job_id, claim.attempt)
        self.worker.run_claimed(claim, should_abort=should_abort)
        self.ran += 1
        # A job handed back by a stopping worker needs a new delivery right away.
        with self.sessions() as db:
            job = db.get(TrainingJob, job_id)
            if job is not None and job.status == JobStatus.queued:
                deliver(db, job_id=job.id, user_id=job.user_id)
                db.commit()

    # ---- the sweeper ----

    async def sweep_once(self) -> dict[str, int]:
        stalled = await self._queue_app.job_manager.get_stalled_jobs(
            queue=QUEUE_NAME, seconds_since_heartbeat=self.stalled_seconds
        )
        from procrastinate.exceptions import ConnectorException

        for delivery in stalled:
            try:
                await self._queue_app.job_manager.retry_job(delivery)
            except ConnectorException:  # another worker's sweep retried it a moment ago
                continue
            log.warning("delivery %s of a dead worker goes back to the queue", delivery.id)
        counts = await asyncio.to_thread(self._sweep_table)
        counts["retried"] = len(stalled)
        return counts

    def _sweep_table(self) -> dict[str, int]:
        with self.sessions() as db:
            return sweep_training_table(db)

    def _nothing_left(self) -> bool:
        with self.sessions() as db:
            return job_store.unfinished_count(db=db) == 0

    async def _sweep_forever(self, exit_when_idle: bool) -> None:
        """Sweep every sweep_seconds; also the one place that stops procrastinate's worker, from
        inside its own loop, so a stop() asked for at any moment (even before the worker ran) holds."""
        next_sweep = 0.0
        while not self._stopping.is_set():
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_seconds
                try:
                    await self.sweep_once()
                    if exit_when_idle and self.worker_idle and await asyncio.to_thread(self._nothing_left):
                        log.info("no job queued or running: stopping")
                        self.stop()
                        break
                except Exception:  # the database is down or busy: try again next round
                    log.exception("sweep failed")
            await asyncio.sleep(0.1)
        self._queue_worker.stop()

    @property
    def worker_idle(self) -> bool:
        return not getattr(self._queue_worker, "_running_jobs", None)

    # ---- running ----

    async def run_async(self, *, exit_when_idle: bool = False) -> int:
        from procrastinate import PsycopgConnector
        from procrastinate.worker import Worker as QueueWorker

        if self._stopping.is_set():
            return self.ran
        self._queue_app = build_app(
            PsycopgConnector(conninfo=conninfo(self.database_url), min_size=1, max_size=4)
        )
        async with self._queue_app.open_async():
            self._queue_worker = QueueWorker(
                app=self._queue_app,
                queues=[QUEUE_NAME],
                name=self.worker.worker_id,
                concurrency=1,  # one training run per worker (one GPU)
                install_signal_handlers=False,  # ours hand the running job back first
                update_heartbeat_interval=self.heartbeat_seconds,
                stalled_worker_timeout=self.stalled_seconds,
                fetch_job_polling_interval=max(self.sweep_seconds, 1.0),
                abort_job_polling_interval=1.0,
                additional_context={"runner": self},
                # A finished delivery carries nothing training_jobs does not hold (and its lock
                # names the learner, who may since have erased their account).
                delete_jobs="always",
            )
            sweeper = asyncio.create_task(self._sweep_forever(exit_when_idle), name="loraface sweeper")
            try:
                await self._queue_worker.run()
            finally:
                self._stopping.set()
                sweeper.cancel()
        return self.ran

    def run(self, *, exit_when_idle: bool = False, handle_signals: bool = False) -> int:
        """Run until stop() (or, with exit_when_idle, until no job is queued or running)."""

        async def main() -> int:
            if handle_signals:
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, self.stop)
            return await self.run_async(exit_when_idle=exit_when_idle)

        started = time.monotonic()
        ran = asyncio.run(main())
        log.info("worker %s ran %s jobs in %.0f s", self.worker.worker_id, ran, time.monotonic() - started)
        return ran

    def stop(self) -> None:
        """Hand the running job back (it stops at its next step) and stop fetching deliveries."""
        log.info("stopping: the running job, if any, goes back to the queue")
        self._stopping.set()  # the sweeper stops procrastinate's worker within 0.1 s
        self.worker.stop_event.set()
