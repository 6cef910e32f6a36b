"""On the demo base no score is passed off as measured: each becomes null with its reason."""

from app.evaluate.score_notes import DEMO_REASONS, SCORE_NAMES, honest_result


def _result():
    score = {"value": 0.9, "band": "good", "sentence": "Deep-fried 0.10: colours and contrast look natural.",
             "details": {}}  # fmt: skip
    cell = {
        "epoch": 1,
        "strength": 0.9,
        "images": [],
        "scores": {n: {**score, "name": n} for n in SCORE_NAMES},
    }
    return {
        "cells": [cell],
        "per_epoch": {"1": dict(cell["scores"])},
        "scores": {n: 0.9 for n in SCORE_NAMES},
        "recommendation": {
            "epoch": 1,
            "strength": 0.9,
            "reasoning": "natural colour, prompts followed",
            "acceptable": True,
        },  # fmt: skip
    }


def test_demo_scores_become_null_with_a_reason():
    result = honest_result(_result(), demo=True)
    assert result["scores"] == {n: None for n in SCORE_NAMES}
    for n in SCORE_NAMES:
        assert result["cells"][0]["scores"][n]["value"] is None
        assert result["cells"][0]["scores"][n]["sentence"] == DEMO_REASONS[n]
    assert "natural colour" not in result["recommendation"]["reasoning"]
    assert "draws no faces" in DEMO_REASONS["likeness"]


def test_a_real_base_keeps_its_scores():
    assert honest_result(_result(), demo=False) == _result()
