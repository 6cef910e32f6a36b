"""Posts: open one, write one (a shared model with chosen samples, or a help thread with
pictures), edit and delete. Plain functions; they flush, the caller commits."""

from pathlib import Path

from sqlalchemy.orm import Session

from app.auth.models import User
from app.community import exceptions as exc
from app.community import markdown, permissions, rate_limits, sharing
from app.community.models import ActionKind, Post, PostImage, PostKind
from app.community.schemas import PostCreate, PostUpdate
from app.db import utcnow
from app.lab import paths

MAX_HELP_IMAGES = 4


def get_post(*, db: Session, viewer: User | None, post_id: int) -> Post:
    """A post the viewer may open: hidden ones only for moderators and the author."""
    post = db.get(Post, post_id)
    if post is None:
        raise exc.PostNotFound()
    if post.hidden and not (
        permissions.is_moderator(viewer) or (viewer is not None and viewer.id == post.author_id)
    ):
        raise exc.PostNotFound()
    return post


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
    rate_limits.check_rate_limit(db=db, user=author, kind=ActionKind.post)

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


def update_post(*, db: Session, post: Post, editor: User, data: PostUpdate) -> Post:
    """Edit title, body or lesson tag (the author, or a moderator)."""
    permissions.ensure_author_or_moderator(post, editor, "post")
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
    permissions.ensure_author_or_moderator(post, user, "post")
    folder = paths.post_dir(data_dir, post.author_id, post.id)
    db.delete(post)
    db.flush()
    return folder
