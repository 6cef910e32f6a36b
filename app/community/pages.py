"""The community's pages: the feed (htmx polling for new posts), posts, forms, moderation."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from app import forms
from app.auth.dependencies import CurrentUser, DbSession
from app.community import comments, feed, moderation, permissions, posts, presenters, reactions, sharing
from app.community import exceptions as exc
from app.community.dependencies import ModeratedReport, VisibleComment, VisiblePost
from app.community.models import PostKind, ReactionKind, ReportReason, ReportStatus
from app.community.schemas import (
    COMMENT_WORDING,
    POST_WORDING,
    CommentCreate,
    CommentForm,
    EditForm,
    PostCreate,
    PostUpdate,
    ReportFields,
    SwitchFields,
)
from app.dependencies import SettingsDep
from app.errors import DomainError
from app.lab import charts
from app.web import is_htmx, redirect, render

router = APIRouter(prefix="/community", tags=["community pages"])
SwitchForm = Annotated[SwitchFields, Form()]
ReportForm = Annotated[ReportFields, Form()]

REASON_LABELS = {
    ReportReason.spam: "Spam or advertising",
    ReportReason.abuse: "Rude or abusive",
    ReportReason.private_photos: "Shares someone's private photos",
    ReportReason.off_topic: "Off topic",
    ReportReason.other: "Something else",
}
SETTING_LABELS = {
    "trigger": "Trigger", "class_word": "Class", "resolution": "Resolution", "rank": "Rank", "alpha": "Alpha",
    "learning_rate": "Learning rate", "epochs": "Epochs", "max_steps": "Steps", "repeats": "Repeats",
    "batch_size": "Batch size", "seed": "Seed", "lr_scheduler": "Scheduler", "warmup_steps": "Warm-up steps",
    "min_snr_gamma": "Min-SNR γ", "noise_offset": "Noise offset", "train_text_encoder": "Text encoder trained",
    "photos": "Photos", "base": "Base model",
}  # fmt: skip


def _kind(value: str | None) -> PostKind | None:
    return PostKind(value) if value in ("model", "help") else None


def _filters(kind: PostKind | None, lesson: int | None) -> str:
    """The feed's filters as extra query parameters for the poll and "older" links."""
    return (f"&kind={kind.value}" if kind else "") + (f"&lesson={lesson}" if lesson else "")


# ---- feed ----


@router.get("")
def feed_page(
    request: Request,
    db: DbSession,
    user: CurrentUser,
    kind: str | None = None,
    before: Annotated[int | None, Query(ge=1)] = None,
    lesson: Annotated[int | None, Query(ge=1, le=8)] = None,
):
    chosen = _kind(kind)
    posts = feed.feed(db=db, viewer=user, kind=chosen, before=before, lesson=lesson)
    ctx = {
        "items": presenters.feed_items(db=db, posts=posts),
        "newer_items": [],
        "kind": chosen.value if chosen else "",
        "lesson": lesson,
        "filters": _filters(chosen, lesson),
        "cursor": feed.next_cursor(posts, feed.FEED_PAGE),
        # The poller asks for posts above the newest one shown (or above 0 on an empty feed).
        "top_id": posts[0].id if posts and before is None else (0 if before is None else None),
        "is_moderator": permissions.is_moderator(user),
    }
    return render(request, "community/feed.html", ctx, block="page")


@router.get("/newer")
def feed_newer(
    request: Request,
    db: DbSession,
    user: CurrentUser,
    after: Annotated[int, Query(ge=0)],
    kind: str | None = None,
    lesson: Annotated[int | None, Query(ge=1, le=8)] = None,
):
    if not is_htmx(request):
        return redirect(request, "/community")
    chosen = _kind(kind)
    posts = feed.feed(db=db, viewer=user, kind=chosen, after=after, lesson=lesson, limit=feed.MAX_PAGE)
    ctx = {
        "newer_items": presenters.feed_items(db=db, posts=posts),
        "kind": chosen.value if chosen else "",
        "lesson": lesson,
        "filters": _filters(chosen, lesson),
        "top_id": posts[0].id if posts else after,
    }
    return render(request, "community/feed.html", ctx, block="newer")


@router.get("/related/{lesson_number}")
def related_fragment(request: Request, db: DbSession, user: CurrentUser, lesson_number: int):
    threads = feed.related_threads(db=db, lesson_number=lesson_number, limit=5)
    ctx = {"related_threads": threads, "lesson_number": lesson_number}
    return render(request, "community/_related_threads.html", ctx)


# ---- one post ----


def _post_context(db, post, user, **extra) -> dict:
    out = presenters.post_out(db=db, post=post, viewer=user)
    return {
        "post": post,
        "p": out,
        "is_author": post.author_id == user.id,
        "is_moderator": permissions.is_moderator(user),
        "curve": charts.loss_curve(post.losses or [], post.total_steps or 0) if post.losses else None,
        "setting_labels": SETTING_LABELS,
        "reasons": REASON_LABELS,
        "reaction_kinds": list(ReactionKind),
        "comment_error": None,
        "comment_body": "",
        **extra,
    }


@router.get("/posts/{post_id}")
def post_page(request: Request, post: VisiblePost, db: DbSession, user: CurrentUser):
    return render(request, "community/post.html", _post_context(db, post, user))


@router.get("/posts/{post_id}/images/{position}")
def post_image(settings: SettingsDep, request: Request, post: VisiblePost, position: int):
    image = next((i for i in post.images if i.position == position), None)
    data_dir = settings.data_dir.resolve()
    path = (data_dir / image.path).resolve() if image else None
    if path is None or not path.is_relative_to(data_dir) or not path.is_file():
        raise exc.PostNotFound()
    media = "image/png" if path.suffix == ".png" else "image/jpeg"
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/posts/{post_id}/reactions/{kind}")
def toggle_reaction(
    request: Request, post: VisiblePost, kind: ReactionKind, db: DbSession, user: CurrentUser
):
    reactions.toggle_reaction(db=db, post=post, user=user, kind=kind)
    db.commit()
    if is_htmx(request):
        return render(request, "community/post.html", _post_context(db, post, user), block="reactions")
    return redirect(request, f"/community/posts/{post.id}")


@router.post("/posts/{post_id}/comments")
def add_comment(
    request: Request,
    post: VisiblePost,
    db: DbSession,
    user: CurrentUser,
    form: Annotated[CommentForm, Form()],
):
    def rejected(messages: list[str], status: int):
        ctx = _post_context(db, post, user, comment_error=messages[0], comment_body=form.body)
        # htmx swaps only 2xx answers, so the form with its message comes back as 200 there.
        status = 200 if is_htmx(request) else status
        return render(request, "community/post.html", ctx, block="comments", status_code=status)

    return forms.submit(
        db,
        lambda: comments.add_comment(db=db, post=post, author=user, data=CommentCreate(body=form.body)),
        rejected=rejected,
        done=lambda _: _commented(request, db, post, user),
        wording=COMMENT_WORDING,
    )


def _commented(request, db, post, user):
    return forms.block_or_redirect(
        request,
        template="community/post.html",
        context=_post_context(db, post, user),
        block="comments",
        url=f"/community/posts/{post.id}#comments",
        message="Comment posted.",
    )


@router.post("/comments/{comment_id}/delete")
def delete_comment(request: Request, comment: VisibleComment, db: DbSession, user: CurrentUser):
    post_id = comment.post_id
    comments.delete_comment(db=db, comment=comment, user=user)
    db.commit()
    return redirect(request, f"/community/posts/{post_id}#comments", message="Comment deleted.")


@router.post("/comments/{comment_id}/accept")
def accept_comment(
    request: Request, comment: VisibleComment, db: DbSession, user: CurrentUser, form: SwitchForm
):
    comments.accept_answer(db=db, comment=comment, user=user, accepted=form.on)
    url = f"/community/posts/{comment.post_id}#comment-{comment.id}"
    return _switched(request, db, url, form.on, ("Marked as the answer.", "No longer marked as the answer."))


def _switched(request, db, url: str, on: bool, said: tuple[str, str]):
    """After a switch (accept, hide, suspend, or their undoing): commit and say which way it went."""
    db.commit()
    return redirect(request, url, message=said[0] if on else said[1], category="success")


@router.post("/posts/{post_id}/report")
def report_post(request: Request, post: VisiblePost, db: DbSession, user: CurrentUser, form: ReportForm):
    return _report(request, db, user, post.id, form, post=post)


@router.post("/comments/{comment_id}/report")
def report_comment(
    request: Request, comment: VisibleComment, db: DbSession, user: CurrentUser, form: ReportForm
):
    return _report(request, db, user, comment.post_id, form, comment=comment)


def _report(request, db, user, post_id, form: ReportFields, post=None, comment=None):
    if form.reason not in ReportReason.__members__:
        raise exc.InvalidPost("Choose why you are reporting this.")
    moderation.report(
        db=db, reporter=user, reason=ReportReason(form.reason), note=form.note, post=post, comment=comment
    )
    db.commit()
    return redirect(
        request,
        f"/community/posts/{post_id}",
        message="Thank you. A moderator will look at it.",
        category="success",
    )


# ---- writing posts ----


def _form_context(db, user, kind: PostKind, values: dict, error: str | None = None) -> dict:
    models = sharing.list_user_models(db=db, user=user)
    model_id = values.get("model_id")
    chosen = next((m for m in models if str(m.id) == str(model_id)), None)
    if chosen is None and kind == PostKind.model and models and not model_id:
        chosen = models[0]
    return {
        "kind": kind.value,
        "values": values,
        "error": error,
        "models": models,
        "jobs": sharing.list_user_jobs(db=db, user=user) if kind == PostKind.help else [],
        "chosen_model": chosen,
        "samples": sharing.sample_sources(db=db, model=chosen)
        if chosen is not None and kind == PostKind.model
        else [],
        "chosen_samples": set(values.get("samples") or []),
    }


@router.get("/new")
def new_post_page(
    request: Request,
    db: DbSession,
    user: CurrentUser,
    kind: str = "help",
    model_id: int | None = None,
    lesson: Annotated[int | None, Query(ge=1, le=8)] = None,
):
    chosen = _kind(kind) or PostKind.help
    values = {"model_id": model_id, "lesson": lesson}
    return render(request, "community/new.html", _form_context(db, user, chosen, values), block="samples")


@router.post("/posts")
async def create_post(settings: SettingsDep, request: Request, db: DbSession, user: CurrentUser):
    form = await request.form()
    kind = _kind(str(form.get("kind", ""))) or PostKind.help
    values = {
        "kind": kind.value,
        "title": str(form.get("title", "")),
        "body": str(form.get("body", "")),
        "model_id": _int(form.get("model_id")),
        "job_id": _int(form.get("job_id")) if kind == PostKind.help else None,
        "lesson": _int(form.get("lesson")),
        "samples": [str(s) for s in form.getlist("samples")] if kind == PostKind.model else [],
    }
    files = [f for f in form.getlist("images") if isinstance(f, UploadFile) and f.filename]
    try:
        data = PostCreate.model_validate({k: v for k, v in values.items() if v not in (None, "")})
        uploads = [await f.read() for f in files[: posts.MAX_HELP_IMAGES + 1]]
        post = posts.create_post(db=db, data_dir=settings.data_dir, author=user, data=data, uploads=uploads)
    except (DomainError, ValidationError) as error:
        db.rollback()
        messages, status = forms.problems(error, POST_WORDING)
        ctx = _form_context(db, user, kind, values, messages[0])
        return render(request, "community/new.html", ctx, status_code=status)
    db.commit()
    return redirect(request, f"/community/posts/{post.id}", message="Posted.", category="success")


def _int(value) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


@router.get("/posts/{post_id}/edit")
def edit_post_page(request: Request, post: VisiblePost, db: DbSession, user: CurrentUser):
    if post.author_id != user.id and not permissions.is_moderator(user):
        raise exc.NotAuthor()
    return render(request, "community/edit.html", {"post": post, "error": None, "values": post})


@router.post("/posts/{post_id}/edit")
def edit_post(
    request: Request, post: VisiblePost, db: DbSession, user: CurrentUser, form: Annotated[EditForm, Form()]
):
    if post.author_id != user.id and not permissions.is_moderator(user):
        raise exc.NotAuthor()

    def edit():
        data = PostUpdate(title=form.title, body=form.body, lesson=_int(form.lesson))
        posts.update_post(db=db, post=post, editor=user, data=data)

    values = {"title": form.title, "body": form.body, "lesson_number": _int(form.lesson)}
    return forms.submit(
        db,
        edit,
        rejected=lambda messages, status: render(
            request,
            "community/edit.html",
            {"post": post, "error": messages[0], "values": values},
            status_code=status,
        ),
        done=lambda _: redirect(request, f"/community/posts/{post.id}", message="Saved.", category="success"),
        wording=POST_WORDING,
    )


@router.post("/posts/{post_id}/delete")
def delete_post(settings: SettingsDep, request: Request, post: VisiblePost, db: DbSession, user: CurrentUser):
    folder = posts.delete_post(db=db, data_dir=settings.data_dir, post=post, user=user)
    db.commit()
    sharing.remove_folder(folder)
    return redirect(request, "/community", message="The post was deleted.")


# ---- moderation ----


@router.get("/moderation")
def moderation_page(request: Request, db: DbSession, user: CurrentUser, status: str = "open"):
    chosen = ReportStatus(status) if status in ReportStatus.__members__ else ReportStatus.open
    reports = moderation.list_reports(db=db, moderator=user, status=chosen)
    return render(
        request,
        "community/moderation.html",
        {"reports": reports, "status": chosen.value, "reasons": REASON_LABELS},
    )


@router.post("/moderation/reports/{report_id}")
def resolve_report(
    request: Request,
    report: ModeratedReport,
    db: DbSession,
    user: CurrentUser,
    action: Annotated[str, Form()] = "",
):
    moderation.resolve_report(db=db, report_row=report, moderator=user, action=action)
    db.commit()
    done = "Hidden; the report is resolved." if action == "hide" else "Report dismissed."
    return redirect(request, "/community/moderation", message=done, category="success")


@router.post("/posts/{post_id}/hide")
def hide_post(request: Request, post: VisiblePost, db: DbSession, user: CurrentUser, form: SwitchForm):
    moderation.set_post_hidden(db=db, post=post, moderator=user, hidden=form.on)
    said = ("The post is hidden from learners.", "The post is visible again.")
    return _switched(request, db, f"/community/posts/{post.id}", form.on, said)


@router.post("/comments/{comment_id}/hide")
def hide_comment(
    request: Request, comment: VisibleComment, db: DbSession, user: CurrentUser, form: SwitchForm
):
    moderation.set_comment_hidden(db=db, comment=comment, moderator=user, hidden=form.on)
    url = f"/community/posts/{comment.post_id}#comment-{comment.id}"
    return _switched(request, db, url, form.on, ("The comment is hidden.", "The comment is visible again."))


@router.post("/moderation/users/{user_id}/suspend")
def suspend_user(request: Request, user_id: int, db: DbSession, user: CurrentUser, form: SwitchForm):
    target = moderation.suspend_user(db=db, moderator=user, user_id=user_id, suspended=form.on)
    back = form.back if form.back.startswith("/community") else "/community/moderation"
    name = target.display_name
    return _switched(
        request, db, back, form.on, (f"{name}'s account is suspended.", f"{name}'s account is restored.")
    )
