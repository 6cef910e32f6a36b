"""The course through HTTP: unlock rules, the JSON API, pages, glossary and article."""

import json
import re

import pytest

from app.quiz import service as quiz_service
from tests import factories


def right_answers(db, number: int) -> dict[str, list[int]]:
    """The answers that score full marks on a lesson's check, as the API takes them."""
    return {
        str(q.id): quiz_service.right_answers(q)
        for q in quiz_service.list_questions(db=db, lesson_number=number)
    }


def wrong_answers(db, number: int) -> dict[str, list[int]]:
    """A wrong choice on every question."""
    return {
        str(q.id): [next(c.id for c in q.choices if c.weight <= 0)]
        for q in quiz_service.list_questions(db=db, lesson_number=number)
    }


# ---- API ----


def test_lessons_list_for_a_new_learner(api_as):
    api = api_as("learner")
    response = api.get("/api/lessons")
    assert response.status_code == 200
    lessons = response.json()
    assert [lesson["number"] for lesson in lessons] == list(range(1, 9))
    assert {"number", "slug", "title", "unlocked", "passed"} <= set(lessons[0])
    assert [lesson["unlocked"] for lesson in lessons] == [True] + [False] * 7
    assert not any(lesson["passed"] for lesson in lessons)
    assert api.get("/api/progress").json() == {"passed": 0, "total": 8, "step": 1, "current": 1}


def test_locked_lesson_answers_403_naming_the_lesson_to_pass(api_as):
    api = api_as("learner")
    for path in ("/api/lessons/2", "/api/lessons/2/check"):
        response = api.get(path)
        assert response.status_code == 403
        assert "Pass lesson 1 (The dataset) first" in response.json()["detail"]
    response = api.post("/api/lessons/3/check", json={"answers": {}})
    assert response.status_code == 403
    assert "Pass lesson 2 (What a LoRA is) first" in response.json()["detail"]


def test_unknown_lesson_is_404_and_anonymous_is_401(api_as, client):
    api = api_as("learner")
    assert api.get("/api/lessons/9").status_code == 404
    assert api.get("/api/lessons/0/check").status_code == 404
    assert client.get("/api/lessons").status_code == 401
    assert client.get("/api/progress").status_code == 401


def test_walk_all_eight_lessons_to_eight_of_eight(api_as, db):
    api = api_as("learner")
    for number in range(1, 9):
        lesson = api.get(f"/api/lessons/{number}")
        assert lesson.status_code == 200, lesson.text
        assert lesson.json()["number"] == number and lesson.json()["body_html"]

        failed = api.post(f"/api/lessons/{number}/check", json={"answers": wrong_answers(db, number)})
        assert failed.status_code == 200
        assert failed.json()["passed"] is False
        if number < 8:
            assert api.get(f"/api/lessons/{number + 1}").status_code == 403

        passed = api.post(f"/api/lessons/{number}/check", json={"answers": right_answers(db, number)})
        assert passed.status_code == 200
        body = passed.json()
        assert body["passed"] is True and body["score"] == 100.0
        assert all(r["correct"] for r in body["results"])
        assert all(r["feedback"] for r in body["results"])
        progress = api.get("/api/progress").json()
        assert progress["passed"] == number
        assert progress["step"] == min(number + 1, 8)
    assert api.get("/api/progress").json() == {"passed": 8, "total": 8, "step": 8, "current": None}
    assert all(lesson["passed"] for lesson in api.get("/api/lessons").json())


def test_check_payload_has_no_answer_keys(api_as):
    api = api_as("learner")
    payload = api.get("/api/lessons/1/check").json()
    text = json.dumps(payload).lower()
    for leak in ("weight", "is_correct", "correct", "feedback", "right", "answer"):
        assert f'"{leak}' not in text, leak
    assert {q["kind"] for q in payload["questions"]} == {"single", "multiple", "true_false", "image_choice"}
    for question in payload["questions"]:
        assert set(question) == {"id", "kind", "title", "prompt", "choices"}
        for choice in question["choices"]:
            assert set(choice) == {"id", "text", "image_url"}


def test_no_check_payload_leaks_answers(api_as, db):
    api = api_as("learner")
    factories.pass_lessons(db, api.user, 7)
    for number in range(1, 9):
        payload = api.get(f"/api/lessons/{number}/check").json()
        assert payload["questions"], number
        for question in payload["questions"]:
            assert set(question) == {"id", "kind", "title", "prompt", "choices"}
            assert all(set(c) == {"id", "text", "image_url"} for c in question["choices"])
        text = json.dumps(payload)
        for question in quiz_service.list_questions(db=db, lesson_number=number):
            for choice in question.choices:
                if choice.feedback:
                    assert choice.feedback not in text


def test_bad_answers_are_refused_and_nothing_is_recorded(api_as, db):
    api = api_as("learner")
    questions = quiz_service.list_questions(db=db, lesson_number=1)
    single = next(q for q in questions if q.kind.value == "single")
    other = quiz_service.list_questions(db=db, lesson_number=2)[0]
    cases = [
        {"answers": {"999999": [1]}},
        {"answers": {str(single.id): [other.choices[0].id]}},
        {"answers": {str(single.id): [c.id for c in single.choices[:2]]}},
        {"answers": {"abc": ["x"]}},
        {"answers": "everything"},
    ]
    for body in cases:
        response = api.post("/api/lessons/1/check", json=body)
        assert 400 <= response.status_code < 500, body
        assert "detail" in response.json()
    assert quiz_service.attempt_summary(db=db, user_id=api.user.id, lesson_number=1).attempts == 0


def test_glossary_api_is_public_with_sixteen_terms(client):
    response = client.get("/api/glossary")
    assert response.status_code == 200
    terms = response.json()
    assert len(terms) == 16
    assert {"slug", "term", "definition", "example", "lesson"} == set(terms[0])
    names = {t["term"] for t in terms}
    for expected in ("LoRA", "Epoch", "Seed", "Latent space", "Model strength (LoRA weight)"):
        assert expected in names
    assert all(1 <= t["lesson"] <= 8 and t["definition"] and t["example"] for t in terms)
    seed = client.get("/api/glossary", params={"q": "seed"}).json()
    assert "Seed" in {t["term"] for t in seed}


# ---- pages ----


def test_locked_lesson_page_is_403_with_the_lesson_to_pass(client_as):
    browser = client_as("learner")
    response = browser.get("/lessons/4")
    assert response.status_code == 403
    assert "Pass lesson 3 (The trigger word) first" in response.text
    assert 'href="/lessons/3"' in response.text


def test_lesson_pages_need_sign_in(client):
    response = client.get("/lessons/1")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_node_map_shows_states_and_step(client_as, db):
    browser = client_as("learner")
    page = browser.get("/lessons")
    assert page.status_code == 200
    assert "LoRA Training Mastery" in page.text
    assert "unlock nodes by learning to train your own model" in page.text
    assert "step 1 / 8" in page.text
    factories.pass_lessons(db, browser.user, 3)
    page = browser.get("/lessons").text
    assert "step 4 / 8" in page
    states = re.findall(r'id="node-(\d)" data-state="(\w+)"', page)
    assert states == [("1", "passed"), ("2", "passed"), ("3", "passed"), ("4", "current")] + [
        (str(n), "locked") for n in range(5, 9)
    ]


def test_node_map_for_visitors(client):
    page = client.get("/lessons")
    assert page.status_code == 200
    assert "Start learning" in page.text
    assert 'id="node-1" data-state="current"' in page.text


def test_check_form_fails_then_passes_with_feedback(client_as, db):
    browser = client_as("learner")
    questions = quiz_service.list_questions(db=db, lesson_number=1)
    image_question = next(q for q in questions if q.kind.value == "image_choice")
    good_photo = next(c for c in image_question.choices if c.weight <= 0)
    response = browser.post("/lessons/1/check", data={f"q{image_question.id}": str(good_photo.id)})
    assert response.status_code == 200
    assert "Not yet" in response.text
    assert good_photo.feedback in response.text
    assert "No answer was chosen." in response.text

    form = {f"q{q.id}": [str(cid) for cid in quiz_service.right_answers(q)] for q in questions}
    response = browser.post("/lessons/1/check", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text  # only the check block for htmx
    assert "Passed with 100.0%" in response.text
    assert "step 2 / 8" in response.text and 'hx-swap-oob="true"' in response.text
    assert browser.get("/lessons/2").status_code == 200


def test_check_form_without_csrf_is_refused(client_as):
    browser = client_as("learner")
    del browser.headers["X-CSRF-Token"]
    assert browser.post("/lessons/1/check", data={"q1": "1"}).status_code == 403


COURSE_FACTS = {
    1: ["15-25", "15-40", "strictly one person", "profile", "three-quarter", "watermark", "sunglasses"],
    2: ["Low-Rank Adaptation", "frozen", "B·A", "alpha / r", "megabytes", "gigabytes"],
    3: ["sks woman", "class token", "AEXStyle", "CustomCharV1"],
    4: ["1024x1024", "512x512", "SDXL", "SD 1.5", "caption"],
    5: ["SDXL", "SD 1.5", "Character", "Style"],
    6: [
        "steps = images x repeats x epochs / batch size",
        "1500",
        "10 epochs",
        "30-50 epochs",
        "Batch Size: 1",
        "deep-fried",
        "Rank",
        "Learning rate",
    ],
    7: ["loss", "Samples", "epoch"],
    8: ["&lt;lora:myFace:0.8&gt;", "0.5-0.8", "1.0-1.1", "123456", "First Face LoRA", "Two or three"],
}


def test_rendered_lessons_state_the_course_numbers(client_as, db):
    browser = client_as("learner")
    factories.pass_lessons(db, browser.user, 7)
    for number, facts in COURSE_FACTS.items():
        page = browser.get(f"/lessons/{number}")
        assert page.status_code == 200
        for fact in facts:
            assert fact in page.text, f"lesson {number} does not state {fact!r}"
        assert "AI Instructor" in page.text and "prompt_gen.txt" in page.text and "AI Preview" in page.text
        assert f"{number} / 8" in page.text
        assert "Calibration check" in page.text
    lesson_8 = browser.get("/lessons/8").text
    assert 'href="/articles/what-makes-a-face-lora-consistent"' in lesson_8


def test_lesson_one_shows_generated_pictures(client_as, client):
    page = client_as("learner").get("/lessons/1").text
    pictures = set(re.findall(r'src="(/static/generated/lessons/[\w.-]+)"', page))
    assert {
        "/static/generated/lessons/check-sunglasses.jpg",
        "/static/generated/lessons/check-blur.jpg",
        "/static/generated/lessons/check-lowres.jpg",
        "/static/generated/lessons/check-watermark.jpg",
        "/static/generated/lessons/check-two-faces.jpg",
        "/static/generated/lessons/check-good.jpg",
    } <= pictures
    for src in pictures:
        response = client.get(src)
        assert response.status_code == 200, src
        assert response.headers["content-type"].startswith("image/")


def test_glossary_page_and_htmx_search(client):
    page = client.get("/glossary")
    assert page.status_code == 200
    assert page.text.count('class="card term"') == 16
    assert 'hx-get="/glossary"' in page.text
    fragment = client.get("/glossary", params={"q": "batch"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Batch size" in fragment.text and "Latent space" not in fragment.text
    none = client.get("/glossary", params={"q": "zzzz"}, headers={"HX-Request": "true"})
    assert "No term matches" in none.text


def test_article_page(client):
    page = client.get("/articles/what-makes-a-face-lora-consistent")
    assert page.status_code == 200
    assert "What makes a face LoRA consistent" in page.text
    assert "AI art director" in page.text
    assert page.text.count('<h2 id="') >= 4
    assert client.get("/articles/nope").status_code == 404


def test_home_shows_progress(client_as, db):
    browser = client_as("learner")
    assert "step 1 / 8" in browser.get("/").text
    factories.pass_lessons(db, browser.user, 2)
    home = browser.get("/").text
    assert "step 3 / 8" in home and "2 of 8 lessons passed" in home


@pytest.mark.parametrize("upto", [6])
def test_has_passed_for_other_domains(db, upto):
    from app.lessons import service

    user = factories.make_user(db)
    assert not service.has_passed(db=db, user_id=user.id, number=6)
    factories.pass_lessons(db, user, upto)
    assert service.has_passed(db=db, user_id=user.id, number=6)
    assert service.passed_numbers(db=db, user_id=user.id) == set(range(1, upto + 1))


def test_deleting_the_account_erases_attempts(api_as, db):
    from sqlalchemy import func, select

    from app.quiz.models import Attempt, AttemptAnswer

    api = api_as("learner")
    factories.pass_lessons(db, api.user, 2)
    assert db.scalar(select(func.count(Attempt.id))) == 2
    assert api.delete("/api/me").status_code in (200, 204)
    db.expire_all()
    assert db.scalar(select(func.count(Attempt.id))) == 0
    assert db.scalar(select(func.count(AttemptAnswer.id))) == 0
