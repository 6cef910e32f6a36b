"""The training queue in the database: enqueue, claim, lease, fenced writes, requeue, cancel.

A worker owns a job through a claim (job id + attempt number). Every write it makes checks
that the job is still running under that attempt and that the lease has not run out, so a
worker that stalled or was presumed dead cannot overwrite what its successor does. Functions
flush, never commit: the worker (or the request) commits, so each write is one transaction."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.db import utcnow
from app.lab.fair_order import fair_order
from app.lab.models import JobKind, JobStatus, LoraModel, LoraModelEpoch, TrainingJob

LEASE_SECONDS = 30.0  # a worker that has not renewed its lease this long is presumed dead
MAX_QUEUED_PER_USER = 3  # waiting jobs per learner (the running one not counted)
MAX_ATTEMPTS = 3  # claims per job before a crashing job is given up
MAX_LOSS_POINTS = 600  # the loss curve is thinned beyond this many points


class QueueFull(Exception):
    """The learner already has the most waiting jobs allowed."""


class LostLease(Exception):
    """This attempt no longer owns the job (requeued, cancelled or deleted); the write was refused."""


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one job: every write names both."""

    job_id: int
    attempt: int
    worker_id: str


# ---- learners ----


def enqueue(
    *,
    db: Session,
    user_id: int,
    kind: JobKind = JobKind.train,
    dataset_id: int | None,
    config: dict[str, Any],
    images: list[dict[str, Any]],
    base_model: str | None,
    total_steps: int,
    total_epochs: int,
    max_attempts: int = MAX_ATTEMPTS,
    max_queued: int | None = MAX_QUEUED_PER_USER,
    family: str | None = None,
) -> TrainingJob:
    """Add a queued job for the learner; raises QueueFull past the per-learner limit of waiting
    training runs (None: no limit, for kinds limited elsewhere)."""
    if max_queued is not None and queued_count(db=db, user_id=user_id) >= max_queued:
        raise QueueFull(f"You already have {max_queued} jobs waiting. Wait for one to start or cancel one.")
    job = TrainingJob(
        user_id=user_id,
        kind=kind,
        dataset_id=dataset_id,
        config=config,
        images=images,
        base_model=base_model,
        family=family,
        total_steps=total_steps,
        total_epochs=total_epochs,
        max_attempts=max_attempts,
        losses=[],
    )
    db.add(job)
    db.flush()
    return job


def queued_count(*, db: Session, user_id: int) -> int:
    """How many of the learner's training runs are waiting."""
    return db.scalar(
        select(func.count())
        .select_from(TrainingJob)
        .where(
            TrainingJob.user_id == user_id,
            TrainingJob.kind == JobKind.train,
            TrainingJob.status == JobStatus.queued,
        )
    )


def unfinished_count(*, db: Session) -> int:
    """Jobs queued or running, across all learners (a batch worker stops when this is 0)."""
    return db.scalar(
        select(func.count())
        .select_from(TrainingJob)
        .where(TrainingJob.status.in_([JobStatus.queued, JobStatus.running]))
    )


def request_cancel(*, db: Session, job: TrainingJob) -> TrainingJob:
    """Cancel a waiting job at once; ask the worker of a running job to stop (it checks every step)."""
    now = utcnow()
    done = db.execute(
        update(TrainingJob)
        .where(TrainingJob.id == job.id, TrainingJob.status == JobStatus.queued)
        .values(status=JobStatus.cancelled, finished_at=now, cancel_requested=True)
    ).rowcount
    if not done:
        db.execute(
            update(TrainingJob)
            .where(TrainingJob.id == job.id, TrainingJob.status == JobStatus.running)
            .values(cancel_requested=True)
        )
    db.flush()
    db.refresh(job)
    return job


# ---- workers ----


def _lease_end(now: datetime, lease_seconds: float) -> datetime:
    return now + timedelta(seconds=lease_seconds)


def _next_candidates(db: Session, *, limit: int, lock: bool) -> list[int]:
    """Queued jobs whose owner has nothing running, in fair order."""
    running = aliased(TrainingJob)
    query = (
        select(TrainingJob.id)
        .where(
            TrainingJob.status == JobStatus.queued,
            ~exists().where(running.user_id == TrainingJob.user_id, running.status == JobStatus.running),
        )
        .order_by(*fair_order())
        .limit(limit)
    )
    if lock:
        # Rows another worker is claiming right now are skipped, not waited for.
        query = query.with_for_update(skip_locked=True, of=TrainingJob)
    return list(db.scalars(query))


def _take(db: Session, job_id: int, worker_id: str, lease_seconds: float) -> bool:
    """queued -> running under a new attempt; False when someone else got there first. Raises
    IntegrityError when the learner already has a running job (the database forbids two)."""
    now = utcnow()
    return bool(
        db.execute(
            update(TrainingJob)
            .where(TrainingJob.id == job_id, TrainingJob.status == JobStatus.queued)
            .values(
                status=JobStatus.running,
                attempt=TrainingJob.attempt + 1,
                worker_id=worker_id,
                lease_expires_at=_lease_end(now, lease_seconds),
                heartbeat_at=now,
                started_at=func.coalesce(TrainingJob.started_at, now),
                error=None,
            )
        ).rowcount
    )


def claim_job(
    *, db: Session, job_id: int, worker_id: str, lease_seconds: float = LEASE_SECONDS
) -> Claim | None:
    """Take one named job (a delivery from the task queue names it). Commits; None when the job
    is not waiting any more (another attempt has it, it ended, or it was cancelled) or its
    owner already has a job running."""
    try:
        taken = _take(db, job_id, worker_id, lease_seconds)
    except IntegrityError:
        db.rollback()
        return None
    if not taken:
        db.rollback()
        return None
    attempt = db.scalar(select(TrainingJob.attempt).where(TrainingJob.id == job_id))
    db.commit()
    return Claim(job_id=job_id, attempt=attempt, worker_id=worker_id)


def claim_next(*, db: Session, worker_id: str, lease_seconds: float = LEASE_SECONDS) -> Claim | None:
    """Atomically take the next job: row lock with SKIP LOCKED on PostgreSQL, a guarded UPDATE
    everywhere (SQLite serialises writers). Commits; returns None when nothing is claimable."""
    is_pg = db.get_bind().dialect.name == "postgresql"
    for _ in range(5):
        candidates = _next_candidates(db, limit=1 if is_pg else 5, lock=is_pg)
        if not candidates:
            db.rollback()
            return None
        for job_id in candidates:
            try:
                claimed = _take(db, job_id, worker_id, lease_seconds)
            except IntegrityError:
                # Another worker started this learner's other job a moment ago.
                db.rollback()
                break
            if claimed:
                attempt = db.scalar(select(TrainingJob.attempt).where(TrainingJob.id == job_id))
                db.commit()
                return Claim(job_id=job_id, attempt=attempt, worker_id=worker_id)
        else:
            db.rollback()
    return None


def _fence(claim: Claim, now: datetime):
    """The condition every worker write carries: still running, same attempt, lease alive."""
    return and_(
        TrainingJob.id == claim.job_id,
        TrainingJob.attempt == claim.attempt,
        TrainingJob.status == JobStatus.running,
        TrainingJob.lease_expires_at > now,
    )


def _fenced_update(db: Session, claim: Claim, **values) -> None:
    now = utcnow()
    changed = db.execute(update(TrainingJob).where(_fence(claim, now)).values(**values)).rowcount
    if not changed:
        raise LostLease(f"job {claim.job_id} attempt {claim.attempt} no longer holds its lease")


def thin_losses(points: list[list[float]], limit: int = MAX_LOSS_POINTS) -> list[list[float]]:
    """Keep the loss curve under `limit` points by dropping every other one (first and last kept)."""
    while len(points) > limit:
        points = points[:-1:2] + [points[-1]]
    return points


def report(
    *,
    db: Session,
    claim: Claim,
    lease_seconds: float = LEASE_SECONDS,
    progress: dict[str, Any] | None = None,
    losses: list[list[float]] | None = None,
    resumed_from_step: int | None = None,
) -> bool:
    """Renew the lease and store the latest progress; returns whether a cancel was requested.
    Raises LostLease when this attempt no longer owns the job."""
    now = utcnow()
    values: dict[str, Any] = {"lease_expires_at": _lease_end(now, lease_seconds), "heartbeat_at": now}
    if progress:
        values.update(progress)
    if losses is not None:
        values["losses"] = thin_losses(losses)
    if resumed_from_step is not None:
        values["resumed_from_step"] = resumed_from_step
    _fenced_update(db, claim, **values)
    return bool(db.scalar(select(TrainingJob.cancel_requested).where(TrainingJob.id == claim.job_id)))


def record_epoch(
    *,
    db: Session,
    claim: Claim,
    epoch: int,
    step: int,
    loss: float | None,
    diffusers_path: str,
    kohya_path: str | None,
    sample_path: str | None,
) -> LoraModelEpoch:
    """Store one finished epoch's files (replacing a row an earlier attempt left)."""
    _fenced_update(db, claim, heartbeat_at=utcnow())
    row = db.scalar(
        select(LoraModelEpoch).where(LoraModelEpoch.job_id == claim.job_id, LoraModelEpoch.epoch == epoch)
    )
    if row is None:
        row = LoraModelEpoch(job_id=claim.job_id, epoch=epoch)
        db.add(row)
    row.step, row.loss, row.attempt = step, loss, claim.attempt
    row.diffusers_path, row.kohya_path, row.sample_path = diffusers_path, kohya_path, sample_path
    db.flush()
    return row


def finish_succeeded(
    *,
    db: Session,
    claim: Claim,
    name: str,
    family: str,
    steps: int,
    final_loss: float | None,
    kohya_path: str | None,
    diffusers_path: str,
    losses: list[list[float]] | None = None,
) -> LoraModel:
    """Mark the job succeeded and create its model, tying every epoch row to it. `losses`, the
    whole curve as the trainer kept it (checkpoints included), replaces the live one, which can
    miss the last steps or, after a resume, the steps of an earlier attempt."""
    now = utcnow()
    _fenced_update(
        db,
        claim,
        status=JobStatus.succeeded,
        finished_at=now,
        step=steps,
        eta_seconds=0.0,
        lease_expires_at=None,
        worker_id=None,
        **({"losses": thin_losses(losses)} if losses is not None else {}),
    )
    job = db.get(TrainingJob, claim.job_id)
    db.refresh(job)
    model = LoraModel(
        user_id=job.user_id,
        job_id=job.id,
        name=name,
        trigger=job.config["trigger"],
        class_word=job.config["class_word"],
        family=family,
        base_model=job.base_model,
        config=job.config,
        steps=steps,
        final_loss=final_loss,
        kohya_path=kohya_path,
        diffusers_path=diffusers_path,
    )
    db.add(model)
    db.flush()
    db.execute(update(LoraModelEpoch).where(LoraModelEpoch.job_id == job.id).values(model_id=model.id))
    db.flush()
    return model


def finish_done(*, db: Session, claim: Claim) -> None:
    """Mark a job that makes no model (a sweep) succeeded, its progress full."""
    _fenced_update(
        db,
        claim,
        status=JobStatus.succeeded,
        finished_at=utcnow(),
        step=TrainingJob.total_steps,
        eta_seconds=0.0,
        lease_expires_at=None,
        worker_id=None,
    )


def finish_failed(*, db: Session, claim: Claim, error: str) -> None:
    """Mark the job failed with a message the learner can act on."""
    _fenced_update(
        db,
        claim,
        status=JobStatus.failed,
        error=error[:2000],
        finished_at=utcnow(),
        lease_expires_at=None,
        worker_id=None,
    )


def finish_cancelled(*, db: Session, claim: Claim) -> None:
    """Mark the job cancelled after the worker stopped it on request."""
    _fenced_update(
        db, claim, status=JobStatus.cancelled, finished_at=utcnow(), lease_expires_at=None, worker_id=None
    )


def release(*, db: Session, claim: Claim) -> None:
    """Give a job back to the queue when the worker shuts down; a clean stop is not a failed
    attempt, so the job gets one more allowed claim."""
    _fenced_update(
        db,
        claim,
        status=JobStatus.queued,
        lease_expires_at=None,
        worker_id=None,
        max_attempts=TrainingJob.max_attempts + 1,
    )


def requeue_expired(*, db: Session, now: datetime | None = None) -> list[tuple[int, JobStatus]]:
    """Jobs whose worker stopped renewing its lease: back to the queue (they resume from their
    last checkpoint), cancelled if a cancel was pending, failed after too many attempts."""
    now = now or utcnow()
    stale = db.execute(
        select(
            TrainingJob.id, TrainingJob.attempt, TrainingJob.max_attempts, TrainingJob.cancel_requested
        ).where(TrainingJob.status == JobStatus.running, TrainingJob.lease_expires_at <= now)
    ).all()
    changed = []
    for job_id, attempt, max_attempts, cancel in stale:
        if cancel:
            values = {"status": JobStatus.cancelled, "finished_at": now}
        elif attempt >= max_attempts:
            values = {
                "status": JobStatus.failed,
                "finished_at": now,
                "error": (
                    f"The worker running this job stopped responding {attempt} times, so it was "
                    "given up. Try again with fewer steps or a smaller resolution; if it keeps "
                    "happening, tell an instructor."
                ),
            }
        else:
            values = {"status": JobStatus.queued}
        done = db.execute(
            update(TrainingJob)
            .where(
                TrainingJob.id == job_id,
                TrainingJob.attempt == attempt,
                TrainingJob.status == JobStatus.running,
                TrainingJob.lease_expires_at <= now,
            )
            .values(worker_id=None, lease_expires_at=None, **values)
        ).rowcount
        if done:
            changed.append((job_id, values["status"]))
    db.flush()
    return changed
