"""FLUX.1 on the tiny demo base: the flow-matching loop trains an adapter whose exported file
reloads in a fresh FluxPipeline with the same outputs, and strength 0 is the base exactly."""

import json

import pytest

from app.trainer import base_models, sampling
from app.trainer.config import TrainConfig
from app.trainer.export import read_metadata
from app.trainer.flux import encoding, loop
from app.trainer.flux import export as flux_export
from app.trainer.flux.pipeline import transformer_output
from app.trainer.pipeline import TrainImage
from tests.photos import write_face_set

RES = 64  # 8x8 latents, 16 packed image tokens


@pytest.fixture(scope="module")
def flux_images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flux-faces")
    return [TrainImage(path=p, caption="sks woman") for p in write_face_set(folder, size=RES)[:2]]


def _fresh(model_cache):
    return base_models.load_pipeline(base_models.resolve(None, model_cache, "flux"))


def test_trained_adapter_reloads_exactly_and_strength_zero_is_the_base(model_cache, flux_images, tmp_path):
    import torch

    pipe = _fresh(model_cache)
    cfg = TrainConfig(
        trigger="sks", class_word="woman", resolution=RES, max_steps=2, rank=4, alpha=2.0, learning_rate=1e-2
    )
    examples = encoding.encode_examples(pipe, flux_images, "cpu", resolution=RES)
    assert examples[0].latent_mean.shape == (1, 16, RES // 8, RES // 8)
    progress = []
    result = loop.train(
        cfg, pipe, examples, out_dir=tmp_path / "run", device="cpu", on_progress=progress.append
    )
    assert result.steps == 2 and [p.step for p in progress] == [1, 2]
    assert (tmp_path / "run" / "checkpoints" / "last" / "transformer.safetensors").exists()
    path = flux_export.save_diffusers(pipe.transformer, tmp_path / "lora")
    trained = transformer_output(pipe, cfg, "cpu")

    fresh = _fresh(model_cache)
    base = transformer_output(fresh, cfg, "cpu")
    assert not torch.equal(trained, base)
    fresh.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="face")
    assert (transformer_output(fresh, cfg, "cpu") - trained).abs().max().item() < 1e-5
    fresh.set_adapters(["face"], adapter_weights=[0.0])
    assert torch.equal(transformer_output(fresh, cfg, "cpu"), base)
    fresh.delete_adapters(["face"])

    metadata = json.loads(read_metadata(path)["lora_adapter_metadata"])
    assert metadata["transformer.lora_alpha"] == 2.0 and metadata["transformer.r"] == 4  # the true alpha
    assert flux_export.file_unresolved_keys(path, fresh.transformer) == []

    # whole images through FluxPipeline: the sweep's strength 0 is the base image, strength 1 differs
    base_image = sampling.run_pipe(fresh, prompts=["photo of sks woman"], seed=1, steps=2, resolution=RES)[0]
    zero, one = sampling.sweep_with(
        fresh,
        lora_path=path,
        prompts=["photo of sks woman"],
        strengths=[0.0, 1.0],
        seed=1,
        steps=2,
        resolution=RES,
    )
    assert list(zero[0].getdata()) == list(base_image.getdata())
    assert list(one[0].getdata()) != list(base_image.getdata())


def test_flux_settings_it_cannot_train_are_refused():
    from app.trainer.errors import TrainingError

    with pytest.raises(TrainingError, match="transformer only"):
        loop.validate_flux(
            TrainConfig(trigger="sks", class_word="woman", resolution=64, train_text_encoder=True)
        )
    with pytest.raises(TrainingError, match="multiple of 16"):
        loop.validate_flux(TrainConfig(trigger="sks", class_word="woman", resolution=72))


def test_a_single_transformer_file_loads_with_the_parts_beside_it(model_cache, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    folder = base_models.resolve(None, model_cache, "flux").path
    beside = tmp_path / "comfy"
    for part in ("text_encoder", "text_encoder_2", "tokenizer_2", "vae"):
        shutil.copytree(folder / part, beside / part)
    (beside / "transformer").mkdir()  # the fine-tune's own config (the tiny widths), no weights
    shutil.copy(folder / "transformer" / "config.json", beside / "transformer" / "config.json")
    file = beside / "tiny-flux.safetensors"
    save_file(load_file(str(folder / "transformer" / "diffusion_pytorch_model.safetensors")), str(file))

    model = base_models.resolve(file, tmp_path)
    assert (model.family, model.single_file) == ("flux", True)
    cfg = TrainConfig(trigger="sks", class_word="woman", resolution=RES)
    from_file = transformer_output(base_models.load_pipeline(model), cfg, "cpu")
    assert torch.equal(from_file, transformer_output(_fresh(model_cache), cfg, "cpu"))


def test_a_cancelled_run_resumes_to_the_same_adapter(model_cache, flux_images, tmp_path):
    import torch
    from peft.utils import get_peft_model_state_dict

    from app.trainer.errors import TrainingCancelled

    cfg = TrainConfig(
        trigger="sks", class_word="woman", resolution=RES, max_steps=4, rank=4, learning_rate=1e-2
    )

    def run(out, should_cancel=lambda: False):
        pipe = _fresh(model_cache)
        examples = encoding.encode_examples(pipe, flux_images, "cpu", resolution=RES)
        loop.train(cfg, pipe, examples, out_dir=out, device="cpu", should_cancel=should_cancel)
        return get_peft_model_state_dict(pipe.transformer)

    straight = run(tmp_path / "straight")
    calls = iter(range(100))
    with pytest.raises(TrainingCancelled):
        run(tmp_path / "cut", should_cancel=lambda: next(calls) == 3)  # stops before step 4, after epoch 1
    resumed = run(tmp_path / "cut")
    assert straight.keys() == resumed.keys()
    assert all(torch.allclose(straight[k], resumed[k], atol=1e-6) for k in straight)
