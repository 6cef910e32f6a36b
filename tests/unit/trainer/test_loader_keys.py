"""Every UNet key of our LoRA, LoCon and DoRA kohya files resolves under the rules of the three
loaders people use: kohya sd-scripts (`networks/lora.py`), A1111/Forge (its diffusers-to-compvis
conversion) and ComfyUI (original names, or diffusers names with underscores). Our own checks,
written from those loaders' rules, against the full-size UNets on the meta device."""

import json
import re

import pytest

from app.trainer import export, lora
from app.trainer.config import TrainConfig
from app.trainer.configs import CONFIGS

A1111_RESNET = {
    "conv1": "in_layers_2",
    "conv2": "out_layers_3",
    "time_emb_proj": "emb_layers_1",
    "conv_shortcut": "skip_connection",
}


def _unet_on_meta(family: str):
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        return UNet2DConditionModel.from_config(
            json.loads((CONFIGS / family / "unet" / "config.json").read_text())
        )


def _adapted_modules(unet, network: str) -> list[str]:
    """The modules peft adapts for a network type (peft's rule: a target matches a name's last parts)."""
    cfg = TrainConfig(trigger="sks", class_word="woman", network=network)
    targets = lora.unet_targets(cfg)
    return [
        name
        for name, module in unet.named_modules()
        if any(name == t or name.endswith("." + t) for t in targets) and hasattr(module, "weight")
    ]


def _file_keys(unet, family: str, network: str) -> set[str]:
    layers, up_attn = unet.config.layers_per_block, export.up_attention(unet.config)
    return {export.kohya_key("unet", m, family, layers, up_attn) for m in _adapted_modules(unet, network)}


def _kohya_sd1_names(unet) -> set[str]:
    """kohya's LoRANetwork on SD 1.x: `lora_unet_` + the diffusers-style path of each Linear/Conv2d
    inside a Transformer2DModel, and (LoCon, conv_dim) inside ResNet and sampler blocks."""
    owners = ("Transformer2DModel", "ResnetBlock2D", "Downsample2D", "Upsample2D")
    names = set()
    for name, module in unet.named_modules():
        if type(module).__name__ in owners:
            for child, sub in module.named_modules():
                if child and type(sub).__name__ in (
                    "Linear",
                    "Conv2d",
                    "LoRACompatibleConv",
                    "LoRACompatibleLinear",
                ):
                    names.add(f"lora_unet_{name}.{child}".replace(".", "_"))
    return names


def _a1111_sd1_to_compvis(key: str) -> str:
    """A1111's conversion of a diffusers-style SD 1.x key to the original layout (3 blocks per level)."""
    rules = [
        (
            r"lora_unet_down_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)",
            lambda m: (
                f"input_blocks_{1 + int(m[1]) * 3 + int(m[3])}_{1 if m[2] == 'attentions' else 0}_{_suffix(m[2], m[4])}"
            ),
        ),
        (
            r"lora_unet_mid_block_(attentions|resnets)_(\d+)_(.+)",
            lambda m: f"middle_block_{1 if m[1] == 'attentions' else int(m[2]) * 2}_{_suffix(m[1], m[3])}",
        ),
        (
            r"lora_unet_up_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)",
            lambda m: (
                f"output_blocks_{int(m[1]) * 3 + int(m[3])}_{1 if m[2] == 'attentions' else 0}_{_suffix(m[2], m[4])}"
            ),
        ),
        (
            r"lora_unet_down_blocks_(\d+)_downsamplers_0_conv",
            lambda m: f"input_blocks_{3 + int(m[1]) * 3}_0_op",
        ),
        (
            r"lora_unet_up_blocks_(\d+)_upsamplers_0_conv",
            lambda m: f"output_blocks_{2 + int(m[1]) * 3}_{2 if int(m[1]) > 0 else 1}_conv",
        ),
    ]
    for pattern, convert in rules:
        if m := re.fullmatch(pattern, key):
            return "lora_unet_" + convert(m)
    return key


def _suffix(kind: str, rest: str) -> str:
    return A1111_RESNET.get(rest, rest) if kind == "resnets" else rest


def _comfy_diffusers_names(unet) -> set[str]:
    """ComfyUI also accepts `lora_unet_` + a diffusers weight's path with underscores."""
    return {
        "lora_unet_" + k.removesuffix(".weight").replace(".", "_")
        for k in unet.state_dict()
        if k.endswith(".weight")
    }


def _original_layout(family: str) -> set[str]:
    config = json.loads((CONFIGS / family / "unet" / "config.json").read_text())
    return export.webui_unet_names(config) | export.webui_conv_names(config)


@pytest.mark.parametrize("network", ["lora", "locon", "dora"])
def test_sd15_files_use_kohyas_diffusers_style_names_and_resolve_everywhere(network):
    unet = _unet_on_meta("sd15")
    keys = _file_keys(unet, "sd15", network)
    assert "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k" in keys
    assert len(keys) == {"lora": 128, "locon": 128 + 50, "dora": 128}[network]
    assert keys <= _kohya_sd1_names(unet), "kohya's loader would drop these"
    assert {_a1111_sd1_to_compvis(k) for k in keys} <= _original_layout("sd15"), "A1111 would not place these"
    assert keys <= _comfy_diffusers_names(unet), "ComfyUI would not place these"


@pytest.mark.parametrize("network", ["locon", "dora"])
def test_sdxl_locon_and_dora_keys_use_the_original_names_every_loader_reads(network):
    unet = _unet_on_meta("sdxl")
    keys = _file_keys(unet, "sdxl", network)
    # 560 attention projections; LoCon adds 2 convs x (6 + 2 + 9) ResNets and 2 + 2 samplers
    assert len(keys) == {"locon": 560 + 34 + 4, "dora": 560}[network]
    assert keys <= _original_layout("sdxl"), "kohya (SGM names for SDXL), A1111 and ComfyUI read these names"
    assert "lora_unet_input_blocks_3_0_op" in keys or network == "dora"
