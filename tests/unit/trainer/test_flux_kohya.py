"""The kohya FLUX.1 file is exact: diffusers' own kohya reader, given our fused q/k/v tensors for
the full-size transformer, gives back every adapter's update (alpha / rank included)."""

import pytest

from app.trainer.flux import export as flux_export
from app.trainer.flux.kohya import to_kohya
from app.trainer.flux.lora import FLUX_ATTENTION, target_names

RANK, ALPHA = 2, 3.0


@pytest.fixture(scope="module")
def full_size():
    return flux_export.full_size_transformer("flux-dev")


def test_diffusers_reads_our_kohya_file_back_to_the_same_updates(full_size):
    import torch
    from diffusers import FluxPipeline

    g = torch.Generator().manual_seed(0)
    modules = dict(full_size.named_modules())
    peft_state = {}
    for name in target_names(full_size, FLUX_ATTENTION):
        linear = modules[name]
        peft_state[f"{name}.lora_A.weight"] = torch.randn(RANK, linear.in_features, generator=g)
        peft_state[f"{name}.lora_B.weight"] = torch.randn(linear.out_features, RANK, generator=g)
    kohya = to_kohya(peft_state, full_size, rank=RANK, alpha=ALPHA)
    assert "lora_unet_double_blocks_18_img_attn_qkv.lora_down.weight" in kohya
    assert "lora_unet_single_blocks_37_linear1.lora_up.weight" in kohya
    assert not any("mlp" in k for k in kohya)  # attention only: no MLP groups

    converted = FluxPipeline.lora_state_dict(dict(kohya))
    converted = converted[0] if isinstance(converted, tuple) else converted
    assert flux_export.unresolved_keys(converted, full_size) == []
    for name in target_names(full_size, FLUX_ATTENTION):
        x = torch.randn(modules[name].in_features, generator=g)
        a, b = peft_state[f"{name}.lora_A.weight"], peft_state[f"{name}.lora_B.weight"]
        ours = (ALPHA / RANK) * (b @ (a @ x))
        a2 = converted[f"transformer.{name}.lora_A.weight"]
        b2 = converted[f"transformer.{name}.lora_B.weight"]
        # loaded without alphas, each split scales by 1: the update is B'A' itself
        assert torch.allclose(b2 @ (a2 @ x), ours, rtol=1e-4, atol=1e-3), name
    # the single blocks' MLP input joined linear1 as zeros and comes back as a zero update
    mlp = converted["transformer.single_transformer_blocks.0.proj_mlp.lora_B.weight"]
    assert not mlp.any()
