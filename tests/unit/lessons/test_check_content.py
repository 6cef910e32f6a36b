"""The lesson checks as written: answers spread, true/false balanced, scenarios in every lesson."""

from collections import Counter

from app.lessons import catalog


def _questions():
    return [(lesson.number, q) for lesson in catalog.lessons() for q in lesson.check["questions"]]


def test_every_lesson_has_at_least_two_scenario_questions():
    for lesson in catalog.lessons():
        scenarios = [q for q in lesson.check["questions"] if q.get("title", "").startswith("Scenario")]
        assert len(scenarios) >= 2, f"lesson {lesson.number} has {len(scenarios)} scenario questions"


def test_true_false_answers_are_balanced():
    answers = Counter(
        next(c["text"] for c in q["choices"] if c.get("right"))
        for _, q in _questions()
        if q["kind"] == "true_false"
    )
    assert abs(answers["True"] - answers["False"]) <= 1, answers


def test_right_answers_are_spread_across_positions():
    one_answer = [q for _, q in _questions() if q["kind"] in ("single", "image_choice")]
    positions = Counter(next(i for i, c in enumerate(q["choices"]) if c.get("right")) for q in one_answer)
    assert len(positions) >= 4
    assert max(positions.values()) <= 0.4 * len(one_answer), positions


def test_multiple_answer_questions_do_not_hide_the_wrong_choice_last():
    multiple = [q for _, q in _questions() if q["kind"] == "multiple"]
    wrong_last = [q["title"] for q in multiple if not q["choices"][-1].get("right")]
    assert len(wrong_last) <= len(multiple) / 2, wrong_last
    assert all(sum(not c.get("right") for c in q["choices"]) >= 2 for q in multiple)
