"""Prior preservation on the tiny SDXL: class images are made by the base once, reused by the next
run, trained as examples of their own (their loss scaled by prior_loss_weight), and a cancel
between two of them keeps the finished ones."""

import dataclasses

import pytest

from app.trainer import prior
from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingCancelled
from app.trainer.pipeline import run_training
from tests.integration.trainer.conftest import RES, fresh_pipe

pytestmark = pytest.mark.slow

CFG = TrainConfig(
    trigger="sks",
    class_word="woman",
    resolution=RES,
    rank=4,
    alpha=4.0,
    epochs=1,
    learning_rate=1e-2,
    sample_steps=1,
    seed=4242,  # a seed of its own: no other test shares this cache folder
    prior_images=2,
)


def _folder(model_cache, cfg):
    from app.trainer import base_models

    return prior.cache_folder(
        model_cache,
        base=str(base_models.resolve(None, model_cache).path),
        class_word=cfg.class_word,
        resolution=cfg.resolution,
        steps=cfg.sample_steps,
        seed=cfg.seed,
    )


def _train(cfg, images, out, cache, **kwargs):
    return run_training(
        cfg=cfg, images=images, out_dir=out, base_model=None, cache_dir=cache, device="cpu", **kwargs
    )


def test_class_images_are_made_once_reused_and_trained_with_their_weight(tmp_path, model_cache, face_images):
    first_progress = []
    silent = dataclasses.replace(CFG, prior_loss_weight=0.0)
    first = _train(silent, face_images, tmp_path / "first", model_cache, on_progress=first_progress.append)

    folder = _folder(model_cache, CFG)
    paths = [prior.image_path(folder, i) for i in range(CFG.prior_images)]
    assert all(p.is_file() for p in paths)
    mtimes = [p.stat().st_mtime_ns for p in paths]
    phase = [p for p in first_progress if p.phase == "prior images"]
    assert [p.step for p in phase] == [1, 2] and all(p.total_steps == 2 for p in phase)
    assert "2 made by the base, 0 from the cache" in phase[-1].message
    # 4 faces + 2 class images, batch 1: six steps in the epoch; at weight 0 a class image's step has loss 0
    assert first.steps == 6
    assert sum(loss == 0.0 for loss in first.losses) == 2
    assert all(p.phase == "training" for p in first_progress[len(phase) :])

    second_progress = []
    second = _train(CFG, face_images, tmp_path / "second", model_cache, on_progress=second_progress.append)
    assert [p.stat().st_mtime_ns for p in paths] == mtimes  # not made again
    phase = [p for p in second_progress if p.phase == "prior images"]
    assert "0 made by the base, 2 from the cache" in phase[-1].message
    assert second.steps == 6
    assert all(loss > 0 for loss in second.losses)  # weight 1: the class images teach too


def test_more_class_images_make_only_the_missing_ones_and_a_cancel_keeps_the_finished(tmp_path, model_cache):
    pipe = fresh_pipe(model_cache)
    folder = tmp_path / "prior"
    kwargs = dict(folder=folder, prompt="photo of a woman", seed=7, steps=1, resolution=RES, device="cpu")

    with pytest.raises(TrainingCancelled):
        done = []
        prior.ensure_class_images(
            pipe, count=3, on_image=lambda *a: done.append(a), should_cancel=lambda: len(done) == 1, **kwargs
        )
    assert sorted(p.name for p in folder.glob("*.png")) == ["0000.png"]  # no half-written file

    kept = prior.image_path(folder, 0).stat().st_mtime_ns
    result = prior.ensure_class_images(pipe, count=3, **kwargs)
    assert result.generated == 2 and len(result.paths) == 3
    assert prior.image_path(folder, 0).stat().st_mtime_ns == kept
    # image i is drawn from seed + i: the three images differ
    from PIL import Image

    pixels = [Image.open(p).tobytes() for p in result.paths]
    assert len(set(pixels)) == 3


def test_class_prompt_names_the_class_without_the_trigger():
    assert prior.class_prompt("woman") == "photo of a woman"
    assert prior.class_prompt("old_man") == "photo of an old_man"
