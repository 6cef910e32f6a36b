"""`loraface bench train`: our training loop against the reference loops, measured in one run."""

import sys
from pathlib import Path

import click


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
def bench():
    """Print speed figures, with a reference measured in the same run."""


@bench.command(
    "train",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def bench_train(ctx):
    """Our training loop against the plain diffusers-example loop on the same model (see --help)."""
    import runpy

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "train_speed.py"
    if not script.exists():
        _fail(f"{script} is missing: the benchmark runs from a source checkout")
    sys.argv = [str(script), *ctx.args]
    runpy.run_path(str(script), run_name="__main__")
