"""Starting settings by GPU memory: each preset is a set of TrainConfig values and a description.

A preset fills only what the learner leaves unset: `loraface train --preset NAME --rank 8` trains
at rank 8 with the rest of the preset. Each preset's peak memory is read from a measured run in
benchmarks/results/ (full-size base on a GPU); without one it says so and shows no figure."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingError

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
NOT_MEASURED = "not measured yet (no GPU run)"
API_NAMES = {
    "max_steps": "steps"
}  # TrainConfig fields that `loraface train` and POST /api/jobs name otherwise


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # one sentence for the learner: which card, what it trades
    family: str | None  # the base family it is made for ("sdxl", "sd15", "flux"); None: any
    values: dict  # TrainConfig fields


PRESETS = {
    p.name: p
    for p in (
        Preset(
            name="SDXL face, 24 GB",
            description="SDXL at 1024 px on a 24 GB card (RTX 3090/4090): batch 2, standard AdamW, no recomputation.",
            family="sdxl",
            values={
                "resolution": 1024,
                "batch_size": 2,
                "rank": 16,
                "alpha": 16.0,
                "learning_rate": 1e-4,
                "optimizer": "adamw",
                "gradient_checkpointing": False,
                "vae_tiling": False,
                "buckets": True,
            },
        ),
        Preset(
            name="SDXL face, 12 GB",
            description=(
                "SDXL at 1024 px on a 12-16 GB card: batch 1, gradient checkpointing (about 30% slower), "
                "8-bit AdamW and the VAE in tiles."
            ),
            family="sdxl",
            values={
                "resolution": 1024,
                "batch_size": 1,
                "rank": 16,
                "alpha": 16.0,
                "learning_rate": 1e-4,
                "optimizer": "adamw8bit",
                "gradient_checkpointing": True,
                "vae_tiling": True,
                "buckets": True,
            },
        ),
        Preset(
            name="SD 1.5 face, 8 GB",
            description="SD 1.5 at 512 px on an 8 GB card: batch 1, gradient checkpointing, square crops.",
            family="sd15",
            values={
                "resolution": 512,
                "batch_size": 1,
                "rank": 16,
                "alpha": 16.0,
                "learning_rate": 1e-4,
                "optimizer": "adamw",
                "gradient_checkpointing": True,
                "vae_tiling": False,
                "buckets": False,
            },
        ),
        Preset(
            name="FLUX.1 face, 24 GB",
            description=(
                "FLUX.1 at 1024 px on a 24 GB card: the frozen transformer stored in fp8 (half the "
                "memory of bf16), gradient checkpointing, 8-bit AdamW, batch 1."
            ),
            family="flux",
            values={
                "resolution": 1024,
                "batch_size": 1,
                "rank": 16,
                "alpha": 16.0,
                "learning_rate": 1e-4,
                "optimizer": "adamw8bit",
                "gradient_checkpointing": True,
                "base_precision": "fp8",
                "buckets": False,
            },
        ),
        Preset(
            name="FLUX.1 face, 80 GB",
            description=(
                "FLUX.1 at 1024 px on an 80 GB card (A100, H100): the transformer in bf16, standard "
                "AdamW, no recomputation, batch 1."
            ),
            family="flux",
            values={
                "resolution": 1024,
                "batch_size": 1,
                "rank": 16,
                "alpha": 16.0,
                "learning_rate": 1e-4,
                "optimizer": "adamw",
                "gradient_checkpointing": False,
                "base_precision": "bf16",
                "buckets": False,
            },
        ),
        Preset(
            name="Demo (CPU)",
            description="The tiny demo base on the CPU: 128 px, rank 4, 12 steps; it shows the pipeline, not a likeness.",
            family=None,
            values={
                "resolution": 128,
                "batch_size": 1,
                "rank": 4,
                "alpha": 4.0,
                "learning_rate": 1e-3,
                "max_steps": 12,
                "epochs": None,
                "optimizer": "adamw",
                "sample_steps": 8,
                "buckets": False,
            },
        ),
    )
}


def get(name: str) -> Preset:
    """The preset of that name, or a TrainingError listing the names there are."""
    if name not in PRESETS:
        raise TrainingError(f"unknown preset {name!r}: use one of {', '.join(repr(n) for n in PRESETS)}")
    return PRESETS[name]


def unset_values(name: str, given: Iterable[str]) -> dict:
    """The preset's TrainConfig values for the fields not in `given` (TrainConfig names). Steps and
    epochs go together (either given: neither comes from the preset); an alpha follows a given rank."""
    given = set(given)
    if given & {"max_steps", "epochs"}:
        given |= {"max_steps", "epochs"}
    if "rank" in given:
        given.add("alpha")  # the usual alpha = rank, not the preset's alpha for another rank
    return {k: v for k, v in get(name).values.items() if k not in given}


def apply(cfg: TrainConfig, given: Iterable[str], family: str | None = None) -> TrainConfig:
    """cfg with its preset's values in every field not in `given`; a base of another family is an error."""
    if not cfg.preset:
        return cfg
    preset = get(cfg.preset)
    if family and preset.family and preset.family != family:
        raise TrainingError(f"the preset {preset.name!r} is for {preset.family} bases; this base is {family}")
    return replace(cfg, **unset_values(cfg.preset, given))


def measured_peak(name: str, folder: Path = RESULTS) -> dict | None:
    """The newest GPU measurement of the preset's peak memory in the results files
    (benchmarks/preset_memory.py writes {"presets": {name: {"peak_memory_gib": ...}}} under
    results/presets/), with the file and device; None if none."""
    files = (
        sorted(folder.rglob("*.json"), key=lambda p: (p.name[:10], p.stat().st_mtime))
        if folder.is_dir()
        else []
    )
    for path in reversed(files):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        figure = (data.get("presets") or {}).get(name) or {}
        if str(data.get("device", "")).startswith("cuda") and figure.get("peak_memory_gib") is not None:
            return {
                "peak_memory_gib": figure["peak_memory_gib"],
                "device": data.get("device_name"),
                "file": path.name,
            }
    return None


def peak_memory_text(name: str, folder: Path = RESULTS) -> str:
    """The preset's measured peak memory in words, or that it has not been measured."""
    found = measured_peak(name, folder)
    if found is None:
        return NOT_MEASURED
    return f"{found['peak_memory_gib']:.1f} GiB peak on {found['device']} ({found['file']})"


def catalogue(folder: Path = RESULTS) -> list[dict]:
    """Every preset for a form or an API: name, description, family, values, peak memory."""
    return [
        {
            "name": p.name,
            "description": p.description,
            "family": p.family,
            "values": dict(p.values),
            "peak_memory": peak_memory_text(p.name, folder),
            "peak_memory_gib": (measured_peak(p.name, folder) or {}).get("peak_memory_gib"),
        }
        for p in PRESETS.values()
    ]
