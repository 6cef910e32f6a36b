"""/models/compare for people and GET /api/models/compare for scripts."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.dependencies import CurrentUser, DbSession
from app.evaluate import compare, score_notes
from app.lab import retrain
from app.web import render

router = APIRouter()
IdsQuery = Annotated[str, Query(max_length=100)]


@router.get("/api/models/compare")
def api_compare(db: DbSession, user: CurrentUser, ids: IdsQuery = ""):
    models = compare.viewable_models(db=db, user=user, ids=compare.parse_ids(ids))
    return compare.compare(db=db, models=models)


@router.get("/models/compare")
def compare_page(request: Request, db: DbSession, user: CurrentUser):
    ids = ",".join(request.query_params.getlist("ids"))  # ids=1,2 or the form's ids=1&ids=2
    models = compare.viewable_models(db=db, user=user, ids=compare.parse_ids(ids))
    curves, box = compare.overlaid_curves(models)
    ctx = {
        "data": compare.compare(db=db, models=models),
        "curves": curves,
        "box": box,
        "labels": retrain.LABELS,
        "score_labels": score_notes.LABELS,
        "demo": any(score_notes.is_demo(m) for m in models),
        "choices": compare.choices(db=db, user=user),
        "chosen": {m.id for m in models},
    }
    return render(request, "evaluate/compare.html", ctx)
