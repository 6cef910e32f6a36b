"""Compare runs side by side: up to four of a learner's models (for reviewers, models that were
submitted for review), their settings with the differences marked, their loss curves in one
chart, the same sweep cell (prompt, seed, strength) per run, and their scores."""

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.errors import DomainError
from app.evaluate import score_notes
from app.lab import retrain
from app.lab.charts import HEIGHT, PAD, WIDTH, moving_average
from app.lab.exceptions import ModelNotFound
from app.lab.models import LoraModel
from app.review.models import Submission

MAX_MODELS = 4
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")  # one per run, in order
CELL_STRENGTH = 0.8  # lesson 8's default strength; each run shows its sweep cell nearest to it


class BadIds(DomainError):
    """A bad ids list: a 400 (422 is kept for the schema's own validation errors)."""

    status_code = 400


def parse_ids(raw: str) -> list[int]:
    """ "1,2,3" -> [1, 2, 3]: one to four distinct model ids."""
    try:
        ids = list(dict.fromkeys(int(part) for part in raw.split(",") if part.strip()))
    except ValueError:
        raise BadIds("ids must be model numbers separated by commas, e.g. ids=1,2") from None
    if not 1 <= len(ids) <= MAX_MODELS:
        raise BadIds(f"compare one to {MAX_MODELS} models (ids=1,2)")
    return ids


def viewable_models(*, db: Session, user: User, ids: list[int]) -> list[LoraModel]:
    """The models in the asked order; ModelNotFound (404) if any is not the user's (reviewers:
    not a submitted model)."""
    models = []
    for model_id in ids:
        model = db.get(LoraModel, model_id)
        submitted = model is not None and db.scalar(
            select(Submission.id).where(Submission.model_id == model.id).limit(1)
        )
        if model is None or not (model.user_id == user.id or (user.has_role(Role.reviewer) and submitted)):
            raise ModelNotFound()
        models.append(model)
    return models


def differences(models: list[LoraModel]) -> list[dict]:
    """[{setting, label, values}] for each setting that is not the same in every run."""
    table = [retrain.settings_of(m.job) for m in models]
    return [
        {"setting": key, "label": retrain.LABELS[key], "values": [row[key] for row in table]}
        for key in retrain.SETTINGS
        if len({repr(row[key]) for row in table}) > 1
    ]


def same_cell(*, db: Session, model: LoraModel, strength: float = CELL_STRENGTH) -> dict | None:
    """The run's sweep cell at its last swept epoch and the strength nearest `strength`, first prompt."""
    sweep = score_notes.latest_sweep(db=db, model=model)
    if sweep is None or not sweep.result:
        return None
    result = sweep.result
    last = max(result["epochs"])
    cells = [c for c in result["cells"] if c["epoch"] == last]
    cell = min(cells, key=lambda c: abs(c["strength"] - strength))
    return {
        "epoch": last,
        "strength": cell["strength"],
        "seed": result["seed"],
        "prompt": result["prompts"][0],
        "image_url": f"/api/sweeps/{sweep.id}/images/{cell['images'][0]}",
    }


@dataclass(frozen=True)
class Curve:
    colour: str
    points: str
    label: str


def overlaid_curves(models: list[LoraModel]) -> tuple[list[Curve], dict]:
    """Each run's smoothed loss on one shared scale (steps on x, loss on y)."""
    series = []
    for m in models:
        pts = [(int(s), float(v)) for s, v in (m.job.losses or []) if v is not None and math.isfinite(v)]
        if len(pts) >= 2:
            smooth = moving_average([v for _, v in pts], max(1, len(pts) // 20))
            series.append((m, [(s, v) for (s, _), v in zip(pts, smooth, strict=True)]))
    if not series:
        return [], {}
    lo = min(v for _, pts in series for _, v in pts)
    hi = max(v for _, pts in series for _, v in pts)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    x_max = max(max(m.steps, pts[-1][0]) for m, pts in series)

    def xy(step: int, value: float) -> str:
        x = PAD + (WIDTH - 2 * PAD) * step / x_max
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - lo) / (hi - lo)
        return f"{x:.1f},{y:.1f}"

    colour = {m.id: COLOURS[i] for i, m in enumerate(models)}
    curves = [
        Curve(colour[m.id], " ".join(xy(s, v) for s, v in pts), f"#{m.id} {m.name}") for m, pts in series
    ]
    return curves, {"width": WIDTH, "height": HEIGHT, "lo": lo, "hi": hi, "x_max": x_max}


def compare(*, db: Session, models: list[LoraModel]) -> dict:
    """The JSON of GET /api/models/compare: each run and the settings that differ."""
    return {
        "models": [
            {
                "id": m.id,
                "name": m.name,
                "job_id": m.job_id,
                "based_on": m.job.based_on_id,
                "steps": m.steps,
                "final_loss": m.final_loss,
                "settings": retrain.settings_of(m.job),
                "scores": m.scores,
                "score_notes": score_notes.notes_for(db=db, model=m),
                "recommended_epoch": m.recommended_epoch,
                "recommended_strength": m.recommended_strength,
                "cell": same_cell(db=db, model=m),
                "colour": COLOURS[i],
            }
            for i, m in enumerate(models)
        ],
        "differences": differences(models),
    }


def choices(*, db: Session, user: User, limit: int = 20) -> list[LoraModel]:
    """The user's own models, newest first, to pick runs to compare."""
    return list(
        db.scalars(
            select(LoraModel).where(LoraModel.user_id == user.id).order_by(LoraModel.id.desc()).limit(limit)
        )
    )
