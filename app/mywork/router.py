"""GET /me/work: the learner's own things in one place."""

from fastapi import APIRouter, Request

from app.auth.dependencies import CurrentUser, DbSession
from app.mywork import service
from app.web import render

router = APIRouter()


@router.get("/me/work")
def my_work_page(request: Request, db: DbSession, user: CurrentUser):
    return render(request, "mywork/index.html", service.overview(db=db, user=user))
