"""Per-question statistics from real graded attempts, through the API and the page."""

import re

from app.quiz import service as quiz_service
from tests.factories import make_user


def wrong_choice(question, index: int = 0) -> int:
    return [c.id for c in question.choices if c.weight <= 0][index]


def test_stats_count_first_tries_wrong_answers_and_flags(api_as, client_as, db):
    questions = quiz_service.list_questions(db=db, lesson_number=2)
    easy, hard = questions[0], questions[1]
    rest = questions[2:]
    learners = [make_user(db) for _ in range(5)]
    for n, learner in enumerate(learners):
        # first try: everyone right on `easy`, everyone wrong on `hard` (four pick the same wrong answer)
        first = {easy.id: quiz_service.right_answers(easy), hard.id: [wrong_choice(hard, 0 if n < 4 else 1)]}
        quiz_service.grade(db=db, user_id=learner.id, lesson_number=2, answers=first)
    # two retries get `hard` right; they do not change the first-try share
    for learner in learners[:2]:
        answers = {q.id: quiz_service.right_answers(q) for q in questions}
        quiz_service.grade(db=db, user_id=learner.id, lesson_number=2, answers=answers)
    db.commit()

    response = api_as("instructor").get("/api/quiz/stats?lesson=2")
    assert response.status_code == 200
    rows = {r["question_id"]: r for r in response.json()["questions"]}
    assert list(rows) == [q.id for q in questions]

    e = rows[easy.id]
    assert (e["attempts"], e["learners"], e["first_try_correct"], e["flag"]) == (7, 5, 1.0, "easy")
    assert e["correct_share"] == 1.0 and e["most_chosen_wrong"] is None

    h = rows[hard.id]
    assert (h["attempts"], h["learners"], h["first_try_correct"], h["flag"]) == (7, 5, 0.0, "hard")
    assert h["correct_share"] == 2 / 7
    wrong_text = next(c.text for c in hard.choices if c.id == wrong_choice(hard, 0))
    assert h["most_chosen_wrong"]["text"] == wrong_text
    assert h["most_chosen_wrong"]["count"] == 4 and h["most_chosen_wrong"]["share"] == 4 / 7

    for q in rest:  # left unanswered in the first tries (graded wrong), right in the retries
        r = rows[q.id]
        assert (r["attempts"], r["learners"], r["first_try_correct"], r["flag"]) == (7, 5, 0.0, "hard")
        assert r["correct_share"] == 2 / 7 and r["most_chosen_wrong"] is None

    page = client_as("instructor").get("/instructor/lessons/2/stats")
    assert page.status_code == 200
    assert "nearly everyone right" in page.text and "nearly everyone wrong" in page.text
    assert wrong_text in page.text
    assert 'style="' not in page.text  # CSP: bars are SVG attributes
    assert re.search(r'<rect class="share-bar-fill"[^>]*width="100.0"', page.text)


def test_stats_keep_the_wording_learners_saw_after_an_edit(api_as, db):
    api = api_as("instructor")
    question = quiz_service.list_questions(db=db, lesson_number=3)[0]
    learner = make_user(db)
    wrong_id = wrong_choice(question)
    old_text = next(c.text for c in question.choices if c.id == wrong_id)
    quiz_service.grade(db=db, user_id=learner.id, lesson_number=3, answers={question.id: [wrong_id]})
    db.commit()

    body = api.get(f"/api/quiz/questions/{question.id}").json()
    for c in body["choices"]:
        if c["id"] == wrong_id:
            c["text"] = "Reworded wrong answer"
    body["lesson"] = 3
    assert api.put(f"/api/quiz/questions/{question.id}", json=body).json()["version"] == 2

    row = api.get("/api/quiz/stats?lesson=3").json()["questions"][0]
    assert row["most_chosen_wrong"]["text"] == old_text
    assert row["attempts"] == 1 and row["first_try_correct"] == 0.0


def test_empty_stats(api_as):
    rows = api_as("admin").get("/api/quiz/stats?lesson=8").json()["questions"]
    assert rows and all(r["attempts"] == 0 and r["first_try_correct"] is None for r in rows)
