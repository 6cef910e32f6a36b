"""vae_tiling (the 12 GB preset's VAE in tiles) really sends the VAE through tiles: above the tiny
VAE's tile size (128 px) a tiled run encodes and decodes differently from an untiled one."""

import dataclasses

import pytest
from PIL import Image

from app.trainer.config import TrainConfig
from app.trainer.pipeline import run_training

pytestmark = pytest.mark.slow

CFG = TrainConfig(
    trigger="sks",
    class_word="woman",
    resolution=256,
    rank=4,
    alpha=4.0,
    max_steps=1,
    epochs=None,
    sample_steps=1,
)


def test_a_tiled_vae_trains_and_samples_through_tiles(tmp_path, model_cache, face_images):
    samples = []
    for n, tiling in enumerate((False, False, True)):
        out = tmp_path / f"run-{n}"
        cfg = dataclasses.replace(CFG, vae_tiling=tiling)
        outcome = run_training(
            cfg=cfg, images=face_images, out_dir=out, base_model=None, cache_dir=model_cache, device="cpu"
        )
        (sample,) = outcome.epochs[-1].sample_paths
        with Image.open(sample) as im:
            assert im.size == (256, 256)
            samples.append(im.tobytes())
    assert samples[0] == samples[1]  # the same run twice: the same pixels
    assert samples[0] != samples[2]  # the tiles' blended seams change them
