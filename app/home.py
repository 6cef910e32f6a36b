"""The home page and the health check."""

from fastapi import APIRouter, Request

from app.auth.dependencies import OptionalUser
from app.web import render

router = APIRouter()


@router.get("/healthz")
def healthz():
    return {"status": "ok"}


@router.get("/")
def home(request: Request, user: OptionalUser):
    return render(request, "home.html", {})
