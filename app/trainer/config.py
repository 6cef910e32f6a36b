"""The training run's settings as one frozen dataclass, and lesson 6's arithmetic on them
(steps per epoch, total steps, the learning-rate schedule)."""

import json
import math
from dataclasses import asdict, dataclass, fields

from app.trainer.errors import TrainingError

UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")  # the attention projections of the UNet
TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")  # the same inside a CLIP text encoder
MASKS = ("off", "face", "head")
OPTIMIZERS = ("adamw", "adamw8bit", "prodigy", "adafactor")
NETWORKS = ("lora", "locon", "dora")
BASE_PRECISIONS = ("bf16", "fp8")  # how the frozen base is stored (app/trainer/precision.py)


@dataclass(frozen=True)
class TrainConfig:
    trigger: str  # rare token that names the face, e.g. "sks"
    class_word: str  # what the face is, e.g. "woman"
    resolution: int = 1024  # square training size in pixels (SDXL 1024, SD 1.5 512, demo 128)
    rank: int = 16  # LoRA rank r: the width of the low-rank update B·A
    alpha: float = 16.0  # LoRA alpha: the update is scaled by alpha / rank
    learning_rate: float = 1e-4  # AdamW learning rate for the adapter weights
    epochs: int | None = 10  # passes over images x repeats; ignored when max_steps is set
    max_steps: int | None = None  # stop after this many optimizer steps instead
    repeats: int = 1  # how often each image appears in one epoch
    batch_size: int = 1  # images per optimizer step
    seed: int = 123456  # fixes noise, timesteps, order and samples: same seed, same run
    lr_scheduler: str = "constant"  # "constant" or "cosine" (both after the warm-up)
    warmup_steps: int = 0  # linear warm-up from 0 to learning_rate over this many steps
    min_snr_gamma: float | None = 5.0  # min-SNR loss weighting (None: plain MSE)
    noise_offset: float = 0.0  # extra per-channel noise; lets the model learn very dark/bright images
    max_grad_norm: float = 1.0  # gradient clipping
    weight_decay: float = 1e-4  # AdamW weight decay
    use_8bit_adam: bool = False  # bitsandbytes AdamW8bit when it is installed (CUDA only)
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, ~30% slower
    train_text_encoder: bool = False  # LoRA on the text encoders too (embeddings are then not cached)
    text_encoder_lr: float | None = None  # learning rate for the text encoder adapters (None: learning_rate)
    target_modules: tuple[str, ...] = UNET_TARGETS  # UNet modules that get an adapter
    save_every_epochs: int = 1  # export + sample every this many epochs (the last epoch always)
    sample_prompts: tuple[str, ...] = ()  # per-epoch samples; empty: "photo of <trigger> <class>"
    sample_steps: int = 20  # denoising steps for the per-epoch samples
    name: str = "face_lora"  # file name of the exported LoRA (and webui's <lora:name:0.8>)
    channels_last: bool = False  # NHWC memory layout for the UNet's convolutions (CUDA)
    compile_unet: bool = False  # torch.compile the UNet (CUDA; the first steps are slow)
    compile_blocks: bool = False  # torch.compile each transformer block instead (regional: compiles fast)
    preset: str | None = None  # the preset these settings started from ("SDXL face, 24 GB", ...)
    buckets: bool = False  # aspect-ratio buckets: crops keep the photo's shape, a batch holds one bucket
    mask: str = "off"  # loss weighting by region: "off", "face" (landmark outline) or "head" (face + hair)
    mask_background_weight: float = 0.1  # loss weight outside the mask (0: the background teaches nothing)
    prior_images: int = 0  # class images ("photo of a woman") made by the base first; 0: none
    prior_loss_weight: float = 1.0  # weight of the class images' loss against the face's
    ema_decay: float = 0.0  # exponential moving average of the adapter weights (0: off, e.g. 0.999)
    optimizer: str = "adamw"  # "adamw", "adamw8bit" (CUDA), "prodigy" (lr 1.0: it decides) or "adafactor"
    network: str = "lora"  # "lora" (attention), "locon" (+ ResNet convolutions) or "dora" (peft use_dora)
    vae_tiling: bool = False  # encode/decode through the VAE in tiles (less memory at 1024 px)
    base_precision: str = "bf16"  # frozen base weights: "bf16" (fp32 on CPU) or "fp8" (half the bytes)

    @property
    def instance_prompt(self) -> str:
        """The words that name the face: "<trigger> <class>"."""
        return f"{self.trigger} {self.class_word}"

    def prompts_for_samples(self) -> list[str]:
        """The prompts sampled at every saved epoch."""
        return list(self.sample_prompts) or [f"photo of {self.instance_prompt}"]

    def to_json(self) -> str:
        """The config as JSON (saved beside every checkpoint and in the LoRA's metadata)."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """A config from to_json's output; unknown keys are ignored, lists become tuples."""
        known = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)


def steps_per_epoch(num_images: int, repeats: int, batch_size: int) -> int:
    """One epoch shows every image `repeats` times: ceil(images x repeats / batch size) steps."""
    return math.ceil(num_images * repeats / batch_size)


def total_steps(cfg: TrainConfig, num_images: int) -> int:
    """max_steps when set, else steps per epoch x epochs."""
    return plan(cfg, num_images)[1]


def plan(cfg: TrainConfig, num_images: int, bucket_sizes: list[int] | None = None) -> tuple[int, int, int]:
    """(steps per epoch, total steps, total epochs) for a run of `num_images` face photos (plus the
    prior's class images). With aspect buckets a batch holds one bucket, so each bucket of
    `bucket_sizes` examples (class images included) rounds up on its own."""
    sizes = bucket_sizes or [num_images + cfg.prior_images]  # class images are examples of the epoch too
    per_epoch = sum(steps_per_epoch(n, cfg.repeats, cfg.batch_size) for n in sizes)
    if cfg.max_steps:
        return per_epoch, cfg.max_steps, math.ceil(cfg.max_steps / per_epoch)
    epochs = cfg.epochs or 1
    return per_epoch, per_epoch * epochs, epochs


def get_lr(cfg: TrainConfig, step: int, total: int, base_lr: float | None = None) -> float:
    """Learning rate at a step: linear warm-up, then constant or cosine decay to zero."""
    lr = cfg.learning_rate if base_lr is None else base_lr
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_scheduler == "cosine":
        progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
        return lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return lr


def validate(cfg: TrainConfig) -> None:
    """Raise TrainingError for settings that cannot train."""
    if cfg.rank < 1 or cfg.batch_size < 1 or cfg.repeats < 1 or cfg.save_every_epochs < 1:
        raise TrainingError("rank, batch size, repeats and save_every_epochs must be at least 1")
    if (cfg.max_steps or 0) < 1 and (cfg.epochs or 0) < 1:
        raise TrainingError("set epochs or max_steps to at least 1")
    if cfg.resolution < 64 or cfg.resolution % 8:
        raise TrainingError(f"resolution must be a multiple of 8 and at least 64 (got {cfg.resolution})")
    if cfg.lr_scheduler not in ("constant", "cosine"):
        raise TrainingError(f"unknown learning-rate schedule {cfg.lr_scheduler!r}: use constant or cosine")
    if not cfg.learning_rate > 0 or not cfg.alpha > 0:
        raise TrainingError("learning rate and alpha must be positive")
    if cfg.mask not in MASKS:
        raise TrainingError(f"unknown mask {cfg.mask!r}: use {', '.join(MASKS)}")
    if not 0 <= cfg.mask_background_weight <= 1:
        raise TrainingError("the mask's background weight must be between 0 and 1")
    if cfg.prior_images < 0 or cfg.prior_loss_weight < 0:
        raise TrainingError("prior images and prior loss weight cannot be negative")
    if not 0 <= cfg.ema_decay < 1:
        raise TrainingError(f"the EMA decay must be in [0, 1) (got {cfg.ema_decay:g}); 0 turns EMA off")
    if cfg.optimizer not in OPTIMIZERS:
        raise TrainingError(f"unknown optimizer {cfg.optimizer!r}: use {', '.join(OPTIMIZERS)}")
    if cfg.network not in NETWORKS:
        raise TrainingError(f"unknown network {cfg.network!r}: use {', '.join(NETWORKS)}")
    if cfg.base_precision not in BASE_PRECISIONS:
        raise TrainingError(
            f"unknown base precision {cfg.base_precision!r}: use {', '.join(BASE_PRECISIONS)}"
        )


# ---- encode once ----
