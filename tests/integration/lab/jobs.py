"""Running and waiting for lab jobs in tests, as the server's worker would run them."""

import time

from app.lab import after_run
from app.lab.worker import Worker


def run_every_queued_job(app, settings) -> None:
    """Run every queued job as the server's worker would: training runs, then the sweeps their
    endings queue (a sweep is a job on the same queue)."""
    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu", report_seconds=0.1,
           after_job=after_run.after_job_hook(settings)).run(exit_when_idle=True)  # fmt: skip


def wait_for_job(api, job_id: int, timeout: float = 600) -> dict:
    """GET /api/jobs/{id} until the job has ended; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/api/jobs/{job_id}").json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")
