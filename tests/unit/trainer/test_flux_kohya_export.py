"""A training run writes the kohya FLUX.1 file for the full-size transformer only (the tiny demo
says why not), and only after diffusers' kohya reader gives back every trained update; built
here on the full-size transformer on the meta device with random adapters at its real shapes."""

import pytest

from app.trainer.export import read_metadata
from app.trainer.flux import export as flux_export
from app.trainer.flux import kohya_export
from app.trainer.flux.lora import FLUX_ATTENTION, FLUX_MLP, target_names

RANK, ALPHA = 2, 3.0


@pytest.fixture(scope="module")
def full_size():
    return flux_export.full_size_transformer("flux-dev")


def _random_adapter(transformer, targets) -> dict:
    import torch

    g = torch.Generator().manual_seed(1)
    modules = dict(transformer.named_modules())
    state = {}
    for name in target_names(transformer, targets):
        state[f"{name}.lora_A.weight"] = torch.randn(RANK, modules[name].in_features, generator=g)
        state[f"{name}.lora_B.weight"] = torch.randn(modules[name].out_features, RANK, generator=g)
    return state


def test_the_full_size_base_gets_a_kohya_file_and_the_demo_a_reason(full_size, tmp_path):
    from diffusers import FluxTransformer2DModel

    from app.trainer.flux.tiny import tiny_flux_path

    assert kohya_export.kohya_note(full_size) is None
    assert "fuses plain LoRA adapters only, not dora" in kohya_export.kohya_note(full_size, "dora")
    tiny = FluxTransformer2DModel.load_config(tiny_flux_path(tmp_path) / "transformer")
    note = kohya_export.kohya_note(FluxTransformer2DModel.from_config(tiny))
    assert note.startswith("no kohya file") and "full-size" in note and "diffusers file" in note


@pytest.mark.parametrize("targets", [FLUX_ATTENTION, FLUX_ATTENTION + FLUX_MLP])
def test_the_written_file_reads_back_to_the_trained_updates(full_size, tmp_path, targets):
    from diffusers import FluxPipeline
    from safetensors.torch import load_file

    peft_state = _random_adapter(full_size, targets)
    path = kohya_export.write_kohya(
        peft_state, full_size, tmp_path / "face.safetensors", rank=RANK, alpha=ALPHA, metadata={"ss_x": "1"}
    )
    kohya = load_file(str(path))
    assert read_metadata(path)["ss_x"] == "1"
    assert kohya_export.kohya_mismatch(kohya, peft_state, full_size, rank=RANK, alpha=ALPHA) is None
    converted = FluxPipeline.lora_state_dict(dict(kohya))
    converted = converted[0] if isinstance(converted, tuple) else converted
    assert flux_export.unresolved_keys(converted, full_size) == []


def test_a_file_that_reads_back_differently_is_reported(full_size):
    peft_state = _random_adapter(full_size, FLUX_ATTENTION)
    kohya = kohya_export.to_kohya(peft_state, full_size, rank=RANK, alpha=ALPHA)
    kohya["lora_unet_double_blocks_3_img_attn_qkv.alpha"] *= 2  # the update of that group doubles
    problem = kohya_export.kohya_mismatch(kohya, peft_state, full_size, rank=RANK, alpha=ALPHA)
    assert problem and problem.startswith("transformer_blocks.3.attn.to_")
    del kohya["lora_unet_single_blocks_5_linear1.lora_up.weight"]
    kohya.pop("lora_unet_single_blocks_5_linear1.lora_down.weight")
    kohya.pop("lora_unet_single_blocks_5_linear1.alpha")
    problem = kohya_export.kohya_mismatch(kohya, peft_state, full_size, rank=RANK, alpha=ALPHA)
    assert problem == "the kohya file lost the adapter of single_transformer_blocks.5.attn.to_k"
