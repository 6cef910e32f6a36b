"""What a run leaves in its output folder and how it is read back: per-epoch folders and file
names, the outcome of a run, and the atomic copy every final file goes through."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.trainer import export
from app.trainer.config import TrainConfig
from app.trainer.loop import EpochResult


@dataclass(frozen=True)
class TrainingOutcome:
    lora_path: Path  # diffusers format of the last epoch: out_dir/diffusers/pytorch_lora_weights.safetensors
    kohya_path: Path | None  # kohya/webui format of the last epoch: out_dir/<name>.safetensors (FLUX: None)
    epochs: list[EpochResult]  # every exported epoch, including those before a resume
    steps: int
    final_loss: float
    config: TrainConfig
    family: str  # "sdxl", "sd15" or "flux"
    losses: list[float]  # one per step
    kohya_note: str | None = None  # why there is no kohya file (FLUX.1 bases other than the full size)


def epoch_dir(out_dir: Path, epoch: int) -> Path:
    """Where one epoch's exported files live."""
    return out_dir / "epochs" / f"{epoch:03d}"


def kohya_name(cfg: TrainConfig, epoch: int) -> str:
    """File name of one epoch's kohya file (webui lists it as <name>-<epoch>)."""
    return f"{cfg.name}-{epoch:03d}.safetensors"


def saved_epochs(out_dir: Path, cfg: TrainConfig) -> list[EpochResult]:
    """Every exported epoch on disk, in order (a resumed run also lists those before the crash)."""
    results = []
    for folder in sorted((out_dir / "epochs").glob("[0-9][0-9][0-9]")):
        info_path = folder / "epoch.json"
        if not info_path.exists():
            continue
        info = json.loads(info_path.read_text())
        results.append(
            EpochResult(
                epoch=info["epoch"],
                step=info["step"],
                lora_path=folder / export.DIFFUSERS_WEIGHT_NAME,
                kohya_path=folder / kohya_name(cfg, info["epoch"]),
                sample_paths=[out_dir / p for p in info["samples"]],
                loss=info["loss"],
            )
        )
    return results


def copy_atomic(source: Path, target: Path) -> Path:
    """Copy beside the target and rename over it: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target
