"""Checks that test understanding: shuffled choices per attempt, and blind strategies fail."""

import random

import pytest

from app.quiz import service as quiz_service
from app.quiz.models import Attempt
from tests import factories

LESSONS = range(1, 9)


def first_choice(question: dict, rng: random.Random) -> list[int]:
    """Always tick the first choice shown."""
    return [question["choices"][0]["id"]]


def all_but_last(question: dict, rng: random.Random) -> list[int]:
    """Tick every choice but the last on multiple answers; the first on the rest."""
    ids = [c["id"] for c in question["choices"]]
    return ids[:-1] if question["kind"] == "multiple" else ids[:1]


def seeded_random(question: dict, rng: random.Random) -> list[int]:
    """Pick at random from a fixed seed: one choice, or a random non-empty set for multiple."""
    ids = [c["id"] for c in question["choices"]]
    if question["kind"] == "multiple":
        return rng.sample(ids, rng.randint(1, len(ids)))
    return [rng.choice(ids)]


STRATEGIES = [first_choice, all_but_last, seeded_random]


def learner_at(api_as, db, number: int):
    """An API client for a learner who has passed every lesson before `number`."""
    api = api_as("learner")
    factories.pass_lessons(db, api.user, number - 1)
    return api


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_blind_strategies_fail_every_check_as_shown(api_as, db, strategy):
    for number in LESSONS:
        api = learner_at(api_as, db, number)
        rng = random.Random(2026)
        check = api.get(f"/api/lessons/{number}/check").json()
        answers = {str(q["id"]): strategy(q, rng) for q in check["questions"]}
        result = api.post(f"/api/lessons/{number}/check", json={"answers": answers})
        assert result.status_code == 200
        assert not result.json()["passed"], (
            f"{strategy.__name__} passed lesson {number}: {result.json()['score']}%"
        )


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_blind_strategies_fail_every_check_in_the_written_order(db, strategy):
    """Even an instructor who fixes every order keeps the right answers spread out."""
    user = factories.make_user(db)
    for number in LESSONS:
        rng = random.Random(2026)
        questions = quiz_service.list_questions(db=db, lesson_number=number)
        shown = [
            {"id": q.id, "kind": q.kind.value, "choices": [{"id": c.id} for c in q.choices]}
            for q in questions
        ]
        answers = {q["id"]: strategy(q, rng) for q in shown}
        attempt = quiz_service.grade(db=db, user_id=user.id, lesson_number=number, answers=answers)
        assert not attempt.passed, f"{strategy.__name__} passed lesson {number} at {attempt.score:.0%}"


def _order(check: dict) -> dict[int, list[int]]:
    return {q["id"]: [c["id"] for c in q["choices"]] for q in check["questions"]}


def test_two_attempts_see_different_orders_and_both_grade_right(api_as, db):
    api = learner_at(api_as, db, 6)
    right = {
        q.id: set(quiz_service.right_answers(q)) for q in quiz_service.list_questions(db=db, lesson_number=6)
    }
    first = api.get("/api/lessons/6/check").json()
    assert api.get("/api/lessons/6/check").json() == first  # a reload keeps the order
    # the first attempt: right everywhere but question one, answered by what is shown
    answers = {str(qid): sorted(ids) for qid, ids in right.items()}
    wrong_q = first["questions"][0]
    wrong_choice = next(c["id"] for c in wrong_q["choices"] if c["id"] not in right[wrong_q["id"]])
    answers[str(wrong_q["id"])] = [wrong_choice]
    one = api.post("/api/lessons/6/check", json={"answers": answers}).json()
    second = api.get("/api/lessons/6/check").json()
    assert _order(second) != _order(first)
    assert {qid: set(ids) for qid, ids in _order(second).items()} == {
        qid: set(ids) for qid, ids in _order(first).items()
    }
    answers[str(wrong_q["id"])] = sorted(right[wrong_q["id"]])
    two = api.post("/api/lessons/6/check", json={"answers": answers}).json()
    assert [r["correct"] for r in one["results"]].count(False) == 1
    assert not next(r for r in one["results"] if r["question_id"] == wrong_q["id"])["correct"]
    assert two["passed"] and two["score"] == 100.0
    # each attempt keeps the order its learner saw, so feedback and statistics stay true
    for result, check in ((one, first), (two, second)):
        stored = db.get(Attempt, result["attempt_id"])
        assert {a.question_id: a.snapshot["shown_order"] for a in stored.answers} == _order(check)


def test_correct_answers_do_not_sit_in_one_position(api_as, db):
    """Across learners, the right answer of a question lands in different places."""
    positions = set()
    for _ in range(4):
        api = learner_at(api_as, db, 2)
        question = quiz_service.list_questions(db=db, lesson_number=2)[0]
        shown = next(q for q in api.get("/api/lessons/2/check").json()["questions"] if q["id"] == question.id)
        ids = [c["id"] for c in shown["choices"]]
        positions.add(ids.index(quiz_service.right_answers(question)[0]))
    assert len(positions) >= 2


def test_an_instructor_can_fix_the_order_of_a_question(api_as, db):
    instructor = api_as("instructor")
    body = {
        "lesson": 2,
        "kind": "single",
        "prompt": "Which of these are low-rank methods?",
        "fixed_order": True,
        "choices": [
            {"text": "LoRA", "weight": 0},
            {"text": "LoCon", "weight": 0},
            {"text": "All of the above", "weight": 1},
        ],
    }
    created = instructor.post("/api/quiz/questions", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["fixed_order"] is True
    written = [c["id"] for c in created.json()["choices"]]
    api = learner_at(api_as, db, 2)
    for _ in range(3):
        check = api.get("/api/lessons/2/check").json()
        assert _order(check)[created.json()["id"]] == written
        api.post("/api/lessons/2/check", json={"answers": {}})
