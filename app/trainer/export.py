"""Write a trained adapter in the two formats the ecosystem loads, and check them.

- diffusers/peft: `pytorch_lora_weights.safetensors` with each adapter's LoraConfig in the
  file's metadata (so alpha != rank reloads right); read by `pipe.load_lora_weights`.
- kohya/webui: `lora_unet_<original SD module name>.lora_down/up.weight` plus a per-module
  `alpha` holding the TRUE alpha, `lora_te1_/lora_te2_` (SDXL) or `lora_te_` (SD 1.5) for the
  text encoders, and `ss_*` / `modelspec.*` metadata. A1111 and ComfyUI resolve a
  `lora_unet_` key by replacing the dots of the original (SGM/LDM) UNet's module names with
  underscores, so the UNet keys use that numbering (input_blocks.4.1...), not diffusers' names."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path

DIFFUSERS_WEIGHT_NAME = "pytorch_lora_weights.safetensors"
# The prefix each loader expects per model, by family.
KOHYA_PREFIX = {
    "sdxl": {"unet": "lora_unet_", "text_encoder": "lora_te1_", "text_encoder_2": "lora_te2_"},
    "sd15": {"unet": "lora_unet_", "text_encoder": "lora_te_"},
}

_DOWN = re.compile(r"^down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$")
_UP = re.compile(r"^up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$")
_MID = re.compile(r"^mid_block\.attentions\.0\.(.+)$")
_DOWN_RES = re.compile(r"^down_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)$")
_UP_RES = re.compile(r"^up_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)$")
_MID_RES = re.compile(r"^mid_block\.resnets\.(\d+)\.(\w+)$")
_DOWN_SAMPLE = re.compile(r"^down_blocks\.(\d+)\.downsamplers\.0\.conv$")
_UP_SAMPLE = re.compile(r"^up_blocks\.(\d+)\.upsamplers\.0\.conv$")
# A ResNet block's layers in the original UNet (in_layers = norm, act, conv; out_layers = norm, act, dropout, conv).
RESNET_SGM = {
    "conv1": "in_layers.2",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}


def _layers_per_block(unet_config) -> int:
    layers = (
        unet_config["layers_per_block"] if isinstance(unet_config, dict) else unet_config.layers_per_block
    )
    return layers if isinstance(layers, int) else layers[0]


def up_attention(unet_config) -> tuple[bool, ...]:
    """Which up levels hold cross-attention (it decides where an upsampler sits in the original)."""
    types = unet_config["up_block_types"] if isinstance(unet_config, dict) else unet_config.up_block_types
    return tuple("CrossAttn" in t for t in types)


def diffusers_to_sgm(module: str, layers_per_block: int, up_attn: tuple[bool, ...] | None = None) -> str:
    """`down_blocks.1.attentions.0.x` -> `input_blocks.4.1.x`: the original UNet numbers its
    input blocks 1.. with layers_per_block blocks plus a downsampler per level, and its output
    blocks 0.. with one block more per level; ResNets are sub-module 0, transformers 1, and an
    output block's upsampler comes after them (2 with attention, else 1)."""
    per = layers_per_block + 1
    if m := _DOWN.match(module):
        return f"input_blocks.{1 + per * int(m[1]) + int(m[2])}.1.{m[3]}"
    if m := _UP.match(module):
        return f"output_blocks.{per * int(m[1]) + int(m[2])}.1.{m[3]}"
    if m := _MID.match(module):
        return f"middle_block.1.{m[1]}"
    if (m := _DOWN_RES.match(module)) and m[3] in RESNET_SGM:
        return f"input_blocks.{1 + per * int(m[1]) + int(m[2])}.0.{RESNET_SGM[m[3]]}"
    if (m := _UP_RES.match(module)) and m[3] in RESNET_SGM:
        return f"output_blocks.{per * int(m[1]) + int(m[2])}.0.{RESNET_SGM[m[3]]}"
    if (m := _MID_RES.match(module)) and m[2] in RESNET_SGM:
        return f"middle_block.{2 * int(m[1])}.{RESNET_SGM[m[2]]}"
    if m := _DOWN_SAMPLE.match(module):
        return f"input_blocks.{per * (int(m[1]) + 1)}.0.op"
    if m := _UP_SAMPLE.match(module):
        level = int(m[1])
        has_attn = up_attn[level] if up_attn is not None else level > 0
        return f"output_blocks.{per * level + layers_per_block}.{2 if has_attn else 1}.conv"
    raise ValueError(f"no original SD name for UNet module {module}")


def canonical_text_module(module: str) -> str:
    """A CLIP text encoder module under its long-standing name (`text_model.encoder.layers.0...`).
    transformers 5 dropped the `text_model.` level; files written with it load everywhere."""
    return module if module.startswith("text_model.") else f"text_model.{module}"


def kohya_key(
    model: str, module: str, family: str, layers_per_block: int = 2, up_attn: tuple[bool, ...] | None = None
) -> str:
    """The kohya/webui name of an adapted module of `model` ("unet", "text_encoder", ...). kohya
    names SDXL UNet modules by the original (SGM) layout but SD 1.x ones diffusers-style, which
    A1111, Forge and ComfyUI convert themselves; the files follow kohya."""
    if model != "unet":
        name = canonical_text_module(module)
    elif family == "sd15":
        name = module
    else:
        name = diffusers_to_sgm(module, layers_per_block, up_attn)
    return KOHYA_PREFIX[family][model] + name.replace(".", "_")


def webui_unet_names(unet_config) -> set[str]:
    """Every attention projection of the original UNet as A1111/ComfyUI name it (`lora_unet_...`),
    laid out from the UNet config alone: levels with cross-attention hold `depth` transformer
    blocks in each of their input blocks, each of their output blocks, and (SDXL/SD) the middle."""
    cfg = dict(unet_config)
    levels = len(cfg["block_out_channels"])
    per_block = _layers_per_block(cfg)
    depth = cfg.get("transformer_layers_per_block") or 1
    depth = [depth] * levels if isinstance(depth, int) else list(depth)
    down_attn = ["CrossAttn" in t for t in cfg["down_block_types"]]
    blocks: list[tuple[str, int]] = []  # (module prefix, transformer depth)
    for level in range(levels):
        if down_attn[level]:
            blocks += [
                (f"input_blocks.{1 + (per_block + 1) * level + j}.1", depth[level]) for j in range(per_block)
            ]
    if cfg.get("mid_block_type", "UNetMidBlock2DCrossAttn") == "UNetMidBlock2DCrossAttn":
        blocks.append(("middle_block.1", depth[-1]))
    for up_level in range(levels):
        level = levels - 1 - up_level  # the output side walks the levels in reverse
        if down_attn[level]:
            blocks += [
                (f"output_blocks.{(per_block + 1) * up_level + j}.1", depth[level])
                for j in range(per_block + 1)
            ]
    names = set()
    for prefix, n in blocks:
        for k in range(n):
            for attn in ("attn1", "attn2"):
                for proj in ("to_q", "to_k", "to_v", "to_out_0"):
                    names.add(f"lora_unet_{prefix}.transformer_blocks.{k}.{attn}.".replace(".", "_") + proj)
    return names


def webui_conv_names(unet_config) -> set[str]:
    """The convolutions LoCon adapts, as A1111/ComfyUI name them in the original UNet: each
    ResNet's two 3x3 convolutions, every downsampler's `op` and upsampler's `conv`."""
    cfg = dict(unet_config)
    levels, per_block = len(cfg["block_out_channels"]), _layers_per_block(cfg)
    per, attn = per_block + 1, up_attention(cfg)
    resnets = [f"input_blocks.{1 + per * level + j}.0" for level in range(levels) for j in range(per_block)]
    resnets += ["middle_block.0", "middle_block.2"]
    resnets += [f"output_blocks.{per * up + j}.0" for up in range(levels) for j in range(per)]
    names = {f"{r}.{layer}" for r in resnets for layer in ("in_layers.2", "out_layers.3")}
    names |= {f"input_blocks.{per * (level + 1)}.0.op" for level in range(levels - 1)}
    names |= {f"output_blocks.{per * up + per_block}.{2 if attn[up] else 1}.conv" for up in range(levels - 1)}
    return {"lora_unet_" + n.replace(".", "_") for n in names}


def webui_text_names(text_config, prefix: str) -> set[str]:
    """Every attention projection of a CLIP text encoder as the loaders name it."""
    return {
        f"{prefix}text_model_encoder_layers_{i}_self_attn_{p}"
        for i in range(text_config.num_hidden_layers)
        for p in ("q_proj", "k_proj", "v_proj", "out_proj")
    }


def adapter_modules(peft_state: dict) -> dict[str, tuple]:
    """{module path: (lora_A weight, lora_B weight)} from a peft state dict."""
    modules: dict[str, list] = {}
    for key, tensor in peft_state.items():
        for part, slot in ((".lora_A.", 0), (".lora_B.", 1)):
            if part in key:
                modules.setdefault(key.split(part)[0], [None, None])[slot] = tensor
    return {k: (a, b) for k, (a, b) in modules.items()}


def training_metadata(
    *, cfg, family: str, steps: int, epochs: int, num_images: int, captions: list[str], weights: str = "raw"
) -> dict[str, str]:
    """kohya `ss_*` keys and Stability's modelspec keys (safetensors metadata values are strings)."""
    tag_frequency: dict[str, int] = {}
    for caption in captions:
        for tag in (t.strip() for t in caption.split(",")):
            if tag:
                tag_frequency[tag] = tag_frequency.get(tag, 0) + 1
    sdxl = family == "sdxl"
    return {
        **network_metadata(cfg),
        "ss_network_dim": str(cfg.rank),
        "ss_network_alpha": str(cfg.alpha),
        "ss_base_model_version": "sdxl_base_v1-0" if sdxl else "sd_v1",
        "ss_v2": "False",
        "ss_output_name": cfg.name,
        "ss_num_epochs": str(epochs),
        "ss_steps": str(steps),
        "ss_max_train_steps": str(steps),
        "ss_num_train_images": str(num_images * cfg.repeats),
        "ss_resolution": f"({cfg.resolution}, {cfg.resolution})",
        "ss_learning_rate": str(cfg.learning_rate),
        "ss_unet_lr": str(cfg.learning_rate),
        "ss_text_encoder_lr": str(cfg.text_encoder_lr or cfg.learning_rate)
        if cfg.train_text_encoder
        else "0",
        "ss_network_train_unet_only": str(not cfg.train_text_encoder),
        "ss_batch_size_per_device": str(cfg.batch_size),
        "ss_lr_scheduler": cfg.lr_scheduler,
        "ss_lr_warmup_steps": str(cfg.warmup_steps),
        "ss_seed": str(cfg.seed),
        "ss_min_snr_gamma": str(cfg.min_snr_gamma),
        "ss_noise_offset": str(cfg.noise_offset),
        "ss_gradient_checkpointing": str(cfg.gradient_checkpointing),
        "ss_tag_frequency": json.dumps({f"{cfg.repeats}_{cfg.instance_prompt}": tag_frequency}),
        "ss_training_comment": f"trigger word: {cfg.trigger}; class: {cfg.class_word}",
        "ss_trigger_word": cfg.trigger,
        **recipe_metadata(cfg, weights=weights),
        "modelspec.sai_model_spec": "1.0.0",
        "modelspec.architecture": "stable-diffusion-xl-v1-base/lora" if sdxl else "stable-diffusion-v1/lora",
        "modelspec.implementation": "https://github.com/huggingface/diffusers",
        "modelspec.title": cfg.name,
        "modelspec.trigger_phrase": cfg.instance_prompt,
        "modelspec.resolution": f"{cfg.resolution}x{cfg.resolution}",
        "modelspec.date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "loraface.train_config": cfg.to_json(),
    }


OPTIMIZER_NAMES = {  # as kohya writes ss_optimizer: the class's module path
    "adamw": "torch.optim.adamw.AdamW",
    "adamw8bit": "bitsandbytes.optim.adamw.AdamW8bit",
    "prodigy": "prodigyopt.prodigy.Prodigy",
    "adafactor": "transformers.optimization.Adafactor",
}


def network_metadata(cfg) -> dict[str, str]:
    """ss_network_module/ss_network_args as the trainers that make each type write them: kohya's
    networks.lora (LoCon through conv_dim/conv_alpha), LyCORIS for DoRA (algo lora, dora_wd)."""
    if cfg.network == "dora":
        args = {"algo": "lora", "dora_wd": "True", "preset": "attn-only"}
        return {"ss_network_module": "lycoris.kohya", "ss_network_args": json.dumps(args)}
    args = {"target_modules": list(cfg.target_modules)}
    if cfg.network == "locon":
        args |= {"conv_dim": str(cfg.rank), "conv_alpha": str(cfg.alpha)}
    return {"ss_network_module": "networks.lora", "ss_network_args": json.dumps(args)}


def recipe_metadata(cfg, *, weights: str = "raw") -> dict[str, str]:
    """The face recipe's settings under kohya's names where kohya has one, ours where it has none."""
    return {
        "ss_optimizer": OPTIMIZER_NAMES[cfg.optimizer],
        "ss_enable_bucket": str(cfg.buckets),
        "ss_masked_loss": str(cfg.mask != "off"),
        "ss_prior_loss_weight": str(cfg.prior_loss_weight),
        "ss_num_reg_images": str(cfg.prior_images),
        "loraface.mask": cfg.mask,
        "loraface.mask_background_weight": str(cfg.mask_background_weight),
        "loraface.ema_decay": str(cfg.ema_decay),
        "loraface.weights": weights,  # "ema" (the moving average) or "raw" (the last step's)
        "loraface.preset": cfg.preset or "",
        "loraface.base_precision": cfg.base_precision,  # how the frozen base was stored: bf16 or fp8
    }


def _peft_config(model) -> dict:
    config = model.peft_config["default"].to_dict()
    if isinstance(config.get("target_modules"), set):
        config["target_modules"] = sorted(config["target_modules"])
    return config


def save_diffusers(models: dict, folder: Path, family: str) -> Path:
    """The adapters as diffusers writes them, with each LoraConfig (and so alpha) in the metadata."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    layers, metadata = {}, {}
    for name, model in models.items():
        state = get_peft_model_state_dict(model)
        if name != "unet":
            state = {canonical_text_module(k): v for k, v in state.items()}
        if not any("lora_magnitude_vector" in k or ".conv" in k for k in state):
            # diffusers' converter renames only linear LoRA keys; a LoCon/DoRA file keeps peft's
            # names throughout (a mix of both would confuse the loader), which it reads as they are
            state = convert_state_dict_to_diffusers(state)
        layers[f"{name}_lora_layers"] = {k: v.detach().float().cpu().contiguous() for k, v in state.items()}
        # save_lora_weights writes only the metadata it is given; without it a reload assumes alpha = rank.
        metadata[f"{name}_lora_adapter_metadata"] = _peft_config(model)
    cls = StableDiffusionXLPipeline if family == "sdxl" else StableDiffusionPipeline
    folder.mkdir(parents=True, exist_ok=True)
    cls.save_lora_weights(folder, weight_name=DIFFUSERS_WEIGHT_NAME, **layers, **metadata)
    return folder / DIFFUSERS_WEIGHT_NAME


def save_kohya(models: dict, path: Path, *, family: str, alpha: float, metadata: dict[str, str]) -> Path:
    """The adapters under kohya/webui names with the true alpha per module (kohya-style
    converters write alpha = rank, which silently rescales a LoRA trained with another alpha)."""
    import torch
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    tensors = {}
    for name, model in models.items():
        is_unet = name == "unet"
        layers = _layers_per_block(model.config) if is_unet else 0
        up_attn = up_attention(model.config) if is_unet else None
        state = get_peft_model_state_dict(model)
        for module, (down, up) in adapter_modules(state).items():
            key = kohya_key(name, module, family, layers, up_attn)
            tensors[f"{key}.lora_down.weight"] = down.detach().float().cpu().contiguous()
            tensors[f"{key}.lora_up.weight"] = up.detach().float().cpu().contiguous()
            tensors[f"{key}.alpha"] = torch.tensor(float(alpha))
            magnitude = state.get(f"{module}.lora_magnitude_vector")
            if magnitude is not None:
                # DoRA: LyCORIS' dora_scale is the per-output-channel norm, shaped to broadcast over the weight
                shape = (-1,) + (1,) * (down.dim() - 1)
                tensors[f"{key}.dora_scale"] = magnitude.detach().float().cpu().reshape(shape).contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, tmp, metadata=metadata)
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path


def read_metadata(path: Path) -> dict[str, str]:
    """The string metadata of a .safetensors file."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata() or {})


def kohya_modules(path: Path) -> set[str]:
    """The module names in a kohya file (keys without .lora_down.weight/.lora_up.weight/.alpha)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return {re.sub(r"\.(lora_down\.weight|lora_up\.weight|alpha|dora_scale)$", "", k) for k in fh.keys()}


def unresolved_kohya_keys(path: Path, pipe) -> list[str]:
    """Module names in a kohya file that A1111/ComfyUI would not find in this base model (SD 1.5's
    diffusers-style names are checked after the conversion those loaders apply)."""
    family = "sdxl" if getattr(pipe, "text_encoder_2", None) is not None else "sd15"
    known = webui_unet_names(pipe.unet.config) | webui_conv_names(pipe.unet.config)
    prefixes = KOHYA_PREFIX[family]
    known |= webui_text_names(pipe.text_encoder.config, prefixes["text_encoder"])
    if family == "sdxl":
        known |= webui_text_names(pipe.text_encoder_2.config, prefixes["text_encoder_2"])
    modules = kohya_modules(path)
    if family == "sd15":
        modules = {_sd15_as_sgm(m, pipe.unet) for m in modules}
    return sorted(modules - known)


def _sd15_as_sgm(key: str, unet) -> str:
    """A diffusers-style kohya UNet key under its original name (text encoder keys pass through)."""
    if not key.startswith("lora_unet_"):
        return key
    by_flat = {n.replace(".", "_"): n for n, _ in unet.named_modules()}
    module = by_flat.get(key.removeprefix("lora_unet_"))
    if module is None:
        return key
    sgm = diffusers_to_sgm(module, _layers_per_block(unet.config), up_attention(unet.config))
    return "lora_unet_" + sgm.replace(".", "_")
