"""NUL and other control characters are refused with a 400 naming the field, in every kind of
input and on every backend; booleans are not numbers; unknown or malformed filters answer 422."""

import re

import pytest

from app.community.models import Post
from app.quiz.models import Question
from tests.conftest import csrf_token
from tests.security.test_csrf_and_headers import _routes

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _api_routes(app):
    for method, path in _routes(app, UNSAFE):
        if path.startswith("/api/"):
            yield method, re.sub(r"\{[^}]+\}", "1", path)


def test_every_unsafe_api_route_refuses_a_nul_and_names_the_field(app, api_as):
    admin = api_as("admin")  # past every role gate, so only the text check can answer
    checked = 0
    for method, path in _api_routes(app):
        response = admin.request(method, path, json={"title": "ok", "note": "bad\u0000text"})
        assert response.status_code == 400, f"{method} {path} -> {response.status_code}"
        assert "'note'" in response.json()["detail"], path
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("char", ["\u0000", "\u001b", "\u0007", "\u007f"])
def test_a_post_title_with_a_control_character_is_refused_and_not_stored(api_as, db, char):
    learner = api_as("learner")
    response = learner.post("/api/posts", json={"kind": "help", "title": f"Help{char}me", "body": "x"})
    assert response.status_code == 400 and "'title'" in response.json()["detail"]
    assert db.query(Post).count() == 0


def test_newlines_and_tabs_stay_allowed(api_as):
    learner = api_as("learner")
    response = learner.post(
        "/api/posts", json={"kind": "help", "title": "Two lines", "body": "one\n\ttwo\r\n"}
    )
    assert response.status_code == 201


def test_a_nested_json_field_is_named_with_its_path(api_as):
    learner = api_as("learner")
    response = learner.post("/api/lessons/1/check", json={"answers": {"1": ["a\u0000"]}})
    assert response.status_code == 400 and "'answers.1[0]'" in response.json()["detail"]


def test_form_fields_file_names_and_query_parameters_are_checked(client, api_as):
    token = csrf_token(client, "/signup")
    signup = client.post(
        "/signup",
        data={
            "email": "nul@example.com",
            "display_name": "Ada\u0000",
            "password": "quiet orange kettle",
            "csrf_token": token,
        },
    )
    login = client.post(
        "/login", data={"email": "a\u0000@example.com", "password": "x" * 10, "csrf_token": token}
    )
    learner = api_as("learner")
    # Written by hand: HTTP clients escape a NUL in a file name, a hostile one need not.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="me\x00.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--b--\r\n"
    )
    upload = learner.post(
        "/api/datasets", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    query = learner.get("/api/feed", params={"kind": "help\u0000"})

    assert signup.status_code == 400 and "display_name" in signup.text
    assert login.status_code == 400 and "email" in login.text
    assert upload.status_code == 400 and "files (file name)" in upload.json()["detail"]
    assert query.status_code == 400 and "'kind'" in query.json()["detail"]


def test_a_gift_file_with_a_nul_is_refused(api_as, db):
    instructor = api_as("instructor")
    gift = "::Q1:: Zebra crossing\u0000 is? {=rare ~common}\n"
    as_body = instructor.post(
        "/api/quiz/import?lesson=1", content=gift.encode(), headers={"Content-Type": "text/plain"}
    )
    as_file = instructor.post(
        "/api/quiz/import?lesson=1", files={"file": ("q.gift", gift.encode(), "text/plain")}
    )
    assert as_body.status_code == 400 and as_file.status_code == 400
    assert "control character" in as_body.text and "control character" in as_file.text
    assert db.query(Question).filter(Question.prompt.contains("Zebra crossing")).count() == 0


def test_a_boolean_is_not_a_number(api_as):
    learner = api_as("learner")
    response = learner.post(
        "/api/jobs", json={"dataset_id": 1, "trigger": "sks", "class_word": "woman", "steps": True}
    )
    assert response.status_code == 422
    assert ["body", "steps"] in [e["loc"] for e in response.json()["detail"]]


def test_a_number_is_not_a_boolean(api_as):
    learner = api_as("learner")
    response = learner.put("/api/me/privacy", json={"consent": 1})
    assert response.status_code == 422
    assert ["body", "consent"] in [e["loc"] for e in response.json()["detail"]]


@pytest.mark.parametrize("query", ["lesson=abc", "lesson=0", "lessn=3", "kind=nonsense"])
def test_a_bad_feed_filter_answers_422(api_as, query):
    assert api_as("learner").get(f"/api/feed?{query}").status_code == 422


def test_the_lesson_filter_of_the_feed_works(api_as):
    learner = api_as("learner")
    tagged = learner.post(
        "/api/posts", json={"kind": "help", "title": "Lesson 3 trouble", "body": "x", "lesson": 3}
    )
    learner.post("/api/posts", json={"kind": "help", "title": "Untagged", "body": "x"})
    feed = learner.get("/api/feed?lesson=3")
    assert tagged.status_code == 201 and feed.status_code == 200
    assert [p["title"] for p in feed.json()] == ["Lesson 3 trouble"]
