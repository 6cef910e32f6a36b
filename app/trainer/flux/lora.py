"""peft LoRA adapters on a frozen FLUX.1 transformer: the attention projections of every double-
and single-stream block, optionally their MLPs too."""

from app.trainer.config import UNET_TARGETS, TrainConfig
from app.trainer.lora import lora_config

# Attention: image stream (to_q/k/v, to_out.0) and text stream (add_*_proj, to_add_out) of the
# double blocks; single blocks have q/k/v only (their output projection is shared with the MLP).
FLUX_ATTENTION = ("to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out")
# MLPs: the double blocks' feed-forwards of both streams; the single blocks' MLP in and joint out.
FLUX_MLP = ("ff.net.0.proj", "ff.net.2", "ff_context.net.0.proj", "ff_context.net.2", "proj_mlp", "proj_out")
_BLOCKS = ("transformer_blocks.", "single_transformer_blocks.")


def target_names(transformer, targets: tuple[str, ...]) -> list[str]:
    """Full names of the block linears whose name ends in one of `targets`; the UNet default
    (attention projections) means FLUX's attention projections. Only modules inside the blocks:
    the top-level proj_out shares a suffix with the single blocks' but is not one of them."""
    import torch

    suffixes = FLUX_ATTENTION if tuple(targets) == UNET_TARGETS else tuple(targets)
    return [
        name
        for name, module in transformer.named_modules()
        if isinstance(module, torch.nn.Linear)
        and name.startswith(_BLOCKS)
        and any(name == s or name.endswith("." + s) for s in suffixes)
    ]


def add_flux_lora(transformer, cfg: TrainConfig) -> list:
    """Freeze the transformer and add a LoRA adapter; returns the trainable parameters, kept in
    float32 even when the transformer runs in bf16 (tiny updates vanish in bf16)."""
    import torch

    names = target_names(transformer, cfg.target_modules)
    transformer.requires_grad_(False)
    transformer.add_adapter(lora_config(cfg, names))
    params = [p for p in transformer.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.to(torch.float32)
    return params
