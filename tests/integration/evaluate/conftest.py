"""A tiny LoRA trained once per module on real photos, for the evaluate tests."""

from pathlib import Path

import pytest
from PIL import Image

from tests.photos import square, write_face_set

RES = 64


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("eval-model-cache")


@pytest.fixture(scope="module")
def tiny_lora(tmp_path_factory, model_cache):
    """(outcome, crop paths) of a 3-epoch rank-4 LoRA on the tiny base, at 64 px."""
    from app.trainer.config import TrainConfig
    from app.trainer.pipeline import TrainImage, run_training

    folder = tmp_path_factory.mktemp("eval-train")
    crops = []
    for path in write_face_set(folder / "photos", size=RES):
        crop = folder / f"crop_{path.stem}.png"
        with Image.open(path) as im:
            square(im, RES).save(crop)
        crops.append(crop)
    cfg = TrainConfig(
        trigger="sks",
        class_word="woman",
        resolution=RES,
        rank=4,
        alpha=4.0,
        epochs=3,
        learning_rate=1e-2,
        sample_steps=2,
    )
    outcome = run_training(
        cfg=cfg,
        images=[TrainImage(path=c, caption="sks woman", original_size=(RES, RES)) for c in crops],
        out_dir=folder / "out",
        base_model=None,
        cache_dir=model_cache,
        device="cpu",
    )
    return outcome, crops
