"""peft LoRA adapters on a frozen SDXL (or SD 1.5) UNet, optionally on the text encoders too."""

from contextlib import contextmanager

from app.trainer.config import TEXT_TARGETS, TrainConfig
from app.trainer.encoding import text_encoders

RESNET_TARGETS = ("conv1", "conv2", "conv")  # LoCon: each ResNet's two 3x3 convolutions, the down/upsamplers


def unet_targets(cfg: TrainConfig) -> list[str]:
    """The UNet modules that get an adapter: the attention projections, plus the ResNet
    convolutions for LoCon (peft matches a name's last parts: `conv` is only the samplers')."""
    targets = list(cfg.target_modules)
    return targets + list(RESNET_TARGETS) if cfg.network == "locon" else targets


def lora_config(cfg: TrainConfig, targets):
    """The peft LoraConfig for one model (DoRA: peft's weight-decomposed variant)."""
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.rank,
        lora_alpha=cfg.alpha,
        init_lora_weights="gaussian",
        target_modules=list(targets),
        use_dora=cfg.network == "dora",
    )


def add_lora(unet, cfg: TrainConfig) -> list:
    """Freeze the UNet and add a LoRA adapter to its attention projections; returns the trainable
    parameters, kept in float32 even when the UNet runs in bf16 (tiny updates vanish in bf16)."""
    import torch

    unet.requires_grad_(False)
    unet.add_adapter(lora_config(cfg, unet_targets(cfg)))
    params = [p for p in unet.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.to(torch.float32)
    return params


def add_text_lora(pipe, cfg: TrainConfig) -> list:
    """Freeze the text encoders and add LoRA adapters to their attention projections."""
    import torch

    params = []
    for encoder in text_encoders(pipe):
        encoder.requires_grad_(False)
        encoder.add_adapter(lora_config(cfg, TEXT_TARGETS))
        trainable = [p for p in encoder.parameters() if p.requires_grad]
        for p in trainable:
            p.data = p.data.to(torch.float32)
        params += trainable
    return params


def adapted_models(pipe, cfg: TrainConfig) -> dict[str, object]:
    """{"unet": ..., "text_encoder": ..., "text_encoder_2": ...}: the models that carry an adapter."""
    models = {"unet": pipe.unet}
    if cfg.train_text_encoder:
        models["text_encoder"] = pipe.text_encoder
        if getattr(pipe, "text_encoder_2", None) is not None:
            models["text_encoder_2"] = pipe.text_encoder_2
    return models


def adapter_layers(models) -> list:
    """The peft LoRA layers inside the models (found once; the loop toggles them per step)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [m for model in models for m in model.modules() if isinstance(m, BaseTunerLayer)]


@contextmanager
def bf16_adapter_inputs(layers: list):
    """Under bf16 autocast, let the fp32 adapters take bf16 inputs as they come: peft would copy
    every input to fp32 per call, and autocast casts it straight back for the matmul."""
    for layer in layers:
        layer.cast_input_dtype_enabled = False
    try:
        yield
    finally:
        for layer in layers:
            layer.cast_input_dtype_enabled = True
