"""Posting faster than the limits gets 429 with a clear message; counted in the database."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.community.models import Action, Post
from app.db import utcnow
from tests import factories


def _help(n: int) -> dict:
    return {"kind": "help", "title": f"Question {n}", "body": "?"}


def test_the_sixth_post_in_ten_minutes_gets_429(api_as, db):
    learner = api_as("learner")

    statuses = [learner.post("/api/posts", json=_help(n)).status_code for n in range(5)]
    sixth = learner.post("/api/posts", json=_help(5))

    assert statuses == [201] * 5
    assert sixth.status_code == 429
    assert "at most 5 posts every 10 minutes" in sixth.json()["detail"] and "wait" in sixth.json()["detail"]
    assert db.query(Post).count() == 5


def test_the_limit_is_shared_by_browser_and_token_and_survives_deleting(app, api_as, client_as, db):
    browser, someone_else = client_as("learner"), api_as("learner")
    raw = factories.make_token(db, browser.user)
    db.commit()

    # The same person as a signed-in browser and as a script: two clients, like two processes.
    with TestClient(app, headers={"Authorization": f"Bearer {raw}"}) as script:
        posted = [browser.post("/api/posts", json=_help(n)) for n in range(3)]
        for response in posted:
            assert script.delete(f"/api/posts/{response.json()['id']}").status_code == 204
        more = [script.post("/api/posts", json=_help(3)).status_code, browser.post("/api/posts", json=_help(4)).status_code,
                script.post("/api/posts", json=_help(5)).status_code]  # fmt: skip

    assert more == [201, 201, 429]
    assert someone_else.post("/api/posts", json=_help(0)).status_code == 201


def test_comments_are_limited_to_twenty_in_ten_minutes(api_as, post_by):
    author, chatty = api_as("learner"), api_as("learner")
    post = post_by(author.user)

    statuses = [
        chatty.post(f"/api/posts/{post.id}/comments", json={"body": f"c{n}"}).status_code for n in range(21)
    ]

    assert statuses[:20] == [201] * 20 and statuses[20] == 429
    assert "20 comments" in chatty.post(f"/api/posts/{post.id}/comments", json={"body": "x"}).json()["detail"]


def test_the_window_slides(api_as, db):
    learner = api_as("learner")
    for n in range(5):
        learner.post("/api/posts", json=_help(n))
    assert learner.post("/api/posts", json=_help(5)).status_code == 429

    db.execute(update(Action).values(created_at=utcnow() - timedelta(minutes=11)))
    db.commit()

    assert learner.post("/api/posts", json=_help(6)).status_code == 201


def test_a_limited_form_post_shows_the_message_on_the_form(client_as):
    learner = client_as("learner")
    for n in range(5):
        learner.post("/community/posts", data={"kind": "help", "title": f"Q{n}", "csrf_token": learner.csrf})

    sixth = learner.post(
        "/community/posts", data={"kind": "help", "title": "Q6", "body": "kept", "csrf_token": learner.csrf}
    )

    assert sixth.status_code == 429 and "at most 5 posts" in sixth.text and ">kept</textarea>" in sixth.text
