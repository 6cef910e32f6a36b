"""Freezing a submission: when a learner submits, the model's LoRA file, samples, newest sweep
row and the list of its training crops are copied into the submission's own folder, so later
retention or deletion in the lab cannot change what reviewers see."""

import json
import shutil
import struct
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.evaluate.models import Sweep
from app.lab import paths
from app.lab.models import JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from app.review import exceptions as review_exceptions
from app.review.models import Submission

MAX_HEADER = 100 * 1024 * 1024  # a safetensors JSON header larger than this is not a LoRA


def freeze_submission(
    *,
    db: Session,
    settings: Settings,
    submission: Submission,
    model: LoraModel,
    chosen: LoraModelEpoch,
    epochs: list[LoraModelEpoch],
) -> None:
    """Copy the chosen epoch's LoRA file and the evidence into the submission's own folder and
    record them on the row (folder, LoRA file, settings, snapshot); a failure leaves no file."""
    submission.folder = str(paths.submission_folder(submission.user_id, submission.id))
    target = settings.data_dir / submission.folder
    try:
        submission.lora_file, submission.settings = _freeze_lora(settings, model, chosen, target)
        submission.snapshot = _snapshot(db, settings, model, chosen, epochs, target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # nothing half-written stays behind
        raise


def read_safetensors_metadata(path: Path) -> dict[str, str]:
    """The `__metadata__` strings of a .safetensors file, read from its JSON header (no torch)."""
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            return {}
        (length,) = struct.unpack("<Q", raw)
        if length > MAX_HEADER:
            return {}
        header = json.loads(fh.read(length) or b"{}")
    meta = header.get("__metadata__") or {}
    return {str(k): str(v) for k, v in meta.items()}


def training_settings(metadata: dict[str, str]) -> dict[str, str]:
    """The kohya `ss_*` keys: what the reviewer reads as the training settings."""
    return {k: v for k, v in sorted(metadata.items()) if k.startswith("ss_")}


def _source(settings: Settings, relative: str | None) -> Path | None:
    if not relative:
        return None
    path = (settings.data_dir / relative).resolve()
    if not path.is_relative_to(settings.data_dir.resolve()) or not path.is_file():
        return None
    return path


def _freeze_lora(settings: Settings, model: LoraModel, row: LoraModelEpoch, target: Path) -> tuple[str, dict]:
    """The epoch's kohya file (it carries the ss_* settings); the diffusers file of a model
    without one (FLUX.1)."""
    kohya = bool(row.kohya_path)
    source = _source(settings, row.kohya_path if kohya else row.diffusers_path)
    if source is None:
        raise review_exceptions.LoraFileMissing(row.epoch)
    name = f"{model.name}-e{row.epoch:03d}{'' if kohya else '_diffusers'}.safetensors"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / name)
    return name, training_settings(read_safetensors_metadata(target / name))


def _copy(settings: Settings, relative: str | None, target: Path, name: str) -> str | None:
    """Copy one evidence file into the submission folder; None when it is gone."""
    source = _source(settings, relative)
    if source is None:
        return None
    (target / name).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / name)
    return name


def _snapshot(db, settings, model: LoraModel, chosen: LoraModelEpoch, rows, target: Path) -> dict[str, Any]:
    samples = []
    for r in rows:
        name = _copy(settings, r.sample_path, target, f"samples/epoch-{r.epoch:03d}.png")
        if name:
            samples.append({"epoch": r.epoch, "file": name, "loss": r.loss, "step": r.step})
    job = db.get(TrainingJob, model.job_id)
    return {
        "model": {
            "name": model.name,
            "trigger": model.trigger,
            "class_word": model.class_word,
            "family": model.family,
            "base_model": model.base_model,  # None: the tiny demo base (its samples are noise)
            "steps": model.steps,
            "final_loss": model.final_loss,
            "job_id": model.job_id,
            "epochs": [r.epoch for r in rows],
        },
        "epoch": {"epoch": chosen.epoch, "step": chosen.step, "loss": chosen.loss},
        "scores": model.scores,
        "recommended_epoch": model.recommended_epoch,
        "recommended_strength": model.recommended_strength,
        "samples": samples,
        "crops": _training_crops(settings, job) if job else [],
        "sweep": _freeze_sweep(db, settings, model, chosen.epoch, target),
    }


def _training_crops(settings: Settings, job: TrainingJob) -> list[dict[str, str]]:
    """The crops the LoRA was trained on: the job's prepared inputs (exactly what the trainer saw),
    else the dataset crops its snapshot names; captions from the snapshot."""
    captions = [im.get("caption", "") for im in job.images or []]
    inputs = sorted(paths.job_inputs_dir(settings.data_dir, job.user_id, job.id).glob("*.png"))
    if inputs:
        crops = [str(p.relative_to(settings.data_dir)) for p in inputs]
    else:
        crops = [im.get("path", "") for im in job.images or []]
    return [{"path": p, "caption": captions[i] if i < len(captions) else ""} for i, p in enumerate(crops)]


def _freeze_sweep(db, settings: Settings, model: LoraModel, epoch: int, target: Path) -> dict | None:
    """The newest finished sweep's grid, base images and the submitted epoch's row, copied."""
    sweep = db.scalar(
        select(Sweep)
        .join(TrainingJob, TrainingJob.id == Sweep.job_id)
        .where(Sweep.model_id == model.id, TrainingJob.status == JobStatus.succeeded)
        .order_by(Sweep.id.desc())
        .limit(1)
    )
    if sweep is None or not sweep.result:
        return None
    result = sweep.result

    def copy(name: str) -> str | None:
        return _copy(settings, str(Path(sweep.folder) / name), target, f"sweep/{name}")

    row = [
        {"strength": c["strength"], "images": [n for n in map(copy, c["images"]) if n], "scores": c["scores"]}
        for c in result.get("cells", [])
        if c["epoch"] == epoch
    ]
    rec = result.get("recommendation") or {}
    return {
        "id": sweep.id,
        "seed": result.get("seed"),
        "steps": result.get("steps"),
        "prompts": result.get("prompts", []),
        "epochs": result.get("epochs", []),
        "strengths": result.get("strengths", []),
        "recommendation": rec,
        "grid": copy(result.get("grid", "grid.png")),
        "base_images": [n for n in map(copy, result.get("base_images", [])) if n],
        "row": sorted(row, key=lambda c: c["strength"]),
        "epoch_scores": (result.get("per_epoch") or {}).get(str(epoch)),
        "hint_strength": rec.get("strength", 0.8) if rec.get("epoch") == epoch else 0.8,
    }
