"""Train again with changes: a new job that starts from one of the learner's jobs, keeps every
setting the learner did not change, and records what changed ({setting: [before, after]})."""

from typing import Any

from sqlalchemy.orm import Session

from app.auth.models import User
from app.lab import exceptions as exc
from app.lab.models import TrainingJob
from app.lab.schemas import JobCreate

SETTINGS = (
    "dataset_id",
    "trigger",
    "class_word",
    "steps",
    "epochs",
    "repeats",
    "batch_size",
    "rank",
    "alpha",
    "learning_rate",
    "resolution",
    "seed",
    "sample_steps",
    "family",
    "flux_mlp",
)
LABELS = {
    "dataset_id": "dataset",
    "trigger": "trigger word",
    "class_word": "class word",
    "steps": "steps",
    "epochs": "epochs",
    "repeats": "repeats",
    "batch_size": "batch size",
    "rank": "rank",
    "alpha": "alpha",
    "learning_rate": "learning rate",
    "resolution": "resolution",
    "seed": "seed",
    "sample_steps": "sample steps",
    "family": "base family",
    "flux_mlp": "LoRA on the FLUX.1 MLPs",
}


def settings_of(job: TrainingJob) -> dict[str, Any]:
    """The job's settings by the names POST /api/jobs takes."""
    c = job.config or {}
    return {
        "dataset_id": job.dataset_id,
        "trigger": c.get("trigger"),
        "class_word": c.get("class_word"),
        "steps": c.get("max_steps"),
        "epochs": None if c.get("max_steps") else c.get("epochs"),
        "repeats": c.get("repeats", 1),
        "batch_size": c.get("batch_size", 1),
        "rank": c.get("rank", 16),
        "alpha": c.get("alpha"),
        "learning_rate": c.get("learning_rate"),
        "resolution": c.get("resolution"),
        "seed": c.get("seed"),
        "sample_steps": c.get("sample_steps", 20),
        "family": job.family or (job.model.family if job.model else None),  # older jobs: their model's
        "flux_mlp": "proj_mlp" in (c.get("target_modules") or ()),  # FLUX_MLP's single-block input
    }


def base_job(*, db: Session, user: User, job_id: int) -> TrainingJob:
    """The learner's job to start from; JobNotFound (404) for anyone else's."""
    job = db.get(TrainingJob, job_id)
    if job is None or job.user_id != user.id:
        raise exc.JobNotFound()
    return job


def resolve(*, db: Session, user: User, data: JobCreate) -> tuple[JobCreate, dict | None]:
    """The full request: based_on's settings under the ones given; and what changed (None: no base)."""
    if data.based_on is None:
        return data, None
    base = settings_of(base_job(db=db, user=user, job_id=data.based_on))
    given = {
        k: getattr(data, k) for k in SETTINGS if k in data.model_fields_set and getattr(data, k) is not None
    }
    merged = {**base, **given}
    if "epochs" in given and "steps" not in given:
        merged["steps"] = None  # a new epoch count replaces the base's step count
    if merged["dataset_id"] is None:
        raise exc.DatasetNotUsable("The dataset of that job was deleted: choose a dataset (dataset_id).")
    full = JobCreate.model_validate(
        {**{k: v for k, v in merged.items() if v is not None}, "based_on": data.based_on}
    )
    return full, changes(base, {k: getattr(full, k) for k in SETTINGS})


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """{setting: [before, after]} for every setting that differs (numbers compared as numbers)."""
    out = {}
    for key in SETTINGS:
        old, new = before.get(key), after.get(key)
        if key == "alpha" and new is None:
            new = after.get("rank")
        same = old == new or (
            isinstance(old, int | float)
            and isinstance(new, int | float)
            and abs(float(old) - float(new)) < 1e-12
        )
        if not same:
            out[key] = [old, new]
    return out


def form_values(*, db: Session, user: User, job_id: int, overrides: dict[str, str]) -> dict[str, str]:
    """The lab form pre-filled from the job, with overrides (a suggestion applied) on top."""
    base = settings_of(base_job(db=db, user=user, job_id=job_id))
    values = {k: "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for k, v in base.items()}
    values.update({k: v for k, v in overrides.items() if k in SETTINGS and v not in (None, "")})
    if overrides.get("epochs") and not overrides.get("steps"):
        values["steps"] = ""
    values["based_on"] = str(job_id)
    return values


def describe(changed: dict | None) -> list[str]:
    """Each change as words, e.g. "learning rate 0.0001 -> 0.0002"."""
    return [f"{LABELS.get(k, k)} {_fmt(old)} → {_fmt(new)}" for k, (old, new) in (changed or {}).items()]


def _fmt(value: Any) -> str:
    if value is None:
        return "default"
    return f"{value:g}" if isinstance(value, float) else str(value)
