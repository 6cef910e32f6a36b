"""Quiz authoring over HTTP: the question bank API, GIFT in and out, statistics, and the
instructor pages under /instructor. Only instructors and admins get past the router's gate."""

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from app.auth.dependencies import DbSession, require_role
from app.auth.models import Role
from app.dependencies import SettingsDep, app_settings
from app.errors import NotFound
from app.lessons import catalog
from app.lessons.catalog import Lesson
from app.lessons.dependencies import FormAnswers
from app.quiz import authoring, authoring_forms, images, preview, stats
from app.quiz import service as quiz_service
from app.quiz.authoring_dependencies import GiftBody, LiveQuestion, PathLesson, QueryLesson
from app.quiz.authoring_errors import GiftImportFailed
from app.quiz.authoring_schemas import (
    ImageOut,
    ImportOut,
    LessonSettingsOut,
    LessonStatsOut,
    PassMarkIn,
    QuestionDetailOut,
    QuestionIn,
    QuestionStatsOut,
    ReorderIn,
    SkippedOut,
)
from app.quiz.exceptions import InvalidQuestion
from app.quiz.models import Question, QuestionKind
from app.web import is_htmx, redirect, render

router = APIRouter()  # public: pictures are course content, shown to every learner
gated = APIRouter(dependencies=[Depends(require_role(Role.instructor))])


@router.get("/quiz/images/{name}")
def quiz_image(settings: SettingsDep, request: Request, name: str):
    path = images.image_file(data_dir=settings.data_dir, name=name)
    if path is None:
        raise NotFound("There is no such picture.")
    # content-addressed: the name changes whenever the picture does
    return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})


def _data_dir(request: Request):
    return app_settings(request).data_dir


def _import_failed(exc: GiftImportFailed) -> JSONResponse:
    errors = [{"line": e.line, "message": e.message} for e in exc.errors]
    return JSONResponse({"detail": exc.detail, "errors": errors}, status_code=exc.status_code)


# ---- JSON API ----


@gated.get("/api/quiz/questions", response_model=list[QuestionDetailOut])
def api_questions(lesson: QueryLesson, db: DbSession):
    return [QuestionDetailOut.of(q) for q in quiz_service.list_questions(db=db, lesson_number=lesson.number)]


@gated.post("/api/quiz/questions", response_model=QuestionDetailOut, status_code=201)
def api_create_question(body: QuestionIn, request: Request, db: DbSession):
    question = authoring.add_question(
        db=db, lesson_number=body.lesson, spec=body.spec(), data_dir=_data_dir(request)
    )
    db.commit()
    return QuestionDetailOut.of(question)


@gated.get("/api/quiz/questions/{question_id}", response_model=QuestionDetailOut)
def api_question(question: LiveQuestion):
    return QuestionDetailOut.of(question)


@gated.put("/api/quiz/questions/{question_id}", response_model=QuestionDetailOut)
def api_update_question(question: LiveQuestion, body: QuestionIn, request: Request, db: DbSession):
    if body.lesson != question.lesson_number:
        raise InvalidQuestion("A question stays in its lesson; create a new one in the other lesson.")
    updated = authoring.update_question(
        db=db,
        question_id=question.id,
        spec=body.spec(),
        choice_ids=body.choice_ids(),
        data_dir=_data_dir(request),
    )
    db.commit()
    return QuestionDetailOut.of(updated)


@gated.delete("/api/quiz/questions/{question_id}", status_code=204)
def api_delete_question(question: LiveQuestion, db: DbSession):
    authoring.delete_question(db=db, question_id=question.id)
    db.commit()
    return Response(status_code=204)


@gated.post("/api/quiz/reorder", response_model=list[QuestionDetailOut])
def api_reorder(body: ReorderIn, db: DbSession):
    ordered = authoring.reorder_questions(db=db, lesson_number=body.lesson, question_ids=body.question_ids)
    db.commit()
    return [QuestionDetailOut.of(q) for q in ordered]


@gated.put("/api/quiz/lessons/{number}/settings", response_model=LessonSettingsOut)
def api_pass_mark(lesson: PathLesson, body: PassMarkIn, db: DbSession):
    mark = authoring.set_pass_mark(db=db, lesson_number=lesson.number, pass_mark=body.pass_mark)
    db.commit()
    return LessonSettingsOut(lesson=lesson.number, pass_mark=mark)


@gated.post("/api/quiz/images", response_model=ImageOut, status_code=201)
def api_upload_image(request: Request, file: UploadFile = File(...)):
    return ImageOut(image_url=images.store_image(data_dir=_data_dir(request), data=file.file.read()))


@gated.get("/api/quiz/export", response_class=PlainTextResponse)
def api_export(lesson: QueryLesson, db: DbSession):
    return PlainTextResponse(authoring.export_gift(db=db, lesson_number=lesson.number))


@gated.post("/api/quiz/import", response_model=ImportOut, status_code=201)
def api_import(
    lesson: QueryLesson,
    data: GiftBody,
    request: Request,
    db: DbSession,
    replace: bool = False,
    skip_unsupported: bool = False,
):
    try:
        created, skipped = authoring.import_gift(
            db=db,
            lesson_number=lesson.number,
            text=authoring.decode_gift(data),
            data_dir=_data_dir(request),
            replace=replace,
            skip_unsupported=skip_unsupported,
        )
    except GiftImportFailed as exc:
        return _import_failed(exc)
    db.commit()
    left_out = [SkippedOut(line=s.line, kind=s.kind, title=s.title) for s in skipped]
    return ImportOut(
        lesson=lesson.number, imported=len(created), question_ids=[q.id for q in created], skipped=left_out
    )


@gated.get("/api/quiz/stats", response_model=LessonStatsOut)
def api_stats(lesson: QueryLesson, db: DbSession):
    rows = stats.lesson_stats(db=db, lesson_number=lesson.number)
    return LessonStatsOut(lesson=lesson.number, questions=[QuestionStatsOut.of(s) for s in rows])


# ---- pages ----


def _lesson_page(request: Request, db, lesson: Lesson, **extra) -> dict:
    return {
        "lesson": lesson,
        "questions": quiz_service.list_questions(db=db, lesson_number=lesson.number),
        "pass_mark": quiz_service.get_pass_mark(db=db, lesson_number=lesson.number),
        "import_errors": [],
        **extra,
    }


@gated.get("/instructor")
def instructor_home(request: Request, db: DbSession):
    counts = authoring.question_counts(db=db)
    lessons = [
        (lesson, counts.get(lesson.number, 0), quiz_service.get_pass_mark(db=db, lesson_number=lesson.number))
        for lesson in catalog.lessons()
    ]
    return render(request, "quiz/authoring_home.html", {"lessons": lessons})


@gated.get("/instructor/lessons/{number}")
def lesson_questions_page(request: Request, lesson: PathLesson, db: DbSession):
    return render(request, "quiz/authoring_lesson.html", _lesson_page(request, db, lesson))


@gated.post("/instructor/lessons/{number}/pass-mark")
async def pass_mark_form(request: Request, lesson: PathLesson, db: DbSession):
    raw = str((await request.form()).get("pass_mark", ""))
    if not raw.strip().isdigit():
        raise InvalidQuestion("The pass mark is a whole percentage from 1 to 100.")
    authoring.set_pass_mark(db=db, lesson_number=lesson.number, pass_mark=int(raw))
    db.commit()
    return redirect(
        request, f"/instructor/lessons/{lesson.number}", f"Pass mark set to {int(raw)}%.", "success"
    )


def _question_list(request: Request, db, lesson_number: int):
    lesson = catalog.lesson(lesson_number)
    if is_htmx(request):
        return render(
            request, "quiz/authoring_lesson.html", _lesson_page(request, db, lesson), block="questions"
        )
    return redirect(request, f"/instructor/lessons/{lesson_number}")


@gated.post("/instructor/questions/{question_id}/move")
def move_question_form(request: Request, question: LiveQuestion, db: DbSession, offset: int = 1):
    authoring.move_question(db=db, question_id=question.id, offset=1 if offset > 0 else -1)
    db.commit()
    return _question_list(request, db, question.lesson_number)


@gated.post("/instructor/questions/{question_id}/delete")
def delete_question_form(request: Request, question: LiveQuestion, db: DbSession):
    authoring.delete_question(db=db, question_id=question.id)
    db.commit()
    return _question_list(request, db, question.lesson_number)


def _editor(
    request: Request, lesson: Lesson, form, *, question: Question | None = None, error: str = "", status=200
):
    context = {"lesson": lesson, "form": form, "question": question, "error": error}
    return render(request, "quiz/authoring_edit.html", context, block="editor", status_code=status)


@gated.get("/instructor/lessons/{number}/questions/new")
def new_question_page(request: Request, lesson: PathLesson, kind: QuestionKind = QuestionKind.single):
    return _editor(request, lesson, authoring_forms.blank_form(kind))


@gated.get("/instructor/choice-row")
def choice_row(request: Request, kind: QuestionKind = QuestionKind.single):
    """One more empty choice row for the editor (htmx appends it)."""
    context = {"row": authoring_forms.Row(), "form": authoring_forms.QuestionForm(kind=kind)}
    return render(request, "quiz/_choice_row.html", context)


async def _save(request: Request, db, lesson: Lesson, kind: QuestionKind, question: Question | None):
    state = authoring_forms.read_form(await request.form(), kind, data_dir=_data_dir(request))
    try:
        spec, choice_ids = authoring_forms.to_spec(state)
        if question is None:
            saved = authoring.add_question(
                db=db, lesson_number=lesson.number, spec=spec, data_dir=_data_dir(request)
            )
        else:
            saved = authoring.update_question(
                db=db, question_id=question.id, spec=spec, choice_ids=choice_ids, data_dir=_data_dir(request)
            )
    except InvalidQuestion as exc:
        db.rollback()
        # htmx swaps only 2xx answers, so it gets the editor back with a 200
        status = 200 if is_htmx(request) else 400
        return _editor(request, lesson, state, question=question, error=exc.detail, status=status)
    db.commit()
    verb = "added" if question is None else "saved"
    return redirect(
        request, f"/instructor/lessons/{lesson.number}#question-{saved.id}", f"Question {verb}.", "success"
    )


@gated.post("/instructor/lessons/{number}/questions")
async def create_question_form(request: Request, lesson: PathLesson, db: DbSession):
    kind_raw = str((await request.form()).get("kind", ""))
    if kind_raw not in {k.value for k in QuestionKind}:
        raise InvalidQuestion("Choose a kind of question.")
    return await _save(request, db, lesson, QuestionKind(kind_raw), None)


@gated.get("/instructor/questions/{question_id}/edit")
def edit_question_page(request: Request, question: LiveQuestion):
    lesson = catalog.lesson(question.lesson_number)
    return _editor(request, lesson, authoring_forms.form_of(question), question=question)


@gated.post("/instructor/questions/{question_id}")
async def update_question_form(request: Request, question: LiveQuestion, db: DbSession):
    return await _save(request, db, catalog.lesson(question.lesson_number), question.kind, question)


# ---- preview: the learner's check, graded but never recorded ----


def _preview_page(request: Request, db, lesson: Lesson, questions, *, action: str, answers=None):
    context = preview.check_context(
        db=db, lesson_number=lesson.number, questions=questions, answers=answers, action=action
    )
    context.update(
        {"lesson": lesson, "next": catalog.lesson(lesson.number + 1), "single": len(questions) == 1}
    )
    return render(request, "quiz/authoring_preview.html", context, block="check")


@gated.get("/instructor/lessons/{number}/preview")
def preview_lesson(request: Request, lesson: PathLesson, db: DbSession):
    questions = quiz_service.list_questions(db=db, lesson_number=lesson.number)
    return _preview_page(request, db, lesson, questions, action=request.url.path)


@gated.post("/instructor/lessons/{number}/preview")
def preview_lesson_answers(request: Request, lesson: PathLesson, answers: FormAnswers, db: DbSession):
    questions = quiz_service.list_questions(db=db, lesson_number=lesson.number)
    return _preview_page(request, db, lesson, questions, action=request.url.path, answers=answers)


@gated.get("/instructor/questions/{question_id}/preview")
def preview_question(request: Request, question: LiveQuestion, db: DbSession):
    lesson = catalog.lesson(question.lesson_number)
    return _preview_page(request, db, lesson, [question], action=request.url.path)


@gated.post("/instructor/questions/{question_id}/preview")
def preview_question_answers(request: Request, question: LiveQuestion, answers: FormAnswers, db: DbSession):
    lesson = catalog.lesson(question.lesson_number)
    return _preview_page(request, db, lesson, [question], action=request.url.path, answers=answers)


# ---- GIFT and statistics pages ----


@gated.post("/instructor/lessons/{number}/import")
async def import_form(request: Request, lesson: PathLesson, data: GiftBody, db: DbSession):
    form = await request.form()
    text, skip = authoring.decode_gift(data), form.get("skip_unsupported") == "1"
    try:
        if form.get("action") == "preview":  # show what would come in and what would not; write nothing
            plan = authoring.plan_import(text, data_dir=_data_dir(request), skip_unsupported=skip)
            context = _lesson_page(
                request, db, lesson, import_preview=plan, import_text=text, import_skip=skip
            )
            return render(request, "quiz/authoring_lesson.html", context, block="import")
        created, skipped = authoring.import_gift(
            db=db, lesson_number=lesson.number, text=text, data_dir=_data_dir(request),
            replace=form.get("replace") == "1", skip_unsupported=skip,
        )  # fmt: skip
    except GiftImportFailed as exc:
        context = _lesson_page(
            request, db, lesson, import_errors=exc.errors, import_text=text, import_skip=skip
        )
        status = 200 if is_htmx(request) else 400  # htmx swaps only 2xx answers
        return render(request, "quiz/authoring_lesson.html", context, block="import", status_code=status)
    db.commit()
    return redirect(
        request, f"/instructor/lessons/{lesson.number}", authoring.import_message(created, skipped), "success"
    )


@gated.get("/instructor/lessons/{number}/export")
def export_file(lesson: PathLesson, db: DbSession):
    text = authoring.export_gift(db=db, lesson_number=lesson.number)
    filename = f"loraface-lesson-{lesson.number}.gift.txt"
    return PlainTextResponse(text, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@gated.get("/instructor/lessons/{number}/stats")
def stats_page(request: Request, lesson: PathLesson, db: DbSession):
    context = {
        "lesson": lesson,
        "rows": stats.lesson_stats(db=db, lesson_number=lesson.number),
        "easy_share": stats.EASY_SHARE,
        "hard_share": stats.HARD_SHARE,
        "min_learners": stats.MIN_LEARNERS_FOR_FLAG,
    }
    return render(request, "quiz/authoring_stats.html", context)


router.include_router(gated)
