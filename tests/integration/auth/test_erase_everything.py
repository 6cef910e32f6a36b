"""DELETE /api/me erases the learner completely. The learner first makes as much data as the app
lets them, through the real API and forms; then, after the erase, every file of the data directory
and every row of every table (read from the database itself, not from our models) is searched for
anything of theirs, and rows other people made about their things must be gone too."""

import hashlib
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import JSON, String, Text, cast, column, func, inspect, select, table, text

from app.community.models import Comment, Post, Reaction, Report
from app.evaluate.models import Generation
from app.lab.worker import Worker
from app.quiz import service as quiz_service
from app.review.models import Review
from tests import factories
from tests.conftest import csrf_token
from tests.photos import write_face_set

pytestmark = pytest.mark.slow  # one tiny LoRA is trained, sampled and swept

EMAIL = "erase.me.entirely@example.com"
# Columns that name a person even where no foreign key says so.
PERSON_COLUMNS = {
    "user_id",
    "author_id",
    "owner_id",
    "learner_id",
    "reviewer_id",
    "created_by",
    "reporter_id",
}


@pytest.fixture(scope="module")
def tiny_lora(tmp_path_factory, settings):
    return factories.train_tiny_lora(tmp_path_factory.mktemp("erase-train"), settings.data_dir / "cache")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), (200, 120, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def _pass_lessons_through_the_api(api, db, upto: int = 6) -> None:
    for number in range(1, upto + 1):
        asked = api.get(f"/api/lessons/{number}/check").json()["questions"]
        by_id = {q.id: q for q in quiz_service.list_questions(db=db, lesson_number=number)}
        answers = {str(q["id"]): quiz_service.right_answers(by_id[q["id"]]) for q in asked}
        result = api.post(f"/api/lessons/{number}/check", json={"answers": answers})
        assert result.status_code == 200 and result.json()["passed"], result.text


def _ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json() if "json" in response.headers.get("content-type", "") else response


def _person_columns(inspector, name: str) -> set[str]:
    refs = {
        col
        for fk in inspector.get_foreign_keys(name)
        if fk["referred_table"] == "user"
        for col in fk["constrained_columns"]
    }
    return refs | {c["name"] for c in inspector.get_columns(name) if c["name"] in PERSON_COLUMNS}


def _leftovers(engine, user_id: int, texts: list[str]) -> list[str]:
    """Every (table, column) that still names the user or holds one of `texts`, read by inspection."""
    found = []
    inspector = inspect(engine)
    with engine.connect() as conn:
        for name in inspector.get_table_names():
            if name == "alembic_version":
                continue
            columns = inspector.get_columns(name)
            t = table(name, *(column(c["name"]) for c in columns))
            if name == "user" and conn.scalar(select(func.count()).select_from(t).where(t.c.id == user_id)):
                found.append("user.id")
            for col in _person_columns(inspector, name):
                if conn.scalar(select(func.count()).select_from(t).where(t.c[col] == user_id)):
                    found.append(f"{name}.{col} = {user_id}")
            for c in columns:
                if not isinstance(c["type"], String | Text | JSON):
                    continue
                as_text = cast(t.c[c["name"]], Text)
                for value in texts:
                    if conn.scalar(select(func.count()).select_from(t).where(as_text.contains(value))):
                        found.append(f"{name}.{c['name']} holds {value!r}")
    return found


def test_delete_me_leaves_no_row_and_no_file_of_the_learner(
    app, db, settings, client, client_as, api_as, tiny_lora, tmp_path
):
    data_dir = settings.data_dir
    learner = client_as("learner", consented=False, email=EMAIL)  # a browser: cookie and CSRF token
    user = learner.user
    user_id = user.id
    token = _ok(learner.post("/api/tokens", json={"name": "my laptop"}), 201)["token"]
    script = TestClient(app, follow_redirects=False, headers={"Authorization": f"Bearer {token}"})
    # A failed sign-in with their address, kept for throttling.
    wrong = {"email": EMAIL, "password": "not it at all", "csrf_token": csrf_token(client)}
    client.post("/login", data=wrong)

    _pass_lessons_through_the_api(script, db)
    photos = [(p.name, p.read_bytes()) for p in write_face_set(tmp_path, 512)]
    upload = _ok(script.post("/api/datasets", files=[("files", (n, b, "image/jpeg")) for n, b in photos],
                             data={"base": "sd15", "consent": "true", "keep_photos": "true"}), 201)  # fmt: skip
    image = upload["images"][0]
    caption_url = f"/api/datasets/{upload['id']}/images/{image['id']}"
    _ok(script.patch(caption_url, json={"caption": "sks woman, smiling"}))

    # A finished model through the real queue, then one more job from the API left waiting.
    model = factories.make_lora_model(db, data_dir, user, *tiny_lora, name="erase_me_lora")
    _ok(script.post(f"/api/models/{model.id}/generate", json={"prompt": "photo of sks woman", "strength": 0.8,
                                                              "seed": 3}))  # fmt: skip
    _ok(script.post(f"/api/models/{model.id}/sweeps", json={"epochs": 1, "strengths": [1.0]}), 201)
    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu").run(exit_when_idle=True)
    waiting_job = _ok(script.post("/api/jobs", json={"dataset_id": upload["id"], "trigger": "sks",
                                                     "class_word": "woman", "epochs": 1, "rank": 4,
                                                     "resolution": 64, "sample_steps": 2}), 201)  # fmt: skip

    # Review: the learner submits, a reviewer claims, tries a prompt and approves.
    reviewer = api_as("reviewer")
    submission = _ok(script.post("/api/submissions", json={"model_id": model.id, "note": "please look"}), 201)
    _ok(reviewer.post(f"/api/submissions/{submission['id']}/claim"))
    tried = reviewer.post(f"/review/{submission['id']}/generate", data={"prompt": "photo of sks woman"})
    assert tried.status_code == 303, tried.text
    scores = {"likeness": 4, "consistency": 4, "flexibility": 4, "image_quality": 4}
    _ok(reviewer.post(f"/api/submissions/{submission['id']}/reviews",
                      json={"scores": scores, "verdict": "approved", "comment": "Convincing."}), 201)  # fmt: skip

    # Community: a help thread with a picture (form), a shared model (API), and their words on
    # someone else's thread; that someone answers, reacts and reports on theirs.
    other = api_as("learner")
    help_post = learner.post("/community/posts", data={"kind": "help", "title": "Eyes melt", "body": "Why?",
                                                        "csrf_token": learner.csrf},
                             files=[("images", ("me.png", _png(), "image/png"))])  # fmt: skip
    assert help_post.status_code == 303, help_post.text
    help_post_id = int(help_post.headers["location"].rstrip("/").split("/")[-1])
    refs = [s["ref"] for s in _ok(script.get(f"/api/community/models/{model.id}/samples"))][:2]
    _ok(script.post("/api/posts", json={"kind": "model", "title": "My first LoRA", "model_id": model.id,
                                        "samples": refs}), 201)  # fmt: skip
    theirs = _ok(other.post("/api/posts", json={"kind": "help", "title": "Loss is flat", "body": "Hm"}), 201)
    _ok(script.post(f"/api/posts/{theirs['id']}/comments", json={"body": "Raise the learning rate."}), 201)
    _ok(script.post(f"/api/posts/{theirs['id']}/reactions", json={"kind": "helpful"}), 201)
    _ok(script.post(f"/api/posts/{theirs['id']}/report", json={"reason": "off_topic"}), 201)
    answer = _ok(other.post(f"/api/posts/{help_post_id}/comments", json={"body": "Lower the strength."}), 201)
    _ok(other.post(f"/api/posts/{help_post_id}/reactions", json={"kind": "like"}), 201)
    _ok(other.post(f"/api/posts/{help_post_id}/report", json={"reason": "other", "note": "dup"}), 201)

    # What to look for afterwards.
    db.expire_all()
    folder = data_dir / "users" / str(user_id)
    their_files = [p for p in folder.rglob("*") if p.is_file()]
    kinds = {p.relative_to(folder).parts[0] for p in their_files}
    assert {"datasets", "jobs", "evaluate", "review", "community"} <= kinds
    hashes = {_sha(p.read_bytes()) for p in their_files} | {_sha(b) for _, b in photos}
    secrets = [EMAIL, _sha(token.encode()), _sha(learner.cookies["loraface_session"].encode())]
    others_rows = {
        Comment: answer["id"],
        Reaction: db.scalar(select(Reaction.id).where(Reaction.post_id == help_post_id)),
        Report: db.scalar(select(Report.id).where(Report.post_id == help_post_id)),
        Review: db.scalar(select(Review.id).where(Review.submission_id == submission["id"])),
        Generation: db.scalar(select(Generation.id).where(Generation.user_id == reviewer.user.id)),
    }
    assert all(others_rows.values()), others_rows
    before = set(_leftovers(app.state.engine, user_id, secrets))  # the search sees them while they exist
    assert {"user.id", f"dataset.user_id = {user_id}", f"community_reaction.user_id = {user_id}"} <= before
    assert {f"user.email holds {EMAIL!r}", f"api_token.token_hash holds {secrets[1]!r}"} <= before

    assert script.delete("/api/me").status_code == 204
    assert script.get("/api/me").status_code == 401
    script.close()

    db.expire_all()
    assert not folder.exists()
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert _sha(path.read_bytes()) not in hashes, f"{path} holds a copy of the learner's data"
    assert _leftovers(app.state.engine, user_id, secrets) == []
    for model_class, row_id in others_rows.items():
        assert db.get(model_class, row_id) is None, f"{model_class.__name__} {row_id} outlived the learner"
    assert db.get(Post, theirs["id"]) is not None and other.get("/api/me").status_code == 200
    assert reviewer.get("/api/me").status_code == 200
    assert learner.get("/api/me").status_code == 401
    _assert_no_queued_delivery(app.state.engine, user_id, waiting_job["id"])


def _assert_no_queued_delivery(engine, user_id: int, job_id: int) -> None:
    """On PostgreSQL a job is also a procrastinate delivery: it must go with the learner."""
    if "procrastinate_jobs" not in inspect(engine).get_table_names():
        return
    from app.lab import queue

    deliveries = table("procrastinate_jobs", column("lock"), column("queueing_lock"))
    with engine.connect() as conn:
        left = conn.scalar(
            select(func.count())
            .select_from(deliveries)
            .where(
                (deliveries.c.lock == queue.learner_lock(user_id))
                | (deliveries.c.queueing_lock == queue.delivery_lock(job_id))
            )
        )
        rows = conn.execute(
            text("SELECT id, status::text, lock, queueing_lock, args::text FROM procrastinate_jobs")
        ).all()
    assert left == 0, f"a delivery of the erased learner is still queued: {rows}"
