"""The course: node map, lesson pages with their checks, glossary, articles, and the JSON API."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.dependencies import CurrentUser, DbSession, OptionalUser
from app.lessons import catalog, service, tools
from app.lessons.dependencies import FormAnswers, KnownTool, UnlockedLesson
from app.lessons.exceptions import ArticleNotFound, LessonLocked
from app.lessons.schemas import LessonOut, LessonSummaryOut, ProgressOut, TermOut, TokenizeOut
from app.quiz import service as quiz_service
from app.quiz.models import Attempt
from app.quiz.schemas import AttemptOut, CheckIn, CheckOut, QuestionOut
from app.web import render

router = APIRouter()


# ---- JSON API ----


@router.get("/api/lessons", response_model=list[LessonSummaryOut])
def api_lessons(db: DbSession, user: CurrentUser):
    return [LessonSummaryOut.of(n) for n in service.nodes(db=db, user_id=user.id)]


@router.get("/api/lessons/{number}", response_model=LessonOut)
def api_lesson(lesson: UnlockedLesson, db: DbSession, user: CurrentUser):
    passed = service.has_passed(db=db, user_id=user.id, number=lesson.number)
    pass_mark = quiz_service.get_pass_mark(db=db, lesson_number=lesson.number)
    return LessonOut.of(lesson, passed=passed, pass_mark=pass_mark)


@router.get("/api/lessons/{number}/check", response_model=CheckOut)
def api_check(lesson: UnlockedLesson, db: DbSession, user: CurrentUser):
    questions, orders = service.check_for(db=db, user_id=user.id, number=lesson.number)
    pass_mark = quiz_service.get_pass_mark(db=db, lesson_number=lesson.number)
    shown = [QuestionOut.of(q, choices=orders[q.id]) for q in questions]
    return CheckOut(lesson=lesson.number, pass_mark=pass_mark, questions=shown)


@router.post("/api/lessons/{number}/check", response_model=AttemptOut)
def api_submit_check(lesson: UnlockedLesson, body: CheckIn, db: DbSession, user: CurrentUser):
    attempt = service.submit_check(db=db, user_id=user.id, number=lesson.number, answers=body.as_ids())
    db.commit()
    return AttemptOut.of(attempt)


@router.get("/api/progress", response_model=ProgressOut)
def api_progress(db: DbSession, user: CurrentUser):
    return ProgressOut.of(service.progress(db=db, user_id=user.id))


@router.get("/api/glossary", response_model=list[TermOut])
def api_glossary(q: str = ""):
    return [TermOut.of(t) for t in catalog.search_glossary(q)]


@router.get("/api/tokenize", response_model=TokenizeOut)
def api_tokenize(
    text: Annotated[str, Query(max_length=200)], base: Annotated[str, Query(max_length=10)] = "sdxl"
):
    return TokenizeOut.of(tools.tokenize(text=text, base=base))


# ---- pages ----


@router.get("/lessons/tools/{name}")
def tool_page(request: Request, name: KnownTool):
    """A lesson tool on its own page (the no-JavaScript path), or just its result for htmx."""
    run = tools.run_tool(name, dict(request.query_params))
    context = {"tool": name, "run": run, "lesson": catalog.lesson(tools.TOOL_LESSONS[name])}
    return render(
        request, "lessons/tool.html", context, block="result", status_code=400 if run.error else 200
    )


@router.get("/lessons")
def track_page(request: Request, db: DbSession, user: OptionalUser):
    nodes = service.nodes(db=db, user_id=user.id if user else None)
    progress = service.progress(db=db, user_id=user.id) if user else service.progress_of(set())
    return render(request, "lessons/track.html", {"nodes": nodes, "progress": progress})


def _lesson_context(
    db, user, lesson, *, attempt: Attempt | None = None, passed: set[int] | None = None
) -> dict:
    if passed is None:
        passed = service.passed_numbers(db=db, user_id=user.id)
    questions, orders = service.check_for(db=db, user_id=user.id, number=lesson.number)
    return {
        "lesson": lesson,
        # the trigger checker waits for a trigger: loading a tokenizer for an empty box is waste
        "tools": {
            name: tools.run_tool(name, {}, compute=name != "trigger")
            for kind, name in lesson.parts
            if kind == "tool"
        },
        "nodes": service.nodes(db=db, user_id=user.id, passed=passed),
        "progress": service.progress_of(passed),
        "questions": questions,
        "orders": orders,
        "pass_mark": quiz_service.get_pass_mark(db=db, lesson_number=lesson.number),
        "summary": quiz_service.attempt_summary(db=db, user_id=user.id, lesson_number=lesson.number),
        "attempt": attempt,
        "results": {a.question_id: a for a in attempt.answers} if attempt else {},
        "previous": catalog.lesson(lesson.number - 1),
        "next": catalog.lesson(lesson.number + 1),
        "next_unlocked": service.is_unlocked(lesson.number + 1, passed),
    }


@router.get("/lessons/{number}")
def lesson_page(request: Request, number: int, db: DbSession, user: CurrentUser):
    passed = service.passed_numbers(db=db, user_id=user.id)  # once per page, not per part of it
    try:
        lesson = service.open_lesson(db=db, user_id=user.id, number=number, passed=passed)
    except LessonLocked as locked:
        context = {"message": locked.detail, "previous": catalog.lesson(locked.previous)}
        return render(request, "lessons/locked.html", context, status_code=403)
    return render(request, "lessons/lesson.html", _lesson_context(db, user, lesson, passed=passed))


@router.post("/lessons/{number}/check")
def submit_check_page(
    request: Request, lesson: UnlockedLesson, answers: FormAnswers, db: DbSession, user: CurrentUser
):
    attempt = service.submit_check(db=db, user_id=user.id, number=lesson.number, answers=answers)
    db.commit()
    return render(
        request, "lessons/lesson.html", _lesson_context(db, user, lesson, attempt=attempt), block="check"
    )


@router.get("/glossary")
def glossary_page(request: Request, q: str = ""):
    context = {
        "terms": catalog.search_glossary(q),
        "q": q,
        "total": len(catalog.glossary()),
        "lesson_titles": {lesson.number: lesson.title for lesson in catalog.lessons()},
    }
    return render(request, "lessons/glossary.html", context, block="results")


@router.get("/articles/{slug}")
def article_page(request: Request, slug: str):
    article = catalog.article(slug)
    if article is None:
        raise ArticleNotFound(slug)
    return render(request, "lessons/article.html", {"article": article, "lesson": catalog.lesson(8)})
