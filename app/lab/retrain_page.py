"""The lab form pre-filled for "Train again with changes" (/lab?based_on=<job>&<setting>=<value>)."""

from collections.abc import Mapping

from sqlalchemy.orm import Session

from app.auth.models import User
from app.lab import retrain
from app.lab.exceptions import JobNotFound


def prefill(*, db: Session, user: User, query: Mapping[str, str]) -> dict[str, str]:
    """Form values from the based_on job with the query's settings on top; {} without (or with
    someone else's) based_on. `applied` names the settings the query changed."""
    raw = query.get("based_on", "")
    if not raw.isdigit():
        return {}
    overrides = {k: query[k] for k in retrain.SETTINGS if query.get(k)}
    try:
        values = retrain.form_values(db=db, user=user, job_id=int(raw), overrides=overrides)
    except JobNotFound:
        return {}
    before = retrain.settings_of(retrain.base_job(db=db, user=user, job_id=int(raw)))
    applied = [
        f"{retrain.LABELS[k]} {before.get(k)} → {v}" for k, v in overrides.items() if str(before.get(k)) != v
    ]
    values["applied"] = "; ".join(applied)
    return values
