"""GIFT import/export on hand-written samples: every syntax feature we take, every one we refuse."""

import pytest

from app.quiz.gift import GiftChoice, GiftQuestion, parse_gift
from app.quiz.gift_writer import dump_gift


def parse_ok(text: str) -> list[GiftQuestion]:
    questions, errors = parse_gift(text)
    assert errors == []
    return questions


def test_single_choice_with_feedback_title_and_general_feedback():
    [q] = parse_ok(
        "::Bad photo::Which photo is BAD for a face dataset? {\n"
        "  =A filtered selfie#Filters teach fake skin.\n"
        "  ~A sharp daylight portrait#That one is ideal.\n"
        "  ####Input quality bounds output quality.\n"
        "}\n"
    )
    assert q.kind == "single" and q.title == "Bad photo"
    assert q.prompt == "Which photo is BAD for a face dataset?"
    assert [(c.text, c.weight, c.feedback) for c in q.choices] == [
        ("A filtered selfie", 1.0, "Filters teach fake skin."),
        ("A sharp daylight portrait", 0.0, "That one is ideal."),
    ]
    assert q.general_feedback == "Input quality bounds output quality."


def test_multiple_answers_with_weights():
    [q] = parse_ok("Which help? {~%50%Varied light#yes ~%50%Varied angles ~%-100%Sunglasses#hides the eyes}")
    assert q.kind == "multiple"
    assert [c.weight for c in q.choices] == [0.5, 0.5, -1.0]
    assert q.choices[2].feedback == "hides the eyes"


@pytest.mark.parametrize(
    ("block", "answer"), [("{T}", True), ("{TRUE}", True), ("{F}", False), ("{FALSE}", False)]
)
def test_true_false_forms(block, answer):
    [q] = parse_ok(f"LoRA freezes the base model. {block}")
    assert q.kind == "true_false"
    assert q.choices[0].text == "True" and q.choices[0].is_correct is answer
    assert q.choices[1].is_correct is not answer


def test_true_false_feedback_order_is_wrong_then_right():
    [q] = parse_ok("The base is frozen. {T#No, it stays frozen.#Yes.}")
    assert q.choices[0].feedback == "Yes."  # shown to those who answered True (right)
    assert q.choices[1].feedback == "No, it stays frozen."


def test_comments_and_categories():
    qs = parse_ok(
        "// a file comment\n$CATEGORY: LoRAFace/Lesson 2\n\nQ one {=a ~b}\n\n"
        "// between questions\n$CATEGORY: LoRAFace/Lesson 3\n\nQ two {=c ~d}\n"
    )
    assert [(q.prompt, q.category) for q in qs] == [
        ("Q one", "LoRAFace/Lesson 2"),
        ("Q two", "LoRAFace/Lesson 3"),
    ]


def test_escapes():
    [q] = parse_ok(r"::A\:B::Ratio 1\:2 \= half \{not a block\} \# tag \~ tilde {=yes\=right\#1 ~no\~pe}")
    assert q.title == "A:B"
    assert q.prompt == "Ratio 1:2 = half {not a block} # tag ~ tilde"
    assert [c.text for c in q.choices] == ["yes=right#1", "no~pe"]


def test_image_choice_as_markdown_images():
    [q] = parse_ok(
        "[markdown]Which image is bad? {\n =![blurred](/static/a.jpg)#Blur hides features\n ~![sharp](/static/b.jpg)\n}"
    )
    assert q.kind == "image_choice"
    assert (q.choices[0].text, q.choices[0].image_url) == ("blurred", "/static/a.jpg")


def test_missing_word_keeps_a_blank():
    [q] = parse_ok("The trigger word is {=rare ~common} in the prompt.")
    assert q.prompt == "The trigger word is _____ in the prompt."


def test_question_line_numbers():
    qs = parse_ok("// c\n\nQ1 {=a ~b}\n\n\nQ2\n{=a ~b}\n")
    assert [q.line for q in qs] == [3, 6]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("Q1 {=a ~b\n", 1, "unclosed brace"),
        ("ok {=a ~b}\n\nQ2 spans\ntwo lines {=a\n~b\n", 4, "unclosed brace"),
        ("Q {#3:0.5}", 1, "numeric"),
        ("Q {=a -> b =c -> d}", 1, "matching"),
        ("Q {=cat =kitten}", 1, "short-answer"),
        ("Q {}", 1, "essay"),
        ("Q {xyz}", 1, "unknown question type"),
        ("Q {\n~%abc%a\n~b}", 2, "bad weight"),
        ("Q {\n~%150%a\n~b}", 2, "bad weight"),
        ("Q {~%50%a ~%30%b ~c}", 1, "add up to 80%"),
        ("Q {~a ~b}", 1, "no right answer"),
        ("::Unclosed title {=a ~b}", 1, "title"),
        ("Just text without answers", 1, "no answer block"),
    ],
)
def test_broken_files_are_rejected_with_line_numbers(text, line, words):
    questions, errors = parse_gift(text)
    assert len(errors) == 1, errors
    assert errors[0].line == line
    assert words in errors[0].message


def test_every_error_is_listed_not_only_the_first():
    questions, errors = parse_gift("Q1 {=a ~b}\n\nQ2 {#1}\n\nQ3 {=a ~b}\n\nQ4 {}\n")
    assert [e.line for e in errors] == [3, 7]
    assert len(questions) == 2  # the caller imports nothing when errors is not empty


def test_round_trip_every_kind():
    original = [
        GiftQuestion(
            "single",
            "Pick one: {a} = b? #1",
            [GiftChoice("yes: 1~2", 1.0, "right\nline two"), GiftChoice("no", 0.0)],
            title="T:1",
            general_feedback="gen",
        ),
        GiftQuestion(
            "multiple", "Pick some", [GiftChoice("a", 0.5), GiftChoice("b", 0.5, "fb"), GiftChoice("c", -1.0)]
        ),
        GiftQuestion(
            "multiple",
            "Thirds",
            [GiftChoice("a", 1 / 3), GiftChoice("b", 1 / 3), GiftChoice("c", 1 / 3), GiftChoice("d", 0)],
        ),
        GiftQuestion(
            "true_false",
            "Frozen?",
            [GiftChoice("True", 0.0, "no"), GiftChoice("False", 1.0, "yes")],
            general_feedback="g",
        ),
        GiftQuestion(
            "image_choice",
            "Bad image?",
            [GiftChoice("blur", 1.0, "x", "/static/x.jpg"), GiftChoice("ok", 0.0, "", "/static/y.jpg")],
        ),
    ]
    text = dump_gift(original, category="LoRAFace/Lesson 1", header="exported")
    back, errors = parse_gift(text)
    assert errors == []
    for a, b in zip(original, back, strict=True):
        assert (a.kind, a.prompt, a.title, a.general_feedback) == (
            b.kind,
            b.prompt,
            b.title,
            b.general_feedback,
        )
        for ca, cb in zip(a.choices, b.choices, strict=True):
            assert (ca.text, ca.feedback, ca.image_url) == (cb.text, cb.feedback, cb.image_url)
            assert ca.weight == pytest.approx(cb.weight, abs=1e-6)
        assert b.category == "LoRAFace/Lesson 1"
