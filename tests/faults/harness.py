"""The fault harness: real `loraface worker` processes killed with SIGKILL at named points of a
job's life (app/trainer/faults.py), a SIGSTOP/SIGCONT zombie, and many workers on many jobs.

It checks what a queue must never do: lose a job, leave one stuck, let a stale attempt write,
or run a job twice; and it measures how long a dead worker's job waits before it is taken
again. Used by tests/faults (short runs in CI) and benchmarks/faults.py (the figures)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.lab.models import JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from app.trainer.faults import POINTS

ROOT = Path(__file__).resolve().parents[2]
# Where each point is reached more than once in a 3-epoch job, the hit that lands mid-job.
HITS = {"step": 6, "saving_checkpoint": 2, "exporting_epoch": 2, "recording_epoch": 2}


@dataclass
class KillResult:
    point: str
    job_id: int
    epochs_before_kill: int
    requeue_seconds: float | None = None
    status: str = ""
    attempt: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Workers:
    """Worker processes started with one set of timings; every log kept for the report."""

    settings: Settings
    folder: Path
    lease: float = 3.0
    sweep: float = 0.5
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        environment = {
            **os.environ,
            "LORAFACE_DATABASE_URL": self.settings.database_url,
            "LORAFACE_DATA_DIR": str(self.settings.data_dir),
            "LORAFACE_WORKER": "off",
            "LORAFACE_SECRET_KEY": self.settings.secret_key,
            "OMP_NUM_THREADS": "1",  # many workers share few cores
            **(env or {}),
        }
        environment.pop("LORAFACE_BASE_MODEL", None)
        cmd = [
            sys.executable, "-m", "app.cli", "worker",
            "--lease", str(self.lease), "--poll", "0.2", "--sweep", str(self.sweep), *extra,
        ]  # fmt: skip
        log = (self.folder / f"{name}.log").open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = self.folder / f"{name}.log"  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def stop_all(self, grace: float = 15.0) -> None:
        """SIGTERM (a running job is handed back), then SIGKILL whatever is still up."""
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
        deadline = time.monotonic() + grace
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def log_tail(proc, chars: int = 3000) -> str:
    return Path(proc.log_path).read_text()[-chars:]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _job(sessions: sessionmaker[Session], job_id: int) -> TrainingJob:
    with sessions() as db:
        job = db.get(TrainingJob, job_id)
        db.expunge(job)
        return job


def _epoch_rows(sessions, job_id: int) -> list[LoraModelEpoch]:
    with sessions() as db:
        rows = list(db.scalars(select(LoraModelEpoch).where(LoraModelEpoch.job_id == job_id)))
        for row in rows:
            db.expunge(row)
        return rows


def _job_held_by(sessions, pid: int) -> int | None:
    with sessions() as db:
        return db.scalar(select(TrainingJob.id).where(TrainingJob.worker_id.like(f"%:{pid}:%")))


def unfinished(sessions) -> int:
    with sessions() as db:
        return db.scalar(
            select(func.count())
            .select_from(TrainingJob)
            .where(TrainingJob.status.in_([JobStatus.queued, JobStatus.running]))
        )


def check_finished_job(sessions, settings: Settings, job_id: int, *, max_attempt: int) -> list[str]:
    """Everything a correctly recovered job shows; returns what is wrong (empty: nothing)."""
    problems = []
    job = _job(sessions, job_id)
    if job.status != JobStatus.succeeded:
        problems.append(f"status {job.status.value}: {job.error}")
    if not 1 <= job.attempt <= max_attempt:
        problems.append(f"attempt {job.attempt}, expected at most {max_attempt}")
    steps = [int(p[0]) for p in job.losses or []]
    if steps != list(range(1, job.total_steps + 1)):
        problems.append(f"loss curve steps {steps}")
    rows = _epoch_rows(sessions, job_id)
    if sorted(r.epoch for r in rows) != list(range(1, job.total_epochs + 1)):
        problems.append(f"epoch rows {sorted(r.epoch for r in rows)}")
    with sessions() as db:
        models = list(db.scalars(select(LoraModel).where(LoraModel.job_id == job_id)))
        if len(models) != 1:
            problems.append(f"{len(models)} models")
        for model in models:
            for path in (model.kohya_path, model.diffusers_path):
                if not (settings.data_dir / path).is_file():
                    problems.append(f"missing file {path}")
    return problems


def kill_at_points(
    *,
    settings: Settings,
    sessions: sessionmaker[Session],
    make_job: Callable[[], int],
    folder: Path,
    points: tuple[str, ...] = POINTS,
    rescuers: int = 2,
    lease: float = 5.0,
    timeout: float = 600,
) -> list[KillResult]:
    """One job and one victim worker per point. Victims start one at a time (so none waits on
    another's start-up) and freeze at their points; idle rescuers start; then every victim is
    killed -9 at once and the rescuers must finish every job."""
    folder.mkdir(parents=True, exist_ok=True)
    job_ids = [make_job() for _ in points]
    workers = Workers(settings, folder, lease=lease)
    results: list[KillResult] = []
    try:
        victims = []
        for point in points:
            marker = folder / f"{point}.reached"
            env = {
                "LORAFACE_FAULT_POINT": point,
                "LORAFACE_FAULT_HIT": str(HITS.get(point, 1)),
                "LORAFACE_FAULT_MARKER": str(marker),
            }
            proc = workers.start(f"victim-{point}", env=env)
            try:
                wait_for(
                    lambda m=marker, p=proc: m.exists() or p.poll() is not None, timeout, f"point {point}"
                )
            except AssertionError as error:
                raise AssertionError(f"{error}\n{log_tail(proc)}") from None
            if proc.poll() is not None:
                raise AssertionError(f"victim for {point} exited before its point:\n{log_tail(proc)}")
            victims.append((point, proc))
        for i in range(rescuers):
            workers.start(f"rescuer-{i}", "--exit-when-idle")
        time.sleep(3 * lease)  # the rescuers are up and idle: every job is held by a frozen victim

        killed_at = {}
        for point, proc in victims:
            job_id = _job_held_by(sessions, proc.pid)
            if job_id is None:
                raise AssertionError(f"victim for {point} holds no job:\n{log_tail(proc)}")
            results.append(
                KillResult(point=point, job_id=job_id, epochs_before_kill=len(_epoch_rows(sessions, job_id)))
            )
            os.kill(proc.pid, signal.SIGKILL)
            killed_at[job_id] = time.monotonic()
        for _, proc in victims:
            proc.wait()
        assert sorted(killed_at) == sorted(job_ids), "every victim held a different job"

        # Requeue time: from the kill until the job is back in the queue (or already re-claimed).
        deadline = time.monotonic() + timeout
        waiting = {r.job_id: r for r in results}
        while waiting and time.monotonic() < deadline:
            for job_id, result in list(waiting.items()):
                job = _job(sessions, job_id)
                if job.status == JobStatus.queued or job.attempt >= 2:
                    result.requeue_seconds = time.monotonic() - killed_at[job_id]
                    del waiting[job_id]
            time.sleep(0.02)
        for proc in workers.procs[len(points) :]:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        workers.stop_all()

    for result in results:
        job = _job(sessions, result.job_id)
        result.status, result.attempt = job.status.value, job.attempt
        result.problems = check_finished_job(sessions, settings, result.job_id, max_attempt=2)
        if job.attempt != 2:
            result.problems.append(f"claimed {job.attempt} times, expected exactly 2")
        for row in _epoch_rows(sessions, result.job_id):
            if row.attempt == 1 and row.epoch > result.epochs_before_kill:
                result.problems.append(f"epoch {row.epoch} written by the dead attempt after it died")
    return results


@dataclass
class ZombieResult:
    job_id: int
    takeover_seconds: float
    refused_writes: int
    epochs_before_freeze: int
    problems: list[str]


def zombie(
    *,
    settings: Settings,
    sessions: sessionmaker[Session],
    make_job: Callable[[], int],
    folder: Path,
    lease: float = 3.0,
    timeout: float = 600,
) -> ZombieResult:
    """Freeze a worker mid-job (SIGSTOP), let another take the job over, wake the first one
    (SIGCONT): every write it then tries must be refused, and the job must end right."""
    folder.mkdir(parents=True, exist_ok=True)
    job_id = make_job()
    workers = Workers(settings, folder, lease=lease)
    try:
        stale = workers.start("zombie")
        # Frozen early in a job long enough that the freeze surely lands mid-run.
        wait_for(
            lambda: _job(sessions, job_id).step >= 2 or stale.poll() is not None, timeout, "the first steps"
        )
        os.kill(stale.pid, signal.SIGSTOP)  # no heartbeat, no progress, no lease renewal
        frozen_at = time.monotonic()
        epochs_before = len(_epoch_rows(sessions, job_id))
        workers.start("successor")
        wait_for(lambda: _job(sessions, job_id).attempt >= 2, timeout, "the takeover")
        takeover = time.monotonic() - frozen_at
        os.kill(stale.pid, signal.SIGCONT)  # it wakes believing it still owns the job
        wait_for(lambda: _job(sessions, job_id).status.is_final, timeout, "the end of the job")
        refusal_words = ("no longer holds its lease", "late write refused", "lost its lease")

        def refusals() -> int:
            text = Path(stale.log_path).read_text()
            return sum(text.count(word) for word in refusal_words)

        wait_for(lambda: refusals() > 0, 60, "the zombie's refused write", interval=0.2)
    finally:
        workers.stop_all()
    problems = check_finished_job(sessions, settings, job_id, max_attempt=2)
    for row in _epoch_rows(sessions, job_id):
        if row.attempt == 1 and row.epoch > epochs_before:
            problems.append(f"epoch {row.epoch} written by the frozen attempt")
    return ZombieResult(
        job_id=job_id,
        takeover_seconds=takeover,
        refused_writes=refusals(),
        epochs_before_freeze=epochs_before,
        problems=problems,
    )


@dataclass
class ManyResult:
    jobs: int
    workers: int
    seconds: float
    runs_per_job: dict[int, int]
    problems: list[str]


def many_workers(
    *,
    settings: Settings,
    sessions: sessionmaker[Session],
    make_job: Callable[[], int],
    folder: Path,
    jobs: int,
    workers: int,
    timeout: float = 900,
) -> ManyResult:
    """`workers` processes on `jobs` short jobs: each job must run exactly once."""
    import re
    from collections import Counter

    folder.mkdir(parents=True, exist_ok=True)
    job_ids = [make_job() for _ in range(jobs)]
    # A lease as long as in production: only the claim may decide who runs a job.
    pool = Workers(settings, folder, lease=60)
    started = time.monotonic()
    try:
        procs = [pool.start(f"worker-{i}", "--exit-when-idle") for i in range(workers)]
        for proc in procs:
            proc.wait(timeout=timeout)
    finally:
        pool.stop_all()
    seconds = time.monotonic() - started
    runs = Counter()
    for proc in pool.procs:
        runs.update(
            int(m) for m in re.findall(r"claimed job (\d+) \(attempt", Path(proc.log_path).read_text())
        )
    # The evaluation sweeps the finished runs queue are jobs too: each of those must run once as well.
    problems = [
        f"job {j} ran {count} times"
        for j, count in {**runs, **{j: runs[j] for j in job_ids}}.items()
        if count != 1
    ]
    with sessions() as db:
        for job in db.scalars(select(TrainingJob).where(TrainingJob.id.in_(job_ids))):
            if job.status != JobStatus.succeeded or job.attempt != 1:
                problems.append(f"job {job.id}: {job.status.value}, attempt {job.attempt}, {job.error}")
    return ManyResult(
        jobs=jobs,
        workers=workers,
        seconds=seconds,
        runs_per_job={j: runs[j] for j in job_ids},
        problems=problems,
    )
