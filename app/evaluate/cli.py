"""`loraface evaluate worker`: run queued sweeps outside the web server (LORAFACE_WORKER=off)."""

import logging

import click


@click.group()
def evaluate() -> None:
    """Sweeps of trained LoRAs: epochs x strengths, scored."""


@evaluate.command("worker")
@click.option(
    "--poll",
    "poll_seconds",
    type=float,
    default=1.0,
    show_default=True,
    help="seconds between looks at an empty queue",
)
@click.option("--exit-when-idle", is_flag=True, help="stop once no sweep is waiting (batch use)")
@click.option("--device", default=None, help="cuda, cuda:1, cpu (default: CUDA when present)")
def worker(poll_seconds: float, exit_when_idle: bool, device: str | None) -> None:
    """Claim and run queued sweeps until stopped (SIGTERM/SIGINT hand the running one back)."""
    import signal

    from app.config import get_settings
    from app.db import make_engine, make_sessionmaker
    from app.evaluate.runner import SweepRunner
    from app.models import import_all_models

    import_all_models()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.ensure_data_dir()
    engine = make_engine(settings.database_url)
    runner = SweepRunner(
        sessions=make_sessionmaker(engine), settings=settings, device=device, poll_seconds=poll_seconds
    )

    def _stop(signum, _frame):
        runner.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"sweep worker ready (data: {settings.data_dir})")
    ran = runner.run(exit_when_idle=exit_when_idle)
    engine.dispose()
    click.echo(f"sweep worker stopped after {ran} sweep(s)")
