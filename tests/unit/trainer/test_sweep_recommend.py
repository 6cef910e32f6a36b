"""The recommendation: best likeness among cells that follow prompts, do not copy, are not fried."""

from app.trainer.metrics import Score
from app.trainer.sweep_recommend import recommend
from app.trainer.sweep_scores import Cell


def _cell(epoch, strength, like, *, copy="good", follow="good", fried="good", photo=4):
    return Cell(
        epoch,
        strength,
        [],
        {
            "likeness": Score(
                "likeness", like, "good" if like >= 0.5 else "bad", "", {"faces_found": 3, "images": 3}
            ),
            "copying": Score("copying", 0.9 if copy == "bad" else 0.2, copy, "", {"training_photo": photo}),
            "prompt_following": Score("prompt_following", 0.2 if follow == "bad" else 0.8, follow, ""),
            "deep_fried": Score("deep_fried", 0.7 if fried == "bad" else 0.1, fried, ""),
        },
    )


def test_the_most_alike_clean_cell_wins_over_a_more_alike_copying_one():
    cells = [
        _cell(6, 0.7, 0.41),
        _cell(6, 0.9, 0.45),
        _cell(8, 0.7, 0.58),
        _cell(8, 0.9, 0.62),
        _cell(8, 1.1, 0.60, fried="bad"),
        _cell(10, 0.7, 0.64, follow="bad"),
        _cell(10, 0.9, 0.70, copy="bad", photo=4),
    ]
    rec = recommend(cells, "ada_face")
    assert (rec.epoch, rec.strength, rec.acceptable) == (8, 0.9, True)
    assert rec.reasoning.startswith(
        "Epoch 8 at 0.9: likeness 0.62 (3 of 3 faces found), prompts followed, no copying"
    )
    assert "Epoch 6 is less alike (best likeness 0.45): still under-fit." in rec.reasoning
    assert "Epoch 10 stops following prompts at 0.7." in rec.reasoning
    assert "<lora:ada_face:0.9>" in rec.reasoning


def test_ties_go_to_the_strength_nearest_0_8_then_the_earlier_epoch():
    rec = recommend([_cell(3, 0.5, 0.6), _cell(3, 0.9, 0.6), _cell(2, 0.9, 0.6)])
    assert (rec.epoch, rec.strength) == (2, 0.9)


def test_when_every_cell_over_fits_the_least_bad_is_named_and_retraining_advised():
    cells = [_cell(9, 0.5, 0.7, copy="bad"), _cell(9, 0.9, 0.8, copy="bad", fried="bad")]
    rec = recommend(cells)
    assert (rec.epoch, rec.strength, rec.acceptable) == (9, 0.5, False)
    assert "fewer epochs or a lower learning rate" in rec.reasoning
