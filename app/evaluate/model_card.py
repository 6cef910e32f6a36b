"""The model page's evaluation card: live status of the automatic sweep, honest scores, the
recommendation, what to change next and the "Train again with changes" links."""

from urllib.parse import urlencode

from sqlalchemy.orm import Session

from app.evaluate import score_notes
from app.lab.models import LoraModel
from app.trainer import suggest


def retrain_url(job_id: int, changes: dict | None = None) -> str:
    """The lab form pre-filled from the job, with a suggestion's settings applied."""
    return "/lab?" + urlencode({"based_on": job_id, **(changes or {})})


def suggestions(*, db: Session, model: LoraModel) -> list[dict]:
    """One or two changes to try next, each with its lesson and a link that applies it."""
    sweep = score_notes.latest_sweep(db=db, model=model)
    result = sweep.result if sweep is not None and not (sweep.result or {}).get("demo") else None
    return [
        {**s.to_dict(), "url": retrain_url(model.job_id, s.changes)}
        for s in suggest.suggest(result, model.config or {})
    ]


def context(*, db: Session, model: LoraModel) -> dict:
    """Everything the card shows."""
    sweep = score_notes.latest_sweep(db=db, model=model)
    return {
        "demo": score_notes.is_demo(model),
        "demo_line": score_notes.DEMO_LINE,
        "score_rows": score_notes.score_rows(db=db, model=model),
        "eval_sweep": sweep,
        "live": sweep is not None and not sweep.status.is_final,
        "suggestions": suggestions(db=db, model=model),
        "retrain_url": retrain_url(model.job_id),
    }
