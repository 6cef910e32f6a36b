"""Honest scores: each score is a number or null with one sentence saying why, labels in words
with their bands, and nothing measured on the demo base's noise passed off as a judgement.

The tiny demo base (no LORAFACE_BASE_MODEL) has random weights: it draws coloured noise by
design, so no face, no scene and no natural colour can be measured in its pictures."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.evaluate.models import Sweep
from app.lab.models import JobStatus, LoraModel
from app.trainer import sweep_grid, sweep_result

SCORE_NAMES = ("likeness", "copying", "prompt_following", "deep_fried")
LABELS = {
    "likeness": "Likeness",
    "copying": "Copying of training photos",
    "prompt_following": "Prompt following",
    "deep_fried": "Deep-fried colour",
}
BANDS = {  # what each band means per score, in words (thresholds: app/trainer/metrics.py)
    "likeness": "good from 0.50, weak 0.40-0.50, not the same person below 0.40 (higher is better)",
    "copying": "0 for a new picture; near 1 when a training photo is reproduced (lower is better)",
    "prompt_following": "good from 0.60, partly 0.30-0.60, ignored below 0.30 (higher is better)",
    "deep_fried": "natural below 0.35, strong 0.35-0.60, burnt from 0.60 (lower is better)",
}
BAND_WORDS = {"good": "good", "warn": "watch", "bad": "a problem", "unknown": "not measurable"}
DEMO_LINE = (
    "These samples come from the tiny demo base model, which has random weights: they are coloured "
    "noise by design. Point LORAFACE_BASE_MODEL at a real SDXL, SD 1.5 or FLUX.1 checkpoint (a local "
    "diffusers folder or .safetensors file) to see faces."
)
DEMO_REASONS = {
    "likeness": "The demo base draws no faces, so likeness cannot be measured.",
    "copying": "The demo base draws noise, so whether a training photo is copied cannot be judged.",
    "prompt_following": "The demo base draws noise whatever the prompt, so prompt following cannot be measured.",
    "deep_fried": "The demo base draws noise, so its colour says nothing about over-training.",
}


def is_demo(model: LoraModel) -> bool:
    """True when the model was trained on the tiny demo base (no real checkpoint set)."""
    return not model.base_model


def _unknown(name: str, sentence: str) -> dict:
    return {"name": name, "value": None, "band": "unknown", "sentence": sentence, "details": {}}


def honest_result(result: dict, *, demo: bool, folder: Path | None = None) -> dict:
    """A sweep result as stored: on the demo base every score becomes null with its reason, the
    recommendation says why it is only a default, and the grid is drawn again without numbers."""
    if not demo:
        return result
    for cell in result["cells"]:
        cell["scores"] = {n: _unknown(n, DEMO_REASONS[n]) for n in SCORE_NAMES}
    result["per_epoch"] = {
        e: {n: _unknown(n, DEMO_REASONS[n]) for n in SCORE_NAMES} for e in result["per_epoch"]
    }
    result["scores"] = {n: None for n in SCORE_NAMES}
    rec = result["recommendation"]
    rec["reasoning"] = (
        f"No cell can be judged better than another on the demo base (its pictures are noise), so this is "
        f"only the default pick: epoch {rec['epoch']} at strength {rec['strength']:g}."
    )
    rec["acceptable"] = True
    result["demo"] = True
    if folder is not None:
        _redraw_grid(result, folder)
    return result


def _redraw_grid(result: dict, folder: Path) -> None:
    parsed = sweep_result.SweepResult.from_dict(result)
    sweep_grid.draw_grid(parsed, folder).save(folder / parsed.grid)


def latest_sweep(*, db: Session, model: LoraModel) -> Sweep | None:
    """The model's newest sweep."""
    return db.scalar(select(Sweep).where(Sweep.model_id == model.id).order_by(Sweep.id.desc()).limit(1))


def notes_for(*, db: Session, model: LoraModel) -> dict[str, str]:
    """One sentence per score: why it is null, or what the measured value means."""
    sweep = latest_sweep(db=db, model=model)
    if not model.scores:
        return {n: _pending(sweep) for n in SCORE_NAMES}
    cell = _recommended_cell(sweep)
    notes = {}
    for name in SCORE_NAMES:
        score = (cell or {}).get("scores", {}).get(name) or {}
        if model.scores.get(name) is None:
            notes[name] = score.get("sentence") or (
                DEMO_REASONS[name] if is_demo(model) else f"{LABELS[name]} could not be measured."
            )
        else:
            notes[name] = score.get("sentence") or f"{LABELS[name]}: {BANDS[name]}."
    return notes


def _pending(sweep: Sweep | None) -> str:
    if sweep is None:
        return "Not evaluated yet: the evaluation starts when training succeeds."
    if sweep.status == JobStatus.queued:
        return "Not measured yet: the evaluation is waiting for a free worker."
    if sweep.status == JobStatus.running:
        return f"Not measured yet: the evaluation is running ({sweep.done} of {sweep.total} images)."
    if sweep.status == JobStatus.failed:
        return f"Not measured: the evaluation failed ({sweep.error or 'no reason recorded'})."
    return "Not measured: the evaluation ended without scores."


def _recommended_cell(sweep: Sweep | None) -> dict | None:
    if sweep is None or not sweep.result:
        return None
    rec = sweep.result.get("recommendation") or {}
    return next(
        (
            c
            for c in sweep.result.get("cells", [])
            if c["epoch"] == rec.get("epoch") and abs(c["strength"] - rec.get("strength", -1)) < 1e-9
        ),
        None,
    )


def score_rows(*, db: Session, model: LoraModel) -> list[dict]:
    """The Scores card: label, value (or None), band in words, what the bands mean, and the note."""
    notes = notes_for(db=db, model=model)
    cell = _recommended_cell(latest_sweep(db=db, model=model)) or {}
    rows = []
    for name in SCORE_NAMES:
        value = (model.scores or {}).get(name)
        band = (
            ((cell.get("scores") or {}).get(name) or {}).get("band", "unknown")
            if value is not None
            else "unknown"
        )
        rows.append(
            {
                "name": name,
                "label": LABELS[name],
                "value": value,
                "band": band,
                "band_words": BAND_WORDS[band],
                "bands": BANDS[name],
                "note": notes[name],
            }
        )
    return rows
