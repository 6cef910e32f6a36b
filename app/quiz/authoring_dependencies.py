"""Load-or-refuse dependencies for quiz authoring: the instructor gate, lessons, questions, GIFT bodies."""

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from app.auth.dependencies import DbSession, require_role
from app.auth.models import Role, User
from app.errors import PayloadTooLarge
from app.lessons import service as lessons_service
from app.lessons.catalog import Lesson
from app.quiz import authoring
from app.quiz.models import Question

MAX_GIFT_BYTES = 1024 * 1024  # a lesson's check is a few kB; parsing 1 MB takes about 4 s

Instructor = Annotated[User, Depends(require_role(Role.instructor))]


def lesson_in_path(number: Annotated[int, Path(description="lesson number, 1 to 8")]) -> Lesson:
    """The lesson named in the path, or 404."""
    return lessons_service.get_lesson(number)


def lesson_in_query(lesson: Annotated[int, Query(description="lesson number, 1 to 8")]) -> Lesson:
    """The lesson named by ?lesson=N, or 404."""
    return lessons_service.get_lesson(lesson)


PathLesson = Annotated[Lesson, Depends(lesson_in_path)]
QueryLesson = Annotated[Lesson, Depends(lesson_in_query)]


def live_question(question_id: int, db: DbSession) -> Question:
    """A question that is still part of its check, or 404."""
    return authoring.get_question(db=db, question_id=question_id)


LiveQuestion = Annotated[Question, Depends(live_question)]


async def gift_body(request: Request) -> bytes:
    """A GIFT file sent as the request body or as the multipart field `file` (or `text`)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data") or content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        form = await request.form()
        upload = form.get("file")
        if upload is not None and not isinstance(upload, str) and upload.filename:
            data = await upload.read()
        else:
            text = form.get("text")
            data = text.encode() if isinstance(text, str) else b""
    else:
        data = await request.body()
    if len(data) > MAX_GIFT_BYTES:
        raise PayloadTooLarge(f"A GIFT file may be at most {MAX_GIFT_BYTES // (1024 * 1024)} MB.")
    return data


GiftBody = Annotated[bytes, Depends(gift_body)]
