"""Lesson 6's arithmetic, the learning-rate schedule, the config and SDXL's crop conditioning."""

import json

import pytest

from app.trainer.config import TrainConfig, get_lr, plan, steps_per_epoch, total_steps, validate
from app.trainer.encoding import sdxl_time_ids
from app.trainer.errors import TrainingError
from app.trainer.pipeline import TrainImage


def cfg(**kwargs) -> TrainConfig:
    return TrainConfig(trigger="sks", class_word="woman", **kwargs)


@pytest.mark.parametrize(
    ("images", "repeats", "batch", "expected"),
    [(20, 1, 1, 20), (20, 10, 1, 200), (20, 10, 4, 50), (15, 1, 4, 4), (1, 1, 8, 1)],
)
def test_steps_per_epoch_is_images_times_repeats_over_batch_rounded_up(images, repeats, batch, expected):
    assert steps_per_epoch(images, repeats, batch) == expected


def test_total_steps_from_epochs_or_max_steps():
    assert total_steps(cfg(epochs=10, repeats=10, batch_size=2), 20) == 1000
    assert plan(cfg(epochs=3, repeats=2), 5) == (10, 30, 3)
    # max_steps wins over epochs; the last epoch may be partial
    assert plan(cfg(epochs=10, max_steps=25), 10) == (10, 25, 3)


def test_warmup_then_constant_or_cosine():
    constant = cfg(learning_rate=1e-3, warmup_steps=4)
    assert [get_lr(constant, s, 100) for s in range(4)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])
    assert get_lr(constant, 50, 100) == 1e-3
    cosine = cfg(learning_rate=1e-3, lr_scheduler="cosine")
    assert get_lr(cosine, 0, 100) == pytest.approx(1e-3)
    assert get_lr(cosine, 50, 100) == pytest.approx(5e-4)
    assert get_lr(cosine, 100, 100) == pytest.approx(0.0, abs=1e-12)
    # a group with its own base rate (the text encoders) follows the same curve
    assert get_lr(cosine, 50, 100, base_lr=2e-4) == pytest.approx(1e-4)


@pytest.mark.parametrize(
    "bad",
    [
        {"rank": 0},
        {"epochs": None, "max_steps": None},
        {"resolution": 100},
        {"lr_scheduler": "linear"},
        {"learning_rate": 0},
    ],
)
def test_validate_rejects_settings_that_cannot_train(bad):
    with pytest.raises(TrainingError):
        validate(cfg(**bad))


def test_config_round_trips_through_json_and_ignores_unknown_keys():
    original = cfg(sample_prompts=("a", "b"), target_modules=("to_q", "to_v"), alpha=8.0)
    data = json.loads(original.to_json())
    assert TrainConfig.from_dict({**data, "from_a_newer_version": 1}) == original
    assert original.prompts_for_samples() == ["a", "b"]
    assert cfg().prompts_for_samples() == ["photo of sks woman"]


def test_sdxl_time_ids_use_the_real_crop():
    # a 512 px square from a 600 x 800 (h x w) photo, 50 px down and 100 px in, trained at 1024
    item = TrainImage(
        path="x.png", caption="c", original_size=(600, 800), crop_top_left=(50, 100), crop_size=512
    )
    assert sdxl_time_ids(item, 1024) == [600, 800, 100, 200, 1024, 1024]
    # unknown crop size: the crop was the photo's shorter side
    centred = TrainImage(path="x.png", caption="c", original_size=(600, 800), crop_top_left=(0, 100))
    assert sdxl_time_ids(centred, 1200) == [600, 800, 0, 200, 1200, 1200]
    # nothing known: the crop is the whole image at the training size
    assert sdxl_time_ids(TrainImage(path="x.png", caption="c"), 1024) == [1024, 1024, 0, 0, 1024, 1024]
