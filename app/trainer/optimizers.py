"""The optimizer over the adapter parameters, one parameter group per learning rate."""

import logging

from app.trainer.config import TrainConfig

log = logging.getLogger(__name__)


def make_optimizer(cfg: TrainConfig, unet_params: list, text_params: list, device):
    """AdamW (fused on CUDA), or bitsandbytes' 8-bit AdamW on CUDA when asked for and installed."""
    import torch

    groups = [{"params": unet_params, "lr": cfg.learning_rate, "base_lr": cfg.learning_rate}]
    if text_params:
        text_lr = cfg.text_encoder_lr or cfg.learning_rate
        groups.append({"params": text_params, "lr": text_lr, "base_lr": text_lr})
    on_cuda = str(device).startswith("cuda")
    if cfg.use_8bit_adam and on_cuda:
        try:
            import bitsandbytes as bnb

            return bnb.optim.AdamW8bit(groups, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        except ImportError:
            log.warning("bitsandbytes is not installed: using the standard AdamW")
    return torch.optim.AdamW(
        groups, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=on_cuda or None
    )
