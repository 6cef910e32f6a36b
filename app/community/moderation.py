"""Reports and moderation: file a report, the moderators' queue, hiding posts and comments,
suspending accounts."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.community import exceptions as exc
from app.community import permissions, rate_limits
from app.community.models import ActionKind, Comment, Post, Report, ReportReason, ReportStatus
from app.db import utcnow


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
    rate_limits.check_rate_limit(db=db, user=reporter, kind=ActionKind.report)
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


def list_reports(
    *, db: Session, moderator: User, status: ReportStatus | None = ReportStatus.open
) -> list[Report]:
    """The moderation queue, oldest first (open reports by default)."""
    permissions.require_moderator(moderator)
    query = select(Report)
    if status is not None:
        query = query.where(Report.status == status)
    return list(db.scalars(query.order_by(Report.id).limit(200)).unique())


def get_report(*, db: Session, moderator: User, report_id: int) -> Report:
    """One report, for moderators."""
    permissions.require_moderator(moderator)
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
    permissions.require_moderator(moderator)
    if hidden and post.hidden_at is None:
        post.hidden_at, post.hidden_by_id = utcnow(), moderator.id
        _close_reports(db, moderator, Report.post_id == post.id, ReportStatus.resolved)
    elif not hidden:
        post.hidden_at, post.hidden_by_id = None, None
    db.flush()
    return post


def set_comment_hidden(*, db: Session, comment: Comment, moderator: User, hidden: bool) -> Comment:
    """Hide a comment from everyone but moderators (and its author), or restore it."""
    permissions.require_moderator(moderator)
    if hidden and comment.hidden_at is None:
        comment.hidden_at, comment.hidden_by_id, comment.accepted = utcnow(), moderator.id, False
        _close_reports(db, moderator, Report.comment_id == comment.id, ReportStatus.resolved)
    elif not hidden:
        comment.hidden_at, comment.hidden_by_id = None, None
    db.flush()
    return comment


def resolve_report(*, db: Session, report_row: Report, moderator: User, action: str) -> Report:
    """Act on a report: `hide` hides what it points at, `dismiss` closes it as unfounded."""
    permissions.require_moderator(moderator)
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
    permissions.require_moderator(moderator)
    user = auth_service.get_user(db=db, user_id=user_id)
    if user is None:
        raise exc.UserNotFound()
    if user.id == moderator.id:
        raise exc.InvalidPost("You cannot suspend your own account.")
    if user.role == Role.admin or (user.role == Role.reviewer and moderator.role != Role.admin):
        raise exc.CannotSuspend()
    return auth_service.set_suspended(db=db, user=user, suspended=suspended)
