"""The community: feed, posts, comments, reactions, reports and moderation.

Plain functions with keyword-only arguments; they flush, the caller commits."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.community import exceptions as exc
from app.community import markdown, sharing
from app.community.models import (
    Action,
    ActionKind,
    Comment,
    Post,
    PostImage,
    PostKind,
    Reaction,
    ReactionKind,
    Report,
    ReportReason,
    ReportStatus,
)
from app.community.schemas import (
    CommentCreate,
    CommentOut,
    FeedItem,
    ImageOut,
    ModelShareOut,
    PostCreate,
    PostOut,
    PostUpdate,
)
from app.db import utcnow
from app.lab import paths

# (most actions, per minutes) for each kind of write, counted from the database.
RATE_LIMITS: dict[ActionKind, tuple[int, int]] = {
    ActionKind.post: (5, 10),
    ActionKind.comment: (20, 10),
    ActionKind.report: (10, 10),
}
_LIMIT_WORDS = {ActionKind.post: "posts", ActionKind.comment: "comments", ActionKind.report: "reports"}
FEED_PAGE = 20
MAX_PAGE = 50
MAX_HELP_IMAGES = 4


def is_moderator(user: User | None) -> bool:
    """Reviewers and administrators moderate the community."""
    return user is not None and user.has_role(Role.reviewer)


# ---- rate limits ----


def check_rate_limit(*, db: Session, user: User, kind: ActionKind) -> None:
    """Record one action, or raise RateLimited when the user has used up the window."""
    limit, minutes = RATE_LIMITS[kind]
    # Lock the user's row so two requests of the same user count one after the other
    # (PostgreSQL; SQLite already runs one writer at a time).
    db.execute(select(User.id).where(User.id == user.id).with_for_update())
    since = utcnow() - timedelta(minutes=minutes)
    recent = select(Action.created_at).where(
        Action.user_id == user.id, Action.kind == kind, Action.created_at >= since
    )
    count = db.scalar(select(func.count()).select_from(recent.subquery()))
    if count >= limit:
        oldest = db.scalar(select(func.min(recent.subquery().c.created_at)))
        wait = max(1, int((oldest + timedelta(minutes=minutes) - utcnow()).total_seconds()) + 1)
        raise exc.RateLimited(_LIMIT_WORDS[kind], limit, minutes, wait)
    db.add(Action(user_id=user.id, kind=kind))
    db.flush()


# ---- reading ----


def visible_posts(viewer: User | None):
    """A select of the posts this viewer may see in lists: hidden ones only for moderators."""
    query = select(Post)
    if not is_moderator(viewer):
        query = query.where(Post.hidden_at.is_(None))
    return query


def feed(
    *,
    db: Session,
    viewer: User | None,
    kind: PostKind | None = None,
    before: int | None = None,
    after: int | None = None,
    lesson: int | None = None,
    limit: int = FEED_PAGE,
) -> list[Post]:
    """Posts newest first. `before` pages to older posts (the cursor is the last id seen);
    `after` returns only posts newer than an id, for polling. Ids only grow, so pages never
    shift when new posts arrive."""
    query = visible_posts(viewer)
    if kind is not None:
        query = query.where(Post.kind == kind)
    if lesson is not None:
        query = query.where(Post.lesson_number == lesson)
    if before is not None:
        query = query.where(Post.id < before)
    if after is not None:
        query = query.where(Post.id > after)
    limit = max(1, min(limit, MAX_PAGE))
    return list(db.scalars(query.order_by(Post.id.desc()).limit(limit)).unique())


def next_cursor(posts: list[Post], limit: int) -> int | None:
    """The `before` value for the next page, or None when this page was the last."""
    return posts[-1].id if posts and len(posts) >= max(1, min(limit, MAX_PAGE)) else None


def get_post(*, db: Session, viewer: User | None, post_id: int) -> Post:
    """A post the viewer may open: hidden ones only for moderators and the author."""
    post = db.get(Post, post_id)
    if post is None:
        raise exc.PostNotFound()
    if post.hidden and not (is_moderator(viewer) or (viewer is not None and viewer.id == post.author_id)):
        raise exc.PostNotFound()
    return post


def get_comment(*, db: Session, viewer: User | None, comment_id: int) -> Comment:
    """A comment the viewer may see, on a post they may open."""
    comment = db.get(Comment, comment_id)
    if comment is None:
        raise exc.CommentNotFound()
    get_post(db=db, viewer=viewer, post_id=comment.post_id)
    if comment.hidden and not (
        is_moderator(viewer) or (viewer is not None and viewer.id == comment.author_id)
    ):
        raise exc.CommentNotFound()
    return comment


def visible_comments(*, db: Session, viewer: User | None, post: Post) -> list[Comment]:
    """A post's comments in order; hidden ones only for moderators and their author."""
    query = select(Comment).where(Comment.post_id == post.id).order_by(Comment.id)
    if not is_moderator(viewer):
        own = Comment.author_id == viewer.id if viewer is not None else False
        query = query.where((Comment.hidden_at.is_(None)) | own)
    return list(db.scalars(query).unique())


def comment_counts(*, db: Session, post_ids: list[int]) -> dict[int, int]:
    """Visible comments per post."""
    if not post_ids:
        return {}
    rows = db.execute(
        select(Comment.post_id, func.count())
        .where(Comment.post_id.in_(post_ids), Comment.hidden_at.is_(None))
        .group_by(Comment.post_id)
    )
    return dict(rows.all())


def answered_ids(*, db: Session, post_ids: list[int]) -> set[int]:
    """Help threads among these posts that have an accepted answer."""
    if not post_ids:
        return set()
    return set(
        db.scalars(select(Comment.post_id).where(Comment.post_id.in_(post_ids), Comment.accepted.is_(True)))
    )


def reaction_counts(*, db: Session, post_ids: list[int]) -> dict[int, dict[str, int]]:
    """{post_id: {kind: count}} for every reaction kind (zeros included, in a fixed order)."""
    out = {pid: {k.value: 0 for k in ReactionKind} for pid in post_ids}
    if post_ids:
        rows = db.execute(
            select(Reaction.post_id, Reaction.kind, func.count())
            .where(Reaction.post_id.in_(post_ids))
            .group_by(Reaction.post_id, Reaction.kind)
        )
        for post_id, kind, count in rows:
            out[post_id][ReactionKind(kind).value] = count
    return out


def my_reactions(*, db: Session, post_id: int, user: User | None) -> list[ReactionKind]:
    """The reaction kinds this user gave this post."""
    if user is None:
        return []
    kinds = db.scalars(select(Reaction.kind).where(Reaction.post_id == post_id, Reaction.user_id == user.id))
    return sorted((ReactionKind(k) for k in kinds), key=list(ReactionKind).index)


def related_threads(*, db: Session, lesson_number: int, limit: int = 5) -> list[Post]:
    """Visible help threads tagged with a lesson, newest first, for the lesson page."""
    return list(
        db.scalars(
            select(Post)
            .where(Post.kind == PostKind.help, Post.lesson_number == lesson_number, Post.hidden_at.is_(None))
            .order_by(Post.id.desc())
            .limit(limit)
        ).unique()
    )


# ---- writing posts ----


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise exc.InvalidPost("Give the post a title.")
    return title[:140]


def create_post(
    *,
    db: Session,
    data_dir: Path,
    author: User,
    data: PostCreate,
    uploads: list[bytes] | None = None,
) -> Post:
    """A new post. Model posts share one of the author's models with 2-4 chosen samples; help
    threads may attach a model or job (settings and loss curve) and up to four pictures."""
    title = _clean_title(data.title)
    uploads = [u for u in (uploads or []) if u]
    model = sharing.own_model(db=db, user=author, model_id=data.model_id) if data.model_id else None
    job = sharing.own_job(db=db, user=author, job_id=data.job_id) if data.job_id else None
    sources: list[sharing.SampleSource] = []
    if data.kind == PostKind.model:
        if model is None:
            raise exc.InvalidPost("Choose which of your models to share.")
        sources = _chosen_samples(db=db, model=model, refs=data.samples)
        if uploads:
            raise exc.InvalidPost("A shared model shows its own samples; choose them instead of uploading.")
    else:
        if data.samples:
            raise exc.InvalidPost("Samples are chosen only when sharing a model.")
        if len(uploads) > MAX_HELP_IMAGES:
            raise exc.InvalidPost(f"Attach at most {MAX_HELP_IMAGES} pictures.")
        if model is not None and job is not None and model.job_id != job.id:
            raise exc.InvalidPost("Attach either a model or a job, or a model with its own job.")
    check_rate_limit(db=db, user=author, kind=ActionKind.post)

    snap = sharing.snapshot(model=model, job=job) if (model or job) else None
    post = Post(
        author_id=author.id,
        kind=data.kind,
        title=title,
        body=data.body,
        body_html=markdown.render(data.body),
        lesson_number=data.lesson,
    )
    if snap is not None:
        post.model_id, post.job_id, post.model_name = snap.model_id, snap.job_id, snap.model_name
        post.trigger, post.class_word = snap.trigger, snap.class_word
        post.recommended_strength, post.recommended_epoch = snap.recommended_strength, snap.recommended_epoch
        post.settings, post.losses, post.total_steps = snap.settings, snap.losses, snap.total_steps
    db.add(post)
    db.flush()

    if sources or uploads:
        _store_pictures(db=db, data_dir=Path(data_dir), post=post, sources=sources, uploads=uploads)
    db.refresh(post)
    return post


def _store_pictures(
    *, db: Session, data_dir: Path, post: Post, sources: list[sharing.SampleSource], uploads: list[bytes]
) -> None:
    folder = paths.post_dir(data_dir, post.author_id, post.id)
    try:
        pictures = [(s.label, sharing.read_source(data_dir, s)) for s in sources]
        pictures += [("", raw) for raw in uploads]
        for position, (caption, raw) in enumerate(pictures, start=1):
            path = sharing.store_image(folder=folder, position=position, data=raw)
            relative = str(path.relative_to(data_dir))
            db.add(PostImage(post_id=post.id, position=position, path=relative, caption=caption))
        db.flush()
    except Exception:
        sharing.remove_folder(folder)  # nothing half-written: the caller rolls the rows back
        raise


def _chosen_samples(*, db: Session, model, refs: list[str]) -> list[sharing.SampleSource]:
    refs = list(dict.fromkeys(r.strip() for r in refs if r and r.strip()))
    if not 2 <= len(refs) <= 4:
        raise exc.InvalidPost("Choose 2 to 4 sample images to show with your model.")
    available = {s.ref: s for s in sharing.sample_sources(db=db, model=model)}
    unknown = [r for r in refs if r not in available]
    if unknown:
        raise exc.InvalidPost(f"Not a sample of this model: {', '.join(unknown)}.")
    return [available[r] for r in refs]


def _ensure_author_or_moderator(post_or_comment, user: User, what: str) -> None:
    if post_or_comment.author_id != user.id and not is_moderator(user):
        raise exc.NotAuthor(what)


def update_post(*, db: Session, post: Post, editor: User, data: PostUpdate) -> Post:
    """Edit title, body or lesson tag (the author, or a moderator)."""
    _ensure_author_or_moderator(post, editor, "post")
    if data.title is not None:
        post.title = _clean_title(data.title)
    if data.body is not None:
        post.body, post.body_html = data.body, markdown.render(data.body)
    if "lesson" in data.model_fields_set:
        post.lesson_number = data.lesson
    post.edited_at = utcnow()
    db.flush()
    return post


def delete_post(*, db: Session, data_dir: Path, post: Post, user: User) -> Path:
    """Delete a post with its comments, reactions and reports; returns the picture folder,
    which the caller removes after the commit."""
    _ensure_author_or_moderator(post, user, "post")
    folder = paths.post_dir(data_dir, post.author_id, post.id)
    db.delete(post)
    db.flush()
    return folder


# ---- comments ----


def add_comment(*, db: Session, post: Post, author: User, data: CommentCreate) -> Comment:
    """A comment or answer on a post."""
    body = data.body.strip()
    if not body:
        raise exc.InvalidPost("Write something first.")
    check_rate_limit(db=db, user=author, kind=ActionKind.comment)
    comment = Comment(post_id=post.id, author_id=author.id, body=body, body_html=markdown.render(body))
    db.add(comment)
    db.flush()
    db.refresh(comment)
    return comment


def update_comment(*, db: Session, comment: Comment, editor: User, data: CommentCreate) -> Comment:
    """Edit a comment (its author, or a moderator)."""
    _ensure_author_or_moderator(comment, editor, "comment")
    body = data.body.strip()
    if not body:
        raise exc.InvalidPost("A comment cannot be empty; delete it instead.")
    comment.body, comment.body_html, comment.edited_at = body, markdown.render(body), utcnow()
    db.flush()
    return comment


def delete_comment(*, db: Session, comment: Comment, user: User) -> None:
    """Delete a comment (its author, or a moderator)."""
    _ensure_author_or_moderator(comment, user, "comment")
    db.delete(comment)
    db.flush()


def accept_answer(*, db: Session, comment: Comment, user: User, accepted: bool = True) -> Comment:
    """Mark (or unmark) the answer that solved a help thread; one per thread."""
    post = comment.post
    if post.kind != PostKind.help:
        raise exc.InvalidPost("Only help threads have an accepted answer.")
    if post.author_id != user.id and not is_moderator(user):
        raise exc.NotAuthor("thread")
    if accepted and comment.hidden:
        raise exc.InvalidPost("A hidden comment cannot be the accepted answer.")
    if accepted:
        db.execute(
            update(Comment).where(Comment.post_id == post.id, Comment.id != comment.id).values(accepted=False)
        )
    comment.accepted = accepted
    db.flush()
    return comment


# ---- reactions ----


def add_reaction(*, db: Session, post: Post, user: User, kind: ReactionKind) -> bool:
    """Give a reaction; returns False when the user had already given it."""
    exists = db.scalar(
        select(Reaction.id).where(
            Reaction.post_id == post.id, Reaction.user_id == user.id, Reaction.kind == kind
        )
    )
    if exists:
        return False
    try:
        with db.begin_nested():
            db.add(Reaction(post_id=post.id, user_id=user.id, kind=kind))
    except IntegrityError:  # a double click that raced us
        return False
    return True


def remove_reaction(*, db: Session, post: Post, user: User, kind: ReactionKind) -> None:
    """Take a reaction back (nothing happens if it was not given)."""
    db.execute(
        delete(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == user.id, Reaction.kind == kind
        )
    )
    db.flush()


def toggle_reaction(*, db: Session, post: Post, user: User, kind: ReactionKind) -> None:
    """Give the reaction, or take it back if it was given (the buttons on the page)."""
    if not add_reaction(db=db, post=post, user=user, kind=kind):
        remove_reaction(db=db, post=post, user=user, kind=kind)


# ---- reports and moderation ----


def report(
    *,
    db: Session,
    reporter: User,
    reason: ReportReason,
    note: str,
    post: Post | None = None,
    comment: Comment | None = None,
) -> Report:
    """File a report on a post or a comment for the moderators' queue."""
    target = (Report.comment_id == comment.id) if comment is not None else (Report.post_id == post.id)
    open_already = db.scalar(
        select(Report.id).where(target, Report.reporter_id == reporter.id, Report.status == ReportStatus.open)
    )
    if open_already:
        raise exc.AlreadyReported()
    check_rate_limit(db=db, user=reporter, kind=ActionKind.report)
    row = Report(
        reporter_id=reporter.id,
        post_id=post.id if comment is None else None,
        comment_id=comment.id if comment is not None else None,
        reason=reason,
        note=" ".join((note or "").split())[:500],
    )
    db.add(row)
    db.flush()
    return row


def _require_moderator(user: User) -> None:
    if not is_moderator(user):
        raise exc.NotModerator()


def list_reports(
    *, db: Session, moderator: User, status: ReportStatus | None = ReportStatus.open
) -> list[Report]:
    """The moderation queue, oldest first (open reports by default)."""
    _require_moderator(moderator)
    query = select(Report)
    if status is not None:
        query = query.where(Report.status == status)
    return list(db.scalars(query.order_by(Report.id).limit(200)).unique())


def get_report(*, db: Session, moderator: User, report_id: int) -> Report:
    """One report, for moderators."""
    _require_moderator(moderator)
    row = db.get(Report, report_id)
    if row is None:
        raise exc.ReportNotFound()
    return row


def _close_reports(db: Session, moderator: User, target, status: ReportStatus) -> None:
    db.execute(
        update(Report)
        .where(target, Report.status == ReportStatus.open)
        .values(status=status, resolved_by_id=moderator.id, resolved_at=utcnow())
    )


def set_post_hidden(*, db: Session, post: Post, moderator: User, hidden: bool) -> Post:
    """Hide a post from everyone but moderators (and its author), or restore it.
    Hiding settles the open reports about it."""
    _require_moderator(moderator)
    if hidden and post.hidden_at is None:
        post.hidden_at, post.hidden_by_id = utcnow(), moderator.id
        _close_reports(db, moderator, Report.post_id == post.id, ReportStatus.resolved)
    elif not hidden:
        post.hidden_at, post.hidden_by_id = None, None
    db.flush()
    return post


def set_comment_hidden(*, db: Session, comment: Comment, moderator: User, hidden: bool) -> Comment:
    """Hide a comment from everyone but moderators (and its author), or restore it."""
    _require_moderator(moderator)
    if hidden and comment.hidden_at is None:
        comment.hidden_at, comment.hidden_by_id, comment.accepted = utcnow(), moderator.id, False
        _close_reports(db, moderator, Report.comment_id == comment.id, ReportStatus.resolved)
    elif not hidden:
        comment.hidden_at, comment.hidden_by_id = None, None
    db.flush()
    return comment


def resolve_report(*, db: Session, report_row: Report, moderator: User, action: str) -> Report:
    """Act on a report: `hide` hides what it points at, `dismiss` closes it as unfounded."""
    _require_moderator(moderator)
    if action == "hide":
        if report_row.comment is not None:
            set_comment_hidden(db=db, comment=report_row.comment, moderator=moderator, hidden=True)
        elif report_row.post is not None:
            set_post_hidden(db=db, post=report_row.post, moderator=moderator, hidden=True)
        report_row.status = ReportStatus.resolved
    elif action == "dismiss":
        report_row.status = ReportStatus.dismissed
    else:
        raise exc.InvalidPost("Choose hide or dismiss.")
    report_row.resolved_by_id, report_row.resolved_at = moderator.id, utcnow()
    db.flush()
    return report_row


def suspend_user(*, db: Session, moderator: User, user_id: int, suspended: bool) -> User:
    """Suspend an account (signed out everywhere, sign-in refused) or lift the suspension.
    Reviewers may suspend learners and instructors; only admins may suspend reviewers."""
    _require_moderator(moderator)
    user = auth_service.get_user(db=db, user_id=user_id)
    if user is None:
        raise exc.UserNotFound()
    if user.id == moderator.id:
        raise exc.InvalidPost("You cannot suspend your own account.")
    if user.role == Role.admin or (user.role == Role.reviewer and moderator.role != Role.admin):
        raise exc.CannotSuspend()
    return auth_service.set_suspended(db=db, user=user, suspended=suspended)


# ---- answers for the API and the pages ----


def image_url(post_id: int, position: int) -> str:
    """Where a post's picture is served."""
    return f"/community/posts/{post_id}/images/{position}"


def feed_items(*, db: Session, posts: list[Post]) -> list[FeedItem]:
    """Feed entries with counts, answered flags and review badges, in a few queries."""
    ids = [p.id for p in posts]
    counts = comment_counts(db=db, post_ids=ids)
    answered = answered_ids(db=db, post_ids=ids)
    reactions = reaction_counts(db=db, post_ids=ids)
    approved = sharing.approved_model_ids(db=db, model_ids=[p.model_id for p in posts if p.model_id])
    return [
        FeedItem(
            id=p.id,
            kind=p.kind,
            title=p.title,
            author=p.author.display_name,
            author_id=p.author_id,
            created_at=p.created_at,
            edited_at=p.edited_at,
            excerpt=markdown.excerpt(p.body),
            lesson=p.lesson_number,
            comment_count=counts.get(p.id, 0),
            reactions=reactions[p.id],
            answered=p.id in answered,
            hidden=p.hidden,
            url=f"/community/posts/{p.id}",
            images=[ImageOut(url=image_url(p.id, i.position), caption=i.caption) for i in p.images],
            model=_model_share(p, approved) if p.kind == PostKind.model else None,
        )
        for p in posts
    ]


def _model_share(post: Post, approved: set[int]) -> ModelShareOut:
    return ModelShareOut(
        model_id=post.model_id,
        name=post.model_name,
        trigger=post.trigger,
        class_word=post.class_word,
        recommended_strength=post.recommended_strength,
        recommended_epoch=post.recommended_epoch,
        approved=post.model_id in approved,
    )


def comment_out(comment: Comment) -> CommentOut:
    """A comment as JSON."""
    return CommentOut(
        id=comment.id,
        post_id=comment.post_id,
        author=comment.author.display_name,
        author_id=comment.author_id,
        body=comment.body,
        body_html=comment.body_html,
        accepted=comment.accepted,
        hidden=comment.hidden,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
    )


def post_out(*, db: Session, post: Post, viewer: User | None) -> PostOut:
    """A post with its body, settings, loss points, comments and the viewer's reactions."""
    item = feed_items(db=db, posts=[post])[0]
    return PostOut(
        **item.model_dump(),
        body=post.body,
        body_html=post.body_html,
        job_id=post.job_id,
        settings=post.settings,
        losses=post.losses,
        my_reactions=my_reactions(db=db, post_id=post.id, user=viewer),
        comments=[comment_out(c) for c in visible_comments(db=db, viewer=viewer, post=post)],
    )
