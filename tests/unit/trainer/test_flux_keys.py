"""Every key of a FLUX.1 LoRA we write for the full-size transformer (built on the meta device
from the shipped config) passes diffusers' FLUX LoRA reading code and lands on a Linear of the
right shape."""

import pytest

from app.trainer.flux import export as flux_export
from app.trainer.flux.lora import FLUX_ATTENTION, FLUX_MLP


@pytest.fixture(scope="module")
def full_size():
    return flux_export.full_size_transformer("flux-dev")


def test_attention_keys_resolve_on_full_size_flux_dev(full_size):
    state = flux_export.full_size_adapter_keys(full_size, FLUX_ATTENTION)
    # 19 double blocks x 8 projections + 38 single blocks x 3, an A and a B each
    assert len(state) == 2 * (19 * 8 + 38 * 3)
    assert flux_export.unresolved_keys(state, full_size) == []


def test_mlp_keys_resolve_and_the_top_level_proj_out_is_left_alone(full_size):
    state = flux_export.full_size_adapter_keys(full_size, FLUX_ATTENTION + FLUX_MLP)
    assert len(state) == 2 * (19 * 12 + 38 * 5)
    assert "transformer.proj_out.lora_A.weight" not in state
    assert flux_export.unresolved_keys(state, full_size) == []


def test_a_misnamed_or_misshapen_key_is_reported(full_size):
    import torch

    bad = {
        "transformer.transformer_blocks.0.attn.to_qq.lora_A.weight": torch.empty(4, 3072, device="meta"),
        "transformer.transformer_blocks.0.attn.to_q.lora_A.weight": torch.empty(4, 77, device="meta"),
    }
    assert len(flux_export.unresolved_keys(bad, full_size)) == 2
