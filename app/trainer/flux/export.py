"""Write a trained FLUX.1 adapter in the diffusers/peft format and check its keys.

The file holds `transformer.<module>.lora_A/lora_B.weight` keys and the adapter's LoraConfig
in the metadata (so alpha != rank reloads right); diffusers' FluxPipeline.load_lora_weights,
ComfyUI and Forge read this layout. The key check runs the names through diffusers' own FLUX
LoRA reading code and finds each module in the transformer, which for full-size FLUX.1 is
built on the meta device from the shipped config (no memory, no weights)."""

import json
from pathlib import Path

from app.trainer.export import DIFFUSERS_WEIGHT_NAME, _peft_config
from app.trainer.flux.lora import target_names

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def save_diffusers(transformer, folder: Path) -> Path:
    """The transformer's adapter as diffusers writes it, with its LoraConfig in the metadata."""
    from diffusers import FluxPipeline
    from peft.utils import get_peft_model_state_dict

    # peft's lora_A/lora_B names, as diffusers' own FLUX trainer writes them (ComfyUI reads these)
    state = get_peft_model_state_dict(transformer)
    layers = {k: v.detach().float().cpu().contiguous() for k, v in state.items()}
    folder.mkdir(parents=True, exist_ok=True)
    # save_lora_weights writes only the metadata it is given; without it a reload assumes alpha = rank.
    FluxPipeline.save_lora_weights(
        folder,
        transformer_lora_layers=layers,
        transformer_lora_adapter_metadata=_peft_config(transformer),
        weight_name=DIFFUSERS_WEIGHT_NAME,
    )
    return folder / DIFFUSERS_WEIGHT_NAME


def unresolved_keys(state_dict: dict, transformer) -> list[str]:
    """Keys of a FLUX.1 LoRA state dict that diffusers' loader would not place in `transformer`:
    the dict goes through FluxPipeline.lora_state_dict (its format detection and conversions),
    then each transformer key must name a Linear whose shape its lora_A/lora_B fit."""
    import torch
    from diffusers import FluxPipeline

    converted = FluxPipeline.lora_state_dict(dict(state_dict))
    converted = converted[0] if isinstance(converted, tuple) else converted
    modules = dict(transformer.named_modules())
    bad = []
    for key, tensor in converted.items():
        if not key.startswith("transformer.") or ".lora_" not in key:
            bad.append(key)
            continue
        name, _, part = key.removeprefix("transformer.").partition(".lora_")
        module = modules.get(name)
        module = getattr(module, "base_layer", module)  # a module that carried an adapter wraps its Linear
        if not isinstance(module, torch.nn.Linear):
            bad.append(key)
        elif part.startswith("A") and tensor.shape[1] != module.in_features:
            bad.append(key)
        elif part.startswith("B") and tensor.shape[0] != module.out_features:
            bad.append(key)
    return sorted(bad)


def file_unresolved_keys(path: Path, transformer) -> list[str]:
    """unresolved_keys for an exported file."""
    from safetensors.torch import load_file

    return unresolved_keys(load_file(str(path)), transformer)


def full_size_transformer(variant: str = "flux-dev"):
    """The full-size FLUX.1 transformer (12B parameters) on the meta device: shapes, no memory."""
    import torch
    from diffusers import FluxTransformer2DModel

    config = json.loads((CONFIGS / variant / "transformer" / "config.json").read_text())
    with torch.device("meta"):
        return FluxTransformer2DModel.from_config(config)


def full_size_adapter_keys(transformer, targets: tuple[str, ...], rank: int = 16) -> dict:
    """The state dict save_diffusers would write for a rank-`rank` adapter on `targets` of a
    (meta) transformer, as meta tensors of the right shapes, under the file's `transformer.` names."""
    import torch

    modules = dict(transformer.named_modules())
    state = {}
    for name in target_names(transformer, targets):
        linear = modules[name]
        state[f"transformer.{name}.lora_A.weight"] = torch.empty(rank, linear.in_features, device="meta")
        state[f"transformer.{name}.lora_B.weight"] = torch.empty(linear.out_features, rank, device="meta")
    return state
