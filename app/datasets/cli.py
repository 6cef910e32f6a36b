"""`loraface dataset check DIR [--json]`: the upload's checks on a folder; exit 0 usable, 1 not."""

import json
import sys
from pathlib import Path

import click


@click.group()
def dataset() -> None:
    """Check photo sets the way the upload does."""


@dataset.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option(
    "--base",
    type=click.Choice(["sdxl", "sd15"]),
    default="sdxl",
    show_default=True,
    help="base model family: sets the resolution check (1024 or 512)",
)
@click.option("--trigger", default="sks", show_default=True, help="trigger word for the captions")
@click.option("--class-word", default="person", show_default=True, help="class word for the captions")
def check(folder: Path, as_json: bool, base: str, trigger: str, class_word: str) -> None:
    """Check the photos in FOLDER: a verdict per photo with reasons; exit 0 if the set is usable."""
    from app.trainer.photos import checks, prepare

    paths = prepare.photo_files(folder)
    if not paths:
        click.echo(f"error: no photos (.jpg, .jpeg, .png, .webp) in {folder}", err=True)
        sys.exit(2)
    _, report = prepare.check_files(paths, base=base)
    resolution = checks.BASE_RESOLUTION[base]
    images = []
    for analysis in report.photos:
        caption = ""
        if analysis.accepted:
            _, caption = prepare.crop_and_caption(
                None, analysis, resolution=resolution, trigger=trigger, class_word=class_word
            )
        images.append(
            {
                "filename": analysis.filename,
                "accepted": analysis.accepted,
                "pose": analysis.pose,
                "problems": [p.to_dict() for p in analysis.problems],
                "caption": caption,
            }
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "usable": report.usable,
                    "summary": report.summary,
                    "base": base,
                    "problems": [p.to_dict() for p in report.problems],
                    "images": images,
                },
                indent=2,
            )
        )
    else:
        for item in images:
            verdict = "ok  " if item["accepted"] else "NO  "
            reasons = "; ".join(
                f"{p['message']} [{p['code']}, lesson {p['lesson']}]" for p in item["problems"]
            )
            click.echo(f"{verdict}{item['filename']}" + (f"  {reasons}" if reasons else ""))
        for p in report.problems:
            click.echo(f"set: {p.message} [{p.code}, lesson {p.lesson}]")
        click.echo(("usable: " if report.usable else "not usable: ") + report.summary)
    sys.exit(0 if report.usable else 1)
