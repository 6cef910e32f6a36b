"""`loraface quiz import FILE --lesson N` and `loraface quiz export --lesson N`: GIFT in and out."""

import sys

import click

from app.console import fail, session


@click.group()
def quiz() -> None:
    """Move a lesson's check in and out as GIFT (Moodle's quiz text format)."""


@quiz.command("export")
@click.option("--lesson", "lesson_number", type=int, required=True, help="lesson number, 1 to 8")
def export_command(lesson_number: int) -> None:
    """Write the lesson's check as GIFT to standard output."""
    from app.errors import DomainError
    from app.quiz import authoring

    with session() as db:
        try:
            text = authoring.export_gift(db=db, lesson_number=lesson_number)
        except DomainError as exc:
            fail(exc.detail)
    click.echo(text, nl=False)


@quiz.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--lesson", "lesson_number", type=int, required=True, help="lesson number, 1 to 8")
@click.option("--replace", is_flag=True, help="take the lesson's current questions out of its check first")
def import_command(file, lesson_number: int, replace: bool) -> None:
    """Add the questions of a GIFT file (or - for standard input) to the lesson's check, all or nothing."""
    from app.config import get_settings
    from app.errors import DomainError
    from app.quiz import authoring
    from app.quiz.authoring_errors import GiftImportFailed

    data = file.read()
    with session() as db:
        try:
            created, _ = authoring.import_gift(
                db=db,
                lesson_number=lesson_number,
                text=authoring.decode_gift(data),
                data_dir=get_settings().data_dir,
                replace=replace,
            )
        except GiftImportFailed as exc:
            for error in exc.errors:
                click.echo(f"{file.name}:{error.line}: {error.message}", err=True)
            fail(f"{len(exc.errors)} error(s); nothing was imported")
        except DomainError as exc:
            fail(exc.detail)
        db.commit()
    count = len(created)
    click.echo(
        f"imported {count} question{'s' if count != 1 else ''} into lesson {lesson_number}", file=sys.stdout
    )
