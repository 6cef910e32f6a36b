"""The worker: claim a job, run it (a training run through pipeline.run_training, or a sweep),
report progress, finish it.

The same loop runs as a thread inside the web server (LORAFACE_WORKER=thread) and as its own
process (`loraface worker`). Training runs in the worker's thread; a small reporter thread
writes progress and renews the lease a few times per second, so a slow database never slows
a training step and a stalled step never lets the lease lapse."""

import logging
import math
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.evaluate.sweep_job import run_sweep_job
from app.lab import job_store, paths
from app.lab.models import JobKind, TrainingJob
from app.lab.queue import ProcrastinateWorker
from app.lab.reporter import JobReporter
from app.trainer import base_models, faults, interrupt, limits
from app.trainer.config import TrainConfig
from app.trainer.errors import BaseModelError, NonFiniteLoss, OutOfMemory, TrainingCancelled, TrainingError
from app.trainer.pipeline import TrainImage, run_training

log = logging.getLogger("loraface.worker")


def new_worker_id() -> str:
    """host:pid:random, unique per worker loop."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def explain_failure(exc: BaseException, config: dict[str, Any]) -> str:
    """One line the learner can act on, for every way a run can fail."""
    if isinstance(exc, BaseModelError):
        return f"The base model could not be loaded: {exc}. An operator needs to fix LORAFACE_BASE_MODEL."
    if isinstance(exc, OutOfMemory | NonFiniteLoss | TrainingError):
        message = str(exc)
        return message[:1].upper() + message[1:]
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return (
            f"The machine ran out of memory (batch {config.get('batch_size')}, {config.get('resolution')}px, "
            f"rank {config.get('rank')}): lower the batch size, the resolution or the rank."
        )
    if isinstance(exc, FileNotFoundError):
        return (
            f"A training photo is missing ({Path(str(exc.filename or '')).name}): upload the dataset again."
        )
    return f"Training stopped unexpectedly ({type(exc).__name__}: {str(exc)[:200]}). It has been logged."


class Worker:
    """Claims and runs jobs one at a time until asked to stop."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        settings: Settings,
        worker_id: str | None = None,
        lease_seconds: float = job_store.LEASE_SECONDS,
        poll_seconds: float = 1.0,
        report_seconds: float = 0.3,
        device: str | None = None,
        after_job: Callable[[Session, int], None] | None = None,
    ):
        self.sessions, self.settings = sessions, settings
        # Called with a session and the job id once a job ended here; the web app passes its
        # photo retention (app.datasets.retention), which this library does not import.
        self.after_job = after_job
        self.worker_id = worker_id or new_worker_id()
        self.lease_seconds, self.poll_seconds, self.report_seconds = (
            lease_seconds,
            poll_seconds,
            report_seconds,
        )
        self.device = device
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._delivered = None  # the procrastinate side, when jobs come through it

    # ---- the loop ----

    def run(self, *, exit_when_idle: bool = False) -> int:
        """Claim and run jobs until stop() (or, with exit_when_idle, until no job is queued or running)."""
        ran = 0
        while not self.stop_event.is_set():
            try:
                claim = self.claim()
            except Exception:  # the database is down or busy: wait and retry, never die
                log.exception("claiming a job failed")
                claim = None
            if claim is None:
                if exit_when_idle and self._nothing_left():
                    break
                self.stop_event.wait(self.poll_seconds)
                continue
            try:
                self.run_claimed(claim)
            except Exception:  # e.g. the database went away mid-write: the lease lapses and
                # another claim resumes the job from its checkpoint; this loop keeps going
                log.exception("job %s: the worker could not record its end", claim.job_id)
            ran += 1
        return ran

    def _nothing_left(self) -> bool:
        with self.sessions() as db:
            return job_store.unfinished_count(db=db) == 0

    def claim(self) -> job_store.Claim | None:
        """Requeue jobs of dead workers, then take the next one."""
        with self.sessions() as db:
            for job_id, status in job_store.requeue_expired(db=db):
                log.warning("job %s lost its worker: now %s", job_id, status.value)
            db.commit()
            claim = job_store.claim_next(db=db, worker_id=self.worker_id, lease_seconds=self.lease_seconds)
        if claim:
            log.info("worker %s claimed job %s (attempt %s)", self.worker_id, claim.job_id, claim.attempt)
        return claim

    def run_claimed(self, claim: job_store.Claim, *, should_abort: Callable[[], bool] | None = None) -> None:
        """Run one claimed job to its end: succeeded, failed, cancelled, or handed back.
        should_abort: the task queue's abort flag, when the job came through one."""
        with self.sessions() as db:
            job = db.get(TrainingJob, claim.job_id)
            kind = job.kind
        if kind == JobKind.sweep:
            self._run_sweep(claim, should_abort)
            return
        self._run_training(claim, should_abort)

    def _run_sweep(self, claim: job_store.Claim, should_abort) -> None:
        try:
            run_sweep_job(worker=self, claim=claim, should_abort=should_abort)
        finally:
            self._run_after_job(claim.job_id)

    def _run_training(self, claim: job_store.Claim, should_abort) -> None:
        with self.sessions() as db:
            job = db.get(TrainingJob, claim.job_id)
            config, images, base_model = dict(job.config), list(job.images), job.base_model
            config["family"] = job.family  # not a TrainConfig field: _train hands it on
            out_dir = paths.job_dir(self.settings.data_dir, job.user_id, job.id)
            losses = [list(p) for p in job.losses or []]
        reporter = JobReporter(
            sessions=self.sessions,
            claim=claim,
            lease_seconds=self.lease_seconds,
            interval=self.report_seconds,
            losses=losses,
        )
        reporter.start()
        faults.reach("claimed")
        try:
            outcome = self._train(claim, config, images, base_model, out_dir, reporter, should_abort)
        except Exception as exc:  # every ending is written down, none is silent
            reporter.stop()
            self._record_ending(claim, exc, config, reporter, out_dir)
            self._run_after_job(claim.job_id)
            return
        faults.reach("finishing")
        reporter.stop()
        self.write_fenced(
            claim,
            lambda db: job_store.finish_succeeded(
                db=db,
                claim=claim,
                name=outcome.config.name,
                family=outcome.family,
                steps=outcome.steps,
                final_loss=_finite(outcome.final_loss),
                kohya_path=self._rel(outcome.kohya_path) if outcome.kohya_path else None,
                diffusers_path=self._rel(outcome.lora_path),
                losses=[
                    [step, loss] for step, loss in enumerate(outcome.losses, start=1) if math.isfinite(loss)
                ],
            ),
        )
        self._run_after_job(claim.job_id)

    def _run_after_job(self, job_id: int) -> None:
        """The after_job hook in its own transaction; its failure is logged, never the job's."""
        if self.after_job is None:
            return
        try:
            with self.sessions() as db:
                self.after_job(db, job_id)
                db.commit()
        except Exception:
            log.exception("job %s: the after-job hook failed", job_id)

    # ---- pieces ----

    def _train(
        self, claim, config, images, base_model, out_dir: Path, reporter: JobReporter, should_abort=None
    ):
        cfg, family = TrainConfig.from_dict(config), config.get("family")  # None: the SDXL demo
        self._check_cost(cfg, len(images), base_model)

        def should_cancel() -> bool:
            return reporter.should_stop() or self.stop_event.is_set() or bool(should_abort and should_abort())

        with interrupt.watch(should_cancel, TrainingCancelled):
            base = (base_model, family)
            return self._prepare_and_train(claim, cfg, images, base, out_dir, reporter, should_cancel)

    def _check_cost(self, cfg, images: int, base_model: str | None) -> None:
        """The same cost limits the API applied, again here: a job queued by any path is bounded."""
        cache = self.settings.data_dir / "cache"
        family = limits.family_of(base_models.resolve(base_model, cache)) if base_model else "demo"
        try:
            limits.check_job(
                limits.job_size(cfg, images, family),
                limits.JobLimits(memory_budget_gb=self.settings.job_memory_budget_gb),
            )
        except limits.JobTooCostly as error:
            raise TrainingError(str(error)) from None

    def _prepare_and_train(self, claim, cfg, images, base, out_dir: Path, reporter, should_cancel):
        """base: (the base model, the family that picks a tiny demo when it is unset)."""
        base_model, family = base

        train_images = self._prepare_images(images, out_dir / "inputs", cfg.resolution)

        def on_epoch(result) -> None:
            sample = result.sample_paths[0] if result.sample_paths else None
            faults.reach("recording_epoch")
            written = self.write_fenced(
                claim,
                lambda db: job_store.record_epoch(
                    db=db,
                    claim=claim,
                    epoch=result.epoch,
                    step=result.step,
                    loss=_finite(result.loss),
                    diffusers_path=self._rel(result.lora_path),
                    kohya_path=self._rel(result.kohya_path) if result.kohya_path else None,
                    sample_path=self._rel(sample) if sample else None,
                ),
            )
            if not written:
                reporter.lease_lost.set()
                raise job_store.LostLease(f"job {claim.job_id} attempt {claim.attempt} lost its lease")

        return run_training(
            cfg=cfg,
            images=train_images,
            out_dir=out_dir,
            base_model=base_model,
            cache_dir=self.settings.data_dir / "cache",
            on_progress=reporter.update,
            on_epoch=on_epoch,
            should_cancel=should_cancel,
            before_write=lambda: self._confirm_lease(claim, reporter),
            resume=True,
            device=self.device,
            family=family,
        )

    def _confirm_lease(self, claim: job_store.Claim, reporter: "JobReporter") -> None:
        """Before shared files change (a checkpoint swap, an epoch's export, the final copies):
        renew the lease now, in this thread, and stop if the job went to another attempt. The
        reporter notices too, but up to a tick later; a worker waking from a freeze could
        otherwise swap an old checkpoint over its successor's in between."""
        try:
            reporter.flush()
        except Exception:  # a database hiccup is not a lost job: the fenced writes still decide
            log.exception("job %s: lease check before a file write failed", claim.job_id)
        if reporter.lease_lost.is_set():
            raise job_store.LostLease(f"job {claim.job_id} attempt {claim.attempt} lost its lease")

    def _prepare_images(self, images: list[dict[str, Any]], folder: Path, resolution: int):
        """The job's crops at the training resolution (resized copies when the dataset's differ)."""
        from PIL import Image

        folder.mkdir(parents=True, exist_ok=True)
        prepared = []
        for i, item in enumerate(images):
            interrupt.check()  # a resize at 2048 px takes a second or more: stop between images
            source = self.settings.data_dir / item["path"]
            target = folder / f"{i:03d}.png"
            if not target.exists():
                with Image.open(source) as im:
                    im = im.convert("RGB")
                    if im.size != (resolution, resolution):
                        im = im.resize((resolution, resolution), Image.LANCZOS)
                    # Renamed into place: a worker killed mid-write leaves no half image behind.
                    partial = target.with_suffix(".part.png")
                    im.save(partial)
                    partial.replace(target)
            if i == len(images) // 2:
                faults.reach("preparing_images")
            prepared.append(
                TrainImage(
                    path=target,
                    caption=item["caption"],
                    original_size=tuple(item.get("original_size") or (0, 0)),
                    crop_top_left=tuple(item.get("crop_top_left") or (0, 0)),
                )
            )
        return prepared

    def _record_ending(self, claim, exc: BaseException, config, reporter: JobReporter, out_dir: Path) -> None:
        if reporter.lease_lost.is_set() or isinstance(exc, job_store.LostLease):
            log.warning(
                "job %s attempt %s lost its lease; stopping without writing", claim.job_id, claim.attempt
            )
            self._forget_if_deleted(claim, out_dir)
            return
        if isinstance(exc, TrainingCancelled):
            if self.stop_event.is_set() and not reporter.cancel_requested.is_set():
                self.write_fenced(claim, lambda db: job_store.release(db=db, claim=claim))
                log.info("job %s handed back to the queue (worker stopping)", claim.job_id)
            else:
                self.write_fenced(claim, lambda db: job_store.finish_cancelled(db=db, claim=claim))
            return
        message = explain_failure(exc, config)
        if message.startswith("Training stopped unexpectedly"):
            log.error("job %s failed", claim.job_id, exc_info=exc)
        else:
            log.info("job %s failed: %s", claim.job_id, message)
        reporter.flush()  # keep the last step and loss the learner saw
        self.write_fenced(claim, lambda db: job_store.finish_failed(db=db, claim=claim, error=message))

    def write_fenced(self, claim: job_store.Claim, change) -> bool:
        """One fenced write in its own transaction; False (and a log line) when it was refused."""
        with self.sessions() as db:
            try:
                change(db)
                db.commit()
            except job_store.LostLease:
                db.rollback()
                log.warning("job %s attempt %s: late write refused", claim.job_id, claim.attempt)
                return False
        return True

    def _forget_if_deleted(self, claim: job_store.Claim, out_dir: Path) -> None:
        """When the learner erased their account mid-run, remove what this attempt wrote."""
        with self.sessions() as db:
            if db.get(TrainingJob, claim.job_id) is None:
                shutil.rmtree(out_dir, ignore_errors=True)

    def _rel(self, path: Path) -> str:
        return str(Path(path).resolve().relative_to(self.settings.data_dir.resolve()))

    # ---- thread mode ----

    def delivered_through_procrastinate(self, **options):
        """This worker fed by procrastinate deliveries (PostgreSQL) instead of polling."""
        self._delivered = ProcrastinateWorker(
            worker=self, sessions=self.sessions, database_url=self.settings.database_url, **options
        )
        return self._delivered

    def start_thread(self) -> threading.Thread:
        """Run the loop in a daemon thread (the web server's worker)."""
        if self.settings.uses_procrastinate:
            self.delivered_through_procrastinate()
        self._thread = threading.Thread(target=self._run_logged, name="training-worker", daemon=True)
        self._thread.start()
        return self._thread

    def _run_logged(self) -> None:
        try:
            if self._delivered is not None:
                self._delivered.run()
            else:
                self.run()
        except Exception:
            log.exception("the training worker stopped")

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to stop (a running job stops at its next step and goes back to the queue)."""
        self.stop_event.set()
        if self._delivered is not None:
            self._delivered.stop()
        if self._thread is not None:
            self._thread.join(timeout=timeout)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def run_worker_process(
    *,
    settings: Settings,
    lease_seconds: float,
    poll_seconds: float,
    exit_when_idle: bool,
    device: str | None = None,
    sweep_seconds: float = 5.0,
    after_job: Callable[[Session, int], None] | None = None,
) -> int:
    """`loraface worker`: the loop as a process; SIGTERM/SIGINT hand the running job back.
    On PostgreSQL jobs arrive through procrastinate (see app.lab.queue), else by polling."""
    import signal

    engine = make_engine(settings.database_url)
    worker = Worker(
        sessions=make_sessionmaker(engine),
        settings=settings,
        lease_seconds=lease_seconds,
        poll_seconds=poll_seconds,
        device=device,
        after_job=after_job,
    )

    if settings.uses_procrastinate:
        delivered = worker.delivered_through_procrastinate(sweep_seconds=sweep_seconds)
        log.info("worker %s takes jobs through procrastinate", worker.worker_id)
        ran = delivered.run(exit_when_idle=exit_when_idle, handle_signals=True)
        engine.dispose()
        return ran

    def _stop(signum, _frame):
        log.info("signal %s: stopping after the current step", signum)
        worker.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started = time.monotonic()
    ran = worker.run(exit_when_idle=exit_when_idle)
    log.info("worker %s ran %s jobs in %.0f s", worker.worker_id, ran, time.monotonic() - started)
    engine.dispose()
    return ran
