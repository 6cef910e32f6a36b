"""Scoring rules of the quiz engine and what makes a question valid, without a database."""

import pytest

from app.quiz import service
from app.quiz.exceptions import InvalidQuestion
from app.quiz.models import Choice, Question, QuestionKind
from app.quiz.service import ChoiceSpec, QuestionSpec


def question(kind: QuestionKind, weights: list[float], feedback: str = "") -> Question:
    """An unsaved question whose choices have ids 1..n."""
    return Question(
        kind=kind,
        prompt="?",
        general_feedback=feedback,
        choices=[Choice(id=i, text=f"c{i}", weight=w, feedback=f"fb{i}") for i, w in enumerate(weights, 1)],
    )


def test_single_choice_scores_the_chosen_weight():
    q = question(QuestionKind.single, [0, 1, 0])
    assert service.score_answer(q, [2]) == (1.0, True)
    assert service.score_answer(q, [1]) == (0.0, False)
    assert service.score_answer(q, []) == (0.0, False)


def test_multiple_answers_add_weights_and_ticking_everything_does_not_pay():
    q = question(QuestionKind.multiple, [0.5, 0.5, 0, 0])
    assert service.score_answer(q, [1, 2]) == (1.0, True)
    assert service.score_answer(q, [1]) == (0.5, False)
    assert service.score_answer(q, [1, 2, 3]) == (0.5, False)
    assert service.score_answer(q, [1, 2, 3, 4]) == (0.0, False)


def test_multiple_answers_honour_explicit_negative_weights():
    q = question(QuestionKind.multiple, [0.5, 0.5, -1.0])
    assert service.score_answer(q, [1, 3]) == (0.0, False)


def test_feedback_joins_chosen_choices_and_the_general_feedback():
    q = question(QuestionKind.multiple, [0.5, 0.5, 0], feedback="general")
    assert service.feedback_for(q, [1, 3]) == "fb1 fb3 general"
    assert service.feedback_for(q, []) == "No answer was chosen. general"


@pytest.mark.parametrize(
    "spec, message",
    [
        (QuestionSpec(QuestionKind.single, "", [ChoiceSpec("a", 1), ChoiceSpec("b")]), "prompt"),
        (QuestionSpec(QuestionKind.single, "?", [ChoiceSpec("a", 1)]), "two choices"),
        (QuestionSpec(QuestionKind.single, "?", [ChoiceSpec("a"), ChoiceSpec("b")]), "right"),
        (QuestionSpec(QuestionKind.single, "?", [ChoiceSpec("a", 1), ChoiceSpec("b", 1)]), "exactly one"),
        (QuestionSpec(QuestionKind.multiple, "?", [ChoiceSpec("a", 0.5), ChoiceSpec("b", 0.3)]), "100%"),
        (
            QuestionSpec(QuestionKind.true_false, "?", [ChoiceSpec("Yes", 1), ChoiceSpec("No")]),
            "True and False",
        ),
        (
            QuestionSpec(
                QuestionKind.image_choice, "?", [ChoiceSpec("a", 1, image_path="/x.jpg"), ChoiceSpec("b")]
            ),
            "picture",
        ),
    ],
)
def test_invalid_questions_are_refused_with_a_reason(spec, message):
    with pytest.raises(InvalidQuestion, match=message):
        service.validate_question(spec)


def test_valid_kinds_pass_validation():
    service.validate_question(
        QuestionSpec(QuestionKind.true_false, "?", [ChoiceSpec("True", 1), ChoiceSpec("False")])
    )
    service.validate_question(
        QuestionSpec(
            QuestionKind.multiple,
            "?",
            [ChoiceSpec("a", 1 / 3), ChoiceSpec("b", 1 / 3), ChoiceSpec("c", 0.33333)],
        )
    )
