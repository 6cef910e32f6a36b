"""Review over HTTP: /api/submissions and /api/review for scripts, the learner's pages and the
reviewer's queue and review screen."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from app import forms
from app.auth.dependencies import CurrentUser, DbSession, OptionalUser
from app.auth.models import Role
from app.datasets import retention
from app.dependencies import SettingsDep, app_settings
from app.errors import DomainError
from app.evaluate.schemas import GenerateIn
from app.lab.dependencies import ViewableModel
from app.review import evidence, presenters, prompts, queue, submissions, verdicts
from app.review import hints as review_hints
from app.review.dependencies import ReviewableSubmission, Reviewer, ViewableSubmission
from app.review.schemas import (
    CRITERIA,
    CRITERION_LABELS,
    WORDING,
    PromptForm,
    QueueItem,
    ReviewIn,
    ReviewOut,
    RoundOut,
    SubmissionCreated,
    SubmissionForm,
    SubmissionIn,
    SubmissionOut,
    VerdictForm,
)
from app.web import is_htmx, redirect, render

router = APIRouter()
PNG = {"Cache-Control": "private, max-age=3600"}
FilterQuery = Annotated[str, Query(pattern="^(waiting|mine|done)$")]


# ---- JSON API ----


@router.post("/api/submissions", status_code=201, response_model=SubmissionCreated)
def api_submit(settings: SettingsDep, body: SubmissionIn, request: Request, db: DbSession, user: CurrentUser):
    sub = submissions.submit(db=db, settings=settings, user=user, **body.model_dump())
    db.commit()
    return SubmissionCreated(id=sub.id, status=sub.status)


@router.get("/api/submissions", response_model=list[RoundOut])
def api_own_submissions(db: DbSession, user: CurrentUser):
    return presenters.rounds(db=db, user_id=user.id)


@router.get("/api/submissions/{submission_id}", response_model=SubmissionOut)
def api_submission(submission: ViewableSubmission, db: DbSession):
    return presenters.submission_out(db=db, submission=submission)


@router.get("/api/submissions/{submission_id}/rounds", response_model=list[RoundOut])
def api_rounds(submission: ViewableSubmission, db: DbSession):
    return presenters.rounds(db=db, user_id=submission.user_id)


@router.get("/api/submissions/{submission_id}/lora")
def api_submission_lora(settings: SettingsDep, submission: ViewableSubmission, request: Request):
    path = evidence.lora_path(settings=settings, submission=submission)
    return FileResponse(path, media_type="application/octet-stream", filename=submission.lora_file)


@router.get("/api/review/queue", response_model=list[QueueItem])
def api_queue(db: DbSession, user: Reviewer, filter: FilterQuery = "waiting"):
    return presenters.queue_items(db=db, submissions=queue.queue(db=db, user=user, filter=filter))


@router.post("/api/submissions/{submission_id}/claim", response_model=QueueItem)
def api_claim(submission: ReviewableSubmission, db: DbSession, user: Reviewer):
    queue.claim(db=db, user=user, submission=submission)
    db.commit()
    return presenters.queue_items(db=db, submissions=[submission])[0]


@router.post("/api/submissions/{submission_id}/release", response_model=QueueItem)
def api_release(submission: ReviewableSubmission, db: DbSession, user: Reviewer):
    queue.release(db=db, user=user, submission=submission)
    db.commit()
    return presenters.queue_items(db=db, submissions=[submission])[0]


@router.post("/api/submissions/{submission_id}/reviews", status_code=201, response_model=ReviewOut)
def api_review(
    body: ReviewIn, submission: ReviewableSubmission, request: Request, db: DbSession, user: Reviewer
):
    row = verdicts.review(db=db, user=user, submission=submission, data=body)
    db.commit()
    retention.after_review(db=db, settings=app_settings(request), user_id=submission.user_id)
    return presenters.review_out(row)


# ---- the learner's pages ----


def _panel_context(db, model, user) -> dict:
    subs = submissions.model_submissions(db=db, model_id=model.id)
    return {
        "model": model,
        "is_owner": model.user_id == user.id,
        "submissions": subs,
        "open": next((s for s in subs if s.status.is_open), None),
        "approved": any(s.status.value == "approved" for s in subs),
        "reviews": {s.id: verdicts.review_of(db=db, submission=s) for s in subs},
        "epochs": [e.epoch for e in submissions.epoch_rows(db=db, model=model)],
        "default_epoch": submissions.default_epoch(db=db, model=model),
    }


@router.get("/models/{model_id}/review")
def model_review_panel(request: Request, model: ViewableModel, db: DbSession, user: CurrentUser):
    ctx = _panel_context(db, model, user)
    if ctx["is_owner"]:
        submissions.mark_verdicts_seen(db=db, user=user, submissions=ctx["submissions"])
        db.commit()
    return render(request, "review/model.html", ctx, block="panel")


@router.post("/models/{model_id}/submissions")
def submit_from_form(
    settings: SettingsDep,
    request: Request,
    model: ViewableModel,
    db: DbSession,
    user: CurrentUser,
    form: Annotated[SubmissionForm, Form()],
):
    def submit():
        data = SubmissionIn.model_validate({"model_id": model.id, **form.submission_fields()})
        return submissions.submit(db=db, settings=settings, user=user, **data.model_dump())

    back = f"/models/{model.id}/review"
    return forms.submit(
        db,
        submit,
        rejected=lambda messages, _: redirect(request, back, message=messages[0], category="error"),
        done=lambda sub: redirect(
            request,
            f"/submissions/{sub.id}",
            message="Submitted: an art director will look at it soon.",
            category="success",
        ),
    )


@router.get("/submissions")
def own_submissions_page(request: Request, db: DbSession, user: CurrentUser):
    subs = submissions.learner_submissions(db=db, user_id=user.id)
    ctx = {
        "rounds": presenters.rounds(db=db, user_id=user.id)[::-1],
        "reviews": {s.id: verdicts.review_of(db=db, submission=s) for s in subs},
    }
    submissions.mark_verdicts_seen(db=db, user=user, submissions=subs)
    db.commit()
    return render(request, "review/history.html", ctx)


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission: ViewableSubmission, db: DbSession, user: CurrentUser):
    if submission.user_id != user.id:
        return redirect(request, f"/review/{submission.id}")
    ctx = _evidence_context(request, db, submission)
    submissions.mark_verdicts_seen(db=db, user=user, submissions=[submission])
    db.commit()
    return render(request, "review/submission.html", ctx)


@router.get("/submissions/{submission_id}/files/{name:path}")
def submission_file(settings: SettingsDep, submission: ViewableSubmission, request: Request, name: str):
    path = evidence.frozen_file(settings=settings, submission=submission, name=name)
    return FileResponse(path, media_type="image/png" if name.endswith(".png") else None, headers=PNG)


@router.get("/submissions/{submission_id}/crops/{index}")
def submission_crop(settings: SettingsDep, submission: ViewableSubmission, request: Request, index: int):
    path = evidence.crop_file(settings=settings, submission=submission, index=index)
    return FileResponse(path, headers=PNG)


# ---- the reviewer's pages ----


@router.get("/review/nav")
def review_nav(request: Request, db: DbSession, user: OptionalUser):
    """The nav's counts: submissions waiting (reviewers), new verdicts (learners)."""
    if user is None:
        return HTMLResponse("")
    counts = {
        "waiting": queue.queue_counts(db=db, user=user)["waiting"] if user.has_role(Role.reviewer) else 0,
        "verdicts": submissions.unseen_verdicts(db=db, user_id=user.id),
    }
    return render(request, "review/_nav.html", {"review_nav": counts}, block="counts")


@router.get("/review")
def queue_page(request: Request, db: DbSession, user: Reviewer, filter: FilterQuery = "waiting"):
    subs = queue.queue(db=db, user=user, filter=filter)
    ctx = {
        "filter": filter,
        "items": presenters.queue_items(db=db, submissions=subs),
        "counts": queue.queue_counts(db=db, user=user),
    }
    return render(request, "review/queue.html", ctx, block="queue")


def _evidence_context(request: Request, db, submission) -> dict:
    out = presenters.submission_out(db=db, submission=submission)
    sweep = submission.snapshot.get("sweep")
    return {
        "s": out,
        "sub": submission,
        "snap": submission.snapshot,
        "crops": evidence.crops_on_disk(settings=app_settings(request), submission=submission),
        "sweep": sweep,
        "hints": review_hints.rubric_hints(sweep),
        "criteria": [(name, CRITERION_LABELS[name]) for name in CRITERIA],
        "files": f"/submissions/{submission.id}/files/",
    }


def _screen_context(request: Request, db, submission, user, **extra) -> dict:
    ctx = _evidence_context(request, db, submission)
    ctx.update(
        {
            "mine": submission.reviewer_id == user.id,
            "own": submission.user_id == user.id,
            "generations": prompts.generations(db=db, submission=submission),
            "seed": prompts.GENERATE_SEED,
            "form": {},
            "errors": [],
            "gen_prompt": f"photo of {submission.snapshot['model']['trigger']} {submission.snapshot['model']['class_word']}, ",
        }
    )
    ctx.update(extra)
    return ctx


@router.get("/review/{submission_id}")
def review_screen(request: Request, submission: ReviewableSubmission, db: DbSession, user: Reviewer):
    return render(request, "review/screen.html", _screen_context(request, db, submission, user))


@router.post("/review/{submission_id}/claim")
def claim_from_form(request: Request, submission: ReviewableSubmission, db: DbSession, user: Reviewer):
    try:
        queue.claim(db=db, user=user, submission=submission)
    except DomainError as error:
        db.rollback()
        return redirect(request, "/review", message=error.detail, category="error")
    db.commit()
    return redirect(
        request, f"/review/{submission.id}", message="Claimed: it is yours to review.", category="success"
    )


@router.post("/review/{submission_id}/release")
def release_from_form(request: Request, submission: ReviewableSubmission, db: DbSession, user: Reviewer):
    try:
        queue.release(db=db, user=user, submission=submission)
    except DomainError as error:
        db.rollback()
        return redirect(request, f"/review/{submission.id}", message=error.detail, category="error")
    db.commit()
    return redirect(request, "/review", message="Released back to the queue.", category="info")


@router.post("/review/{submission_id}/generate")
def generate_from_form(
    settings: SettingsDep,
    request: Request,
    submission: ReviewableSubmission,
    db: DbSession,
    user: Reviewer,
    form: Annotated[PromptForm, Form()],
):
    def generate():
        data = GenerateIn.model_validate(form.generate_fields())
        fields = data.model_dump(include={"prompt", "strength"})
        return prompts.generate(db=db, settings=settings, user=user, submission=submission, **fields)

    return forms.submit(
        db,
        generate,
        rejected=lambda messages, _: _generate_error(request, db, submission, user, form.prompt, messages),
        wording=WORDING,
        done=lambda row: _generated(request, submission, row),
    )


def _generated(request, submission, row):
    return forms.block_or_redirect(
        request,
        template="review/screen.html",
        context={"g": row},
        block="generation",
        url=f"/review/{submission.id}#generate",
        message="Your image is ready.",
    )


def _generate_error(request, db, submission, user, prompt, messages):
    ctx = _screen_context(request, db, submission, user, gen_errors=messages, gen_prompt=prompt)
    if is_htmx(request):
        # htmx leaves 4xx answers unswapped, so the message goes to the box's error slot with a 200.
        return render(
            request,
            "review/screen.html",
            ctx,
            block="generate_errors",
            headers={"HX-Retarget": "#generate-errors", "HX-Reswap": "innerHTML"},
        )
    return render(request, "review/screen.html", ctx, status_code=422)


@router.post("/review/{submission_id}/verdict")
def verdict_from_form(
    request: Request,
    submission: ReviewableSubmission,
    db: DbSession,
    user: Reviewer,
    form: Annotated[VerdictForm, Form()],
):
    def review():
        data = ReviewIn.model_validate(form.review_fields())
        verdicts.review(db=db, user=user, submission=submission, data=data)
        return data

    return forms.submit(
        db,
        review,
        rejected=lambda messages, status: _verdict_errors(
            request, db, submission, user, form.typed(), messages, status
        ),
        done=lambda data: _reviewed(request, db, submission, data),
        wording=WORDING,
    )


def _reviewed(request, db, submission, data):
    retention.after_review(db=db, settings=app_settings(request), user_id=submission.user_id)
    label = "approved" if data.verdict.value == "approved" else "sent back with changes requested"
    return redirect(
        request,
        "/review",
        message=f"Round {submission.round} of {submission.snapshot['model']['name']} {label}.",
        category="success",
    )


def _verdict_errors(request, db, submission, user, raw, messages, status_code=422):
    ctx = _screen_context(request, db, submission, user, form=raw, errors=messages)
    return render(request, "review/screen.html", ctx, status_code=status_code)
