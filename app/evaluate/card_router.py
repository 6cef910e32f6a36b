"""The model page's evaluation card as a fragment (htmx polls it while the sweep runs)."""

from fastapi import APIRouter, Request

from app.auth.dependencies import CurrentUser, DbSession
from app.evaluate import model_card
from app.lab.dependencies import ViewableModel
from app.web import render

router = APIRouter()


@router.get("/models/{model_id}/evaluation")
def evaluation_card(request: Request, model: ViewableModel, db: DbSession, user: CurrentUser):
    ctx = {"model": model, "is_owner": model.user_id == user.id, **model_card.context(db=db, model=model)}
    return render(request, "evaluate/_evaluation.html", ctx)
