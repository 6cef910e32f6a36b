"""The optimizer over the adapter parameters, one parameter group per learning rate: AdamW (fused
on CUDA), bitsandbytes' AdamW8bit (CUDA only), Prodigy (prodigyopt; lr 1.0 lets it find the step
size) or transformers' Adafactor. The optional packages are imported only when asked for."""

import logging

from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingError

log = logging.getLogger(__name__)


def make_optimizer(cfg: TrainConfig, unet_params: list, text_params: list, device):
    """The optimizer cfg.optimizer names, or a TrainingError saying what is missing."""
    import torch

    groups = [{"params": unet_params, "lr": cfg.learning_rate, "base_lr": cfg.learning_rate}]
    if text_params:
        text_lr = cfg.text_encoder_lr or cfg.learning_rate
        groups.append({"params": text_params, "lr": text_lr, "base_lr": text_lr})
    on_cuda = str(device).startswith("cuda")
    name = "adamw8bit" if cfg.use_8bit_adam and on_cuda and cfg.optimizer == "adamw" else cfg.optimizer
    if name == "adamw8bit":
        if not on_cuda:
            raise TrainingError(
                "the 8-bit AdamW optimizer runs on a CUDA GPU only: use --optimizer adamw here"
            )
        try:
            import bitsandbytes as bnb
        except ImportError:
            if cfg.optimizer == "adamw":  # the old use_8bit_adam switch falls back, as it always did
                log.warning("bitsandbytes is not installed: using the standard AdamW")
                return torch.optim.AdamW(
                    groups, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=True
                )
            raise TrainingError(
                "the 8-bit AdamW optimizer needs the bitsandbytes package, which is not installed"
            ) from None
        return bnb.optim.AdamW8bit(groups, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    if name == "prodigy":
        try:
            from prodigyopt import Prodigy
        except ImportError:
            raise TrainingError(
                "the Prodigy optimizer needs the prodigyopt package, which is not installed"
            ) from None
        # safeguard_warmup and bias correction: the settings its authors give for diffusion models
        return Prodigy(
            groups,
            lr=cfg.learning_rate,
            weight_decay=cfg.weight_decay,
            safeguard_warmup=True,
            use_bias_correction=True,
        )
    if name == "adafactor":
        from transformers.optimization import Adafactor

        # our schedule sets the learning rate, so Adafactor's own relative step is off
        return Adafactor(
            groups,
            lr=cfg.learning_rate,
            weight_decay=cfg.weight_decay,
            scale_parameter=False,
            relative_step=False,
            warmup_init=False,
        )
    return torch.optim.AdamW(
        groups, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=on_cuda or None
    )
