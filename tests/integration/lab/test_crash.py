"""Workers as real `loraface worker` processes: kill -9 mid-job, many workers on many jobs,
and a stalled worker whose late writes are refused."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from app.trainer.models import JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from tests import factories

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
LEASE = 6  # seconds: short, so a dead worker's job is requeued quickly


def _start_worker(settings, *extra: str, log: Path, lease: float = LEASE) -> subprocess.Popen:
    env = {
        **os.environ,
        "LORAFACE_DATABASE_URL": settings.database_url,
        "LORAFACE_DATA_DIR": str(settings.data_dir),
        "LORAFACE_WORKER": "off",
        "LORAFACE_SECRET_KEY": settings.secret_key,
        "OMP_NUM_THREADS": "1",  # several workers share two cores in CI
    }
    env.pop("LORAFACE_BASE_MODEL", None)
    cmd = [sys.executable, "-m", "app.cli", "worker", "--lease", str(lease), "--poll", "0.2", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _job(app, job_id) -> TrainingJob:
    with app.state.sessionmaker() as db:
        return db.get(TrainingJob, job_id)


def _epochs(app, job_id) -> int:
    with app.state.sessionmaker() as db:
        return db.query(LoraModelEpoch).filter_by(job_id=job_id).count()


def _wait_for(
    predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"the worker exited early waiting for {what}:\n{log.read_text()[-3000:] if log else ''}"
            )
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:] if log else ''}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_killed_worker_s_job_resumes_from_its_checkpoint_in_another(app, db, settings, tmp_path):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user)
    job = factories.make_training_job(db, user, images=images, epochs=3)  # 4 steps per epoch
    db.commit()

    first = _start_worker(settings, log=tmp_path / "first.log")
    try:
        # Past the first epoch's checkpoint, inside the second epoch.
        _wait_for(
            lambda: _epochs(app, job.id) >= 1 and _job(app, job.id).step >= 5,
            300,
            "epoch 1",
            first,
            tmp_path / "first.log",
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        _stop(first)
    assert _job(app, job.id).status == JobStatus.running  # nobody has noticed yet

    second = _start_worker(settings, "--exit-when-idle", log=tmp_path / "second.log")
    try:
        # It waits for the dead worker's lease to run out, requeues the job and resumes it.
        second.wait(timeout=400)
    finally:
        _stop(second)
    log = (tmp_path / "second.log").read_text()

    row = _job(app, job.id)
    assert row.status == JobStatus.succeeded, f"{row.error}\n{log[-3000:]}"
    assert row.attempt == 2
    assert row.resumed_from_step in (4, 8)  # the last epoch checkpoint before the kill
    assert [p[0] for p in row.losses] == list(range(1, 13))
    assert _epochs(app, job.id) == 3
    with app.state.sessionmaker() as s:
        assert s.query(TrainingJob).filter(TrainingJob.status.in_(["queued", "running"])).count() == 0
        assert s.query(LoraModel).count() == 1


def test_many_workers_run_each_of_many_jobs_exactly_once(app, db, settings, tmp_path):
    created = []
    for _ in range(6):
        user = factories.make_user(db)
        images = factories.training_images(settings.data_dir, user)[:1]
        created.append(
            factories.make_training_job(db, user, images=images, epochs=None, max_steps=1, sample_steps=1)
        )
    db.commit()

    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    # A lease as long as in production: here only the claim may decide who runs a job.
    procs = [_start_worker(settings, "--exit-when-idle", log=log, lease=60) for log in logs]
    try:
        for proc in procs:
            proc.wait(timeout=500)
    finally:
        for proc in procs:
            _stop(proc)

    claimed = Counter()
    for log in logs:
        claimed.update(int(m) for m in re.findall(r"claimed job (\d+) \(attempt", log.read_text()))
    assert sorted(claimed) == sorted(j.id for j in created)
    assert set(claimed.values()) == {1}
    with app.state.sessionmaker() as s:
        rows = s.query(TrainingJob).all()
        assert {(r.status, r.attempt) for r in rows} == {(JobStatus.succeeded, 1)}, [r.error for r in rows]
        assert s.query(LoraModel).count() == len(created)


def test_a_stalled_worker_cannot_write_after_another_took_its_job(app, db, settings, tmp_path):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user)
    job = factories.make_training_job(db, user, images=images, epochs=3)
    db.commit()

    stale_log, fresh_log = tmp_path / "stale.log", tmp_path / "fresh.log"
    stale = _start_worker(settings, log=stale_log)
    fresh = None
    try:
        _wait_for(lambda: _job(app, job.id).step >= 2, 300, "the first steps", stale, stale_log)
        os.kill(stale.pid, signal.SIGSTOP)  # frozen: no heartbeat, no progress
        fresh = _start_worker(settings, log=fresh_log)
        _wait_for(lambda: _job(app, job.id).attempt == 2, 60, "the takeover", fresh, fresh_log)
        os.kill(stale.pid, signal.SIGCONT)  # wakes up believing it still owns the job
        _wait_for(lambda: _job(app, job.id).status.is_final, 400, "the end of the job", fresh, fresh_log)
        _wait_for(
            lambda: (
                "no longer holds its lease" in stale_log.read_text()
                or "late write refused" in stale_log.read_text()
                or "lost its lease" in stale_log.read_text()
            ),
            60,
            "the refusal",
            stale,
            stale_log,
        )
    finally:
        for proc in (stale, fresh):
            if proc is not None:
                os.kill(proc.pid, signal.SIGCONT) if proc.poll() is None else None
                _stop(proc)

    row = _job(app, job.id)
    assert row.status == JobStatus.succeeded, row.error
    assert row.attempt == 2
    with app.state.sessionmaker() as s:
        assert s.query(LoraModel).count() == 1
