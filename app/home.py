"""The home page and the health check."""

from fastapi import APIRouter, Request

from app.auth.dependencies import DbSession, OptionalUser
from app.lessons import service as lessons_service
from app.web import render

router = APIRouter()


@router.get("/healthz")
def healthz():
    return {"status": "ok"}


@router.get("/")
def home(request: Request, db: DbSession, user: OptionalUser):
    context = {}
    if user:
        context["progress"] = lessons_service.progress(db=db, user_id=user.id)
        context["nodes"] = lessons_service.nodes(db=db, user_id=user.id)
    return render(request, "home.html", context)
