"""Kohya/webui key names: our diffusers -> original-UNet mapping against the layout A1111 and
ComfyUI use (`lora_unet_` + the original module name with dots as underscores)."""

import json

import pytest

from app.trainer import export
from app.trainer.configs import CONFIGS


def _unet_on_meta(family: str):
    """The full-size UNet of a family, built from the shipped config without allocating weights."""
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        return UNet2DConditionModel.from_config(
            json.loads((CONFIGS / family / "unet" / "config.json").read_text())
        )


def _our_keys(unet, family):
    layers = unet.config.layers_per_block
    return {
        export.kohya_key("unet", name, family, layers)
        for name, _ in unet.named_modules()
        if ".attentions." in name
        and name.endswith(
            (
                "attn1.to_q",
                "attn1.to_k",
                "attn1.to_v",
                "attn1.to_out.0",
                "attn2.to_q",
                "attn2.to_k",
                "attn2.to_v",
                "attn2.to_out.0",
            )
        )
    }


def test_sgm_names_follow_the_original_unet():
    assert (
        export.diffusers_to_sgm("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", 2)
        == "input_blocks.4.1.transformer_blocks.0.attn1.to_q"
    )
    assert export.diffusers_to_sgm("down_blocks.2.attentions.1.proj_in", 2) == "input_blocks.8.1.proj_in"
    assert (
        export.diffusers_to_sgm("mid_block.attentions.0.transformer_blocks.3.attn2.to_k", 2)
        == "middle_block.1.transformer_blocks.3.attn2.to_k"
    )
    assert (
        export.diffusers_to_sgm("up_blocks.0.attentions.2.transformer_blocks.9.attn1.to_out.0", 2)
        == "output_blocks.2.1.transformer_blocks.9.attn1.to_out.0"
    )
    assert (
        export.kohya_key("unet", "up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v", "sdxl")
        == "lora_unet_output_blocks_3_1_transformer_blocks_0_attn2_to_v"
    )
    with pytest.raises(ValueError):
        export.diffusers_to_sgm("conv_in", 2)


def test_text_encoder_keys_use_the_long_standing_clip_names():
    # transformers 5 dropped "text_model." from CLIPTextModel; the files keep it, as every loader expects
    assert (
        export.kohya_key("text_encoder", "encoder.layers.3.self_attn.q_proj", "sdxl")
        == "lora_te1_text_model_encoder_layers_3_self_attn_q_proj"
    )
    assert (
        export.kohya_key("text_encoder_2", "text_model.encoder.layers.0.self_attn.out_proj", "sdxl")
        == "lora_te2_text_model_encoder_layers_0_self_attn_out_proj"
    )
    assert (
        export.kohya_key("text_encoder", "encoder.layers.11.self_attn.v_proj", "sd15")
        == "lora_te_text_model_encoder_layers_11_self_attn_v_proj"
    )


def test_full_sdxl_keys_match_the_webui_layout():
    names = export.webui_unet_names(json.loads((CONFIGS / "sdxl" / "unet" / "config.json").read_text()))
    # SDXL: 2 + 2 + 10 + 10 transformer blocks in, 10 in the middle, 3 x 10 + 3 x 2 out = 70 blocks,
    # each with two attentions of four projections.
    assert len(names) == 70 * 2 * 4
    assert "lora_unet_input_blocks_4_1_transformer_blocks_1_attn2_to_k" in names
    assert "lora_unet_input_blocks_8_1_transformer_blocks_9_attn1_to_out_0" in names
    assert "lora_unet_middle_block_1_transformer_blocks_9_attn2_to_v" in names
    assert "lora_unet_output_blocks_2_1_transformer_blocks_9_attn1_to_q" in names
    assert "lora_unet_output_blocks_5_1_transformer_blocks_1_attn1_to_q" in names
    assert (
        "lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q" not in names
    )  # level 0 has no attention
    assert "lora_unet_output_blocks_6_1_transformer_blocks_0_attn1_to_q" not in names
    assert _our_keys(_unet_on_meta("sdxl"), "sdxl") == names


def test_sd15_keys_match_the_webui_layout():
    names = export.webui_unet_names(json.loads((CONFIGS / "sd15" / "unet" / "config.json").read_text()))
    blocks = {n.split("_transformer_blocks")[0] for n in names}
    assert blocks == {f"lora_unet_input_blocks_{i}_1" for i in (1, 2, 4, 5, 7, 8)} | {
        "lora_unet_middle_block_1"
    } | {f"lora_unet_output_blocks_{i}_1" for i in range(3, 12)}
    assert len(names) == 16 * 2 * 4
    # SD 1.5 files keep kohya's diffusers-style names; the loaders convert them to this layout
    unet = _unet_on_meta("sd15")
    ours = _our_keys(unet, "sd15")
    assert "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k" in ours
    layers, up_attn = unet.config.layers_per_block, export.up_attention(unet.config)
    as_original = {
        "lora_unet_" + export.diffusers_to_sgm(name, layers, up_attn).replace(".", "_")
        for name, _ in unet.named_modules()
        if "lora_unet_" + name.replace(".", "_") in ours
    }
    assert as_original == names


def test_training_metadata_has_the_kohya_keys():
    from app.trainer.config import TrainConfig

    cfg = TrainConfig(trigger="sks", class_word="woman", rank=8, alpha=4.0, repeats=3, name="anna")
    meta = export.training_metadata(
        cfg=cfg,
        family="sdxl",
        steps=120,
        epochs=4,
        num_images=10,
        captions=["sks woman, smiling", "sks woman"],
    )
    assert all(isinstance(v, str) for v in meta.values())
    assert meta["ss_network_dim"] == "8" and meta["ss_network_alpha"] == "4.0"
    assert meta["ss_num_train_images"] == "30" and meta["ss_steps"] == "120" and meta["ss_num_epochs"] == "4"
    assert json.loads(meta["ss_tag_frequency"]) == {"3_sks woman": {"sks woman": 2, "smiling": 1}}
    assert meta["ss_output_name"] == "anna" and meta["modelspec.trigger_phrase"] == "sks woman"
    assert TrainConfig.from_dict(json.loads(meta["loraface.train_config"])) == cfg
