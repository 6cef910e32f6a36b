"""Training-speed results files (benchmarks/results/<date>-<gpu or cpu>-<commit>.json) and the
README table rendered from the newest one.

    python benchmarks/results.py            # print the newest file as a Markdown table
    python benchmarks/results.py --readme   # and write it into README.md between the markers
"""

import argparse
import datetime
import json
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "benchmarks" / "results"
START, END = "<!-- train-speed:start -->", "<!-- train-speed:end -->"


def save(rows: list[dict], device: str, args, *, labels: dict, mfu) -> Path:
    """Write benchmarks/results/<date>-<gpu or cpu>-<commit>.json: device, versions, settings, figures."""
    import diffusers  # lazy: the README table needs no torch
    import peft
    import torch

    name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    commit, date = commit_id(), datetime.datetime.now(datetime.UTC)
    figures = []
    for row in rows:
        for loop_name in ("ours", "fair", "plain"):
            sec = row.get(loop_name)
            figures.append({
                "loop": loop_name, "label": labels[loop_name], "batch": row["batch"], "resolution": row["res"],
                "seconds_per_step": sec, "images_per_second": row["batch"] / sec if sec else None,
                "peak_memory_gib": row.get(loop_name + "_mem"),
                "mfu": mfu(sec, row["batch"], row["res"], device, args.peak_tflops) if sec else None,
                "vs_fair": row["fair"] / sec if sec and row.get("fair") else None,
                "error": row.get(loop_name + "_error"),
            })  # fmt: skip
    data = {
        "date": date.isoformat(timespec="seconds"),
        "device": device,
        "device_name": name if device.startswith("cuda") else f"CPU {platform.machine()}, {torch.get_num_threads()} threads",
        "commit": commit,
        "model": args.model,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "diffusers": diffusers.__version__, "peft": peft.__version__},
        "settings": {"steps": args.steps, "warmup": args.warmup, "compile": args.compile,
                     "compile_blocks": args.compile_blocks, "channels_last": args.channels_last,
                     "gradient_checkpointing": args.gradient_checkpointing},
        "mfu_basis": {"tflop_per_image_1024": 14.8,
                      "peak_bf16_tflops": args.peak_tflops if device.startswith("cuda") else None,
                      "note": None if device.startswith("cuda") else "not measurable on the CPU: no stated peak"},
        "figures": figures,
    }  # fmt: skip
    return write(data, Path(args.results_dir), name=name, date=date, commit=commit)


def commit_id() -> str:
    """The short commit the figures were measured at ("-dirty": with uncommitted changes)."""
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        or "nocommit"
    )
    if subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode:
        commit += "-dirty"  # figures of uncommitted code
    return commit


def write(data: dict, folder: Path, *, name: str, date, commit: str, prefix: str = "") -> Path:
    """Write one results file, <prefix><date>-<device name>-<commit>.json, and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    path = folder / f"{prefix}{date:%Y-%m-%d}-{slug}-{commit}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def newest(folder: Path = FOLDER) -> Path:
    """The newest train_speed results file (by the date in its name, then by when it was
    written); other benchmarks' files carry a prefix (flux-...) and are not read here."""
    files = sorted(folder.glob("[0-9]*.json"), key=lambda p: (p.name[:10], p.stat().st_mtime))
    if not files:
        raise SystemExit(f"no results in {folder}: run benchmarks/train_speed.py first")
    return files[-1]


def render(data: dict, name: str) -> str:
    """The figures as a Markdown table, with what they were measured on."""

    def cell(value, fmt):
        return "-" if value is None else format(value, fmt)

    lines = [
        f"`{name}`: {data['model']} on {data['device_name']} ({data['device']}), commit {data['commit']}, "
        f"torch {data['versions']['torch']}, diffusers {data['versions']['diffusers']}, {data['date']}",
        "",
        "| loop | batch | res | it/s | img/s | peak GiB | MFU | vs fair |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in data["figures"]:
        sec = f["seconds_per_step"]
        mfu = "not measurable" if data["device"] != "cuda" else cell(f["mfu"], ".1%")
        lines.append(
            f"| {f['label']} | {f['batch']} | {f['resolution']} | {cell(1 / sec if sec else None, '.2f')} | "
            f"{cell(f['images_per_second'], '.2f')} | {cell(f['peak_memory_gib'], '.2f')} | {mfu} | "
            f"{cell(f['vs_fair'], '.2f')}{'x' if f['vs_fair'] else ''} |"
        )
    note = data["mfu_basis"].get("note")
    lines += ["", f"MFU: {data['mfu_basis']['tflop_per_image_1024']:g} TFLOP per image at 1024 px; "
              + (note or f"peak {data['mfu_basis']['peak_bf16_tflops']:g} TFLOP/s bf16 dense") + "."]  # fmt: skip
    return "\n".join(lines)


def write_readme(table: str, readme: Path = ROOT / "README.md") -> None:
    """Replace the text between the markers in README.md with the table."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    readme.write_text(f"{head}{START}\n{table}\n{END}{rest.split(END, 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", default=None, help="a results file [default: the newest]")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()
    path = Path(args.file) if args.file else newest()
    table = render(json.loads(path.read_text()), path.name)
    print(table)
    if args.readme:
        write_readme(table)


if __name__ == "__main__":
    main()
