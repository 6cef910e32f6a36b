"""The `loraface` command (see CONTRACT.md). Heavy imports happen inside each command."""

import sys

import click

from app.console import fail, session


@click.group()
def main() -> None:
    """LoRAFace: learn face LoRA training by doing it."""


@main.command()
def migrate() -> None:
    """Apply database migrations."""
    from app.config import get_settings
    from app.migrate import upgrade

    settings = get_settings()
    settings.ensure_data_dir()
    upgrade(settings.database_url)
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="web processes")
def serve(host: str, port: int, workers: int) -> None:
    """Migrate, then serve the app (with the worker thread unless LORAFACE_WORKER=off)."""
    import uvicorn

    from app.config import get_settings
    from app.migrate import upgrade

    settings = get_settings()
    settings.ensure_data_dir()
    upgrade(settings.database_url)
    click.echo(f"LoRAFace on http://{host}:{port}  (data: {settings.data_dir})")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


@main.group()
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["learner", "instructor", "reviewer", "admin"]),
    default="learner",
    show_default=True,
)
@click.option("--name", "display_name", default=None, help="display name")
def user_create(email: str, role: str, display_name: str | None) -> None:
    """Create a user; the password is read from standard input."""
    from app.auth import service as auth_service
    from app.auth.models import Role
    from app.errors import DomainError

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with session() as db:
        try:
            created = auth_service.create_user(
                db=db, email=email, password=password, display_name=display_name, role=Role(role)
            )
        except DomainError as exc:
            fail(exc.detail)
        db.commit()
        click.echo(f"created {created.role.value} {created.email} (id {created.id})")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
def token_create(email: str, name: str) -> None:
    """Print a new API token for that user (the last line of output is the token)."""
    from app.auth import service as auth_service

    with session() as db:
        found = auth_service.get_user_by_email(db=db, email=email)
        if found is None:
            fail(f"no user with email {email}")
        _, raw = auth_service.create_api_token(db=db, user=found, name=name)
        db.commit()
    click.echo(f"API token for {email} (shown once; send it as 'Authorization: Bearer <token>'):")
    click.echo(raw)


def _register() -> None:
    from app.trainer import bench_cli
    from app.trainer import cli as trainer_cli

    main.add_command(trainer_cli.train)
    main.add_command(bench_cli.bench)
    from app.lab import cli as lab_cli

    main.add_command(lab_cli.worker)
    from app.datasets import cli as dataset_cli

    main.add_command(dataset_cli.dataset)
    from app.quiz import cli as quiz_cli

    main.add_command(quiz_cli.quiz)


_register()

if __name__ == "__main__":
    main()
