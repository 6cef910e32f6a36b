"""base_precision "fp8" on the tiny bases, on the CPU: the frozen base's block weights are stored
as float8_e4m3fn (norms and embedders stay float32) and upcast per layer; the adapters stay
float32, train, export, and the exported file reloads into a fresh pipeline."""

import json

import pytest

from app.trainer import base_models, loop, precision
from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingError
from app.trainer.export import read_metadata
from app.trainer.flux import encoding
from app.trainer.flux import loop as flux_loop
from app.trainer.flux.pipeline import export_epoch
from app.trainer.pipeline import TrainImage
from tests.photos import write_face_set

RES = 64
CFG = TrainConfig(
    trigger="sks",
    class_word="woman",
    resolution=RES,
    max_steps=2,
    rank=4,
    alpha=4.0,
    learning_rate=1e-2,
    base_precision="fp8",
    sample_steps=1,
)


def _adapters(model) -> dict:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}


def _check_storage(model) -> None:
    import torch

    dtypes = {n: p.dtype for n, p in model.named_parameters()}
    lora = [d for n, d in dtypes.items() if "lora_" in n]
    assert lora and all(d == torch.float32 for d in lora)  # the adapters: full precision
    stored = [n for n, d in dtypes.items() if d == torch.float8_e4m3fn]
    assert stored and not any("lora_" in n or "norm" in n or "embed" in n for n in stored)
    assert all(dtypes[n] == torch.float32 for n in dtypes if "norm" in n or "embed" in n)


def test_flux_trains_on_an_fp8_base_and_its_export_reloads(model_cache, tmp_path):
    import torch

    images = [
        TrainImage(path=p, caption="sks woman") for p in write_face_set(tmp_path / "faces", size=RES)[:2]
    ]
    model = base_models.resolve(None, model_cache, "flux")
    pipe = base_models.load_pipeline(model)
    examples = encoding.encode_examples(pipe, images, "cpu", resolution=RES)
    encoding.free_encoders(pipe)
    before = {}
    result = flux_loop.train(
        CFG,
        pipe,
        examples,
        out_dir=tmp_path / "run",
        device="cpu",
        on_progress=lambda p: before or before.update(_adapters(pipe.transformer)),
    )
    assert all(torch.isfinite(torch.tensor(result.losses)))
    _check_storage(pipe.transformer)
    after = _adapters(pipe.transformer)
    assert any(not torch.equal(after[n], before[n]) for n in after if "lora_B" in n)  # B starts at 0

    epoch = export_epoch(pipe, CFG, tmp_path / "run", 1, 2, result.final_loss, 2, ["sks woman"], "cpu")
    meta = read_metadata(epoch.lora_path)
    assert meta["loraface.base_precision"] == "fp8"
    assert json.loads(meta["loraface.train_config"])["base_precision"] == "fp8"
    fresh = base_models.load_pipeline(model)
    fresh.load_lora_weights(
        str(epoch.lora_path.parent), weight_name=epoch.lora_path.name, adapter_name="face"
    )
    state = dict(fresh.transformer.named_parameters())
    for name, value in after.items():  # the trained float32 adapter, as it was trained
        assert torch.equal(state[name.replace(".default.", ".face.")], value), name


def test_sdxl_takes_one_step_on_an_fp8_unet(model_cache, face_images, tmp_path):
    import dataclasses

    import torch

    from app.trainer import encoding as sdxl_encoding

    pipe = base_models.load_pipeline(base_models.resolve(None, model_cache, "sdxl"))
    examples = sdxl_encoding.encode_examples(pipe, face_images[:1], "cpu", resolution=RES)
    cfg = dataclasses.replace(CFG, max_steps=1)
    result = loop.train(cfg, pipe, examples, out_dir=tmp_path / "run", device="cpu")
    assert result.steps == 1 and torch.isfinite(torch.tensor(result.final_loss))
    _check_storage(pipe.unet)
    assert pipe.unet.conv_in.weight.dtype == torch.float32  # the first and last convs stay full precision


def test_fp8_on_another_device_is_one_clear_error(model_cache):
    pipe = base_models.load_pipeline(base_models.resolve(None, model_cache, "flux"))
    with pytest.raises(TrainingError, match="fp8 base needs a CUDA GPU or the CPU"):
        precision.place_base(pipe.transformer, "fp8", "mps")


def test_a_whole_sdxl_run_on_an_fp8_base_is_one_clear_error(model_cache, face_images, tmp_path):
    from app.trainer.pipeline import run_training

    with pytest.raises(TrainingError, match="fp8 base is available for FLUX.1 bases only"):
        run_training(
            cfg=CFG,
            images=face_images[:1],
            out_dir=tmp_path / "run",
            base_model=None,
            cache_dir=model_cache,
            device="cpu",
        )
