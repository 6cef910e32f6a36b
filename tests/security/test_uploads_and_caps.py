"""Uploads from callers who may not upload are refused before the body is read; the start-up
sweep clears what a crash left; GIFT imports and per-account holdings are capped with a 4xx."""

import os
import socket
import time
from urllib.parse import urlsplit

import pytest

from app import limits
from app.datasets import staging
from app.datasets.models import Dataset
from app.lab import job_store, paths
from app.quiz.models import Question
from tests import dataset_photos as dp
from tests import factories


def _send_headers_only(base_url: str, path: str, headers: dict[str, str]) -> bytes:
    """Announce a 100 MB multipart body, send none of it, and read what the server answers."""
    url = urlsplit(base_url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Content-Length: 104857600"]
    lines += ["Content-Type: multipart/form-data; boundary=x", *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return conn.recv(4096)


def test_an_anonymous_upload_is_refused_before_its_body_arrives(live_server):
    answer = _send_headers_only(live_server, "/api/datasets", {})
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_an_upload_with_a_dead_token_is_refused_before_its_body_arrives(live_server):
    answer = _send_headers_only(live_server, "/api/datasets", {"Authorization": "Bearer lf_revoked"})
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_a_reviewer_upload_is_refused_before_its_body_arrives(live_server, db):
    reviewer = factories.make_user(db, role="reviewer")
    token = factories.make_token(db, reviewer)
    db.commit()
    answer = _send_headers_only(live_server, "/api/datasets", {"Authorization": f"Bearer {token}"})
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]


def test_the_sweep_removes_orphans_and_dead_staging_and_keeps_named_files(api_as, db, settings):
    learner = api_as("learner")
    photo = dp.jpeg_bytes(dp.good_set(1)[0])
    created = learner.post("/api/datasets", files=[("files", ("me.jpg", photo, "image/jpeg"))])
    assert created.status_code == 201
    root = paths.datasets_dir(settings.data_dir, learner.user.id)
    kept = {p for p in root.rglob("*") if p.is_file()}
    orphan = root / "crops" / "deadbeef-0-0-10-1024.png"
    orphan.write_bytes(b"left by a crash")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    dead = root / ".staging" / "1-dead" / "photos" / "abc.jpg"
    dead.parent.mkdir(parents=True)
    dead.write_bytes(b"half an upload")
    live = staging.Staging(root)  # an upload still running in this process: left alone
    live.path("photos/in-flight.jpg").write_bytes(b"x")

    removed = staging.sweep(db=db, settings=settings)

    assert removed == 2 and not orphan.exists() and not dead.exists()
    assert {p for p in root.rglob("*") if p.is_file() and ".staging" not in p.parts} == kept
    assert (live.folder / "photos" / "in-flight.jpg").exists()
    live.discard()


def test_a_gift_file_past_the_questions_per_lesson_cap_is_refused(api_as, db):
    instructor = api_as("instructor")
    before = db.query(Question).filter_by(lesson_number=2, deleted_at=None).count()
    gift = "".join(f"::Q{i}:: Question {i} is? {{=yes ~no}}\n\n" for i in range(20_000))

    response = instructor.post(
        "/api/quiz/import?lesson=2", content=gift.encode(), headers={"Content-Type": "text/plain"}
    )

    assert response.status_code in (409, 413), response.text
    assert db.query(Question).filter_by(lesson_number=2, deleted_at=None).count() == before


def test_a_gift_import_that_fits_the_bytes_but_not_the_cap_names_the_cap(api_as, db):
    instructor = api_as("instructor")
    gift = "".join(
        f"::Q{i}:: Question {i} is? {{=yes ~no}}\n\n" for i in range(limits.MAX_QUESTIONS_PER_LESSON + 1)
    )
    response = instructor.post(
        "/api/quiz/import?lesson=3", content=gift.encode(), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 409 and "at most 100 questions" in response.json()["detail"]


def test_api_tokens_are_capped_per_account(api_as):
    script = api_as("learner")  # holds one token already
    statuses = [
        script.post("/api/tokens", json={"name": f"t{i}"}).status_code for i in range(limits.MAX_API_TOKENS)
    ]
    assert statuses[:-1] == [201] * (limits.MAX_API_TOKENS - 1)
    assert statuses[-1] == 409


def test_datasets_are_capped_per_account(api_as, db):
    learner = api_as("learner")
    for i in range(limits.MAX_DATASETS):
        db.add(
            Dataset(
                user_id=learner.user.id,
                name=f"d{i}",
                trigger="sks",
                class_word="woman",
                base="sdxl",
                resolution=1024,
            )
        )
    db.commit()
    photo = dp.jpeg_bytes(dp.good_set(1)[0])
    response = learner.post("/api/datasets", files=[("files", ("me.jpg", photo, "image/jpeg"))])
    assert response.status_code == 409 and "delete one" in response.json()["detail"]


def test_waiting_jobs_are_capped_per_learner(db):
    user = factories.make_user(db)
    for _ in range(job_store.MAX_QUEUED_PER_USER):
        factories.make_training_job(db, user)
    with pytest.raises(job_store.QueueFull):
        factories.make_training_job(db, user)
