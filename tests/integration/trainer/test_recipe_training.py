"""The face recipe through the real pipeline on the tiny SDXL: every optimizer resumes exactly,
LoCon and DoRA export files that reload to the trained adapter, buckets train batches of one shape."""

import dataclasses

import pytest

from app.trainer import export
from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingCancelled
from app.trainer.pipeline import TrainImage, run_training
from tests.integration.trainer.conftest import RES

pytestmark = pytest.mark.slow

CFG = TrainConfig(
    trigger="sks",
    class_word="woman",
    resolution=RES,
    rank=4,
    alpha=4.0,
    epochs=2,
    learning_rate=1e-2,
    sample_steps=1,
)


def _run(cfg, images, out, cache, **kwargs):
    return run_training(
        cfg=cfg, images=images, out_dir=out, base_model=None, cache_dir=cache, device="cpu", **kwargs
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "adamw"},
        {"optimizer": "adafactor"},
        {"optimizer": "prodigy", "learning_rate": 1.0},
        {"optimizer": "adamw", "ema_decay": 0.9},
    ],
    ids=["adamw", "adafactor", "prodigy", "adamw-ema"],
)
def test_each_optimizer_resumes_to_the_weights_of_an_uninterrupted_run(
    settings, tmp_path, model_cache, face_images
):
    from safetensors.torch import load_file

    if settings["optimizer"] == "prodigy":
        pytest.importorskip("prodigyopt")
    cfg = dataclasses.replace(CFG, **settings)
    whole = _run(cfg, face_images, tmp_path / "whole", model_cache)
    steps = []
    with pytest.raises(TrainingCancelled):
        _run(
            cfg,
            face_images,
            tmp_path / "cut",
            model_cache,
            on_progress=lambda p: steps.append(p.step),
            should_cancel=lambda: len(steps) >= 6,
        )
    again = _run(cfg, face_images, tmp_path / "cut", model_cache)
    assert again.losses == whole.losses
    first, second = load_file(whole.lora_path), load_file(again.lora_path)
    assert first.keys() == second.keys() and all(first[k].equal(second[k]) for k in first)
    meta = export.read_metadata(whole.kohya_path)
    assert meta["ss_optimizer"] == export.OPTIMIZER_NAMES[cfg.optimizer]
    assert meta["loraface.weights"] == ("ema" if cfg.ema_decay else "raw")


def test_adamw8bit_off_cuda_is_a_clear_error(tmp_path, model_cache, face_images):
    from app.trainer.errors import TrainingError

    with pytest.raises(TrainingError, match="CUDA"):
        _run(dataclasses.replace(CFG, optimizer="adamw8bit"), face_images, tmp_path, model_cache)


@pytest.mark.parametrize("network", ["locon", "dora"])
def test_locon_and_dora_files_reload_to_the_trained_adapter(network, tmp_path, model_cache, face_images):
    """run_training's final check reloads both files through diffusers and compares the UNet's
    output with the in-memory adapter (to 1e-4 on CPU); here we also read what the files hold."""
    from safetensors import safe_open

    outcome = _run(dataclasses.replace(CFG, network=network), face_images, tmp_path, model_cache)
    with safe_open(str(outcome.kohya_path), "pt") as fh:
        keys = list(fh.keys())
        meta = fh.metadata()
    if network == "locon":
        assert any(k.startswith("lora_unet_input_blocks_1_0_in_layers_2.") for k in keys)
        assert meta["ss_network_module"] == "networks.lora" and '"conv_dim": "4"' in meta["ss_network_args"]
    else:
        scales = [k for k in keys if k.endswith(".dora_scale")]
        assert scales and len(scales) == len([k for k in keys if k.endswith(".lora_down.weight")])
        assert meta["ss_network_module"] == "lycoris.kohya" and '"dora_wd": "True"' in meta["ss_network_args"]


def test_buckets_train_batches_of_one_shape_with_their_own_time_ids(tmp_path, model_cache, face_images):
    from PIL import Image

    from app.trainer import base_models, buckets, encoding

    portrait = buckets.nearest_bucket(0.6, RES)
    images = list(face_images[:2])
    for i, item in enumerate(face_images[2:]):
        path = tmp_path / f"portrait_{i}.png"
        with Image.open(item.path) as im:
            im.convert("RGB").resize(portrait).save(path)
        images.append(TrainImage(path=path, caption="sks woman", original_size=(100, 60), crop_hw=(100, 60)))
    pipe = base_models.load_pipeline(base_models.resolve(None, model_cache))
    examples = encoding.encode_examples(pipe, images, "cpu", resolution=RES, keep_size=True)
    shapes = [tuple(e.latent_mean.shape[-2:]) for e in examples]
    assert shapes[2] == (portrait[1] // 8, portrait[0] // 8) and shapes[0] == (RES // 8, RES // 8)
    assert examples[2].time_ids.tolist() == [[100, 60, 0, 0, portrait[1], portrait[0]]]
    for batch in buckets.batches([0, 2, 1, 3], shapes, 2):
        assert len({shapes[i] for i in batch}) == 1
    cfg = dataclasses.replace(CFG, buckets=True, batch_size=2, epochs=1)
    outcome = _run(cfg, images, tmp_path / "run", model_cache)
    assert outcome.steps == 2  # two buckets of two: one batch each
