"""`loraface worker`: claim and run jobs (training runs and sweeps) from the database (scale-out)."""

import logging

import click


@click.command()
@click.option(
    "--lease",
    "lease_seconds",
    type=float,
    default=30.0,
    show_default=True,
    help="seconds without a heartbeat before a job is presumed abandoned and requeued",
)
@click.option(
    "--poll",
    "poll_seconds",
    type=float,
    default=1.0,
    show_default=True,
    help="seconds between looks at an empty queue",
)
@click.option(
    "--sweep",
    "sweep_seconds",
    type=float,
    default=5.0,
    show_default=True,
    help="seconds between sweeps for dead workers and undelivered jobs (PostgreSQL)",
)
@click.option("--exit-when-idle", is_flag=True, help="stop once no job is queued or running (batch use)")
@click.option("--device", default=None, help="cuda, cuda:1, cpu (default: CUDA when present)")
def worker(
    lease_seconds: float, poll_seconds: float, sweep_seconds: float, exit_when_idle: bool, device: str | None
) -> None:
    """Claim and run jobs (training runs and sweeps) from the database (scale-out)."""
    from app.config import get_settings
    from app.lab import after_run
    from app.lab.worker import run_worker_process
    from app.models import import_all_models

    import_all_models()  # the job tables refer to users and datasets

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.ensure_data_dir()
    source = "procrastinate" if settings.uses_procrastinate else "database polling"
    click.echo(f"worker ready (data: {settings.data_dir}, lease {lease_seconds:g} s, jobs via {source})")
    ran = run_worker_process(
        settings=settings,
        lease_seconds=lease_seconds,
        poll_seconds=poll_seconds,
        exit_when_idle=exit_when_idle,
        device=device,
        sweep_seconds=sweep_seconds,
        after_job=after_run.after_job_hook(settings),
    )
    click.echo(f"worker stopped after {ran} job(s)")
