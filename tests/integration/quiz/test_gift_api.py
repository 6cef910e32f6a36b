"""GIFT through the API: export, all-or-nothing import with errors by line, and the round trip."""

import pytest
from sqlalchemy import delete

from app.quiz import service as quiz_service
from app.quiz.models import Attempt, AttemptAnswer, Choice, LessonCheckSettings, Question

GOOD = """// two questions for lesson 5
$CATEGORY: LoRAFace/Lesson 5

::Base::Which base suits detailed realism? {
  =SDXL#More detail and better prompt following.
  ~SD 1.5#Faster, better for stylised work.
  ####Pick the base for the look you want.
}

::Category\\: person:: A LoRA of a person goes in the category "Character". {T#No: Style is for an aesthetic.#Yes.}
"""


def live(db, lesson: int) -> list[Question]:
    db.expire_all()
    return quiz_service.list_questions(db=db, lesson_number=lesson)


def test_export_is_plain_gift_of_the_live_questions(api_as, db):
    api = api_as("instructor")
    response = api.get("/api/quiz/export?lesson=1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert text.startswith("// LoRAFace lesson 1: The dataset")
    assert "$CATEGORY: LoRAFace/Lesson 1" in text
    for q in live(db, 1):
        assert f"::{q.title}::" in text
    assert "=![The same face wearing dark sunglasses](/static/generated/lessons/check-sunglasses.jpg)" in text


def test_import_appends_questions(api_as, db):
    api = api_as("instructor")
    before = [q.id for q in live(db, 5)]
    response = api.post(
        "/api/quiz/import?lesson=5", content=GOOD.encode(), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 2
    questions = live(db, 5)
    assert [q.id for q in questions][: len(before)] == before
    base, category = questions[-2:]
    assert base.title == "Base" and base.kind.value == "single"
    assert [(c.text, c.weight, c.feedback) for c in base.choices] == [
        ("SDXL", 1.0, "More detail and better prompt following."),
        ("SD 1.5", 0.0, "Faster, better for stylised work."),
    ]
    assert base.general_feedback == "Pick the base for the look you want."
    assert category.title == "Category: person" and category.kind.value == "true_false"
    assert [(c.text, c.weight, c.feedback) for c in category.choices] == [
        ("True", 1.0, "Yes."),
        ("False", 0.0, "No: Style is for an aesthetic."),
    ]


def test_import_as_multipart_file_and_replace(api_as, db):
    api = api_as("instructor")
    old = [q.id for q in live(db, 5)]
    response = api.post(
        "/api/quiz/import?lesson=5&replace=true",
        files={"file": ("lesson5.gift", GOOD.encode(), "text/plain")},
    )
    assert response.status_code == 201, response.text
    questions = live(db, 5)
    assert len(questions) == 2 and not set(old) & {q.id for q in questions}


def assert_rejected(api, db, text: str, lesson: int = 5) -> list[dict]:
    before = [(q.id, q.version) for q in live(db, lesson)]
    response = api.post(f"/api/quiz/import?lesson={lesson}", content=text.encode())
    assert response.status_code == 400, response.text
    body = response.json()
    assert "nothing was imported" in body["detail"]
    assert [(q.id, q.version) for q in live(db, lesson)] == before  # nothing written
    return body["errors"]


def test_unclosed_brace_is_reported_at_its_line(api_as, db):
    text = "::One::First question {=a ~b}\n\n// the next one never closes\n::Two::Second question {\n  =yes\n  ~no\n\nThird {=x ~y}\n"
    errors = assert_rejected(api_as("instructor"), db, text)
    assert len(errors) == 1
    assert errors[0]["line"] == 4 and "unclosed brace" in errors[0]["message"]


def test_unknown_type_is_reported_at_its_line(api_as, db):
    text = "Fine {=a ~b}\n\n\nWhat is this?\n{\n  maybe\n}\n"
    errors = assert_rejected(api_as("instructor"), db, text)
    assert errors == [{"line": 6, "message": errors[0]["message"]}]
    assert "unknown question type" in errors[0]["message"]


def test_bad_weight_is_reported_at_its_line(api_as, db):
    text = "Fine {=a ~b}\n\nWhich help? {\n  ~%50%Varied light\n  ~%fifty%Varied angles\n  ~%-100%Sunglasses\n}\n"
    errors = assert_rejected(api_as("instructor"), db, text)
    assert len(errors) == 1 and errors[0]["line"] == 5 and "bad weight" in errors[0]["message"]


def test_every_error_is_listed_and_unsupported_kinds_name_their_line(api_as, db):
    text = (
        "// kinds we do not have\n"  # 1
        "Good one {=a ~b}\n"  # 2
        "\n"
        "How many epochs? {#30:20}\n"  # 4 numeric
        "\n"
        "Match them {=LoRA -> adapter =SDXL -> base}\n"  # 6 matching
        "\n"
        "Describe your dataset. {}\n"  # 8 essay
        "\n"
        "Trigger word? {=sks}\n"  # 10 short answer
        "\n"
        "No right answer {~a ~b}\n"  # 12 refused by the engine's rules
        "\n"
        "Too many rights {~%60%a ~%60%b}\n"  # 14
        "\n"
        "Remote picture {=![a](https://example.com/a.png) ~![b](/static/generated/lessons/check-good.jpg)}\n"  # 16
    )
    errors = assert_rejected(api_as("instructor"), db, text)
    by_line = {e["line"]: e["message"] for e in errors}
    assert sorted(by_line) == [4, 6, 8, 10, 12, 14, 16]
    assert "numeric" in by_line[4]
    assert "matching" in by_line[6]
    assert "essay" in by_line[8]
    assert "short-answer" in by_line[10]
    assert "no right answer" in by_line[12]
    assert "bad weight" in by_line[14]
    assert "not on this site" in by_line[16]


def test_empty_and_non_utf8_files(api_as, db):
    api = api_as("instructor")
    assert assert_rejected(api, db, "// only a comment\n") == [
        {"line": 1, "message": "the file holds no questions"}
    ]
    response = api.post("/api/quiz/import?lesson=5", content=b"Q {=a ~b}\n\nQ2 {=\xff ~b}\n")
    assert response.status_code == 400 and response.json()["errors"][0]["line"] == 3


def test_import_into_unknown_lesson(api_as):
    assert api_as("instructor").post("/api/quiz/import?lesson=0", content=GOOD.encode()).status_code == 404


def snapshot_bank(api) -> dict[int, list[dict]]:
    """Every lesson's questions as the API lists them, without ids and positions."""
    bank = {}
    for lesson in range(1, 9):
        questions = api.get(f"/api/quiz/questions?lesson={lesson}").json()
        bank[lesson] = [
            {
                "kind": q["kind"],
                "title": q["title"],
                "prompt": q["prompt"],
                "general_feedback": q["general_feedback"],
                "choices": [
                    {
                        "text": c["text"],
                        "weight": c["weight"],
                        "feedback": c["feedback"],
                        "image_url": c["image_url"],
                    }
                    for c in q["choices"]
                ],
            }
            for q in questions
        ]
    return bank


def test_round_trip_every_lesson_into_an_empty_database(api_as, db):
    api = api_as("instructor")
    # one authored question with escapes, a line break and negative marks, beside the seeded ones
    tricky = {
        "lesson": 6,
        "kind": "multiple",
        "title": "Dials {rank: alpha}",
        "prompt": "Which settings = more capacity?\nTick ~ all # that apply.",
        "general_feedback": "Rank sets size; alpha/rank scales it.",
        "choices": [
            {"text": "Higher rank", "weight": 1 / 3, "feedback": "Yes: more parameters."},
            {"text": "More epochs", "weight": 1 / 3, "feedback": "More passes."},
            {"text": "Longer training", "weight": 1 / 3},
            {"text": "Lower resolution", "weight": -0.5, "feedback": "Less detail, not capacity."},
            {"text": "A new seed", "weight": 0},
        ],
    }
    assert api.post("/api/quiz/questions", json=tricky).status_code == 201
    original = snapshot_bank(api)
    assert sum(len(v) for v in original.values()) >= 17
    exported = {lesson: api.get(f"/api/quiz/export?lesson={lesson}").text for lesson in original}

    for model in (AttemptAnswer, Attempt, Choice, Question, LessonCheckSettings):
        db.execute(delete(model))
    db.commit()
    assert snapshot_bank(api) == {lesson: [] for lesson in range(1, 9)}

    for lesson, text in exported.items():
        response = api.post(f"/api/quiz/import?lesson={lesson}", content=text.encode())
        assert response.status_code == 201, (lesson, response.text)
    imported = snapshot_bank(api)

    for lesson in original:
        assert len(imported[lesson]) == len(original[lesson]), lesson
        for before, after in zip(original[lesson], imported[lesson], strict=True):
            for name in ("kind", "title", "prompt", "general_feedback"):
                assert after[name] == before[name], (lesson, name)
            assert len(after["choices"]) == len(before["choices"])
            for c_before, c_after in zip(before["choices"], after["choices"], strict=True):
                assert c_after["text"] == c_before["text"]
                assert c_after["feedback"] == c_before["feedback"]
                assert c_after["image_url"] == c_before["image_url"]
                assert c_after["weight"] == pytest.approx(c_before["weight"], abs=1e-6)
