"""Attempts are recorded with a snapshot of what was asked, and survive later edits."""

from sqlalchemy import select

from app.quiz import service
from app.quiz.exceptions import NoQuestions
from app.quiz.models import Attempt, QuestionKind
from app.quiz.service import ChoiceSpec, QuestionSpec
from tests import factories

LESSON = 42  # outside the course's eight, so seeded questions stay out of the way


def make_question(db, prompt="Which is right?"):
    return service.create_question(
        db=db,
        lesson_number=LESSON,
        spec=QuestionSpec(
            QuestionKind.single,
            prompt,
            [ChoiceSpec("wrong", 0, "no"), ChoiceSpec("right", 1, "yes")],
            general_feedback="because",
        ),
    )


def test_every_attempt_is_kept_with_a_snapshot(db):
    user = factories.make_user(db)
    q = make_question(db)
    wrong, right = q.choices
    first = service.grade(db=db, user_id=user.id, lesson_number=LESSON, answers={q.id: [wrong.id]})
    second = service.grade(db=db, user_id=user.id, lesson_number=LESSON, answers={q.id: [right.id]})
    db.commit()
    assert (first.passed, second.passed) == (False, True)
    assert first.answers[0].feedback == "no because"
    assert second.answers[0].snapshot["prompt"] == "Which is right?"
    assert [c["text"] for c in second.answers[0].snapshot["choices"]] == ["wrong", "right"]
    summary = service.attempt_summary(db=db, user_id=user.id, lesson_number=LESSON)
    assert (summary.attempts, summary.best_score, summary.passed) == (2, 1.0, True)


def test_editing_or_deleting_a_question_leaves_past_attempts_intact(db):
    user = factories.make_user(db)
    q = make_question(db)
    attempt = service.grade(db=db, user_id=user.id, lesson_number=LESSON, answers={q.id: [q.choices[1].id]})
    db.commit()
    q.prompt, q.version = "A reworded question", q.version + 1
    q.choices[1].text = "changed"
    db.commit()
    db.delete(q)
    db.commit()
    db.expire_all()
    stored = db.scalars(select(Attempt).where(Attempt.id == attempt.id)).one()
    answer = stored.answers[0]
    assert answer.question_id is None  # the question is gone, the record is not
    assert answer.question_version == 1
    assert answer.snapshot["prompt"] == "Which is right?"
    assert answer.snapshot["choices"][1]["text"] == "right"
    assert stored.passed


def test_pass_mark_is_per_lesson_and_kept_on_the_attempt(db):
    user = factories.make_user(db)
    questions = [make_question(db, f"q{i}") for i in range(4)]
    three_right = {q.id: [q.choices[1].id] for q in questions[:3]}
    assert service.get_pass_mark(db=db, lesson_number=LESSON) == 80
    assert not service.grade(db=db, user_id=user.id, lesson_number=LESSON, answers=three_right).passed
    service.set_pass_mark(db=db, lesson_number=LESSON, pass_mark=75)
    attempt = service.grade(db=db, user_id=user.id, lesson_number=LESSON, answers=three_right)
    assert attempt.passed and attempt.pass_mark == 75 and attempt.score == 0.75


def test_a_check_without_questions_cannot_be_taken(db):
    user = factories.make_user(db)
    try:
        service.grade(db=db, user_id=user.id, lesson_number=LESSON + 1, answers={})
    except NoQuestions as exc:
        assert exc.status_code == 409
    else:
        raise AssertionError("grading an empty check should fail")


def test_seeding_is_idempotent_and_keeps_instructor_edits(db, settings):
    from app.lessons import service as lessons_service
    from app.seed import seed_all

    first = service.list_questions(db=db, lesson_number=1)
    first[0].prompt = "Edited by an instructor"
    db.commit()
    seed_all(db=db, settings=settings)
    db.commit()
    again = service.list_questions(db=db, lesson_number=1)
    assert [q.id for q in again] == [q.id for q in first]
    assert again[0].prompt == "Edited by an instructor"
    assert lessons_service.seed_checks(db=db) == 0
