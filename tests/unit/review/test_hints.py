"""Rubric hints from the automatic scores: marks, reasons, and no hint where nothing was measured."""

from app.review.hints import (
    consistency_hint,
    flexibility_hint,
    image_quality_hint,
    likeness_hint,
    rubric_hints,
)


def _score(value, band="good", **details):
    return {"value": value, "band": band, "sentence": "", "details": details}


def _cell(strength, like, same, images=3, follow=0.7, copy_band="good", fried=0.1):
    return {
        "strength": strength,
        "scores": {
            "likeness": _score(like, same_person=same, images=images),
            "copying": _score(0.3, copy_band),
            "prompt_following": _score(follow),
            "deep_fried": _score(fried),
        },
    }


def test_likeness_marks_follow_the_same_person_thresholds():
    assert likeness_hint(_score(0.65)).mark == 5
    assert likeness_hint(_score(0.45)).mark == 3
    assert likeness_hint(_score(0.1)).mark == 1
    assert likeness_hint(_score(None, "unknown")) is None


def test_copying_caps_flexibility_even_when_prompts_are_followed():
    assert flexibility_hint(_score(0.9), _score(0.2, "good")).mark == 5
    capped = flexibility_hint(_score(0.9), _score(0.9, "bad"))
    assert capped.mark == 1 and "copies a training photo" in capped.reason


def test_deep_fried_lowers_image_quality():
    assert image_quality_hint(_score(0.05)).mark == 5
    assert image_quality_hint(_score(0.7, "bad")).mark == 1


def test_consistency_counts_same_person_images_across_the_row():
    hint = consistency_hint([_cell(0.6, 0.5, same=3), _cell(1.0, 0.5, same=1)])
    assert hint.mark == 3 and hint.reason == "4 of 6 images pass as the same person"
    assert consistency_hint([]) is None


def test_hints_use_the_cell_at_the_recommended_strength():
    sweep = {"row": [_cell(0.6, 0.3, 1, fried=0.05), _cell(1.0, 0.62, 3, fried=0.65)], "hint_strength": 1.0}
    hints = rubric_hints(sweep)
    assert hints["likeness"].mark == 5 and hints["likeness"].reason.endswith("at strength 1")
    assert hints["image_quality"].mark == 1
    assert rubric_hints(None) == {} and rubric_hints({"row": []}) == {}
