"""The reporter thread beside a running job: it writes the job's latest progress and renews its
lease a few times per second, so a slow database never slows the work and a stalled step never
lets the lease lapse."""

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.lab import job_store

log = logging.getLogger("loraface.worker")


class JobReporter(threading.Thread):
    """Writes the latest progress and renews the lease every `interval` seconds; notices a
    cancel request or a lost lease and tells the training loop to stop."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        claim: job_store.Claim,
        lease_seconds: float,
        interval: float,
        losses: list[list[float]],
    ):
        super().__init__(name=f"job-{claim.job_id}-reporter", daemon=True)
        self.sessions, self.claim, self.lease_seconds, self.interval = (
            sessions,
            claim,
            lease_seconds,
            interval,
        )
        self.losses = losses
        self.cancel_requested = threading.Event()
        self.lease_lost = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._progress: dict[str, Any] | None = None
        self._resumed_from: int | None = None
        self._dirty = False

    def update(self, p) -> None:
        """on_progress: keep the newest values in memory only (the training thread never waits on the database)."""
        if getattr(p, "phase", "training") != "training":
            log.info("job %s: %s", self.claim.job_id, p.message)  # class images: no step or loss yet
            return
        with self._lock:
            if self._progress is None and p.step > 1:
                self._resumed_from = p.step - 1
                # Points past the checkpoint came from the crashed attempt; this run redoes them.
                self.losses[:] = [pt for pt in self.losses if pt[0] < p.step]
            self._progress = {
                "step": p.step,
                "total_steps": p.total_steps,
                "epoch": p.epoch,
                "total_epochs": p.total_epochs,
                "loss": p.loss,
                "learning_rate": p.lr,
                "images_per_second": p.images_per_second,
                "eta_seconds": p.eta_seconds,
            }
            self.losses.append([p.step, p.loss])
            self._dirty = True

    def set_progress(self, values: dict[str, Any]) -> None:
        """Progress of a job that is not a training run (a sweep's images done): written next tick."""
        with self._lock:
            self._progress = dict(values)
            self._dirty = True

    def should_stop(self) -> bool:
        return self.cancel_requested.is_set() or self.lease_lost.is_set()

    def flush(self) -> None:
        """Write now (also called once more when training ends)."""
        with self._lock:
            progress = self._progress if self._dirty else None
            losses = list(self.losses) if self._dirty else None
            resumed, self._resumed_from = self._resumed_from, None
            self._dirty = False
        with self.sessions() as db:
            try:
                cancel = job_store.report(
                    db=db,
                    claim=self.claim,
                    lease_seconds=self.lease_seconds,
                    progress=progress,
                    losses=losses,
                    resumed_from_step=resumed,
                )
                db.commit()
            except job_store.LostLease:
                db.rollback()
                self.lease_lost.set()
                return
        if cancel:
            self.cancel_requested.set()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            if self.lease_lost.is_set():
                return
            try:
                self.flush()
            except Exception:  # a database hiccup: try again next tick, the lease has slack
                log.exception("progress write for job %s failed", self.claim.job_id)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=10)
