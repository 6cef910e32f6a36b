"""The question bank API: who may use it, create/edit/delete/reorder, pictures, pass marks,
and that editing a question never changes what past attempts recorded."""

import pytest
from PIL import Image

from app.quiz import service as quiz_service
from app.quiz.models import AttemptAnswer, Question
from tests.factories import make_user
from tests.integration.quiz.authoring_helpers import picture_bytes, single_body


def first_question_id(db, lesson: int = 2) -> int:
    return quiz_service.list_questions(db=db, lesson_number=lesson)[0].id


def every_route(question_id: int) -> list[tuple[str, str, dict]]:
    """Every authoring route with a plausible request."""
    q = question_id
    return [
        ("GET", "/api/quiz/questions?lesson=2", {}),
        ("POST", "/api/quiz/questions", {"json": single_body()}),
        ("GET", f"/api/quiz/questions/{q}", {}),
        ("PUT", f"/api/quiz/questions/{q}", {"json": single_body()}),
        ("DELETE", f"/api/quiz/questions/{q}", {}),
        ("POST", "/api/quiz/reorder", {"json": {"lesson": 2, "question_ids": [q]}}),
        ("PUT", "/api/quiz/lessons/2/settings", {"json": {"pass_mark": 70}}),
        ("POST", "/api/quiz/images", {"files": {"file": ("a.png", picture_bytes(), "image/png")}}),
        ("GET", "/api/quiz/export?lesson=2", {}),
        ("POST", "/api/quiz/import?lesson=2", {"content": "Q {=a ~b}"}),
        ("GET", "/api/quiz/stats?lesson=2", {}),
        ("GET", "/instructor", {}),
        ("GET", "/instructor/lessons/2", {}),
        ("POST", "/instructor/lessons/2/pass-mark", {"data": {"pass_mark": "70"}}),
        ("GET", "/instructor/lessons/2/questions/new?kind=image_choice", {}),
        ("POST", "/instructor/lessons/2/questions", {"data": {"kind": "single"}}),
        ("GET", "/instructor/choice-row?kind=single", {}),
        ("GET", f"/instructor/questions/{q}/edit", {}),
        ("POST", f"/instructor/questions/{q}", {"data": {"prompt": "x"}}),
        ("POST", f"/instructor/questions/{q}/move?offset=1", {}),
        ("POST", f"/instructor/questions/{q}/delete", {}),
        ("GET", "/instructor/lessons/2/preview", {}),
        ("POST", "/instructor/lessons/2/preview", {"data": {}}),
        ("GET", f"/instructor/questions/{q}/preview", {}),
        ("POST", f"/instructor/questions/{q}/preview", {"data": {}}),
        ("POST", "/instructor/lessons/2/import", {"data": {"text": "Q {=a ~b}"}}),
        ("GET", "/instructor/lessons/2/export", {}),
        ("GET", "/instructor/lessons/2/stats", {}),
    ]


@pytest.mark.parametrize("role", ["learner", "reviewer"])
def test_every_route_is_forbidden_to_learners_and_reviewers(role, api_as, client_as, db):
    qid = first_question_id(db)
    for caller in (api_as(role), client_as(role)):
        for method, path, kwargs in every_route(qid):
            response = caller.request(method, path, **kwargs)
            assert response.status_code == 403, (role, method, path, response.status_code)
    # nothing changed
    assert db.get(Question, qid).deleted_at is None
    assert quiz_service.get_pass_mark(db=db, lesson_number=2) != 70


def test_anonymous_callers_must_sign_in(client, db):
    qid = first_question_id(db)
    for method, path, _ in every_route(qid):
        if method != "GET":
            continue  # unsafe requests without a session fail the CSRF check first
        response = client.request(method, path)
        expected = 401 if path.startswith("/api/") else 303
        assert response.status_code == expected, (path, response.status_code)


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_instructors_and_admins_get_in(role, api_as, client_as):
    api = api_as(role)
    assert api.get("/api/quiz/questions?lesson=1").status_code == 200
    assert client_as(role).get("/instructor").status_code == 200


def test_list_shows_answers_and_feedback(api_as, db):
    api = api_as("instructor")
    questions = api.get("/api/quiz/questions?lesson=1").json()
    seeded = quiz_service.list_questions(db=db, lesson_number=1)
    assert [q["id"] for q in questions] == [q.id for q in seeded]
    image_q = next(q for q in questions if q["kind"] == "image_choice")
    assert all(c["image_url"] for c in image_q["choices"])
    assert sum(c["weight"] > 0 for c in image_q["choices"]) == 1
    assert all(c["feedback"] for c in image_q["choices"])


def test_unknown_lesson_and_question_are_404(api_as):
    api = api_as("instructor")
    assert api.get("/api/quiz/questions?lesson=9").status_code == 404
    assert api.get("/api/quiz/questions/999999").status_code == 404
    assert api.put("/api/quiz/questions/999999", json=single_body()).status_code == 404
    assert api.delete("/api/quiz/questions/999999").status_code == 404
    assert api.post("/api/quiz/questions", json=single_body(lesson=12)).status_code == 404


def test_create_appends_and_learners_see_it(api_as, db):
    api = api_as("instructor")
    created = api.post("/api/quiz/questions", json=single_body())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1 and body["lesson"] == 2
    assert [c["weight"] for c in body["choices"]] == [1, 0, 0]
    ids = [q.id for q in quiz_service.list_questions(db=db, lesson_number=2)]
    assert ids[-1] == body["id"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"prompt": "  "}, "needs a prompt"),
        ({"choices": [{"text": "only", "weight": 1}]}, "at least two choices"),
        ({"choices": [{"text": "a", "weight": 1}, {"text": "b", "weight": 1}]}, "exactly one right"),
        ({"choices": [{"text": "a"}, {"text": "b"}]}, "at least one choice as right"),
        (
            {"kind": "image_choice", "choices": [{"text": "a", "weight": 1}, {"text": "b"}]},
            "has a picture",
        ),
        (
            {"choices": [{"text": "a", "weight": 1, "image_url": "/static/x.png"}, {"text": "b"}]},
            "Only image choice questions have pictures",
        ),
        (
            {
                "kind": "image_choice",
                "choices": [
                    {"text": "a", "weight": 1, "image_url": "https://example.com/a.png"},
                    {"text": "b", "image_url": "/static/generated/lessons/check-good.jpg"},
                ],
            },
            "not on this site",
        ),
        (
            {
                "kind": "image_choice",
                "choices": [
                    {"text": "a", "weight": 1, "image_url": "/quiz/images/" + "0" * 64 + ".png"},
                    {"text": "b", "image_url": "/static/generated/lessons/check-good.jpg"},
                ],
            },
            "never uploaded",
        ),
    ],
)
def test_invalid_questions_are_refused_with_a_reason(change, message, api_as, db):
    api = api_as("instructor")
    before = len(quiz_service.list_questions(db=db, lesson_number=2))
    response = api.post("/api/quiz/questions", json={**single_body(), **change})
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]
    db.expire_all()
    assert len(quiz_service.list_questions(db=db, lesson_number=2)) == before


def test_edit_bumps_version_keeps_choice_ids_and_past_attempts(api_as, db):
    api = api_as("instructor")
    learner = make_user(db)
    db.commit()
    created = api.post("/api/quiz/questions", json=single_body(lesson=2)).json()
    qid, choice_ids = created["id"], [c["id"] for c in created["choices"]]
    questions = quiz_service.list_questions(db=db, lesson_number=2)
    right = {q.id: quiz_service.right_answers(q) for q in questions}
    quiz_service.grade(db=db, user_id=learner.id, lesson_number=2, answers=right)
    db.commit()

    body = single_body(lesson=2, prompt="Which part stays frozen?")
    body["choices"] = [
        {"id": choice_ids[1], "text": "Nothing at all", "weight": 0},
        {"id": choice_ids[0], "text": "The base weights", "weight": 1, "feedback": "Yes."},
        {"text": "The text encoder only", "weight": 0},
    ]  # reordered, one edited, one removed, one new
    response = api.put(f"/api/quiz/questions/{qid}", json=body)
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["version"] == 2
    assert [c["id"] for c in edited["choices"]][:2] == [choice_ids[1], choice_ids[0]]
    assert choice_ids[2] not in [c["id"] for c in edited["choices"]]

    db.expire_all()
    answer = db.query(AttemptAnswer).filter_by(question_id=qid).one()
    assert answer.question_version == 1 and answer.correct
    assert answer.snapshot["prompt"] == "What does LoRA freeze?"
    assert [c["text"] for c in answer.snapshot["choices"]] == [
        "The base model's weights",
        "Nothing",
        "The adapter",
    ]

    same = api.put(f"/api/quiz/questions/{qid}", json=body).json()
    assert same["version"] == 2  # saving without a change is not a new version


def test_edit_refuses_a_foreign_choice_and_another_lesson(api_as, db):
    api = api_as("instructor")
    mine = api.post("/api/quiz/questions", json=single_body()).json()
    other = api.post("/api/quiz/questions", json=single_body()).json()
    body = single_body()
    body["choices"][0]["id"] = other["choices"][0]["id"]
    response = api.put(f"/api/quiz/questions/{mine['id']}", json=body)
    assert response.status_code == 400 and "does not belong" in response.json()["detail"]
    moved = api.put(f"/api/quiz/questions/{mine['id']}", json=single_body(lesson=3))
    assert moved.status_code == 400 and "stays in its lesson" in moved.json()["detail"]


def test_delete_hides_the_question_but_keeps_its_history(api_as, db):
    api = api_as("instructor")
    learner = make_user(db)
    qid = first_question_id(db, lesson=2)
    answers = {
        q.id: quiz_service.right_answers(q) for q in quiz_service.list_questions(db=db, lesson_number=2)
    }
    quiz_service.grade(db=db, user_id=learner.id, lesson_number=2, answers=answers)
    db.commit()
    assert api.delete(f"/api/quiz/questions/{qid}").status_code == 204
    assert api.get(f"/api/quiz/questions/{qid}").status_code == 404
    assert api.delete(f"/api/quiz/questions/{qid}").status_code == 404
    db.expire_all()
    assert qid not in [q.id for q in quiz_service.list_questions(db=db, lesson_number=2)]
    assert db.query(AttemptAnswer).filter_by(question_id=qid).count() == 1


def test_reorder(api_as, db):
    api = api_as("instructor")
    ids = [q["id"] for q in api.get("/api/quiz/questions?lesson=3").json()]
    wanted = list(reversed(ids))
    response = api.post("/api/quiz/reorder", json={"lesson": 3, "question_ids": wanted})
    assert response.status_code == 200
    assert [q["id"] for q in api.get("/api/quiz/questions?lesson=3").json()] == wanted
    bad = api.post("/api/quiz/reorder", json={"lesson": 3, "question_ids": wanted[1:]})
    assert bad.status_code == 400 and "exactly once" in bad.json()["detail"]


def test_pass_mark(api_as, db):
    api = api_as("instructor")
    assert api.put("/api/quiz/lessons/4/settings", json={"pass_mark": 60}).json() == {
        "lesson": 4,
        "pass_mark": 60,
    }
    assert quiz_service.get_pass_mark(db=db, lesson_number=4) == 60
    assert api.put("/api/quiz/lessons/4/settings", json={"pass_mark": 0}).status_code == 400
    assert api.put("/api/quiz/lessons/4/settings", json={"pass_mark": 101}).status_code == 400
    assert api.put("/api/quiz/lessons/9/settings", json={"pass_mark": 50}).status_code == 404


def test_picture_upload_is_reencoded_and_capped(api_as, settings, client):
    api = api_as("instructor")
    big = picture_bytes(size=(2400, 1200), fmt="PNG")
    response = api.post("/api/quiz/images", files={"file": ("huge.png", big, "image/png")})
    assert response.status_code == 201, response.text
    url = response.json()["image_url"]
    assert url.startswith("/quiz/images/") and url.endswith(".jpg")
    stored = settings.data_dir / "quiz_images" / url.rsplit("/", 1)[1]
    with Image.open(stored) as img:
        assert img.format == "JPEG" and max(img.size) == 1024 and img.size == (1024, 512)
    served = client.get(url)  # course content: any visitor may load it
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    again = api.post("/api/quiz/images", files={"file": ("copy.png", big, "image/png")}).json()
    assert again["image_url"] == url  # content-addressed

    not_a_picture = api.post(
        "/api/quiz/images", files={"file": ("x.png", b"<svg onload=alert(1)>", "image/png")}
    )
    assert not_a_picture.status_code == 400 and "not a picture" in not_a_picture.json()["detail"]
    assert client.get("/quiz/images/../secret_key").status_code == 404
    assert client.get("/quiz/images/" + "a" * 64 + ".png").status_code == 404


def test_image_choice_question_through_the_api(api_as):
    api = api_as("instructor")
    urls = [
        api.post(
            "/api/quiz/images", files={"file": (f"{i}.png", picture_bytes((i * 60, 90, 90)), "image/png")}
        ).json()["image_url"]
        for i in range(3)
    ]
    body = {
        "lesson": 3,
        "kind": "image_choice",
        "prompt": "Which crop is centred on the face?",
        "choices": [
            {"text": f"crop {i}", "weight": 1 if i == 0 else 0, "image_url": url}
            for i, url in enumerate(urls)
        ],
    }
    response = api.post("/api/quiz/questions", json=body)
    assert response.status_code == 201, response.text
    assert [c["image_url"] for c in response.json()["choices"]] == urls
