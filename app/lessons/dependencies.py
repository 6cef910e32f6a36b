"""Load-or-refuse dependencies for lesson routes."""

from typing import Annotated

from fastapi import Depends, Path, Request

from app.auth.dependencies import CurrentUser, DbSession
from app.lessons import service, tools
from app.lessons.catalog import Lesson
from app.lessons.exceptions import ToolNotFound
from app.quiz.exceptions import InvalidAnswers


def unlocked_lesson(
    db: DbSession, user: CurrentUser, number: Annotated[int, Path(description="1 to 8")]
) -> Lesson:
    """The lesson if it exists (404) and the user has unlocked it (403 naming the lesson to pass)."""
    return service.open_lesson(db=db, user_id=user.id, number=number)


UnlockedLesson = Annotated[Lesson, Depends(unlocked_lesson)]


async def check_form_answers(request: Request) -> dict[int, list[int]]:
    """Answers from the check form: fields `q<question id>` holding choice ids."""
    form = await request.form()
    answers: dict[int, list[int]] = {}
    for key, value in form.multi_items():
        if not key.startswith("q"):
            continue
        if not key[1:].isdigit() or not isinstance(value, str) or not value.isdigit():
            raise InvalidAnswers("The answers in the form are not valid; reload the page and try again.")
        answers.setdefault(int(key[1:]), []).append(int(value))
    return answers


FormAnswers = Annotated[dict[int, list[int]], Depends(check_form_answers)]


def known_tool(name: Annotated[str, Path(description="steps, alpha or trigger")]) -> str:
    """A lesson tool's name (404 for any other)."""
    if name not in tools.TOOL_LESSONS:
        raise ToolNotFound(name)
    return name


KnownTool = Annotated[str, Depends(known_tool)]
