"""Runs queued sweeps in the background: a thread in the server (beside the training worker) or
the `loraface evaluate worker` process. One sweep at a time; progress and a heartbeat are
written after every cell, so a page can show how far it is and a dead runner's sweep restarts."""

import logging
import os
import socket
import threading
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.evaluate import score_notes, service
from app.evaluate.models import Sweep, SweepStatus
from app.lab.models import LoraModel
from app.trainer import interrupt

log = logging.getLogger("loraface.sweeps")
STALE_SECONDS = 900.0  # a running sweep without a heartbeat this long is presumed dead


class SweepRunner:
    """Claims and runs sweeps one at a time until asked to stop."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        settings: Settings,
        device: str | None = None,
        poll_seconds: float = 1.0,
        stale_seconds: float = STALE_SECONDS,
        worker_id: str | None = None,
    ):
        self.sessions, self.settings, self.device = sessions, settings, device
        self.poll_seconds, self.stale_seconds = poll_seconds, stale_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:sweeps-{uuid.uuid4().hex[:6]}"
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self, *, exit_when_idle: bool = False) -> int:
        """Run sweeps until stop() (or, with exit_when_idle, until none is waiting)."""
        ran = 0
        while not self.stop_event.is_set():
            try:
                sweep_id = self.claim()
            except Exception:  # the database is busy or down: wait and try again
                log.exception("claiming a sweep failed")
                sweep_id = None
            if sweep_id is None:
                if exit_when_idle:
                    break
                self.stop_event.wait(self.poll_seconds)
                continue
            self.run_claimed(sweep_id)
            ran += 1
        return ran

    def claim(self) -> int | None:
        """Requeue sweeps of dead runners, then take the next one."""
        with self.sessions() as db:
            service.requeue_stale_sweeps(db=db, stale_seconds=self.stale_seconds)
            db.commit()
            return service.claim_next_sweep(db=db, worker_id=self.worker_id)

    def run_claimed(self, sweep_id: int) -> None:
        """Generate, score and store one sweep; every ending is written down."""
        from app.trainer import sampling, sweep
        from app.trainer.errors import TrainingError

        with self.sessions() as db:
            row = db.get(Sweep, sweep_id)
            model = db.get(LoraModel, row.model_id)
            spec = {
                "epochs": list(row.epochs),
                "strengths": list(row.strengths),
                "prompts": list(row.prompts),
                "seed": row.seed,
                "steps": row.steps,
                "resolution": row.resolution,
                "folder": self.settings.data_dir / row.folder,
            }
            try:
                loras = {
                    e: service.lora_file(db=db, settings=self.settings, model=model, epoch=e)
                    for e in spec["epochs"]
                }
            except Exception as error:  # an epoch's file was removed
                return self._finish(
                    sweep_id, None, f"A LoRA file of this model is missing: {error}", SweepStatus.failed
                )
            training = self._training_images(model)
            base_model, name = model.base_model, model.name
        try:
            pipe = sampling.cached_pipeline(base_model, self.settings.data_dir / "cache", self.device)
            with interrupt.watch(self.stop_event.is_set, sweep.SweepCancelled):  # between denoising steps
                result = sweep.run_sweep(
                    pipe=pipe,
                    epoch_loras=loras,
                    training_images=training,
                    prompts=spec["prompts"],
                    out_dir=spec["folder"],
                    strengths=spec["strengths"],
                    seed=spec["seed"],
                    steps=spec["steps"],
                    resolution=spec["resolution"],
                    name=name,
                    on_progress=lambda done, _total: self._progress(sweep_id, done),
                    should_cancel=self.stop_event.is_set,
                )
        except sweep.SweepCancelled:
            with self.sessions() as db:  # the server is stopping: hand it back, it restarts later
                service.release_sweep(db=db, sweep_id=sweep_id, worker_id=self.worker_id)
                db.commit()
            return
        except _LostSweep:
            log.warning("row %s was taken over by another runner", sweep_id)
            return
        except TrainingError as error:
            return self._finish(sweep_id, None, f"The row could not run: {error}", SweepStatus.failed)
        except Exception as error:
            log.exception("row %s failed", sweep_id)
            return self._finish(
                sweep_id,
                None,
                f"The row stopped unexpectedly ({type(error).__name__}). It has been logged.",
                SweepStatus.failed,
            )
        stored = score_notes.honest_result(result.to_dict(), demo=not base_model, folder=spec["folder"])
        self._finish(sweep_id, stored, None, SweepStatus.succeeded)

    def _training_images(self, model: LoraModel) -> list[Path]:
        """The job's training crops: the worker's resized copies, else the dataset's crops."""
        from app.lab.worker import job_dir

        inputs = job_dir(self.settings.data_dir, model.user_id, model.job_id) / "inputs"
        copies = sorted(inputs.glob("*.png")) if inputs.is_dir() else []
        if copies:
            return copies
        listed = [self.settings.data_dir / item["path"] for item in (model.job.images or [])]
        return [p for p in listed if p.is_file()]

    def _progress(self, sweep_id: int, done: int) -> None:
        with self.sessions() as db:
            owned = service.report_progress(db=db, sweep_id=sweep_id, worker_id=self.worker_id, done=done)
            db.commit()
        if not owned:
            raise _LostSweep()

    def _finish(self, sweep_id: int, result: dict | None, error: str | None, status: SweepStatus) -> None:
        with self.sessions() as db:
            service.finish_sweep(
                db=db, sweep_id=sweep_id, worker_id=self.worker_id, result=result, error=error, status=status
            )
            db.commit()
        self._apply_retention(sweep_id)

    def _apply_retention(self, sweep_id: int) -> None:
        """A sweep reads the training photos; once it ended they may be due for deletion."""
        from app.datasets import retention

        try:
            with self.sessions() as db:
                job_id = db.scalar(
                    select(LoraModel.job_id)
                    .join(Sweep, Sweep.model_id == LoraModel.id)
                    .where(Sweep.id == sweep_id)
                )
                if job_id is not None:
                    retention.purge_if_done(db=db, settings=self.settings, job_id=job_id)
                    db.commit()
        except Exception:  # the photos wait for the next ending; the runner goes on
            log.exception("sweep %s: applying the photo retention failed", sweep_id)

    # ---- thread mode ----

    def start_thread(self) -> threading.Thread:
        """Run the loop in a daemon thread (the web server's sweep runner)."""
        self._thread = threading.Thread(target=self._run_logged, name="sweep-runner", daemon=True)
        self._thread.start()
        return self._thread

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("the sweep runner stopped")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current cell; a sweep in progress goes back to the queue."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)


class _LostSweep(Exception):
    """Another runner owns the sweep now (this one was presumed dead)."""
