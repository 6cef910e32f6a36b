"""What to change next, from a sweep's scores: each rule names a setting and its lesson."""

from app.trainer.suggest import suggest


def _cell(epoch, strength, likeness=0.6, copying="good", follow="good", fried="good"):
    def score(name, band, value=0.5):
        return {"name": name, "value": value, "band": band, "sentence": "", "details": {}}

    return {
        "epoch": epoch,
        "strength": strength,
        "images": [],
        "scores": {
            "likeness": score("likeness", "good" if likeness >= 0.5 else "bad", likeness),
            "copying": score("copying", copying),
            "prompt_following": score("prompt_following", follow),
            "deep_fried": score("deep_fried", fried),
        },
    }


def _result(cells):
    return {"epochs": sorted({c["epoch"] for c in cells}), "cells": cells}


CONFIG = {"learning_rate": 1e-4, "epochs": 10}


def test_low_likeness_everywhere_asks_for_a_higher_learning_rate():
    cells = [_cell(e, s, likeness=0.2) for e in (8, 9, 10) for s in (0.5, 0.9)]
    (only,) = suggest(_result(cells), CONFIG)
    assert only.changes == {"learning_rate": 2e-4} and only.lesson == 6


def test_low_likeness_at_a_high_rate_asks_for_more_epochs():
    cells = [_cell(e, 0.8, likeness=0.1) for e in (1, 2)]
    (only,) = suggest(_result(cells), {"learning_rate": 5e-4, "epochs": 10})
    assert only.changes == {"epochs": 15}


def test_copying_in_late_epochs_asks_to_stop_earlier():
    cells = [_cell(8, 0.8), _cell(9, 0.8), _cell(10, 0.8, copying="bad")]
    (only,) = suggest(_result(cells), CONFIG)
    assert only.changes == {"epochs": 9} and only.lesson == 8 and "epoch 10" in only.reason


def test_deep_fried_asks_for_a_lower_learning_rate_first():
    cells = [_cell(9, 0.8), _cell(10, 0.8, fried="bad", copying="bad")]
    found = suggest(_result(cells), CONFIG)
    assert found[0].changes == {"learning_rate": 5e-5} and len(found) == 2


def test_nothing_measured_or_all_good_suggests_nothing():
    assert suggest(None, CONFIG) == []
    assert suggest(_result([_cell(1, 0.8), _cell(2, 0.8)]), CONFIG) == []
