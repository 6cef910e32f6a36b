"""Posts and comments as the API and the pages show them (the shapes of schemas.py)."""

from sqlalchemy.orm import Session

from app.auth.models import User
from app.community import comments, markdown, reactions, sharing
from app.community.models import Comment, Post, PostKind
from app.community.schemas import CommentOut, FeedItem, ImageOut, ModelShareOut, PostOut


def image_url(post_id: int, position: int) -> str:
    """Where a post's picture is served."""
    return f"/community/posts/{post_id}/images/{position}"


def feed_items(*, db: Session, posts: list[Post]) -> list[FeedItem]:
    """Feed entries with counts, answered flags and review badges, in a few queries."""
    ids = [p.id for p in posts]
    counts = comments.comment_counts(db=db, post_ids=ids)
    answered = comments.answered_ids(db=db, post_ids=ids)
    given = reactions.reaction_counts(db=db, post_ids=ids)
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
            reactions=given[p.id],
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
        my_reactions=reactions.my_reactions(db=db, post_id=post.id, user=viewer),
        comments=[comment_out(c) for c in comments.visible_comments(db=db, viewer=viewer, post=post)],
    )
