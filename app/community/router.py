"""The community's JSON API: feed, posts, comments, reactions, reports and moderation."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import CurrentUser, DbSession
from app.community import comments, feed, moderation, posts, presenters, reactions, sharing
from app.community.dependencies import ModeratedReport, SwitchedOn, VisibleComment, VisiblePost
from app.community.models import PostKind, ReactionKind, ReportStatus
from app.community.schemas import (
    CommentCreate,
    CommentOut,
    FeedItem,
    PostCreate,
    PostOut,
    PostUpdate,
    ReactionIn,
    ReactionsOut,
    ReportIn,
    ReportOut,
    ResolveIn,
    SampleChoice,
)
from app.dependencies import SettingsDep

router = APIRouter(prefix="/api", tags=["community"])


@router.get("/feed", response_model=list[FeedItem])
def api_feed(
    response: Response,
    db: DbSession,
    user: CurrentUser,
    kind: PostKind | None = None,
    before: Annotated[int | None, Query(ge=1, description="cursor: posts older than this id")] = None,
    after: Annotated[int | None, Query(ge=0, description="only posts newer than this id (polling)")] = None,
    limit: Annotated[int, Query(ge=1, le=feed.MAX_PAGE)] = feed.FEED_PAGE,
    lesson: Annotated[int | None, Query(ge=1, le=8, description="only help threads of this lesson")] = None,
):
    posts = feed.feed(db=db, viewer=user, kind=kind, before=before, after=after, limit=limit, lesson=lesson)
    cursor = feed.next_cursor(posts, limit) if after is None else None
    if cursor is not None:
        query = f"before={cursor}&limit={limit}" + (f"&kind={kind.value}" if kind else "")
        response.headers["X-Next-Cursor"] = str(cursor)
        response.headers["Link"] = f'</api/feed?{query}>; rel="next"'
    return presenters.feed_items(db=db, posts=posts)


@router.post("/posts", status_code=201, response_model=PostOut)
def api_create_post(
    settings: SettingsDep, body: PostCreate, request: Request, db: DbSession, user: CurrentUser
):
    post = posts.create_post(db=db, data_dir=settings.data_dir, author=user, data=body)
    db.commit()
    return presenters.post_out(db=db, post=post, viewer=user)


@router.get("/posts/{post_id}", response_model=PostOut)
def api_get_post(post: VisiblePost, db: DbSession, user: CurrentUser):
    return presenters.post_out(db=db, post=post, viewer=user)


@router.patch("/posts/{post_id}", response_model=PostOut)
def api_update_post(post: VisiblePost, body: PostUpdate, db: DbSession, user: CurrentUser):
    posts.update_post(db=db, post=post, editor=user, data=body)
    db.commit()
    return presenters.post_out(db=db, post=post, viewer=user)


@router.delete("/posts/{post_id}", status_code=204)
def api_delete_post(
    settings: SettingsDep, post: VisiblePost, request: Request, db: DbSession, user: CurrentUser
):
    folder = posts.delete_post(db=db, data_dir=settings.data_dir, post=post, user=user)
    db.commit()
    sharing.remove_folder(folder)
    return Response(status_code=204)


@router.get("/posts/{post_id}/comments", response_model=list[CommentOut])
def api_list_comments(post: VisiblePost, db: DbSession, user: CurrentUser):
    return [presenters.comment_out(c) for c in comments.visible_comments(db=db, viewer=user, post=post)]


@router.post("/posts/{post_id}/comments", status_code=201, response_model=CommentOut)
def api_add_comment(post: VisiblePost, body: CommentCreate, db: DbSession, user: CurrentUser):
    comment = comments.add_comment(db=db, post=post, author=user, data=body)
    db.commit()
    return presenters.comment_out(comment)


@router.patch("/comments/{comment_id}", response_model=CommentOut)
def api_update_comment(comment: VisibleComment, body: CommentCreate, db: DbSession, user: CurrentUser):
    comments.update_comment(db=db, comment=comment, editor=user, data=body)
    db.commit()
    return presenters.comment_out(comment)


@router.delete("/comments/{comment_id}", status_code=204)
def api_delete_comment(comment: VisibleComment, db: DbSession, user: CurrentUser):
    comments.delete_comment(db=db, comment=comment, user=user)
    db.commit()
    return Response(status_code=204)


@router.post("/comments/{comment_id}/accept", response_model=CommentOut)
@router.delete("/comments/{comment_id}/accept", response_model=CommentOut)
def api_accept_answer(comment: VisibleComment, db: DbSession, user: CurrentUser, on: SwitchedOn):
    comments.accept_answer(db=db, comment=comment, user=user, accepted=on)
    db.commit()
    return presenters.comment_out(comment)


def _reactions(db, post, user) -> ReactionsOut:
    counts = reactions.reaction_counts(db=db, post_ids=[post.id])[post.id]
    return ReactionsOut(reactions=counts, mine=reactions.my_reactions(db=db, post_id=post.id, user=user))


@router.post("/posts/{post_id}/reactions", response_model=ReactionsOut)
def api_react(post: VisiblePost, body: ReactionIn, response: Response, db: DbSession, user: CurrentUser):
    added = reactions.add_reaction(db=db, post=post, user=user, kind=body.kind)
    db.commit()
    response.status_code = 201 if added else 200
    return _reactions(db, post, user)


@router.delete("/posts/{post_id}/reactions/{kind}", response_model=ReactionsOut)
def api_unreact(post: VisiblePost, kind: ReactionKind, db: DbSession, user: CurrentUser):
    reactions.remove_reaction(db=db, post=post, user=user, kind=kind)
    db.commit()
    return _reactions(db, post, user)


@router.post("/posts/{post_id}/report", status_code=201)
def api_report_post(post: VisiblePost, body: ReportIn, db: DbSession, user: CurrentUser):
    row = moderation.report(db=db, reporter=user, reason=body.reason, note=body.note, post=post)
    db.commit()
    return {"id": row.id, "status": row.status.value}


@router.post("/comments/{comment_id}/report", status_code=201)
def api_report_comment(comment: VisibleComment, body: ReportIn, db: DbSession, user: CurrentUser):
    row = moderation.report(db=db, reporter=user, reason=body.reason, note=body.note, comment=comment)
    db.commit()
    return {"id": row.id, "status": row.status.value}


@router.get("/community/models/{model_id}/samples", response_model=list[SampleChoice])
def api_sample_choices(model_id: int, db: DbSession, user: CurrentUser):
    """The images of one's own model that can be shared (refs for POST /api/posts `samples`)."""
    model = sharing.own_model(db=db, user=user, model_id=model_id)
    return [
        SampleChoice(ref=s.ref, url=s.preview_url, label=s.label)
        for s in sharing.sample_sources(db=db, model=model)
    ]


@router.get("/community/related", response_model=list[FeedItem])
def api_related(db: DbSession, user: CurrentUser, lesson: Annotated[int, Query(ge=1, le=8)], limit: int = 5):
    posts = feed.related_threads(db=db, lesson_number=lesson, limit=max(1, min(limit, 20)))
    return presenters.feed_items(db=db, posts=posts)


# ---- moderation ----


def report_out(row) -> ReportOut:
    """A report with a short view of what it points at."""
    target = row.comment or row.post
    text = (row.comment.body if row.comment else (row.post.title if row.post else "")) or ""
    return ReportOut(
        id=row.id,
        status=row.status,
        reason=row.reason,
        note=row.note,
        reporter=row.reporter.display_name,
        post_id=row.post_id if row.post_id else (row.comment.post_id if row.comment else None),
        comment_id=row.comment_id,
        target_author_id=target.author_id if target else None,
        target_hidden=bool(target and target.hidden),
        excerpt=text[:200],
        created_at=row.created_at,
    )


@router.get("/moderation/reports", response_model=list[ReportOut])
def api_reports(
    db: DbSession, user: CurrentUser, status: Literal["open", "resolved", "dismissed", "all"] = "open"
):
    chosen = None if status == "all" else ReportStatus(status)
    return [report_out(r) for r in moderation.list_reports(db=db, moderator=user, status=chosen)]


@router.post("/moderation/reports/{report_id}", response_model=ReportOut)
def api_resolve_report(report: ModeratedReport, body: ResolveIn, db: DbSession, user: CurrentUser):
    moderation.resolve_report(db=db, report_row=report, moderator=user, action=body.action)
    db.commit()
    return report_out(report)


@router.post("/posts/{post_id}/hide", response_model=PostOut)
@router.post("/posts/{post_id}/restore", response_model=PostOut)
def api_hide_post(post: VisiblePost, db: DbSession, user: CurrentUser, on: SwitchedOn):
    moderation.set_post_hidden(db=db, post=post, moderator=user, hidden=on)
    db.commit()
    return presenters.post_out(db=db, post=post, viewer=user)


@router.post("/comments/{comment_id}/hide", response_model=CommentOut)
@router.post("/comments/{comment_id}/restore", response_model=CommentOut)
def api_hide_comment(comment: VisibleComment, db: DbSession, user: CurrentUser, on: SwitchedOn):
    moderation.set_comment_hidden(db=db, comment=comment, moderator=user, hidden=on)
    db.commit()
    return presenters.comment_out(comment)


@router.post("/moderation/users/{user_id}/suspend")
@router.post("/moderation/users/{user_id}/unsuspend")
def api_suspend(user_id: int, db: DbSession, user: CurrentUser, on: SwitchedOn):
    target = moderation.suspend_user(db=db, moderator=user, user_id=user_id, suspended=on)
    db.commit()
    return {"id": target.id, "suspended": on, "suspended_at": target.suspended_at}
